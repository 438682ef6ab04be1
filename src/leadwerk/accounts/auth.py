"""Binding an API request to one membership: by token, or by session plus the X-Tenant header."""

from __future__ import annotations

import zoneinfo

from auditlog.context import auditlog_value
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from leadwerk.core.exceptions import NotFound, PermissionDenied

from . import services
from .models import ApiToken, Membership, User
from .selectors import mfa_required, user_has_mfa


def _bind(request: HttpRequest, membership: Membership, token: ApiToken | None) -> None:
    request.membership = membership
    request.tenant = membership.tenant
    request.user = membership.user
    request.api_token = token
    timezone.activate(zoneinfo.ZoneInfo(membership.tenant.timezone))
    # The audit middleware ran before authentication; name the real actor now.
    try:
        context = auditlog_value.get()
    except LookupError:
        return
    context["actor"] = membership.user
    if token is not None:
        context["api_token_id"] = token.pk


def authenticate_token(request: HttpRequest, raw: str) -> ApiToken | None:
    token = services.token_authenticate(raw=raw)
    if token is None:
        return None
    if mfa_required(token.membership) and not user_has_mfa(token.membership.user):
        raise PermissionDenied(_("This tenant requires two-factor authentication for your role."))
    _bind(request, token.membership, token)
    return token


def authenticate_session(request: HttpRequest, user: User) -> Membership:
    slug = request.headers.get("X-Tenant") or request.GET.get("tenant")
    if not slug:
        raise NotFound(_("Name the tenant in the X-Tenant header."), field="X-Tenant")
    membership = (
        Membership.objects.active().select_related("tenant", "user").filter(user=user, tenant__slug=slug).first()
    )
    if membership is None:
        raise NotFound(_("Not found."))
    if mfa_required(membership) and not user_has_mfa(user):
        raise PermissionDenied(_("This tenant requires two-factor authentication for your role."))
    _bind(request, membership, None)
    return membership
