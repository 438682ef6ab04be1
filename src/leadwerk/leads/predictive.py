"""Predictive scoring: a per-tenant model of won vs. lost, trained on closed leads (see ScoreModel)."""

from __future__ import annotations

from .models import ScoreModel


def active_model(tenant_id: int) -> ScoreModel | None:
    """The tenant's active model version, or None while rules alone drive the grade."""
    return ScoreModel.objects.filter(tenant_id=tenant_id, state=ScoreModel.State.ACTIVE).first()
