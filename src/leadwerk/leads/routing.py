"""Lead routing: ordered rules pick a target (a member, or a team by round robin or fewest open leads).

A tenant's active rules are compiled once into Python predicates and cached per process, keyed by the
tenant and a version stamp of its rules (their count and the sum of their ``updated_at``), so every rule
edit, reorder or deletion is seen by the next decision. Members, capacities and absences are read live per
decision.

Decisions:
- the first active rule whose conditions all hold wins; a rule without conditions is the fallback;
- a **user** target that cannot take the lead now (inactive, role without leads, absent today, not taking
  leads, weekly capacity reached, or excluded) is skipped: the next matching rule decides;
- a **team** target whose members are all unavailable keeps the territory: the lead goes to the team
  without an owner (team inbox); ``route_unassigned`` hands it to a member once one is free again;
- weekly capacity counts the member's leads with ``assigned_at`` since Monday 00:00 in the tenant's time
  zone (index ``lead_owner_assigned``); a lead re-assigned away no longer counts against them.

Concurrency: ``lead_route`` locks the lead row and re-checks that it is still unassigned (or still with an
excluded member), then locks the team's round-robin row and the chosen member's profile row before
counting their load, so two workers never route a lead twice and capacity is never overshot
(``select_for_update`` on PostgreSQL; SQLite runs IMMEDIATE transactions, so writers are serialised).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadwerk.accounts.models import Membership, Team, Tenant
from leadwerk.contacts.models import Organization, Person
from leadwerk.core.exceptions import ValidationFailed
from leadwerk.core.memo import memoized, updated_stamp_sql

from . import sla, states
from .models import Absence, Channel, Grade, Lead, LeadProfile, Rating, RoutingRule, TeamRoutingState
from .roles import LEAD_ADMINS, LEAD_WORKERS

# --- the condition catalogue ---------------------------------------------------------------------------

OPERATORS: dict[str, Any] = {
    "eq": gettext_lazy("is"),
    "ne": gettext_lazy("is not"),
    "in": gettext_lazy("is one of"),
    "prefix": gettext_lazy("starts with"),
    "between": gettext_lazy("is between"),
    "contains": gettext_lazy("contains"),
    "gte": gettext_lazy("at least"),
    "lte": gettext_lazy("at most"),
    "set": gettext_lazy("is filled"),
    "unset": gettext_lazy("is empty"),
}
NO_VALUE = frozenset({"set", "unset"})
LIST_VALUE = frozenset({"in"})
PAIR_VALUE = frozenset({"between"})
NUMBER_VALUE = frozenset({"gte", "lte"})
TEXT_OPS = ("eq", "ne", "in", "prefix", "contains", "set", "unset")
CHOICE_OPS = ("eq", "ne", "in", "set", "unset")
RANGE_OPS = ("between", "prefix", "eq", "ne", "in", "set", "unset")
NUMBER_OPS = ("gte", "lte", "between", "eq", "ne", "set", "unset")
ANY_OPS = ("eq", "ne", "in", "prefix", "between", "contains", "gte", "lte", "set", "unset")
KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: Any
    operators: tuple[str, ...]
    choices: tuple[tuple[str, Any], ...] = ()
    group: Any = ""


_LEAD = gettext_lazy("Lead")
_PERSON = gettext_lazy("Person")
_ORG = gettext_lazy("Organisation")
FIELDS: dict[str, FieldSpec] = {
    spec.key: spec
    for spec in (
        FieldSpec("person.postcode", gettext_lazy("postcode"), RANGE_OPS, group=_PERSON),
        FieldSpec("person.country", gettext_lazy("country"), CHOICE_OPS, group=_PERSON),
        FieldSpec("person.city", gettext_lazy("city"), TEXT_OPS, group=_PERSON),
        FieldSpec("lead.interest", gettext_lazy("interest"), CHOICE_OPS, group=_LEAD),
        FieldSpec("lead.grade", gettext_lazy("grade"), CHOICE_OPS, tuple(Grade.choices), group=_LEAD),
        FieldSpec("lead.rating", gettext_lazy("rating"), CHOICE_OPS, tuple(Rating.choices), group=_LEAD),
        FieldSpec("lead.channel", gettext_lazy("channel"), CHOICE_OPS, tuple(Channel.choices), group=_LEAD),
        FieldSpec("lead.source", gettext_lazy("source"), TEXT_OPS, group=_LEAD),
        FieldSpec("lead.score", gettext_lazy("score"), NUMBER_OPS, group=_LEAD),
        FieldSpec("lead.estimated_value", gettext_lazy("estimated value"), NUMBER_OPS, group=_LEAD),
        FieldSpec("organization.postcode", gettext_lazy("company postcode"), RANGE_OPS, group=_ORG),
        FieldSpec("organization.country", gettext_lazy("company country"), CHOICE_OPS, group=_ORG),
        FieldSpec(
            "organization.employees",
            gettext_lazy("employees"),
            CHOICE_OPS,
            tuple(Organization.Employees.choices),
            group=_ORG,
        ),
        FieldSpec(
            "organization.revenue",
            gettext_lazy("annual revenue"),
            CHOICE_OPS,
            tuple(Organization.Revenue.choices),
            group=_ORG,
        ),
        FieldSpec("organization.industry_code", gettext_lazy("industry (WZ)"), ("prefix", "eq", "in"), group=_ORG),
    )
}
# Tenant-defined fields: "person.attr.<key>", "organization.attr.<key>", "lead.question.<key>".
DYNAMIC_PREFIXES = {
    "person.attr.": gettext_lazy("person attribute"),
    "organization.attr.": gettext_lazy("organisation attribute"),
    "lead.question.": gettext_lazy("qualification answer"),
}


def field_spec(key: str) -> FieldSpec | None:
    """The catalogue entry of a condition field, including tenant attributes and qualification questions."""
    if key in FIELDS:
        return FIELDS[key]
    for prefix, label in DYNAMIC_PREFIXES.items():
        if key.startswith(prefix) and KEY.match(key[len(prefix) :]):
            return FieldSpec(key, key[len(prefix) :], ANY_OPS, group=label)
    return None


def field_choices(tenant_id: int) -> list[tuple[Any, list[tuple[str, Any]]]]:
    """The fields a rule can test, grouped for a <select>: the catalogue plus the tenant's attributes and questions."""
    from leadwerk.contacts.models import AttributeDefinition

    from .models import QualificationQuestion

    groups: dict[Any, list[tuple[str, Any]]] = {}
    for spec in FIELDS.values():
        groups.setdefault(spec.group, []).append((spec.key, spec.label))
    for attr in AttributeDefinition.objects.filter(tenant_id=tenant_id).order_by("position", "label"):
        group = _PERSON if attr.record_type == AttributeDefinition.RecordType.PERSON else _ORG
        prefix = "person.attr." if attr.record_type == AttributeDefinition.RecordType.PERSON else "organization.attr."
        groups.setdefault(group, []).append((prefix + attr.key, attr.label))
    for question in QualificationQuestion.objects.filter(tenant_id=tenant_id, active=True):
        groups.setdefault(_LEAD, []).append(("lead.question." + question.key, question.label))
    return list(groups.items())


