"""Periodic jobs of the lead database."""

from __future__ import annotations

from django.tasks import task
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import services, sla
from .scoring_tasks import score_recompute_nightly  # noqa: F401  (registers the nightly recompute)


@db_periodic_task(crontab(minute="5", hour="*"))
def nurture_reopen() -> int:
    """Hourly (so a re-contact date is honoured in every time zone's morning): reopen nurtured leads due today."""
    return services.nurture_reopen_due()


@db_periodic_task(crontab(minute="*/5"))
def sla_check() -> dict:
    """Every five minutes: SLA reminders before, breaches and escalations after, re-routing long after."""
    return sla.sla_run().as_dict()


@task
def model_train_task(*, tenant_id: int, model_id: int | None = None) -> dict:
    """Train a queued predictive model version (leads/predictive.py); it ends READY or FAILED."""
    from .predictive import model_train_run

    model = model_train_run(tenant_id=tenant_id, model_id=model_id)
    return {"model": model.pk if model else None, "state": model.state if model else None}


@task
def model_rescore_task(*, tenant_id: int) -> int:
    """Rescore open leads after a model version was activated or deactivated."""
    from .predictive import model_rescore

    return model_rescore(tenant_id)


@db_periodic_task(crontab(minute="23", hour="2", day_of_week="0"))
def model_retrain_weekly() -> list[int]:
    """Sundays: train a new model version for every tenant with enough history; an admin activates it."""
    from .predictive import model_retrain_all

    return model_retrain_all()


@db_periodic_task(crontab(minute="*/5"))
def follow_up_reminders() -> int:
    """Every five minutes: an in-app reminder of each follow-up coming due in the next 15 minutes (once)."""
    from . import notifications

    return notifications.follow_ups_remind()


@db_periodic_task(crontab(minute="2", hour="*"))
def daily_digests() -> int:
    """Hourly: the daily e-mail digest to the members of each tenant where it is now 7 o'clock."""
    from . import notifications

    return notifications.digests_send_due()


@db_periodic_task(crontab(minute="*/15"))
def route_waiting() -> int:
    """Every 15 minutes: leads waiting in a team inbox (nobody could take them) go to a member who is free now."""
    from .routing import route_waiting_all

    return route_waiting_all()
