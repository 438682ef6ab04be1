"""The batch duplicate finder: every person of a tenant against every similar one, scored with splink on DuckDB.

How a run goes:

1. **Load** the tenant's people from the Django database with a chunked cursor (memory bounded: one chunk of
   Python tuples at a time) into an Arrow table with the columns the model compares.
2. **Prepare** match keys in DuckDB: names folded like ``contacts.keys.name_key``, e-mail trimmed and
   lower-cased, phone numbers as digits with the country code, street with "Straße/Str." unified.
3. **Score** with splink (Fellegi–Sunter): only pairs that share a blocking key are compared (same e-mail,
   same phone, same postcode and last name, same postcode and first name, same postcode and street), each
   pair gets a match probability from fixed m/u parameters (below; tuned on the benchmark's planted
   duplicates, see ``bench/dedup``). Fixed parameters make every run comparable and cost no training time.
4. **Store** the pairs at or above the tenant's threshold as ``DuplicateCandidate``: decisions survive a
   re-run (dismissed stays dismissed, merged pairs are gone with the merged person), open pairs that no
   longer reach the threshold are dropped.

The online matcher's probable matches (``Person.duplicate_of``) join the same queue as source "online".
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from leadwerk.accounts.models import Membership
from leadwerk.core.exceptions import Conflict, ValidationFailed
from leadwerk.core.paging import KeysetPage, _decode, _encode

from .exceptions import NotAllowed
from .keys import name_key
from .models import DedupRun, DuplicateCandidate, Person
from .roles import CONTACT_WRITERS

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.95
LOAD_CHUNK = 50_000
STORE_BATCH = 2_000
STALE_AFTER = timedelta(minutes=30)

# (column name in the query, column name in Arrow).
LOAD_COLUMNS = (
    ("id", "unique_id"),
    ("first_name", "first_name"),
    ("last_name_key", "last_name_key"),
    ("email", "email"),
    ("phone", "phone"),
    ("mobile", "mobile"),
    ("street", "street"),
    ("postcode", "postcode"),
    ("city", "city"),
    ("birth_year", "birth_year"),
    ("organization_id", "organization"),
)

# Labels of the comparison levels, most specific first (splink's gamma counts up from the last one).
LEVELS: dict[str, tuple[str, ...]] = {
    "first_name": ("exact", "similar", "alike", "initial", "different"),
    "last_name": ("exact", "similar", "alike", "different"),
    "email": ("exact", "different"),
    "phone": ("exact", "different"),
    "location": ("address", "similar_address", "organization", "postcode", "different"),
    "birth_year": ("exact", "different"),
}
# Prior odds that two records are one person, before any evidence (pairs reach scoring only through blocking).
PRIOR = 1e-4


def _require(by: Membership, roles: frozenset) -> None:
    if not by.is_active or by.role not in roles:
        raise NotAllowed()


# --- load ------------------------------------------------------------------------------------------------


def people_table(tenant_id: int, *, chunk_size: int = LOAD_CHUNK):
    """The tenant's people as an Arrow table, read in chunks (a server-side cursor on PostgreSQL)."""
    import pyarrow as pa

    fields = [name for name, _arrow in LOAD_COLUMNS]
    queryset = Person.objects.filter(tenant_id=tenant_id).order_by().values_list(*fields)
    sql, params = queryset.query.sql_with_params()
    schema = pa.schema(
        [
            (arrow, pa.int64() if arrow in ("unique_id", "birth_year", "organization") else pa.string())
            for _n, arrow in LOAD_COLUMNS
        ]
    )
    first_keys: dict[str, str] = {}
    batches = []
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            columns = list(zip(*rows, strict=True))
            # First names repeat a lot: fold each distinct one once.
            firsts = []
            for value in columns[1]:
                key = first_keys.get(value)
                if key is None:
                    key = first_keys[value] = name_key(value or "")
                firsts.append(key)
            columns[1] = firsts
            batches.append(
                pa.record_batch(
                    [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)], schema=schema
                )
            )
    return pa.Table.from_batches(batches, schema=schema)