# --- validation ------------------------------------------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def clean_conditions(conditions: Any) -> list[dict[str, Any]]:
    """Check a rule's conditions; raises ValidationFailed naming ``conditions.<i>.<part>``."""
    if conditions in (None, ""):
        return []
    if not isinstance(conditions, list):
        raise ValidationFailed(_("Send a list of conditions."), field="conditions")
    if len(conditions) > 20:
        raise ValidationFailed(_("A rule can have at most 20 conditions."), field="conditions")
    clean = []
    for i, condition in enumerate(conditions):
        where = f"conditions.{i}"
        if not isinstance(condition, dict):
            raise ValidationFailed(_("A condition has a field, an operator and a value."), field=where)
        key = str(condition.get("field") or "")
        spec = field_spec(key)
        if spec is None:
            raise ValidationFailed(_("Choose a field."), field=f"{where}.field")
        op = str(condition.get("op") or "")
        if op not in spec.operators:
            raise ValidationFailed(
                _("Choose one of: %(ops)s.") % {"ops": ", ".join(str(OPERATORS[o]) for o in spec.operators)},
                field=f"{where}.op",
            )
        clean.append({"field": key, "op": op, "value": _clean_value(spec, op, condition.get("value"), where)})
    return clean


def _clean_value(spec: FieldSpec, op: str, value: Any, where: str) -> Any:
    here = f"{where}.value"
    if op in NO_VALUE:
        return None
    if op in PAIR_VALUE:
        if isinstance(value, str) and "-" in value:
            value = value.split("-", 1)
        if not isinstance(value, list | tuple) or len(value) != 2 or any(_blank(v) for v in value):
            raise ValidationFailed(_("Enter a lower and an upper bound."), field=here)
        low, high = (str(v).strip() for v in value)
        if _order_key(low, high) > _order_key(high, low):
            raise ValidationFailed(_("The lower bound must not be above the upper bound."), field=here)
        return [low, high]
    if op in NUMBER_VALUE:
        number = _number(value)
        if number is None:
            raise ValidationFailed(_("Enter a number."), field=here)
        return str(number)
    if op in LIST_VALUE:
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list | tuple):
            raise ValidationFailed(_("Enter one or more values."), field=here)
        values = [str(v).strip() for v in value if not _blank(v)]
        if not values:
            raise ValidationFailed(_("Enter one or more values."), field=here)
        _check_choices(spec, values, here)
        return values
    if _blank(value) or isinstance(value, list | dict):
        raise ValidationFailed(_("Enter a value."), field=here)
    text = str(value).strip()
    if op in ("eq", "ne"):
        _check_choices(spec, [text], here)
    return text


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_choices(spec: FieldSpec, values: Iterable[str], where: str) -> None:
    if spec.choices:
        allowed = {str(v) for v, _label in spec.choices}
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ValidationFailed(
                _("Unknown value %(value)s; choose from %(choices)s.")
                % {"value": bad[0], "choices": ", ".join(sorted(allowed))},
                field=where,
            )


def _order_key(value: str, other: str) -> tuple:
    """Numbers compare as numbers when both sides are numbers; everything else as text."""
    a, b = _number(value), _number(other)
    if a is not None and b is not None:
        return (0, a, "")
    return (1, Decimal(0), value)


# --- compiling -------------------------------------------------------------------------------------------

Facts = dict[str, Any]
Predicate = Callable[[Facts], bool]


def _getter(key: str) -> Callable[[Facts], Any]:
    for prefix, bag in (("person.attr.", "person.attr"), ("organization.attr.", "organization.attr"),
                        ("lead.question.", "lead.question")):  # fmt: skip
        if key.startswith(prefix):
            name = key[len(prefix) :]
            return lambda facts: facts[bag].get(name)
    return lambda facts: facts.get(key)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value).strip()


