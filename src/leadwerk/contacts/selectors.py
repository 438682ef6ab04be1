"""Reads of the marketing database for lists and detail pages."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from leadwerk.accounts.models import Membership
from leadwerk.core.languages import language_name

from .models import AttributeDefinition, Channel, ConsentStatus, Organization, Person
from .normalize import flag_text


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
    elif status:  # a status on any channel
        any_channel = Q()
        for value in Channel.values:
            any_channel |= Q(**{f"consent_{value}": status})
        people = people.filter(any_channel)
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


def audit_changes(entry, model: type[models.Model] = Person, attribute_labels=None) -> list[tuple[str, str, str]]:
    """The meaningful changes of an audit entry, for people to read: the field's label, the values as the forms
    show them (choices, yes/no, data-quality notes, attributes by their label); no bookkeeping fields, no
    reverse relations, no empty→empty. ``attribute_labels``: attribute key → label."""
    rows = []
    for name, (before, after) in (entry.changes_dict or {}).items():
        if name in HIDDEN_AUDIT_FIELDS or ".None" in str(after) or ".None" in str(before):
            continue
        if str(before) in EMPTY_AUDIT_VALUES and str(after) in EMPTY_AUDIT_VALUES:
            continue
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            rows.append((name, before, after))
            continue
        label = capfirst(field.verbose_name)
        labels = attribute_labels or {}
        rows.append((label, _audit_display(field, before, labels), _audit_display(field, after, labels)))
    return rows


def _audit_display(field, value, attribute_labels: dict[str, str]) -> str:
    """auditlog keeps values as text: "True", a choice's value, JSON of a list or dict."""
    text = str(value)
    if text in EMPTY_AUDIT_VALUES:
        return text  # the template's audit_value shows a dash
    if field.choices:
        return str({str(key): label for key, label in field.flatchoices}.get(text, text))
    if field.name == "language":
        return language_name(text)
    if isinstance(field, models.BooleanField):
        return str({"True": _("yes"), "False": _("no")}.get(text, text))
    if field.name in ("quality_flags", "attributes"):
        try:
            data = json.loads(text)
        except ValueError:
            return text
        if isinstance(data, list):
            return flag_text(data)
        if isinstance(data, dict):
            return "; ".join(
                f"{attribute_labels.get(key, key)}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                for key, v in data.items()
            )
    return text
