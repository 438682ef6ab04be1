from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db.models import F, Q

from leadwerk.accounts.roles import Role
from leadwerk.core.models import TenantQuerySet

from .roles import LEAD_READERS, LEAD_READERS_ALL

if TYPE_CHECKING:
    from leadwerk.accounts.models import Membership


def _own(membership: Membership, prefix: str = "") -> Q:
    """The leads a sales user or agent works: owned, or (sales) owned by the team."""
    condition = Q(**{f"{prefix}owner": membership})
    if membership.role == Role.SALES and membership.team_id:
        condition |= Q(**{f"{prefix}team_id": membership.team_id})
    return condition


def _reads_leads(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active and membership.role in LEAD_READERS


ROW_FIELDS = (
    "tenant_id", "status", "version", "title", "channel", "rating", "grade", "score", "captured_at",
    "closed_at", "next_follow_up_at", "first_contact_at", "speed_to_lead_seconds", "sla_flags", "sla_due_at",
    "sla_first_contact_due", "sla_accept_due", "sla_outcome_due", "team_id", "person_id", "organization_id",
    "interest_id", "owner_id",
)  # fmt: skip
ROW_NAMES = {
    "person_first_name": F("person__first_name"), "person_last_name": F("person__last_name"),
    "organization_name": F("organization__name"), "interest_name": F("interest__name"),
    "owner_full_name": F("owner__user__full_name"), "owner_email": F("owner__user__email"),
}  # fmt: skip


class LeadQuerySet(TenantQuerySet):
    def visible_to(self, membership: Membership | None, *, view: str | None = None) -> Self:
        """The leads the member may see; with ``view`` "mine" or "team", only those of the view.

        Where the view lies inside what the role sees anyway (own leads; a sales user's team), the role's
        ``owner OR team`` condition is left out: the database then counts and pages on the view's index alone
        instead of reading every row to test the OR."""
        if not _reads_leads(membership):
            return self.none()
        leads = self.for_tenant(membership.tenant_id)
        if view == "mine" or (view == "team" and not membership.team_id):
            return leads.filter(owner=membership)  # own leads: every reader sees them
        if view == "team":
            if membership.role in LEAD_READERS_ALL or membership.role == Role.SALES:
                return leads.filter(team_id=membership.team_id)
            return leads.filter(_own(membership), team_id=membership.team_id)  # an agent: own leads of the team
        if membership.role in LEAD_READERS_ALL:
            return leads
        return leads.filter(_own(membership))

    def open(self) -> Self:
        from .states import OPEN

        return self.filter(status__in=OPEN)

    def for_rows(self) -> Self:
        """What an inbox row or a board card shows, and no more: the wide rest (JSON answers, attributes,
        the person's address) is neither read nor decoded, and the names of person, organisation, interest and
        owner come as columns of the lead row instead of five more model instances per row."""
        return self.only(*ROW_FIELDS).annotate(**ROW_NAMES)


class LeadRowQuerySet(TenantQuerySet):
    """Events, activities and follow-ups: visible where their lead is."""

    def visible_to(self, membership: Membership | None) -> Self:
        if not _reads_leads(membership):
            return self.none()
        rows = self.for_tenant(membership.tenant_id)
        if membership.role in LEAD_READERS_ALL:
            return rows
        return rows.filter(_own(membership, "lead__"))


class ConfigQuerySet(TenantQuerySet):
    """Interests and reason lists: readable by everyone who sees leads."""

    def visible_to(self, membership: Membership | None) -> Self:
        return self.for_tenant(membership.tenant_id) if _reads_leads(membership) else self.none()


class NotificationQuerySet(TenantQuerySet):
    """A member's own in-app notifications; nobody reads another member's."""

    def visible_to(self, membership: Membership | None) -> Self:
        if membership is None or not membership.is_active:
            return self.none()
        return self.for_tenant(membership.tenant_id).filter(recipient=membership)
