"""SLAs: business time on the tenant's calendar, the deadlines of each lead, and the job that reminds,
records breaches, escalates and re-routes.

Business time counts only the working hours of working days that are not public holidays of the calendar's
federal state (``holidays``) nor one of the tenant's further closed days. All arithmetic is done on UTC
instants, so a day with a daylight-saving change has exactly the working hours its wall clock shows.

Deadlines live on the lead (``sla_first_contact_due``, ``sla_accept_due``, ``sla_outcome_due``; ``sla_due_at`` is
the earliest still open, indexed for sorting and filtering). ``lead_sla_apply`` recomputes them after capture,
assignment, a status change, the first contact and a grade change. ``sla_run`` (every five minutes in the worker)
takes each step once per lead and deadline and records it in ``Lead.sla_flags``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays
from django.db import transaction
from django.db.models import F, Q
from django.tasks import task
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from leadwerk.accounts.models import Membership, Tenant
from leadwerk.core.exceptions import DomainError, NotFound, ValidationFailed
from leadwerk.core.memo import memoized

from . import states
from .models import BusinessCalendar, Lead, LeadEvent, Notification, SlaPolicy
from .notifications import notify
from .roles import LEAD_ADMINS
from .states import Status

log = logging.getLogger(__name__)

UTC = dt.UTC
Metric = SlaPolicy.Metric
# Metric → the lead field holding its deadline.
DUE_FIELDS: dict[str, str] = {
    Metric.FIRST_CONTACT: "sla_first_contact_due",
    Metric.ACCEPT: "sla_accept_due",
    Metric.OUTCOME: "sla_outcome_due",
}
SLA_FIELDS = (*DUE_FIELDS.values(), "sla_due_at")
DEFAULT_WORKDAYS = (0, 1, 2, 3, 4)
DUE_SOON = dt.timedelta(hours=4)  # "due soon" in the inbox filter and the badge
BATCH = 500
# Statuses in which a lead still waits for acceptance (the accept clock runs).
AWAITING_ACCEPT = frozenset({Status.NEW, Status.QUALIFYING, Status.QUALIFIED, Status.ROUTED, Status.REJECTED})

FEDERAL_STATES = [
    ("BW", gettext_lazy("Baden-Württemberg")),
    ("BY", gettext_lazy("Bavaria")),
    ("BE", gettext_lazy("Berlin")),
    ("BB", gettext_lazy("Brandenburg")),
    ("HB", gettext_lazy("Bremen")),
    ("HH", gettext_lazy("Hamburg")),
    ("HE", gettext_lazy("Hesse")),
    ("MV", gettext_lazy("Mecklenburg-Western Pomerania")),
    ("NI", gettext_lazy("Lower Saxony")),
    ("NW", gettext_lazy("North Rhine-Westphalia")),
    ("RP", gettext_lazy("Rhineland-Palatinate")),
    ("SL", gettext_lazy("Saarland")),
    ("SN", gettext_lazy("Saxony")),
    ("ST", gettext_lazy("Saxony-Anhalt")),
    ("SH", gettext_lazy("Schleswig-Holstein")),
    ("TH", gettext_lazy("Thuringia")),
]
STATE_CODES = frozenset(code for code, _label in FEDERAL_STATES)


# --- business time -------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def public_holidays(state: str, year: int) -> frozenset[dt.date]:
    """German public holidays of one year, nationwide plus those of the federal state (cached per year/state)."""
    return frozenset(holidays.country_holidays("DE", subdiv=state or None, years=year))


@dataclass(frozen=True)
class Hours:
    """A calendar prepared for arithmetic: working weekdays, daily window, closed days, time zone."""

    workdays: frozenset[int]
    starts: dt.time
    ends: dt.time
    state: str
    closed: frozenset[dt.date]
    tz: ZoneInfo

    def is_working_day(self, day: dt.date) -> bool:
        return (
            day.weekday() in self.workdays
            and day not in self.closed
            and day not in public_holidays(self.state, day.year)
        )

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The day's working window as UTC instants (the wall-clock times in the calendar's zone)."""
        start = dt.datetime.combine(day, self.starts, tzinfo=self.tz).astimezone(UTC)
        end = dt.datetime.combine(day, self.ends, tzinfo=self.tz).astimezone(UTC)
        return start, end


