"""POST /api/v1/leads/bulk: one action on many leads, through the same bulk services as the inbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from leadwerk.accounts.models import Membership, Team
from leadwerk.core.exceptions import ValidationFailed, api_field_names

from . import bulk
from .models import FollowUp, LeadReason
from .states import Status

router = Router(tags=["leads"])
FIELD_NAMES = {"owner": "owner_id", "team": "team_id", "reason": "reason_id", "assignee": "assignee_id"}


class BulkFilter(Schema):
    view: Literal["mine", "team", "unassigned", "overdue", "all"] | None = None
    status: Literal["open"] | Status | None = Field(default=None, description="'open' (default) or one status")
    interest: str | None = Field(default=None, description="interest key")
    grade: Literal["A", "B", "C", "D"] | None = None
    sla: Literal["overdue", "due_soon", "on_time"] | None = None


class BulkIn(Schema):
    action: Literal["assign", "status", "follow_up"]
    ids: list[int] | None = Field(default=None, description=f"Lead ids (at most {bulk.BULK_LIMIT}); or send filter")
    filter: BulkFilter | None = Field(default=None, description=f"All leads matching (at most {bulk.BULK_LIMIT})")
    # assign
    owner_id: int | None = None
    team_id: int | None = None
    # status
    to: Status | None = None
    reason_id: int | None = Field(default=None, description="Required for lost and disqualified.")
    recontact_on: dt.date | None = Field(default=None, description="Required for nurture.")
    won_value: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    # follow_up
    due_at: dt.datetime | None = None
    kind: FollowUp.Kind = FollowUp.Kind.CALL
    assignee_id: int | None = None
    # all
    note: str = Field(default="", max_length=300, description="Reason note, assignment reason or follow-up note")


class BulkRefusal(Schema):
    lead_id: int
    message: str


class BulkOut(Schema):
    action: str
    done: int
    refused: int
    done_ids: list[int]
    refusals: list[BulkRefusal]


def _member(request: HttpRequest, pk: int | None, field: str) -> Membership | None:
    if pk is None:
        return None
    member = Membership.objects.filter(tenant_id=request.membership.tenant_id, pk=pk).first()
    if member is None:
        raise ValidationFailed(_("No such member."), field=field)
    return member


@router.post(
    "/leads/bulk",
    response=BulkOut,
    summary="One action on many leads: assign, change status or schedule a follow-up",
    description=(
        "Send `ids` or a `filter` (as the inbox's). Each lead goes through the same service as a single change; "
        "leads that cannot take the change are listed in `refusals` with the reason, the others are changed. "
        "Input wrong for every lead (no reason for `lost`, a re-contact date in the past) is a 422."
    ),
)
def lead_bulk(request: HttpRequest, payload: BulkIn):
    by = request.membership
    bulk._require(by, payload.action)
    with api_field_names(FIELD_NAMES):
        selection = bulk.bulk_select(
            by=by,
            ids=payload.ids,
            filters=payload.filter.model_dump(exclude_none=True) if payload.filter is not None else None,
        )
        if payload.action == "assign":
            team = None
            if payload.team_id is not None:
                team = Team.objects.filter(tenant_id=by.tenant_id, pk=payload.team_id).first()
                if team is None:
                    raise ValidationFailed(_("No such team."), field="team_id")
            outcome = bulk.leads_assign(
                by=by,
                selection=selection,
                owner=_member(request, payload.owner_id, "owner_id"),
                team=team,
                reason=payload.note,
            )
        elif payload.action == "status":
            if payload.to is None:
                raise ValidationFailed(_("Choose the new status."), field="to")
            reason = None
            if payload.reason_id is not None:
                reason = LeadReason.objects.visible_to(by).filter(pk=payload.reason_id).first()
                if reason is None:
                    raise ValidationFailed(_("No such reason."), field="reason_id")
            outcome = bulk.leads_transition(
                by=by,
                selection=selection,
                to=payload.to,
                reason=reason,
                note=payload.note,
                recontact_on=payload.recontact_on,
                won_value=payload.won_value,
            )
        else:
            outcome = bulk.leads_follow_up(
                by=by,
                selection=selection,
                due_at=payload.due_at,
                kind=payload.kind,
                assignee=_member(request, payload.assignee_id, "assignee_id"),
                note=payload.note,
            )
    return outcome.as_dict()
