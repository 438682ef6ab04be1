"""The one matcher used by every write path: is this incoming person already in the marketing database?

Exact identifiers (normalised e-mail, E.164 phone, external id) make a sure match, which updates the
existing record. Similar names in the same postcode or organisation make a probable match, which is
created but flagged for review rather than merged silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

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
        pk = people.filter(external_id=external_id).values_list("pk", flat=True).first()
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
    """Candidates per (blocking value, name prefix), each list in pk order, as person_match reads them."""
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
            f"SELECT id, {col}, last_name_key, first_name, last_name, street FROM {table} "  # noqa: S608 (quoted names)
            f"WHERE tenant_id = %s AND ({where}) ORDER BY id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for pk, value, key, first, last, street in cursor.fetchall():
                # A row may fall into several requested blocks: a short name's prefix ("li") covers "lin…".
                for prefix in {key[:1], key[:2], key[:3]}:
                    bucket = found.get((value, prefix))
                    if bucket is not None and key < prefix + "\uffff":
                        bucket.append((pk, first, last, street))
    return found


def _best_fuzzy(
    wanted: str, street: str, candidates: list[tuple[int, str, str, str]], reason: str, best: Match | None
) -> Match | None:
    for pk, first, last, their_street in candidates[:CANDIDATE_LIMIT]:
        score = int(fuzz.token_sort_ratio(wanted, _full_key(first, last)))
        if score < PROBABLE_NAME_SCORE:
            continue
        same_address = bool(street) and _key(street) == _key(their_street)
        kind = "sure" if score == 100 and same_address else "probable"
        candidate = Match(pk, kind, score, reason)
        if best is None or (candidate.is_sure, candidate.score) > (best.is_sure, best.score):
            best = candidate
    return best


def person_match_many(tenant_id: int, rows: list[dict], *, within: bool = False) -> list[Match | None]:
    """person_match for many rows at once, with a few queries per batch instead of several per row.

    Each row is a dict with person_match's keyword arguments (missing keys mean empty). The result for
    each row is the same as ``person_match(tenant_id=tenant_id, **row)``. With ``within``, a row that
    has no sure match in the database is also compared with the earlier rows of ``rows`` that would
    become new records (same rules, the database first on every rule), so that two rows of one file
    for the same person do not create two people; such a match carries ``row`` and ``person_id`` 0.
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
        }
        for row in rows
    ]
    people = Person.objects.filter(tenant_id=tenant_id)

    externals = sorted({row["external_id"] for row in rows} - {""})
    by_external: dict[str, int] = {}
    for batch in _batched(externals, IN_BATCH):
        for pk, value in people.filter(external_id__in=batch).values_list("pk", "external_id"):
            by_external[value] = min(pk, by_external.get(value, pk))

    emails = sorted({row["email"] for row in rows} - {""})
    by_email: dict[str, int] = {}
    for batch in _batched(emails, IN_BATCH):
        for pk, value in people.filter(email__in=batch).values_list("pk", "email"):
            by_email[value] = min(pk, by_email.get(value, pk))

    numbers = sorted({row[f] for row in rows for f in ("phone", "mobile")} - {""})
    by_phone: dict[str, list[tuple[int, str]]] = {}
    by_mobile: dict[str, list[tuple[int, str]]] = {}
    for field, index in (("phone", by_phone), ("mobile", by_mobile)):
        for batch in _batched(numbers, IN_BATCH):
            for pk, value, last in people.filter(**{f"{field}__in": batch}).values_list("pk", field, "last_name"):
                index.setdefault(value, []).append((pk, last))
        for found in index.values():
            found.sort()

    keys = [name_key(row["last_name"]) for row in rows]
    postcode_blocks = {
        (row["postcode"], key[:3]) for row, key in zip(rows, keys, strict=True) if key and row["postcode"]
    }
    org_blocks = {
        (row["organization_id"], key[:3]) for row, key in zip(rows, keys, strict=True) if key and row["organization_id"]
    }
    by_postcode = _fetch_fuzzy(tenant_id, "postcode", postcode_blocks) if postcode_blocks else {}
    by_org = _fetch_fuzzy(tenant_id, "organization_id", org_blocks) if org_blocks else {}

    pool = _Pool() if within else None
    results: list[Match | None] = []
    for index, (row, key) in enumerate(zip(rows, keys, strict=True)):
        match = _match_one(row, key, by_external, by_email, by_phone, by_mobile, by_postcode, by_org, pool)
        results.append(match)
        if pool is not None and (match is None or not match.is_sure):
            pool.add(index, row, key)
    return results


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
            for pk, last in index.get(number, ())[:5]:
                if _key(last) == key:
                    return Match(pk, "sure", 100, "phone")
    if pool is not None:
        for number in numbers:
            hit = pool.phone.get((number, key))
            if hit is not None:
                return Match(0, "sure", 100, "phone", row=hit)

    if not key:
        return None
    wanted = _full_key(row["first_name"], row["last_name"])
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
            if not blocking:
                continue
            for at, first, last, their_street in index.get((blocking, prefix), ())[:CANDIDATE_LIMIT]:
                score = int(fuzz.token_sort_ratio(wanted, _full_key(first, last)))
                if score < PROBABLE_NAME_SCORE:
                    continue
                same_address = bool(row["street"]) and _key(row["street"]) == _key(their_street)
                kind = "sure" if score == 100 and same_address else "probable"
                candidate = Match(0, kind, score, reason, row=at)
                if best is None or (candidate.is_sure, candidate.score) > (best.is_sure, best.score):
                    best = candidate
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
            entry = (index, row["first_name"], row["last_name"], row["street"])
            if row["postcode"]:
                self.postcode.setdefault((row["postcode"], key[:3]), []).append(entry)
            if row["organization_id"]:
                self.organization.setdefault((row["organization_id"], key[:3]), []).append(entry)
