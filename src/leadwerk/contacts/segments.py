"""The segment condition language: field registry, validation, compilation to a queryset, counts.

A definition is a tree of groups and conditions::

    {"op": "and", "children": [
        {"field": "postcode", "operator": "between", "value": ["80000", "81999"]},
        {"op": "or", "children": [
            {"field": "tags", "operator": "has_any", "value": ["Messe 2026"]},
            {"field": "org.employees", "operator": "at_least", "value": "250-999"},
        ]},
    ]}

``definition_clean`` checks a definition against the registry and the tenant's tags and attributes
and names the offending input (``definition.children.1.value``); ``definition_q`` turns a clean one
into a single ``Q`` over ``Person``. Every condition compiles to a column comparison (ranges instead
of ``LIKE`` on the indexed postcode and name keys) or an ``EXISTS`` on an indexed table, so a count
is one query with one pass over the tenant's people, never a loop in Python.

Channel rules: for a segment with a channel, only people who are not suppressed, whose marketing
consent for that channel is "granted" and who have the contact data for it are eligible. Each
excluded person is counted once, under the first reason that applies, in the order suppressed →
no consent → no contact data, so that total = eligible + the three exclusion counts.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import BooleanField, Count, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadwerk.core.exceptions import ValidationFailed

from .keys import name_key
from .models import (
    AttributeDefinition,
    Channel,
    ConsentStatus,
    Organization,
    Person,
    PersonTag,
    Segment,
    SegmentMember,
    Tag,
)

if TYPE_CHECKING:
    from leadwerk.accounts.models import Membership

MAX_DEPTH = 4  # the root group and three levels of nested groups
MAX_CONDITIONS = 100
MAX_LIST = 500  # values in one "is one of" list


class Kind:
    TEXT = "text"
    NAME = "name"  # text with an indexed, normalised key (last name)
    POSTCODE = "postcode"
    PREFIX = "prefix"  # codes where the start means something (WZ 2008 industry)
    NUMBER = "number"
    DATE = "date"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    MULTICHOICE = "multichoice"
    TAGS = "tags"


OPERATORS: dict[str, Promise] = {
    "eq": gettext_lazy("is"),
    "neq": gettext_lazy("is not"),
    "contains": gettext_lazy("contains"),
    "starts_with": gettext_lazy("starts with"),
    "in": gettext_lazy("is one of"),
    "not_in": gettext_lazy("is none of"),
    "between": gettext_lazy("is between"),
    "lt": gettext_lazy("is less than"),
    "lte": gettext_lazy("is at most"),
    "gt": gettext_lazy("is greater than"),
    "gte": gettext_lazy("is at least"),
    "at_least": gettext_lazy("is at least"),
    "at_most": gettext_lazy("is at most"),
    "before": gettext_lazy("is before"),
    "since": gettext_lazy("is on or after"),
    "in_last_days": gettext_lazy("is in the last … days"),
    "not_in_last_days": gettext_lazy("is longer ago than … days"),
    "is": gettext_lazy("is"),
    "has_any": gettext_lazy("has any of"),
    "has_all": gettext_lazy("has all of"),
    "has_none": gettext_lazy("has none of"),
    "contains_any": gettext_lazy("contains any of"),
    "contains_all": gettext_lazy("contains all of"),
    "contains_none": gettext_lazy("contains none of"),
    "empty": gettext_lazy("is empty"),
    "not_empty": gettext_lazy("is not empty"),
}

OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    Kind.TEXT: ("eq", "neq", "contains", "starts_with", "in", "empty", "not_empty"),
    Kind.NAME: ("eq", "neq", "starts_with", "contains", "in", "empty", "not_empty"),
    Kind.POSTCODE: ("eq", "starts_with", "between", "in", "not_in", "empty", "not_empty"),
    Kind.PREFIX: ("starts_with", "eq", "in", "empty", "not_empty"),
    Kind.NUMBER: ("eq", "neq", "lt", "lte", "gt", "gte", "between", "empty", "not_empty"),
    Kind.DATE: ("since", "before", "between", "in_last_days", "not_in_last_days", "empty", "not_empty"),
    Kind.BOOLEAN: ("is",),
    Kind.CHOICE: ("eq", "neq", "in", "not_in", "empty", "not_empty"),
    Kind.MULTICHOICE: ("contains_any", "contains_all", "contains_none", "empty", "not_empty"),
    Kind.TAGS: ("has_any", "has_all", "has_none"),
}
ORDERED_OPERATORS = ("at_least", "at_most")  # for choices with a natural order (employee and revenue bands)
NO_VALUE = frozenset({"empty", "not_empty"})
LIST_VALUE = frozenset(
    {"in", "not_in", "has_any", "has_all", "has_none", "contains_any", "contains_all", "contains_none"}
)
PAIR_VALUE = frozenset({"between"})
DAYS_VALUE = frozenset({"in_last_days", "not_in_last_days"})


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: Promise | str
    group: Promise | str
    kind: str
    path: str = ""  # ORM path from Person; empty for derived conditions compiled by key
    choices: tuple[tuple[str, Any], ...] = ()
    ordered: bool = False  # choices run from small to large
    required_value: bool = field(default=False, compare=False)

    @property
    def operators(self) -> tuple[str, ...]:
        ops = OPERATORS_BY_KIND[self.kind]
        if self.kind == Kind.DATE and not self.key.startswith("attr."):
            ops = tuple(op for op in ops if op not in NO_VALUE)  # created/changed are never empty
        if self.ordered:
            ops = ops[:2] + ORDERED_OPERATORS + ops[2:]
        return ops

    @property
    def is_attribute(self) -> bool:
        return self.key.startswith("attr.")


G_PERSON = gettext_lazy("Person")
G_ADDRESS = gettext_lazy("Address")
G_CONTACT = gettext_lazy("Contact data and consent")
G_ORG = gettext_lazy("Organisation")
G_RECORD = gettext_lazy("Record")
G_ATTRIBUTES = gettext_lazy("Attributes")

CONSENT_CHOICES = tuple(ConsentStatus.choices)

FIELDS: dict[str, FieldSpec] = {
    spec.key: spec
    for spec in (
        FieldSpec("salutation", gettext_lazy("Salutation"), G_PERSON, Kind.CHOICE, "salutation",
                  tuple((v, label) for v, label in Person.Salutation.choices)),
        FieldSpec("title", gettext_lazy("Title"), G_PERSON, Kind.TEXT, "title"),
        FieldSpec("first_name", gettext_lazy("First name"), G_PERSON, Kind.TEXT, "first_name"),
        FieldSpec("last_name", gettext_lazy("Last name"), G_PERSON, Kind.NAME, "last_name"),
        FieldSpec("position", gettext_lazy("Position"), G_PERSON, Kind.TEXT, "position"),
        FieldSpec("department", gettext_lazy("Department"), G_PERSON, Kind.TEXT, "department"),
        FieldSpec("language", gettext_lazy("Language"), G_PERSON, Kind.TEXT, "language"),
        FieldSpec("birth_year", gettext_lazy("Year of birth"), G_PERSON, Kind.NUMBER, "birth_year"),
        FieldSpec("tags", gettext_lazy("Tags"), G_PERSON, Kind.TAGS),
        FieldSpec("postcode", gettext_lazy("Postcode"), G_ADDRESS, Kind.POSTCODE, "postcode"),
        FieldSpec("city", gettext_lazy("City"), G_ADDRESS, Kind.TEXT, "city"),
        FieldSpec("state", gettext_lazy("State"), G_ADDRESS, Kind.TEXT, "state"),
        FieldSpec("country", gettext_lazy("Country (ISO code)"), G_ADDRESS, Kind.TEXT, "country"),
        FieldSpec("has_address", gettext_lazy("Has a postal address"), G_ADDRESS, Kind.BOOLEAN),
        FieldSpec("has_email", gettext_lazy("Has an e-mail address"), G_CONTACT, Kind.BOOLEAN),
        FieldSpec("has_phone", gettext_lazy("Has a phone number"), G_CONTACT, Kind.BOOLEAN),
        FieldSpec("has_mobile", gettext_lazy("Has a mobile number"), G_CONTACT, Kind.BOOLEAN),
        *(
            FieldSpec(f"consent.{value}", format_lazy("{}: {}", gettext_lazy("Consent"), label), G_CONTACT,
                      Kind.CHOICE, f"consent_{value}", CONSENT_CHOICES)
            for value, label in Channel.choices
        ),
        FieldSpec("suppressed", gettext_lazy("Suppressed"), G_CONTACT, Kind.BOOLEAN),
        FieldSpec("has_organization", gettext_lazy("Linked to an organisation"), G_ORG, Kind.BOOLEAN),
        FieldSpec("org.name", gettext_lazy("Organisation name"), G_ORG, Kind.TEXT, "organization__name"),
        FieldSpec("org.industry_code", gettext_lazy("Industry (WZ 2008 code)"), G_ORG, Kind.PREFIX,
                  "organization__industry_code"),
        FieldSpec("org.employees", gettext_lazy("Employees"), G_ORG, Kind.CHOICE, "organization__employees",
                  tuple(Organization.Employees.choices), ordered=True),
        FieldSpec("org.revenue", gettext_lazy("Annual revenue"), G_ORG, Kind.CHOICE, "organization__revenue",
                  tuple(Organization.Revenue.choices), ordered=True),
        FieldSpec("org.legal_form", gettext_lazy("Legal form"), G_ORG, Kind.CHOICE, "organization__legal_form",
                  tuple(Organization.LegalForm.choices)),
        FieldSpec("org.postcode", gettext_lazy("Organisation postcode"), G_ORG, Kind.POSTCODE,
                  "organization__postcode"),
        FieldSpec("org.city", gettext_lazy("Organisation city"), G_ORG, Kind.TEXT, "organization__city"),
        FieldSpec("org.state", gettext_lazy("Organisation state"), G_ORG, Kind.TEXT, "organization__state"),
        FieldSpec("duplicate", gettext_lazy("Possible duplicate"), G_RECORD, Kind.BOOLEAN),
        FieldSpec("quality_problems", gettext_lazy("Has data-quality problems"), G_RECORD, Kind.BOOLEAN),
        FieldSpec("created_at", gettext_lazy("Created"), G_RECORD, Kind.DATE, "created_at"),
        FieldSpec("updated_at", gettext_lazy("Last changed"), G_RECORD, Kind.DATE, "updated_at"),
    )
}  # fmt: skip

ATTRIBUTE_KINDS = {
    AttributeDefinition.Type.TEXT: Kind.TEXT,
    AttributeDefinition.Type.NUMBER: Kind.NUMBER,
    AttributeDefinition.Type.DATE: Kind.DATE,
    AttributeDefinition.Type.BOOLEAN: Kind.BOOLEAN,
    AttributeDefinition.Type.CHOICE: Kind.CHOICE,
    AttributeDefinition.Type.MULTICHOICE: Kind.MULTICHOICE,
}


@dataclass
class Registry:
    """The fields one tenant can filter on: the fixed ones, its person attributes, its tags."""

    tenant_id: int
    timezone: zoneinfo.ZoneInfo
    fields: dict[str, FieldSpec]
    tags: dict[str, int]  # name → id

    @classmethod
    def for_tenant(cls, tenant_id: int, tz_name: str = "Europe/Berlin") -> Registry:
        fields = dict(FIELDS)
        for d in AttributeDefinition.objects.filter(tenant_id=tenant_id, record_type="person"):
            fields[f"attr.{d.key}"] = FieldSpec(
                f"attr.{d.key}",
                d.label,
                G_ATTRIBUTES,
                ATTRIBUTE_KINDS.get(d.type, Kind.TEXT),
                f"attributes__{d.key}",
                tuple((c, c) for c in d.choices),
            )
        tags = dict(Tag.objects.filter(tenant_id=tenant_id).values_list("name", "id"))
        try:
            tz = zoneinfo.ZoneInfo(tz_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tz = zoneinfo.ZoneInfo("Europe/Berlin")
        return cls(tenant_id=tenant_id, timezone=tz, fields=fields, tags=tags)

    def choices_for(self, spec: FieldSpec) -> tuple[tuple[str, Any], ...]:
        if spec.kind == Kind.TAGS:
            return tuple((name, name) for name in sorted(self.tags))
        return spec.choices


def registry_for(membership: Membership) -> Registry:
    return Registry.for_tenant(membership.tenant_id, membership.tenant.timezone)


# --- validation --------------------------------------------------------------------------------


def definition_clean(definition: Any, registry: Registry) -> dict:
    """The definition in canonical form, or ValidationFailed naming the offending input's path."""
    if definition in (None, "", {}):
        return {"op": "and", "children": []}
    counter = [0]
    return _clean_group(definition, registry, "definition", 1, counter, root=True)


