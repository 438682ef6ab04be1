"""Reads of the marketing database for lists and detail pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from leadwerk.accounts.models import Membership

from .models import AttributeDefinition, Channel, ConsentStatus, Organization, Person


def person_filter(*, membership: Membership, filters: dict[str, Any]) -> QuerySet[Person]:
    people = Person.objects.visible_to(membership)
    channel, status = filters.get("consent"), filters.get("consent_status")
    if channel not in Channel.values:
        channel = None
    if status not in ConsentStatus.values:
        status = None
    if channel and status:
        people = people.filter(**{f"consent_{channel}": status})
    elif channel:
        people = people.marketable(channel)
    if filters.get("tag"):
        people = people.filter(persontag__tag__name=filters["tag"])
    match filters.get("flags"):
        case "any":
            people = people.exclude(quality_flags=[])
        case "duplicates":
            people = people.filter(duplicate_of__isnull=False)
        case "suppressed":
            people = people.exclude(suppressed_reason="")
    if filters.get("q"):
        # Last, so the search keeps its branch plan for keyset paging (PersonQuerySet.keyset_branches).
        people = people.search(filters["q"], tenant_id=membership.tenant_id, region=membership.tenant.country or "DE")
    return people


def organization_filter(*, membership: Membership, filters: dict[str, Any]) -> QuerySet[Organization]:
    orgs = Organization.objects.visible_to(membership)
    if filters.get("q"):
        orgs = orgs.search(filters["q"])
    if filters.get("industry"):
        orgs = orgs.filter(industry_code__startswith=filters["industry"].upper())
    for field in ("employees", "revenue", "legal_form"):
        if filters.get(field):
            orgs = orgs.filter(**{field: filters[field]})
    if filters.get("tag"):
        orgs = orgs.filter(organizationtag__tag__name=filters["tag"])
    return orgs


def attribute_display(tenant_id: int, record_type: str, values: dict[str, Any]) -> list[tuple[str, Any]]:
    """(label, value) for the record's attribute values, in the tenant's order."""
    definitions = AttributeDefinition.objects.filter(tenant_id=tenant_id, record_type=record_type)
    result = []
    for d in definitions:
        if d.key in values:
            value = values[d.key]
            if isinstance(value, list):
                value = ", ".join(value)
            result.append((d.label, value))
    return result


HIDDEN_AUDIT_FIELDS = frozenset({"id", "tenant", "created_at", "updated_at", "last_name_key", "name_key"})
EMPTY_AUDIT_VALUES = frozenset({"", "None", "[]", "{}"})


def audit_changes(entry) -> list[tuple[str, str, str]]:
    """The meaningful changes of an audit entry: no bookkeeping fields, no reverse relations, no empty→empty."""
    rows = []
    for field, (before, after) in (entry.changes_dict or {}).items():
        if field in HIDDEN_AUDIT_FIELDS or ".None" in str(after) or ".None" in str(before):
            continue
        if str(before) in EMPTY_AUDIT_VALUES and str(after) in EMPTY_AUDIT_VALUES:
            continue
        rows.append((field, before, after))
    return rows
