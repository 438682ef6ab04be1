"""SLA settings screen (admins and managers): business calendar, policies, a preview of the deadlines."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadwerk.accounts.decorators import tenant_view
from leadwerk.core.exceptions import DomainError

from . import sla
from .models import SlaPolicy
from .roles import LEAD_ADMINS
from .sla_forms import POLICY_FORM_FIELDS, CalendarForm, SlaPolicyForm


def _error(form, exc: DomainError) -> None:
    field = POLICY_FORM_FIELDS.get(exc.field, exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


def _policies(request: HttpRequest):
    return SlaPolicy.objects.visible_to(request.membership).order_by("metric", "grade", "id")


def _back(request: HttpRequest) -> HttpResponse:
    return redirect("leads:sla_settings", tenant=request.tenant.slug)


@tenant_view(roles=LEAD_ADMINS)
def sla_settings(request: HttpRequest) -> HttpResponse:
    calendar = sla.calendar_get(request.tenant.pk)
    which = request.POST.get("form") if request.method == "POST" else None
    calendar_form = CalendarForm(
        request.POST if which == "calendar" else None, initial=CalendarForm.initial_for(calendar)
    )
    policy_form = SlaPolicyForm(request.POST if which == "policy" else None, initial={"escalate": True, "active": True})
    if which == "calendar" and calendar_form.is_valid():
        try:
            sla.calendar_save(by=request.membership, **calendar_form.cleaned_data)
        except DomainError as exc:
            _error(calendar_form, exc)
        else:
            messages.success(request, _("Business calendar saved. Open leads' deadlines are being recomputed."))
            return _back(request)
    if which == "policy" and policy_form.is_valid():
        try:
            sla.sla_policy_create(by=request.membership, data=policy_form.policy_data())
        except DomainError as exc:
            _error(policy_form, exc)
        else:
            messages.success(request, _("SLA policy added."))
            return _back(request)
    now = timezone.now()
    context = {
        "calendar_form": calendar_form,
        "policy_form": policy_form,
        "policies": _policies(request),
        "preview": sla.sla_preview(request.tenant, now),
        "now": now,
        "calendar": calendar,
        "calendar_saved": calendar.pk is not None,
    }
    return render(request, "leads/sla_settings.html", context, status=422 if which else 200)


@tenant_view(roles=LEAD_ADMINS)
def sla_policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(_policies(request), pk=pk)
    form = SlaPolicyForm(request.POST or None, initial=SlaPolicyForm.initial_for(policy))
    if request.method == "POST" and form.is_valid():
        try:
            sla.sla_policy_update(policy=policy, by=request.membership, data=form.policy_data())
        except DomainError as exc:
            _error(form, exc)
        else:
            messages.success(request, _("SLA policy saved."))
            return _back(request)
    status = 422 if request.method == "POST" else 200
    return render(request, "leads/sla_policy.html", {"form": form, "policy": policy}, status=status)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def sla_policy_delete(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(_policies(request), pk=pk)
    sla.sla_policy_delete(policy=policy, by=request.membership)
    messages.success(request, _("SLA policy deleted."))
    return _back(request)