def _clean_group(node: Any, registry: Registry, path: str, depth: int, counter: list[int], *, root: bool) -> dict:
    if not isinstance(node, dict):
        raise ValidationFailed(_("Expected a group or a condition."), field=path)
    op = node.get("op", "and")
    if op not in ("and", "or"):
        raise ValidationFailed(_("A group combines its conditions with “and” or “or”."), field=f"{path}.op")
    children = node.get("children", [])
    if not isinstance(children, list):
        raise ValidationFailed(_("Expected a list of conditions."), field=f"{path}.children")
    if not children and not root:
        raise ValidationFailed(_("Add a condition to this group or remove the group."), field=path)
    clean = []
    for index, child in enumerate(children):
        child_path = f"{path}.children.{index}"
        if isinstance(child, dict) and ("children" in child or ("op" in child and "field" not in child)):
            if depth >= MAX_DEPTH:
                raise ValidationFailed(_("Groups can be nested at most three levels deep."), field=child_path)
            clean.append(_clean_group(child, registry, child_path, depth + 1, counter, root=False))
        else:
            counter[0] += 1
            if counter[0] > MAX_CONDITIONS:
                raise ValidationFailed(
                    _("A segment can have at most %(max)d conditions.") % {"max": MAX_CONDITIONS}, field=child_path
                )
            clean.append(_clean_condition(child, registry, child_path))
    return {"op": op, "children": clean}


