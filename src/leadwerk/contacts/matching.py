"""The one matcher used by every write path: is this incoming person already in the marketing database?

Exact identifiers (normalised e-mail, E.164 phone, external id) make a sure match, which updates the
existing record. Similar names in the same postcode or organisation make a probable match, which is
created but flagged for review rather than merged silently.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def is_sure(self) -> bool:
        return self.kind == "sure"


def _full_key(first: str, last: str) -> str:
    return name_key(f"{first} {last}")


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
    for number in {phone, mobile} - {""}:
        for field in ("phone", "mobile"):
            for pk, last in people.filter(**{field: number}).values_list("pk", "last_name")[:5]:
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
        rows = block.filter(**{field: blocking}).values_list("pk", "first_name", "last_name", "street")[
            :CANDIDATE_LIMIT
        ]
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
