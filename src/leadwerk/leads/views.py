"""Lead screens: inbox, capture, detail with its actions."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadwerk.accounts.decorators import tenant_view
from leadwerk.accounts.models import Membership, Team
from leadwerk.contacts.normalize import flag_text
from leadwerk.core.exceptions import DomainError
from leadwerk.core.htmx import form_error as _field_error
from leadwerk.core.htmx import partial_template
from leadwerk.core.paging import keyset_paginate

from . import bulk, services, sla, states
from .forms import (
    ActivityForm,
    AssignForm,
    FollowUpForm,
    InboxFilterForm,
    InterestForm,
    LeadCaptureForm,
    QualificationForm,
    ReasonForm,
    TransitionForm,
)
from .models import FollowUp, InterestCategory, Lead, LeadEvent, LeadReason
from .questions import answers_display, questions_for
from .roles import LEAD_ADMINS, LEAD_CAPTURERS, LEAD_READERS, LEAD_WORKERS
from .states import Status

PAGE_SIZE = 50


def form_error(form, exc: DomainError) -> None:
    """Like core's, but a version conflict goes on top of the form (its field is hidden)."""
    if exc.field == "version":
        form.add_error(None, exc.message)
    else:
        _field_error(form, exc)


@tenant_view(roles=LEAD_READERS)
def lead_inbox(request: HttpRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    me = request.membership
    view = filters.get("view") or bulk.default_view(me)
    status = filters.get("status") or "open"
    # The bulk actions' "all matching the filter" uses the same function, so it selects what the inbox shows.
    leads = bulk.lead_filter(membership=me, filters=filters).for_rows()
    key = "-score" if filters.get("sort") == "score" else "-pk"
    if filters.get("sort") == "sla":  # earliest open deadline first; leads without one have nothing to sort by
        leads, key = leads.filter(sla_due_at__isnull=False), "sla_due_at"
    page = keyset_paginate(leads, key=key, cursor=filters.get("cursor"), size=PAGE_SIZE)
    context = {
        "page": page,
        "filters": {**filters, "view": view, "status": status},
        # "My team" only for members of a team (the tab would always be empty otherwise).
        "views": [(value, label) for value, label in InboxFilterForm.VIEWS if value != "team" or me.team_id],
        "sla_filters": sla.SLA_FILTERS,
        "statuses": Status.choices,
        "interests": InterestCategory.objects.visible_to(me),
        "can_capture": me.role in LEAD_CAPTURERS,
        "can_configure": me.role in LEAD_ADMINS,
        "can_work": me.role in LEAD_WORKERS,
        "now": timezone.now(),
    }
    return render(request, partial_template(request, "leads/inbox.html", "lead-table"), context)


@tenant_view(roles=LEAD_CAPTURERS)
def lead_capture(request: HttpRequest) -> HttpResponse:
    form = LeadCaptureForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.lead_capture(
                by=request.membership,
                person=form.person_data(),
                lead=form.lead_data(),
                channel=form.cleaned_data["channel"],
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            if result.created:
                messages.success(request, _("Lead captured."))
            else:
                messages.info(
                    request, _("This person already had an open lead for this interest; the response was added to it.")
                )
            if result.lead.person.quality_flags:  # kept as typed, as the marketing database does
                problems = flag_text(result.lead.person.quality_flags)
                messages.warning(request, _("Saved as typed; please check: %(problems)s.") % {"problems": problems})
            if Lead.objects.visible_to(request.membership).filter(pk=result.lead.pk).exists():
                return redirect("leads:lead_detail", tenant=request.tenant.slug, pk=result.lead.pk)
            return redirect("leads:lead_inbox", tenant=request.tenant.slug)
    return render(request, "leads/capture.html", {"form": form})


def _detail_context(request: HttpRequest, lead: Lead, **forms) -> dict:
    tenant = request.tenant
    can_work = request.membership.role in LEAD_WORKERS
    events = list(lead.events.select_related("actor__user")[:200])
    labels = dict(Status.choices)
    # Who an assignment gave the lead to (the event keeps ids): one query for the page.
    owner_ids = {e.after.get("owner") for e in events if e.kind == LeadEvent.Kind.ASSIGNMENT} - {None}
    owners = {
        m.pk: m.user.full_name or m.user.email
        for m in Membership.objects.filter(tenant_id=lead.tenant_id, pk__in=owner_ids).select_related("user")
    }
    team_ids = {e.after.get("team") for e in events if e.kind == LeadEvent.Kind.ASSIGNMENT} - {None}
    teams = dict(Team.objects.filter(tenant_id=lead.tenant_id, pk__in=team_ids).values_list("pk", "name"))
    for e in events:
        e.before_label = labels.get(e.before.get("status"), "")
        e.after_label = labels.get(e.after.get("status"), "")
        if e.kind == LeadEvent.Kind.ASSIGNMENT:
            e.after_label = owners.get(e.after.get("owner")) or teams.get(e.after.get("team"), "")
        elif e.kind == LeadEvent.Kind.SLA and e.after.get("speed_to_lead_s") is not None:  # the first contact
            since = timesince(e.at - dt.timedelta(seconds=e.after["speed_to_lead_s"]), e.at)
            e.after_label = _("first contact, %(duration)s after capture") % {"duration": since}
    timeline = sorted(
        [("event", e.at, e) for e in events]
        + [("activity", a.at, a) for a in lead.activities.select_related("by__user")[:200]],
        key=lambda row: row[1],
        reverse=True,
    )
    return {
        "lead": lead,
        "person": lead.person,
        "timeline": timeline,
        "follow_ups": lead.follow_ups.select_related("assignee__user").order_by("done_at", "due_at")[:50],
        "next_statuses": [(s, Status(s).label) for s in Status.values if s in states.allowed(lead.status)],
        "can_work": can_work,
        "can_assign": request.membership.role in LEAD_ADMINS,
        "qualification_form": forms.get("qualification_form") or QualificationForm(instance=lead, tenant=tenant),
        "qualification_answers": answers_display(lead, questions_for(lead.tenant_id).values()),
        "transition_form": forms.get("transition_form")
        or TransitionForm(tenant=tenant, initial={"version": lead.version}),
        "activity_form": forms.get("activity_form") or ActivityForm(),
        "follow_up_form": forms.get("follow_up_form") or FollowUpForm(tenant=tenant),
        "assign_form": forms.get("assign_form")
        or AssignForm(
            tenant=tenant,
            initial={"version": lead.version, "owner": lead.owner_id, "team": lead.team_id},
        ),
        "now": timezone.now(),
    }


def _visible_lead(request: HttpRequest, pk: int) -> Lead:
    return get_object_or_404(
        Lead.objects.visible_to(request.membership).select_related(
            "person", "organization", "interest", "owner__user", "team", "lost_reason", "disqualified_reason"
        ),
        pk=pk,
    )


@tenant_view(roles=LEAD_READERS)
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "leads/detail.html", _detail_context(request, _visible_lead(request, pk)))


def _back(request: HttpRequest, lead: Lead) -> HttpResponse:
    return redirect("leads:lead_detail", tenant=request.tenant.slug, pk=lead.pk)


def _lead_action(request: HttpRequest, lead: Lead, form, form_key: str, apply) -> HttpResponse:
    """The lead page's forms: valid and accepted by the service → back to the page with a message;
    otherwise the page again with the form's errors (422)."""
    if form.is_valid():
        try:
            message = apply(form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, message)
            return _back(request, lead)
    lead.refresh_from_db()
    return render(request, "leads/detail.html", _detail_context(request, lead, **{form_key: form}), status=422)


@tenant_view(roles=LEAD_WORKERS)
@require_POST
def lead_transition(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)

    def apply(data):
        services.lead_transition(lead=lead, by=request.membership, **data)
        return _("Status changed to %(status)s.") % {"status": Status(data["to"]).label}

    form = TransitionForm(request.POST, tenant=request.tenant)
    return _lead_action(request, lead, form, "transition_form", apply)


@tenant_view(roles=LEAD_WORKERS)
@require_POST
def lead_qualify(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)
    form = QualificationForm(request.POST, instance=Lead.objects.get(pk=lead.pk), tenant=request.tenant)

    def apply(data):
        services.lead_update(lead=lead, by=request.membership, data=form.changes(), version=data["version"])
        return _("Changes saved.")

    return _lead_action(request, lead, form, "qualification_form", apply)


@tenant_view(roles=LEAD_WORKERS)
@require_POST
def activity_create(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)

    def apply(data):
        services.activity_log(lead=lead, by=request.membership, **data)
        return _("Activity logged.")

    return _lead_action(request, lead, ActivityForm(request.POST), "activity_form", apply)


@tenant_view(roles=LEAD_WORKERS)
@require_POST
def follow_up_create(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)

    def apply(data):
        services.follow_up_schedule(lead=lead, by=request.membership, **data)
        return _("Follow-up scheduled.")

    return _lead_action(request, lead, FollowUpForm(request.POST, tenant=request.tenant), "follow_up_form", apply)


@tenant_view(roles=LEAD_WORKERS)
@require_POST
def follow_up_done(request: HttpRequest, pk: int) -> HttpResponse:
    follow_up = get_object_or_404(FollowUp.objects.visible_to(request.membership).select_related("lead"), pk=pk)
    services.follow_up_done(follow_up=follow_up, by=request.membership)
    messages.success(request, _("Follow-up done."))
    return _back(request, follow_up.lead)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def lead_assign(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _visible_lead(request, pk)

    def apply(data):
        services.lead_assign(lead=lead, by=request.membership, **data)
        return _("Lead assigned.")

    return _lead_action(request, lead, AssignForm(request.POST, tenant=request.tenant), "assign_form", apply)


@tenant_view(roles=LEAD_ADMINS)
def lead_settings(request: HttpRequest) -> HttpResponse:
    """The tenant's interests and reason lists."""
    interest_form = InterestForm(request.POST if request.POST.get("form") == "interest" else None)
    reason_form = ReasonForm(request.POST if request.POST.get("form") == "reason" else None)
    if request.method == "POST":
        try:
            if request.POST.get("form") == "interest" and interest_form.is_valid():
                services.interest_define(by=request.membership, **interest_form.cleaned_data)
                messages.success(request, _("Interest added."))
                return redirect("leads:lead_settings", tenant=request.tenant.slug)
            if request.POST.get("form") == "reason" and reason_form.is_valid():
                services.reason_define(by=request.membership, **reason_form.cleaned_data)
                messages.success(request, _("Reason added."))
                return redirect("leads:lead_settings", tenant=request.tenant.slug)
        except DomainError as exc:
            form_error(interest_form if request.POST.get("form") == "interest" else reason_form, exc)
    context = {
        "interest_form": interest_form,
        "reason_form": reason_form,
        "interests": InterestCategory.objects.visible_to(request.membership),
        "reasons": LeadReason.objects.visible_to(request.membership),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "leads/settings.html", context, status=status)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def lead_settings_toggle(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model = InterestCategory if kind == "interest" else LeadReason
    entry = get_object_or_404(model.objects.visible_to(request.membership), pk=pk)
    services.config_active_set(by=request.membership, entry=entry, active=not entry.active)
    return redirect("leads:lead_settings", tenant=request.tenant.slug)