PREPARE_SQL = """
create or replace macro lw_phone(p) as (
    with d as (select regexp_replace(coalesce(p, ''), '[^0-9]', '', 'g') as v)
    select nullif(case when v like '00%' then substr(v, 3) when v like '0%' then '49' || substr(v, 2) else v end, '')
    from d
);
create or replace table people as
select
    unique_id,
    nullif(first_name, '') as first_name,
    nullif(last_name_key, '') as last_name,
    nullif(lower(trim(email)), '') as email,
    lw_phone(phone) as phone,
    lw_phone(mobile) as mobile,
    nullif(regexp_replace(
        replace(replace(replace(strip_accents(lower(street)), 'strasse', 'str'), 'straße', 'str'), 'str.', 'str'),
        '[^a-z0-9]', '', 'g'), '') as street,
    nullif(trim(postcode), '') as postcode,
    nullif(strip_accents(lower(trim(city))), '') as city,
    birth_year,
    organization
from people_raw
"""


# --- score -------------------------------------------------------------------------------------------------


def splink_settings():
    """The linkage model: blocking rules and comparisons with fixed m/u probabilities (see the module doc).

    Address and organisation are one comparison: colleagues share both, so counting them as independent
    pieces of evidence would make any two people of one company look alike.
    """
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    first = cl.CustomComparison(
        output_column_name="first_name",
        comparison_levels=[
            cll.NullLevel("first_name"),
            cll.ExactMatchLevel("first_name"),
            cll.JaroWinklerLevel("first_name", 0.9),
            cll.JaroWinklerLevel("first_name", 0.8),
            cll.CustomLevel(
                "(length(first_name_l) <= 2 or length(first_name_r) <= 2) "
                "and substr(first_name_l, 1, 1) = substr(first_name_r, 1, 1)",
                "initial",
            ),
            cll.ElseLevel(),
        ],
    ).configure(m_probabilities=[0.76, 0.1, 0.06, 0.06, 0.02], u_probabilities=[0.01, 0.004, 0.03, 0.002, 0.954])
    last = cl.JaroWinklerAtThresholds("last_name", [0.9, 0.8]).configure(
        m_probabilities=[0.6, 0.33, 0.05, 0.02], u_probabilities=[0.002, 0.002, 0.01, 0.986]
    )
    phone = cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[
            cll.CustomLevel(
                "coalesce(phone_l, mobile_l) is null or coalesce(phone_r, mobile_r) is null", "null"
            ).configure(is_null_level=True),
            cll.CustomLevel(
                "phone_l = phone_r or phone_l = mobile_r or mobile_l = phone_r or mobile_l = mobile_r", "exact"
            ),
            cll.ElseLevel(),
        ],
    ).configure(m_probabilities=[0.97, 0.03], u_probabilities=[0.0005, 0.9995])
    location = cl.CustomComparison(
        output_column_name="location",
        comparison_levels=[
            cll.CustomLevel(
                "(postcode_l is null or postcode_r is null) and (organization_l is null or organization_r is null)",
                "null",
            ).configure(is_null_level=True),
            cll.CustomLevel("postcode_l = postcode_r and street_l = street_r", "same address"),
            cll.CustomLevel(
                "postcode_l = postcode_r and jaro_winkler_similarity(street_l, street_r) >= 0.9", "similar address"
            ),
            cll.CustomLevel("organization_l = organization_r", "same organisation"),
            cll.CustomLevel("postcode_l = postcode_r", "same postcode"),
            cll.ElseLevel(),
        ],
    ).configure(
        # Same postcode but another street is hardly evidence: most duplicates keep their address.
        m_probabilities=[0.9, 0.01, 0.02, 0.0002, 0.0698],
        u_probabilities=[0.001, 0.0005, 0.001, 0.0002, 0.9973],
    )
    comparisons = [
        first,
        last,
        cl.ExactMatch("email").configure(m_probabilities=[0.99, 0.01], u_probabilities=[0.0001, 0.9999]),
        phone,
        location,
        cl.ExactMatch("birth_year").configure(m_probabilities=[0.97, 0.03], u_probabilities=[0.015, 0.985]),
    ]
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=PRIOR,
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
            block_on("mobile"),
            # Same postcode and last name alone pairs up whole streets of Müllers; the first initial keeps
            # the blocks small and still catches typos, short forms and initials of the first name.
            block_on("postcode", "last_name", "substr(first_name, 1, 1)"),
            block_on("postcode", "first_name"),
        ],
        comparisons=comparisons,
        retain_matching_columns=True,  # needed for the gamma (level) columns
        retain_intermediate_calculation_columns=False,
    )


