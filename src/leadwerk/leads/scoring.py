"""Rule scoring: points for fit (lead, person, organisation fields and attributes) and engagement (responses,
activities, reached contacts, with decay and caps); grades A–D from the score or the predictive probability.

One engine serves both paths: ``lead_score`` (one lead, after every relevant change) and ``score_recompute``
(all leads of a tenant, set-based). Both read the same columns with ``values_list`` and run the same compiled
rules, so a lead gets the same score either way. Rules are compiled once into closures over a row tuple.

Writes of the score do not bump the lead's ``version``: a score is derived data, and a recompute must not turn
a colleague's open form into a conflict.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadwerk.accounts.models import Membership
from leadwerk.contacts.models import AttributeDefinition, ConsentStatus, Organization
from leadwerk.core.exceptions import NotFound, ValidationFailed
from leadwerk.core.memo import memoized

from . import predictive
from .models import (
    Activity,
    Channel,
    Grade,
    InterestCategory,
    Lead,
    LeadEvent,
    QualificationQuestion,
    Rating,
    ScoringRule,
    ScoringSettings,
    Timeline,
)
from .roles import LEAD_ADMINS

Op = ScoringRule.Operator

# --- the field catalogue ------------------------------------------------------------------------------

TEXT, CHOICE, NUMBER, BOOL, MULTI, DATE, COUNT = "text", "choice", "number", "bool", "multi", "date", "count"
OPERATORS: dict[str, tuple[str, ...]] = {
    TEXT: (Op.EQUALS, Op.NOT_EQUALS, Op.IN, Op.PREFIX, Op.CONTAINS, Op.SET, Op.UNSET),
    CHOICE: (Op.EQUALS, Op.NOT_EQUALS, Op.IN, Op.SET, Op.UNSET),
    NUMBER: (Op.EQUALS, Op.NOT_EQUALS, Op.AT_LEAST, Op.AT_MOST, Op.SET, Op.UNSET),
    BOOL: (Op.EQUALS, Op.SET, Op.UNSET),
    MULTI: (Op.CONTAINS, Op.IN, Op.SET, Op.UNSET),
    DATE: (Op.AT_LEAST, Op.AT_MOST, Op.SET, Op.UNSET),
    COUNT: (Op.COUNT,),
}
NO_VALUE = frozenset({Op.SET, Op.UNSET})
LIST_VALUE = frozenset({Op.IN})
# Outcomes that mean a conversation took place ("reached contacts").
REACHED = (Activity.Outcome.REACHED, Activity.Outcome.INTERESTED, Activity.Outcome.CALLBACK)
CONTACT_ACTIVITIES = (Activity.Kind.CALL, Activity.Kind.EMAIL, Activity.Kind.MEETING)
CHUNK = 20_000


@dataclass(frozen=True)
class FieldSpec:
    """One field rules can test: where its value comes from (``columns`` of a Lead ``values_list``, combined
    by ``derive``), its kind (which operators and value widget fit), and the values offered for choices."""

    key: str
    label: str
    group: str
    kind: str
    columns: tuple[str, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()
    derive: Callable[..., Any] | None = field(default=None, compare=False)

    @property
    def operators(self) -> tuple[str, ...]:
        return OPERATORS[self.kind]


def _filled(value: Any) -> bool:
    return value not in (None, "", [], {})


def _json_get(key: str) -> Callable[[Any], Any]:
    def get(data: Any) -> Any:
        if isinstance(data, str):  # a JSON column read through a join may come back as text
            data = json.loads(data or "{}")
        return data.get(key) if isinstance(data, dict) else None

    return get


def _static_fields() -> list[FieldSpec]:
    lead, person, org = _("Lead"), _("Person"), _("Organisation")
    consent = tuple(ConsentStatus.choices)
    yes = lambda value: _filled(value)  # noqa: E731
    return [
        FieldSpec("lead.channel", _("Channel"), lead, CHOICE, ("channel",), tuple(Channel.choices)),
        FieldSpec("lead.source", _("Source"), lead, TEXT, ("source",)),
        FieldSpec("lead.interest", _("Interest"), lead, CHOICE, ("interest__key",)),
        FieldSpec("lead.budget", _("Budget"), lead, NUMBER, ("budget",)),
        FieldSpec("lead.authority", _("Decision maker reached"), lead, BOOL, ("authority",)),
        FieldSpec("lead.need", _("Need"), lead, TEXT, ("need",)),
        FieldSpec("lead.timeline", _("Timeline"), lead, CHOICE, ("timeline",), tuple(Timeline.choices)),
        FieldSpec("lead.estimated_value", _("Estimated value"), lead, NUMBER, ("estimated_value",)),
        FieldSpec("lead.rating", _("Rating"), lead, CHOICE, ("rating",), tuple(Rating.choices)),
        FieldSpec("person.postcode", _("Postcode"), person, TEXT, ("person__postcode",)),
        FieldSpec("person.country", _("Country"), person, TEXT, ("person__country",)),
        FieldSpec("person.position", _("Position / function"), person, TEXT, ("person__position",)),
        FieldSpec("person.department", _("Department"), person, TEXT, ("person__department",)),
        FieldSpec("person.language", _("Language"), person, TEXT, ("person__language",)),
        FieldSpec("person.has_email", _("Has an e-mail address"), person, BOOL, ("person__email",), derive=yes),
        FieldSpec(
            "person.has_phone",
            _("Has a phone number"),
            person,
            BOOL,
            ("person__phone", "person__mobile"),
            derive=lambda phone, mobile: _filled(phone) or _filled(mobile),
        ),
        FieldSpec("person.consent_email", _("E-mail consent"), person, CHOICE, ("person__consent_email",), consent),
        FieldSpec("person.consent_phone", _("Phone consent"), person, CHOICE, ("person__consent_phone",), consent),
        FieldSpec(
            "organization.employees",
            _("Employees"),
            org,
            CHOICE,
            ("organization__employees",),
            tuple(Organization.Employees.choices),
        ),
        FieldSpec(
            "organization.revenue",
            _("Annual revenue"),
            org,
            CHOICE,
            ("organization__revenue",),
            tuple(Organization.Revenue.choices),
        ),
        FieldSpec("organization.industry_code", _("Industry (WZ code)"), org, TEXT, ("organization__industry_code",)),
        FieldSpec(
            "organization.legal_form",
            _("Legal form"),
            org,
            CHOICE,
            ("organization__legal_form",),
            tuple(Organization.LegalForm.choices),
        ),
        FieldSpec("organization.country", _("Country of the organisation"), org, TEXT, ("organization__country",)),
    ]


def _engagement_fields() -> list[FieldSpec]:
    group = _("Engagement")
    return [
        FieldSpec("engagement.response", _("Responses (after capture)"), group, COUNT),
        FieldSpec(
            "engagement.activity",
            _("Calls, e-mails and meetings"),
            group,
            COUNT,
            choices=tuple((k, Activity.Kind(k).label) for k in CONTACT_ACTIVITIES),
        ),
        FieldSpec("engagement.reached", _("Reached contacts"), group, COUNT),
    ]


ATTRIBUTE_KINDS = {
    AttributeDefinition.Type.TEXT: TEXT,
    AttributeDefinition.Type.NUMBER: NUMBER,
    AttributeDefinition.Type.DATE: DATE,
    AttributeDefinition.Type.BOOLEAN: BOOL,
    AttributeDefinition.Type.CHOICE: CHOICE,
    AttributeDefinition.Type.MULTICHOICE: MULTI,
}
QUESTION_KINDS = {
    QualificationQuestion.Kind.TEXT: TEXT,
    QualificationQuestion.Kind.NUMBER: NUMBER,
    QualificationQuestion.Kind.DATE: DATE,
    QualificationQuestion.Kind.YES_NO: BOOL,
    QualificationQuestion.Kind.CHOICE: CHOICE,
    QualificationQuestion.Kind.MULTI: MULTI,
}


def _choice_pairs(values: Iterable[Any]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values or ():
        if isinstance(value, Mapping):  # {"value": …, "label": …}
            pairs.append((str(value.get("value", value.get("key", ""))), str(value.get("label", value.get("value")))))
        else:
            pairs.append((str(value), str(value)))
    return tuple(pairs)


def field_catalogue(tenant_id: int, *, keys: Iterable[str] | None = None) -> dict[str, FieldSpec]:
    """Every field a rule of this tenant can test, by key. ``keys`` limits the tenant-defined lookups to what
    the rules actually use (no query for questions or attributes when no rule needs them)."""
    wanted = set(keys) if keys is not None else None
    specs = _static_fields() + _engagement_fields()
    interests = next(s for s in specs if s.key == "lead.interest")
    if wanted is None or "lead.interest" in wanted:
        pairs = tuple(InterestCategory.objects.filter(tenant_id=tenant_id).values_list("key", "name"))
        specs[specs.index(interests)] = FieldSpec(
            interests.key, interests.label, interests.group, CHOICE, interests.columns, pairs
        )
    if wanted is None or any(k.startswith("lead.question.") for k in wanted):
        group = _("Qualification")
        for q in QualificationQuestion.objects.filter(tenant_id=tenant_id).order_by("position", "id"):
            specs.append(
                FieldSpec(
                    f"lead.question.{q.key}",
                    q.label,
                    group,
                    QUESTION_KINDS.get(q.kind, TEXT),
                    ("qualification",),
                    _choice_pairs(q.choices),
                    derive=_json_get(q.key),
                )
            )
    if wanted is None or any(k.startswith(("person.attr.", "organization.attr.")) for k in wanted):
        for a in AttributeDefinition.objects.filter(tenant_id=tenant_id).order_by("record_type", "position", "id"):
            person = a.record_type == AttributeDefinition.RecordType.PERSON
            prefix = "person" if person else "organization"
            specs.append(
                FieldSpec(
                    f"{prefix}.attr.{a.key}",
                    a.label,
                    _("Person attributes") if person else _("Organisation attributes"),
                    ATTRIBUTE_KINDS.get(a.type, TEXT),
                    (f"{prefix}__attributes",),
                    _choice_pairs(a.choices),
                    derive=_json_get(a.key),
                )
            )
    return {spec.key: spec for spec in specs}


# --- rule values: validation and comparison -------------------------------------------------------------


def _number(value: Any, field: str = "value") -> float:
    if isinstance(value, bool):
        raise ValidationFailed(_("Enter a number."), field=field)
    try:
        return float(Decimal(str(value).strip().replace(",", ".")))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(_("Enter a number."), field=field) from None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "1", "ja"}:
        return True
    if text in {"false", "no", "0", "nein"}:
        return False
    raise ValidationFailed(_("Choose yes or no."), field="value")


def _as_list(value: Any) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [value]


def rule_value_clean(spec: FieldSpec, operator: str, value: Any) -> Any:
    """The stored form of a rule's value for its field and condition; ValidationFailed(field="value") if it
    does not fit (a number for 'at least', one of the offered values for a choice field, …)."""
    if operator in NO_VALUE:
        return None
    if spec.kind == COUNT:
        # Engagement: an optional list of activity types to count (empty: all).
        kinds = [str(v) for v in _as_list(value)] if _filled(value) else []
        allowed = {k for k, _label in spec.choices}
        if kinds and (not allowed or set(kinds) - allowed):
            raise ValidationFailed(_("Choose from the offered values."), field="value")
        return kinds or None
    if not _filled(value):
        raise ValidationFailed(_("Enter the value to compare with."), field="value")
    if spec.kind == BOOL:
        return _bool(value)
    if spec.kind == NUMBER:
        return _number(value)
    if spec.kind == DATE:
        try:
            return dt.date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValidationFailed(_("Enter a date as YYYY-MM-DD."), field="value") from None
    many = operator in LIST_VALUE or (spec.kind == TEXT and operator == Op.PREFIX)
    if not many and isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValidationFailed(_("Choose one value for this condition."), field="value")
        value = value[0]
    values = [str(v).strip() for v in _as_list(value) if str(v).strip()] if many else [str(value).strip()]
    if not values or not values[0]:
        raise ValidationFailed(_("Enter the value to compare with."), field="value")
    if spec.kind in (CHOICE, MULTI) and spec.choices:
        allowed = {k for k, _label in spec.choices}
        if set(values) - allowed:
            raise ValidationFailed(_("Choose from the offered values."), field="value")
    if operator == Op.PREFIX and len(values) == 1:
        return values[0]
    return values if many else values[0]


def _fold(value: Any) -> str:
    return str(value).casefold().strip()


def _predicate(spec: FieldSpec, operator: str, value: Any) -> Callable[[Any], bool]:
    """A test of one field value, built once per rule (the recompute calls it a million times)."""
    if operator == Op.SET:
        return _filled
    if operator == Op.UNSET:
        return lambda v: not _filled(v)
    kind = spec.kind
    if kind == BOOL:
        wanted = bool(value)
        return lambda v: v is not None and bool(v) == wanted
    if kind == NUMBER:
        target = float(value)

        def number(v: Any) -> float | None:
            if v is None or v == "" or isinstance(v, bool):
                return None
            try:
                return float(v)
            except (TypeError, ValueError):
                return None

        match operator:
            case Op.AT_LEAST:
                return lambda v: (n := number(v)) is not None and n >= target
            case Op.AT_MOST:
                return lambda v: (n := number(v)) is not None and n <= target
            case Op.NOT_EQUALS:
                return lambda v: (n := number(v)) is None or n != target
        return lambda v: (n := number(v)) is not None and n == target
    if kind == DATE:
        target = str(value)
        if operator == Op.AT_LEAST:
            return lambda v: _filled(v) and str(v)[:10] >= target
        return lambda v: _filled(v) and str(v)[:10] <= target
    if kind == MULTI:
        wanted_set = {str(v) for v in _as_list(value)}
        if operator == Op.CONTAINS and len(wanted_set) == 1:
            (one,) = wanted_set
            return lambda v: one in {str(x) for x in _as_list(v)} if _filled(v) else False
        return lambda v: bool(wanted_set & {str(x) for x in _as_list(v)}) if _filled(v) else False
    if kind == CHOICE:
        if operator == Op.IN:
            options = frozenset(str(v) for v in value)
            return lambda v: v is not None and str(v) in options
        if operator == Op.NOT_EQUALS:
            return lambda v: v is None or str(v) != value
        return lambda v: v is not None and str(v) == value
    # Text compares without regard to case and surrounding blanks.
    match operator:
        case Op.IN:
            folded = frozenset(_fold(v) for v in value)
            return lambda v: _filled(v) and _fold(v) in folded
        case Op.PREFIX:
            prefixes = tuple(_fold(v) for v in _as_list(value))
            return lambda v: _filled(v) and _fold(v).startswith(prefixes)
        case Op.CONTAINS:
            part = _fold(value)
            return lambda v: _filled(v) and part in _fold(v)
        case Op.NOT_EQUALS:
            other = _fold(value)
            return lambda v: not _filled(v) or _fold(v) != other
    same = _fold(value)
    return lambda v: _filled(v) and _fold(v) == same


# --- the compiled engine ---------------------------------------------------------------------------------

# Columns every scoring read needs besides the rules' own.
BASE_COLUMNS = ("id", "score", "grade", "score_points", "probability", "score_model_id", "version")


@dataclass
class _Fit:
    rule_id: int
    label: str
    points: int
    get: Callable[[tuple], Any]
    test: Callable[[Any], bool]
    fragment: str = ""  # this rule's entry of score_points as JSON text

    def __post_init__(self) -> None:
        self.fragment = json.dumps({"rule": self.rule_id, "label": self.label, "points": self.points})


@dataclass
class _Engagement:
    rule_id: int
    label: str
    points: int
    cap: int | None
    half_life: int | None
    source: str  # response | activity | reached
    kinds: frozenset[str] | None
    head: str = ""  # the JSON text of its score_points entry up to the points
    decayed: str = "false"

    def __post_init__(self) -> None:
        self.head = json.dumps({"rule": self.rule_id, "label": self.label, "points": 0})[: -len("0}")]
        self.decayed = "true" if self.half_life else "false"


@dataclass
class Engine:
    tenant_id: int
    settings: ScoringSettings
    columns: list[str]
    fit: list[_Fit]
    engagement: list[_Engagement]
    active_model_id: int | None

    @property
    def has_rules(self) -> bool:
        return bool(self.fit or self.engagement)


@memoized
def scoring_settings(tenant_id: int) -> ScoringSettings:
    """The tenant's settings; defaults (unsaved) until an admin saves them."""
    return ScoringSettings.objects.filter(tenant_id=tenant_id).first() or ScoringSettings(tenant_id=tenant_id)


