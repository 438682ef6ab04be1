"""API of rule scoring: point rules (CRUD), the field catalogue, grade settings, and recompute.

Admins and managers only; for every other role these endpoints do not exist (404). Same services as the UI.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.tasks.exceptions import TaskResultDoesNotExist
from ninja import Field, Router, Schema, Status

from leadwerk.accounts.models import Membership

from . import scoring
from .models import ScoringRule, ScoringSettings
from .roles import LEAD_ADMINS
from .scoring_tasks import score_recompute_task

router = Router(tags=["scoring"])
FIELD_HELP = (
    "A key of GET /scoring-fields: lead.channel/source/interest/budget/authority/need/timeline/estimated_value/"
    "rating, lead.question.<key>, person.postcode/country/position/department/language/has_email/has_phone/"
    "consent_email/consent_phone, organization.employees/revenue/industry_code/legal_form/country, "
    "person.attr.<key>, organization.attr.<key>, engagement.response/activity/reached."
)
OPERATOR_HELP = (
    "eq, ne, in (list), prefix (text; a list or comma-separated), contains, gte, lte, set, unset; "
    "count for engagement fields (points per occurrence). GET /scoring-fields lists the operators per field."
)
VALUE_HELP = (
    "Fits the field and operator: a string or choice key, a number for gte/lte, true/false for yes/no fields, "
    "a list for 'in'; none for set/unset. Engagement: an optional list of activity types to count "
    "(engagement.activity: call, email, meeting)."
)


class RuleIn(Schema):
    name: str = Field(max_length=120)
    field: str = Field(description=FIELD_HELP)
    operator: str | None = Field(default=None, description=OPERATOR_HELP + " Default: eq, or count for engagement.")
    value: Any = Field(default=None, description=VALUE_HELP)
    points: int = Field(description="Points when the condition holds (per occurrence for engagement); not 0.")
    max_points: int | None = Field(default=None, description="Engagement: the cap on all occurrences' points.")
    half_life_days: int | None = Field(
        default=None, description="Engagement: an occurrence's points halve after this many days."
    )
    active: bool = True


class RulePatch(Schema):
    name: str | None = Field(default=None, max_length=120)
    field: str | None = Field(default=None, description=FIELD_HELP)
    operator: str | None = Field(default=None, description=OPERATOR_HELP)
    value: Any = Field(default=None, description=VALUE_HELP)
    points: int | None = None
    max_points: int | None = None
    half_life_days: int | None = None
    active: bool | None = None
    position: int | None = Field(default=None, description="Move the rule to this place (0 = first).")


class RuleOut(Schema):
    id: int
    name: str
    position: int
    field: str
    operator: str
    value: Any
    points: int
    max_points: int | None
    half_life_days: int | None
    active: bool
    updated_at: dt.datetime


class FieldOut(Schema):
    key: str
    label: str
    group: str
    kind: str = Field(description="text, choice, number, bool, multi, date or count (engagement).")
    operators: list[str]
    choices: list[list[str]] = Field(description="[value, label] pairs for choice fields.")


class SettingsIO(Schema):
    driver: ScoringSettings.Driver = Field(description="rules, or model (rules while no model is active).")
    max_score: int = Field(description="The score is clamped to 0…max_score.")
    grade_a_min: int
    grade_b_min: int
    grade_c_min: int = Field(description="Below it: grade D.")
    probability_a_min: float
    probability_b_min: float
    probability_c_min: float


class RecomputeOut(Schema):
    job_id: str
    status: str = Field(description="READY, RUNNING, SUCCESSFUL or FAILED.")
    result: dict[str, Any] | None = Field(description="leads, changed, events, seconds once SUCCESSFUL.")


def _admin(request: HttpRequest) -> Membership:
    membership = request.membership
    if membership.role not in LEAD_ADMINS:
        raise Http404("Not available for this role.")
    return membership


def _rule(request: HttpRequest, rule_id: int) -> ScoringRule:
    return get_object_or_404(ScoringRule.objects.visible_to(_admin(request)), pk=rule_id)


@router.get("/scoring-rules", response=list[RuleOut], summary="The tenant's point rules in order")
def rule_list(request: HttpRequest):
    return ScoringRule.objects.visible_to(_admin(request)).order_by("position", "id")


@router.post(
    "/scoring-rules",
    response={201: RuleOut},
    summary="Add a point rule (scores are recomputed in the background)",
    description="422 with the field at fault when field, operator and value do not fit together.",
)
def rule_create(request: HttpRequest, payload: RuleIn):
    rule = scoring.scoring_rule_create(by=_admin(request), data=payload.model_dump())
    return Status(201, rule)


@router.get("/scoring-rules/{rule_id}", response=RuleOut)
def rule_detail(request: HttpRequest, rule_id: int):
    return _rule(request, rule_id)


@router.patch(
    "/scoring-rules/{rule_id}",
    response=RuleOut,
    summary="Change a rule; fields left out keep their value (scores are recomputed in the background)",
)
def rule_update(request: HttpRequest, rule_id: int, payload: RulePatch):
    rule = _rule(request, rule_id)
    data = payload.model_dump(exclude_unset=True)
    return scoring.scoring_rule_update(by=request.membership, rule=rule, data=data)


@router.delete("/scoring-rules/{rule_id}", response={204: None}, summary="Delete a rule")
def rule_delete(request: HttpRequest, rule_id: int):
    scoring.scoring_rule_delete(by=request.membership, rule=_rule(request, rule_id))
    return Status(204, None)


@router.get("/scoring-fields", response=list[FieldOut], summary="The fields rules can test, with their operators")
def field_list(request: HttpRequest):
    catalogue = scoring.field_catalogue(_admin(request).tenant_id)
    return [
        {
            "key": spec.key,
            "label": str(spec.label),
            "group": str(spec.group),
            "kind": spec.kind,
            "operators": [str(op) for op in spec.operators],
            "choices": [[str(v), str(label)] for v, label in spec.choices],
        }
        for spec in catalogue.values()
    ]


@router.get("/scoring-settings", response=SettingsIO, summary="Grade thresholds, highest score, grade driver")
def settings_detail(request: HttpRequest):
    return scoring.scoring_settings(_admin(request).tenant_id)


@router.put(
    "/scoring-settings",
    response=SettingsIO,
    summary="Replace the grade settings (grades are recomputed in the background)",
    description="Thresholds must fall: A > B > C, for scores and probabilities; A at most max_score.",
)
def settings_update(request: HttpRequest, payload: SettingsIO):
    return scoring.scoring_settings_update(by=_admin(request), data=payload.model_dump())


def _job(result) -> dict:
    status = result.status.name
    return {
        "job_id": result.id,
        "status": status,
        "result": result.return_value if status == "SUCCESSFUL" else None,
    }


@router.post(
    "/scoring/recompute",
    response={202: RecomputeOut},
    summary="Recompute every lead's score now (in the background)",
    description="Poll GET /scoring/recompute/{job_id} for the result.",
)
def recompute(request: HttpRequest):
    result = scoring.recompute_request(by=_admin(request))
    return Status(202, _job(result))


@router.get("/scoring/recompute/{job_id}", response=RecomputeOut, summary="State and counts of a recompute")
def recompute_status(request: HttpRequest, job_id: str):
    membership = _admin(request)
    try:
        result = score_recompute_task.get_result(job_id)
    except TaskResultDoesNotExist:
        raise Http404("No such job.") from None
    if result.kwargs.get("tenant_id") != membership.tenant_id:
        raise Http404("No such job.")
    return _job(result)
