"""API of the lead database. Same services as the UI; capture is idempotent with an Idempotency-Key header."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status

from leadwerk.accounts.models import Membership, Team
from leadwerk.contacts.models import Organization, Person
from leadwerk.core.exceptions import Conflict, ValidationFailed, api_field_names
from leadwerk.core.memo import config_memo
from leadwerk.core.paging import keyset_paginate

from . import services, sla
from .config import capture_config_share, capture_prefetch
from .models import Channel, FollowUp, IdempotencyRecord, InterestCategory, Lead, LeadReason
from .schemas import (
    ActivityIn,
    ActivityOut,
    AssignmentIn,
    EventOut,
    FollowUpIn,
    FollowUpOut,
    LeadCaptured,
    LeadCaptureIn,
    LeadFields,
    LeadOut,
    LeadPage,
    LeadPatch,
    TransitionIn,
)
from .states import Status as LeadStatus

router = Router(tags=["leads"])
FIELD_NAMES = {"organization": "organization_id", "owner": "owner_id", "team": "team_id", "reason": "reason_id"}
PAGE_MAX = 200


def _leads(request: HttpRequest):
    return Lead.objects.visible_to(request.membership).select_related("person", "organization", "interest")


def _lead(request: HttpRequest, lead_id: int) -> Lead:
    return get_object_or_404(_leads(request), pk=lead_id)


def _lead_data(request: HttpRequest, payload: LeadFields) -> dict:
    data = payload.model_dump(
        exclude_unset=True, include=set(LeadFields.model_fields) - {"interest", "organization_id"}
    )
    data = {k: "" if v is None and k in {"title", "source", "message", "need", "timeline", "rating"} else v
            for k, v in data.items()}  # fmt: skip
    for key in ("source_details", "qualification"):
        if key in data and data[key] is None:
            data[key] = {}
    if "interest" in payload.model_fields_set:
        data["interest"] = None
        if payload.interest:
            interest = InterestCategory.objects.visible_to(request.membership).filter(key=payload.interest).first()
            if interest is None:
                raise ValidationFailed(_("No such interest."), field="interest")
            data["interest"] = interest
    if "organization_id" in payload.model_fields_set:
        data["organization"] = None
        if payload.organization_id is not None:
            data["organization"] = Organization.objects.filter(
                tenant_id=request.membership.tenant_id, pk=payload.organization_id
            ).first()
            if data["organization"] is None:
                raise ValidationFailed(_("No such organisation."), field="organization_id")
    return data


class LeadFilter(Schema):
    status: LeadStatus | None = None
    mine: bool = False
    unassigned: bool = False
    interest: str | None = None
    grade: str | None = None
    sla: Literal["overdue", "due_soon", "on_time"] | None = Field(
        default=None, description="overdue: a deadline has passed; due_soon: the next within 4 h; on_time: neither."
    )
    order: Literal["newest", "sla_due_at"] = Field(
        default="newest", description="sla_due_at: earliest open SLA deadline first (only leads that have one)."
    )
    cursor: str | None = None
    limit: int = 50


@router.get("/leads", response=LeadPage, summary="Leads visible to you, newest first (cursor pagination)")
def lead_list(request: HttpRequest, filters: Query[LeadFilter]):
    leads = _leads(request)
    if filters.status:
        leads = leads.filter(status=filters.status)
    if filters.mine:
        leads = leads.filter(owner=request.membership)
    if filters.unassigned:
        leads = leads.filter(owner__isnull=True, team__isnull=True)
    if filters.interest:
        leads = leads.filter(interest__key=filters.interest)
    if filters.grade:
        leads = leads.filter(grade=filters.grade)
    leads = sla.sla_filter(leads, filters.sla, timezone.now())
    key = "-pk"
    if filters.order == "sla_due_at":
        leads, key = leads.filter(sla_due_at__isnull=False), "sla_due_at"
    page = keyset_paginate(leads, key=key, cursor=filters.cursor, size=max(1, min(filters.limit, PAGE_MAX)))
    return {"items": page.items, "next_cursor": page.next_cursor}


def _body_hash(payload: LeadCaptureIn) -> str:
    canonical = json.dumps(payload.model_dump(mode="json", exclude_unset=True), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _capture_input(request: HttpRequest, payload: LeadCaptureIn) -> tuple[Person | dict, dict]:
    """The checked person and lead data of a capture request (reads only: done before its transaction)."""
    if (payload.person is None) == (payload.person_id is None):
        raise ValidationFailed(_("Send either a person or a person_id."), field="person")
    if payload.person_id is not None:
        person = Person.objects.filter(tenant_id=request.membership.tenant_id, pk=payload.person_id).first()
        if person is None:
            raise ValidationFailed(_("No such person."), field="person_id")
    else:
        from leadwerk.contacts.api import _person_data

        person = _person_data(request, payload.person)
        if not person.get("last_name"):
            raise ValidationFailed(_("Enter the last name."), field="person.last_name")
    return person, _lead_data(request, payload)


def _capture(request: HttpRequest, payload: LeadCaptureIn, person: Person | dict, data: dict) -> tuple[int, dict]:
    with api_field_names(FIELD_NAMES):
        result = services.lead_capture(
            by=request.membership,
            person=person,
            lead=data,
            channel=payload.channel,
            captured_at=payload.captured_at,
        )
    # The capturer gets the lead back even when the response joined a lead someone else works:
    # they sent the prospect and need its id to follow up through their own channel.
    lead = Lead.objects.select_related("person", "organization", "interest").get(pk=result.lead.pk)
    body = LeadCaptured.from_orm(
        {
            "lead": lead,
            "created": result.created,
            "person_created": result.person_created,
            "match_kind": result.match.kind if result.match else None,
            "match_reason": result.match.reason if result.match else None,
        }
    ).model_dump(mode="json")
    return (201 if result.created else 200), body


@router.post(
    "/leads",
    response={201: LeadCaptured, 200: LeadCaptured},
    summary="Capture a lead (201 new lead; 200 added to the person's open lead of the same interest)",
    description=(
        "Send an `Idempotency-Key` header to make retries safe: the same key with the same body returns the "
        "first answer again and creates nothing; the same key with another body is a 409."
    ),
)
def lead_capture(
    request: HttpRequest,
    payload: LeadCaptureIn,
    idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
):
    key = None
    if idempotency_key is not None:
        key = idempotency_key.strip()
        if not key or len(key) > 200:
            raise ValidationFailed(_("The Idempotency-Key must have 1 to 200 characters."), field="Idempotency-Key")
    # Checking the input and reading the tenant's configuration happen before the transaction: on SQLite a
    # transaction holds the database's one write lock, and every capture waits for the one before it.
    with config_memo():
        digest = _body_hash(payload) if key is not None else ""
        if key is not None and (answered := _answered(request.membership.tenant_id, key, digest)) is not None:
            return answered  # a repeat: the first answer, even if the input would no longer pass
        capture_config_share(request.membership.tenant_id)
        person, data = _capture_input(request, payload)
        capture_prefetch(request.membership.tenant_id)
        if key is None:
            with transaction.atomic():
                return Status(*_capture(request, payload, person, data))
        return _capture_once(request, payload, key, digest, person, data)


def _answered(tenant_id: int, key: str, digest: str) -> Status | None:
    """The stored answer to an earlier request with this key (409 if that one had another body)."""
    record = IdempotencyRecord.objects.filter(tenant_id=tenant_id, key=key).first()
    if record is None:
        return None
    if record.body_hash != digest:
        raise Conflict(_("This Idempotency-Key was used with another request body."), field="Idempotency-Key")
    return Status(record.status_code, record.response)


class _KeyTaken(Exception):
    """Another request with this Idempotency-Key committed its answer first."""


def _capture_once(request: HttpRequest, payload: LeadCaptureIn, key: str, digest: str, person, data) -> Status:
    """The first request with this key captures and stores its answer with it, in one insert at the end; one
    that raced it gets the first answer back, and its own capture is rolled back."""
    tenant_id = request.membership.tenant_id
    try:
        with transaction.atomic():
            if connection.vendor == "sqlite" and (answered := _answered(tenant_id, key, digest)) is not None:
                # One write transaction at a time: a request with this key may have committed while this one
                # waited for its turn (the check before the transaction missed it); asking costs less than a
                # capture that would be rolled back.
                return answered
            status, body = _capture(request, payload, person, data)
            try:
                IdempotencyRecord.objects.create(
                    tenant_id=tenant_id, key=key, body_hash=digest, status_code=status, response=body,
                    lead_id=body["lead"]["id"],
                )  # fmt: skip
            except IntegrityError as exc:
                # The key's row exists (on PostgreSQL the insert waited for its transaction to commit). No
                # savepoint: this transaction is lost either way, and leaving the block rolls the capture back.
                raise _KeyTaken from exc
    except _KeyTaken:
        answered = _answered(tenant_id, key, digest)
        if answered is None:  # removed meanwhile: the client may send again
            raise Conflict(
                _("A request with this Idempotency-Key is still running."), field="Idempotency-Key"
            ) from None
        return answered
    return Status(status, body)


@router.get("/leads/{lead_id}", response=LeadOut)
def lead_detail(request: HttpRequest, lead_id: int):
    return _lead(request, lead_id)


@router.patch("/leads/{lead_id}", response=LeadOut, summary="Change qualification and other fields (409 if stale)")
def lead_update(request: HttpRequest, lead_id: int, payload: LeadPatch):
    lead = _lead(request, lead_id)
    with api_field_names(FIELD_NAMES):
        services.lead_update(
            lead=lead, by=request.membership, data=_lead_data(request, payload), version=payload.version
        )
    return _lead(request, lead_id)


@router.post("/leads/{lead_id}/transitions", response=LeadOut, summary="Change the status through the state machine")
def lead_transition(request: HttpRequest, lead_id: int, payload: TransitionIn):
    lead = _lead(request, lead_id)
    reason = None
    if payload.reason_id is not None:
        reason = LeadReason.objects.visible_to(request.membership).filter(pk=payload.reason_id).first()
        if reason is None:
            raise ValidationFailed(_("No such reason."), field="reason_id")
    with api_field_names(FIELD_NAMES):
        services.lead_transition(
            lead=lead,
            by=request.membership,
            to=payload.to,
            reason=reason,
            note=payload.note,
            recontact_on=payload.recontact_on,
            won_value=payload.won_value,
            version=payload.version,
        )
    return _lead(request, lead_id)


@router.post("/leads/{lead_id}/assignment", response=LeadOut, summary="Assign to a member and/or team")
def lead_assign(request: HttpRequest, lead_id: int, payload: AssignmentIn):
    lead = _lead(request, lead_id)
    tenant_id = request.membership.tenant_id
    owner = team = None
    if payload.owner_id is not None:
        owner = Membership.objects.filter(tenant_id=tenant_id, pk=payload.owner_id).first()
        if owner is None:
            raise ValidationFailed(_("No such member."), field="owner_id")
    if payload.team_id is not None:
        team = Team.objects.filter(tenant_id=tenant_id, pk=payload.team_id).first()
        if team is None:
            raise ValidationFailed(_("No such team."), field="team_id")
    with api_field_names(FIELD_NAMES):
        services.lead_assign(
            lead=lead, by=request.membership, owner=owner, team=team, reason=payload.reason, version=payload.version
        )
    return _lead(request, lead_id)


@router.get("/leads/{lead_id}/events", response=list[EventOut], summary="The lead's history, newest first")
def lead_events(request: HttpRequest, lead_id: int):
    return _lead(request, lead_id).events.all()[:500]


@router.get("/leads/{lead_id}/activities", response=list[ActivityOut])
def activity_list(request: HttpRequest, lead_id: int):
    return _lead(request, lead_id).activities.all()[:500]


@router.post("/leads/{lead_id}/activities", response={201: ActivityOut}, summary="Log a call, e-mail, meeting or note")
def activity_create(request: HttpRequest, lead_id: int, payload: ActivityIn):
    lead = _lead(request, lead_id)
    activity = services.activity_log(
        lead=lead,
        by=request.membership,
        kind=payload.kind,
        outcome=payload.outcome or "",
        duration_minutes=payload.duration_minutes,
        note=payload.note,
        at=payload.at,
    )
    return Status(201, activity)


@router.get("/leads/{lead_id}/follow-ups", response=list[FollowUpOut])
def follow_up_list(request: HttpRequest, lead_id: int):
    return _lead(request, lead_id).follow_ups.all()[:500]


@router.post("/leads/{lead_id}/follow-ups", response={201: FollowUpOut}, summary="Schedule a follow-up")
def follow_up_create(request: HttpRequest, lead_id: int, payload: FollowUpIn):
    lead = _lead(request, lead_id)
    assignee = None
    if payload.assignee_id is not None:
        assignee = Membership.objects.filter(tenant_id=request.membership.tenant_id, pk=payload.assignee_id).first()
        if assignee is None:
            raise ValidationFailed(_("No such member."), field="assignee_id")
    with api_field_names({"assignee": "assignee_id"}):
        follow_up = services.follow_up_schedule(
            lead=lead, by=request.membership, due_at=payload.due_at, assignee=assignee, kind=payload.kind,
            note=payload.note,
        )  # fmt: skip
    return Status(201, follow_up)


@router.post("/follow-ups/{follow_up_id}/done", response=FollowUpOut, summary="Mark a follow-up done")
def follow_up_done(request: HttpRequest, follow_up_id: int):
    follow_up = get_object_or_404(FollowUp.objects.visible_to(request.membership), pk=follow_up_id)
    return services.follow_up_done(follow_up=follow_up, by=request.membership)


__all__ = ["Channel", "router"]
