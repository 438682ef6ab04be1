"""The demo's predictive model: trained on the demo tenant's closed leads and activated, so lead pages show a
probability and the model screen has a version with metrics."""

from __future__ import annotations

from leadwerk.accounts.models import Tenant
from leadwerk.core.exceptions import ValidationFailed
from leadwerk.leads.models import ScoreModel
from leadwerk.leads.predictive import model_activate, model_rescore, model_train

__all__ = ["model_delete", "model_load"]


def model_load(tenant: Tenant) -> ScoreModel | None:
    """Train version 1 on the closed demo leads and activate it (open leads rescored at once). Idempotent."""
    existing = ScoreModel.objects.filter(tenant=tenant).order_by("-version").first()
    if existing is not None:
        return existing
    try:
        model = model_train(tenant.pk)
    except ValidationFailed:
        return None  # too little history (a small demo): the rules alone grade
    model = model_activate(model, None, background=False)
    model_rescore(tenant.pk)
    return model


def model_delete(tenants: list[Tenant]) -> None:
    ScoreModel.objects.filter(tenant__in=tenants).delete()
