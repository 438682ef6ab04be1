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


def test_a_capture_with_unreadable_contact_data_keeps_it_and_says_what_to_check(client, tenant, manager, interest):
    manager.user.language = "en"
    manager.user.save(update_fields=["language"])
    login(client, manager)
    data = {"last_name": "Walk", "email": "joerg@@example", "phone": "abc", "channel": "phone", "interest": interest.pk}
    page = client.post(url("lead_capture", tenant), data, follow=True)
    text = page.content.decode()
    assert "Saved as typed; please check: E-mail address is not valid; Phone number is not valid." in text
    assert 'data-testid="person-quality"' in text
    lead = Lead.objects.get()
    assert (lead.person.email, lead.person.phone) == ("joerg@@example", "abc")


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


def test_manager_assigns_from_the_lead_page(client, tenant, manager, lead):
    sales = MembershipFactory(tenant=tenant, role=Role.SALES)
    login(client, manager)
    page = client.get(url("lead_detail", tenant, pk=lead.pk)).content.decode()
    assert url("lead_assign", tenant, pk=lead.pk) in page
    bad = client.post(url("lead_assign", tenant, pk=lead.pk), {"version": lead.version})
    assert bad.status_code == 422 and "Choose a person or a team." in bad.content.decode()
    client.post(url("lead_assign", tenant, pk=lead.pk), {"owner": sales.pk, "reason": "PLZ 8", "version": lead.version})
    lead.refresh_from_db()
    assert lead.owner == sales and lead.status == "routed"


def test_sales_cannot_assign(client, tenant, lead, manager):
    sales = MembershipFactory(tenant=tenant, role=Role.SALES)
    services.lead_assign(lead=lead, by=manager, owner=sales)
    login(client, sales)
    assert (
        url("lead_assign", tenant, pk=lead.pk)
        not in client.get(url("lead_detail", tenant, pk=lead.pk)).content.decode()
    )
    assert client.post(url("lead_assign", tenant, pk=lead.pk), {"owner": sales.pk, "version": 9}).status_code == 404


def test_settings_add_interest_and_reason_with_errors_and_retire(client, tenant, admin, interest):
    login(client, admin)
    taken = client.post(url("lead_settings", tenant), {"form": "interest", "name": "Andere", "key": "e-suv"})
    assert taken.status_code == 422 and "This key is taken." in taken.content.decode()
    client.post(url("lead_settings", tenant), {"form": "interest", "name": "Transporter", "key": "van"})
    client.post(url("lead_settings", tenant), {"form": "reason", "kind": "lost", "label": "Preis"})
    assert set(InterestCategory.objects.values_list("key", flat=True)) == {"e-suv", "van"}
    reason = LeadReason.objects.get(label="Preis")
    client.post(url("lead_settings_toggle", tenant, kind="reason", pk=reason.pk))
    reason.refresh_from_db()
    assert not reason.active


def test_transition_form_groups_reasons_by_list(client, tenant, manager, lead):
    LeadReason.objects.create(tenant=tenant, kind="lost", label="Preis")
    LeadReason.objects.create(tenant=tenant, kind="disqualified", label="Kein Bedarf")
    login(client, manager)
    page = client.get(url("lead_detail", tenant, pk=lead.pk)).content.decode()
    assert '<optgroup label="Lost">' in page and '<optgroup label="Disqualified">' in page


@pytest.mark.parametrize("who", ["sales", "marketing", "outsider", "privacy"])
def test_settings_are_for_admins_and_managers(client, request, tenant, interest, who):
    login(client, request.getfixturevalue(who))
    assert client.get(url("lead_settings", tenant)).status_code == 404
    assert client.post(url("lead_settings_toggle", tenant, kind="interest", pk=interest.pk)).status_code == 404
    interest.refresh_from_db()
    assert interest.active


def test_nurture_reopen_job_is_scheduled(manager, lead):
    from leadwerk.leads import tasks

    services.lead_transition(
        lead=lead, by=manager, to="nurture", recontact_on=timezone.localdate() + dt.timedelta(days=1)
    )
    Lead.objects.filter(pk=lead.pk).update(recontact_on=timezone.localdate())
    tasks.nurture_reopen.call_local()
    lead.refresh_from_db()
    assert lead.status == "qualifying"


def test_mine_and_team_views_stay_inside_each_roles_wall(client, tenant, manager, interest, outsider):
    from leadwerk.accounts.models import Team

    north, south = Team.objects.create(tenant=tenant, name="Nord"), Team.objects.create(tenant=tenant, name="Süd")
    seller = MembershipFactory(tenant=tenant, role=Role.SALES, team=north)
    colleague = MembershipFactory(tenant=tenant, role=Role.SALES, team=north)
    agent = MembershipFactory(tenant=tenant, role=Role.AGENT, team=north)
    boss = MembershipFactory(tenant=tenant, role=Role.MANAGER, team=south)
    leads = {}
    for name, owner, team in [("Eigen", seller, north), ("Kollege", colleague, north), ("Agent", agent, north),
                              ("Agent-Süd", agent, south), ("Süd", None, south)]:  # fmt: skip
        person = {"last_name": name, "email": f"{name.lower()}@example.de"}
        lead = services.lead_capture(by=manager, person=person, lead={"interest": interest}).lead
        Lead.objects.filter(pk=lead.pk).update(owner=owner, team=team)
        leads[name] = lead.pk

    def shown(member, view):
        login(client, member)
        return {item.pk for item in client.get(url("lead_inbox", tenant), {"view": view}).context["page"].items}

    ids = lambda *names: {leads[n] for n in names}  # noqa: E731
    assert shown(seller, "mine") == ids("Eigen")
    assert shown(seller, "team") == ids("Eigen", "Kollege", "Agent")  # the team's leads, whoever owns them
    assert shown(agent, "mine") == ids("Agent", "Agent-Süd")
    assert shown(agent, "team") == ids("Agent")  # an agent sees only own leads, in the team view too
    assert shown(boss, "team") == ids("Agent-Süd", "Süd")
    assert shown(boss, "mine") == set()
    assert Lead.objects.visible_to(outsider, view="team").count() == 0  # another tenant: nothing
    assert Lead.objects.visible_to(outsider, view="mine").count() == 0


def test_the_history_says_to_whom_a_lead_was_assigned(client, tenant, manager, lead):
    from tests.factories import UserFactory

    seller = MembershipFactory(tenant=tenant, role=Role.SALES, user=UserFactory(full_name="Sina Verkauf"))
    services.lead_assign(lead=lead, by=manager, owner=seller)
    manager.user.language = "en"
    manager.user.save(update_fields=["language"])
    page = login(client, manager).get(url("lead_detail", tenant, pk=lead.pk)).content.decode()
    history = page[page.index("<h2>History</h2>") :]
    assert ": → Sina Verkauf" in history


def test_the_history_says_when_the_first_contact_came(client, tenant, manager, lead):
    from leadwerk.leads.models import LeadEvent

    services.activity_log(lead=lead, by=manager, kind="call", outcome="reached")
    event = lead.events.get(kind=LeadEvent.Kind.SLA)
    assert event.after["speed_to_lead_s"] >= 0
    manager.user.language = "en"
    manager.user.save(update_fields=["language"])
    page = login(client, manager).get(url("lead_detail", tenant, pk=lead.pk)).content.decode()
    assert "first contact, 0\xa0minutes after capture" in page
