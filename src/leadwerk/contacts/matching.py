"""The one matcher used by every write path: is this incoming person already in the marketing database?

Exact identifiers (normalised e-mail, E.164 phone, external id) make a sure match, which updates the
existing record. Similar names in the same postcode or organisation make a probable match, which is
created but flagged for review rather than merged silently.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

from rapidfuzz import fuzz, process

from .keys import name_key
from .models import Person

# Tenant-tunable later (settings screen); these defaults hold for German B2B data.
PROBABLE_NAME_SCORE = 90
CANDIDATE_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Match:
    person_id: int
    kind: str  # "sure" or "probable"
    score: int
    reason: str  # "external_id", "email", "phone", "name_postcode", "name_organization"
    # Set by person_match_many(within=True) when the match is an earlier row of the same batch (its index);
    # person_id is then 0, as that row has no record yet.
    row: int | None = None

    @property
    def is_sure(self) -> bool:
        return self.kind == "sure"


@lru_cache(maxsize=1 << 18)
def _key(value: str) -> str:
    """name_key, remembered: candidates repeat across rows (the same people in a postcode block)."""
    return name_key(value)


def _full_key(first: str, last: str) -> str:
    return _key(f"{first} {last}")


def match_keys(first_name: str, last_name: str) -> tuple[str, str]:
    """(last_name_key, full name key) of an incoming person, as person_match_many compares them."""
    return name_key(last_name), _full_key(first_name, last_name)


def _candidate_key(first: str, last_key: str) -> str:
    """_full_key from a stored last_name_key: the same tokens (folding works letter by letter)."""
    first_key = _key(first) if first else ""
    return f"{first_key} {last_key}" if first_key else last_key


def _numbers(phone: str, mobile: str) -> list[str]:
    """The distinct numbers to look up, phone first (a fixed order, so the result is deterministic)."""
    return [number for number in dict.fromkeys((phone, mobile)) if number]


def person_match(
    *,
    tenant_id: int,
    email: str = "",
    phone: str = "",
    mobile: str = "",
    first_name: str = "",
    last_name: str = "",
    postcode: str = "",
    street: str = "",
    organization_id: int | None = None,
    external_id: str = "",
    exclude_pk: int | None = None,
) -> Match | None:
    """The best existing match for the given (already normalised) values, or None."""
    people = Person.objects.filter(tenant_id=tenant_id)
    if exclude_pk:
        people = people.exclude(pk=exclude_pk)

    if external_id:
        # "Not empty" lets SQLite use the partial unique index instead of reading the whole tenant.
        pk = people.filter(external_id=external_id).exclude(external_id="").values_list("pk", flat=True).first()
        if pk:
            return Match(pk, "sure", 100, "external_id")
    if email:
        pk = people.filter(email=email).order_by("pk").values_list("pk", flat=True).first()
        if pk:
            return Match(pk, "sure", 100, "email")
    key = name_key(last_name)
    for number in _numbers(phone, mobile):
        for field in ("phone", "mobile"):
            for pk, last in people.filter(**{field: number}).order_by("pk").values_list("pk", "last_name")[:5]:
                # A shared switchboard number alone does not make two people one.
                if name_key(last) == key:
                    return Match(pk, "sure", 100, "phone")

    if not key:
        return None
    wanted = _full_key(first_name, last_name)
    prefix = key[:3]
    block = people.filter(last_name_key__gte=prefix, last_name_key__lt=prefix + "\uffff")
    best: Match | None = None
    for blocking, reason in ((postcode, "name_postcode"), (organization_id, "name_organization")):
        if not blocking:
            continue
        field = "postcode" if reason == "name_postcode" else "organization_id"
        rows = (
            block.filter(**{field: blocking})
            .order_by("pk")
            .values_list("pk", "first_name", "last_name", "street")[:CANDIDATE_LIMIT]
        )
        for pk, first, last, their_street in rows:
            score = int(fuzz.token_sort_ratio(wanted, _full_key(first, last)))
            if score < PROBABLE_NAME_SCORE:
                continue
            same_address = bool(street) and name_key(street) == name_key(their_street)
            kind = "sure" if score == 100 and same_address else "probable"
            candidate = Match(pk, kind, score, reason)
            if best is None or (candidate.is_sure, candidate.score) > (best.is_sure, best.score):
                best = candidate
    return best


# --- set-based matching for imports --------------------------------------------------------

IN_BATCH = 900  # bound values per query: SQLite's conservative default limit is 999
BLOCK_BATCH = 250  # (key, prefix range) triples per fuzzy-candidate query


def _batched(values: list, size: int):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _fetch_fuzzy(tenant_id: int, column: str, blocks: set[tuple]) -> dict[tuple, list[tuple]]:
    """Candidates (pk, full name key, street) per (blocking value, name prefix), in pk order."""
    from django.db import connection

    found: dict[tuple, list[tuple]] = {block: [] for block in blocks}
    table = connection.ops.quote_name(Person._meta.db_table)
    col = connection.ops.quote_name(column)
    for batch in _batched(sorted(blocks, key=str), BLOCK_BATCH):
        where = " OR ".join([f"({col} = %s AND last_name_key >= %s AND last_name_key < %s)"] * len(batch))
        params: list = [tenant_id]
        for value, prefix in batch:
            params += [value, prefix, prefix + "\uffff"]
        sql = (
            f"SELECT id, {col}, last_name_key, first_name, street FROM {table} "  # noqa: S608 (quoted names)
            f"WHERE tenant_id = %s AND ({where}) ORDER BY id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for pk, value, key, first, street in cursor.fetchall():
                # A row may fall into several requested blocks: a short name's prefix ("li") covers "lin…".
                entry = None
                for prefix in {key[:1], key[:2], key[:3]}:
                    bucket = found.get((value, prefix))
                    if bucket is not None and key < prefix + "\uffff":
                        entry = entry or (pk, _candidate_key(first, key), street)
                        bucket.append(entry)
    return found


class BlockIndex:
    """A tenant's people filed by fuzzy block (postcode or organisation, and name prefix), in memory.

    For bulk matching: a large import compares each row with the people who share its postcode (or
    organisation) and the first three letters of the folded last name. Fetching those blocks from the
    database chunk by chunk costs about 130 µs a row at a million people; one ordered pass over the
    table costs a few seconds at a million, after which a row's blocks are two dictionary lookups. It
    pays once a file holds more than a few percent of the tenant's people (see imports.targets.person).

    ``refresh()`` files the people created since the last pass (the holder's own and anyone else's);
    ``refile()`` moves a person whose name, street or blocking values the holder changed. Changes that
    others make to existing people while the index lives are not seen: those people are compared as
    they were when the index was built. On PostgreSQL, where ids are not handed out in commit order, a
    person whose transaction commits after a higher id has been filed is missed too. Both only affect the
    fuzzy comparison; exact identifiers are always looked up in the database. Short name keys (under three
    letters) are not served from here; person_match_many fetches those blocks from the database as before.
    """

    def __init__(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id
        self.last_id = 0
        self.postcode: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
        self.organization: dict[tuple[int, str], list[tuple[int, str, str]]] = {}
        self.refresh()

    def refresh(self) -> int:
        """File the people with an id above the highest seen so far; returns how many."""
        from django.db import connection

        table = connection.ops.quote_name(Person._meta.db_table)
        sql = (
            "SELECT id, postcode, organization_id, last_name_key, first_name, street "  # noqa: S608
            f"FROM {table} WHERE tenant_id = %s AND id > %s ORDER BY id"
        )
        count = 0
        # _file() inlined, and first names folded once each (there are a few thousand distinct ones). The first
        # refresh files every person of the tenant: ≈ 4.4 s at a million, of which reading 1.3 s (before: ≈ 4.5–5 s;
        # alternating runs on a noisy host, the difference is within its noise).
        by_postcode, by_organization = self.postcode, self.organization
        first_keys: dict[str, str] = {}
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.tenant_id, self.last_id])
            while rows := cursor.fetchmany(10_000):
                for pk, postcode, organization_id, key, first, street in rows:
                    if len(key) < 3 or not (postcode or organization_id):
                        continue  # as in _file()
                    first_key = first_keys.get(first)
                    if first_key is None:
                        first_key = first_keys[first] = _key(first) if first else ""
                    entry = (pk, f"{first_key} {key}" if first_key else key, street or "")
                    prefix = key[:3]
                    for blocks, value in ((by_postcode, postcode), (by_organization, organization_id)):
                        if value:
                            blocks.setdefault((value, prefix), []).append(entry)
                count += len(rows)
                self.last_id = rows[-1][0]
        return count

    def _file(self, pk, postcode, organization_id, key, first, street, *, ordered=False) -> None:
        if len(key) < 3 or not (postcode or organization_id):
            return  # short keys are only reached through shorter prefixes, which are fetched instead
        self._put(pk, postcode, organization_id, key, _candidate_key(first, key), street or "", ordered=ordered)

    def _put(self, pk, postcode, organization_id, key, full_key, street, *, ordered=False) -> None:
        entry = (pk, full_key, street)
        for blocks, value in ((self.postcode, postcode), (self.organization, organization_id)):
            if not value:
                continue
            bucket = blocks.setdefault((value, key[:3]), [])
            if ordered and bucket and bucket[-1][0] > pk:
                bucket.insert(bisect_left(bucket, pk, key=itemgetter(0)), entry)
            else:
                bucket.append(entry)

    def file_new(self, people) -> None:
        """File people created since the last refresh, from memory: (pk, postcode, organization id, last name
        key, full name key, street) in pk order. Only for a holder that knows nobody else created people
        meanwhile (on SQLite: it held the write lock since the refresh)."""
        for pk, postcode, organization_id, key, full_key, street in people:
            if len(key) >= 3 and (postcode or organization_id):
                self._put(pk, postcode, organization_id, key, full_key, street or "")
            self.last_id = max(self.last_id, pk)

    def refile(self, pk: int, before: dict, after: dict) -> None:
        """Move a person from the blocks of ``before`` to those of ``after`` (dicts of person fields)."""
        key = before.get("last_name_key") or ""
        for blocks, field in ((self.postcode, "postcode"), (self.organization, "organization_id")):
            value = before.get(field)
            bucket = blocks.get((value, key[:3])) if value and len(key) >= 3 else None
            if bucket:
                bucket[:] = [entry for entry in bucket if entry[0] != pk]
        if pk <= self.last_id:  # otherwise not filed yet: refresh() files it as it is then
            self._file(
                pk,
                after.get("postcode"),
                after.get("organization_id"),
                after.get("last_name_key") or "",
                after.get("first_name") or "",
                after.get("street"),
                ordered=True,
            )

    def blocks(self, column: str, wanted: set[tuple]) -> dict[tuple, list[tuple]]:
        source = self.postcode if column == "postcode" else self.organization
        return {block: source.get(block, []) for block in wanted}


def _best_fuzzy(
    wanted: str, street: str, candidates: list[tuple], reason: str, best: Match | None, *, rows: bool = False
) -> Match | None:
    """The best of the first CANDIDATE_LIMIT candidates (pk, full name key, street), person_match's rules.

    With ``rows`` the candidates are earlier rows of the batch, their index in place of the pk.
    """
    window = candidates[:CANDIDATE_LIMIT]
    if not window:
        return best
    hits = process.extract(
        wanted,
        [entry[1] for entry in window],
        scorer=fuzz.token_sort_ratio,
        score_cutoff=PROBABLE_NAME_SCORE,
        limit=None,
    )
    for _choice, raw, at in sorted(hits, key=itemgetter(2)):  # in candidate order: the first of equals wins
        score = int(raw)
        if score < PROBABLE_NAME_SCORE:
            continue
        pk, _their_key, their_street = window[at]
        same_address = bool(street) and _key(street) == _key(their_street)
        kind = "sure" if score == 100 and same_address else "probable"
        candidate = Match(0, kind, score, reason, row=pk) if rows else Match(pk, kind, score, reason)
        if best is None or (candidate.is_sure, candidate.score) > (best.is_sure, best.score):
            best = candidate
    return best


def person_match_many(
    tenant_id: int, rows: list[dict], *, within: bool = False, index: BlockIndex | None = None
) -> list[Match | None]:
    """person_match for many rows at once, with a few queries per batch instead of several per row.

    Each row is a dict with person_match's keyword arguments (missing keys mean empty). The result for
    each row is the same as ``person_match(tenant_id=tenant_id, **row)``. With ``within``, a row that
    has no sure match in the database is also compared with the earlier rows of ``rows`` that would
    become new records (same rules, the database first on every rule), so that two rows of one file
    for the same person do not create two people; such a match carries ``row`` and ``person_id`` 0.
    With ``index`` (a BlockIndex of the tenant) the fuzzy candidates come from memory where it can
    serve them.
    """
    rows = [
        {
            "email": row.get("email") or "",
            "phone": row.get("phone") or "",
            "mobile": row.get("mobile") or "",
            "first_name": row.get("first_name") or "",
            "last_name": row.get("last_name") or "",
            "postcode": row.get("postcode") or "",
            "street": row.get("street") or "",
            "organization_id": row.get("organization_id") or None,
            "external_id": row.get("external_id") or "",
            "keys": row.get("keys") or match_keys(row.get("first_name") or "", row.get("last_name") or ""),
        }
        for row in rows
    ]
    externals = {row["external_id"] for row in rows} - {""}
    by_external: dict[str, int] = {}
    for pk, value, _key in _people_where_in(tenant_id, "external_id", externals):
        by_external[value] = min(pk, by_external.get(value, pk))

    emails = {row["email"] for row in rows} - {""}
    by_email: dict[str, int] = {}
    for pk, value, _key in _people_where_in(tenant_id, "email", emails):
        by_email[value] = min(pk, by_email.get(value, pk))

    numbers = {row[f] for row in rows for f in ("phone", "mobile")} - {""}
    by_phone: dict[str, list[tuple[int, str]]] = {}
    by_mobile: dict[str, list[tuple[int, str]]] = {}
    for field, by_number in (("phone", by_phone), ("mobile", by_mobile)):
        for pk, value, last_key in _people_where_in(tenant_id, field, numbers):
            by_number.setdefault(value, []).append((pk, last_key))
        for found in by_number.values():
            found.sort()

    keys = [row["keys"][0] for row in rows]
    postcode_blocks = {
        (row["postcode"], key[:3]) for row, key in zip(rows, keys, strict=True) if key and row["postcode"]
    }
    org_blocks = {
        (row["organization_id"], key[:3]) for row, key in zip(rows, keys, strict=True) if key and row["organization_id"]
    }
    by_postcode = _candidates(tenant_id, "postcode", postcode_blocks, index)
    by_org = _candidates(tenant_id, "organization_id", org_blocks, index)

    pool = _Pool() if within else None
    results: list[Match | None] = []
    for at, (row, key) in enumerate(zip(rows, keys, strict=True)):
        match = _match_one(row, key, by_external, by_email, by_phone, by_mobile, by_postcode, by_org, pool)
        results.append(match)
        if pool is not None and (match is None or not match.is_sure):
            pool.add(at, row, key)
    return results


def _people_where_in(tenant_id: int, column: str, values: set[str]):
    """(pk, value, last_name_key) of the tenant's people whose ``column`` is one of ``values``.

    Plain SQL: at an import's 900 values per query, Django's ``__in`` lookup costs more than the query.
    """
    from django.db import connection

    table = connection.ops.quote_name(Person._meta.db_table)
    col = connection.ops.quote_name(column)
    # For external ids, "not empty" lets SQLite use the partial unique index (else: the whole tenant).
    nonempty = f" AND NOT ({col} = '')" if column == "external_id" else ""
    with connection.cursor() as cursor:
        for batch in _batched(sorted(values), IN_BATCH):
            marks = ", ".join(["%s"] * len(batch))
            cursor.execute(
                f"SELECT id, {col}, last_name_key FROM {table} "  # noqa: S608
                f"WHERE tenant_id = %s AND {col} IN ({marks}){nonempty}",
                [tenant_id, *batch],
            )
            yield from cursor.fetchall()


def _candidates(tenant_id: int, column: str, blocks: set[tuple], index: BlockIndex | None) -> dict:
    if index is None:
        return _fetch_fuzzy(tenant_id, column, blocks) if blocks else {}
    short = {block for block in blocks if len(block[1]) < 3}
    found = index.blocks(column, blocks - short)
    if short:
        found.update(_fetch_fuzzy(tenant_id, column, short))
    return found


def _match_one(row, key, by_external, by_email, by_phone, by_mobile, by_postcode, by_org, pool) -> Match | None:
    if row["external_id"]:
        pk = by_external.get(row["external_id"])
        if pk:
            return Match(pk, "sure", 100, "external_id")
        if pool is not None and (hit := pool.external.get(row["external_id"])) is not None:
            return Match(0, "sure", 100, "external_id", row=hit)
    if row["email"]:
        pk = by_email.get(row["email"])
        if pk:
            return Match(pk, "sure", 100, "email")
        if pool is not None and (hit := pool.email.get(row["email"])) is not None:
            return Match(0, "sure", 100, "email", row=hit)
    numbers = _numbers(row["phone"], row["mobile"])
    for number in numbers:
        for index in (by_phone, by_mobile):
            for pk, last_key in index.get(number, ())[:5]:
                if last_key == key:
                    return Match(pk, "sure", 100, "phone")
    if pool is not None:
        for number in numbers:
            hit = pool.phone.get((number, key))
            if hit is not None:
                return Match(0, "sure", 100, "phone", row=hit)

    if not key:
        return None
    wanted = row["keys"][1]
    prefix = key[:3]
    best: Match | None = None
    if row["postcode"]:
        best = _best_fuzzy(wanted, row["street"], by_postcode.get((row["postcode"], prefix), []), "name_postcode", best)
    if row["organization_id"]:
        best = _best_fuzzy(
            wanted, row["street"], by_org.get((row["organization_id"], prefix), []), "name_organization", best
        )
    if pool is not None:
        for blocking, reason, index in (
            (row["postcode"], "name_postcode", pool.postcode),
            (row["organization_id"], "name_organization", pool.organization),
        ):
            if blocking:
                best = _best_fuzzy(wanted, row["street"], index.get((blocking, prefix), []), reason, best, rows=True)
    return best


class _Pool:
    """Earlier rows of the same batch that will become new records, indexed like the database."""

    def __init__(self) -> None:
        self.external: dict[str, int] = {}
        self.email: dict[str, int] = {}
        self.phone: dict[tuple[str, str], int] = {}
        self.postcode: dict[tuple, list] = {}
        self.organization: dict[tuple, list] = {}

    def add(self, index: int, row: dict, key: str) -> None:
        if row["external_id"]:
            self.external.setdefault(row["external_id"], index)
        if row["email"]:
            self.email.setdefault(row["email"], index)
        for number in _numbers(row["phone"], row["mobile"]):
            self.phone.setdefault((number, key), index)
        if key:
            entry = (index, row["keys"][1], row["street"])
            if row["postcode"]:
                self.postcode.setdefault((row["postcode"], key[:3]), []).append(entry)
            if row["organization_id"]:
                self.organization.setdefault((row["organization_id"], key[:3]), []).append(entry)
