from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db import models
from django.utils import timezone

from leadwerk.core.models import TenantQuerySet

from .roles import AUDIT_READERS, DIRECTORY_READERS, MEMBER_ADMINS, Role

if TYPE_CHECKING:
    from .models import Membership


def _usable(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active


class MembershipQuerySet(TenantQuerySet):
    def active(self) -> Self:
        return self.filter(is_active=True, user__is_active=True)

    def visible_to(self, membership: Membership | None) -> Self:
        if not _usable(membership):
            return self.none()
        qs = self.for_tenant(membership.tenant_id)
        if membership.role in DIRECTORY_READERS:
            return qs
        return qs.filter(pk=membership.pk)


class TeamQuerySet(TenantQuerySet):
    def visible_to(self, membership: Membership | None) -> Self:
        if not _usable(membership):
            return self.none()
        qs = self.for_tenant(membership.tenant_id)
        if membership.role in DIRECTORY_READERS:
            return qs
        if membership.team_id:
            return qs.filter(pk=membership.team_id)
        return qs.none()


class InvitationQuerySet(TenantQuerySet):
    def pending(self) -> Self:
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())

    def visible_to(self, membership: Membership | None) -> Self:
        if not _usable(membership):
            return self.none()
        if membership.role in MEMBER_ADMINS:
            return self.for_tenant(membership.tenant_id)
        return self.none()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self) -> Self:
        now = timezone.now()
        return self.filter(
            revoked_at__isnull=True, membership__is_active=True, membership__user__is_active=True
        ).filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))

    def visible_to(self, membership: Membership | None) -> Self:
        """Everyone sees their own tokens; nobody sees another member's."""
        if not _usable(membership):
            return self.none()
        return self.filter(membership=membership)


class AuditEntryQuerySet(models.QuerySet):
    def visible_to(self, membership: Membership | None) -> Self:
        if not _usable(membership) or membership.role not in AUDIT_READERS:
            return self.none()
        return self.filter(tenant_id=membership.tenant_id)


__all__ = ["ApiTokenQuerySet", "AuditEntryQuerySet", "InvitationQuerySet", "MembershipQuerySet", "Role", "TeamQuerySet"]
