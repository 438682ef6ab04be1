"""Stage 2, map: which column feeds which target field; suggested from German and English headers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from leadwerk.contacts.keys import name_key
from leadwerk.core.exceptions import ValidationFailed

IGNORE = ""  # mapping value of a column that is not imported


@dataclass(frozen=True)
class TargetField:
    key: str  # a model field, "tags", "organization_name" or "attributes.<key>"
    label: str
    synonyms: tuple[str, ...] = ()
    required: bool = False


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def header_key(header: str) -> str:
    """'E-Mail-Adresse' -> 'emailadresse', 'Straße' -> 'strasse', 'Tel.' -> 'tel'."""
    return _NOT_ALNUM.sub("", name_key(header))


def suggest_mapping(headers: list[str], fields: list[TargetField]) -> dict[str, str]:
    """Each header to the field whose key, label or synonym it matches; every field at most once."""
    lookup: dict[str, str] = {}
    for field in fields:
        for word in (field.key, field.key.removeprefix("attributes."), field.label, *field.synonyms):
            lookup.setdefault(header_key(str(word)), field.key)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        key = lookup.get(header_key(header), IGNORE)
        if key and key in used:
            key = IGNORE
        if key:
            used.add(key)
        mapping[header] = key
    return mapping


def mapping_check(headers: list[str], mapping: Mapping[str, str], fields: list[TargetField]) -> dict[str, str]:
    """A complete, valid mapping (header -> field or ""): known headers and fields, no field twice, required ones."""
    known = {field.key: field for field in fields}
    clean: dict[str, str] = {}
    for header in headers:
        value = (mapping.get(header) or IGNORE).strip()
        if value and value not in known:
            raise ValidationFailed(_("Unknown target field “%(field)s”.") % {"field": value}, field=f"map.{header}")
        clean[header] = value
    for header in mapping:
        if header not in clean:
            raise ValidationFailed(_("The file has no column “%(column)s”.") % {"column": header}, field="mapping")
    seen: dict[str, str] = {}
    for header, value in clean.items():
        if not value:
            continue
        if value in seen:
            raise ValidationFailed(
                _("“%(a)s” and “%(b)s” are both mapped to %(field)s; choose one.")
                % {"a": seen[value], "b": header, "field": known[value].label},
                field=f"map.{header}",
            )
        seen[value] = header
    for field in fields:
        if field.required and field.key not in seen:
            raise ValidationFailed(
                _("Map a column to the required field %(field)s.") % {"field": field.label}, field="mapping"
            )
    return clean
