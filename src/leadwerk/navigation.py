from __future__ import annotations

from django.http import HttpRequest

from leadwerk.accounts.roles import AUDIT_READERS, DIRECTORY_READERS, MEMBER_ADMINS
from leadwerk.accounts.selectors import user_memberships
from leadwerk.contacts.roles import CONTACT_ADMINS, CONTACT_READERS, CONTACT_WRITERS
from leadwerk.leads.roles import LEAD_READERS, LEAD_WORKERS


def shell(request: HttpRequest) -> dict:
    """What the application shell needs on every page: the tenant switcher and the navigation.

    It lives at project level because the navigation spans every app.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None)
    role = membership.role if membership else None
    return {
        "memberships": user_memberships(user=user),
        "membership": membership,
        "current_tenant": membership.tenant if membership else None,
        "nav": {
            "directory": role in DIRECTORY_READERS,
            "admin": role in MEMBER_ADMINS,
            "audit": role in AUDIT_READERS,
            "leads": role in LEAD_READERS,
            "myday": role in LEAD_WORKERS,
            "contacts": role in CONTACT_READERS,
            "imports": role in CONTACT_WRITERS,
            "segments": role in CONTACT_READERS,
            "suppressions": role in CONTACT_ADMINS,
        },
    }
