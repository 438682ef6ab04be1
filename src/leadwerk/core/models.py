"""The tenant base: every domain row belongs to exactly one tenant."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db import models

if TYPE_CHECKING:
    from leadwerk.accounts.models import Membership


class TenantQuerySet(models.QuerySet):
    """Chainable, side-effect-free scoping. ``visible_to`` fails closed."""

    def for_tenant(self, tenant_id: int) -> Self:
        return self.filter(tenant_id=tenant_id)

    def visible_to(self, membership: Membership | None) -> Self:
        """Rows the membership may see. Subclasses widen this per role; the base sees nothing."""
        if membership is None or not membership.is_active:
            return self.none()
        return self.none()


class TenantModel(models.Model):
    """Abstract base for every domain row: a non-null tenant that cannot be deleted under it."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True

    def get_additional_data(self) -> dict:
        """Stored with every audit entry so the audit log can be read per tenant."""
        return {"tenant_id": self.tenant_id}
