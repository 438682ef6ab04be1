"""Scoring settings screens (admins and managers; 404 for everyone else): rules, grades, recompute."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadwerk.accounts.decorators import tenant_view
from leadwerk.core.exceptions import DomainError
from leadwerk.core.htmx import form_error, partial_template

from . import scoring
from .models import Lead, ScoringRule
from .roles import LEAD_ADMINS
from .scoring_forms import ScoringRuleForm, ScoringSettingsForm
from .scoring_tasks import score_recompute_task


def _rules_context(request: HttpRequest, settings_form: ScoringSettingsForm | None = None) -> dict:
    tenant_id = request.membership.tenant_id
    catalogue = scoring.field_catalogue(tenant_id)
    rules = list(ScoringRule.objects.visible_to(request.membership).order_by("position", "id"))
    for rule in rules:
        spec = catalogue.get(rule.field)
        rule.field_label = f"{spec.group} · {spec.label}" if spec else rule.field
        rule.field_missing = spec is None
        rule.operator_label = ScoringRule.Operator(rule.operator).label if rule.operator in ScoringRule.Operator else ""
        rule.value_label = _value_label(spec, rule.value)
    settings = scoring.scoring_settings(tenant_id)
    return {
        "rules": rules,
        "settings": settings,
        "settings_form": settings_form or ScoringSettingsForm(instance=settings, prefix="grades"),
        "graded": Lead.objects.for_tenant(tenant_id).exclude(grade="").count() if rules else 0,
    }


def _value_label(spec, value) -> str:
    if value is None:
        return ""
    labels = dict(spec.choices) if spec else {}
    values = value if isinstance(value, list) else [value]
    shown = []
    for v in values:
        if isinstance(v, bool):
            shown.append(_("yes") if v else _("no"))
        elif isinstance(v, float) and v.is_integer():
            shown.append(str(int(v)))
        else:
            shown.append(str(labels.get(str(v), v)))
    return ", ".join(shown)


@tenant_view(roles=LEAD_ADMINS)
def scoring_rules(request: HttpRequest) -> HttpResponse:
    """The rules list with the grade settings and 'Recompute now'."""
    return render(request, "leads/scoring_rules.html", _rules_context(request))


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def scoring_settings_save(request: HttpRequest) -> HttpResponse:
    settings = scoring.scoring_settings(request.membership.tenant_id)
    form = ScoringSettingsForm(request.POST, instance=settings, prefix="grades")
    if form.is_valid():
        try:
            scoring.scoring_settings_update(by=request.membership, data=form.settings_data())
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Grade settings saved. Grades are being recomputed."))
            return redirect("leads:scoring_rules", tenant=request.tenant.slug)
    return render(request, "leads/scoring_rules.html", _rules_context(request, form), status=422)


def _rule_form_response(request: HttpRequest, form: ScoringRuleForm, rule: ScoringRule | None, status=200):
    template = partial_template(request, "leads/scoring_rule_form.html", "rule-form")
    return render(request, template, {"form": form, "rule": rule}, status=status)


def _rule_form(request: HttpRequest, rule: ScoringRule | None) -> HttpResponse:
    tenant_id = request.membership.tenant_id
    if request.method == "GET" and request.htmx and "field" in request.GET:
        # The field changed: show the conditions and value widget that fit it, keeping what was typed.
        initial = {k: request.GET.getlist(k) if k == "value_choices" else request.GET.get(k) for k in request.GET}
        initial["active"] = request.GET.get("active") == "on"
        form = ScoringRuleForm(tenant_id=tenant_id, initial=initial)
        if form.spec and initial.get("operator") not in form.spec.operators:
            form.initial["operator"] = form.spec.operators[0]
        return _rule_form_response(request, form, rule)
    if request.method != "POST":
        return _rule_form_response(request, ScoringRuleForm(tenant_id=tenant_id, rule=rule), rule)
    form = ScoringRuleForm(request.POST, tenant_id=tenant_id, rule=rule)
    if form.is_valid():
        try:
            if rule is None:
                scoring.scoring_rule_create(by=request.membership, data=form.rule_data())
                messages.success(request, _("Rule added. Scores are being recomputed."))
            else:
                scoring.scoring_rule_update(by=request.membership, rule=rule, data=form.rule_data())
                messages.success(request, _("Rule saved. Scores are being recomputed."))
        except DomainError as exc:
            field = {"value": _value_field(form)}.get(exc.field, exc.field)
            exc.field = field
            form_error(form, exc)
        else:
            response = redirect("leads:scoring_rules", tenant=request.tenant.slug)
            if request.htmx:
                response = HttpResponse(status=204, headers={"HX-Redirect": response["Location"]})
            return response
    return _rule_form_response(request, form, rule, status=422)


def _value_field(form: ScoringRuleForm) -> str:
    return {"choices": "value_choices", "bool": "value_bool"}.get(form.widget, "value_text")


def _rule(request: HttpRequest, pk: int) -> ScoringRule:
    return get_object_or_404(ScoringRule.objects.visible_to(request.membership), pk=pk)


@tenant_view(roles=LEAD_ADMINS)
def scoring_rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, None)


@tenant_view(roles=LEAD_ADMINS)
def scoring_rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_form(request, _rule(request, pk))


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def scoring_rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(request, pk)
    try:
        scoring.scoring_rule_update(by=request.membership, rule=rule, data={"active": not rule.active})
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Rule switched on.") if rule.active else _("Rule switched off."))
    return redirect("leads:scoring_rules", tenant=request.tenant.slug)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def scoring_rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(request, pk)
    rules = list(
        ScoringRule.objects.visible_to(request.membership).order_by("position", "id").values_list("pk", flat=True)
    )
    index = rules.index(rule.pk)
    to = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= to < len(rules):
        scoring.scoring_rule_move(by=request.membership, rule=rule, to=to)
    return redirect("leads:scoring_rules", tenant=request.tenant.slug)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def scoring_rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(request, pk)
    scoring.scoring_rule_delete(by=request.membership, rule=rule)
    messages.success(request, _("Rule deleted. Scores are being recomputed."))
    return redirect("leads:scoring_rules", tenant=request.tenant.slug)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def scoring_recompute(request: HttpRequest) -> HttpResponse:
    """'Recompute now': queue the job and show its progress (polled) in place."""
    result = scoring.recompute_request(by=request.membership)
    if not request.htmx:
        messages.info(request, _("Recompute started."))
        return redirect("leads:scoring_rules", tenant=request.tenant.slug)
    return _recompute_status(request, result)


def _recompute_status(request: HttpRequest, result) -> HttpResponse:
    context = {"result": result, "done": result.is_finished, "counts": None, "failed": False}
    if result.is_finished:
        if result.status.name == "SUCCESSFUL":
            context["counts"] = result.return_value
        else:
            context["failed"] = True
    return render(request, "leads/scoring_rules.html#recompute-status", context)


@tenant_view(roles=LEAD_ADMINS)
def scoring_recompute_status(request: HttpRequest, result_id: str) -> HttpResponse:
    try:
        result = score_recompute_task.get_result(result_id)
    except TaskResultDoesNotExist:
        raise Http404("No such job.") from None
    if result.kwargs.get("tenant_id") != request.membership.tenant_id:
        raise Http404("No such job.")  # another tenant's job id: as if it did not exist
    return _recompute_status(request, result)
