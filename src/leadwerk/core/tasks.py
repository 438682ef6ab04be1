"""Housekeeping jobs of the core."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .apps import sqlite_analyze


@db_periodic_task(crontab(minute="41"))
def sqlite_statistics_refresh() -> None:
    """Hourly: keep SQLite's planner statistics current as the data grows (no-op on PostgreSQL)."""
    sqlite_analyze()
