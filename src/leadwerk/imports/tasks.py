"""Background jobs of the imports app: run and undo imports, and delete old import files."""

from __future__ import annotations

import logging

from django.tasks import task
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

log = logging.getLogger(__name__)


@task
def import_run(*, job_id: int) -> dict:
    """Load an import chunk by chunk; a rerun (resume) continues after the last committed chunk."""
    from leadwerk.core.apps import sqlite_analyze

    from .services import import_process

    job = import_process(job_id)
    sqlite_analyze()  # a large import changes the data's shape; keep the planner's statistics current
    return {"job": job.pk, "status": job.status, "rows_done": job.rows_done}


@task
def import_undo_run(*, job_id: int, by_id: int) -> dict:
    from .services import import_undo_process

    job = import_undo_process(job_id, by_id)
    return {"job": job.pk, "status": job.status, **{k: v for k, v in job.undo_report.items() if k != "conflict_sample"}}


@db_periodic_task(crontab(minute="41", hour="3"))
def imports_purge() -> int:
    """Nightly: delete import jobs and their files after LEADWERK_IMPORT_KEEP_DAYS."""
    from .services import imports_purge_expired

    return imports_purge_expired()