def _clean_condition(node: Any, registry: Registry, path: str) -> dict:
    if not isinstance(node, dict):
        raise ValidationFailed(_("Expected a group or a condition."), field=path)
    key = node.get("field")
    spec = registry.fields.get(key) if isinstance(key, str) else None
    if spec is None:
        raise ValidationFailed(_("Choose a field."), field=f"{path}.field")
    operator = node.get("operator")
    if operator not in spec.operators:
        raise ValidationFailed(_("Choose an operator that fits the field."), field=f"{path}.operator")
    value = _clean_value(spec, operator, node.get("value"), registry, f"{path}.value")
    return {"field": key, "operator": operator, "value": value}


def _missing(field: str) -> ValidationFailed:
    return ValidationFailed(_("Enter a value."), field=field)


def _text(raw: Any, field: str, max_length: int = 200) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValidationFailed(_("Enter a text."), field=field)
    text = " ".join(str(raw).split())
    if not text:
        raise _missing(field)
    if len(text) > max_length:
        raise ValidationFailed(_("This value is too long."), field=field)
    return text


def _number(raw: Any, field: str) -> int | float:
    if isinstance(raw, bool) or raw in (None, ""):
        raise ValidationFailed(_("Enter a number."), field=field)
    try:
        number = Decimal(str(raw).strip().replace(",", "."))
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_("Enter a number."), field=field) from None
    return int(number) if number % 1 == 0 else float(number)


