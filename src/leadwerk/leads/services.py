"""Every change to a lead: capture, status, assignment, activities, follow-ups. UI, API and imports call these.

Each change writes a LeadEvent (actor, time, before/after, reason), because reports are computed from events.
Writes are optimistic: a lead carries a version; a stale write is refused with a Conflict naming who changed it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, Min
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from leadwerk.accounts.models import Membership, Team
from leadwerk.contacts.matching import Match
from leadwerk.contacts.models import Organization, Person
from leadwerk.contacts.services import person_upsert
from leadwerk.core.exceptions import Conflict, NotFound, ValidationFailed

from . import scoring, sla, states
from .models import Activity, Channel, FollowUp, InterestCategory, Lead, LeadEvent, LeadReason
from .questions import qualification_clean, qualify_check
from .roles import LEAD_ADMINS, LEAD_CAPTURERS, LEAD_WORKERS
from .states import Status

# Lead fields a capture or an edit may set directly (status, owner, SLAs and outcomes have their own services).
LEAD_FIELDS = (
    "title", "interest", "organization", "source", "source_details", "message", "budget", "authority", "need",
    "timeline", "qualification", "attributes", "estimated_value", "rating",
)  # fmt: skip
# Activities that count as contact with the prospect (speed-to-lead ends with the first of them).
CONTACT_KINDS = frozenset({Activity.Kind.CALL, Activity.Kind.EMAIL, Activity.Kind.MEETING})


class NotAllowed(NotFound):
    """The member may not do this to this lead; shown as 'not found' so it does not reveal the lead."""

    def __init__(self) -> None:
        super().__init__(_("Lead not found."))


def _require(by: Membership, roles: frozenset, lead: Lead | None = None) -> None:
    if not by.is_active or by.role not in roles:
        raise NotAllowed()
    if lead is not None and not Lead.objects.visible_to(by).filter(pk=lead.pk).exists():
        raise NotAllowed()


def _event(lead: Lead, kind: str, by: Membership | None, *, before=None, after=None, reason: str = "", at=None):
    return LeadEvent.objects.create(
        tenant_id=lead.tenant_id,
        lead=lead,
        kind=kind,
        actor=by,
        at=at or timezone.now(),
        before=before or {},
        after=after or {},
        reason=reason[:300],
    )


def _write(lead: Lead, by: Membership | None, version: int | None, **changes: Any) -> None:
    """Save ``changes`` only if nobody wrote the lead since ``version`` was read (default: the instance's)."""
    expected = lead.version if version is None else version
    now = timezone.now()
    updated = Lead.objects.filter(pk=lead.pk, version=expected).update(
        **changes, version=F("version") + 1, updated_by=by, updated_at=now
    )
    if not updated:
        current = Lead.objects.select_related("updated_by__user").get(pk=lead.pk)
        who = (
            current.updated_by.user.full_name or current.updated_by.user.email
            if current.updated_by
            else _("the system")
        )
        raise Conflict(
            _("%(who)s changed this lead at %(time)s, after you opened it. Reload it and apply your change again.")
            % {
                "who": who,
                "time": formats.date_format(timezone.localtime(current.updated_at), "SHORT_DATETIME_FORMAT"),
            },
            field="version",
        )
    # The row is exactly the instance plus these changes (the version matched), so set them here instead of
    # reading the whole row back: capture writes a lead several times and this saved a SELECT each time.
    lead.version, lead.updated_by, lead.updated_at = expected + 1, by, now
    for name, value in changes.items():
        field = Lead._meta.get_field(name)
        setattr(lead, name, value if field.is_relation else field.to_python(value))


def _check_tenant(by: Membership, obj, field: str) -> None:
    if obj is not None and obj.tenant_id != by.tenant_id:
        raise ValidationFailed(_("Choose one of this tenant's entries."), field=field)


def _clean_lead_data(by: Membership, data: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(LEAD_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown field."), field=sorted(unknown)[0])
    clean = dict(data)
    interest = clean.get("interest")
    _check_tenant(by, interest, "interest")
    if interest is not None and not interest.active:
        raise ValidationFailed(_("This interest is no longer offered."), field="interest")
    _check_tenant(by, clean.get("organization"), "organization")
    for field in ("budget", "estimated_value"):
        value = clean.get(field)
        if value is not None and Decimal(value) < 0:
            raise ValidationFailed(_("Enter an amount of zero or more."), field=field)
    for field in ("title", "source", "need"):
        if field in clean:
            clean[field] = " ".join(str(clean[field] or "").split())
    if "qualification" in clean:
        # Typed by the tenant's questions (leads/questions.py); the dict replaces the stored answers.
        answers = qualification_clean(by.tenant_id, clean["qualification"] or {})
        clean["qualification"] = {k: v for k, v in answers.items() if v is not None}
    return clean


# --- capture -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaptureResult:
    lead: Lead
    created: bool  # False: the response was added to the person's open lead for the same interest
    person_created: bool
    match: Match | None


@transaction.atomic
def lead_capture(
    *,
    by: Membership,
    person: Mapping[str, Any] | Person,
    lead: Mapping[str, Any] | None = None,
    channel: str = Channel.MANUAL,
    captured_at: dt.datetime | None = None,
) -> CaptureResult:
    """The one way a lead enters the system, whatever the channel.

    Finds or creates the person with the marketing database's matcher; when that person already has an open
    lead for the same interest, the new response is added to it instead of creating a duplicate lead.
    """
    _require(by, LEAD_CAPTURERS)
    if channel not in Channel.values:
        raise ValidationFailed(_("Unknown channel."), field="channel")
    data = _clean_lead_data(by, lead or {})
    now = timezone.now()
    captured_at = captured_at or now
    if captured_at > now + dt.timedelta(minutes=5):
        raise ValidationFailed(_("The capture time lies in the future."), field="captured_at")

    if isinstance(person, Person):
        if person.tenant_id != by.tenant_id:
            raise ValidationFailed(_("Choose a person of this tenant."), field="person")
        found, person_created, match = person, False, None
    else:
        result = person_upsert(by=by, data=person)
        found, person_created, match = result.person, result.created, result.match
    if data.get("organization") is None and found.organization_id:
        data["organization"] = Organization.objects.get(pk=found.organization_id)

    existing = (
        Lead.objects.select_for_update()
        .filter(tenant_id=by.tenant_id, person=found, interest=data.get("interest"), status__in=states.OPEN)
        .order_by("-captured_at", "-pk")
        .first()
    )
    if existing is not None:
        _add_response(existing, by, channel, data, captured_at)
        return CaptureResult(lead=existing, created=False, person_created=person_created, match=match)

    new = Lead(
        tenant_id=by.tenant_id,
        person=found,
        channel=channel,
        captured_at=captured_at,
        status=Status.NEW,
        status_changed_at=captured_at,
        stage_entered_at={Status.NEW: captured_at.isoformat()},
        updated_by=by,
        **data,
    )
    if by.role not in LEAD_ADMINS and by.role in LEAD_WORKERS:
        # A sales user or agent entering a lead by hand keeps it (it stays visible to them).
        new.owner, new.team, new.assigned_at = by, by.team, captured_at
    new.save()
    _event(
        new,
        LeadEvent.Kind.CREATED,
        by,
        after={"status": Status.NEW, "channel": channel, "source": new.source, "owner": new.owner_id},
        at=captured_at,
    )
    scoring.lead_score(new, by=by, fresh=True)  # before the SLAs and routing: both may depend on the grade
    routed = None
    if new.owner_id is None:
        # Routing comes last: its rules may test the grade that scoring has just given.
        from .routing import lead_route  # routing imports this module

        routed = lead_route(new, fresh=True)
    if routed is None:
        sla.lead_sla_apply(lead=new)  # an assignment by routing has applied them already
    return CaptureResult(lead=new, created=True, person_created=person_created, match=match)


def _add_response(lead: Lead, by: Membership, channel: str, data: Mapping[str, Any], at: dt.datetime) -> None:
    note = data.get("message") or data.get("title") or ""
    Activity.objects.create(tenant_id=lead.tenant_id, lead=lead, kind=Activity.Kind.RESPONSE, note=note, at=at, by=by)
    _event(lead, LeadEvent.Kind.RESPONSE, by, after={"channel": channel, "source": data.get("source", "")}, at=at)
    # Fill what the lead lacks; a new response never overwrites the qualification already gathered.
    fill = {k: v for k, v in data.items() if v not in (None, "", {}) and getattr(lead, k) in (None, "", {})}
    if lead.status == Status.NURTURE:
        _transition(lead, by, Status.QUALIFYING, reason=_("new response"), version=None, extra=fill)
    else:
        _write(lead, by, None, **fill)
    scoring.lead_score(lead, by=by)


# --- status --------------------------------------------------------------------------------------


def _next_morning(day: dt.date, tenant_tz: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9, 0), tzinfo=ZoneInfo(tenant_tz))


@transaction.atomic
def lead_transition(
    *,
    lead: Lead,
    by: Membership,
    to: str,
    reason: LeadReason | None = None,
    note: str = "",
    recontact_on: dt.date | None = None,
    won_value: Decimal | None = None,
    version: int | None = None,
) -> Lead:
    """Move a lead along the state machine; lost and disqualified need a reason, nurture a re-contact date."""
    _require(by, LEAD_WORKERS, lead)
    lead.refresh_from_db()
    extra: dict[str, Any] = {}
    states.check(lead.status, to)
    if to == Status.QUALIFIED:
        qualify_check(lead)
    if to in states.REASON_REQUIRED:
        kind = states.REASON_REQUIRED[to]
        if reason is None:
            raise ValidationFailed(_("Choose a reason."), field="reason")
        if reason.tenant_id != lead.tenant_id or reason.kind != kind or not reason.active:
            raise ValidationFailed(_("Choose a reason from the list."), field="reason")
        extra["lost_reason" if to == Status.LOST else "disqualified_reason"] = reason
        extra["reason_note"] = note[:300]
    if to == Status.NURTURE:
        today = timezone.localdate()
        if recontact_on is None:
            raise ValidationFailed(_("Enter the date to contact the lead again."), field="recontact_on")
        if recontact_on <= today:
            raise ValidationFailed(_("The re-contact date must lie in the future."), field="recontact_on")
        extra["recontact_on"] = recontact_on
    if to == Status.WON:
        if won_value is not None and Decimal(won_value) < 0:
            raise ValidationFailed(_("Enter an amount of zero or more."), field="won_value")
        extra["won_value"] = won_value if won_value is not None else lead.estimated_value
    taken = to == Status.ACCEPTED and lead.owner_id is None
    before_team = lead.team_id
    if taken:  # accepting is taking the lead on: no accepted lead without an owner
        extra.update(owner=by, team=lead.team or by.team, assigned_at=timezone.now())
    _transition(lead, by, to, reason=(reason.label if reason else "") or note, version=version, extra=extra)
    if taken:
        _event(
            lead,
            LeadEvent.Kind.ASSIGNMENT,
            by,
            before={"owner": None, "team": before_team},
            after={"owner": by.pk, "team": lead.team_id, "rule": ""},
            reason=_("took the lead on by accepting it"),
            at=extra["assigned_at"],
        )
    if to == Status.NURTURE:
        follow_up_schedule(
            lead=lead,
            by=by,
            due_at=_next_morning(recontact_on, by.tenant.timezone),
            assignee=lead.owner,
            kind=FollowUp.Kind.RECONTACT,
            note=note,
        )
    return lead


def _transition(lead: Lead, by: Membership | None, to: str, *, reason: str, version: int | None, extra=None) -> None:
    """Write a checked status change and its event (no role check: callers did it, or it is the system)."""
    now = timezone.now()
    before = lead.status
    entered = dict(lead.stage_entered_at)
    entered.setdefault(to, now.isoformat())
    changes: dict[str, Any] = {"status": to, "status_changed_at": now, "stage_entered_at": entered, **(extra or {})}
    if to == Status.ACCEPTED and lead.accepted_at is None:
        changes["accepted_at"] = now
    if to in states.CLOSED:
        changes["closed_at"] = now
        if to == Status.WON:
            changes["won_at"] = now
    if before == Status.NURTURE and to != Status.NURTURE:
        changes["recontact_on"] = None
    _write(lead, by, version, **changes)
    _event(lead, LeadEvent.Kind.STATUS, by, before={"status": before}, after={"status": to}, reason=reason, at=now)
    sla.lead_sla_apply(lead=lead)


def nurture_reopen_due(*, today: dt.date | None = None) -> int:
    """Reopen nurtured leads whose re-contact date has come (leads/tasks.py runs it hourly in the worker)."""
    today = today or timezone.localdate()
    count = 0
    for lead in Lead.objects.filter(status=Status.NURTURE, recontact_on__lte=today).iterator():
        with transaction.atomic():
            try:
                _transition(lead, None, states.REOPEN_AS, reason=_("re-contact date reached"), version=None)
            except Conflict:
                continue
            count += 1
    return count


# --- editing and assignment ---------------------------------------------------------------------


@transaction.atomic
def lead_update(*, lead: Lead, by: Membership, data: Mapping[str, Any], version: int | None = None) -> Lead:
    """Change qualification and other fields; the event records exactly what changed."""
    _require(by, LEAD_WORKERS, lead)
    clean = _clean_lead_data(by, data)
    before = {k: getattr(lead, k) for k in clean}
    changed = {k: v for k, v in clean.items() if before[k] != v}
    if not changed:
        return lead
    _write(lead, by, version, **changed)

    def plain(value):
        return value.pk if hasattr(value, "pk") else str(value) if isinstance(value, Decimal) else value

    _event(
        lead,
        LeadEvent.Kind.UPDATE,
        by,
        before={k: plain(before[k]) for k in changed},
        after={k: plain(v) for k, v in changed.items()},
    )
    scoring.lead_score(lead, by=by)
    return lead


@transaction.atomic
def lead_assign(
    *,
    lead: Lead,
    by: Membership,
    owner: Membership | None,
    team: Team | None = None,
    reason: str = "",
    version: int | None = None,
    rule: str = "",
) -> Lead:
    """Give a lead to a user and/or team. A lead not yet with anyone becomes 'routed' and waits for acceptance."""
    _require(by, LEAD_ADMINS, lead)
    return _assign(lead, by, owner, team, reason=reason or _("assigned by hand"), version=version, rule=rule)


def _assign(
    lead, by, owner, team, *, reason: str, version: int | None, rule: str = "", extra: Mapping[str, Any] | None = None
) -> Lead:
    if owner is not None:
        if owner.tenant_id != lead.tenant_id or not owner.is_active:
            raise ValidationFailed(_("Choose an active member of this tenant."), field="owner")
        if owner.role not in LEAD_WORKERS:
            raise ValidationFailed(_("This member's role cannot work leads."), field="owner")
        team = team or owner.team
    if team is not None and team.tenant_id != lead.tenant_id:
        raise ValidationFailed(_("Choose a team of this tenant."), field="team")
    if owner is None and team is None:
        raise ValidationFailed(_("Choose a person or a team."), field="owner")
    before = {"owner": lead.owner_id, "team": lead.team_id}
    now = timezone.now()
    _write(lead, by, version, owner=owner, team=team, assigned_at=now, **(extra or {}))
    _event(
        lead,
        LeadEvent.Kind.ASSIGNMENT,
        by,
        before=before,
        after={"owner": lead.owner_id, "team": lead.team_id, "rule": rule},
        reason=reason,
        at=now,
    )
    if Status.ROUTED in states.allowed(lead.status) and lead.status in {
        Status.NEW,
        Status.QUALIFYING,
        Status.QUALIFIED,
        Status.REJECTED,
        Status.NURTURE,
    }:
        _transition(lead, by, Status.ROUTED, reason=reason, version=None)  # applies the SLAs too
    else:
        sla.lead_sla_apply(lead=lead)  # the accept clock restarts with the assignment
    if owner is not None and owner.pk != before["owner"]:
        from .notifications import assignment_notify  # notifications reads models only; no cycle

        assignment_notify(lead=lead, owner=owner, by=by)
    return lead


# --- activities and follow-ups ------------------------------------------------------------------


@transaction.atomic
def activity_log(
    *,
    lead: Lead,
    by: Membership,
    kind: str,
    note: str = "",
    outcome: str = "",
    duration_minutes: int | None = None,
    at: dt.datetime | None = None,
) -> Activity:
    """Record a call, e-mail, meeting or note. The first real contact ends the speed-to-lead clock."""
    _require(by, LEAD_WORKERS, lead)
    if kind not in Activity.Kind.values or kind == Activity.Kind.RESPONSE:
        raise ValidationFailed(_("Choose call, e-mail, meeting or note."), field="kind")
    if outcome and outcome not in Activity.Outcome.values:
        raise ValidationFailed(_("Unknown outcome."), field="outcome")
    if kind == Activity.Kind.NOTE and not note.strip():
        raise ValidationFailed(_("Write the note."), field="note")
    now = timezone.now()
    at = at or now
    if at > now + dt.timedelta(minutes=5):
        raise ValidationFailed(_("An activity cannot lie in the future; schedule a follow-up instead."), field="at")
    activity = Activity.objects.create(
        tenant_id=lead.tenant_id,
        lead=lead,
        kind=kind,
        outcome=outcome,
        duration_minutes=duration_minutes,
        note=note.strip(),
        at=at,
        by=by,
    )
    lead.refresh_from_db()
    reached = outcome != Activity.Outcome.NOT_REACHED
    if kind in CONTACT_KINDS and reached and lead.first_contact_at is None:
        # Speed-to-lead is wall-clock time from capture (not business time), recorded for every lead.
        seconds = max(0, int((at - lead.captured_at).total_seconds()))
        _write(lead, by, None, first_contact_at=at, speed_to_lead_seconds=seconds)
        sla.lead_sla_apply(lead=lead)
        _event(lead, LeadEvent.Kind.SLA, by, after={"first_contact": at.isoformat(), "speed_to_lead_s": seconds}, at=at)
    scoring.lead_score(lead, by=by)
    return activity


def _refresh_next_follow_up(lead: Lead) -> None:
    due = FollowUp.objects.filter(lead=lead, done_at__isnull=True).aggregate(due=Min("due_at"))["due"]
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=due)
    lead.next_follow_up_at = due


@transaction.atomic
def follow_up_schedule(
    *,
    lead: Lead,
    by: Membership,
    due_at: dt.datetime,
    assignee: Membership | None = None,
    kind: str = FollowUp.Kind.CALL,
    note: str = "",
) -> FollowUp:
    _require(by, LEAD_WORKERS, lead)
    if kind not in FollowUp.Kind.values:
        raise ValidationFailed(_("Unknown follow-up type."), field="kind")
    assignee = assignee or lead.owner or by
    if assignee.tenant_id != lead.tenant_id or not assignee.is_active or assignee.role not in LEAD_WORKERS:
        raise ValidationFailed(_("Choose an active member who works leads."), field="assignee")
    if lead.status in states.CLOSED:
        raise ValidationFailed(_("The lead is closed; a new response will start a new lead."), field="due_at")
    follow_up = FollowUp.objects.create(
        tenant_id=lead.tenant_id, lead=lead, due_at=due_at, assignee=assignee, kind=kind, note=note.strip()[:300]
    )
    _refresh_next_follow_up(lead)
    return follow_up


@transaction.atomic
def follow_up_done(*, follow_up: FollowUp, by: Membership) -> FollowUp:
    _require(by, LEAD_WORKERS, follow_up.lead)
    if follow_up.done_at is None:
        follow_up.done_at, follow_up.done_by = timezone.now(), by
        follow_up.save(update_fields=["done_at", "done_by", "updated_at"])
        _refresh_next_follow_up(follow_up.lead)
    return follow_up


# --- configuration ------------------------------------------------------------------------------


@transaction.atomic
def interest_define(*, by: Membership, name: str, key: str) -> InterestCategory:
    _require(by, LEAD_ADMINS)
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed(_("Enter a name."), field="name")
    if InterestCategory.objects.filter(tenant_id=by.tenant_id, key=key).exists():
        raise ValidationFailed(_("This key is taken."), field="key")
    return InterestCategory.objects.create(tenant_id=by.tenant_id, name=name, key=key)


@transaction.atomic
def config_active_set(*, by: Membership, entry: InterestCategory | LeadReason, active: bool) -> None:
    """Retire (or bring back) an interest or reason; leads that use it keep it."""
    _require(by, LEAD_ADMINS)
    if entry.tenant_id != by.tenant_id:
        raise NotAllowed()
    entry.active = active
    entry.save(update_fields=["active", "updated_at"])


@transaction.atomic
def reason_define(*, by: Membership, kind: str, label: str) -> LeadReason:
    _require(by, LEAD_ADMINS)
    label = " ".join(label.split())
    if kind not in LeadReason.Kind.values:
        raise ValidationFailed(_("Choose lost or disqualified."), field="kind")
    if not label:
        raise ValidationFailed(_("Enter the reason."), field="label")
    if LeadReason.objects.filter(tenant_id=by.tenant_id, kind=kind, label=label).exists():
        raise ValidationFailed(_("This reason is already on the list."), field="label")
    return LeadReason.objects.create(tenant_id=by.tenant_id, kind=kind, label=label)
