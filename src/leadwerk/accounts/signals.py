"""Signal receivers for audit bookkeeping only; no workflow lives here."""

from __future__ import annotations

from django.db.models.signals import pre_save
from django.dispatch import receiver

from .models import AuditEntry


@receiver(pre_save, sender=AuditEntry, dispatch_uid="auditentry_tenant")
def auditentry_set_tenant(sender, instance: AuditEntry, **kwargs) -> None:
    """Copy the tenant that the audited object reported into an indexed column."""
    if instance.tenant_id is None and isinstance(instance.additional_data, dict):
        instance.tenant_id = instance.additional_data.get("tenant_id")