@memoized
def engine_build(tenant_id: int, *, model_id: int | None = None) -> Engine:
    """Compile the tenant's active rules into closures over one row of ``Engine.columns``."""
    rules = list(ScoringRule.objects.filter(tenant_id=tenant_id, active=True).order_by("position", "id"))
    specs = field_catalogue(tenant_id, keys={r.field for r in rules}) if rules else {}
    columns = list(BASE_COLUMNS)
    fit: list[_Fit] = []
    engagement: list[_Engagement] = []
    for rule in rules:
        spec = specs.get(rule.field)
        if spec is None or rule.operator not in spec.operators:
            continue  # a retired attribute or question: the rule gives nothing until it is fixed
        if spec.kind == COUNT:
            source = rule.field.split(".", 1)[1]
            kinds = frozenset(rule.value) if isinstance(rule.value, list) and rule.value else None
            engagement.append(
                _Engagement(rule.pk, rule.name, rule.points, rule.max_points, rule.half_life_days, source, kinds)
            )
            continue
        idx = []
        for column in spec.columns:
            if column not in columns:
                columns.append(column)
            idx.append(columns.index(column))
        if spec.derive is None:
            (i,) = idx
            get = lambda row, i=i: row[i]  # noqa: E731
        elif len(idx) == 1:
            get = lambda row, i=idx[0], d=spec.derive: d(row[i])  # noqa: E731
        else:
            get = lambda row, ix=tuple(idx), d=spec.derive: d(*(row[i] for i in ix))  # noqa: E731
        try:
            test = _predicate(spec, rule.operator, rule.value)
        except (TypeError, ValueError):
            continue
        fit.append(_Fit(rule.pk, rule.name, rule.points, get, test))
    if model_id is None:
        model = predictive.active_model(tenant_id)
        model_id = model.pk if model else None
    return Engine(tenant_id, scoring_settings(tenant_id), columns, fit, engagement, model_id)


