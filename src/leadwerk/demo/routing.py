"""Demo routing: postcode territories per sales team, a rule for big companies, a fallback, weekly capacities
and an absence, so the routing screens, the try-it box and new captures show something meaningful.

``routing_load(tenant)`` is idempotent: a tenant that has routing rules already is left alone.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from leadwerk.accounts.models import Membership, Team, Tenant
from leadwerk.accounts.roles import Role
from leadwerk.leads.models import Absence, LeadProfile, RoutingRule
from leadwerk.leads.roles import LEAD_WORKERS

__all__ = ["routing_delete", "routing_load"]

# (rule name, conditions, team name | "@manager", strategy), per tenant language; checked in this order
RULES = {
    "de": [
        ("Großkunden an die Vertriebsleitung",
         [{"field": "organization.employees", "op": "in", "value": ["250-999", "1000+"]}], "@manager", ""),
        ("PLZ 0–4: Vertrieb Nord", [{"field": "person.postcode", "op": "between", "value": ["00000", "49999"]}],
         "Vertrieb Nord", "round_robin"),
        ("PLZ 5–9: Vertrieb Süd", [{"field": "person.postcode", "op": "between", "value": ["50000", "99999"]}],
         "Vertrieb Süd", "fewest_open"),
        ("Alle übrigen (ohne PLZ, Ausland)", [], "Vertrieb Nord", "round_robin"),
    ],
    "en": [
        ("Enterprise accounts (250+ employees)",
         [{"field": "organization.employees", "op": "in", "value": ["250-999", "1000+"]}], "Enterprise Sales",
         "round_robin"),
        ("Grade A to the sales manager", [{"field": "lead.grade", "op": "eq", "value": "A"}], "@manager", ""),
        ("Everything else: Inside Sales", [], "Inside Sales", "fewest_open"),
    ],
}  # fmt: skip


@transaction.atomic
def routing_load(tenant: Tenant) -> int:
    """Rules, capacities (40 new leads a week for sales, agents take no routed leads) and one absence."""
    if RoutingRule.objects.filter(tenant=tenant).exists():
        return 0
    teams = {t.name: t for t in Team.objects.filter(tenant=tenant)}
    manager = Membership.objects.filter(tenant=tenant, role=Role.MANAGER, is_active=True).order_by("pk").first()
    rules = []
    for position, (name, conditions, target, strategy) in enumerate(RULES.get(tenant.locale, RULES["en"]), start=1):
        if target == "@manager":
            if manager is None:
                continue
            rules.append(RoutingRule(tenant=tenant, name=name, position=position, conditions=conditions,
                                     target=RoutingRule.Target.USER, target_member=manager))  # fmt: skip
        elif target in teams:
            rules.append(RoutingRule(tenant=tenant, name=name, position=position, conditions=conditions,
                                     target=RoutingRule.Target.TEAM, target_team=teams[target],
                                     strategy=strategy))  # fmt: skip
    RoutingRule.objects.bulk_create(rules)
    workers = Membership.objects.filter(tenant=tenant, is_active=True, role__in=LEAD_WORKERS).order_by("pk")
    for member in workers:
        capacity = 40 if member.role == Role.SALES else None
        LeadProfile.objects.update_or_create(
            membership=member,
            defaults={"tenant": tenant, "weekly_capacity": capacity, "takes_leads": member.role != Role.AGENT},
        )
    # The second sales person is on holiday from next Monday for a week.
    away = workers.filter(role=Role.SALES).order_by("-pk").first()
    if away is not None:
        today = timezone.localdate()
        monday = today + dt.timedelta(days=7 - today.weekday())
        Absence.objects.create(tenant=tenant, membership=away, starts_on=monday, ends_on=monday + dt.timedelta(days=4),
                               note="Urlaub" if tenant.locale == "de" else "Holiday")  # fmt: skip
    return len(rules)


def routing_delete(tenants: list[Tenant]) -> None:
    """Before the members and teams go: rules protect the member or team they route to."""
    RoutingRule.objects.filter(tenant__in=tenants).delete()
    Absence.objects.filter(tenant__in=tenants).delete()
