"""Lead screens: inbox views, manual capture, detail actions with field errors, and the walls."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import login
from django.urls import reverse
from django.utils import timezone
from tests.factories import MembershipFactory

from leadwerk.accounts.roles import Role
from leadwerk.leads import services
from leadwerk.leads.models import FollowUp, InterestCategory, Lead, LeadReason

PERSON = {"first_name": "Jonas", "last_name": "Wagner", "email": "jonas@example.de"}


@pytest.fixture
def interest(tenant):
    return InterestCategory.objects.create(tenant=tenant, name="Elektro-SUV", key="e-suv")


@pytest.fixture
def lead(manager, interest):
    return services.lead_capture(by=manager, person=PERSON, lead={"interest": interest, "title": "Probefahrt"}).lead


def url(name, tenant, **kwargs):
    return reverse(f"leads:{name}", kwargs={"tenant": tenant.slug, **kwargs})


def test_manual_capture_with_error_then_success(client, tenant, manager, interest):
    login(client, manager)
    response = client.post(url("lead_capture", tenant), {"last_name": "", "channel": "phone"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert not Lead.objects.exists()
    response = client.post(
        url("lead_capture", tenant),
        {"last_name": "Wagner", "email": "J@Example.de", "channel": "phone", "interest": interest.pk},
    )
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == url("lead_detail", tenant, pk=lead.pk)
    assert lead.person.email == "j@example.de" and lead.channel == "phone"


def test_inbox_views(client, tenant, manager, lead):
    login(client, manager)
    page = client.get(url("lead_inbox", tenant))
    assert [item.pk for item in page.context["page"].items] == [lead.pk]
    assert "Wagner" in page.content.decode()
    assert client.get(url("lead_inbox", tenant), {"view": "mine"}).context["page"].items == []
    assert len(client.get(url("lead_inbox", tenant), {"view": "unassigned"}).context["page"].items) == 1
    assert client.get(url("lead_inbox", tenant), {"status": "won"}).context["page"].items == []


def test_overdue_view_lists_leads_with_a_missed_follow_up(client, tenant, manager, lead):
    services.follow_up_schedule(lead=lead, by=manager, due_at=timezone.now() - dt.timedelta(hours=1))
    login(client, manager)
    assert len(client.get(url("lead_inbox", tenant), {"view": "overdue"}).context["page"].items) == 1


def test_transition_from_the_detail_page_with_reason_error(client, tenant, manager, lead):
    login(client, manager)
    client.post(url("lead_transition", tenant, pk=lead.pk), {"to": "accepted", "version": 1})
    lead.refresh_from_db()
    assert lead.status == "accepted"
    response = client.post(url("lead_transition", tenant, pk=lead.pk), {"to": "lost", "version": lead.version})
    assert response.status_code == 422 and "Choose a reason." in response.content.decode()
    reason = LeadReason.objects.create(tenant=tenant, kind="lost", label="Preis")
    client.post(
        url("lead_transition", tenant, pk=lead.pk), {"to": "lost", "reason": reason.pk, "version": lead.version}
    )
    lead.refresh_from_db()
    assert lead.status == "lost"
    assert "This lead is closed." in client.get(url("lead_detail", tenant, pk=lead.pk)).content.decode()


def test_stale_form_shows_who_changed_the_lead(client, tenant, manager, admin, lead):
    services.lead_update(lead=lead, by=admin, data={"need": "Flotte"})
    login(client, manager)
    response = client.post(url("lead_qualify", tenant, pk=lead.pk), {"need": "Einzel", "version": 1})
    assert response.status_code == 422
    assert "after you opened it" in response.content.decode()
    lead.refresh_from_db()
    assert lead.need == "Flotte"


def test_activity_and_follow_up_from_the_page(client, tenant, manager, lead):
    login(client, manager)
    bad = client.post(url("activity_create", tenant, pk=lead.pk), {"kind": "note", "note": ""})
    assert bad.status_code == 422 and "Write the note." in bad.content.decode()
    client.post(url("activity_create", tenant, pk=lead.pk), {"kind": "call", "outcome": "reached"})
    due = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(url("follow_up_create", tenant, pk=lead.pk), {"due_at": due, "kind": "call", "note": "Angebot"})
    follow_up = FollowUp.objects.get()
    client.post(url("follow_up_done", tenant, pk=follow_up.pk))
    follow_up.refresh_from_db()
    lead.refresh_from_db()
    assert follow_up.done_at is not None and lead.first_contact_at is not None


def test_walls(client, tenant, lead, outsider, marketing):
    pages = [url("lead_detail", tenant, pk=lead.pk)]
    posts = [url("lead_transition", tenant, pk=lead.pk), url("activity_create", tenant, pk=lead.pk)]
    stranger = MembershipFactory(tenant=tenant, role=Role.SALES)
    for member in (outsider, stranger, MembershipFactory(tenant=tenant, role=Role.PRIVACY)):
        client.force_login(member.user)
        for page in pages:
            assert client.get(page).status_code == 404
        for target in posts:
            assert client.post(target, {"to": "qualifying", "version": 1, "kind": "call"}).status_code == 404
    login(client, marketing)
    assert client.get(pages[0]).status_code == 200
    assert client.post(posts[0], {"to": "qualifying", "version": 1}).status_code == 404
    lead.refresh_from_db()
    assert lead.status == "new"
