"""Resolve the tenant from the URL and the caller's membership in it; fail closed with 404."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Membership
from .selectors import mfa_required, user_has_mfa


def membership_for(request: HttpRequest, tenant_slug: str) -> Membership:
    membership = (
        Membership.objects.active()
        .select_related("tenant", "team", "user")
        .filter(user=request.user, tenant__slug=tenant_slug)
        .first()
    )
    if membership is None:
        raise Http404("No such tenant.")
    return membership


def tenant_view(roles: Iterable[str] | None = None) -> Callable:
    """Views under /<tenant>/: the user must be an active member; with ``roles``, one of them.

    Everything else (no membership, other tenant, other role) answers 404, so a URL does not
    even reveal that an object exists.
    """
    allowed = frozenset(roles) if roles is not None else None

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, tenant: str, *args, **kwargs) -> HttpResponse:
            membership = membership_for(request, tenant)
            if allowed is not None and membership.role not in allowed:
                raise Http404("Not available for this role.")
            if mfa_required(membership) and not user_has_mfa(request.user):
                messages.warning(
                    request,
                    _("%(tenant)s requires two-factor authentication for your role. Set it up to continue.")
                    % {"tenant": membership.tenant.name},
                )
                return redirect("mfa_activate_totp")
            request.membership = membership
            request.tenant = membership.tenant
            timezone.activate(zoneinfo.ZoneInfo(membership.tenant.timezone))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