def score_pairs(table, *, threshold: float, threads: int = 2):
    """Pairs at or above ``threshold`` as an Arrow table: person_a < person_b, score, gamma_* per comparison."""
    import duckdb
    from splink import DuckDBAPI, Linker

    con = duckdb.connect(":memory:", config={"threads": threads})
    try:
        con.register("people_raw", table)
        con.execute(PREPARE_SQL)
        con.unregister("people_raw")
        db_api = DuckDBAPI(con)
        people = db_api.register("people")
        linker = Linker(people, splink_settings(), log_level=logging.WARNING)
        predictions = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
        gammas = ", ".join(f"gamma_{name}" for name in LEVELS)
        result = con.sql(
            f"select least(unique_id_l, unique_id_r) as person_a, greatest(unique_id_l, unique_id_r) as person_b, "  # noqa: S608
            f"match_probability as score, {gammas} from {predictions.physical_name}"
        ).to_arrow_table()
        return result
    finally:
        con.close()


def levels_from_row(row: dict[str, Any]) -> dict[str, str]:
    """{comparison: level label} for the levels that carried evidence (nulls left out)."""
    levels = {}
    for name, labels in LEVELS.items():
        gamma = row.get(f"gamma_{name}")
        if gamma is None or gamma < 0:
            continue
        levels[name] = labels[len(labels) - 1 - int(gamma)]
    return levels


# --- store -------------------------------------------------------------------------------------------------


def _insert_sql() -> tuple[str, str]:
    table = connection.ops.quote_name(DuplicateCandidate._meta.db_table)
    json_param = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    insert = (
        f"INSERT INTO {table} (tenant_id, created_at, updated_at, person_a_id, person_b_id, score, levels, "  # noqa: S608
        f"source, status, run_id) VALUES (%s, %s, %s, %s, %s, %s, {json_param}, %s, %s, %s)"
    )
    update = f"UPDATE {table} SET score = %s, levels = {json_param}, run_id = %s, updated_at = %s WHERE id = %s"  # noqa: S608
    return insert, update


def candidates_store(*, tenant_id: int, run: DedupRun | None, pairs) -> int:
    """Write the run's pairs; keep every decision. Returns how many pairs are new in the queue.

    Plain ``executemany`` rather than model instances: a run can bring 100,000 pairs.
    """
    existing = {
        (a, b): (pk, status, source)
        for pk, a, b, status, source in DuplicateCandidate.objects.filter(tenant_id=tenant_id).values_list(
            "pk", "person_a_id", "person_b_id", "status", "source"
        )
    }
    seen: set[tuple[int, int]] = set()
    new: list[tuple] = []
    updates: list[tuple] = []
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    run_id = run.pk if run is not None else None
    batch_source, open_status = DuplicateCandidate.Source.BATCH.value, DuplicateCandidate.Status.OPEN.value
    for batch in pairs.to_batches(max_chunksize=50_000):
        for row in batch.to_pylist():
            key = (row["person_a"], row["person_b"])
            if key in seen:
                continue
            seen.add(key)
            levels = json.dumps(levels_from_row(row), separators=(",", ":"))
            found = existing.get(key)
            if found is None:
                new.append(
                    (
                        tenant_id,
                        now,
                        now,
                        key[0],
                        key[1],
                        float(row["score"]),
                        levels,
                        batch_source,
                        open_status,
                        run_id,
                    )
                )
            elif found[1] == open_status:
                updates.append((float(row["score"]), levels, run_id, now, found[0]))
    stale = [
        pk
        for key, (pk, status, source) in existing.items()
        if key not in seen and status == open_status and source == batch_source
    ]
    insert, update = _insert_sql()
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(stale), STORE_BATCH):
            DuplicateCandidate.objects.filter(pk__in=stale[start : start + STORE_BATCH]).delete()
        for start in range(0, len(new), 10_000):
            cursor.executemany(insert, new[start : start + 10_000])
        for start in range(0, len(updates), 10_000):
            cursor.executemany(update, updates[start : start + 10_000])
    return len(new)