def _compile_condition(condition: dict[str, Any]) -> Predicate:
    get, op, value = _getter(condition["field"]), condition["op"], condition["value"]
    if op == "set":
        return lambda f: not _blank(get(f)) and get(f) not in ([], {})
    if op == "unset":
        return lambda f: _blank(get(f)) or get(f) in ([], {})
    if op in ("gte", "lte"):
        bound = Decimal(value)

        def compare(f: Facts) -> bool:
            number = _number(get(f))
            return number is not None and (number >= bound if op == "gte" else number <= bound)

        return compare
    if op == "between":
        low, high = value
        nlow, nhigh = _number(low), _number(high)
        if low.isdigit() and high.isdigit() and len(low) == len(high):
            width = len(low)

            def code_range(f: Facts) -> bool:
                # postcodes and other fixed-width codes: "01067" is in 01000-01999, "8033" is not in 80000-80999
                text = _text(get(f))
                return len(text) == width and text.isdigit() and low <= text <= high

            return code_range
        if nlow is not None and nhigh is not None:

            def numeric(f: Facts) -> bool:
                number = _number(get(f))
                return number is not None and nlow <= number <= nhigh

            return numeric
        low_text, high_text = low.lower(), high.lower()
        return lambda f: bool(_text(get(f))) and low_text <= _text(get(f)).lower() <= high_text
    if op == "in":
        wanted = frozenset(v.lower() for v in value)

        def one_of(f: Facts) -> bool:
            found = get(f)
            if isinstance(found, list):
                return any(_text(v).lower() in wanted for v in found)
            return _text(found).lower() in wanted

        return one_of
    target = str(value).lower()
    if op == "eq":
        return lambda f: _text(get(f)).lower() == target or _numbers_equal(get(f), target)
    if op == "ne":
        return lambda f: not (_text(get(f)).lower() == target or _numbers_equal(get(f), target))
    if op == "prefix":
        prefixes = tuple(p.strip().lower() for p in str(value).split(",") if p.strip())
        return lambda f: bool(_text(get(f))) and _text(get(f)).lower().startswith(prefixes)
    if op == "contains":
        return lambda f: target in _text(get(f)).lower()
    raise ValueError(op)  # clean_conditions admits no other operator


def _numbers_equal(found: Any, target: str) -> bool:
    if isinstance(found, int | float | Decimal) and not isinstance(found, bool):
        number = _number(target)
        return number is not None and Decimal(str(found)) == number
    return False


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    position: int
    conditions: tuple[dict[str, Any], ...]
    predicates: tuple[Predicate, ...]
    target: str
    target_member_id: int | None
    target_team_id: int | None
    strategy: str

    def matches(self, facts: Facts) -> bool:
        # a plain loop: all() with a generator costs measurably more with 1,000 rules
        for predicate in self.predicates:  # noqa: SIM110
            if not predicate(facts):
                return False
        return True


# Catalogue fields holding one text value: their eq/in/prefix/between conditions can be looked up in an index.
INDEXED_FIELDS = frozenset({
    "person.postcode", "person.country", "person.city", "lead.interest", "lead.grade", "lead.rating",
    "lead.channel", "lead.source", "organization.postcode", "organization.country", "organization.employees",
    "organization.revenue", "organization.industry_code",
})  # fmt: skip


def _index_keys(condition: dict[str, Any]) -> list[tuple] | None:
    """Keys under which a rule is filed so that only rules that can match are checked; None: not indexable."""
    key, op, value = condition["field"], condition["op"], condition["value"]
    if key not in INDEXED_FIELDS:
        return None
    if op == "eq":
        return [(key, "eq", str(value).lower())]
    if op == "in":
        return [(key, "eq", v.lower()) for v in value]
    if op == "prefix":
        prefixes = [p.strip().lower() for p in str(value).split(",") if p.strip()]
        return [(key, "p1", p[0]) for p in prefixes] or None
    if op == "between":
        low, high = value
        if low.isdigit() and high.isdigit() and len(low) == len(high) >= 2:
            return [(key, "b", len(low), f"{n:02d}") for n in range(int(low[:2]), int(high[:2]) + 1)]
    return None


@dataclass(frozen=True)
class RuleSet:
    """The compiled rules in order, with an index from lead values to the rules that can match them."""

    rules: tuple[CompiledRule, ...]
    index: dict[tuple, tuple[int, ...]]
    always: tuple[int, ...]  # rules without an indexable condition (and fallbacks): always checked
    fields: tuple[str, ...]

    def candidates(self, facts: Facts):
        found = set(self.always)
        index = self.index
        for key in self.fields:
            text = _text(facts.get(key)).lower()
            for probe in ((key, "eq", text), (key, "p1", text[:1]), (key, "b", len(text), text[:2])):
                hit = index.get(probe)
                if hit:
                    found.update(hit)
        rules = self.rules
        for i in sorted(found):
            yield rules[i]


_cache: dict[int, tuple[tuple, RuleSet]] = {}


@memoized
def rules_stamp(tenant_id: int) -> tuple:
    """Changes with every rule edit, reorder, activation or deletion (one small aggregate query; a sum of the
    ``updated_at`` rather than the newest, so an edit that commits after a later one is seen too)."""
    sql = "SELECT " + updated_stamp_sql(RoutingRule._meta.db_table, connection.vendor)
    with connection.cursor() as cursor:  # plain SQL: this runs before every decision
        cursor.execute(sql, [tenant_id, tenant_id])
        return tuple(cursor.fetchone())


def compiled_rules(tenant_id: int) -> tuple[CompiledRule, ...]:
    """The tenant's active rules in order, compiled; recompiled only when the stamp changed."""
    return compiled_ruleset(tenant_id).rules


