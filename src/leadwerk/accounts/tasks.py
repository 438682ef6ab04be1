"""Background jobs of the accounts app. Every task receives its tenant explicitly."""

from __future__ import annotations

import logging

from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.tasks import task
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

log = logging.getLogger(__name__)


@task
def mail_send(*, tenant_id: int | None, to: list[str], subject: str, body: str) -> int:
    """Send one plain-text mail; failures raise so huey records them (no silent loss)."""
    log.info("mail to %s for tenant %s: %s", to, tenant_id, subject)
    return send_mail(subject, body, None, to)


@task
def ping(*, tenant_id: int, value: str) -> dict:
    """A trivial job used by health checks and tests to prove the queue runs end to end."""
    from .models import Tenant

    tenant = Tenant.objects.get(pk=tenant_id)
    return {"tenant": tenant.slug, "value": value}


@db_periodic_task(crontab(minute="17", hour="3"))
def sessions_clear_expired() -> int:
    """Nightly: drop expired sessions so the table stays small."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