def grade_for(settings: ScoringSettings, score: int, probability: float | None) -> str:
    """A–D from the probability thresholds when the model drives the grade and the lead has a probability
    from the active model, else from the score thresholds."""
    if settings.driver == ScoringSettings.Driver.MODEL and probability is not None:
        thresholds = (
            (settings.probability_a_min, Grade.A),
            (settings.probability_b_min, Grade.B),
            (settings.probability_c_min, Grade.C),
        )
        value: float = probability
    else:
        thresholds = ((settings.grade_a_min, Grade.A), (settings.grade_b_min, Grade.B), (settings.grade_c_min, Grade.C))
        value = score
    for minimum, grade in thresholds:
        if value >= minimum:
            return str(grade)
    return str(Grade.D)


Occurrence = tuple[str, str, float]  # activity kind, outcome, age in days


def _engagement_points(rule: _Engagement, occurrences: list[Occurrence]) -> tuple[float, int]:
    total, count = 0.0, 0
    for kind, outcome, age in occurrences:
        match rule.source:
            case "response":
                if kind != Activity.Kind.RESPONSE:
                    continue
            case "activity":
                if kind not in CONTACT_ACTIVITIES or (rule.kinds and kind not in rule.kinds):
                    continue
            case "reached":
                if outcome not in REACHED:
                    continue
            case _:
                continue
        count += 1
        total += rule.points * (0.5 ** (age / rule.half_life) if rule.half_life else 1.0)
    if rule.cap is not None:
        total = min(total, rule.cap) if rule.points >= 0 else max(total, rule.cap)
    return total, count


