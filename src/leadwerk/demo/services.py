"""Realistic demo tenants. Idempotent: running it again changes nothing; ``demo_reset`` rebuilds."""

from __future__ import annotations

from dataclasses import dataclass

from auditlog.context import disable_auditlog
from django.conf import settings
from django.db import transaction
from django.utils import translation

from leadwerk.accounts import services as account_services
from leadwerk.accounts.models import ApiToken, AuditEntry, Invitation, Membership, Team, Tenant, User
from leadwerk.accounts.roles import Role
from leadwerk.contacts.models import (
    Affiliation,
    AttributeDefinition,
    Consent,
    Organization,
    OrganizationTag,
    Person,
    PersonTag,
    Suppression,
    Tag,
)

from .contacts import contacts_counts, contacts_load
from .leads import DEMO_LEADS, leads_counts, leads_delete, leads_load
from .model import model_delete, model_load
from .questions import questions_load
from .routing import routing_delete, routing_load
from .scoring import scoring_load
from .segments import segments_load
from .sla import sla_delete, sla_load

DEMO_PASSWORD = "leadwerk-demo"  # noqa: S105  (printed on purpose: demo data only)
# Size of each demo tenant's marketing database.
DEMO_PEOPLE = 20_000
DEMO_ORGANIZATIONS = 3_000


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    locale: str
    domain: str
    teams: tuple[str, ...]
    people: tuple[tuple[str, str, str, str | None], ...]  # (local part, full name, role, team)
    seed: int  # of the generated marketing database


TENANTS = (
    DemoTenant(
        slug="nordstern",
        name="Nordstern Automobile AG",
        locale="de",
        domain="nordstern.example",
        teams=("Vertrieb Nord", "Vertrieb Süd", "Flottenkunden"),
        people=(
            ("admin", "Anna Becker", Role.ADMIN, None),
            ("manager", "Markus Hoffmann", Role.MANAGER, None),
            ("marketing", "Lena Schulz", Role.MARKETING, None),
            ("sales", "Jonas Wagner", Role.SALES, "Vertrieb Nord"),
            ("sales2", "Sophie Richter", Role.SALES, "Vertrieb Süd"),
            ("partner", "Thomas Keller (Autohaus Keller)", Role.PARTNER, None),
            ("privacy", "Dr. Petra Neumann", Role.PRIVACY, None),
        ),
        seed=1,
    ),
    DemoTenant(
        slug="datavia",
        name="Datavia Systems GmbH",
        locale="en",
        domain="datavia.example",
        teams=("Enterprise Sales", "Inside Sales", "Channel"),
        people=(
            ("admin", "David Krüger", Role.ADMIN, None),
            ("manager", "Claudia Wolf", Role.MANAGER, None),
            ("marketing", "Felix Braun", Role.MARKETING, None),
            ("sales", "Miriam Schröder", Role.SALES, "Enterprise Sales"),
            ("sales2", "Tobias Lang", Role.SALES, "Inside Sales"),
            ("partner", "Sandra Vogel (NetSolutions Reseller)", Role.PARTNER, "Channel"),
            ("privacy", "Oliver Frank", Role.PRIVACY, None),
        ),
        seed=2,
    ),
)
# The call-center service provider works for both manufacturers: one user, two tenants.
SHARED_AGENT = ("agent@callpoint.example", "Kerstin Yilmaz (Callpoint)")


def _user(email: str, full_name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name)
    return user


@transaction.atomic
def demo_load() -> list[tuple[str, str, str]]:
    """Create the demo tenants if missing. Returns (tenant, e-mail, role) for every demo login."""
    logins: list[tuple[str, str, str]] = []
    agent = _user(*SHARED_AGENT)
    for spec in TENANTS:
        tenant = Tenant.objects.filter(slug=spec.slug).first()
        if tenant is None:
            tenant = account_services.tenant_create(name=spec.name, slug=spec.slug, locale=spec.locale)
        teams = {}
        for name in spec.teams:
            teams[name], _ = Team.objects.get_or_create(tenant=tenant, name=name)
        for local, full_name, role, team in spec.people:
            user = _user(f"{local}@{spec.domain}", full_name)
            if not Membership.objects.filter(tenant=tenant, user=user).exists():
                account_services.membership_create(tenant=tenant, user=user, role=role, team=teams.get(team))
            logins.append((spec.slug, user.email, Role(role).label))
        if not Membership.objects.filter(tenant=tenant, user=agent).exists():
            account_services.membership_create(tenant=tenant, user=agent, role=Role.AGENT)
        logins.append((spec.slug, agent.email, Role.AGENT.label))
        # Team leads: the first sales person of each team.
        for team in teams.values():
            if team.lead_id is None:
                lead = Membership.objects.filter(tenant=tenant, team=team, is_active=True).order_by("pk").first()
                if lead:
                    team.lead = lead
                    team.save(update_fields=["lead", "updated_at"])
        percent = settings.DEMO_PERCENT
        with translation.override(spec.locale):  # names and texts the demo writes, in the tenant's language
            _tenant_data_load(tenant, spec, percent)
    return logins


