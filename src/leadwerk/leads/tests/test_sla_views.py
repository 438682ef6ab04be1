"""SLA on screens and in the API: badge, inbox filter and sort, settings screen, policy and calendar API, walls."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import bearer, login
from django.urls import reverse
from django.utils import timezone

from leadwerk.leads import services
from leadwerk.leads.models import BusinessCalendar, Lead, SlaPolicy

PERSON = {"first_name": "Jonas", "last_name": "Wagner", "email": "jonas@example.de"}


def url(name, tenant, **kwargs):
    return reverse(f"leads:{name}", kwargs={"tenant": tenant.slug, **kwargs})


def lead_due(by, last_name, due):
    """A lead whose only open deadline is ``due`` (set directly: the clock is the real one here)."""
    lead = services.lead_capture(by=by, person={"last_name": last_name}, channel="api").lead
    Lead.objects.filter(pk=lead.pk).update(sla_first_contact_due=due, sla_due_at=due)
    return lead


@pytest.fixture
def leads(manager):
    now = timezone.now()
    return {
        "overdue": lead_due(manager, "Overdue", now - dt.timedelta(days=1, hours=2)),
        "soon": lead_due(manager, "Soon", now + dt.timedelta(hours=2, minutes=10)),
        "later": lead_due(manager, "Later", now + dt.timedelta(days=3)),
        "none": lead_due(manager, "Nodeadline", None),
    }


def names(response):
    body = response.content.decode()
    return [n for n in ("Overdue", "Soon", "Later", "Nodeadline") if f"<strong>{n}</strong>" in body]


# --- inbox and lead page ----------------------------------------------------------------------------


def test_inbox_shows_badges_and_filters_by_sla_state(client, tenant, manager, leads):
    login(client, manager)
    response = client.get(url("lead_inbox", tenant))
    body = response.content.decode()
    assert "first contact overdue by 1 day" in body and "first contact due in 2 h" in body
    assert 'data-sla="overdue"' in body and 'data-sla="soon"' in body
    assert names(client.get(url("lead_inbox", tenant), {"sla": "overdue"})) == ["Overdue"]
    assert names(client.get(url("lead_inbox", tenant), {"sla": "due_soon"})) == ["Soon"]
    assert names(client.get(url("lead_inbox", tenant), {"sla": "on_time"})) == ["Later", "Nodeadline"]


def test_inbox_sorts_by_next_deadline(client, tenant, manager, leads):
    login(client, manager)
    body = client.get(url("lead_inbox", tenant), {"sort": "sla"}).content.decode()
    positions = [body.index(f"<strong>{n}</strong>") for n in ("Overdue", "Soon", "Later")]
    assert positions == sorted(positions) and "<strong>Nodeadline</strong>" not in body


def test_inbox_sla_filter_empty_state(client, tenant, manager):
    login(client, manager)
    body = client.get(url("lead_inbox", tenant), {"sla": "overdue"}).content.decode()
    assert "No lead here has missed an SLA deadline." in body


def test_lead_page_shows_the_sla_state_and_deadline(client, tenant, manager, leads):
    login(client, manager)
    body = client.get(url("lead_detail", tenant, pk=leads["soon"].pk)).content.decode()
    assert "first contact due in 2 h" in body and 'data-testid="sla-first-contact-due"' in body


def test_lead_page_shows_speed_to_lead_once_contacted(client, tenant, manager):
    captured = timezone.now() - dt.timedelta(hours=1)
    lead = services.lead_capture(by=manager, person=PERSON, channel="api", captured_at=captured).lead
    services.activity_log(lead=lead, by=manager, kind="call", at=captured + dt.timedelta(minutes=35))
    login(client, manager)
    body = client.get(url("lead_detail", tenant, pk=lead.pk)).content.decode()
    assert "first contact in 35 min" in body and "Speed to lead" in body


# --- settings screen -----------------------------------------------------------------------------------

POLICY = {"form": "policy", "name": "A: first contact", "metric": "first_contact", "grade": "A", "hours": "2",
          "remind_before_minutes": "30", "escalate": "on", "reroute_hours": "4", "active": "on"}  # fmt: skip


def test_settings_empty_state_then_add_a_policy(client, tenant, admin):
    login(client, admin)
    body = client.get(url("sla_settings", tenant)).content.decode()
    assert "No SLA policies yet" in body and "Bavaria" in body and "Thuringia" in body
    response = client.post(url("sla_settings", tenant), POLICY)
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(tenant=tenant)
    assert (policy.business_minutes, policy.remind_before_minutes, policy.reroute_after_minutes) == (120, 30, 240)
    assert policy.grade == "A" and policy.escalate
    body = client.get(url("sla_settings", tenant)).content.decode()
    assert "2 business hours" in body and 'data-testid="sla-preview"' in body


def test_policy_errors_are_shown_on_their_fields_and_nothing_is_saved(client, tenant, admin):
    login(client, admin)
    response = client.post(url("sla_settings", tenant), {**POLICY, "hours": "0"})
    assert response.status_code == 422 and not SlaPolicy.objects.exists()
    response = client.post(url("sla_settings", tenant), {**POLICY, "remind_before_minutes": "500"})
    assert response.status_code == 422 and not SlaPolicy.objects.exists()
    assert "A reminder must come at least a minute before the deadline" in response.content.decode()
    client.post(url("sla_settings", tenant), POLICY)
    response = client.post(url("sla_settings", tenant), POLICY)
    assert response.status_code == 422 and SlaPolicy.objects.count() == 1
    assert "already an active policy" in response.content.decode()


def test_calendar_is_saved_and_validated(client, tenant, admin):
    login(client, admin)
    data = {"form": "calendar", "workdays": ["0", "1", "2", "3", "4"], "day_starts": "09:00", "day_ends": "18:00",
            "state": "BY", "closed_days": "2026-12-24\n2026-12-31"}  # fmt: skip
    response = client.post(url("sla_settings", tenant), {**data, "day_ends": "08:00"})
    assert response.status_code == 422 and not BusinessCalendar.objects.exists()
    assert "The working day must end after it starts." in response.content.decode()
    response = client.post(url("sla_settings", tenant), {**data, "closed_days": "24.12.2026"})
    assert response.status_code == 422 and not BusinessCalendar.objects.exists()
    response = client.post(url("sla_settings", tenant), {**data, "workdays": []})
    assert response.status_code == 422 and not BusinessCalendar.objects.exists()
    assert client.post(url("sla_settings", tenant), data).status_code == 302
    calendar = BusinessCalendar.objects.get(tenant=tenant)
    assert calendar.state == "BY" and calendar.day_starts == dt.time(9) and calendar.workdays == [0, 1, 2, 3, 4]
    assert calendar.closed_days == ["2026-12-24", "2026-12-31"]


def test_edit_and_delete_a_policy(client, tenant, admin):
    policy = SlaPolicy.objects.create(tenant=tenant, name="B", metric="first_contact", grade="B", business_minutes=480)
    login(client, admin)
    page = client.get(url("sla_policy_edit", tenant, pk=policy.pk))
    assert page.status_code == 200 and 'value="8"' in page.content.decode()
    response = client.post(url("sla_policy_edit", tenant, pk=policy.pk), {**POLICY, "grade": "B", "hours": "7.5"})
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.business_minutes == 450
    assert client.post(url("sla_policy_delete", tenant, pk=policy.pk)).status_code == 302
    assert not SlaPolicy.objects.exists()


@pytest.mark.parametrize("role", ["marketing", "agent", "sales", "partner_user", "privacy"])
def test_settings_are_404_for_other_roles(client, tenant, role, request):
    policy = SlaPolicy.objects.create(tenant=tenant, name="B", metric="accept", business_minutes=60)
    login(client, request.getfixturevalue(role))
    assert client.get(url("sla_settings", tenant)).status_code == 404
    assert client.get(url("sla_policy_edit", tenant, pk=policy.pk)).status_code == 404
    assert client.post(url("sla_policy_delete", tenant, pk=policy.pk)).status_code == 404
    assert SlaPolicy.objects.filter(pk=policy.pk).exists()


def test_another_tenants_policy_is_404(client, tenant, admin, other_tenant):
    foreign = SlaPolicy.objects.create(tenant=other_tenant, name="X", metric="accept", business_minutes=60)
    login(client, admin)
    assert client.get(url("sla_policy_edit", tenant, pk=foreign.pk)).status_code == 404
    assert client.post(url("sla_policy_delete", tenant, pk=foreign.pk)).status_code == 404
    assert SlaPolicy.objects.filter(pk=foreign.pk).exists()


# --- API ---------------------------------------------------------------------------------------------------

API = "/api/v1"


def test_api_lead_list_filters_and_orders_by_sla(client, manager, leads):
    headers = bearer(manager)
    got = client.get(f"{API}/leads", {"sla": "overdue"}, headers=headers).json()["items"]
    assert [i["id"] for i in got] == [leads["overdue"].pk]
    got = client.get(f"{API}/leads", {"sla": "due_soon"}, headers=headers).json()["items"]
    assert [i["id"] for i in got] == [leads["soon"].pk]
    got = client.get(f"{API}/leads", {"order": "sla_due_at", "limit": 2}, headers=headers).json()
    assert [i["id"] for i in got["items"]] == [leads["overdue"].pk, leads["soon"].pk]
    more = client.get(f"{API}/leads", {"order": "sla_due_at", "cursor": got["next_cursor"]}, headers=headers).json()
    assert [i["id"] for i in more["items"]] == [leads["later"].pk]
    assert client.get(f"{API}/leads", {"sla": "late"}, headers=headers).status_code == 422


def test_api_lead_detail_shows_the_sla_fields(client, manager, leads):
    body = client.get(f"{API}/leads/{leads['soon'].pk}", headers=bearer(manager)).json()
    assert body["sla_due_at"] is not None and body["sla_first_contact_due"] == body["sla_due_at"]
    assert body["sla_flags"] == {} and body["speed_to_lead_seconds"] is None


def test_api_policy_crud(client, manager):
    headers = bearer(manager)
    body = {"name": "A first contact", "metric": "first_contact", "grade": "A", "business_minutes": 120,
            "remind_before_minutes": 30, "reroute_after_minutes": 240}  # fmt: skip
    created = client.post(f"{API}/sla-policies", body, content_type="application/json", headers=headers)
    assert created.status_code == 201
    pk = created.json()["id"]
    assert client.get(f"{API}/sla-policies", headers=headers).json()[0]["grade"] == "A"
    patched = client.patch(
        f"{API}/sla-policies/{pk}", {"business_minutes": 60, "grade": None}, content_type="application/json",
        headers=headers,
    )  # fmt: skip
    assert patched.status_code == 200 and patched.json()["business_minutes"] == 60 and patched.json()["grade"] == ""
    assert client.delete(f"{API}/sla-policies/{pk}", headers=headers).status_code == 204
    assert not SlaPolicy.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"business_minutes": 0}, "business_minutes"),
        ({"metric": "lunch"}, "metric"),
        ({"remind_before_minutes": 500}, "remind_before_minutes"),
        ({"grade": "E"}, "grade"),
    ],
)
def test_api_bad_policy_is_a_422_naming_the_field(client, manager, change, field):
    body = {"name": "A", "metric": "first_contact", "business_minutes": 120, **change}
    response = client.post(f"{API}/sla-policies", body, content_type="application/json", headers=bearer(manager))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == field
    assert not SlaPolicy.objects.exists()


def test_api_calendar_get_and_put(client, manager):
    headers = bearer(manager)
    assert client.get(f"{API}/business-calendar", headers=headers).json()["workdays"] == [0, 1, 2, 3, 4]
    body = {"state": "NW", "workdays": [0, 1, 2, 3], "day_starts": "07:30", "day_ends": "16:00",
            "closed_days": ["2026-12-24"]}  # fmt: skip
    saved = client.put(f"{API}/business-calendar", body, content_type="application/json", headers=headers)
    assert saved.status_code == 200 and saved.json()["state"] == "NW" and saved.json()["timezone"] == "Europe/Berlin"
    bad = client.put(
        f"{API}/business-calendar", {**body, "state": "XX"}, content_type="application/json", headers=headers
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "state"
    assert BusinessCalendar.objects.get().state == "NW"


def test_api_sla_settings_are_404_for_other_roles_and_tenants(client, tenant, sales, outsider):
    policy = SlaPolicy.objects.create(tenant=tenant, name="B", metric="accept", business_minutes=60)
    for member in (sales, outsider):
        headers = bearer(member)
        assert client.get(f"{API}/sla-policies/{policy.pk}", headers=headers).status_code == 404
        assert client.delete(f"{API}/sla-policies/{policy.pk}", headers=headers).status_code == 404
    assert client.get(f"{API}/business-calendar", headers=bearer(sales)).status_code == 404
    assert client.get(f"{API}/sla-policies", headers=bearer(outsider)).json() == []
    assert SlaPolicy.objects.filter(pk=policy.pk).exists()
