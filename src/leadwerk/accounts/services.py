"""Every change to tenants, members, teams, invitations and tokens goes through here."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leadwerk.core.exceptions import ValidationFailed

from . import tasks
from .exceptions import AlreadyMember, InvitationInvalid, LastAdmin, NotAllowed, WrongTeam
from .models import RESERVED_SLUGS, ApiToken, Invitation, Membership, Team, Tenant, User
from .roles import MEMBER_ADMINS, Role

INVITATION_VALID_FOR = timedelta(days=7)
TOKEN_PREFIX = "lw"  # noqa: S105  (a public marker, not a secret)
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _require_admin(by: Membership) -> None:
    if not by.is_active or by.role not in MEMBER_ADMINS:
        raise NotAllowed()


def _check_team(tenant: Tenant, team: Team | None) -> None:
    if team is not None and team.tenant_id != tenant.pk:
        raise WrongTeam()


def _active_admins(tenant_id: int):
    return Membership.objects.for_tenant(tenant_id).active().filter(role=Role.ADMIN)


# --- tenants ---------------------------------------------------------------------


@transaction.atomic
def tenant_create(*, name: str, slug: str, locale: str = "de", timezone_name: str = "Europe/Berlin") -> Tenant:
    """A new client company. The slug is its address and cannot collide with system paths."""
    slug = slug.strip().lower()
    if slug in RESERVED_SLUGS:
        raise ValidationFailed(_("This short name is reserved."), field="slug")
    if Tenant.objects.filter(slug=slug).exists():
        raise ValidationFailed(_("This short name is already taken."), field="slug")
    tenant = Tenant(name=name.strip(), slug=slug, locale=locale, timezone=timezone_name)
    try:
        tenant.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ValidationFailed(messages[0], field=field) from exc
    tenant.save()
    return tenant


@transaction.atomic
def tenant_update(*, tenant: Tenant, by: Membership, **fields) -> Tenant:
    """Admins change the tenant's name, language, time zone, country and 2FA rule."""
    _require_admin(by)
    allowed = {"name", "locale", "timezone", "country", "require_mfa"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(_("This field cannot be changed."), field=sorted(unknown)[0])
    for key, value in fields.items():
        setattr(tenant, key, value)
    try:
        tenant.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ValidationFailed(messages[0], field=field) from exc
    tenant.save()
    return tenant


# --- teams --------------------------------------------------------------------------


def _team_validate(tenant: Tenant, name: str, lead: Membership | None, exclude_pk: int | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed(_("Give the team a name."), field="name")
    clash = Team.objects.for_tenant(tenant.pk).filter(name__iexact=name)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationFailed(_("A team with this name already exists."), field="name")
    if lead is not None and (lead.tenant_id != tenant.pk or not lead.is_active):
        raise ValidationFailed(_("Choose an active member of this tenant as team lead."), field="lead")
    return name


@transaction.atomic
def team_create(*, by: Membership, name: str, description: str = "", lead: Membership | None = None) -> Team:
    _require_admin(by)
    tenant = by.tenant
    name = _team_validate(tenant, name, lead)
    return Team.objects.create(tenant=tenant, name=name, description=description.strip(), lead=lead)


@transaction.atomic
def team_update(
    *, team: Team, by: Membership, name: str, description: str = "", lead: Membership | None = None
) -> Team:
    _require_admin(by)
    team.name = _team_validate(by.tenant, name, lead, exclude_pk=team.pk)
    team.description = description.strip()
    team.lead = lead
    team.save()
    return team


@transaction.atomic
def team_delete(*, team: Team, by: Membership) -> None:
    """Deleting a team keeps its members; they are simply without a team afterwards."""
    _require_admin(by)
    team.delete()


# --- members and invitations ----------------------------------------------------------


@transaction.atomic
def member_invite(*, by: Membership, email: str, role: str, team: Team | None = None) -> tuple[Invitation, str]:
    """An admin invites a person by e-mail; the one-time link is valid for seven days."""
    _require_admin(by)
    return _invite(tenant=by.tenant, by=by, email=email, role=role, team=team)


@transaction.atomic
def tenant_invite_first_admin(*, tenant: Tenant, email: str) -> tuple[Invitation, str]:
    """Operators start a new tenant by inviting its first admin (there is no admin yet who could)."""
    return _invite(tenant=tenant, by=None, email=email, role=Role.ADMIN, team=None)


def _invite(
    *, tenant: Tenant, by: Membership | None, email: str, role: str, team: Team | None
) -> tuple[Invitation, str]:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationFailed(_("Enter a valid e-mail address."), field="email") from exc
    if role not in Role.values:
        raise ValidationFailed(_("Choose a role."), field="role")
    _check_team(tenant, team)
    if Membership.objects.for_tenant(tenant.pk).filter(user__email__iexact=email, is_active=True).exists():
        raise AlreadyMember()
    # A new invitation replaces any earlier pending one for the same address.
    Invitation.objects.for_tenant(tenant.pk).pending().filter(email__iexact=email).update(revoked_at=timezone.now())
    raw = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        tenant=tenant,
        email=email,
        role=role,
        team=team,
        token_hash=_hash(raw),
        invited_by=by,
        expires_at=timezone.now() + INVITATION_VALID_FOR,
    )
    link = invitation_link(raw)
    with translation.override(tenant.locale):
        subject = _("Invitation to %(tenant)s on Leadwerk") % {"tenant": tenant.name}
        body = render_to_string(
            "accounts/email/invitation.txt",
            {
                "tenant": tenant,
                "inviter": by.user.display_name if by else "Leadwerk",
                "link": link,
                "role": Role(role).label,
                "expires": invitation.expires_at,
            },
        )
    transaction.on_commit(
        lambda: tasks.mail_send.enqueue(tenant_id=tenant.pk, to=[email], subject=str(subject), body=body)
    )
    return invitation, raw


def invitation_link(raw: str) -> str:
    return settings.SITE_URL + reverse("accounts:invitation_accept", kwargs={"token": raw})


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: Membership) -> Invitation:
    _require_admin(by)
    if invitation.is_pending:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
    return invitation