def _closed_days(values: Iterable) -> frozenset[dt.date]:
    days = set()
    for value in values or ():
        try:
            days.add(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)))
        except ValueError:
            continue
    return frozenset(days)


def hours_of(calendar: BusinessCalendar | Hours | None, tz: str | ZoneInfo | None = None) -> Hours:
    if isinstance(calendar, Hours):
        return calendar
    calendar = calendar or BusinessCalendar()
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz or "Europe/Berlin")
    workdays = frozenset(int(d) for d in (calendar.workdays or DEFAULT_WORKDAYS))
    if calendar.day_ends <= calendar.day_starts or not workdays:
        raise ValueError("A business calendar needs working days and a day that ends after it starts.")
    return Hours(
        workdays=workdays,
        starts=calendar.day_starts,
        ends=calendar.day_ends,
        state=calendar.state or "",
        closed=_closed_days(calendar.closed_days),
        tz=zone,
    )


# A calendar with at least one working day has one within a few weeks even around Christmas; this bound only
# protects against a calendar whose every working day is closed.
MAX_DAYS = 5 * 366


def add_business_minutes(
    calendar: BusinessCalendar | Hours | None, start: dt.datetime, minutes: int, tz: str | ZoneInfo | None = None
) -> dt.datetime:
    """The instant ``minutes`` of business time after ``start`` (a start outside working hours waits for the next
    working window). Returns an aware UTC datetime."""
    hours = hours_of(calendar, tz)
    cursor = start.astimezone(UTC)
    remaining = dt.timedelta(minutes=minutes)
    day = cursor.astimezone(hours.tz).date()
    for _i in range(MAX_DAYS):
        if hours.is_working_day(day):
            opens, closes = hours.window(day)
            cursor = max(cursor, opens)
            if cursor < closes:
                available = closes - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
        day += dt.timedelta(days=1)
    raise ValueError("The business calendar has no working time.")


