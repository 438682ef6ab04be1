"""Re-routing by the SLA job, once the routing module (leads/routing.py) is installed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts.roles import Role
from leadwerk.leads import services
from leadwerk.leads.models import BusinessCalendar, LeadEvent, RoutingRule, SlaPolicy
from leadwerk.leads.sla import sla_run

routing = pytest.importorskip("leadwerk.leads.routing")
if not hasattr(routing, "lead_route"):
    pytest.skip("routing has no lead_route yet", allow_module_level=True)

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)
DUE = MONDAY_9 + dt.timedelta(hours=2)


@pytest.fixture
def setup(tenant, manager):
    team = TeamFactory(tenant=tenant, name="Team Süd")
    first, second = (MembershipFactory(tenant=tenant, role=Role.SALES, team=team) for _ in range(2))
    BusinessCalendar.objects.create(tenant=tenant, workdays=[0, 1, 2, 3, 4])
    SlaPolicy.objects.create(
        tenant=tenant, name="A", metric="first_contact", business_minutes=120, escalate=False,
        reroute_after_minutes=240,
    )  # fmt: skip
    lead = services.lead_capture(by=manager, person={"last_name": "Wagner"}, channel="api", captured_at=MONDAY_9).lead
    RoutingRule.objects.create(tenant=tenant, name="Süd", target="team", target_team=team, position=1)
    lead.refresh_from_db()
    services.lead_assign(lead=lead, by=manager, owner=first)
    return lead, first, second


def test_rerouted_to_another_member_once_the_overdue_time_has_passed(setup):
    lead, first, second = setup
    assert sla_run(DUE + dt.timedelta(hours=1)).rerouted == 0  # overdue by 1 business hour only
    counts = sla_run(DUE + dt.timedelta(hours=4))
    assert counts.rerouted == 1
    lead.refresh_from_db()
    assert lead.owner_id == second.pk
    assert "rerouted" in lead.sla_flags["first_contact"]
    event = LeadEvent.objects.filter(lead=lead, kind="sla").order_by("-id").first()
    assert event.before["owner"] == first.pk and event.after["owner"] == second.pk
    assert sla_run(DUE + dt.timedelta(hours=8)).rerouted == 0  # once per deadline


def test_nobody_else_to_take_it_is_recorded_and_not_retried(setup):
    lead, first, _second = setup
    # The only rule now names the current owner, who is excluded: no rule places the lead anywhere new.
    RoutingRule.objects.filter(tenant=lead.tenant).update(target="user", target_member=first, target_team=None)
    sla_run(DUE + dt.timedelta(hours=5))
    lead.refresh_from_db()
    assert lead.owner_id == first.pk
    assert LeadEvent.objects.filter(lead=lead, kind="sla", after__rerouted=None).count() == 1
    sla_run(DUE + dt.timedelta(hours=9))
    assert LeadEvent.objects.filter(lead=lead, kind="sla", after__rerouted=None).count() == 1