def candidates_sync_online(*, tenant_id: int) -> int:
    """Bring the online matcher's probable matches (Person.duplicate_of) into the review queue."""
    flagged = Person.objects.filter(tenant_id=tenant_id, duplicate_of__isnull=False).values_list("pk", "duplicate_of")
    pairs = {(min(pk, other), max(pk, other)) for pk, other in flagged if pk != other}
    if not pairs:
        return 0
    known = set()
    people = sorted({pk for pair in pairs for pk in pair})
    for start in range(0, len(people), 500):
        chunk = people[start : start + 500]
        known.update(
            DuplicateCandidate.objects.filter(tenant_id=tenant_id)
            .filter(Q(person_a__in=chunk) | Q(person_b__in=chunk))
            .values_list("person_a_id", "person_b_id")
        )
    missing = [
        DuplicateCandidate(
            tenant_id=tenant_id,
            person_a_id=a,
            person_b_id=b,
            score=0.0,
            levels={},
            source=DuplicateCandidate.Source.ONLINE,
        )
        for a, b in sorted(pairs - known)
    ]
    DuplicateCandidate.objects.bulk_create(missing, batch_size=STORE_BATCH, ignore_conflicts=True)
    return len(missing)


# --- runs --------------------------------------------------------------------------------------------------


def threshold_for(tenant_id: int) -> float:
    """The tenant's threshold: the one of its last run, else the default."""
    last = DedupRun.objects.filter(tenant_id=tenant_id).order_by("-pk").values_list("threshold", flat=True).first()
    return last if last is not None else DEFAULT_THRESHOLD


@transaction.atomic
def dedup_run_start(*, by: Membership, threshold: float | None = None) -> DedupRun:
    """Queue a duplicate search over the tenant's marketing database; one at a time per tenant."""
    _require(by, CONTACT_WRITERS)
    if threshold is None:
        threshold = threshold_for(by.tenant_id)
    if not 0.5 <= threshold <= 0.9999:
        raise ValidationFailed(_("Choose a threshold between 0.5 and 0.9999."), field="threshold")
    active = DedupRun.objects.select_for_update().filter(
        tenant_id=by.tenant_id, status__in=[DedupRun.Status.QUEUED, DedupRun.Status.RUNNING]
    )
    # A run whose worker died shows no progress; it must not block the tenant for good.
    active.filter(updated_at__lt=timezone.now() - STALE_AFTER).update(
        status=DedupRun.Status.FAILED, error=_("No progress for 30 minutes; the search was stopped.")
    )
    if active.exists():
        raise Conflict(_("A duplicate search is already running for this tenant."))
    run = DedupRun.objects.create(tenant_id=by.tenant_id, started_by=by, threshold=threshold)
    from .tasks import dedup_run_task

    transaction.on_commit(lambda: dedup_run_task.enqueue(tenant_id=run.tenant_id, run_id=run.pk))
    return run


