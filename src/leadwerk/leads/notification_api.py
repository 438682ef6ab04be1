"""API of "My day" and the caller's own in-app notifications. Same reads and services as the screens."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from leadwerk.core.paging import keyset_paginate

from . import myday, notifications
from .models import Notification
from .roles import LEAD_WORKERS

router = Router(tags=["notifications"])
PAGE_MAX = 200


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="assignment, hot_lead, sla_reminder, sla_escalation or follow_up")
    text: str = Field(description="Written in the recipient's language when it was created.")
    lead_id: int | None
    created_at: datetime
    read_at: datetime | None
    emailed_at: datetime | None = Field(description="When the matching e-mail went out, if one did.")


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int = Field(description=f"Unread notifications, counted up to {notifications.BELL_LIMIT}.")


class NotificationFilter(Schema):
    unread: bool = Field(default=False, description="Only unread notifications.")
    cursor: str | None = None
    limit: int = 50


class ReadAllOut(Schema):
    marked: int


class PersonBrief(Schema):
    id: int
    full_name: str
    email: str


class LeadBrief(Schema):
    id: int
    title: str
    status: str
    rating: str
    grade: str
    score: int
    person: PersonBrief
    captured_at: datetime
    sla_due_at: datetime | None


class FollowUpBrief(Schema):
    id: int
    due_at: datetime
    kind: str
    note: str
    lead: LeadBrief


class FollowUpBucket(Schema):
    items: list[FollowUpBrief]
    more: bool = Field(description="More rows exist than are listed.")


class LeadBucket(Schema):
    items: list[LeadBrief]
    more: bool


class MyDayOut(Schema):
    today: str = Field(description="The tenant's local date (ISO).")
    overdue: FollowUpBucket
    due_today: FollowUpBucket
    upcoming: FollowUpBucket = Field(description=f"Follow-ups of the next {myday.UPCOMING_DAYS} days after today.")
    hot_leads: LeadBucket = Field(description="Hot or grade A, for you or your team's queue, not contacted yet.")
    sla_leads: LeadBucket = Field(description="Your open leads whose next SLA deadline is today or has passed.")


def _mine(request: HttpRequest):
    return Notification.objects.visible_to(request.membership)


@router.get("/notifications", response=NotificationPage, summary="Your own notifications, newest first")
def notification_list(request: HttpRequest, filters: Query[NotificationFilter]):
    rows = _mine(request)
    if filters.unread:
        rows = rows.filter(read_at__isnull=True)
    page = keyset_paginate(rows, key="-pk", cursor=filters.cursor, size=max(1, min(filters.limit, PAGE_MAX)))
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "unread": notifications.unread_count(request.membership),
    }


@router.post("/notifications/read-all", response=ReadAllOut, summary="Mark all your notifications read")
def notification_read_all(request: HttpRequest):
    return {"marked": notifications.notifications_read_all(by=request.membership)}


@router.post("/notifications/{notification_id}/read", response=NotificationOut, summary="Mark one read")
def notification_read(request: HttpRequest, notification_id: int):
    note = get_object_or_404(_mine(request), pk=notification_id)
    return notifications.notification_read(notification=note, by=request.membership)


@router.get("/my-day", response=MyDayOut, summary="Your follow-ups (overdue, today, next days), hot leads, SLAs")
def my_day(request: HttpRequest):
    if request.membership.role not in LEAD_WORKERS:
        raise Http404("My day is for roles that work leads.")
    day = myday.my_day(request.membership)
    return {
        "today": day.today.isoformat(),
        **{
            name: {"items": getattr(day, name).items, "more": getattr(day, name).more}
            for name in ("overdue", "due_today", "upcoming", "hot_leads", "sla_leads")
        },
    }
