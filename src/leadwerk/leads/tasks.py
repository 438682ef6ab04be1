"""Periodic jobs of the lead database."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import services, sla


@db_periodic_task(crontab(minute="5", hour="*"))
def nurture_reopen() -> int:
    """Hourly (so a re-contact date is honoured in every time zone's morning): reopen nurtured leads due today."""
    return services.nurture_reopen_due()


@db_periodic_task(crontab(minute="*/5"))
def sla_check() -> dict:
    """Every five minutes: SLA reminders before, breaches and escalations after, re-routing long after."""
    return sla.sla_run().__dict__
