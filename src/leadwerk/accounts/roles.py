"""Roles and what each may do. The one place that answers "may this role …?"."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Tenant admin")
    MANAGER = "manager", _("Manager")
    MARKETING = "marketing", _("Marketing")
    AGENT = "agent", _("Call-center agent")
    SALES = "sales", _("Sales")
    PARTNER = "partner", _("Partner (dealer)")
    PRIVACY = "privacy", _("Privacy officer")


# Roles a tenant can oblige to use two-factor authentication.
MFA_ENFORCEABLE = frozenset({Role.ADMIN, Role.MANAGER})
# Who may read the member and team directory.
DIRECTORY_READERS = frozenset({Role.ADMIN, Role.MANAGER})
# Who may change members, teams, invitations and tenant settings.
MEMBER_ADMINS = frozenset({Role.ADMIN})
# Who may read the audit log.
AUDIT_READERS = frozenset({Role.ADMIN, Role.PRIVACY})