def evaluate(engine: Engine, row: tuple, occurrences: list[Occurrence]) -> tuple[int, str]:
    """The score of one row and the points behind it as JSON text (rules that gave nothing are left out).

    The text is exactly what ``json.dumps`` gives for [{rule, label, points, …}], built from fragments
    prepared per rule: a million ``json.dumps`` calls would cost more than the rules themselves."""
    parts: list[str] = []
    total = 0.0
    for rule in engine.fit:
        try:
            hit = rule.test(rule.get(row))
        except (TypeError, ValueError, AttributeError):
            hit = False
        if hit:
            total += rule.points
            parts.append(rule.fragment)
    for rule in engine.engagement:
        value, count = _engagement_points(rule, occurrences)
        if count:
            value = round(value, 1)
            total += value
            shown = int(value) if value == int(value) else value
            capped = "true" if rule.cap is not None and value == rule.cap else "false"
            parts.append(f'{rule.head}{shown}, "count": {count}, "decayed": {rule.decayed}, "capped": {capped}}}')
    score = max(0, min(int(engine.settings.max_score), round(total)))
    return score, "[" + ", ".join(parts) + "]"


# --- computing a set of leads ---------------------------------------------------------------------------


@dataclass
class Scored:
    lead_id: int
    version: int
    before: tuple[int, str]
    score: int
    grade: str
    points: str  # JSON text
    points_changed: bool

    @property
    def changed(self) -> bool:
        return self.before != (self.score, self.grade) or self.points_changed