def _tenant_data_load(tenant: Tenant, spec: DemoTenant, percent: int) -> None:
    """The tenant's records, from the marketing database to the routing rules, each step on the ones before."""
    contacts_load(
        tenant,
        people=DEMO_PEOPLE * percent // 100,
        organizations=max(DEMO_ORGANIZATIONS * percent // 100, 30),
        seed=spec.seed,
    )
    segments_load(tenant)
    leads_load(tenant, seed=spec.seed, count=DEMO_LEADS * percent // 100)
    questions_load(tenant)
    scoring_load(tenant)  # grades before SLA deadlines: policies are per grade
    sla_load(tenant)
    model_load(tenant)
    routing_load(tenant)


def demo_contacts() -> list[tuple[str, dict[str, int]]]:
    """(tenant slug, counts) of each demo tenant's marketing database as it is now."""
    tenants = {tenant.slug: tenant for tenant in Tenant.objects.filter(slug__in=[spec.slug for spec in TENANTS])}
    return [(spec.slug, contacts_counts(tenants[spec.slug])) for spec in TENANTS if spec.slug in tenants]


def demo_leads() -> list[tuple[str, dict[str, int]]]:
    """(tenant slug, counts) of each demo tenant's lead database as it is now."""
    tenants = {tenant.slug: tenant for tenant in Tenant.objects.filter(slug__in=[spec.slug for spec in TENANTS])}
    return [(spec.slug, leads_counts(tenants[spec.slug])) for spec in TENANTS if spec.slug in tenants]


@transaction.atomic
def demo_reset() -> None:
    """Remove the demo tenants and demo users completely, so ``demo_load`` builds them anew."""
    slugs = [spec.slug for spec in TENANTS]
    tenants = list(Tenant.objects.filter(slug__in=slugs))
    with disable_auditlog():
        AuditEntry.objects.filter(tenant__in=tenants).delete()
        ApiToken.objects.filter(tenant__in=tenants).delete()
        Invitation.objects.filter(tenant__in=tenants).delete()
        _imports_delete(tenants)
        leads_delete(tenants)
        sla_delete(tenants)
        model_delete(tenants)
        _dedup_delete(tenants)
        _contacts_delete(tenants)
        routing_delete(tenants)
        Team.objects.filter(tenant__in=tenants).update(lead=None)
        Membership.objects.filter(tenant__in=tenants).delete()
        Team.objects.filter(tenant__in=tenants).delete()
        Tenant.objects.filter(pk__in=[t.pk for t in tenants]).delete()
        domains = [spec.domain for spec in TENANTS] + [SHARED_AGENT[0].split("@")[1]]
        for domain in domains:
            User.objects.filter(email__endswith=f"@{domain}").delete()


def _imports_delete(tenants: list[Tenant]) -> None:
    """Import jobs someone ran in the demo (their stored files go with them) and saved mapping templates."""
    from leadwerk.imports.models import ImportJob, ImportTemplate
    from leadwerk.imports.services import _delete_job

    for job in ImportJob.objects.filter(tenant__in=tenants):
        _delete_job(job)
    ImportTemplate.objects.filter(tenant__in=tenants).delete()


def _dedup_delete(tenants: list[Tenant]) -> None:
    """Duplicate searches, their candidate pairs and merges someone made in the demo."""
    from leadwerk.contacts.models import DedupRun, DuplicateCandidate, Merge

    for model in (Merge, DuplicateCandidate, DedupRun):
        model.objects.filter(tenant__in=tenants).delete()


def _contacts_delete(tenants: list[Tenant]) -> None:
    """The demo tenants' marketing database; rows pointing at each other are unlinked first."""
    from leadwerk.contacts.models import Segment, SegmentMember

    SegmentMember.objects.filter(tenant__in=tenants).delete()
    Segment.objects.filter(tenant__in=tenants).delete()
    for model in (Consent, PersonTag, OrganizationTag, Affiliation):
        model.objects.filter(tenant__in=tenants).delete()
    Person.objects.filter(tenant__in=tenants).update(duplicate_of=None)
    Person.objects.filter(tenant__in=tenants).delete()
    Organization.objects.filter(tenant__in=tenants).update(parent=None)
    Organization.objects.filter(tenant__in=tenants).delete()
    for model in (Suppression, Tag, AttributeDefinition):
        model.objects.filter(tenant__in=tenants).delete()