def invitation_lookup(*, token: str) -> Invitation | None:
    invitation = Invitation.objects.select_related("tenant").filter(token_hash=_hash(token)).first()
    if invitation is None or not invitation.is_pending:
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User | None = None, full_name: str = "", password: str = "") -> Membership:
    """Redeem a one-time link: an existing user joins; a new person becomes a user first."""
    invitation = Invitation.objects.select_for_update().filter(token_hash=_hash(token)).first()
    if invitation is None or not invitation.is_pending:
        raise InvitationInvalid()
    if user is None:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise ValidationFailed(_("An account with this e-mail exists. Log in to accept."), field="email")
        if not full_name.strip():
            raise ValidationFailed(_("Enter your name."), field="full_name")
        candidate = User(email=invitation.email, full_name=full_name.strip())
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), field="password") from exc
        user = User.objects.create_user(invitation.email, password, full_name=full_name.strip())
    elif user.email.lower() != invitation.email.lower():
        raise ValidationFailed(
            _("This invitation was sent to %(email)s. Log in with that address.") % {"email": invitation.email},
            field="email",
        )
    membership, created = Membership.objects.get_or_create(
        tenant_id=invitation.tenant_id,
        user=user,
        defaults={"role": invitation.role, "team": invitation.team},
    )
    if not created:
        if membership.is_active:
            raise AlreadyMember()
        membership.is_active = True
        membership.deactivated_at = None
        membership.role = invitation.role
        membership.team = invitation.team
        membership.save()
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    return membership


@transaction.atomic
def membership_create(*, tenant: Tenant, user: User, role: str, team: Team | None = None) -> Membership:
    """Direct membership for set-up and demo data; people join through invitations in the UI."""
    _check_team(tenant, team)
    return Membership.objects.create(tenant=tenant, user=user, role=role, team=team)