@memoized
def compiled_ruleset(tenant_id: int) -> RuleSet:
    stamp = rules_stamp(tenant_id)
    cached = _cache.get(tenant_id)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    compiled = []
    fields = ("pk", "name", "position", "conditions", "target", "target_member_id", "target_team_id", "strategy")
    rows = RoutingRule.objects.filter(tenant_id=tenant_id, active=True).order_by("position", "id").values_list(*fields)
    for pk, name, position, raw, target, member_id, team_id, strategy in rows:
        try:
            conditions = clean_conditions(raw)
        except ValidationFailed:
            continue  # a rule written around the service (import, shell) that no longer validates never matches
        compiled.append(
            CompiledRule(
                id=pk,
                name=name,
                position=position,
                conditions=tuple(conditions),
                predicates=tuple(_compile_condition(c) for c in conditions),
                target=target,
                target_member_id=member_id,
                target_team_id=team_id,
                strategy=strategy,
            )
        )
    index: dict[tuple, list[int]] = {}
    always = []
    for i, rule in enumerate(compiled):
        # file the rule under its first indexable condition; every condition is still checked afterwards
        keys = next((k for k in map(_index_keys, rule.conditions) if k), None)
        if keys is None:
            always.append(i)
            continue
        for key in keys:
            index.setdefault(key, []).append(i)
    ruleset = RuleSet(
        rules=tuple(compiled),
        index={k: tuple(v) for k, v in index.items()},
        always=tuple(always),
        fields=tuple(sorted({k[0] for k in index})),
    )
    _cache[tenant_id] = (stamp, ruleset)
    return ruleset


def lead_facts(lead: Lead, person: Person | None = None, organization: Organization | None = None) -> Facts:
    """The values the conditions test, read once per decision."""
    person = person if person is not None else lead.person
    if organization is None and lead.organization_id:
        organization = lead.organization
    org = organization
    return {
        "person.postcode": person.postcode if person else "",
        "person.country": person.country if person else "",
        "person.city": person.city if person else "",
        "person.attr": (person.attributes or {}) if person else {},
        "lead.interest": lead.interest.key if lead.interest_id else "",
        "lead.grade": lead.grade,
        "lead.rating": lead.rating,
        "lead.channel": lead.channel,
        "lead.source": lead.source,
        "lead.score": lead.score,
        "lead.estimated_value": lead.estimated_value,
        "lead.question": lead.qualification or {},
        "organization.postcode": org.postcode if org else "",
        "organization.country": org.country if org else "",
        "organization.employees": org.employees if org else "",
        "organization.revenue": org.revenue if org else "",
        "organization.industry_code": org.industry_code if org else "",
        "organization.attr": (org.attributes or {}) if org else {},
    }


def _shown(key: str, facts: Facts) -> str:
    value = _getter(key)(facts)
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return _text(value)


def describe_match(rule: CompiledRule, facts: Facts) -> str:
    """Why the rule applies, with the lead's own values: "postcode 80331, grade A"."""
    if not rule.conditions:
        return _("fallback rule “%(rule)s”") % {"rule": rule.name}
    parts = []
    for condition in rule.conditions[:3]:
        spec = field_spec(condition["field"])
        shown = _shown(condition["field"], facts)
        if spec is not None and spec.choices:
            shown = str(dict(spec.choices).get(shown, shown))  # "channel Web form", not "channel web_form"
        parts.append(f"{spec.label if spec else condition['field']} {shown or '—'}")
    return ", ".join(parts)


# --- targets ---------------------------------------------------------------------------------------------


@dataclass
class Candidate:
    id: int
    name: str
    capacity: int | None
    load: int = 0
    open: int = 0


@dataclass
class Pick:
    owner: Membership | None
    team: Team | None
    reason: str
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class RoutingContext:
    tenant_id: int
    today: dt.date
    week_start: dt.datetime
    exclude: frozenset[int]
    lock: bool


class RoutingTarget(Protocol):
    """A kind of target: resolve a rule to an owner and/or team, or None to let the next rule decide."""

    def pick(self, rule: CompiledRule, why: str, ctx: RoutingContext) -> Pick | None: ...


TARGETS: dict[str, RoutingTarget] = {}


def register_target(kind: str, target: RoutingTarget) -> None:
    """Partners and call lists plug in here later with their own RoutingRule.Target value."""
    TARGETS[kind] = target