def _date(raw: Any, field: str) -> str:
    if isinstance(raw, date):
        return raw.isoformat()
    try:
        return date.fromisoformat(str(raw).strip()).isoformat()
    except ValueError:
        raise ValidationFailed(_("Enter a date as YYYY-MM-DD."), field=field) from None


def _postcode(raw: Any, field: str) -> str:
    text = _text(raw, field, 12).replace(" ", "").upper()
    if not text.isalnum():
        raise ValidationFailed(_("Enter a postcode or the start of one (digits and letters only)."), field=field)
    return text


def _list(raw: Any, field: str) -> list:
    if isinstance(raw, str):
        raw = [part for part in raw.split(",")]
    if not isinstance(raw, list | tuple):
        raise ValidationFailed(_("Enter one or more values."), field=field)
    items = [item for item in raw if not (isinstance(item, str) and not item.strip())]
    if not items:
        raise ValidationFailed(_("Enter one or more values."), field=field)
    if len(items) > MAX_LIST:
        raise ValidationFailed(_("Too many values: at most %(max)d.") % {"max": MAX_LIST}, field=field)
    return items


def _scalar(spec: FieldSpec, raw: Any, field: str, registry: Registry) -> Any:
    match spec.kind:
        case Kind.NUMBER:
            return _number(raw, field)
        case Kind.DATE:
            return _date(raw, field)
        case Kind.POSTCODE:
            return _postcode(raw, field)
        case Kind.CHOICE | Kind.MULTICHOICE | Kind.TAGS:
            allowed = [value for value, _label in registry.choices_for(spec)]
            if raw not in allowed:
                if spec.kind == Kind.TAGS:
                    raise ValidationFailed(_("There is no tag of this name."), field=field)
                raise ValidationFailed(_("Choose one of the offered values."), field=field)
            return raw
        case Kind.PREFIX:
            text = _text(raw, field, 8)
            if not all(ch.isdigit() or ch == "." for ch in text):
                raise ValidationFailed(_("Enter a code of digits and dots, e.g. 29 or 29.10."), field=field)
            return text
        case _:
            return _text(raw, field)


def _clean_value(spec: FieldSpec, operator: str, raw: Any, registry: Registry, field: str) -> Any:
    if operator in NO_VALUE:
        return None
    if spec.kind == Kind.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "ja"):
            return True
        if text in ("false", "0", "no", "nein"):
            return False
        raise ValidationFailed(_("Choose yes or no."), field=field)
    if operator in DAYS_VALUE:
        days = _number(raw, field)
        if not isinstance(days, int) or not 0 < days <= 36500:
            raise ValidationFailed(_("Enter a whole number of days between 1 and 36500."), field=field)
        return days
    if operator in LIST_VALUE:
        values = [_scalar(spec, item, f"{field}.{i}", registry) for i, item in enumerate(_list(raw, field))]
        return list(dict.fromkeys(values))
    if operator in PAIR_VALUE:
        if not isinstance(raw, list | tuple) or len(raw) != 2:
            raise ValidationFailed(_("Enter a lower and an upper value."), field=field)
        low, high = (_scalar(spec, item, f"{field}.{i}", registry) for i, item in enumerate(raw))
        if spec.kind != Kind.POSTCODE and low > high:
            raise ValidationFailed(_("The lower value must not be greater than the upper one."), field=f"{field}.1")
        if spec.kind == Kind.POSTCODE and low[: len(high)] > high:
            raise ValidationFailed(_("The lower value must not be greater than the upper one."), field=f"{field}.1")
        return [low, high]
    if raw in (None, ""):
        raise _missing(field)
    if spec.kind == Kind.NAME:
        return _text(raw, field)
    return _scalar(spec, raw, field, registry)


