"""The routing API: rules CRUD, reorder and try, route a lead now, capacity and absences; 422s and walls."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import bearer
from django.utils import timezone
from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts.roles import Role
from leadwerk.leads import services
from leadwerk.leads.models import Absence, LeadProfile, RoutingRule

SUED = [{"field": "person.postcode", "op": "between", "value": ["80000", "87999"]}]


@pytest.fixture
def sued(tenant):
    return TeamFactory(tenant=tenant, name="Team Süd")


@pytest.fixture
def seller(tenant, sued):
    return MembershipFactory(tenant=tenant, role=Role.SALES, team=sued)


def send(client, method, url, headers, data=None):
    return getattr(client, method)(url, data, content_type="application/json", headers=headers)


def test_rule_crud(client, admin, sued, seller):
    h = bearer(admin)
    created = send(client, "post", "/api/v1/routing-rules", h, {"name": "Süd", "conditions": SUED,
                                                                "target_team_id": sued.pk})  # fmt: skip
    assert created.status_code == 201, created.json()
    rule_id = created.json()["id"]
    assert created.json()["conditions"] == SUED and created.json()["strategy"] == "round_robin"
    assert [r["id"] for r in client.get("/api/v1/routing-rules", headers=h).json()] == [rule_id]
    patched = send(client, "patch", f"/api/v1/routing-rules/{rule_id}", h,
                   {"strategy": "fewest_open", "target": "user", "target_member_id": seller.pk})  # fmt: skip
    assert patched.status_code == 200, patched.json()
    assert patched.json()["target_member_id"] == seller.pk and patched.json()["target_team_id"] is None
    assert client.get(f"/api/v1/routing-rules/{rule_id}", headers=h).json()["target"] == "user"
    assert send(client, "delete", f"/api/v1/routing-rules/{rule_id}", h).status_code == 204
    assert not RoutingRule.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "conditions": [{"field": "person.postcode", "op": "between", "value": ["9", "1"]}]},
         "conditions.0.value"),
        ({"name": "X", "conditions": [{"field": "nope", "op": "eq", "value": "1"}]}, "conditions.0.field"),
        ({"name": "X"}, "target_team_id"),
        ({"name": "X", "target": "user"}, "target_member_id"),
        ({"name": "X", "target_team_id": 999999}, "target_team_id"),
        ({"name": "X", "strategy": "random"}, "strategy"),
    ],
)  # fmt: skip
def test_bad_rules_are_422_with_the_field(client, admin, body, field):
    response = send(client, "post", "/api/v1/routing-rules", bearer(admin), body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert not RoutingRule.objects.exists()


def test_a_team_of_another_tenant_is_refused(client, admin, outsider):
    foreign = TeamFactory(tenant=outsider.tenant)
    response = send(client, "post", "/api/v1/routing-rules", bearer(admin), {"name": "X", "target_team_id": foreign.pk})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "target_team_id"


def test_reorder(client, admin, sued):
    h = bearer(admin)
    ids = [send(client, "post", "/api/v1/routing-rules", h, {"name": n, "target_team_id": sued.pk}).json()["id"]
           for n in "abc"]  # fmt: skip
    response = send(client, "put", "/api/v1/routing-rules/order", h, {"ids": ids[::-1]})
    assert [r["name"] for r in response.json()] == ["c", "b", "a"]
    bad = send(client, "put", "/api/v1/routing-rules/order", h, {"ids": ids[:2]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "ids"


def test_try_and_route_now(client, admin, sued, seller):
    h = bearer(admin)
    lead = services.lead_capture(by=admin, person={"last_name": "Huber", "postcode": "80331"}).lead
    assert lead.owner_id is None
    send(client, "post", "/api/v1/routing-rules", h, {"name": "Süd", "conditions": SUED, "target_team_id": sued.pk})
    tried = send(client, "post", "/api/v1/routing-rules/try", h, {"postcode": "81541"}).json()
    assert tried["rule"] == "Süd" and tried["owner_id"] == seller.pk
    assert tried["reason"] == "postcode 81541 in Team Süd, round robin"
    assert send(client, "post", "/api/v1/routing-rules/try", h, {"postcode": "20095"}).json()["rule"] is None
    assert send(client, "post", "/api/v1/routing-rules/try", h, {"lead_id": lead.pk}).json()["owner_id"] == seller.pk
    bad = send(client, "post", "/api/v1/routing-rules/try", h, {"interest": "gibt-es-nicht"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "interest"
    routed = send(client, "post", f"/api/v1/leads/{lead.pk}/route", h)
    assert routed.status_code == 200 and routed.json()["routed"] is True
    assert routed.json()["lead"]["owner_id"] == seller.pk and routed.json()["lead"]["status"] == "routed"
    again = send(client, "post", f"/api/v1/leads/{lead.pk}/route", h)
    assert again.json()["routed"] is False


def test_profiles_and_absences(client, manager, seller):
    h = bearer(manager)
    rows = client.get("/api/v1/lead-profiles", headers=h).json()
    row = next(r for r in rows if r["membership_id"] == seller.pk)
    assert row["weekly_capacity"] is None and row["takes_leads"] is True and row["week_load"] == 0
    patched = send(client, "patch", f"/api/v1/lead-profiles/{seller.pk}", h, {"weekly_capacity": 12})
    assert patched.status_code == 200 and patched.json()["weekly_capacity"] == 12
    bad = send(client, "patch", f"/api/v1/lead-profiles/{seller.pk}", h, {"weekly_capacity": -3})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "weekly_capacity"
    assert LeadProfile.objects.get(membership=seller).weekly_capacity == 12
    today = timezone.localdate()
    body = {"membership_id": seller.pk, "starts_on": str(today), "ends_on": str(today - dt.timedelta(days=1))}
    bad = send(client, "post", "/api/v1/absences", h, body)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "ends_on"
    created = send(client, "post", "/api/v1/absences", h, {**body, "ends_on": str(today), "note": "Urlaub"})
    assert created.status_code == 201
    assert [a["id"] for a in client.get("/api/v1/absences", headers=h).json()] == [created.json()["id"]]
    assert send(client, "delete", f"/api/v1/absences/{created.json()['id']}", h).status_code == 204
    assert not Absence.objects.exists()


def test_other_tenants_and_roles_get_404(client, admin, sales, marketing, outsider, sued, seller):
    rule = RoutingRule.objects.create(tenant=admin.tenant, name="Süd", target_team=sued)
    lead = services.lead_capture(by=admin, person={"last_name": "Huber", "postcode": "80331"}).lead
    absence = Absence.objects.create(tenant=admin.tenant, membership=seller, starts_on=timezone.localdate(),
                                     ends_on=timezone.localdate())  # fmt: skip
    for member in (outsider, sales, marketing):
        h = bearer(member)
        assert client.get(f"/api/v1/routing-rules/{rule.pk}", headers=h).status_code == 404
        assert send(client, "patch", f"/api/v1/routing-rules/{rule.pk}", h, {"name": "Y"}).status_code == 404
        assert send(client, "delete", f"/api/v1/routing-rules/{rule.pk}", h).status_code == 404
        assert send(client, "post", f"/api/v1/leads/{lead.pk}/route", h).status_code == 404
        assert send(client, "patch", f"/api/v1/lead-profiles/{seller.pk}", h, {"weekly_capacity": 1}).status_code == 404
        assert send(client, "delete", f"/api/v1/absences/{absence.pk}", h).status_code == 404
    assert client.get("/api/v1/routing-rules", headers=bearer(outsider)).json() == []
    assert client.get("/api/v1/routing-rules", headers=bearer(sales)).status_code == 404
    rule.refresh_from_db()
    assert rule.name == "Süd" and Absence.objects.exists() and not LeadProfile.objects.exists()
