"""My day (the member's follow-ups, hot leads and SLA deadlines) and the in-app notifications."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from leadwerk.accounts.decorators import tenant_view
from leadwerk.core.paging import keyset_paginate

from . import myday, notifications, services
from .models import FollowUp, Lead, Notification
from .roles import LEAD_READERS, LEAD_WORKERS

NOTIFICATIONS_PAGE = 30
# htmx listens for this event to refresh the bell after something was marked read.
CHANGED_EVENT = "notifications-changed"


class NotificationSettingsForm(forms.Form):
    email_on_assignment = forms.BooleanField(
        label=gettext_lazy("E-mail me when a lead is assigned to me"), required=False
    )
    daily_digest = forms.BooleanField(
        label=gettext_lazy("Send me a digest of my day every morning at 7:00"), required=False
    )


def _my_day_context(request: HttpRequest, **extra) -> dict:
    me = request.membership
    return {
        "day": myday.my_day(me),
        "settings_form": extra.get("settings_form")
        or NotificationSettingsForm(initial=notifications.notification_settings(me)),
        "upcoming_days": myday.UPCOMING_DAYS,
        # Rows link to leads/<pk>/: one reverse() per page instead of one per row.
        "lead_base": reverse("leads:lead_inbox", kwargs={"tenant": request.tenant.slug}),
    }


@tenant_view(roles=LEAD_READERS)
def my_day(request: HttpRequest) -> HttpResponse:
    if request.membership.role not in LEAD_WORKERS:
        # Marketing reads leads but does not work them: explain instead of showing an empty day.
        return render(request, "leads/my_day.html", {"explain": True})
    template = "leads/my_day.html"
    if request.htmx and not request.htmx.boosted:
        template += "#my-day-body"
    return render(request, template, _my_day_context(request))


@tenant_view(roles=LEAD_WORKERS)
@require_POST
def my_day_follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = get_object_or_404(FollowUp.objects.visible_to(request.membership).select_related("lead"), pk=pk)
    services.follow_up_done(follow_up=follow_up, by=request.membership)
    if request.htmx:
        return render(request, "leads/my_day.html#my-day-body", _my_day_context(request))
    messages.success(request, _("Follow-up done."))
    return redirect("leads:my_day", tenant=request.tenant.slug)


@tenant_view(roles=LEAD_WORKERS)
@require_POST
def my_day_settings(request: HttpRequest) -> HttpResponse:
    form = NotificationSettingsForm(request.POST)
    if not form.is_valid():
        context = {**_my_day_context(request, settings_form=form)}
        return render(request, "leads/my_day.html", context, status=422)
    notifications.notification_settings_set(by=request.membership, **form.cleaned_data)
    messages.success(request, _("Your e-mail settings are saved."))
    return redirect("leads:my_day", tenant=request.tenant.slug)


# --- notifications ------------------------------------------------------------------------------


@tenant_view()
def notification_list(request: HttpRequest) -> HttpResponse:
    me = request.membership
    show = "all" if request.GET.get("show") == "all" else "unread"
    rows = Notification.objects.visible_to(me).select_related("lead__person")
    if show == "unread":
        rows = rows.filter(read_at__isnull=True)
    page = keyset_paginate(rows, key="-pk", cursor=request.GET.get("cursor"), size=NOTIFICATIONS_PAGE)
    context = {"page": page, "show": show, "unread": notifications.unread_count(me)}
    template = "leads/notifications.html"
    if request.htmx and not request.htmx.boosted:
        template += "#notification-list"
    return render(request, template, context)


def _own(request: HttpRequest, pk: int) -> Notification:
    return get_object_or_404(Notification.objects.visible_to(request.membership).select_related("lead__person"), pk=pk)


@tenant_view()
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    note = notifications.notification_read(notification=_own(request, pk), by=request.membership)
    if request.htmx:
        response = render(request, "leads/notifications.html#notification-row", {"note": note})
        response["HX-Trigger"] = CHANGED_EVENT
        return response
    return redirect("leads:notification_list", tenant=request.tenant.slug)


@tenant_view()
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications.notifications_read_all(by=request.membership)
    if count:
        messages.success(request, _("All notifications marked read."))
    return redirect("leads:notification_list", tenant=request.tenant.slug)


@tenant_view()
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Follow a notification to its lead; opening it marks it read."""
    note = notifications.notification_read(notification=_own(request, pk), by=request.membership)
    if note.lead_id and Lead.objects.visible_to(request.membership).filter(pk=note.lead_id).exists():
        return redirect("leads:lead_detail", tenant=request.tenant.slug, pk=note.lead_id)
    messages.info(request, _("This lead is no longer yours to see."))
    return redirect("leads:notification_list", tenant=request.tenant.slug)


@tenant_view()
def notification_bell(request: HttpRequest) -> HttpResponse:
    """The header's bell, polled by htmx and refreshed when something was marked read."""
    return render(
        request,
        "leads/notifications_bell.html",
        {"bell_count": notifications.unread_count(request.membership), "current_tenant": request.tenant},
    )