def _occurrences(engine: Engine, lead_ids: Iterable[int] | tuple[int, int], now: dt.datetime):
    """Engagement per lead: (kind, outcome, age in days) of each activity the rules count."""
    per_lead: dict[int, list[Occurrence]] = defaultdict(list)
    if not isinstance(lead_ids, tuple):
        lead_ids = list(lead_ids)
    if not engine.engagement or not lead_ids:
        return per_lead
    sources = {r.source for r in engine.engagement}
    kinds: set[str] = set()
    if "response" in sources:
        kinds.add(Activity.Kind.RESPONSE)
    if sources & {"activity", "reached"}:
        kinds.update(CONTACT_ACTIVITIES)
    if "reached" in sources:
        kinds.add(Activity.Kind.NOTE)  # a note can record a reached contact too
    rows = Activity.objects.filter(tenant_id=engine.tenant_id, kind__in=sorted(kinds))
    if isinstance(lead_ids, tuple):
        rows = rows.filter(lead_id__gte=lead_ids[0], lead_id__lte=lead_ids[1])
    else:
        rows = rows.filter(lead_id__in=lead_ids)
    now_utc = now.astimezone(dt.UTC).replace(tzinfo=None)
    for lead_id, kind, outcome, at in _raw(rows.values_list("lead_id", "kind", "outcome", "at")):
        if isinstance(at, str):  # SQLite: naive UTC text
            at = dt.datetime.fromisoformat(at)
        elif at.tzinfo is not None:
            at = at.astimezone(dt.UTC).replace(tzinfo=None)
        age = (now_utc - at).total_seconds() / 86400
        per_lead[lead_id].append((kind, outcome, age if age > 0 else 0.0))
    return per_lead


def _raw(values_list) -> list[tuple]:
    """The rows of a values_list query without Django's per-value converters (JSON stays text on SQLite,
    decimals come as numbers, datetimes as text): the rules and the engagement reader accept both forms."""
    sql, params = values_list.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _score_rows(engine: Engine, leads, lead_ids, now: dt.datetime) -> list[Scored]:
    rows = _raw(leads.values_list(*engine.columns))
    occurrences = _occurrences(engine, lead_ids, now)
    settings = engine.settings
    reorders = connection.vendor != "sqlite"
    out = []
    for row in rows:
        lead_id, old_score, old_grade, old_points, probability, model_id, version = row[:7]
        if engine.has_rules:
            score, points = evaluate(engine, row, occurrences.get(lead_id, ()))
        else:
            score, points = 0, "[]"
        from_model = probability if model_id is not None and model_id == engine.active_model_id else None
        # Nothing configured: the lead stays ungraded rather than graded D.
        graded = engine.has_rules or from_model is not None
        grade = grade_for(settings, score, from_model) if graded else ""
        # The stored text: on SQLite as json.dumps wrote it (as ``points`` is built), so equal text is equal
        # points; PostgreSQL's jsonb text orders the keys its own way, so there unequal text is parsed.
        if isinstance(old_points, str):
            differs = old_points != points and (not reorders or json.loads(old_points) != json.loads(points))
        else:
            differs = old_points != json.loads(points)
        out.append(Scored(lead_id, version, (old_score, old_grade), score, grade, points, differs))
    return out