def _member_rows(
    ctx: RoutingContext, *, team_id: int | None = None, member_id: int | None = None, open_counts: bool = False
) -> list[dict]:
    """The target's members with all routing needs, in one query: availability, profile, this week's load,
    open leads (for "fewest open") and the team's round-robin pointer, and what the assignment notification
    needs (language, e-mail choice). Plain SQL: it runs on every decision."""
    ops = connection.ops
    lead, member, user = Lead._meta.db_table, Membership._meta.db_table, "accounts_user"
    open_statuses = sorted(states.OPEN)
    placeholders = ", ".join(["%s"] * len(open_statuses))
    open_sql = "0"
    if open_counts:
        open_sql = f"(SELECT COUNT(*) FROM {lead} l WHERE l.tenant_id = %s AND l.owner_id = m.id AND l.status IN ({placeholders}))"  # noqa: E501, S608
    # only table names and placeholders are interpolated into the SQL
    sql = f"""
        SELECT m.id, m.user_id, u.full_name, u.email, m.is_active, m.role, m.team_id, t.name,
               p.takes_leads, p.weekly_capacity, u.language, tn.locale, p.id, p.email_on_assignment,
               EXISTS(SELECT 1 FROM {Absence._meta.db_table} a
                      WHERE a.membership_id = m.id AND a.starts_on <= %s AND a.ends_on >= %s),
               CASE WHEN p.weekly_capacity IS NULL THEN 0 ELSE
                    (SELECT COUNT(*) FROM {lead} l WHERE l.tenant_id = %s AND l.owner_id = m.id
                     AND l.assigned_at >= %s) END,
               {open_sql},
               (SELECT s.last_member_id FROM {TeamRoutingState._meta.db_table} s WHERE s.team_id = m.team_id)
        FROM {member} m
        JOIN {user} u ON u.id = m.user_id
        JOIN {Tenant._meta.db_table} tn ON tn.id = m.tenant_id
        LEFT JOIN {Team._meta.db_table} t ON t.id = m.team_id
        LEFT JOIN {LeadProfile._meta.db_table} p ON p.membership_id = m.id
        WHERE m.tenant_id = %s AND {"m.team_id" if team_id is not None else "m.id"} = %s
        ORDER BY m.id"""  # noqa: S608
    today = ops.adapt_datefield_value(ctx.today)
    params: list[Any] = [today, today, ctx.tenant_id, ops.adapt_datetimefield_value(ctx.week_start)]
    if open_counts:
        params += [ctx.tenant_id, *open_statuses]
    params += [ctx.tenant_id, team_id if team_id is not None else member_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = ("pk", "user_id", "full_name", "email", "is_active", "role", "team_id", "team_name", "takes_leads",
                 "capacity", "language", "locale", "profile_id", "email_on_assignment", "absent", "load", "open",
                 "last_member_id")  # fmt: skip
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _unavailable(row: dict, ctx: RoutingContext) -> str | None:
    if row["pk"] in ctx.exclude:
        return _("excluded")
    if not row["is_active"]:
        return _("inactive")
    if row["role"] not in LEAD_WORKERS:
        return _("role does not work leads")
    if row["takes_leads"] is not None and not row["takes_leads"]:
        return _("takes no leads")
    if row["absent"]:
        return _("absent today")
    return None


def _weekly_loads(ctx: RoutingContext, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = (
        Lead.objects.filter(tenant_id=ctx.tenant_id, owner_id__in=ids, assigned_at__gte=ctx.week_start)
        .values("owner_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {r["owner_id"]: r["n"] for r in rows}


def _serialized() -> bool:
    """SQLite inside a transaction: it began IMMEDIATE, so no other writer runs until it ends and what this
    transaction has read stays current. The row locks and re-reads PostgreSQL needs would only cost queries."""
    return connection.vendor == "sqlite" and connection.in_atomic_block


def _has_room(candidate: Candidate, ctx: RoutingContext) -> bool:
    """Under lock: the member's profile row is held, then their load counted, so capacity is never overshot."""
    if candidate.capacity is None:
        return True
    if ctx.lock and not _serialized():
        LeadProfile.objects.select_for_update().filter(membership_id=candidate.id).first()
        candidate.load = _weekly_loads(ctx, [candidate.id]).get(candidate.id, 0)
    return candidate.load < candidate.capacity


def _name(row: dict) -> str:
    return row["full_name"] or row["email"]


def _candidates(rows: list[dict], ctx: RoutingContext, skipped: list[tuple[str, str]]) -> list[Candidate]:
    available = []
    for row in rows:
        why = _unavailable(row, ctx)
        if why is None and row["capacity"] is not None and row["load"] >= row["capacity"]:
            why = _("weekly capacity of %(n)s reached") % {"n": row["capacity"]}
        if why:
            skipped.append((_name(row), why))
            continue
        available.append(Candidate(row["pk"], _name(row), row["capacity"], row["load"], row["open"]))
    return available


def _member(candidate: Candidate, rows: list[dict], ctx: RoutingContext) -> Membership:
    """The chosen member, built from its row (read in this transaction, after the team's lock): at once when
    the lead is assigned to it, else when first used (a decision that is only looked at, like the benchmark's,
    never pays for model instances)."""
    row = next(r for r in rows if r["pk"] == candidate.id)
    if ctx.lock:
        return _member_from_row(row, ctx.tenant_id)
    return SimpleLazyObject(lambda: _member_from_row(row, ctx.tenant_id))


def _member_from_row(row: dict, tenant_id: int) -> Membership:
    """The member with its user, tenant (locale only) and lead profile attached, as the assignment notification
    reads them, so it need not fetch them again."""
    from leadwerk.accounts.models import User

    member = Membership(pk=row["pk"], tenant_id=tenant_id, role=row["role"], team_id=row["team_id"],
                        is_active=row["is_active"])  # fmt: skip
    member.user = User(pk=row["user_id"], full_name=row["full_name"] or "", email=row["email"],
                       language=row["language"])  # fmt: skip
    member.tenant = Tenant(pk=tenant_id, locale=row["locale"])
    profile = None
    if row["profile_id"] is not None:
        profile = LeadProfile(pk=row["profile_id"], tenant_id=tenant_id, membership_id=row["pk"],
                              weekly_capacity=row["capacity"], takes_leads=row["takes_leads"],
                              email_on_assignment=row["email_on_assignment"])  # fmt: skip
    Membership.lead_profile.related.set_cached_value(member, profile)  # None: no profile (defaults apply)
    if row["team_id"] is not None:
        member.team = Team(pk=row["team_id"], tenant_id=tenant_id, name=row["team_name"])
    return member


class UserTarget:
    def pick(self, rule: CompiledRule, why: str, ctx: RoutingContext) -> Pick | None:
        if rule.target_member_id is None:
            return None
        skipped: list[tuple[str, str]] = []
        rows = _member_rows(ctx, member_id=rule.target_member_id)
        available = _candidates(rows, ctx, skipped)
        if ctx.lock and not _serialized() and available and available[0].capacity is not None and rows[0]["team_id"]:
            # the same lock order as a team target (team row, then profile row), so the two never deadlock
            TeamTarget._lock_state(rows[0]["team_id"], ctx)
        if not available or not _has_room(available[0], ctx):
            if available:
                skipped.append((available[0].name, _("weekly capacity reached")))
            return Pick(None, None, "", skipped)  # no owner: the next matching rule decides
        member = _member(available[0], rows, ctx)
        reason = _("%(why)s, to %(member)s") % {"why": why, "member": available[0].name}
        row = rows[0]
        team = Team(pk=row["team_id"], tenant_id=ctx.tenant_id, name=row["team_name"]) if row["team_id"] else None
        return Pick(member, team, reason, skipped)


class TeamTarget:
    def pick(self, rule: CompiledRule, why: str, ctx: RoutingContext) -> Pick | None:
        if rule.target_team_id is None:
            return None
        if ctx.lock and not _serialized():
            self._lock_state(rule.target_team_id, ctx)
        fewest = rule.strategy == RoutingRule.Strategy.FEWEST_OPEN
        rows = _member_rows(ctx, team_id=rule.target_team_id, open_counts=fewest)
        if rows:
            team = Team(pk=rule.target_team_id, tenant_id=ctx.tenant_id, name=rows[0]["team_name"])
        else:
            team = Team.objects.filter(tenant_id=ctx.tenant_id, pk=rule.target_team_id).first()
            if team is None:
                return None
        skipped: list[tuple[str, str]] = []
        available = _candidates(rows, ctx, skipped)
        if fewest:
            ordered = sorted(available, key=lambda c: (c.open, c.id))
        else:
            last = rows[0]["last_member_id"] if rows else None
            after = [c for c in available if last is not None and c.id > last]
            ordered = after + [c for c in available if c not in after]
        strategy = RoutingRule.Strategy(rule.strategy).label
        for candidate in ordered:
            if _has_room(candidate, ctx):
                member = _member(candidate, rows, ctx)
                if ctx.lock and not fewest:
                    moved = TeamRoutingState.objects.filter(team_id=team.pk).update(
                        last_member=member, updated_at=timezone.now()
                    )
                    if not moved:  # SQLite, the team's first round-robin pick (PostgreSQL created it to lock it)
                        TeamRoutingState.objects.create(tenant_id=ctx.tenant_id, team_id=team.pk, last_member=member)
                reason = _("%(why)s in %(team)s, %(strategy)s") % {"why": why, "team": team.name, "strategy": strategy}
                return Pick(member, team, reason, skipped)
            skipped.append((candidate.name, _("weekly capacity reached")))
        reason = _("%(why)s in %(team)s; nobody can take it now, so it waits in the team inbox") % {
            "why": why,
            "team": team.name,
        }
        return Pick(None, team, reason, skipped)

    @staticmethod
    def _lock_state(team_id: int, ctx: RoutingContext) -> None:
        """Hold the team's routing row while choosing, so concurrent routings into the team queue up."""
        if TeamRoutingState.objects.select_for_update().filter(team_id=team_id).exists():
            return
        try:
            with transaction.atomic():
                TeamRoutingState.objects.create(tenant_id=ctx.tenant_id, team_id=team_id)
        except IntegrityError:
            pass  # another worker created it first; its row is locked below
        TeamRoutingState.objects.select_for_update().filter(team_id=team_id).exists()


register_target(RoutingRule.Target.USER, UserTarget())
register_target(RoutingRule.Target.TEAM, TeamTarget())


# --- deciding --------------------------------------------------------------------------------------------


@dataclass
class Decision:
    rule: CompiledRule | None
    owner: Membership | None
    team: Team | None
    reason: str
    skipped: list[tuple[str, str]] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)  # matching rules that could not place the lead


def _context(tenant_id: int, tz: str, exclude: Iterable[Membership | int], lock: bool) -> RoutingContext:
    zone = ZoneInfo(tz)
    today = timezone.now().astimezone(zone).date()
    monday = today - dt.timedelta(days=today.weekday())
    ids = frozenset(m if isinstance(m, int) else m.pk for m in exclude if m is not None)
    return RoutingContext(tenant_id, today, dt.datetime.combine(monday, dt.time(0), tzinfo=zone), ids, lock)


def route_decide(
    lead: Lead,
    *,
    exclude_members: Iterable[Membership | int] = (),
    person: Person | None = None,
    organization: Organization | None = None,
    tenant_tz: str | None = None,
    lock: bool = False,
) -> Decision:
    """Which rule and target win for this lead, and why. No writes (apart from the round-robin pointer under lock)."""
    if tenant_tz is None:
        from leadwerk.accounts.models import Tenant

        tenant_tz = Tenant.objects.values_list("timezone", flat=True).get(pk=lead.tenant_id)
    ctx = _context(lead.tenant_id, tenant_tz, exclude_members, lock)
    facts = lead_facts(lead, person, organization)
    passed: list[str] = []
    skipped: list[tuple[str, str]] = []
    for rule in compiled_ruleset(lead.tenant_id).candidates(facts):
        if not rule.matches(facts):
            continue
        target = TARGETS.get(rule.target)
        pick = target.pick(rule, describe_match(rule, facts), ctx) if target else None
        if pick is not None:
            skipped.extend(pick.skipped)
        if pick is None or (pick.owner is None and pick.team is None):
            passed.append(rule.name)
            continue
        return Decision(rule, pick.owner, pick.team, pick.reason, skipped, passed)
    return Decision(None, None, None, _("No routing rule applies."), skipped, passed)


# --- services --------------------------------------------------------------------------------------------


def lead_route(
    lead: Lead, *, by: Membership | None = None, exclude_members: Iterable[Membership] = (), fresh: bool = False
) -> Lead | None:
    """Route a lead by the tenant's rules; None when it is taken, closed, or no rule places it anywhere new.

    ``by`` None is the system (capture, jobs); a member must be an admin or manager. ``exclude_members``
    re-routes a lead away from its current owner (the SLA job). ``fresh``: the caller created ``lead`` in the
    open transaction (capture), so no other transaction can see it yet: it is routed as it is, without
    locking and reading it again, and without a savepoint (the capture fails whole if routing fails).
    """
    with transaction.atomic(savepoint=not fresh):
        return _lead_route(lead, by=by, exclude_members=exclude_members, fresh=fresh)


def _lead_route(
    lead: Lead, *, by: Membership | None, exclude_members: Iterable[Membership], fresh: bool
) -> Lead | None:
    from . import services

    if by is not None:
        services._require(by, LEAD_ADMINS, lead)
    excluded = [m for m in exclude_members if m is not None]
    excluded_ids = {m if isinstance(m, int) else m.pk for m in excluded}
    if fresh:
        locked = lead
        tenant_tz = sla.tenant_timezone(lead.tenant_id)
    else:
        locked = (
            Lead.objects.select_for_update(of=("self",))
            .select_related("person", "organization", "interest", "tenant")
            .filter(pk=lead.pk)
            .first()
        )
        tenant_tz = locked.tenant.timezone if locked is not None else ""
    if locked is None or locked.status not in states.OPEN:
        return None
    if locked.owner_id is not None and locked.owner_id not in excluded_ids:
        return None  # someone routed or took it meanwhile
    for attempt in range(3):
        try:
            # a savepoint: a deadlock victim rolls back its target locks and retries (PostgreSQL; SQLite's
            # writers are serialised, meet no deadlock and would only pay for the savepoint)
            with transaction.atomic(savepoint=connection.vendor == "postgresql"):
                decision = route_decide(locked, exclude_members=excluded, tenant_tz=tenant_tz, lock=True)
            break
        except OperationalError:
            # PostgreSQL breaks lock cycles between rules of different teams by failing one side; the lead row
            # lock (taken before the savepoint) is kept, so deciding again is safe
            if attempt == 2 or connection.vendor != "postgresql":
                raise
    if decision.rule is None:
        return None
    owner_id = decision.owner.pk if decision.owner else None
    team_id = decision.team.pk if decision.team else None
    if owner_id == locked.owner_id and team_id == locked.team_id:
        return None  # e.g. still nobody free in the team inbox: nothing new, no event
    services._assign(
        locked,
        by,
        decision.owner,
        decision.team,
        reason=decision.reason,
        version=locked.version,
        rule=decision.rule.name,
        extra={"routing_rule_id": decision.rule.id},  # in the assignment's write, not one of its own
    )
    if lead is not locked:
        lead.refresh_from_db()
    return locked


def route_unassigned(tenant_id: int, *, include_unmatched: bool = False, limit: int = 500) -> int:
    """Hand leads waiting in a team inbox (nobody could take them when they came in) to a member; with
    ``include_unmatched`` also open leads no rule placed. Returns how many got an owner."""
    leads = Lead.objects.filter(tenant_id=tenant_id, owner__isnull=True, status__in=states.OPEN)
    if not include_unmatched:
        leads = leads.filter(team__isnull=False, routing_rule__isnull=False)
    count = 0
    for lead in leads.order_by("captured_at", "pk")[:limit]:
        routed = lead_route(lead)
        if routed is not None and routed.owner_id is not None:
            count += 1
    return count


def route_waiting_all() -> int:
    """The worker's job: ``route_unassigned`` for every tenant that has leads waiting in a team inbox."""
    tenants = (
        Lead.objects.filter(owner__isnull=True, team__isnull=False, routing_rule__isnull=False, status__in=states.OPEN)
        .values_list("tenant_id", flat=True)
        .distinct()
    )
    return sum(route_unassigned(tenant_id) for tenant_id in list(tenants))


# --- configuration services --------------------------------------------------------------------------------


def _admin(by: Membership) -> None:
    from .services import _require

    _require(by, LEAD_ADMINS)


def _clean_rule(by: Membership, data: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    name = " ".join(str(data.get("name") or "").split())
    if not name:
        raise ValidationFailed(_("Enter a name."), field="name")
    if len(name) > 120:
        raise ValidationFailed(_("At most 120 characters."), field="name")
    clean["name"] = name
    clean["conditions"] = clean_conditions(data.get("conditions"))
    clean["active"] = bool(data.get("active", True))
    target = data.get("target") or RoutingRule.Target.TEAM
    if target not in RoutingRule.Target.values or target not in TARGETS:
        raise ValidationFailed(_("Choose a person or a team."), field="target")
    clean["target"] = target
    member, team = data.get("target_member"), data.get("target_team")
    strategy = data.get("strategy") or RoutingRule.Strategy.ROUND_ROBIN
    if strategy not in RoutingRule.Strategy.values:
        raise ValidationFailed(_("Choose round robin or fewest open leads."), field="strategy")
    clean["strategy"] = strategy
    if target == RoutingRule.Target.USER:
        if member is None:
            raise ValidationFailed(_("Choose the person who gets the leads."), field="target_member")
        if member.tenant_id != by.tenant_id or not member.is_active or member.role not in LEAD_WORKERS:
            raise ValidationFailed(_("Choose an active member who works leads."), field="target_member")
        clean["target_member"], clean["target_team"] = member, None
    else:
        if team is None:
            raise ValidationFailed(_("Choose the team that gets the leads."), field="target_team")
        if team.tenant_id != by.tenant_id:
            raise ValidationFailed(_("Choose a team of this tenant."), field="target_team")
        clean["target_team"], clean["target_member"] = team, None
    return clean


@transaction.atomic
def routing_rule_create(*, by: Membership, data: dict[str, Any]) -> RoutingRule:
    """A new rule goes last (before nothing): rules are checked in order, so the admin moves it up if needed."""
    _admin(by)
    clean = _clean_rule(by, data)
    last = RoutingRule.objects.filter(tenant_id=by.tenant_id).aggregate(p=Max("position"))["p"]
    return RoutingRule.objects.create(tenant_id=by.tenant_id, position=(last or 0) + 1, **clean)


@transaction.atomic
def routing_rule_update(*, rule: RoutingRule, by: Membership, data: dict[str, Any]) -> RoutingRule:
    _admin(by)
    if rule.tenant_id != by.tenant_id:
        from .services import NotAllowed

        raise NotAllowed()
    current = {
        "name": rule.name, "conditions": rule.conditions, "active": rule.active, "target": rule.target,
        "target_member": rule.target_member, "target_team": rule.target_team, "strategy": rule.strategy,
    }  # fmt: skip
    clean = _clean_rule(by, {**current, **data})
    for key, value in clean.items():
        setattr(rule, key, value)
    rule.save()
    return rule


@transaction.atomic
def routing_rule_delete(*, rule: RoutingRule, by: Membership) -> None:
    """Leads keep their assignment; their ``routing_rule`` link is cleared."""
    _admin(by)
    RoutingRule.objects.filter(tenant_id=by.tenant_id, pk=rule.pk).delete()


@transaction.atomic
def routing_rules_reorder(*, by: Membership, ids: list[int]) -> list[RoutingRule]:
    """Set the order of all the tenant's rules at once (every rule exactly once)."""
    _admin(by)
    rules = {r.pk: r for r in RoutingRule.objects.select_for_update().filter(tenant_id=by.tenant_id)}
    if len(ids) != len(set(ids)) or set(ids) != set(rules):
        raise ValidationFailed(_("Send every rule of this tenant exactly once."), field="ids")
    now = timezone.now()
    for position, pk in enumerate(ids, start=1):
        RoutingRule.objects.filter(pk=pk).update(position=position, updated_at=now)
    return list(RoutingRule.objects.filter(tenant_id=by.tenant_id).order_by("position", "id"))


def routing_rule_move(*, rule: RoutingRule, by: Membership, up: bool) -> None:
    """Swap a rule with its neighbour above or below."""
    ids = list(
        RoutingRule.objects.filter(tenant_id=by.tenant_id).order_by("position", "id").values_list("pk", flat=True)
    )
    if rule.pk not in ids:
        from .services import NotAllowed

        raise NotAllowed()
    i = ids.index(rule.pk)
    j = i - 1 if up else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
    routing_rules_reorder(by=by, ids=ids)


def lead_workers(tenant_id: int):
    """The members routing can consider, for the capacity screen and API."""
    return (
        Membership.objects.filter(tenant_id=tenant_id, is_active=True, role__in=LEAD_WORKERS)
        .select_related("user", "team", "lead_profile")
        .order_by("team__name", "user__full_name", "pk")
    )


def week_loads(tenant_id: int, tz: str, member_ids: list[int]) -> dict[int, int]:
    """Leads assigned to each member since Monday 00:00 tenant time (what weekly capacity counts)."""
    return _weekly_loads(_context(tenant_id, tz, (), False), member_ids)


@transaction.atomic
def lead_profile_set(
    *, by: Membership, member: Membership, weekly_capacity: int | None = ..., takes_leads: bool | None = None
) -> LeadProfile:
    """Set a member's weekly capacity (None: no limit) and whether routing may pick them."""
    _admin(by)
    if member.tenant_id != by.tenant_id:
        from .services import NotAllowed

        raise NotAllowed()
    if member.role not in LEAD_WORKERS:
        raise ValidationFailed(_("This member's role cannot work leads."), field="membership_id")
    profile, _created = LeadProfile.objects.select_for_update().get_or_create(
        membership=member, defaults={"tenant_id": member.tenant_id}
    )
    if weekly_capacity is not ...:
        if weekly_capacity is not None and (isinstance(weekly_capacity, bool) or not 0 <= weekly_capacity <= 10_000):
            raise ValidationFailed(_("Enter a number from 0 to 10,000, or leave it empty for no limit."),
                                   field="weekly_capacity")  # fmt: skip
        profile.weekly_capacity = weekly_capacity
    if takes_leads is not None:
        profile.takes_leads = bool(takes_leads)
    profile.save()
    return profile


@transaction.atomic
def absence_add(*, by: Membership, member: Membership, starts_on: dt.date, ends_on: dt.date, note: str = "") -> Absence:
    """Routing skips the member on these days (both included)."""
    _admin(by)
    if member.tenant_id != by.tenant_id or not member.is_active:
        raise ValidationFailed(_("Choose an active member of this tenant."), field="membership_id")
    if starts_on is None:
        raise ValidationFailed(_("Enter the first day."), field="starts_on")
    if ends_on is None:
        raise ValidationFailed(_("Enter the last day."), field="ends_on")
    if ends_on < starts_on:
        raise ValidationFailed(_("The last day must not lie before the first."), field="ends_on")
    if (ends_on - starts_on).days > 366:
        raise ValidationFailed(_("An absence can last at most a year."), field="ends_on")
    return Absence.objects.create(
        tenant_id=by.tenant_id,
        membership=member,
        starts_on=starts_on,
        ends_on=ends_on,
        note=" ".join(note.split())[:200],
    )


@transaction.atomic
def absence_remove(*, by: Membership, absence: Absence) -> None:
    _admin(by)
    Absence.objects.filter(tenant_id=by.tenant_id, pk=absence.pk).delete()
