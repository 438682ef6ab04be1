"""Routing screens: rules list with empty state, rule form with condition rows and errors, move/toggle/delete,
try-it, capacity and absences, route now; other tenants and roles get 404."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import login
from django.utils import timezone
from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts.roles import Role
from leadwerk.leads import services
from leadwerk.leads.models import Absence, LeadProfile, RoutingRule


@pytest.fixture
def sued(tenant):
    return TeamFactory(tenant=tenant, name="Team Süd")


@pytest.fixture
def seller(tenant, sued):
    return MembershipFactory(tenant=tenant, role=Role.SALES, team=sued, user__full_name="Sina Süd")


def url(path: str) -> str:
    return f"/nordstern/leads/settings/{path}"


def rule_post(sued, **extra):
    data = {
        "name": "Süd", "target": "team", "target_team": sued.pk, "strategy": "round_robin", "active": "on",
        "cond-field-0": "person.postcode", "cond-op-0": "between", "cond-value-0": "80000", "cond-value2-0": "87999",
        "action": "save",
    }  # fmt: skip
    data.update(extra)
    return data


def test_empty_state_and_link_from_settings(client, admin):
    login(client, admin)
    page = client.get(url("routing/")).content.decode()
    assert 'data-testid="routing-empty"' in page and "No routing rules yet" in page
    assert url("routing/") in client.get(url("")).content.decode()


def test_create_a_rule_with_a_condition_row(client, admin, sued, seller):
    login(client, admin)
    assert client.get(url("routing/new/")).status_code == 200
    response = client.post(url("routing/new/"), rule_post(sued))
    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    assert rule.conditions == [{"field": "person.postcode", "op": "between", "value": ["80000", "87999"]}]
    page = client.get(url("routing/")).content.decode()
    assert "Team Süd" in page and "postcode is between 80000–87999" in page


def test_add_and_remove_condition_rows_without_saving(client, admin, sued):
    login(client, admin)
    added = client.post(url("routing/new/"), rule_post(sued, action="add")).content.decode()
    assert added.count('data-testid="condition-row"') == 2
    removed = client.post(url("routing/new/"), rule_post(sued, action="remove:0")).content.decode()
    assert removed.count('data-testid="condition-row"') == 0
    assert not RoutingRule.objects.exists()


def test_a_bad_condition_rerenders_with_its_error(client, admin, sued):
    login(client, admin)
    response = client.post(url("routing/new/"), rule_post(sued, **{"cond-value2-0": "70000"}))
    assert response.status_code == 422
    assert 'data-testid="condition-error"' in response.content.decode()
    assert "lower bound" in response.content.decode()
    missing_team = client.post(url("routing/new/"), rule_post(sued, target_team=""))
    assert missing_team.status_code == 422 and "Choose the team" in missing_team.content.decode()
    assert not RoutingRule.objects.exists()


def test_edit_move_toggle_delete(client, admin, sued):
    login(client, admin)
    a = RoutingRule.objects.create(tenant=admin.tenant, name="A", position=1, target_team=sued)
    b = RoutingRule.objects.create(tenant=admin.tenant, name="B", position=2, target_team=sued)
    assert client.get(url(f"routing/{a.pk}/")).status_code == 200
    client.post(url(f"routing/{a.pk}/"), rule_post(sued, name="A2"))
    client.post(url(f"routing/{b.pk}/move/"), {"direction": "up"})
    assert list(RoutingRule.objects.order_by("position").values_list("name", flat=True)) == ["B", "A2"]
    client.post(url(f"routing/{b.pk}/toggle/"))
    b.refresh_from_db()
    assert not b.active
    client.post(url(f"routing/{b.pk}/delete/"))
    assert list(RoutingRule.objects.values_list("name", flat=True)) == ["A2"]


def test_try_it_shows_rule_member_and_why(client, admin, sued, seller):
    login(client, admin)
    client.post(url("routing/new/"), rule_post(sued))
    page = client.get(url("routing/try/"), {"postcode": "80331"}, headers={"HX-Request": "true"}).content.decode()
    assert "Sina Süd" in page and "postcode 80331 in Team Süd, round robin" in page
    assert "<html" not in page  # the partial only
    none = client.get(url("routing/try/"), {"postcode": "20095"}).content.decode()
    assert "No routing rule applies." in none
    empty = client.get(url("routing/try/"), {}).content.decode()
    assert "Enter a lead number" in empty


def test_route_now_from_the_lead_page(client, admin, sued, seller):
    lead = services.lead_capture(by=admin, person={"last_name": "Huber", "postcode": "80331"}).lead
    login(client, admin)
    page = client.get(f"/nordstern/leads/{lead.pk}/").content.decode()
    assert 'data-testid="route-now"' in page
    client.post(f"/nordstern/leads/{lead.pk}/route/")  # no rule yet
    lead.refresh_from_db()
    assert lead.owner_id is None
    RoutingRule.objects.create(tenant=admin.tenant, name="Alle", target_team=sued)
    client.post(f"/nordstern/leads/{lead.pk}/route/")
    lead.refresh_from_db()
    assert lead.owner_id == seller.pk and lead.routing_rule.name == "Alle"
    assert 'data-testid="route-now"' not in client.get(f"/nordstern/leads/{lead.pk}/").content.decode()


def test_capacity_and_absences(client, admin, seller):
    login(client, admin)
    page = client.get(url("capacity/")).content.decode()
    assert "Sina Süd" in page and 'data-testid="capacity-row"' in page
    client.post(url(f"capacity/{seller.pk}/"), {"weekly_capacity": "7", "takes_leads": "on"})
    assert LeadProfile.objects.get(membership=seller).weekly_capacity == 7
    bad = client.post(url(f"capacity/{seller.pk}/"), {"weekly_capacity": "-2"})
    assert bad.status_code == 422 and LeadProfile.objects.get(membership=seller).weekly_capacity == 7
    today = timezone.localdate()
    bad = client.post(
        url("absences/"), {"membership": seller.pk, "starts_on": today, "ends_on": today - dt.timedelta(1)}
    )
    assert bad.status_code == 422 and "must not lie before" in bad.content.decode()
    client.post(url("absences/"), {"membership": seller.pk, "starts_on": today, "ends_on": today, "note": "Urlaub"})
    absence = Absence.objects.get()
    assert "absent today" in client.get(url("capacity/")).content.decode()
    client.post(url(f"absences/{absence.pk}/delete/"))
    assert not Absence.objects.exists()


def test_other_roles_and_tenants_get_404(client, admin, sales, marketing, outsider, sued, seller):
    rule = RoutingRule.objects.create(tenant=admin.tenant, name="Süd", target_team=sued)
    absence = Absence.objects.create(tenant=admin.tenant, membership=seller, starts_on=timezone.localdate(),
                                     ends_on=timezone.localdate())  # fmt: skip
    lead = services.lead_capture(by=admin, person={"last_name": "Huber", "postcode": "80331"}).lead
    for member in (sales, marketing, outsider):
        login(client, member)
        for path in ("routing/", "routing/new/", f"routing/{rule.pk}/", "capacity/", "routing/try/"):
            assert client.get(url(path)).status_code == 404, (member.role, path)
        for path in (f"routing/{rule.pk}/toggle/", f"routing/{rule.pk}/delete/", f"capacity/{seller.pk}/",
                     f"absences/{absence.pk}/delete/"):  # fmt: skip
            assert client.post(url(path), {"weekly_capacity": "1"}).status_code == 404, (member.role, path)
        assert client.post(f"/nordstern/leads/{lead.pk}/route/").status_code == 404
    rule.refresh_from_db()
    assert rule.active and Absence.objects.exists() and not LeadProfile.objects.exists()


def test_another_tenants_rule_is_404_for_an_admin(client, outsider, tenant, sued):
    rule = RoutingRule.objects.create(tenant=tenant, name="Süd", target_team=sued)
    login(client, outsider)
    assert client.get(f"/datavia/leads/settings/routing/{rule.pk}/").status_code == 404
    assert client.post(f"/datavia/leads/settings/routing/{rule.pk}/delete/").status_code == 404
    assert RoutingRule.objects.filter(pk=rule.pk).exists()
