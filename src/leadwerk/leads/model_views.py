"""The predictive model's screen (admins and managers): versions with holdout metrics, train, activate."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadwerk.accounts.decorators import tenant_view
from leadwerk.core.exceptions import DomainError

from . import predictive
from .models import ScoreModel, ScoringSettings
from .roles import LEAD_ADMINS

CHART_W, CHART_H, CHART_PAD = 400, 160, 24


def _models(request: HttpRequest):
    if request.membership.role not in LEAD_ADMINS:  # the decorator already said so; scoping fails closed anyway
        return ScoreModel.objects.none()
    return ScoreModel.objects.visible_to(request.membership).select_related("trained_by__user")


def calibration_chart(metrics: dict) -> list[dict]:
    """Bars of an inline SVG: per probability bin, the mean predicted and the observed win rate (0–1 → pixels)."""
    bins = metrics.get("calibration") or []
    slot = (CHART_W - CHART_PAD) / max(len(bins), 1)
    height = CHART_H - CHART_PAD
    bars = []
    for i, b in enumerate(bins):
        x = CHART_PAD + i * slot
        predicted, observed = b.get("predicted") or 0, b.get("observed") or 0
        bars.append(
            {
                "label": f"{round(b['from'] * 100)}–{round(b['to'] * 100)} %",
                "short": f"{round(b['from'] * 100)}",
                "count": b["count"],
                "predicted": predicted,
                "observed": observed,
                "x_pred": round(x + slot * 0.12, 1),
                "x_obs": round(x + slot * 0.5, 1),
                "w": round(slot * 0.38, 1),
                "h_pred": round(predicted * height, 1),
                "y_pred": round(height - predicted * height, 1),
                "h_obs": round(observed * height, 1),
                "y_obs": round(height - observed * height, 1),
                "x_label": round(x + slot / 2, 1),
                "empty": not b["count"],
            }
        )
    return bars


def _context(request: HttpRequest, selected: ScoreModel | None = None) -> dict:
    models = list(_models(request))
    counts = predictive.training_counts(request.tenant.pk)
    active = next((m for m in models if m.state == ScoreModel.State.ACTIVE), None)
    training = next((m for m in models if m.state == ScoreModel.State.TRAINING), None)
    if selected is None:
        selected = active or next((m for m in models if m.state == ScoreModel.State.READY), None)
    settings = ScoringSettings.objects.filter(tenant_id=request.tenant.pk).first()
    return {
        "models": models,
        "active": active,
        "training": training,
        "selected": selected,
        "chart": calibration_chart(selected.metrics) if selected and selected.metrics else [],
        "chart_size": {"w": CHART_W, "h": CHART_H, "pad": CHART_PAD, "base": CHART_H - CHART_PAD},
        "counts": counts,
        "shortfall": predictive.training_shortfall(counts),
        "needed": {"closed": predictive.MIN_CLOSED, "per_class": predictive.MIN_PER_CLASS},
        "model_drives_grade": bool(settings and settings.driver == ScoringSettings.Driver.MODEL),
    }


@tenant_view(roles=LEAD_ADMINS)
def model_settings(request: HttpRequest) -> HttpResponse:
    selected = None
    if request.GET.get("version"):
        try:
            selected = get_object_or_404(_models(request), pk=int(request.GET["version"]))
        except ValueError:
            raise Http404("No such version.") from None
    return render(request, "leads/model_settings.html", _context(request, selected))


@tenant_view(roles=LEAD_ADMINS)
def model_status(request: HttpRequest) -> HttpResponse:
    """htmx: the training card, polled while a version is being trained; the whole page once it is done."""
    context = _context(request)
    if context["training"] is None and request.GET.get("was") == "training":
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "leads/model_settings.html#train-card", context)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def model_train(request: HttpRequest) -> HttpResponse:
    try:
        predictive.model_train_request(by=request.membership)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Training has started; this page shows when it is done."))
    return redirect("leads:model_settings", tenant=request.tenant.slug)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def model_activate(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(_models(request), pk=pk)
    try:
        predictive.model_activate(model, request.membership)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Version %(version)s is active. Open leads get their probabilities in the background.")
            % {"version": model.version},
        )
    return redirect("leads:model_settings", tenant=request.tenant.slug)


@tenant_view(roles=LEAD_ADMINS)
@require_POST
def model_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    model = get_object_or_404(_models(request), pk=pk)
    try:
        predictive.model_deactivate(model, request.membership)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        text = _("Version %(version)s is no longer used; the rules alone set the grade.")
        messages.success(request, text % {"version": model.version})
    return redirect("leads:model_settings", tenant=request.tenant.slug)
