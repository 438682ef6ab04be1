from __future__ import annotations

import secrets
import zoneinfo

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from leadwerk.core.models import TenantModel

from .querysets import ApiTokenQuerySet, AuditEntryQuerySet, InvitationQuerySet, MembershipQuerySet, TeamQuerySet
from .roles import Role

TIMEZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name]
RESERVED_SLUGS = frozenset({"accounts", "api", "admin", "static", "media", "invitations", "language", "healthz", "me"})


def validate_not_reserved(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(_("This short name is reserved."))


slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1–50 lower-case letters, digits and hyphens; no hyphen at the start or end."),
)


def new_session_stamp() -> str:
    return secrets.token_hex(16)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. Access to a tenant comes only through a Membership."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    language = models.CharField(
        _("language"),
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Empty: use the browser's language."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("platform staff"), default=False)
    date_joined = models.DateTimeField(_("registered"), default=timezone.now)
    # Rotating the stamp ends every session of the user at once (see _get_session_auth_hash).
    session_stamp = models.CharField(max_length=32, default=new_session_stamp, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]

    @property
    def initials(self) -> str:
        parts = (self.full_name or self.email).replace("@", " ").replace(".", " ").split()
        return "".join(p[0] for p in parts[:2]).upper()

    def _get_session_auth_hash(self, secret=None) -> str:
        key_salt = "leadwerk.accounts.User.session_auth_hash"
        return salted_hmac(key_salt, self.password + self.session_stamp, secret=secret, algorithm="sha256").hexdigest()

    def end_all_sessions(self) -> None:
        self.session_stamp = new_session_stamp()
        self.save(update_fields=["session_stamp"])


class Tenant(models.Model):
    """A client company (Mandant). Every domain row belongs to exactly one."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(
        _("short name in URLs"), max_length=50, unique=True, validators=[slug_validator, validate_not_reserved]
    )
    locale = models.CharField(_("default language"), max_length=8, choices=settings.LANGUAGES, default="de")
    timezone = models.CharField(_("time zone"), max_length=64, choices=TIMEZONE_CHOICES, default="Europe/Berlin")
    country = models.CharField(_("default country"), max_length=2, default="DE", help_text=_("ISO code, e.g. DE."))
    require_mfa = models.BooleanField(_("require two-factor authentication for admins and managers"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_additional_data(self) -> dict:
        return {"tenant_id": self.pk}


class Team(TenantModel):
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("description"), max_length=255, blank=True)
    lead = models.ForeignKey(
        "accounts.Membership",
        verbose_name=_("team lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )

    objects = TeamQuerySet.as_manager()

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="team_unique_name_per_tenant")]

    def __str__(self) -> str:
        return self.name


class Membership(TenantModel):
    """A user's place in a tenant: one role, optionally one team."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    is_active = models.BooleanField(_("active"), default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="membership_unique_user_per_tenant")]
        indexes = [models.Index(fields=["user", "is_active"], name="membership_user_active")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class Invitation(TenantModel):
    """A one-time link that lets a person join the tenant with a preset role."""

    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    team = models.ForeignKey(Team, verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(Membership, null=True, on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ApiToken(TenantModel):
    """A personal API token, bound to one membership. Only its SHA-256 hash is stored."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class AuditEntry(AbstractLogEntry):
    """django-auditlog's entry plus the tenant and the API token that acted, for per-tenant audit views."""

    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    api_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = LogEntryManager.from_queryset(AuditEntryQuerySet)()

    class Meta(AbstractLogEntry.Meta):
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["tenant", "-timestamp"], name="auditentry_tenant_time")]
