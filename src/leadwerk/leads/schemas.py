import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from leadwerk.contacts.schemas import PersonFields

from .models import Activity, Channel, FollowUp, Rating, Timeline
from .states import Status


class Ref(Schema):
    id: int
    name: str


class InterestRef(Schema):
    key: str
    name: str


class PersonCard(Schema):
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str


class LeadFields(Schema):
    title: str | None = Field(default=None, max_length=200)
    interest: str | None = Field(default=None, description="Key of one of the tenant's interests.")
    organization_id: int | None = None
    source: str | None = Field(default=None, max_length=120)
    source_details: dict[str, Any] | None = Field(default=None, description="Tracking data, e.g. UTM parameters.")
    message: str | None = Field(default=None, max_length=5000)
    budget: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    authority: bool | None = None
    need: str | None = Field(default=None, max_length=300)
    timeline: Timeline | None = None
    qualification: dict[str, Any] | None = None
    estimated_value: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    rating: Rating | None = None


class LeadCaptureIn(LeadFields):
    person: PersonFields | None = Field(default=None, description="Who it is about; matched like any new person.")
    person_id: int | None = Field(default=None, description="Or an existing person's id.")
    channel: Channel = Channel.API
    captured_at: dt.datetime | None = Field(default=None, description="When it came in; defaults to now.")


class LeadPatch(LeadFields):
    version: int | None = Field(default=None, description="The version you read; a stale one is a 409.")


class LeadOut(Schema):
    id: int
    version: int
    status: Status
    title: str
    person: PersonCard
    organization: Ref | None
    interest: InterestRef | None
    channel: Channel
    source: str
    source_details: dict[str, Any]
    message: str
    budget: Decimal | None
    authority: bool | None
    need: str
    timeline: str
    qualification: dict[str, Any]
    estimated_value: Decimal | None
    rating: str
    score: int
    grade: str
    score_points: list[dict[str, Any]] = Field(
        description="The rule points behind the score: [{rule, label, points}] (+ count, decayed, capped for "
        "engagement rules)."
    )
    scored_at: dt.datetime | None
    owner_id: int | None
    team_id: int | None
    captured_at: dt.datetime
    first_contact_at: dt.datetime | None
    accepted_at: dt.datetime | None
    sla_first_contact_due: dt.datetime | None = Field(description="Open first-contact deadline (business time).")
    sla_accept_due: dt.datetime | None
    sla_outcome_due: dt.datetime | None
    sla_due_at: dt.datetime | None = Field(description="The earliest open SLA deadline; null when none runs.")
    sla_flags: dict[str, Any] = Field(
        description="Per deadline (first_contact, accept, outcome): due and when it was reminded, breached, "
        "escalated and re-routed."
    )
    speed_to_lead_seconds: int | None = Field(description="Wall-clock seconds from capture to first contact.")
    next_follow_up_at: dt.datetime | None
    recontact_on: dt.date | None
    lost_reason_id: int | None
    disqualified_reason_id: int | None
    won_value: Decimal | None
    won_at: dt.datetime | None
    closed_at: dt.datetime | None


class LeadCaptured(Schema):
    lead: LeadOut
    created: bool = Field(description="False: the response was added to the person's open lead of that interest.")
    person_created: bool
    match_kind: str | None
    match_reason: str | None


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None


class TransitionIn(Schema):
    to: Status
    reason_id: int | None = Field(default=None, description="Required for lost and disqualified.")
    note: str = Field(default="", max_length=300)
    recontact_on: dt.date | None = Field(default=None, description="Required for nurture.")
    won_value: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    version: int | None = None


class AssignmentIn(Schema):
    owner_id: int | None = None
    team_id: int | None = None
    reason: str = Field(default="", max_length=300)
    version: int | None = None


class ActivityIn(Schema):
    kind: Activity.Kind
    outcome: Activity.Outcome | None = None
    duration_minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    note: str = Field(default="", max_length=5000)
    at: dt.datetime | None = None


class ActivityOut(Schema):
    id: int
    kind: str
    outcome: str
    duration_minutes: int | None
    note: str
    at: dt.datetime
    by_id: int | None


class FollowUpIn(Schema):
    due_at: dt.datetime
    assignee_id: int | None = None
    kind: FollowUp.Kind = FollowUp.Kind.CALL
    note: str = Field(default="", max_length=300)


class FollowUpOut(Schema):
    id: int
    lead_id: int
    due_at: dt.datetime
    assignee_id: int | None
    kind: str
    note: str
    done_at: dt.datetime | None


class EventOut(Schema):
    id: int
    kind: str
    at: dt.datetime
    actor_id: int | None
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str