def _write_changes(
    engine: Engine, results: list[Scored], *, by: Membership | int | None, reason: str, now
) -> tuple[int, int]:
    """One executemany UPDATE for the changed rows, one bulk INSERT of score events for changed scores/grades.

    The update is guarded by the version read, so a lead someone edited meanwhile is left to its own hook."""
    changed = [r for r in results if r.changed]
    if not changed:
        return 0, 0
    # Raw executemany: the ORM's per-object work (model instances, field preparation) would cost more than
    # the database does for a million rows.
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(now)
    json_param = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    leads_table, events_table = ops.quote_name(Lead._meta.db_table), ops.quote_name(LeadEvent._meta.db_table)
    actor = by.pk if isinstance(by, Membership) else by
    kind, reason = LeadEvent.Kind.SCORE.value, reason[:300]
    # Grades are A–D or empty, so the JSON needs no escaping.
    events = [
        (engine.tenant_id, stamp, stamp, r.lead_id, kind, stamp, actor,
         f'{{"score": {r.before[0]}, "grade": "{r.before[1]}"}}', f'{{"score": {r.score}, "grade": "{r.grade}"}}',
         reason, r.lead_id, r.version)
        for r in changed
        if r.before != (r.score, r.grade)
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {leads_table} SET score = %s, grade = %s, score_points = {json_param}, "  # noqa: S608
            "scored_at = %s WHERE id = %s AND version = %s",
            [(r.score, r.grade, r.points, stamp, r.lead_id, r.version) for r in changed],
        )
        if events:
            # The rows were read outside this transaction: an event only where the update above applied, i.e.
            # where nobody changed the lead since (same version guard; a score write keeps the version).
            cursor.executemany(
                f"INSERT INTO {events_table} (tenant_id, created_at, updated_at, lead_id, kind, at, actor_id, "  # noqa: S608
                f"before, after, reason) SELECT %s, %s, %s, %s, %s, %s, %s, {json_param}, {json_param}, %s "
                f"FROM {leads_table} WHERE id = %s AND version = %s",
                events,
            )
    return len(changed), len(events)


# --- services -------------------------------------------------------------------------------------------


def lead_score(lead: Lead, *, by: Membership | None = None, reason: str = "", fresh: bool = False) -> Lead:
    """Recompute one lead's score, grade and explanation (and its probability when a model is active).

    A score event is written only when the score or grade changed. ``fresh``: the caller created ``lead`` in
    the open transaction (capture), so it has no activities yet and the instance is what the row holds."""
    # A fresh lead's capture fails whole if scoring fails: a savepoint of its own would only cost statements.
    with transaction.atomic(savepoint=not fresh):
        return _lead_score(lead, by=by, reason=reason, fresh=fresh)


def _lead_score(lead: Lead, *, by: Membership | None, reason: str, fresh: bool) -> Lead:
    model = predictive.active_model(lead.tenant_id)
    engine = engine_build(lead.tenant_id, model_id=model.pk if model else None)
    now = timezone.now()
    if model is not None:
        current = Lead.objects.select_related("person", "organization", "interest").get(pk=lead.pk)
        probability, factors = predictive.predict_one(model, current)
        Lead.objects.filter(pk=lead.pk).update(probability=probability, probability_factors=factors, score_model=model)
    if not engine.has_rules and model is None and not lead.score and not lead.grade and not lead.score_points:
        return lead  # nothing configured and nothing to clear
    leads = Lead.objects.filter(pk=lead.pk)
    (result,) = _score_rows(engine, leads, [] if fresh else [lead.pk], now)  # [] reads no activities
    if result.changed:
        Lead.objects.filter(pk=lead.pk).update(
            score=result.score, grade=result.grade, score_points=json.loads(result.points), scored_at=now
        )
        if result.before != (result.score, result.grade):
            LeadEvent.objects.create(
                tenant_id=lead.tenant_id,
                lead_id=lead.pk,
                kind=LeadEvent.Kind.SCORE,
                at=now,
                actor=by,
                before={"score": result.before[0], "grade": result.before[1]},
                after={"score": result.score, "grade": result.grade},
                reason=reason[:300],
            )
    if fresh and model is None:
        # Only what this function wrote changed: set it instead of reading the row back.
        if result.changed:
            lead.score, lead.grade, lead.score_points = result.score, result.grade, json.loads(result.points)
            lead.scored_at = now
        return lead
    fields = ["score", "grade", "score_points", "scored_at", "probability", "probability_factors", "score_model"]
    lead.refresh_from_db(fields=fields)
    return lead


@dataclass
class RecomputeCounts:
    leads: int = 0
    changed: int = 0
    events: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"leads": self.leads, "changed": self.changed, "events": self.events, "seconds": self.seconds}


