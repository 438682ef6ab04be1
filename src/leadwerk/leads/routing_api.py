"""API of lead routing: rules (CRUD, reorder, try), routing a lead now, member capacity and absences.

Admins and managers only; for every other role these endpoints do not exist (404). Same services as the UI.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from leadwerk.accounts.models import Membership, Team
from leadwerk.contacts.models import Person
from leadwerk.core.exceptions import ValidationFailed, api_field_names

from . import routing
from .models import Absence, InterestCategory, Lead, RoutingRule
from .roles import LEAD_ADMINS
from .schemas import LeadOut

router = Router(tags=["routing"])
FIELD_NAMES = {"target_member": "target_member_id", "target_team": "target_team_id"}
CONDITIONS_HELP = (
    'Checked in order, all must hold: [{"field": "person.postcode", "op": "between", "value": ["80000", "87999"]}]. '
    "Fields: person.postcode/country/city, lead.interest (key)/grade/rating/channel/source/score/estimated_value, "
    "organization.postcode/country/employees/revenue/industry_code, person.attr.<key>, organization.attr.<key>, "
    "lead.question.<key>. Operators: eq, ne, in (list), prefix (comma-separated), between ([low, high]), contains, "
    "gte, lte, set, unset. No conditions: the fallback rule."
)


class ConditionIO(Schema):
    field: str
    op: str
    value: Any = None


class RuleIn(Schema):
    name: str = Field(max_length=120)
    conditions: list[ConditionIO] = Field(default_factory=list, description=CONDITIONS_HELP)
    active: bool = True
    target: RoutingRule.Target = RoutingRule.Target.TEAM
    target_member_id: int | None = Field(default=None, description="For target 'user'.")
    target_team_id: int | None = Field(default=None, description="For target 'team'.")
    strategy: RoutingRule.Strategy = RoutingRule.Strategy.ROUND_ROBIN


class RulePatch(Schema):
    name: str | None = Field(default=None, max_length=120)
    conditions: list[ConditionIO] | None = Field(default=None, description=CONDITIONS_HELP)
    active: bool | None = None
    target: RoutingRule.Target | None = None
    target_member_id: int | None = None
    target_team_id: int | None = None
    strategy: RoutingRule.Strategy | None = None


class RuleOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    conditions: list[ConditionIO]
    target: str
    target_member_id: int | None
    target_team_id: int | None
    strategy: str
    updated_at: dt.datetime


class ReorderIn(Schema):
    ids: list[int] = Field(description="Every rule id of the tenant exactly once, in the new order.")


class TryIn(Schema):
    lead_id: int | None = Field(default=None, description="An existing lead; or describe one with the fields below.")
    postcode: str = ""
    country: str = ""
    interest: str | None = Field(default=None, description="Interest key.")
    grade: str = ""
    rating: str = ""
    channel: str = "manual"
    source: str = ""


class Skipped(Schema):
    member: str
    reason: str


class DecisionOut(Schema):
    rule_id: int | None
    rule: str | None
    owner_id: int | None
    team_id: int | None
    reason: str
    skipped: list[Skipped] = Field(description="Members the target passed over, and why.")
    passed_rules: list[str] = Field(description="Matching rules that could not place the lead.")


class RouteOut(Schema):
    routed: bool = Field(description="False: taken meanwhile, closed, or no rule placed it anywhere new.")
    lead: LeadOut


class ProfileOut(Schema):
    membership_id: int
    name: str
    team_id: int | None
    weekly_capacity: int | None
    takes_leads: bool
    week_load: int = Field(description="Leads assigned since Monday 00:00 in the tenant's time zone.")


class ProfileIn(Schema):
    weekly_capacity: int | None = Field(default=None, description="New leads per week; null: no limit.")
    takes_leads: bool | None = None


class AbsenceIn(Schema):
    membership_id: int
    starts_on: dt.date
    ends_on: dt.date
    note: str = Field(default="", max_length=200)


class AbsenceOut(Schema):
    id: int
    membership_id: int
    starts_on: dt.date
    ends_on: dt.date
    note: str


def _admin(request: HttpRequest) -> Membership:
    if request.membership.role not in LEAD_ADMINS:
        raise Http404
    return request.membership


def _rule(request: HttpRequest, rule_id: int) -> RoutingRule:
    _admin(request)
    return get_object_or_404(RoutingRule.objects.visible_to(request.membership), pk=rule_id)


def _targets(request: HttpRequest, data: dict) -> dict:
    tenant_id = request.membership.tenant_id
    if "conditions" in data and data["conditions"] is not None:
        data["conditions"] = [dict(c) for c in data["conditions"]]
    if "target_member_id" in data:
        pk = data.pop("target_member_id")
        data["target_member"] = Membership.objects.filter(tenant_id=tenant_id, pk=pk).first() if pk else None
        if pk and data["target_member"] is None:
            raise ValidationFailed(_("No such member."), field="target_member_id")
    if "target_team_id" in data:
        pk = data.pop("target_team_id")
        data["target_team"] = Team.objects.filter(tenant_id=tenant_id, pk=pk).first() if pk else None
        if pk and data["target_team"] is None:
            raise ValidationFailed(_("No such team."), field="target_team_id")
    return data


@router.get("/routing-rules", response=list[RuleOut], summary="Routing rules in the order they are checked")
def rule_list(request: HttpRequest):
    _admin(request)
    return RoutingRule.objects.visible_to(request.membership).order_by("position", "id")


@router.post("/routing-rules", response={201: RuleOut}, summary="Add a rule (it goes last)")
def rule_create(request: HttpRequest, payload: RuleIn):
    by = _admin(request)
    with api_field_names(FIELD_NAMES):
        return Status(201, routing.routing_rule_create(by=by, data=_targets(request, payload.model_dump())))


@router.put("/routing-rules/order", response=list[RuleOut], summary="Reorder all rules at once")
def rule_reorder(request: HttpRequest, payload: ReorderIn):
    return routing.routing_rules_reorder(by=_admin(request), ids=payload.ids)


@router.post("/routing-rules/try", response=DecisionOut, summary="Which rule and member would win, and why")
def rule_try(request: HttpRequest, payload: TryIn):
    by = _admin(request)
    if payload.lead_id is not None:
        lead = Lead.objects.visible_to(by).select_related("person", "organization", "interest")
        lead = lead.filter(pk=payload.lead_id).first()
        if lead is None:
            raise ValidationFailed(_("No such lead."), field="lead_id")
        decision = routing.route_decide(lead, tenant_tz=by.tenant.timezone)
    else:
        lead = _sample_lead(by, payload)
        decision = routing.route_decide(lead, person=lead.person, tenant_tz=by.tenant.timezone)
    return _decision(decision)


def _sample_lead(by: Membership, payload: TryIn) -> Lead:
    interest = None
    if payload.interest:
        interest = InterestCategory.objects.visible_to(by).filter(key=payload.interest).first()
        if interest is None:
            raise ValidationFailed(_("No such interest."), field="interest")
    person = Person(tenant_id=by.tenant_id, postcode=payload.postcode.strip(), country=payload.country or "DE")
    return Lead(
        tenant_id=by.tenant_id, person=person, interest=interest, grade=payload.grade, rating=payload.rating,
        channel=payload.channel, source=payload.source,
    )  # fmt: skip


def _decision(decision: routing.Decision) -> dict:
    return {
        "rule_id": decision.rule.id if decision.rule else None,
        "rule": decision.rule.name if decision.rule else None,
        "owner_id": decision.owner.pk if decision.owner else None,
        "team_id": decision.team.pk if decision.team else None,
        "reason": decision.reason,
        "skipped": [{"member": m, "reason": r} for m, r in decision.skipped],
        "passed_rules": decision.passed,
    }


@router.get("/routing-rules/{rule_id}", response=RuleOut)
def rule_detail(request: HttpRequest, rule_id: int):
    return _rule(request, rule_id)


@router.patch("/routing-rules/{rule_id}", response=RuleOut, summary="Change a rule")
def rule_update(request: HttpRequest, rule_id: int, payload: RulePatch):
    rule = _rule(request, rule_id)
    data = _targets(request, payload.model_dump(exclude_unset=True))
    with api_field_names(FIELD_NAMES):
        return routing.routing_rule_update(rule=rule, by=request.membership, data=data)


@router.delete("/routing-rules/{rule_id}", response={204: None}, summary="Delete a rule; leads keep their owner")
def rule_delete(request: HttpRequest, rule_id: int):
    routing.routing_rule_delete(rule=_rule(request, rule_id), by=request.membership)
    return Status(204, None)


@router.post("/leads/{lead_id}/route", response=RouteOut, summary="Route an unassigned lead by the rules now")
def lead_route(request: HttpRequest, lead_id: int):
    by = _admin(request)
    lead = get_object_or_404(Lead.objects.visible_to(by), pk=lead_id)
    routed = routing.lead_route(lead, by=by)
    lead = Lead.objects.select_related("person", "organization", "interest").get(pk=lead.pk)
    return {"routed": routed is not None, "lead": lead}


def _profiles(by: Membership, members) -> list[dict]:
    members = list(members)
    loads = routing.week_loads(by.tenant_id, by.tenant.timezone, [m.pk for m in members])
    rows = []
    for m in members:
        profile = getattr(m, "lead_profile", None)
        rows.append({
            "membership_id": m.pk, "name": m.user.full_name or m.user.email, "team_id": m.team_id,
            "weekly_capacity": profile.weekly_capacity if profile else None,
            "takes_leads": profile.takes_leads if profile else True, "week_load": loads.get(m.pk, 0),
        })  # fmt: skip
    return rows


@router.get("/lead-profiles", response=list[ProfileOut], summary="Members who work leads: capacity and this week")
def profile_list(request: HttpRequest):
    by = _admin(request)
    return _profiles(by, routing.lead_workers(by.tenant_id))


@router.patch("/lead-profiles/{membership_id}", response=ProfileOut, summary="Set capacity or taking leads")
def profile_update(request: HttpRequest, membership_id: int, payload: ProfileIn):
    by = _admin(request)
    member = get_object_or_404(routing.lead_workers(by.tenant_id), pk=membership_id)
    data = payload.model_dump(exclude_unset=True)
    routing.lead_profile_set(
        by=by, member=member, weekly_capacity=data.get("weekly_capacity", ...), takes_leads=data.get("takes_leads")
    )
    return _profiles(by, routing.lead_workers(by.tenant_id).filter(pk=member.pk))[0]


@router.get("/absences", response=list[AbsenceOut], summary="Current and coming absences")
def absence_list(request: HttpRequest, membership_id: int | None = None):
    by = _admin(request)
    absences = Absence.objects.visible_to(by).filter(ends_on__gte=timezone.localdate())
    if membership_id is not None:
        absences = absences.filter(membership_id=membership_id)
    return absences.order_by("starts_on", "id")[:1000]


@router.post("/absences", response={201: AbsenceOut}, summary="Record an absence: routing skips the member")
def absence_create(request: HttpRequest, payload: AbsenceIn):
    by = _admin(request)
    member = Membership.objects.filter(tenant_id=by.tenant_id, pk=payload.membership_id).first()
    if member is None:
        raise ValidationFailed(_("No such member."), field="membership_id")
    absence = routing.absence_add(
        by=by, member=member, starts_on=payload.starts_on, ends_on=payload.ends_on, note=payload.note
    )
    return Status(201, absence)


@router.delete("/absences/{absence_id}", response={204: None})
def absence_delete(request: HttpRequest, absence_id: int):
    by = _admin(request)
    routing.absence_remove(by=by, absence=get_object_or_404(Absence.objects.visible_to(by), pk=absence_id))
    return Status(204, None)