# --- compilation -------------------------------------------------------------------------------

NOTHING = Q(pk__in=[])


def definition_q(definition: dict, registry: Registry) -> Q:
    """One Q over Person for a clean definition; an empty root group matches everyone."""
    return _group_q(definition, registry)


def _group_q(node: dict, registry: Registry) -> Q:
    parts = [
        _group_q(child, registry) if "children" in child else _condition_q(child, registry)
        for child in node.get("children", [])
    ]
    if not parts:
        return Q()
    result = parts[0]
    for part in parts[1:]:
        result = (result | part) if node.get("op") == "or" else (result & part)
    return result


def _next_prefix(text: str) -> str | None:
    """The smallest digit string greater than every string starting with ``text`` ("80" → "81"), if any."""
    if text.isdigit() and text.strip("9"):
        return str(int(text) + 1).zfill(len(text))
    return None


def _prefix_q(path: str, prefix: str) -> Q:
    """Starts-with as a range on the column, so an index on it can be used (LIKE cannot, on SQLite)."""
    upper = _next_prefix(prefix)
    if upper is not None:
        return Q(**{f"{path}__gte": prefix, f"{path}__lt": upper})
    return Q(**{f"{path}__gte": prefix, f"{path}__lt": prefix + "\U0010ffff"}) & Q(**{f"{path}__startswith": prefix})


def _optional_relation(path: str) -> Q:
    """For empty-checks through the organisation: no organisation counts as empty."""
    return Q(organization__isnull=True) if path.startswith("organization__") else NOTHING


def _text_q(spec: FieldSpec, op: str, value: Any) -> Q:
    p = spec.path
    if spec.kind == Kind.NAME and op in ("eq", "starts_with", "in"):
        key_path = "last_name_key"
        match op:
            case "eq":
                return Q(**{key_path: name_key(value)})
            case "starts_with":
                key = name_key(value)
                return Q(**{f"{key_path}__gte": key, f"{key_path}__lt": key + "\U0010ffff"})
            case "in":
                return Q(**{f"{key_path}__in": [name_key(v) for v in value]})
    match op:
        case "eq":
            return Q(**{f"{p}__iexact": value})
        case "neq":
            return ~Q(**{f"{p}__iexact": value})
        case "contains":
            return Q(**{f"{p}__icontains": value})
        case "starts_with":
            return Q(**{f"{p}__istartswith": value})
        case "in":
            result = NOTHING
            for item in value:
                result |= Q(**{f"{p}__iexact": item})
            return result
        case "empty":
            return Q(**{p: ""}) | _optional_relation(p)
        case "not_empty":
            return ~Q(**{p: ""}) & ~_optional_relation(p) if p.startswith("organization__") else ~Q(**{p: ""})
    raise AssertionError(op)


def _postcode_q(spec: FieldSpec, op: str, value: Any) -> Q:
    p = spec.path
    match op:
        case "eq":
            return Q(**{p: value})
        case "starts_with":
            return _prefix_q(p, value)
        case "between":
            low, high = value
            upper = _next_prefix(high)
            if upper is not None:
                return Q(**{f"{p}__gte": low, f"{p}__lt": upper})
            return Q(**{f"{p}__gte": low}) & (Q(**{f"{p}__lte": high}) | Q(**{f"{p}__startswith": high}))
        case "in":
            return Q(**{f"{p}__in": value})
        case "not_in":
            return ~Q(**{f"{p}__in": value})
        case "empty":
            return Q(**{p: ""}) | _optional_relation(p)
        case "not_empty":
            return ~Q(**{p: ""}) & ~_optional_relation(p) if p.startswith("organization__") else ~Q(**{p: ""})
    raise AssertionError(op)


def _prefix_code_q(spec: FieldSpec, op: str, value: Any) -> Q:
    p = spec.path
    match op:
        case "starts_with":
            return _prefix_q(p, value)
        case "eq":
            return Q(**{p: value})
        case "in":
            result = NOTHING
            for item in value:
                result |= _prefix_q(p, item)
            return result
        case "empty":
            return Q(**{p: ""}) | _optional_relation(p)
        case "not_empty":
            return ~Q(**{p: ""}) & ~_optional_relation(p)
    raise AssertionError(op)


