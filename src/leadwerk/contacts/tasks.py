"""Background jobs of the marketing database. Every task receives its tenant explicitly."""

from __future__ import annotations

from django.tasks import task


@task
def dedup_run_task(*, tenant_id: int, run_id: int) -> dict:
    """Run a queued duplicate search (contacts/dedup.py) and report its figures."""
    from .dedup import dedup_run_execute

    run = dedup_run_execute(tenant_id=tenant_id, run_id=run_id)
    return {"run": run.pk, "status": run.status, "pairs": run.pairs_found, "new": run.candidates_new}
