"""Leads from another system's past (Salesforce, HubSpot, Odoo, spreadsheets), written with their history.

The import's lead target calls these in history mode. Unlike ``services.lead_capture`` they take the lead's
status, owner and dates as they were, write the LeadEvents at the historical times (captured at the capture
date, the status at its date), and start nothing: no routing, no SLA deadlines, no notifications, no
assignment e-mails — the past has happened. Events carry ``after.imported`` and no actor, so reports can
tell migrated history from work done in Leadwerk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from leadwerk.accounts.models import Membership
from leadwerk.core.exceptions import ValidationFailed

from . import states
from .models import Activity, Channel, Lead, LeadEvent, LeadReason
from .roles import LEAD_CAPTURERS
from .services import NotAllowed
from .states import Status


@dataclass
class HistoryLead:
    """One lead as the old system knew it; ``data`` holds the plain lead fields (services.LEAD_FIELDS)."""

    person_id: int
    captured_at: dt.datetime
    status: str = Status.NEW
    status_at: dt.datetime | None = None  # when it reached ``status`` (the close date); default captured_at
    channel: str = Channel.IMPORT
    organization_id: int | None = None
    owner: Membership | None = None
    reason: LeadReason | None = None
    won_value: Decimal | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _check(row: HistoryLead, now: dt.datetime) -> None:
    if row.status not in Status.values:
        raise ValidationFailed(_("Unknown status."), field="status")
    if row.captured_at > now + dt.timedelta(minutes=5):
        raise ValidationFailed(_("The capture date lies in the future."), field="captured_at")
    if row.status_at is not None:
        if row.status_at > now + dt.timedelta(minutes=5):
            raise ValidationFailed(_("The close date lies in the future."), field="closed_at")
        if row.status_at < row.captured_at:
            raise ValidationFailed(_("The close date lies before the capture date."), field="closed_at")
    kind = states.REASON_REQUIRED.get(row.status)
    if kind and (row.reason is None or row.reason.kind != kind):
        raise ValidationFailed(_("A lost or disqualified lead needs a reason from the list."), field="reason")
    if row.channel not in Channel.values:
        raise ValidationFailed(_("Unknown channel."), field="channel")


@transaction.atomic
def lead_history_load(*, by: Membership, rows: list[HistoryLead]) -> list[Lead]:
    """Write past leads as they were, with their events at the historical times; triggers nothing."""
    if not by.is_active or by.role not in LEAD_CAPTURERS:
        raise NotAllowed()
    now = timezone.now()
    leads: list[Lead] = []
    for row in rows:
        _check(row, now)
        at = row.status_at or row.captured_at
        status = row.status
        entered = {Status.NEW: row.captured_at.isoformat()}
        entered.setdefault(status, at.isoformat())
        lead = Lead(
            tenant_id=by.tenant_id,
            person_id=row.person_id,
            organization_id=row.organization_id,
            channel=row.channel,
            captured_at=row.captured_at,
            status=status,
            status_changed_at=at,
            stage_entered_at=entered,
            updated_by=by,
            **row.data,
        )
        if row.owner is not None:
            lead.owner, lead.team_id, lead.assigned_at = row.owner, row.owner.team_id, row.captured_at
        if status in (Status.ACCEPTED, Status.IN_PROGRESS, Status.WON):
            lead.accepted_at = at if status == Status.ACCEPTED else row.captured_at
        if status in states.CLOSED:
            lead.closed_at = at
        if status == Status.WON:
            lead.won_at = at
            lead.won_value = row.won_value if row.won_value is not None else lead.estimated_value
        if status == Status.LOST:
            lead.lost_reason = row.reason
        if status == Status.DISQUALIFIED:
            lead.disqualified_reason = row.reason
        leads.append(lead)
    Lead.objects.bulk_create(leads, batch_size=500)
    events: list[LeadEvent] = []
    for row, lead in zip(rows, leads, strict=True):
        events.append(
            LeadEvent(
                tenant_id=by.tenant_id, lead=lead, kind=LeadEvent.Kind.CREATED, at=row.captured_at,
                after={"status": Status.NEW, "channel": lead.channel, "source": lead.source,
                       "owner": lead.owner_id, "imported": True},
            )
        )  # fmt: skip
        if row.owner is not None:
            events.append(
                LeadEvent(
                    tenant_id=by.tenant_id, lead=lead, kind=LeadEvent.Kind.ASSIGNMENT, at=row.captured_at,
                    before={"owner": None, "team": None},
                    after={"owner": lead.owner_id, "team": lead.team_id, "rule": "", "imported": True},
                    reason=_("imported"),
                )
            )  # fmt: skip
        if lead.status != Status.NEW:
            events.append(
                LeadEvent(
                    tenant_id=by.tenant_id, lead=lead, kind=LeadEvent.Kind.STATUS, at=lead.status_changed_at,
                    before={"status": Status.NEW}, after={"status": lead.status, "imported": True},
                    reason=(row.reason.label if row.reason else "")[:300],
                )
            )  # fmt: skip
    LeadEvent.objects.bulk_create(events, batch_size=1000)
    return leads


@transaction.atomic
def lead_history_response(
    *, lead: Lead, by: Membership, at: dt.datetime, channel: str, data: dict[str, Any]
) -> tuple[Activity, LeadEvent, dict[str, Any]]:
    """An imported row for a person's open lead of the same interest: a response at its time, no duplicate lead.

    Fills what the lead lacks, as a live response does; returns the activity, the event and the fields'
    previous values (for undo).
    """
    if not by.is_active or by.role not in LEAD_CAPTURERS or lead.tenant_id != by.tenant_id:
        raise NotAllowed()
    note = str(data.get("message") or data.get("title") or "")
    activity = Activity.objects.create(
        tenant_id=lead.tenant_id, lead=lead, kind=Activity.Kind.RESPONSE, note=note, at=at, by=None
    )
    event = LeadEvent.objects.create(
        tenant_id=lead.tenant_id, lead=lead, kind=LeadEvent.Kind.RESPONSE, at=at,
        after={"channel": channel, "source": data.get("source", ""), "imported": True},
    )  # fmt: skip
    fill = {k: v for k, v in data.items() if v not in (None, "", {}) and getattr(lead, k) in (None, "", {})}
    previous = {k: getattr(lead, k) for k in fill}
    if fill:
        Lead.objects.filter(pk=lead.pk).update(
            **fill, version=F("version") + 1, updated_by=by, updated_at=timezone.now()
        )
        lead.refresh_from_db()
    return activity, event, previous
