"""Reads for "My day" (screen, API and the daily digest): a member's follow-ups, new and hot leads, SLA deadlines.

Every query goes through ``visible_to()`` and filters on indexed columns first: follow-ups by
(tenant, assignee, done_at, due_at), leads by (tenant, owner, status) or (tenant, team, status).
Days are the tenant's days: "today" ends at midnight in the tenant's time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from leadwerk.accounts.models import Membership

from .models import FollowUp, Grade, Lead, Rating
from .states import OPEN, Status

# One bucket shows at most this many rows; the rest is a click away in the inbox.
BUCKET_SIZE = 25
UPCOMING_DAYS = 7
# Not yet taken up: nobody accepted or contacted the lead so far.
UNTOUCHED = (Status.NEW, Status.QUALIFYING, Status.QUALIFIED, Status.ROUTED)


@dataclass(frozen=True)
class Bucket:
    items: list
    more: bool  # there are more rows than shown

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True)
class MyDay:
    now: dt.datetime
    today: dt.date
    overdue: Bucket
    due_today: Bucket
    upcoming: Bucket
    hot_leads: Bucket
    sla_leads: Bucket

    @property
    def is_empty(self) -> bool:
        return not (self.overdue or self.due_today or self.upcoming or self.hot_leads or self.sla_leads)


def day_bounds(membership: Membership, now: dt.datetime) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """The tenant's local date of ``now`` and the start of that day and of the next one."""
    tz = ZoneInfo(membership.tenant.timezone)
    today = now.astimezone(tz).date()
    start = dt.datetime.combine(today, dt.time.min, tzinfo=tz)
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return today, start, tomorrow


def _bucket(queryset, size: int | None = None) -> Bucket:
    size = size or BUCKET_SIZE
    rows = list(queryset[: size + 1])
    return Bucket(items=rows[:size], more=len(rows) > size)


def open_follow_ups(membership: Membership):
    """The member's own open follow-ups on open leads they can see."""
    return (
        FollowUp.objects.visible_to(membership)
        .filter(assignee=membership, done_at__isnull=True, lead__status__in=OPEN)
        .select_related("lead__person", "lead__organization", "lead__interest")
        .order_by("due_at", "pk")
    )


# Per source, at most this many rows are sorted in Python (a member's untouched or due leads are a handful).
CANDIDATES = 2000


def _candidates(membership: Membership, condition: Q, fields: tuple[str, ...], *, queue: bool) -> list[tuple]:
    """Rows of the member's own leads (and of their team's queue), each read through its own index
    (tenant, owner, status) / (tenant, team, status) and without ORDER BY: with the OR, or sorted by another
    column, SQLite walks the tenant's whole capture or deadline index instead."""
    visible = Lead.objects.visible_to(membership).filter(condition).order_by()
    rows = list(visible.filter(owner=membership).values_list(*fields)[:CANDIDATES])
    if queue and membership.team_id:
        waiting = visible.filter(team_id=membership.team_id, owner__isnull=True)
        rows += list(waiting.values_list(*fields)[:CANDIDATES])
    return rows


def _leads(membership: Membership, pks: list[int]):
    return Lead.objects.visible_to(membership).filter(pk__in=pks).select_related("person", "organization", "interest")


def untouched_leads(membership: Membership, condition: Q | None = None):
    """The member's leads (own, or in their team's queue) nobody has accepted or contacted yet, newest first."""
    condition = (condition or Q()) & Q(status__in=UNTOUCHED, first_contact_at__isnull=True)
    rows = sorted(_candidates(membership, condition, ("captured_at", "pk"), queue=True), reverse=True)
    return _leads(membership, [pk for _at, pk in rows[: BUCKET_SIZE + 1]]).order_by("-captured_at", "-pk")


def hot_leads(membership: Membership):
    return untouched_leads(membership, Q(rating=Rating.HOT) | Q(grade=Grade.A))


def sla_leads(membership: Membership, until: dt.datetime):
    """The member's open leads with an SLA deadline before ``until`` (overdue ones included), most urgent first."""
    condition = Q(status__in=OPEN, sla_due_at__lt=until)
    rows = sorted(_candidates(membership, condition, ("sla_due_at", "pk"), queue=False))
    return _leads(membership, [pk for _due, pk in rows[: BUCKET_SIZE + 1]]).order_by("sla_due_at", "pk")


def my_day(membership: Membership, now: dt.datetime | None = None) -> MyDay:
    """Everything the member should do today, in buckets: overdue, today, the next 7 days, hot leads, SLAs."""
    now = now or timezone.now()
    today, _start, tomorrow = day_bounds(membership, now)
    follow_ups = open_follow_ups(membership)
    return MyDay(
        now=now,
        today=today,
        overdue=_bucket(follow_ups.filter(due_at__lt=now)),
        due_today=_bucket(follow_ups.filter(due_at__gte=now, due_at__lt=tomorrow)),
        upcoming=_bucket(
            follow_ups.filter(due_at__gte=tomorrow, due_at__lt=tomorrow + dt.timedelta(days=UPCOMING_DAYS))
        ),
        hot_leads=_bucket(hot_leads(membership)),
        sla_leads=_bucket(sla_leads(membership, tomorrow)),
    )
