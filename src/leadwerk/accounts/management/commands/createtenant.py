from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from leadwerk.accounts import services
from leadwerk.core.exceptions import DomainError


class Command(BaseCommand):
    help = "Create a tenant and invite its first admin by e-mail; prints the one-time invitation link."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", required=True, help="Company name, e.g. 'Example GmbH'.")
        parser.add_argument("--slug", required=True, help="Short name in URLs, e.g. 'example'.")
        parser.add_argument("--admin", required=True, help="E-mail address of the first admin.")
        parser.add_argument("--locale", default="de", choices=["de", "en"])
        parser.add_argument("--timezone", default="Europe/Berlin")

    def handle(self, *args, name: str, slug: str, admin: str, locale: str, timezone: str, **options) -> None:
        try:
            with transaction.atomic():
                tenant = services.tenant_create(name=name, slug=slug, locale=locale, timezone_name=timezone)
                _invitation, raw = services.tenant_invite_first_admin(tenant=tenant, email=admin)
        except DomainError as exc:
            raise CommandError(f"{exc.field or 'error'}: {exc.message}") from exc
        self.stdout.write(self.style.SUCCESS(f"Tenant {tenant.name} created at /{tenant.slug}/."))
        self.stdout.write(f"Invitation for {admin} (valid 7 days, sent by e-mail):")
        self.stdout.write(services.invitation_link(raw))
