"""Background jobs of rule scoring: recompute on demand and after rule changes, and nightly (decay moves scores)."""

from __future__ import annotations

from django.tasks import task
from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@task
def score_recompute_task(*, tenant_id: int) -> dict:
    """Recompute every lead of one tenant; the result (counts) is shown under "Recompute now"."""
    from .scoring import score_recompute

    return {"tenant_id": tenant_id, **score_recompute(tenant_id).as_dict()}


@db_periodic_task(crontab(minute="17", hour="2"))
def score_recompute_nightly() -> int:
    """Nightly: engagement points decay with time, so every tenant with active rules is recomputed."""
    from .models import ScoringRule
    from .scoring import score_recompute

    tenants = ScoringRule.objects.filter(active=True).values_list("tenant_id", flat=True).distinct()
    return sum(score_recompute(tenant_id).changed for tenant_id in sorted(set(tenants)))