@transaction.atomic
def membership_update(*, membership: Membership, by: Membership, role: str, team: Team | None) -> Membership:
    """Change a member's role and team; the last active admin keeps the admin role."""
    _require_admin(by)
    if role not in Role.values:
        raise ValidationFailed(_("Choose a role."), field="role")
    _check_team(by.tenant, team)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    demoting_admin = membership.role == Role.ADMIN and role != Role.ADMIN and membership.is_active
    if demoting_admin and not _active_admins(membership.tenant_id).exclude(pk=membership.pk).exists():
        raise LastAdmin()
    membership.role = role
    membership.team = team
    membership.save()
    return membership


@transaction.atomic
def membership_deactivate(*, membership: Membership, by: Membership) -> Membership:
    """Access ends at once: the member's API tokens are revoked, and with no other tenant left, all sessions end."""
    _require_admin(by)
    membership = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    if not membership.is_active:
        return membership
    if membership.role == Role.ADMIN and not _active_admins(membership.tenant_id).exclude(pk=membership.pk).exists():
        raise LastAdmin()
    now = timezone.now()
    membership.is_active = False
    membership.deactivated_at = now
    membership.save()
    for token in ApiToken.objects.filter(membership=membership, revoked_at__isnull=True):
        token.revoked_at = now
        token.save(update_fields=["revoked_at", "updated_at"])
    if not Membership.objects.filter(user=membership.user).active().exists():
        membership.user.end_all_sessions()
    return membership


@transaction.atomic
def membership_reactivate(*, membership: Membership, by: Membership) -> Membership:
    _require_admin(by)
    membership.is_active = True
    membership.deactivated_at = None
    membership.save()
    return membership


# --- API tokens ----------------------------------------------------------------------


@transaction.atomic
def token_create(*, membership: Membership, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A personal token for this membership. The full key is shown once and never stored."""
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed(_("Give the token a name, e.g. the system that uses it."), field="name")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed(_("The expiry date must be in the future."), field="expires_at")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    raw = f"{TOKEN_PREFIX}_{prefix}_{secret}"
    token = ApiToken.objects.create(
        tenant_id=membership.tenant_id,
        membership=membership,
        name=name,
        prefix=prefix,
        key_hash=_hash(raw),
        expires_at=expires_at,
    )
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken, by: Membership) -> ApiToken:
    """Owners revoke their own tokens; admins any token of the tenant."""
    if token.tenant_id != by.tenant_id or (token.membership_id != by.pk and by.role not in MEMBER_ADMINS):
        raise NotAllowed()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


def token_authenticate(*, raw: str) -> ApiToken | None:
    """The usable token for a bearer key, or None. Records last use at one-minute resolution."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = (
        ApiToken.objects.usable()
        .select_related("membership__user", "membership__tenant", "membership__team")
        .filter(prefix=parts[1])
        .first()
    )
    if token is None or not secrets.compare_digest(token.key_hash, _hash(raw.strip())):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# --- users ----------------------------------------------------------------------------


def member_language(membership: Membership) -> str:
    """The language a member reads what the system writes for them without a request (mails, import reports)."""
    return membership.user.language or membership.tenant.locale or settings.LANGUAGE_CODE


def user_set_language(*, user: User, language: str) -> User:
    if language not in dict(settings.LANGUAGES):
        raise ValidationFailed(_("Choose a supported language."), field="language")
    user.language = language
    user.save(update_fields=["language"])
    return user


# --- audit ---------------------------------------------------------------------------------------


def audit_note(
    *,
    tenant_id: int,
    by: Membership | None,
    model: type,
    text: str,
    action: int,
    changes: dict,
    object_pk: object = "",
    extra: dict | None = None,
) -> None:
    """An audit entry that no single model save produces (exports, bulk changes, merges, import runs)."""
    from django.contrib.contenttypes.models import ContentType

    from .models import AuditEntry

    user = by.user if by is not None else None
    AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk=str(object_pk),
        object_id=object_pk if isinstance(object_pk, int) else None,
        object_repr=text[:200],
        action=action,
        changes=changes,
        actor=user,
        actor_email=user.email if user else "",
        tenant_id=tenant_id,
        additional_data={"tenant_id": tenant_id, **(extra or {})},
    )
