"""Routing screens (admins and managers): ordered rules with a try-it box, capacity and absences, route now."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadwerk.accounts.decorators import tenant_view
from leadwerk.contacts.models import Person
from leadwerk.core.exceptions import DomainError
from leadwerk.core.htmx import form_error, partial_template

from . import routing
from .models import Absence, Lead, RoutingRule
from .roles import LEAD_ADMINS
from .routing_forms import (
    OPERATOR_CHOICES,
    AbsenceForm,
    CapacityForm,
    RoutingRuleForm,
    TryForm,
    condition_rows,
    conditions_from_post,
)


def _rules(request: HttpRequest):
    return RoutingRule.objects.visible_to(request.membership).select_related("target_team", "target_member__user")


def _describe(rule: RoutingRule) -> list[str]:
    parts = []
    for c in rule.conditions or []:
        spec = routing.field_spec(str(c.get("field", "")))
        label = spec.label if spec else c.get("field")
        op = routing.OPERATORS.get(c.get("op"), c.get("op"))
        value = c.get("value")
        shown = "–".join(value) if c.get("op") == "between" and isinstance(value, list) else (
            ", ".join(value) if isinstance(value, list) else (value or ""))  # fmt: skip
        parts.append(f"{label} {op} {shown}".strip())
    return parts


@tenant_view(roles=LEAD_ADMINS)
def routing_rules(request: HttpRequest) -> HttpResponse:
    rules = list(_rules(request).order_by("position", "id"))
    for rule in rules:
        rule.described = _describe(rule)
    return render(
        request,
        "leads/routing_rules.html",
        {"rules": rules, "try_form": TryForm(tenant=request.tenant), "decision": None},
    )


@tenant_view(roles=LEAD_ADMINS)
def routing_try(request: HttpRequest) -> HttpResponse:
    """The try-it box: which rule and member would win for a lead or a postcode/interest, and why."""
    form = TryForm(request.GET, tenant=request.tenant)
    decision, error = None, ""
    if form.is_valid():
        data = form.cleaned_data
        tz = request.tenant.timezone
        if data.get("lead"):
            lead = Lead.objects.visible_to(request.membership).select_related("person", "organization", "interest")
            lead = lead.filter(pk=data["lead"]).first()
            if lead is None:
                form.add_error("lead", _("No lead with this number."))
            else:
                decision = routing.route_decide(lead, tenant_tz=tz)
        elif data.get("postcode") or data.get("interest") or data.get("grade"):
            person = Person(tenant_id=request.tenant.pk, postcode=data.get("postcode") or "")
            lead = Lead(tenant_id=request.tenant.pk, person=person, interest=data.get("interest"),
                        grade=data.get("grade") or "")  # fmt: skip
            decision = routing.route_decide(lead, person=person, tenant_tz=tz)
        else:
            error = _("Enter a lead number, or a postcode, interest or grade.")
    context = {"try_form": form, "decision": decision, "try_error": error}
    return render(request, partial_template(request, "leads/routing_rules.html", "try-result"), context)


def _rule_form(request: HttpRequest, rule: RoutingRule | None) -> HttpResponse:
    tenant = request.tenant
    error = None
    if request.method == "POST":
        form = RoutingRuleForm(request.POST, tenant=tenant)
        conditions, action = conditions_from_post(request.POST)
        if action in ("", "save") and form.is_valid():
            data = {**form.cleaned_data, "conditions": conditions}
            try:
                if rule is None:
                    routing.routing_rule_create(by=request.membership, data=data)
                    messages.success(request, _("Rule added. It is checked last; move it up if it should win earlier."))
                else:
                    routing.routing_rule_update(rule=rule, by=request.membership, data=data)
                    messages.success(request, _("Rule saved."))
                return redirect("leads:routing_rules", tenant=tenant.slug)
            except DomainError as exc:
                if (exc.field or "").startswith("conditions"):
                    error = exc
                    if exc.field == "conditions":
                        form.add_error(None, exc.message)
                else:
                    form_error(form, exc)
        status = 422 if action in ("", "save") else 200
    else:
        initial = {"target": "team", "strategy": "round_robin", "active": True}
        if rule is not None:
            initial = {
                "name": rule.name, "target": rule.target, "target_team": rule.target_team_id,
                "target_member": rule.target_member_id, "strategy": rule.strategy, "active": rule.active,
            }  # fmt: skip
        form = RoutingRuleForm(initial=initial, tenant=tenant)
        conditions = list(rule.conditions) if rule is not None else [{"field": "person.postcode", "op": "between",
                                                                      "value": ["", ""]}]  # fmt: skip
        status = 200
    context = {
        "form": form,
        "rule": rule,
        "rows": condition_rows(conditions, tenant.pk, error),
        "operators": OPERATOR_CHOICES,
        "conditions_error": error.message if error is not None and error.field == "conditions" else "",
    }
    return render(request, "leads/routing_rule_form.html", context, status=status)


@tenant_view(roles=LEAD_ADMINS)
def routing_rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, None)


@tenant_view(roles=LEAD_ADMINS)
def routing_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_form(request, get_object_or_404(_rules(request), pk=pk))


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def routing_rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(_rules(request), pk=pk)
    routing.routing_rule_move(rule=rule, by=request.membership, up=request.POST.get("direction") != "down")
    return redirect("leads:routing_rules", tenant=request.tenant.slug)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def routing_rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(_rules(request), pk=pk)
    try:
        routing.routing_rule_update(rule=rule, by=request.membership, data={"active": not rule.active})
    except DomainError as exc:
        messages.error(request, _("This rule cannot be switched on: %(error)s") % {"error": exc.message})
    return redirect("leads:routing_rules", tenant=request.tenant.slug)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def routing_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(_rules(request), pk=pk)
    routing.routing_rule_delete(rule=rule, by=request.membership)
    messages.success(request, _("Rule “%(name)s” deleted. Leads it routed keep their owner.") % {"name": rule.name})
    return redirect("leads:routing_rules", tenant=request.tenant.slug)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def lead_route_now(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(Lead.objects.visible_to(request.membership), pk=pk)
    routed = routing.lead_route(lead, by=request.membership)
    if routed is None:
        messages.warning(request, _("No routing rule placed this lead. Assign it by hand or add a rule."))
    elif routed.owner_id:
        messages.success(request, _("Lead routed to %(who)s.") % {"who": routed.owner.user.full_name or routed.owner})
    else:
        messages.info(request, _("Nobody in %(team)s can take it now; it waits in the team inbox.")
                      % {"team": routed.team})  # fmt: skip
    return redirect("leads:lead_detail", tenant=request.tenant.slug, pk=lead.pk)


# --- capacity and absences ----------------------------------------------------------------------------


def _capacity_context(request: HttpRequest, absence_form: AbsenceForm | None = None, errors=None) -> dict:
    members = list(routing.lead_workers(request.tenant.pk))
    loads = routing.week_loads(request.tenant.pk, request.tenant.timezone, [m.pk for m in members])
    today = timezone.localdate()
    absent_today = set(
        Absence.objects.filter(tenant_id=request.tenant.pk, starts_on__lte=today, ends_on__gte=today).values_list(
            "membership_id", flat=True
        )
    )
    rows = []
    for m in members:
        profile = getattr(m, "lead_profile", None)
        capacity = profile.weekly_capacity if profile else None
        load = loads.get(m.pk, 0)
        rows.append({
            "member": m, "capacity": capacity, "takes_leads": profile.takes_leads if profile else True, "load": load,
            "full": capacity is not None and load >= capacity, "absent": m.pk in absent_today,
            "percent": min(100, round(100 * load / capacity)) if capacity else 0,
            "error": (errors or {}).get(m.pk, ""),
        })  # fmt: skip
    absences = (
        Absence.objects.visible_to(request.membership)
        .filter(ends_on__gte=today)
        .select_related("membership__user")
        .order_by("starts_on", "id")
    )
    return {
        "rows": rows,
        "absences": absences,
        "absence_form": absence_form or AbsenceForm(tenant=request.tenant, initial={"starts_on": today}),
        "today": today,
    }


@tenant_view(roles=LEAD_ADMINS)
def capacity(request: HttpRequest) -> HttpResponse:
    return render(request, "leads/routing_capacity.html", _capacity_context(request))


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def capacity_member(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(routing.lead_workers(request.tenant.pk), pk=pk)
    form = CapacityForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            routing.lead_profile_set(
                by=request.membership,
                member=member,
                weekly_capacity=form.cleaned_data["weekly_capacity"],
                takes_leads=form.cleaned_data["takes_leads"],
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("Saved for %(who)s.") % {"who": member.user.full_name or member.user.email})
            return redirect("leads:routing_capacity", tenant=request.tenant.slug)
    else:
        error = " ".join(e for errs in form.errors.values() for e in errs)
    context = _capacity_context(request, errors={member.pk: error})
    return render(request, "leads/routing_capacity.html", context, status=422)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def absence_create(request: HttpRequest) -> HttpResponse:
    form = AbsenceForm(request.POST, tenant=request.tenant)
    if form.is_valid():
        data = form.cleaned_data
        try:
            routing.absence_add(by=request.membership, member=data["membership"], starts_on=data["starts_on"],
                                ends_on=data["ends_on"], note=data["note"])  # fmt: skip
        except DomainError as exc:
            exc.field = "membership" if exc.field == "membership_id" else exc.field
            form_error(form, exc)
        else:
            messages.success(request, _("Absence recorded; routing skips the member on these days."))
            return redirect("leads:routing_capacity", tenant=request.tenant.slug)
    return render(request, "leads/routing_capacity.html", _capacity_context(request, form), status=422)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def absence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    absence = get_object_or_404(Absence.objects.visible_to(request.membership), pk=pk)
    routing.absence_remove(by=request.membership, absence=absence)
    messages.success(request, _("Absence removed."))
    return redirect("leads:routing_capacity", tenant=request.tenant.slug)
