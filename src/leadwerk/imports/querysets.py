from __future__ import annotations

from typing import TYPE_CHECKING, Self

from leadwerk.contacts.roles import CONTACT_WRITERS
from leadwerk.core.models import TenantQuerySet

if TYPE_CHECKING:
    from leadwerk.accounts.models import Membership


class ImportQuerySet(TenantQuerySet):
    """Import jobs and templates: only the roles that may write the marketing database see them."""

    def visible_to(self, membership: Membership | None) -> Self:
        if membership is None or not membership.is_active or membership.role not in CONTACT_WRITERS:
            return self.none()
        return self.for_tenant(membership.tenant_id)