def business_minutes_between(
    calendar: BusinessCalendar | Hours | None, start: dt.datetime, end: dt.datetime, tz: str | ZoneInfo | None = None
) -> int:
    """Whole business minutes from ``start`` to ``end`` (negative when ``end`` lies before ``start``)."""
    hours = hours_of(calendar, tz)
    if end < start:
        return -business_minutes_between(hours, end, start)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = dt.timedelta()
    day = start.astimezone(hours.tz).date()
    last = end.astimezone(hours.tz).date()
    while day <= last:
        if hours.is_working_day(day):
            opens, closes = hours.window(day)
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += hi - lo
        day += dt.timedelta(days=1)
    return int(total.total_seconds() // 60)


# --- configuration reads ---------------------------------------------------------------------------


@memoized
def calendar_get(tenant_id: int) -> BusinessCalendar:
    """The tenant's calendar, or the default (Monday to Friday, 8:00–17:00, nationwide holidays) unsaved."""
    calendar = BusinessCalendar.objects.filter(tenant_id=tenant_id).first()
    if calendar is None:
        calendar = BusinessCalendar(tenant_id=tenant_id, workdays=list(DEFAULT_WORKDAYS))
    return calendar


def tenant_hours(tenant: Tenant) -> Hours:
    return hours_of(calendar_get(tenant.pk), tenant.timezone)


@memoized
def tenant_timezone(tenant_id: int) -> str:
    return Tenant.objects.values_list("timezone", flat=True).get(pk=tenant_id)


@memoized
def active_policies(tenant_id: int) -> list[SlaPolicy]:
    return list(SlaPolicy.objects.filter(tenant_id=tenant_id, active=True).order_by("id"))


def policy_for(policies: Iterable[SlaPolicy], metric: str, grade: str) -> SlaPolicy | None:
    """A policy for the lead's grade wins over one for all grades; among equals the oldest."""
    general = None
    for policy in policies:
        if policy.metric != metric or not policy.active:
            continue
        if grade and policy.grade == grade:
            return policy
        if not policy.grade and general is None:
            general = policy
    return general


# --- deadlines of a lead ---------------------------------------------------------------------------


def _starts(lead: Lead) -> dict[str, dt.datetime | None]:
    """When each clock starts, or None when it does not run (met, closed, parked, not yet started)."""
    if lead.status in states.CLOSED or lead.status == Status.NURTURE:
        return dict.fromkeys(DUE_FIELDS)
    return {
        Metric.FIRST_CONTACT: lead.captured_at if lead.first_contact_at is None else None,
        Metric.ACCEPT: (lead.assigned_at or lead.captured_at)
        if lead.accepted_at is None and lead.status in AWAITING_ACCEPT
        else None,
        Metric.OUTCOME: lead.accepted_at,
    }


def sla_deadlines(lead: Lead, *, hours: Hours, policies: Iterable[SlaPolicy]) -> dict[str, dt.datetime | None]:
    """The lead's SLA fields as they should be now."""
    policies = list(policies)
    values: dict[str, dt.datetime | None] = {}
    for metric, start in _starts(lead).items():
        policy = policy_for(policies, metric, lead.grade) if start is not None else None
        values[DUE_FIELDS[metric]] = (
            add_business_minutes(hours, start, policy.business_minutes) if policy is not None else None
        )
    open_dues = [v for v in values.values() if v is not None]
    values["sla_due_at"] = min(open_dues) if open_dues else None
    return values


def lead_sla_apply(*, lead: Lead, hours: Hours | None = None, policies: Iterable[SlaPolicy] | None = None) -> Lead:
    """Set the lead's deadlines from the active policy of its grade; clear those met or no longer running.

    Called by the lead services after capture, assignment, a status change and the first contact, and by
    scoring after a grade change. SLA fields are the system's bookkeeping: writing them does not bump the
    lead's version, so nobody's open form becomes stale because a deadline moved.
    """
    if hours is None:
        hours = hours_of(calendar_get(lead.tenant_id), tenant_timezone(lead.tenant_id))
    if policies is None:
        policies = active_policies(lead.tenant_id)
    values = sla_deadlines(lead, hours=hours, policies=policies)
    changed = {k: v for k, v in values.items() if getattr(lead, k) != v}
    if changed:
        Lead.objects.filter(pk=lead.pk).update(**changed)
        for key, value in changed.items():
            setattr(lead, key, value)
    return lead


def sla_recompute(*, tenant: Tenant) -> int:
    """Recompute the deadlines of all open leads of a tenant (after its policies or calendar changed)."""
    hours = tenant_hours(tenant)
    policies = active_policies(tenant.pk)
    changed = 0
    leads = Lead.objects.filter(tenant_id=tenant.pk, status__in=states.OPEN).only(
        "tenant_id", "status", "grade", "captured_at", "assigned_at", "first_contact_at", "accepted_at", *SLA_FIELDS
    )
    batch: list[Lead] = []
    for lead in leads.iterator(chunk_size=BATCH):
        values = sla_deadlines(lead, hours=hours, policies=policies)
        if any(getattr(lead, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(lead, key, value)
            batch.append(lead)
        if len(batch) >= BATCH:
            Lead.objects.bulk_update(batch, SLA_FIELDS)
            changed += len(batch)
            batch = []
    if batch:
        Lead.objects.bulk_update(batch, SLA_FIELDS)
        changed += len(batch)
    return changed


# --- the periodic job ------------------------------------------------------------------------------


def _managers(tenant_id: int, memo: dict | None = None) -> list[Membership]:
    if memo is not None and tenant_id in memo:
        return memo[tenant_id]
    found = list(
        Membership.objects.filter(tenant_id=tenant_id, role__in=LEAD_ADMINS, is_active=True)
        .select_related("user")
        .order_by("pk")
    )
    if memo is not None:
        memo[tenant_id] = found
    return found


def _team_lead(lead: Lead) -> Membership | None:
    team_lead = lead.team.lead if lead.team_id and lead.team else None
    if team_lead is not None and team_lead.is_active and team_lead.pk != lead.owner_id:
        return team_lead
    return None


def reminder_recipients(lead: Lead, memo: dict | None = None) -> list[Membership]:
    """The owner; without one the team lead; without one the tenant's managers and admins."""
    if lead.owner is not None and lead.owner.is_active:
        return [lead.owner]
    team_lead = _team_lead(lead)
    return [team_lead] if team_lead else _managers(lead.tenant_id, memo)


def escalation_recipients(lead: Lead, memo: dict | None = None) -> list[Membership]:
    """The team lead (unless they own the lead themselves), else the tenant's managers and admins."""
    team_lead = _team_lead(lead)
    return [team_lead] if team_lead else _managers(lead.tenant_id, memo)


def _lead_name(lead: Lead) -> str:
    person = lead.person
    name = " ".join(p for p in (person.first_name, person.last_name) if p) or f"#{lead.pk}"
    return f"{name} · {lead.title}" if lead.title else name


def _when(value: dt.datetime, hours: Hours) -> str:
    return formats.date_format(value.astimezone(hours.tz), "SHORT_DATETIME_FORMAT")


def _router():
    """The routing module's ``lead_route``, or None while routing is not installed."""
    try:
        from . import routing
    except ImportError:
        return None
    return getattr(routing, "lead_route", None)


@dataclass
class RunCounts:
    leads: int = 0
    reminded: int = 0
    breached: int = 0
    escalated: int = 0
    rerouted: int = 0
    managers: dict = dataclasses.field(default_factory=dict, repr=False)  # per run: tenant → managers and admins

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if k != "managers"}


def _plan(lead: Lead, *, hours: Hours, policies: list[SlaPolicy], now: dt.datetime, can_route: bool):
    """Which steps are due for this lead now: (new flags, [(metric, step, due, policy)])."""
    flags = {k: dict(v) for k, v in (lead.sla_flags or {}).items() if isinstance(v, dict)}
    steps = []
    for metric, field in DUE_FIELDS.items():
        due = getattr(lead, field)
        if due is None:
            continue
        due_iso = due.astimezone(UTC).isoformat()
        entry = flags.get(metric, {})
        if entry.get("due") != due_iso:
            entry = {"due": due_iso}  # a new deadline (e.g. after re-assignment): its steps start over
        policy = policy_for(policies, metric, lead.grade)
        stamp = now.isoformat()
        if now < due:
            remind = policy.remind_before_minutes if policy else None
            if remind and "reminded" not in entry and business_minutes_between(hours, now, due) <= remind:
                entry["reminded"] = stamp
                steps.append((metric, "reminded", due, policy))
        else:
            if "breached" not in entry:
                entry["breached"] = stamp
                steps.append((metric, "breached", due, policy))
                if policy is not None and policy.escalate:
                    entry["escalated"] = stamp
                    steps.append((metric, "escalated", due, policy))
            after = policy.reroute_after_minutes if policy else None
            if after and can_route and "rerouted" not in entry and now >= add_business_minutes(hours, due, after):
                entry["rerouted"] = stamp
                steps.append((metric, "rerouted", due, policy))
        flags[metric] = entry
    return flags, steps


def _act(lead: Lead, metric: str, step: str, due: dt.datetime, hours: Hours, now: dt.datetime, counts: RunCounts):
    label = Metric(metric).label
    name = _lead_name(lead)
    if step == "reminded":
        text = _("SLA: %(metric)s for %(lead)s is due %(due)s.") % {
            "metric": label, "lead": name, "due": _when(due, hours),
        }  # fmt: skip
        for recipient in reminder_recipients(lead, counts.managers):
            notify(recipient, Notification.Kind.SLA_REMINDER, text, lead)
        counts.reminded += 1
    elif step == "breached":
        LeadEvent.objects.create(
            tenant_id=lead.tenant_id, lead=lead, kind=LeadEvent.Kind.SLA, at=now, actor=None,
            before={"metric": metric, "due": due.isoformat()},
            after={"metric": metric, "breached": now.isoformat(), "owner": lead.owner_id},
            reason=_("%(metric)s deadline missed") % {"metric": label},
        )  # fmt: skip
        counts.breached += 1
    elif step == "escalated":
        owner = (lead.owner.user.full_name or lead.owner.user.email) if lead.owner else _("nobody")
        text = _("SLA missed: %(metric)s for %(lead)s was due %(due)s (owner: %(owner)s).") % {
            "metric": label, "lead": name, "due": _when(due, hours), "owner": owner,
        }  # fmt: skip
        recipients = escalation_recipients(lead, counts.managers)
        for recipient in recipients:
            notify(recipient, Notification.Kind.SLA_ESCALATION, text, lead)
        LeadEvent.objects.create(
            tenant_id=lead.tenant_id, lead=lead, kind=LeadEvent.Kind.SLA, at=now, actor=None,
            after={"metric": metric, "escalated": now.isoformat(), "to": [m.pk for m in recipients]},
            reason=_("%(metric)s deadline missed: escalated") % {"metric": label},
        )  # fmt: skip
        counts.escalated += 1
    elif step == "rerouted":
        lead_route = _router()
        before = {"owner": lead.owner_id, "team": lead.team_id}
        try:
            routed = lead_route(lead=lead, exclude_members=[m for m in (lead.owner,) if m is not None])
            reason = "" if routed is not None else _("no other member or team can take it")
        except DomainError as exc:
            routed, reason = None, exc.message
        if routed is None:
            # Nobody else can take it: the lead stays where it is; the event says why.
            LeadEvent.objects.create(
                tenant_id=lead.tenant_id, lead=lead, kind=LeadEvent.Kind.SLA, at=now, before=before,
                after={"metric": metric, "rerouted": None},
                reason=_("%(metric)s deadline missed: not re-routed, %(reason)s") % {"metric": label, "reason": reason},
            )  # fmt: skip
            return
        lead.refresh_from_db()
        LeadEvent.objects.create(
            tenant_id=lead.tenant_id, lead=lead, kind=LeadEvent.Kind.SLA, at=now, before=before,
            after={"metric": metric, "rerouted": now.isoformat(), "owner": lead.owner_id, "team": lead.team_id},
            reason=_("%(metric)s deadline missed: re-routed") % {"metric": label},
        )  # fmt: skip
        counts.rerouted += 1


def _process(lead: Lead, *, hours, policies, now, can_route, counts: RunCounts) -> None:
    flags, steps = _plan(lead, hours=hours, policies=policies, now=now, can_route=can_route)
    if not steps:
        return
    with transaction.atomic():
        # Claim the steps: only the runner that moves the version on does them (safe with concurrent runs).
        claimed = Lead.objects.filter(pk=lead.pk, version=lead.version).update(
            sla_flags=flags, version=F("version") + 1, updated_by=None, updated_at=timezone.now()
        )
        if not claimed:
            return
        lead.sla_flags, lead.version, lead.updated_by = flags, lead.version + 1, None
        counts.leads += 1
        for metric, step, due, _policy in steps:
            _act(lead, metric, step, due, hours, now, counts)


def sla_run(now: dt.datetime | None = None, *, tenant: Tenant | None = None) -> RunCounts:
    """Remind before, record and escalate after, and re-route long after each open deadline; once each.

    Candidates come from the (tenant, sla_due_at) index: leads whose earliest deadline lies before the
    furthest reminder horizon of the tenant's policies. Leads are read in batches ordered by deadline.
    """
    now = now or timezone.now()
    counts = RunCounts()
    can_route = _router() is not None
    tenants = (
        [tenant]
        if tenant is not None
        else Tenant.objects.filter(pk__in=SlaPolicy.objects.filter(active=True).values("tenant_id"))
    )
    for t in tenants:
        policies = active_policies(t.pk)
        if not policies:
            continue
        hours = tenant_hours(t)
        remind = max((p.remind_before_minutes or 0 for p in policies), default=0)
        horizon = add_business_minutes(hours, now, remind) if remind else now
        candidates = (
            Lead.objects.filter(tenant_id=t.pk, sla_due_at__lte=horizon, status__in=states.OPEN)
            .select_related("person", "owner__user", "team__lead__user")
            .order_by("sla_due_at", "pk")
        )
        last = None
        while True:
            page = candidates
            if last is not None:
                page = page.filter(Q(sla_due_at__gt=last[0]) | Q(sla_due_at=last[0], pk__gt=last[1]))
            batch = list(page[:BATCH])
            for lead in batch:
                _process(lead, hours=hours, policies=policies, now=now, can_route=can_route, counts=counts)
            if len(batch) < BATCH:
                break
            last = (batch[-1].sla_due_at, batch[-1].pk)
    return counts


# --- how the SLA state reads -------------------------------------------------------------------------

SLA_FILTERS = [
    ("overdue", gettext_lazy("SLA: overdue")),
    ("due_soon", gettext_lazy("SLA: due within 4 h")),
    ("on_time", gettext_lazy("SLA: on time")),
]


def sla_filter(leads, value: str | None, now: dt.datetime):
    """Overdue (a deadline has passed), due soon (the next one within 4 h) or on time (neither); else all."""
    match value:
        case "overdue":
            return leads.filter(sla_due_at__lte=now)
        case "due_soon":
            return leads.filter(sla_due_at__gt=now, sla_due_at__lte=now + DUE_SOON)
        case "on_time":
            return leads.filter(Q(sla_due_at__isnull=True) | Q(sla_due_at__gt=now + DUE_SOON))
    return leads


def duration_text(delta: dt.timedelta) -> str:
    """'35 min', '2 h', '3 days' — the unit a person would say."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return _("%(n)d min") % {"n": max(minutes, 1)}
    hours = minutes // 60
    if hours < 24:
        return _("%(n)d h") % {"n": hours}
    days = hours // 24
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


@dataclass(frozen=True)
class SlaState:
    tone: str  # overdue | soon | due | met | late
    text: str
    metric: str
    due: dt.datetime | None


def sla_state(lead: Lead, now: dt.datetime | None = None) -> SlaState | None:
    """The one line a lead's SLA shows: the earliest open deadline, or how fast the first contact came."""
    now = now or timezone.now()
    if lead.sla_due_at is not None:
        metric = next((m for m, f in DUE_FIELDS.items() if getattr(lead, f) == lead.sla_due_at), Metric.FIRST_CONTACT)
        label = Metric(metric).label
        due = lead.sla_due_at
        if due <= now:
            text = _("%(metric)s overdue by %(duration)s") % {"metric": label, "duration": duration_text(now - due)}
            return SlaState("overdue", text, metric, due)
        text = _("%(metric)s due in %(duration)s") % {"metric": label, "duration": duration_text(due - now)}
        return SlaState("soon" if due - now <= DUE_SOON else "due", text, metric, due)
    if lead.first_contact_at is not None and lead.speed_to_lead_seconds is not None:
        flags = (lead.sla_flags or {}).get(Metric.FIRST_CONTACT) or {}
        text = _("first contact in %(duration)s") % {
            "duration": duration_text(dt.timedelta(seconds=lead.speed_to_lead_seconds))
        }
        return SlaState("late" if flags.get("breached") else "met", text, Metric.FIRST_CONTACT, None)
    return None


# --- configuration services ------------------------------------------------------------------------

MAX_POLICY_MINUTES = 120 * 24 * 60  # a deadline further than that is no SLA


def _require_admin(by: Membership) -> None:
    if not by.is_active or by.role not in LEAD_ADMINS:
        raise NotFound(_("Not found."))


def _recompute_later(tenant_id: int) -> None:
    transaction.on_commit(lambda: sla_recompute_task.enqueue(tenant_id=tenant_id))


@task
def sla_recompute_task(*, tenant_id: int) -> int:
    """Recompute open leads' deadlines after the tenant's policies or calendar changed."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    return sla_recompute(tenant=tenant) if tenant is not None else 0


@transaction.atomic
def calendar_save(
    *,
    by: Membership,
    state: str,
    workdays: Iterable[int],
    day_starts: dt.time,
    day_ends: dt.time,
    closed_days: Iterable[dt.date | str] = (),
) -> BusinessCalendar:
    """Set the tenant's working days and hours, federal state and further closed days; deadlines follow."""
    _require_admin(by)
    state = (state or "").upper()
    if state and state not in STATE_CODES:
        raise ValidationFailed(
            _("Choose one of the 16 federal states, or none for nationwide holidays."), field="state"
        )
    try:
        days = sorted({int(d) for d in workdays})
    except (TypeError, ValueError):
        raise ValidationFailed(_("Choose working days."), field="workdays") from None
    if not days or any(d < 0 or d > 6 for d in days):
        raise ValidationFailed(_("Choose at least one working day."), field="workdays")
    if day_starts is None:
        raise ValidationFailed(_("Enter when the working day starts."), field="day_starts")
    if day_ends is None or day_ends <= day_starts:
        raise ValidationFailed(_("The working day must end after it starts."), field="day_ends")
    closed = set()
    for value in closed_days or ():
        try:
            closed.add(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip()))
        except ValueError:
            raise ValidationFailed(
                _("“%(value)s” is not a date (use YYYY-MM-DD).") % {"value": value}, field="closed_days"
            ) from None
    if len(closed) > 366:
        raise ValidationFailed(_("At most 366 closed days."), field="closed_days")
    calendar, _created = BusinessCalendar.objects.update_or_create(
        tenant_id=by.tenant_id,
        defaults={
            "state": state,
            "workdays": days,
            "day_starts": day_starts,
            "day_ends": day_ends,
            "closed_days": [d.isoformat() for d in sorted(closed)],
        },
    )
    _recompute_later(by.tenant_id)
    return calendar


POLICY_FIELDS = (
    "name", "grade", "metric", "business_minutes", "remind_before_minutes", "escalate", "reroute_after_minutes",
    "active",
)  # fmt: skip


def _clean_policy(by: Membership, data: dict, policy: SlaPolicy | None) -> dict:
    unknown = set(data) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationFailed(_("Unknown field."), field=sorted(unknown)[0])
    merged = {f: getattr(policy, f) for f in POLICY_FIELDS} if policy else {
        "grade": "", "remind_before_minutes": None, "escalate": True, "reroute_after_minutes": None, "active": True,
    }  # fmt: skip
    merged.update(data)
    name = " ".join(str(merged.get("name") or "").split())
    if not name:
        raise ValidationFailed(_("Enter a name."), field="name")
    if len(name) > 120:
        raise ValidationFailed(_("At most 120 characters."), field="name")
    grade = merged.get("grade") or ""
    if grade not in ("", "A", "B", "C", "D"):
        raise ValidationFailed(_("Choose a grade A to D, or none for all grades."), field="grade")
    if merged.get("metric") not in Metric.values:
        raise ValidationFailed(_("Choose first contact, acceptance or outcome."), field="metric")
    minutes = merged.get("business_minutes")
    if not isinstance(minutes, int) or minutes < 1 or minutes > MAX_POLICY_MINUTES:
        raise ValidationFailed(_("Enter a time between 1 minute and 120 days."), field="business_minutes")
    remind = merged.get("remind_before_minutes")
    if remind is not None and (not isinstance(remind, int) or remind < 1 or remind >= minutes):
        raise ValidationFailed(
            _("A reminder must come at least a minute before the deadline and after the clock starts."),
            field="remind_before_minutes",
        )
    reroute = merged.get("reroute_after_minutes")
    if reroute is not None and (not isinstance(reroute, int) or reroute < 0 or reroute > MAX_POLICY_MINUTES):
        raise ValidationFailed(_("Enter a time between 0 minutes and 120 days."), field="reroute_after_minutes")
    clean = {
        **merged,
        "name": name,
        "grade": grade,
        "escalate": bool(merged["escalate"]),
        "active": bool(merged["active"]),
    }
    if clean["active"]:
        twin = SlaPolicy.objects.filter(tenant_id=by.tenant_id, metric=clean["metric"], grade=grade, active=True)
        if policy is not None:
            twin = twin.exclude(pk=policy.pk)
        if twin.exists():
            raise ValidationFailed(
                _("There is already an active policy for this deadline and grade. Change that one instead."),
                field="grade",
            )
    return clean


@transaction.atomic
def sla_policy_create(*, by: Membership, data: dict) -> SlaPolicy:
    """A new deadline for a grade (or all grades); open leads get it at once."""
    _require_admin(by)
    policy = SlaPolicy.objects.create(tenant_id=by.tenant_id, **_clean_policy(by, data, None))
    _recompute_later(by.tenant_id)
    return policy


@transaction.atomic
def sla_policy_update(*, policy: SlaPolicy, by: Membership, data: dict) -> SlaPolicy:
    _require_admin(by)
    if policy.tenant_id != by.tenant_id:
        raise NotFound(_("Not found."))
    for key, value in _clean_policy(by, data, policy).items():
        setattr(policy, key, value)
    policy.save()
    _recompute_later(by.tenant_id)
    return policy


@transaction.atomic
def sla_policy_delete(*, policy: SlaPolicy, by: Membership) -> None:
    """Remove a policy; open leads lose its deadline (breaches already recorded stay in their history)."""
    _require_admin(by)
    if policy.tenant_id != by.tenant_id:
        raise NotFound(_("Not found."))
    policy.delete()
    _recompute_later(by.tenant_id)


def sla_preview(tenant: Tenant, now: dt.datetime | None = None) -> list[tuple[SlaPolicy, dt.datetime]]:
    """Each active policy with the deadline a clock started now would get."""
    now = now or timezone.now()
    hours = tenant_hours(tenant)
    return [(p, add_business_minutes(hours, now, p.business_minutes)) for p in active_policies(tenant.pk)]
