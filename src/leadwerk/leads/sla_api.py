"""API of SLA policies and the business calendar (admins and managers; others get 404). Same services as the UI."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from . import sla
from .models import Grade, SlaPolicy
from .roles import LEAD_ADMINS

router = Router(tags=["SLAs"])


class SlaPolicyIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    metric: SlaPolicy.Metric = Field(description="first_contact and accept count from capture (accept from "
                                     "assignment), outcome from acceptance.")  # fmt: skip
    grade: Grade | None = Field(default=None, description="Empty or null: all grades; a grade's policy wins.")
    business_minutes: int = Field(ge=1, description="Deadline in business minutes (working hours only).")
    remind_before_minutes: int | None = Field(default=None, ge=1, description="Business minutes before the deadline.")
    escalate: bool = True
    reroute_after_minutes: int | None = Field(
        default=None, ge=0, description="Re-route by the routing rules this many business minutes after the deadline."
    )
    active: bool = True


class SlaPolicyPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    metric: SlaPolicy.Metric | None = None
    grade: Grade | None = None
    business_minutes: int | None = Field(default=None, ge=1)
    remind_before_minutes: int | None = Field(default=None, ge=1)
    escalate: bool | None = None
    reroute_after_minutes: int | None = Field(default=None, ge=0)
    active: bool | None = None


class SlaPolicyOut(Schema):
    id: int
    name: str
    metric: str
    grade: str
    business_minutes: int
    remind_before_minutes: int | None
    escalate: bool
    reroute_after_minutes: int | None
    active: bool


class CalendarIn(Schema):
    state: str = Field(default="", description="Federal state code (BW, BY, BE, … TH); empty: nationwide only.")
    workdays: list[int] = Field(description="0 = Monday … 6 = Sunday.", min_length=1, max_length=7)
    day_starts: dt.time
    day_ends: dt.time
    closed_days: list[dt.date] = Field(default_factory=list, max_length=366)


class CalendarOut(Schema):
    state: str
    workdays: list[int]
    day_starts: dt.time
    day_ends: dt.time
    closed_days: list[dt.date]
    timezone: str = Field(description="The tenant's time zone the working hours are in.")


def _admin(request: HttpRequest) -> None:
    """Other roles do not learn that SLA settings exist."""
    if request.membership.role not in LEAD_ADMINS:
        raise Http404


def _policy(request: HttpRequest, policy_id: int) -> SlaPolicy:
    _admin(request)
    return get_object_or_404(SlaPolicy.objects.visible_to(request.membership), pk=policy_id)


@router.get("/sla-policies", response=list[SlaPolicyOut], summary="SLA policies by deadline and grade")
def policy_list(request: HttpRequest):
    _admin(request)
    return SlaPolicy.objects.visible_to(request.membership).order_by("metric", "grade", "id")


@router.post("/sla-policies", response={201: SlaPolicyOut}, summary="Add a policy; open leads get its deadline")
def policy_create(request: HttpRequest, payload: SlaPolicyIn):
    _admin(request)
    data = payload.model_dump()
    data["grade"] = data["grade"] or ""
    return Status(201, sla.sla_policy_create(by=request.membership, data=data))


@router.get("/sla-policies/{policy_id}", response=SlaPolicyOut)
def policy_detail(request: HttpRequest, policy_id: int):
    return _policy(request, policy_id)


@router.patch("/sla-policies/{policy_id}", response=SlaPolicyOut, summary="Change a policy")
def policy_update(request: HttpRequest, policy_id: int, payload: SlaPolicyPatch):
    policy = _policy(request, policy_id)
    data = payload.model_dump(exclude_unset=True)
    if "grade" in data:
        data["grade"] = data["grade"] or ""
    for key in ("name", "metric", "business_minutes", "escalate", "active"):
        if key in data and data[key] is None:
            del data[key]
    return sla.sla_policy_update(policy=policy, by=request.membership, data=data)


@router.delete("/sla-policies/{policy_id}", response={204: None}, summary="Delete a policy")
def policy_delete(request: HttpRequest, policy_id: int):
    sla.sla_policy_delete(policy=_policy(request, policy_id), by=request.membership)
    return Status(204, None)


def _calendar_out(request: HttpRequest) -> dict:
    calendar = sla.calendar_get(request.membership.tenant_id)
    return {
        "state": calendar.state,
        "workdays": calendar.workdays or list(sla.DEFAULT_WORKDAYS),
        "day_starts": calendar.day_starts,
        "day_ends": calendar.day_ends,
        "closed_days": calendar.closed_days or [],
        "timezone": request.membership.tenant.timezone,
    }


@router.get("/business-calendar", response=CalendarOut, summary="Working days and hours, federal state, closed days")
def calendar_detail(request: HttpRequest):
    _admin(request)
    return _calendar_out(request)


@router.put("/business-calendar", response=CalendarOut, summary="Set the business calendar; deadlines follow")
def calendar_update(request: HttpRequest, payload: CalendarIn):
    _admin(request)
    sla.calendar_save(by=request.membership, **payload.model_dump())
    return _calendar_out(request)
