"""HTML views: get the scoped object, validate, call one service, render."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadwerk.core.exceptions import DomainError
from leadwerk.core.htmx import form_error, partial_template
from leadwerk.core.paging import paginate

from . import services
from .decorators import tenant_view
from .forms import (
    AcceptInvitationForm,
    InviteForm,
    LanguageForm,
    MembershipForm,
    TeamForm,
    TenantSettingsForm,
    TokenForm,
)
from .models import ApiToken, AuditEntry, Invitation, Membership, Team
from .roles import AUDIT_READERS, DIRECTORY_READERS, MEMBER_ADMINS, Role
from .selectors import tenant_overview, user_memberships

# --- entry points ------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """One tenant: go there. Several: pick one. None: say so."""
    memberships = list(user_memberships(user=request.user))
    if len(memberships) == 1:
        membership = memberships[0]
        if membership.role in (Role.SALES, Role.AGENT):
            # People who work leads start where their work is: their follow-ups, hot leads and deadlines.
            return redirect("leads:my_day", tenant=membership.tenant.slug)
        return redirect("accounts:overview", tenant=membership.tenant.slug)
    return render(request, "accounts/home.html", {"choices": memberships})


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """Switch language: stored on the user when logged in, in a cookie always."""
    form = LanguageForm(request.POST)
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if request.user.is_authenticated:
            services.user_set_language(user=request.user, language=language)
        response.set_cookie("leadwerk_language", language, max_age=365 * 24 * 3600, samesite="Lax")
    return response


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


# --- overview ------------------------------------------------------------------------


@tenant_view()
def overview(request: HttpRequest) -> HttpResponse:
    data = tenant_overview(membership=request.membership)
    return render(request, "accounts/overview.html", {"overview": data})


# --- members -------------------------------------------------------------------------


@tenant_view(roles=DIRECTORY_READERS)
def member_list(request: HttpRequest) -> HttpResponse:
    m = request.membership
    qs = (
        Membership.objects.visible_to(m)
        .select_related("user", "team")
        .order_by("-is_active", "user__full_name", "user__email")
    )
    query = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    status = request.GET.get("status", "active")
    if query:
        qs = qs.filter(
            Q(user__full_name__icontains=query) | Q(user__email__icontains=query) | Q(team__name__icontains=query)
        )
    if role in Role.values:
        qs = qs.filter(role=role)
    if status == "active":
        qs = qs.filter(is_active=True)
    elif status == "inactive":
        qs = qs.filter(is_active=False)
    invitations = Invitation.objects.visible_to(m).pending().select_related("team") if m.role in MEMBER_ADMINS else []
    context = {
        "page": paginate(request, qs),
        "query": query,
        "role": role,
        "status": status,
        "roles": Role.choices,
        "invitations": invitations,
        "can_manage": m.role in MEMBER_ADMINS,
    }
    return render(request, partial_template(request, "accounts/member_list.html", "member-table"), context)


@tenant_view(roles=MEMBER_ADMINS)
def member_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _raw = services.member_invite(by=request.membership, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("accounts:member_list", tenant=request.tenant.slug)
    return render(request, "accounts/member_invite.html", {"form": form})


@tenant_view(roles=MEMBER_ADMINS)
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(Membership.objects.visible_to(request.membership).select_related("user", "team"), pk=pk)
    initial = {"role": member.role, "team": member.team}
    form = MembershipForm(request.POST or None, tenant=request.tenant, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_update(membership=member, by=request.membership, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Changes to %(name)s saved.") % {"name": member.user})
            return redirect("accounts:member_list", tenant=request.tenant.slug)
    tokens = ApiToken.objects.filter(membership=member).usable().count()
    return render(request, "accounts/member_edit.html", {"form": form, "member": member, "tokens": tokens})


@tenant_view(roles=MEMBER_ADMINS)
def member_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(Membership.objects.visible_to(request.membership).select_related("user"), pk=pk)
    if request.method == "POST":
        try:
            services.membership_deactivate(membership=member, by=request.membership)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(name)s no longer has access.") % {"name": member.user})
        return redirect("accounts:member_list", tenant=request.tenant.slug)
    return render(request, partial_template(request, "accounts/member_deactivate.html", "dialog"), {"member": member})


@tenant_view(roles=MEMBER_ADMINS)
@require_POST
def member_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(Membership.objects.visible_to(request.membership).select_related("user"), pk=pk)
    services.membership_reactivate(membership=member, by=request.membership)
    messages.success(request, _("%(name)s has access again.") % {"name": member.user})
    return redirect("accounts:member_list", tenant=request.tenant.slug)


@tenant_view(roles=MEMBER_ADMINS)
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.visible_to(request.membership), pk=pk)
    services.invitation_revoke(invitation=invitation, by=request.membership)
    messages.success(request, _("Invitation for %(email)s revoked.") % {"email": invitation.email})
    return redirect("accounts:member_list", tenant=request.tenant.slug)


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time link from the invitation mail. Works logged in (existing user) or not (new user)."""
    invitation = services.invitation_lookup(token=token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    user = request.user if request.user.is_authenticated else None
    from .models import User

    existing = User.objects.filter(email__iexact=invitation.email).exists()
    form = AcceptInvitationForm(request.POST or None) if user is None and not existing else None
    error = None
    if request.method == "POST":
        try:
            if user is not None:
                membership = services.invitation_accept(token=token, user=user)
            elif form is not None and form.is_valid():
                membership = services.invitation_accept(token=token, **form.cleaned_data)
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                membership = None
        except DomainError as exc:
            membership = None
            if form is not None:
                form_error(form, exc)
            else:
                error = exc.message
        if membership is not None:
            messages.success(request, _("Welcome to %(tenant)s.") % {"tenant": membership.tenant.name})
            return redirect("accounts:overview", tenant=membership.tenant.slug)
    context = {"invitation": invitation, "form": form, "existing": existing, "error": error}
    return render(request, "accounts/invitation_accept.html", context)


# --- teams -----------------------------------------------------------------------------


@tenant_view(roles=DIRECTORY_READERS)
def team_list(request: HttpRequest) -> HttpResponse:
    from django.db.models import Count

    teams = (
        Team.objects.visible_to(request.membership)
        .select_related("lead__user")
        .annotate(member_count=Count("members", filter=Q(members__is_active=True)))
    )
    return render(
        request, "accounts/team_list.html", {"teams": teams, "can_manage": request.membership.role in MEMBER_ADMINS}
    )


@tenant_view(roles=MEMBER_ADMINS)
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(by=request.membership, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Team %(name)s created.") % {"name": team.name})
            return redirect("accounts:team_list", tenant=request.tenant.slug)
    return render(request, "accounts/team_form.html", {"form": form, "team": None})


@tenant_view(roles=MEMBER_ADMINS)
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(Team.objects.visible_to(request.membership), pk=pk)
    initial = {"name": team.name, "description": team.description, "lead": team.lead}
    form = TeamForm(request.POST or None, tenant=request.tenant, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.team_update(team=team, by=request.membership, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Team %(name)s saved.") % {"name": team.name})
            return redirect("accounts:team_list", tenant=request.tenant.slug)
    members = team.members.filter(is_active=True).select_related("user")
    return render(request, "accounts/team_form.html", {"form": form, "team": team, "members": members})


@tenant_view(roles=MEMBER_ADMINS)
@require_POST
def team_delete(request: HttpRequest, pk: int) -> HttpResponse:
    team = get_object_or_404(Team.objects.visible_to(request.membership), pk=pk)
    services.team_delete(team=team, by=request.membership)
    messages.success(request, _("Team %(name)s deleted; its members keep their access.") % {"name": team.name})
    return redirect("accounts:team_list", tenant=request.tenant.slug)


# --- API tokens ------------------------------------------------------------------------


@tenant_view()
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    created_key = None
    if request.method == "POST" and form.is_valid():
        expires = form.cleaned_data.get("expires_at")
        expires_at = timezone.make_aware(datetime.combine(expires, time(23, 59, 59))) if expires else None
        try:
            token, created_key = services.token_create(
                membership=request.membership, name=form.cleaned_data["name"], expires_at=expires_at
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(
                request, _("Token %(name)s created. Copy it now: it is shown only once.") % {"name": token.name}
            )
            form = TokenForm()
    tokens = ApiToken.objects.visible_to(request.membership).order_by("revoked_at", "-created_at")
    return render(request, "accounts/token_list.html", {"form": form, "tokens": tokens, "created_key": created_key})


@tenant_view()
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.visible_to(request.membership), pk=pk)
    services.token_revoke(token=token, by=request.membership)
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("accounts:token_list", tenant=request.tenant.slug)


# --- audit and settings ---------------------------------------------------------------------


@tenant_view(roles=AUDIT_READERS)
def audit_list(request: HttpRequest) -> HttpResponse:
    entries = AuditEntry.objects.visible_to(request.membership).select_related("actor", "content_type", "api_token")
    actor = request.GET.get("actor", "").strip()
    if actor:
        entries = entries.filter(actor_email__icontains=actor)
    page = paginate(request, entries, per_page=50)
    template = partial_template(request, "accounts/audit_list.html", "audit-table")
    return render(request, template, {"page": page, "actor": actor})


@tenant_view(roles=MEMBER_ADMINS)
def tenant_settings(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    form = TenantSettingsForm(request.POST or None, instance=tenant)
    if request.method == "POST" and form.is_valid():
        try:
            fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
            tenant.refresh_from_db()
            services.tenant_update(tenant=tenant, by=request.membership, **fields)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("accounts:tenant_settings", tenant=tenant.slug)
    return render(request, "accounts/tenant_settings.html", {"form": form})