def score_recompute(
    tenant_id: int,
    *,
    by: Membership | None = None,
    now: dt.datetime | None = None,
    chunk: int = CHUNK,
    progress: Callable[[int, int], None] | None = None,
    processes: int | None = None,
) -> RecomputeCounts:
    """Recompute every lead of a tenant, chunk by chunk (by id range), writing only rows that changed.

    A chunk is read and scored outside any transaction and written in a short one of its own, guarded by the
    lead versions read, so a long run never holds the write lock for long and never overwrites an edit made
    meanwhile. Large tenants are split over ``processes`` (default ``settings.SCORING_PROCESSES``): scoring
    is Python work, one core per process.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    counts = RecomputeCounts()
    bounds = Lead.objects.filter(tenant_id=tenant_id).aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is None:
        return counts
    lo, hi = bounds["lo"], bounds["hi"]
    ranges = [(start, min(start + chunk - 1, hi)) for start in range(lo, hi + 1, chunk)]
    workers = _recompute_processes(processes, hi - lo + 1, len(ranges))
    reason = _("recompute")  # in the caller's language, in every process
    done = 0
    if workers > 1:
        by_id = by.pk if by else None
        results = _recompute_in_processes(tenant_id, ranges, by_id=by_id, reason=reason, now=now, processes=workers)
    else:
        engine = engine_build(tenant_id)
        results = (_recompute_range(engine, start, end, by=by, reason=reason, now=now) for start, end in ranges)
    for (start, end), (leads, changed, events) in results:
        counts.leads += leads
        counts.changed += changed
        counts.events += events
        done += end - start + 1
        if progress:
            progress(done, hi - lo + 1)
    counts.seconds = round(time.perf_counter() - started, 2)
    return counts


PARALLEL_MIN_LEADS = 100_000  # below this, starting processes costs more than it saves


def _recompute_processes(processes: int | None, span: int, chunks: int) -> int:
    """How many processes a recompute uses: one for small tenants, inside a transaction (other processes
    would not see its uncommitted rows) and on an in-memory database (they would not see it at all)."""
    from django.conf import settings

    wanted = processes if processes is not None else settings.SCORING_PROCESSES
    if processes is None and span < PARALLEL_MIN_LEADS:
        return 1
    if connection.in_atomic_block or (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        return 1
    return max(1, min(wanted, chunks))


def _recompute_range(
    engine: Engine, start: int, end: int, *, by: Membership | int | None, reason: str, now: dt.datetime
) -> tuple[tuple[int, int], tuple[int, int, int]]:
    leads = Lead.objects.filter(tenant_id=engine.tenant_id, id__gte=start, id__lte=end)
    results = _score_rows(engine, leads, (start, end), now)
    with transaction.atomic():
        changed, events = _write_changes(engine, results, by=by, reason=reason, now=now)
    return (start, end), (len(results), changed, events)


def _recompute_in_processes(
    tenant_id: int, ranges: list, *, by_id: int | None, reason: str, now: dt.datetime, processes: int
):
    """The chunks over a pool of fresh processes (spawned, not forked: the worker runs threads), each with
    its own database connection to the same database, the calling process's (a test database, too)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from . import scoring_processes

    database = connection.settings_dict["NAME"]
    connection.close()  # no connection is shared with the children
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        processes, mp_context=context, initializer=scoring_processes.setup, initargs=(database,)
    ) as pool:
        futures = [
            pool.submit(scoring_processes.score_range, tenant_id, start, end, by_id, reason, now)
            for start, end in ranges
        ]
        for future in as_completed(futures):
            yield future.result()


# --- configuration services (admins and managers) ---------------------------------------------------------


def _require_admin(by: Membership) -> None:
    if not by.is_active or by.role not in LEAD_ADMINS:
        raise NotFound(_("Not found."))


RULE_FIELDS = ("name", "field", "operator", "value", "points", "max_points", "half_life_days", "active")


