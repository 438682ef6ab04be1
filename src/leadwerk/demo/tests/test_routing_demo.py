"""Demo routing: territories, a big-company rule and a fallback route new captures; capacities and an absence."""

from __future__ import annotations

from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts.roles import Role
from leadwerk.demo.routing import routing_delete, routing_load
from leadwerk.leads import services
from leadwerk.leads.models import Absence, LeadProfile, RoutingRule


def test_routing_load_sets_up_rules_capacity_and_an_absence_and_routes_captures(tenant, admin):
    nord = TeamFactory(tenant=tenant, name="Vertrieb Nord")
    sued = TeamFactory(tenant=tenant, name="Vertrieb Süd")
    north = MembershipFactory(tenant=tenant, role=Role.SALES, team=nord)
    south = MembershipFactory(tenant=tenant, role=Role.SALES, team=sued)
    MembershipFactory(tenant=tenant, role=Role.MANAGER)
    assert routing_load(tenant) == 4
    assert routing_load(tenant) == 0  # idempotent
    assert (
        list(RoutingRule.objects.filter(tenant=tenant).order_by("position").values_list("conditions", flat=True))[-1]
        == []
    )
    assert LeadProfile.objects.get(membership=north).weekly_capacity == 40
    assert Absence.objects.filter(tenant=tenant, membership=south).count() == 1
    captured = services.lead_capture(by=admin, person={"last_name": "Huber", "postcode": "80331"}).lead
    assert captured.owner_id == south.pk and captured.routing_rule.name == "PLZ 5–9: Vertrieb Süd"
    captured = services.lead_capture(by=admin, person={"last_name": "Jansen", "postcode": "20095"}).lead
    assert captured.owner_id == north.pk
    routing_delete([tenant])
    assert not RoutingRule.objects.filter(tenant=tenant).exists()
