"""In-app notifications (and, where the member wants them, e-mails) about leads."""

from __future__ import annotations

from leadwerk.accounts.models import Membership

from .models import Lead, Notification


def notify(recipient: Membership, kind: str, text: str, lead: Lead | None = None) -> Notification | None:
    """Leave a message for one active member; inactive members get nothing."""
    if not recipient.is_active:
        return None
    return Notification.objects.create(
        tenant_id=recipient.tenant_id, recipient=recipient, kind=kind, lead=lead, text=text[:300]
    )