def _phase(run: DedupRun, phase: str, **fields) -> None:
    """Write progress so the run's page can show it; keep how long the previous phase took."""
    now = time.perf_counter()
    if run.phase:
        run.timings[run.phase] = round(now - run.timings.pop("_since", now), 3)
    run.timings["_since"] = now
    for key, value in fields.items():
        setattr(run, key, value)
    run.phase = phase
    DedupRun.objects.filter(pk=run.pk).update(phase=phase, updated_at=timezone.now(), **fields)


def dedup_run_execute(*, tenant_id: int, run_id: int) -> DedupRun:
    """Do the run: load, score, store. Progress and figures are written to the run as it goes.

    The returned run carries ``timings`` (seconds per phase) for the benchmark and the log.
    """
    run = DedupRun.objects.get(pk=run_id, tenant_id=tenant_id)
    run.timings = {}
    if run.status != DedupRun.Status.QUEUED:
        return run
    started = time.perf_counter()
    _phase(run, "load", status=DedupRun.Status.RUNNING, started_at=timezone.now())
    try:
        table = people_table(tenant_id)
        _phase(run, "score", people_count=table.num_rows)
        pairs = score_pairs(table, threshold=run.threshold) if table.num_rows >= 2 else None
        del table
        _phase(run, "store", pairs_found=pairs.num_rows if pairs is not None else 0)
        new = candidates_store(tenant_id=tenant_id, run=run, pairs=pairs) if pairs is not None else 0
        candidates_sync_online(tenant_id=tenant_id)
    except Exception as exc:
        log.exception("duplicate search %s failed", run.pk)
        _phase(
            run,
            "",
            status=DedupRun.Status.FAILED,
            error=str(exc)[:2000],
            finished_at=timezone.now(),
            seconds=time.perf_counter() - started,
        )
        raise
    _phase(
        run,
        "",
        status=DedupRun.Status.DONE,
        candidates_new=new,
        finished_at=timezone.now(),
        seconds=time.perf_counter() - started,
    )
    run.timings.pop("_since", None)
    log.info("duplicate search %s: %s people, %s pairs, %s", run.pk, run.people_count, run.pairs_found, run.timings)
    return run


# --- the review queue ----------------------------------------------------------------------------------------


def candidate_page(
    *, membership: Membership, status: str, source: str, cursor: str | None, size: int = 50
) -> KeysetPage:
    """Proposed pairs, best score first (keyset paging on score and id: no OFFSET, no COUNT)."""
    queryset = DuplicateCandidate.objects.visible_to(membership).filter(status=status)
    if source:
        queryset = queryset.filter(source=source)
    queryset = queryset.select_related("person_a__organization", "person_b__organization").order_by("-score", "pk")
    after = _decode(cursor) if cursor else None
    if after is not None:
        try:
            score, pk = float(after[0]), int(after[1])
        except (TypeError, ValueError):
            score = pk = None
        if score is not None:
            queryset = queryset.filter(Q(score__lt=score) | Q(score=score, pk__gt=pk))
    items = list(queryset[: size + 1])
    next_cursor = _encode([items[size - 1].score, items[size - 1].pk]) if len(items) > size else None
    return KeysetPage(items=items[:size], next_cursor=next_cursor, is_first=after is None)


# --- decisions ---------------------------------------------------------------------------------------------


@transaction.atomic
def candidate_dismiss(*, by: Membership, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """Not a duplicate: the pair leaves the queue for good, and an online flag between the two is cleared."""
    _require(by, CONTACT_WRITERS)
    if candidate.tenant_id != by.tenant_id:
        raise NotAllowed()
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != DuplicateCandidate.Status.OPEN:
        raise Conflict(_("This pair has already been decided."))
    candidate.status = DuplicateCandidate.Status.DISMISSED
    candidate.decided_by = by
    candidate.decided_at = timezone.now()
    candidate.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    a, b = candidate.person_a_id, candidate.person_b_id
    Person.objects.filter(tenant_id=by.tenant_id).filter(Q(pk=a, duplicate_of=b) | Q(pk=b, duplicate_of=a)).update(
        duplicate_of=None, updated_at=timezone.now()
    )
    return candidate
