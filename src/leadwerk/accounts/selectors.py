"""Reads that aggregate or cross apps: tenant switcher, overview figures."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from .models import ApiToken, AuditEntry, Invitation, Membership, Team, User
from .roles import AUDIT_READERS, DIRECTORY_READERS, MEMBER_ADMINS


def user_memberships(*, user: User) -> QuerySet[Membership]:
    """The user's active memberships, ordered by tenant name; drives the tenant switcher."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return (
        Membership.objects.filter(user=user, is_active=True, user__is_active=True)
        .select_related("tenant")
        .order_by("tenant__name")
    )


@dataclass(frozen=True)
class Overview:
    members_active: int | None
    members_inactive: int | None
    teams: int | None
    invitations_pending: int | None
    my_tokens: int
    my_team_members: list[Membership]
    recent_audit: list[AuditEntry]
    needs_mfa_setup: bool


def tenant_overview(*, membership: Membership) -> Overview:
    """The start page of a tenant: what exists so far and what is the user's own."""
    tenant_id = membership.tenant_id
    members_active = members_inactive = teams = invitations = None
    if membership.role in DIRECTORY_READERS:
        counts = Membership.objects.for_tenant(tenant_id).aggregate(
            active=Count("pk", filter=Q(is_active=True)), inactive=Count("pk", filter=Q(is_active=False))
        )
        members_active, members_inactive = counts["active"], counts["inactive"]
        teams = Team.objects.for_tenant(tenant_id).count()
        if membership.role in MEMBER_ADMINS:
            invitations = Invitation.objects.for_tenant(tenant_id).pending().count()
    my_team_members: list[Membership] = []
    if membership.team_id:
        my_team_members = list(
            Membership.objects.for_tenant(tenant_id)
            .active()
            .filter(team_id=membership.team_id)
            .select_related("user")
            .order_by("user__full_name")[:12]
        )
    recent: list[AuditEntry] = []
    if membership.role in AUDIT_READERS:
        recent = list(AuditEntry.objects.visible_to(membership).select_related("actor", "content_type")[:6])
    my_tokens = ApiToken.objects.visible_to(membership).usable().count()
    return Overview(
        members_active=members_active,
        members_inactive=members_inactive,
        teams=teams,
        invitations_pending=invitations,
        my_tokens=my_tokens,
        my_team_members=my_team_members,
        recent_audit=recent,
        needs_mfa_setup=mfa_required(membership) and not user_has_mfa(membership.user),
    )


def user_has_mfa(user: User) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def mfa_required(membership: Membership) -> bool:
    from .roles import MFA_ENFORCEABLE

    return membership.tenant.require_mfa and membership.role in MFA_ENFORCEABLE