def _rule_clean(by: Membership, data: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(RULE_FIELDS) - {"position"}
    if unknown:
        raise ValidationFailed(_("Unknown field."), field=sorted(unknown)[0])
    clean = dict(data)
    name = " ".join(str(clean.get("name") or "").split())
    if not name:
        raise ValidationFailed(_("Enter a name."), field="name")
    if len(name) > 120:
        raise ValidationFailed(_("At most 120 characters."), field="name")
    clean["name"] = name
    spec = field_catalogue(by.tenant_id).get(str(clean.get("field") or ""))
    if spec is None:
        raise ValidationFailed(_("Choose a field from the list."), field="field")
    operator = clean.get("operator") or (Op.COUNT if spec.kind == COUNT else Op.EQUALS)
    if operator not in spec.operators:
        raise ValidationFailed(_("This condition does not fit the field."), field="operator")
    clean["operator"] = operator
    clean["value"] = rule_value_clean(spec, operator, clean.get("value"))
    points = clean.get("points")
    if points is None or isinstance(points, bool) or not isinstance(points, int):
        raise ValidationFailed(_("Enter whole points."), field="points")
    if not -1000 <= points <= 1000 or points == 0:
        raise ValidationFailed(_("Enter points between -1000 and 1000, not 0."), field="points")
    cap, half_life = clean.get("max_points"), clean.get("half_life_days")
    if spec.kind != COUNT:
        if cap is not None:
            raise ValidationFailed(_("A cap only applies to engagement rules."), field="max_points")
        if half_life is not None:
            raise ValidationFailed(_("Decay only applies to engagement rules."), field="half_life_days")
    else:
        if cap is not None and (cap == 0 or (cap > 0) != (points > 0) or abs(cap) < abs(points)):
            raise ValidationFailed(
                _("The cap must have the sign of the points and be at least one occurrence's points."),
                field="max_points",
            )
        if half_life is not None and not 1 <= half_life <= 3650:
            raise ValidationFailed(_("Enter a half-life of 1 to 3650 days."), field="half_life_days")
    return clean


def _recompute_later(tenant_id: int) -> None:
    from .scoring_tasks import score_recompute_task

    transaction.on_commit(lambda: score_recompute_task.enqueue(tenant_id=tenant_id))


@transaction.atomic
def scoring_rule_create(*, by: Membership, data: Mapping[str, Any]) -> ScoringRule:
    """Add a point rule; scores are recomputed in the background."""
    _require_admin(by)
    clean = _rule_clean(by, {"active": True, **data})
    clean.pop("position", None)
    last = ScoringRule.objects.filter(tenant_id=by.tenant_id).aggregate(p=Max("position"))["p"]
    rule = ScoringRule.objects.create(tenant_id=by.tenant_id, position=(last + 1) if last is not None else 0, **clean)
    _recompute_later(by.tenant_id)
    return rule


@transaction.atomic
def scoring_rule_update(*, by: Membership, rule: ScoringRule, data: Mapping[str, Any]) -> ScoringRule:
    """Change a rule (a partial change keeps the other fields); scores are recomputed in the background."""
    _require_admin(by)
    if rule.tenant_id != by.tenant_id:
        raise NotFound(_("Not found."))
    merged = {k: getattr(rule, k) for k in RULE_FIELDS} | dict(data)
    if "field" in data and data["field"] != rule.field and "operator" not in data:
        merged["operator"] = None  # the old condition may not fit the new field
    position = merged.pop("position", None)
    clean = _rule_clean(by, merged)
    for key, value in clean.items():
        setattr(rule, key, value)
    rule.save()
    if position is not None:
        scoring_rule_move(by=by, rule=rule, to=position)
    _recompute_later(by.tenant_id)
    return rule


@transaction.atomic
def scoring_rule_delete(*, by: Membership, rule: ScoringRule) -> None:
    _require_admin(by)
    if rule.tenant_id != by.tenant_id:
        raise NotFound(_("Not found."))
    rule.delete()
    _recompute_later(by.tenant_id)


@transaction.atomic
def scoring_rule_move(*, by: Membership, rule: ScoringRule, to: int) -> ScoringRule:
    """Put a rule at position ``to`` (0 = first) and number the rules 0…n again (order is for reading only:
    every matching rule counts)."""
    _require_admin(by)
    if rule.tenant_id != by.tenant_id:
        raise NotFound(_("Not found."))
    if isinstance(to, bool) or not isinstance(to, int) or to < 0:
        raise ValidationFailed(_("Enter a position of 0 or more."), field="position")
    others = ScoringRule.objects.filter(tenant_id=by.tenant_id).exclude(pk=rule.pk)
    rules = list(others.order_by("position", "id"))
    rules.insert(min(to, len(rules)), rule)
    now = timezone.now()
    for position, r in enumerate(rules):
        if r.position != position:
            r.position = position
            # updated_at too: the capture's configuration stamp (leads.config) sums it
            ScoringRule.objects.filter(pk=r.pk).update(position=position, updated_at=now)
    rule.refresh_from_db()
    return rule


SETTINGS_FIELDS = (
    "driver", "max_score", "grade_a_min", "grade_b_min", "grade_c_min",
    "probability_a_min", "probability_b_min", "probability_c_min",
)  # fmt: skip


@transaction.atomic
def scoring_settings_update(*, by: Membership, data: Mapping[str, Any]) -> ScoringSettings:
    """Grade thresholds, the highest score and the grade's driver; grades are recomputed in the background."""
    _require_admin(by)
    unknown = set(data) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown field."), field=sorted(unknown)[0])
    settings, _created = ScoringSettings.objects.select_for_update().get_or_create(tenant_id=by.tenant_id)
    merged = {k: getattr(settings, k) for k in SETTINGS_FIELDS} | dict(data)
    if merged["driver"] not in ScoringSettings.Driver.values:
        raise ValidationFailed(_("Choose rule score or predictive model."), field="driver")
    for key in ("max_score", "grade_a_min", "grade_b_min", "grade_c_min"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000:
            raise ValidationFailed(_("Enter a whole number from 0 to 10000."), field=key)
    if merged["max_score"] < 1:
        raise ValidationFailed(_("The highest score must be at least 1."), field="max_score")
    if not merged["grade_a_min"] > merged["grade_b_min"] > merged["grade_c_min"]:
        raise ValidationFailed(_("A needs more than B, and B more than C."), field="grade_b_min")
    if merged["grade_a_min"] > merged["max_score"]:
        raise ValidationFailed(_("Grade A must be reachable: at most the highest score."), field="grade_a_min")
    for key in ("probability_a_min", "probability_b_min", "probability_c_min"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValidationFailed(_("Enter a probability from 0 to 1."), field=key)
    if not merged["probability_a_min"] > merged["probability_b_min"] > merged["probability_c_min"]:
        raise ValidationFailed(_("A needs more than B, and B more than C."), field="probability_b_min")
    for key, value in merged.items():
        setattr(settings, key, value)
    settings.save()
    _recompute_later(by.tenant_id)
    return settings


def recompute_request(*, by: Membership):
    """'Recompute now': queue a recompute of the tenant's leads; returns the task result to follow."""
    _require_admin(by)
    from .scoring_tasks import score_recompute_task

    return score_recompute_task.enqueue(tenant_id=by.tenant_id)


# Kept lazy for module-level use (labels of the operators in forms and the API description).
OPERATOR_HELP = gettext_lazy(
    "eq/ne/in/prefix/contains/gte/lte/set/unset for fields; count for engagement (points per occurrence)."
)