def _comparison_q(spec: FieldSpec, op: str, value: Any) -> Q:
    """Numbers and attribute dates (stored as ISO text, which sorts like the date)."""
    p = spec.path
    match op:
        case "eq":
            return Q(**{p: value})
        case "neq":
            return ~Q(**{p: value}) & _present(spec)
        case "lt" | "lte" | "gt" | "gte":
            return Q(**{f"{p}__{op}": value})
        case "before":
            return Q(**{f"{p}__lt": value})
        case "since":
            return Q(**{f"{p}__gte": value})
        case "between":
            return Q(**{f"{p}__gte": value[0], f"{p}__lte": value[1]})
        case "empty":
            return ~_present(spec)
        case "not_empty":
            return _present(spec)
    raise AssertionError(op)


def _present(spec: FieldSpec) -> Q:
    if spec.is_attribute:
        return Q(attributes__has_key=spec.key.removeprefix("attr."))
    return Q(**{f"{spec.path}__isnull": False})


def _day_start(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _date_q(spec: FieldSpec, op: str, value: Any, registry: Registry) -> Q:
    if op in DAYS_VALUE:
        if spec.is_attribute:
            cutoff: Any = (timezone.localdate(timezone=registry.timezone) - timedelta(days=value)).isoformat()
        else:
            cutoff = timezone.now() - timedelta(days=value)
        if op == "in_last_days":
            return Q(**{f"{spec.path}__gte": cutoff})
        return Q(**{f"{spec.path}__lt": cutoff})
    if spec.is_attribute:
        return _comparison_q(spec, op, value)
    tz = registry.timezone
    p = spec.path
    match op:
        case "before":
            return Q(**{f"{p}__lt": _day_start(date.fromisoformat(value), tz)})
        case "since":
            return Q(**{f"{p}__gte": _day_start(date.fromisoformat(value), tz)})
        case "between":
            low, high = (date.fromisoformat(v) for v in value)
            return Q(**{f"{p}__gte": _day_start(low, tz), f"{p}__lt": _day_start(high + timedelta(days=1), tz)})
    raise AssertionError(op)


def _choice_q(spec: FieldSpec, op: str, value: Any) -> Q:
    p = spec.path
    match op:
        case "eq":
            return Q(**{p: value})
        case "neq":
            return ~Q(**{p: value}) & (_present(spec) if spec.is_attribute else Q())
        case "in":
            return Q(**{f"{p}__in": value})
        case "not_in":
            return ~Q(**{f"{p}__in": value}) & (_present(spec) if spec.is_attribute else Q())
        case "at_least" | "at_most":
            order = [choice for choice, _label in spec.choices]
            index = order.index(value)
            return Q(**{f"{p}__in": order[index:] if op == "at_least" else order[: index + 1]})
        case "empty":
            if spec.is_attribute:
                return ~_present(spec)
            return Q(**{p: ""}) | _optional_relation(p)
        case "not_empty":
            if spec.is_attribute:
                return _present(spec)
            return ~Q(**{p: ""}) & ~_optional_relation(p) if p.startswith("organization__") else ~Q(**{p: ""})
    raise AssertionError(op)


def _json_array_has(key: str, value: str) -> Q:
    """The person's multiple-choice attribute ``key`` holds ``value``."""
    if connection.vendor == "postgresql":
        return Q(**{f"attributes__{key}__contains": [value]})
    # SQLite has no JSON containment lookup; json_each walks the (small) array of this one row.
    # The key is a slug and both values are parameters, so nothing user-typed becomes SQL.
    sql = "EXISTS (SELECT 1 FROM json_each(contacts_person.attributes, %s) WHERE json_each.value = %s)"
    return Q(RawSQL(sql, (f'$."{key}"', value), output_field=BooleanField()))  # noqa: S611


def _multichoice_q(spec: FieldSpec, op: str, value: Any) -> Q:
    key = spec.key.removeprefix("attr.")
    match op:
        case "contains_any":
            result = NOTHING
            for item in value:
                result |= _json_array_has(key, item)
            return result
        case "contains_all":
            result = Q()
            for item in value:
                result &= _json_array_has(key, item)
            return result
        case "contains_none":
            result = NOTHING
            for item in value:
                result |= _json_array_has(key, item)
            return ~result | ~_present(spec)
        case "empty":
            return ~_present(spec)
        case "not_empty":
            return _present(spec)
    raise AssertionError(op)


def _tags_q(op: str, value: list[str], registry: Registry) -> Q:
    ids = [registry.tags[name] for name in value if name in registry.tags]

    def has(tag_ids: list[int]) -> Exists:
        return Exists(
            PersonTag.objects.filter(tenant_id=registry.tenant_id, person_id=OuterRef("pk"), tag_id__in=tag_ids)
        )

    match op:
        case "has_any":
            return Q(has(ids)) if ids else NOTHING
        case "has_all":
            if len(ids) < len(value):
                return NOTHING
            result = Q()
            for tag_id in ids:
                result &= Q(has([tag_id]))
            return result
        case "has_none":
            return ~Q(has(ids)) if ids else Q()
    raise AssertionError(op)


def contact_data_q(channel: str) -> Q:
    """The person has what a mailing by this channel needs: an address, a number."""
    match channel:
        case Channel.EMAIL:
            return ~Q(email="")
        case Channel.PHONE:
            return ~Q(phone="") | ~Q(mobile="")
        case Channel.SMS:
            return ~Q(mobile="")
        case Channel.POST:
            own = ~Q(street="") & ~Q(postcode="") & ~Q(city="")
            org_address = Organization.objects.filter(pk=OuterRef("organization_id")).exclude(street="")
            org_address = org_address.exclude(postcode="").exclude(city="")
            return own | Q(Q(use_organization_address=True) & Q(Exists(org_address)))
    raise AssertionError(channel)


def _boolean_q(spec: FieldSpec, value: bool) -> Q:
    match spec.key:
        case "has_email":
            q = contact_data_q(Channel.EMAIL)
        case "has_phone":
            q = contact_data_q(Channel.PHONE)
        case "has_mobile":
            q = contact_data_q(Channel.SMS)
        case "has_address":
            q = contact_data_q(Channel.POST)
        case "suppressed":
            q = ~Q(suppressed_reason="")
        case "duplicate":
            q = Q(duplicate_of__isnull=False)
        case "quality_problems":
            q = ~Q(quality_flags=[])
        case "has_organization":
            q = Q(organization__isnull=False)
        case _ if spec.is_attribute:
            # "no" also matches people without a value: unticked is not answered yes.
            key = spec.key.removeprefix("attr.")
            return Q(**{spec.path: True}) if value else Q(**{spec.path: False}) | ~Q(attributes__has_key=key)
        case _:
            raise AssertionError(spec.key)
    return q if value else ~q


def _condition_q(node: dict, registry: Registry) -> Q:
    spec = registry.fields[node["field"]]
    op, value = node["operator"], node["value"]
    match spec.kind:
        case Kind.TEXT | Kind.NAME:
            if spec.is_attribute:
                return _attribute_text_q(spec, op, value)
            return _text_q(spec, op, value)
        case Kind.POSTCODE:
            return _postcode_q(spec, op, value)
        case Kind.PREFIX:
            return _prefix_code_q(spec, op, value)
        case Kind.NUMBER:
            return _comparison_q(spec, op, value)
        case Kind.DATE:
            return _date_q(spec, op, value, registry)
        case Kind.BOOLEAN:
            return _boolean_q(spec, value)
        case Kind.CHOICE:
            return _choice_q(spec, op, value)
        case Kind.MULTICHOICE:
            return _multichoice_q(spec, op, value)
        case Kind.TAGS:
            return _tags_q(op, value, registry)
    raise AssertionError(spec.kind)


def _attribute_text_q(spec: FieldSpec, op: str, value: Any) -> Q:
    p = spec.path
    match op:
        case "eq":
            return Q(**{f"{p}__iexact": value})
        case "neq":
            return ~Q(**{f"{p}__iexact": value}) & _present(spec)
        case "contains":
            return Q(**{f"{p}__icontains": value})
        case "starts_with":
            return Q(**{f"{p}__istartswith": value})
        case "in":
            result = NOTHING
            for item in value:
                result |= Q(**{f"{p}__iexact": item})
            return result
        case "empty":
            return ~_present(spec)
        case "not_empty":
            return _present(spec)
    raise AssertionError(op)


# --- segments: members and counts --------------------------------------------------------------


@dataclass(frozen=True)
class SegmentCounts:
    """How many people match, how many may be contacted by the channel, and why the others may not.

    Each excluded person counts once, under the first reason: suppressed, then no consent, then no
    contact data. ``suppressed`` is how many of ``total`` are on the suppression list (also shown for
    segments without a channel, where nobody is excluded).
    """

    total: int
    eligible: int
    excluded_suppressed: int
    excluded_no_consent: int
    excluded_no_contact_data: int
    suppressed: int = 0
    channel: str | None = None


def eligible_q(channel: str | None) -> Q:
    """Who may be contacted by the channel: not suppressed, consent granted, contact data present."""
    if not channel:
        return Q()
    return Q(suppressed_reason="", **{f"consent_{channel}": ConsentStatus.GRANTED}) & contact_data_q(channel)


def counts_of(people: QuerySet[Person], channel: str | None) -> SegmentCounts:
    """One aggregate query: every count in a single pass over the matching people."""
    suppressed = ~Q(suppressed_reason="")
    aggregates: dict[str, Any] = {"total": Count("pk"), "suppressed": Count("pk", filter=suppressed)}
    if channel:
        granted = Q(**{f"consent_{channel}": ConsentStatus.GRANTED})
        aggregates["no_consent"] = Count("pk", filter=~suppressed & ~granted)
        aggregates["no_data"] = Count("pk", filter=~suppressed & granted & ~contact_data_q(channel))
    row = people.order_by().aggregate(**aggregates)
    if not channel:
        return SegmentCounts(row["total"], row["total"], 0, 0, 0, row["suppressed"], None)
    excluded = row["suppressed"] + row["no_consent"] + row["no_data"]
    return SegmentCounts(
        total=row["total"],
        eligible=row["total"] - excluded,
        excluded_suppressed=row["suppressed"],
        excluded_no_consent=row["no_consent"],
        excluded_no_contact_data=row["no_data"],
        suppressed=row["suppressed"],
        channel=channel,
    )


def _channel(channel: str | None) -> str | None:
    if channel in (None, ""):
        return None
    if channel not in Channel.values:
        raise ValidationFailed(_("Choose a channel or none."), field="channel")
    return channel


def segment_counts(*, membership: Membership, definition: dict, channel: str | None) -> SegmentCounts:
    """Counts for a definition that need not be saved (the builder's live count, ``POST /segments/count``)."""
    registry = registry_for(membership)
    clean = definition_clean(definition, registry)
    people = Person.objects.visible_to(membership).filter(definition_q(clean, registry))
    return counts_of(people, _channel(channel))


def segment_queryset(*, membership: Membership, segment: Segment) -> QuerySet[Person]:
    """The segment's members as the membership may see them: the snapshot if frozen, else the live
    condition; people added by hand belong to it either way. A definition that no longer validates
    (a tag or attribute it names was removed) matches nobody rather than more than was meant."""
    people = Person.objects.visible_to(membership)
    if segment.tenant_id != membership.tenant_id:
        return people.none()
    members = SegmentMember.objects.filter(tenant_id=segment.tenant_id, segment_id=segment.pk)
    if segment.is_frozen:
        return people.filter(pk__in=members.values("person_id"))
    registry = registry_for(membership)
    try:
        clean = definition_clean(segment.definition, registry)
    except ValidationFailed:
        condition = NOTHING
    else:
        condition = definition_q(clean, registry)
    if members.filter(manual=True).exists():
        condition |= Q(pk__in=members.filter(manual=True).values("person_id"))
    return people.filter(condition)


def segment_eligible(*, membership: Membership, segment: Segment) -> QuerySet[Person]:
    """The members a mailing by the segment's channel may go to (all members without a channel)."""
    return segment_queryset(membership=membership, segment=segment).filter(eligible_q(segment.channel or None))


def segment_count(*, membership: Membership, segment: Segment) -> SegmentCounts:
    return counts_of(segment_queryset(membership=membership, segment=segment), segment.channel or None)


def definition_problem(*, membership: Membership, segment: Segment) -> str | None:
    """Why a saved definition no longer works (a removed tag or attribute), for the segment page."""
    try:
        definition_clean(segment.definition, registry_for(membership))
    except ValidationFailed as exc:
        return exc.message
    return None


# --- reading a definition back to people -----------------------------------------------------------


def describe(definition: dict, registry: Registry) -> list[dict]:
    """The definition as nested lines for display: [{"op", "children"} | {"text"}]."""

    def node(item: dict) -> dict:
        if "children" in item:
            return {"op": item.get("op", "and"), "children": [node(child) for child in item["children"]]}
        spec = registry.fields.get(item.get("field"))
        label = spec.label if spec else item.get("field")
        return {"text": f"{label} {OPERATORS.get(item.get('operator'), item.get('operator'))} {_shown(item, spec)}"}

    return node(definition or {"op": "and", "children": []})["children"]


def _shown(item: dict, spec: FieldSpec | None) -> str:
    value = item.get("value")
    if value is None:
        return ""
    labels = dict(spec.choices) if spec else {}
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if item.get("operator") in PAIR_VALUE:
        return f"{value[0]} – {value[1]}"
    if item.get("operator") in DAYS_VALUE:
        return str(_("%(days)s days") % {"days": value})
    if isinstance(value, list):
        return ", ".join(str(labels.get(v, v)) for v in value)
    return str(labels.get(value, value))


def fields_catalogue(registry: Registry) -> list[dict]:
    """The fields, their kind, operators and offered values — for the API and the builder."""
    return [
        {
            "key": spec.key,
            "label": str(spec.label),
            "group": str(spec.group),
            "kind": spec.kind,
            "operators": list(spec.operators),
            "choices": [value for value, _label in registry.choices_for(spec)],
        }
        for spec in registry.fields.values()
    ]
