"""Notifications: only to their recipient (walls), bell, read/read-all in UI and API, the assignment e-mail
(content, language, opt-out), the follow-up reminder once, and the daily digest once a day, skipped when empty."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import bearer, login
from django.urls import reverse
from django.utils import timezone
from tests.factories import MembershipFactory

from leadwerk.accounts.roles import Role
from leadwerk.leads import notifications, services
from leadwerk.leads.models import FollowUp, Lead, LeadProfile, Notification

UTC = dt.UTC
# 07:30 in Berlin (the standing tenant's time zone), 06:30 UTC in winter.
SEVEN_IN_BERLIN = dt.datetime(2026, 12, 1, 6, 30, tzinfo=UTC)


def url(name, tenant, **kwargs):
    return reverse(f"leads:{name}", kwargs={"tenant": tenant.slug, **kwargs})


def capture(by, last_name="Wagner", **lead):
    person = {"first_name": "Jonas", "last_name": last_name, "email": f"{last_name.lower()}@example.de"}
    return services.lead_capture(by=by, person=person, lead=lead).lead


@pytest.fixture
def seller(tenant):
    return MembershipFactory(tenant=tenant, role=Role.SALES, user__email="seller@nordstern.test", user__language="en")


def note_for(member, text="Hallo", kind=Notification.Kind.ASSIGNMENT, lead=None):
    return notifications.notify(member, kind, text, lead)


# --- the seam ------------------------------------------------------------------------------------------


def test_notify_skips_inactive_members(tenant, seller):
    seller.is_active = False
    seller.save()
    assert note_for(seller) is None and not Notification.objects.exists()


def test_unread_count_is_capped(tenant, seller):
    for i in range(12):
        note_for(seller, text=f"n{i}")
    assert notifications.unread_count(seller) == notifications.BELL_LIMIT
    assert notifications.unread_count(None) == 0


# --- screens -------------------------------------------------------------------------------------------


def test_bell_in_the_header_shows_nine_plus(client, tenant, seller):
    login(client, seller)
    html = client.get(url("notification_list", tenant)).content.decode()
    assert 'data-testid="notification-bell"' in html and 'data-testid="bell-count"' not in html
    for i in range(10):
        note_for(seller, text=f"n{i}")
    html = client.get(url("my_day", tenant)).content.decode()
    assert '<span class="bell-count" data-testid="bell-count">9+</span>' in html
    bell = client.get(url("notification_bell", tenant))
    assert bell.status_code == 200 and "9+" in bell.content.decode()


def test_list_mark_read_with_htmx_and_mark_all(client, tenant, seller):
    first, second = note_for(seller, "Erste"), note_for(seller, "Zweite")
    login(client, seller)
    page = client.get(url("notification_list", tenant))
    assert [n.pk for n in page.context["page"].items] == [second.pk, first.pk]
    response = client.post(url("notification_read", tenant, pk=first.pk), headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Trigger"] == "notifications-changed"
    assert "<html" not in response.content.decode() and "Erste" in response.content.decode()
    first.refresh_from_db()
    assert first.read_at is not None
    assert [n.pk for n in client.get(url("notification_list", tenant)).context["page"].items] == [second.pk]
    client.post(url("notification_read_all", tenant))
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    page = client.get(url("notification_list", tenant))
    assert "You are all caught up" in page.content.decode()
    assert len(client.get(url("notification_list", tenant), {"show": "all"}).context["page"].items) == 2


def test_opening_a_notification_marks_it_read_and_goes_to_the_lead(client, tenant, manager, seller):
    lead = capture(manager)
    services.lead_assign(lead=lead, by=manager, owner=seller)
    note = Notification.objects.get(recipient=seller)
    login(client, seller)
    response = client.get(url("notification_open", tenant, pk=note.pk))
    assert response.status_code == 302 and response["Location"] == url("lead_detail", tenant, pk=lead.pk)
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_notification_of_a_lead_no_longer_mine_does_not_open_it(client, tenant, manager, seller):
    lead = capture(manager)
    services.lead_assign(lead=lead, by=manager, owner=seller)
    services.lead_assign(lead=Lead.objects.get(pk=lead.pk), by=manager, owner=manager)
    note = Notification.objects.get(recipient=seller)
    login(client, seller)
    response = client.get(url("notification_open", tenant, pk=note.pk))
    assert response["Location"] == url("notification_list", tenant)


def test_a_colleagues_notification_is_404_and_not_listed(client, tenant, seller, sales):
    note = note_for(seller)
    login(client, sales)
    assert client.post(url("notification_read", tenant, pk=note.pk)).status_code == 404
    assert client.get(url("notification_open", tenant, pk=note.pk)).status_code == 404
    assert client.get(url("notification_list", tenant), {"show": "all"}).context["page"].items == []
    headers = bearer(sales)
    assert client.post(f"/api/v1/notifications/{note.pk}/read", headers=headers).status_code == 404
    assert client.get("/api/v1/notifications", headers=headers).json()["items"] == []
    assert client.post("/api/v1/notifications/read-all", headers=headers).json() == {"marked": 0}
    note.refresh_from_db()
    assert note.read_at is None


def test_another_tenant_gets_404(client, tenant, seller, outsider):
    note = note_for(seller)
    login(client, outsider)
    assert client.get(url("notification_list", tenant)).status_code == 404
    assert client.post(url("notification_read", tenant, pk=note.pk)).status_code == 404
    headers = bearer(outsider)
    assert client.post(f"/api/v1/notifications/{note.pk}/read", headers=headers).status_code == 404
    assert client.get("/api/v1/notifications", headers=headers).json()["items"] == []
    note.refresh_from_db()
    assert note.read_at is None


# --- API -----------------------------------------------------------------------------------------------


def test_api_lists_and_marks_own_notifications(client, tenant, seller):
    first, second = note_for(seller, "Erste"), note_for(seller, "Zweite")
    headers = bearer(seller)
    body = client.get("/api/v1/notifications", headers=headers).json()
    assert [n["id"] for n in body["items"]] == [second.pk, first.pk] and body["unread"] == 2
    read = client.post(f"/api/v1/notifications/{first.pk}/read", headers=headers).json()
    assert read["id"] == first.pk and read["read_at"] is not None
    unread = client.get("/api/v1/notifications", {"unread": True}, headers=headers).json()
    assert [n["id"] for n in unread["items"]] == [second.pk] and unread["unread"] == 1
    assert client.post("/api/v1/notifications/read-all", headers=headers).json() == {"marked": 1}


def test_api_rejects_a_bad_limit_with_a_field_error(client, seller):
    response = client.get("/api/v1/notifications", {"limit": "many"}, headers=bearer(seller))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "limit"


# --- assignment -----------------------------------------------------------------------------------------


def test_assignment_notifies_in_app_and_by_mail_with_the_summary(
    tenant, manager, seller, mailoutbox, django_capture_on_commit_callbacks
):
    lead = capture(
        manager, title="Probefahrt", rating="hot", message="Bitte rufen Sie mich morgen an.\nDanke", source="Messe"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_assign(lead=lead, by=manager, owner=seller)
    note = Notification.objects.get(recipient=seller)
    assert note.kind == Notification.Kind.HOT_LEAD and note.lead_id == lead.pk
    assert note.text == "Hot lead for you: Jonas Wagner · Probefahrt"
    assert note.emailed_at is not None
    (mail,) = mailoutbox
    assert mail.to == ["seller@nordstern.test"] and mail.subject == "Hot lead for you: Jonas Wagner"
    body = mail.body
    assert "Jonas Wagner <wagner@example.de>" in body and "Interest: Probefahrt" in body
    assert "Channel: Manual entry (Messe)" in body and "Bitte rufen Sie mich morgen an. Danke" in body
    assert f"http://127.0.0.1:8000/nordstern/leads/{lead.pk}/" in body
    html = mail.alternatives[0].content
    assert f'href="http://127.0.0.1:8000/nordstern/leads/{lead.pk}/"' in html and "Jonas Wagner" in html


def test_assignment_mail_is_in_the_recipients_language(tenant, manager, mailoutbox, django_capture_on_commit_callbacks):
    german = MembershipFactory(tenant=tenant, role=Role.SALES, user__language="de")
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_assign(lead=capture(manager), by=manager, owner=german)
    assert "Kanal: Manuelle Erfassung" in mailoutbox[0].body
    assert "Channel:" not in mailoutbox[0].body


def test_no_mail_when_opted_out_but_still_in_app(
    client, tenant, manager, seller, mailoutbox, django_capture_on_commit_callbacks
):
    login(client, seller)
    client.post(url("my_day_settings", tenant), {"daily_digest": "on"})
    with django_capture_on_commit_callbacks(execute=True):
        services.lead_assign(lead=capture(manager), by=manager, owner=seller)
    assert mailoutbox == []
    assert Notification.objects.filter(recipient=seller, emailed_at__isnull=True).count() == 1


def test_taking_a_lead_yourself_or_team_only_assignment_sends_nothing(
    tenant, manager, mailoutbox, django_capture_on_commit_callbacks
):
    from tests.factories import TeamFactory

    with django_capture_on_commit_callbacks(execute=True):
        services.lead_assign(lead=capture(manager), by=manager, owner=manager)
        services.lead_assign(lead=capture(manager, last_name="Team"), by=manager, owner=None, team=TeamFactory(
            tenant=tenant))  # fmt: skip
    assert mailoutbox == [] and not Notification.objects.exists()


def test_no_mail_when_the_lead_moved_on_before_the_task_ran(
    tenant, manager, seller, mailoutbox, django_capture_on_commit_callbacks
):
    lead = capture(manager)
    services.lead_assign(lead=lead, by=manager, owner=seller)  # the mail task is not run (no commit here)
    services.lead_assign(lead=Lead.objects.get(pk=lead.pk), by=manager, owner=manager)
    note = Notification.objects.get(recipient=seller)
    assert notifications.assignment_mail_send.call(tenant_id=tenant.pk, notification_id=note.pk) == 0
    assert mailoutbox == []


# --- follow-up reminder ----------------------------------------------------------------------------------


def test_follow_up_reminder_once_for_what_comes_due_in_15_minutes(tenant, seller):
    lead = capture(seller)
    now = timezone.now()
    soon = services.follow_up_schedule(lead=lead, by=seller, due_at=now + dt.timedelta(minutes=10), note="Anrufen")
    services.follow_up_schedule(lead=lead, by=seller, due_at=now + dt.timedelta(minutes=40))
    done = services.follow_up_schedule(lead=lead, by=seller, due_at=now + dt.timedelta(minutes=5))
    services.follow_up_done(follow_up=done, by=seller)

    assert notifications.follow_ups_remind(now=now) == 1
    assert notifications.follow_ups_remind(now=now) == 0
    note = Notification.objects.get()
    assert note.recipient == seller and note.kind == "follow_up" and note.lead_id == lead.pk
    assert note.text.startswith("Call at ") and note.text.endswith("Jonas Wagner · Anrufen")
    assert FollowUp.objects.get(pk=soon.pk).reminded_at is not None


# --- daily digest ---------------------------------------------------------------------------------------


@pytest.fixture
def busy_seller(tenant, seller):
    lead = capture(seller, title="Probefahrt")
    services.follow_up_schedule(
        lead=lead, by=seller, due_at=SEVEN_IN_BERLIN - dt.timedelta(hours=20), note="Angebot nachfassen"
    )
    services.follow_up_schedule(lead=lead, by=seller, due_at=SEVEN_IN_BERLIN + dt.timedelta(hours=3))
    return seller


def test_digest_goes_out_at_seven_local_once_a_day(tenant, busy_seller, mailoutbox):
    assert notifications.digests_send_due(now=SEVEN_IN_BERLIN - dt.timedelta(hours=1)) == 0  # 06:30 in Berlin
    assert notifications.digests_send_due(now=SEVEN_IN_BERLIN) == 1
    assert notifications.digests_send_due(now=SEVEN_IN_BERLIN + dt.timedelta(minutes=20)) == 0
    (mail,) = mailoutbox
    assert mail.to == ["seller@nordstern.test"]
    assert "Overdue follow-ups" in mail.body and "Angebot nachfassen" in mail.body and "Due today" in mail.body
    assert "10:30" in mail.body  # today's follow-up in Berlin time
    assert "http://127.0.0.1:8000/nordstern/leads/my-day/" in mail.body
    assert "Angebot nachfassen" in mail.alternatives[0].content
    assert LeadProfile.objects.get(membership=busy_seller).digest_sent_on == dt.date(2026, 12, 1)
    # The next morning it goes out again.
    assert notifications.digests_send_due(now=SEVEN_IN_BERLIN + dt.timedelta(days=1)) == 1


def test_digest_follows_the_tenants_time_zone(tenant, busy_seller, mailoutbox):
    tenant.timezone = "America/New_York"
    tenant.save()
    assert notifications.digests_send_due(now=SEVEN_IN_BERLIN) == 0  # 01:30 in New York
    assert notifications.digests_send_due(now=dt.datetime(2026, 12, 1, 12, 5, tzinfo=UTC)) == 1  # 07:05 there


def test_empty_digest_is_skipped(tenant, seller, mailoutbox):
    assert notifications.digests_send_due(now=SEVEN_IN_BERLIN) == 0
    assert mailoutbox == []


def test_digest_opt_out(client, tenant, busy_seller, mailoutbox):
    login(client, busy_seller)
    client.post(url("my_day_settings", tenant), {"email_on_assignment": "on"})
    assert notifications.digests_send_due(now=SEVEN_IN_BERLIN) == 0
    assert mailoutbox == []


def test_digest_is_in_the_recipients_language(tenant, busy_seller, mailoutbox):
    busy_seller.user.language = "de"
    busy_seller.user.save()
    notifications.digests_send_due(now=SEVEN_IN_BERLIN)
    assert "01.12.2026" in mailoutbox[0].subject  # German date format (English: 12/01/2026)


def test_digest_skips_inactive_members_and_other_roles(tenant, busy_seller, marketing, mailoutbox):
    busy_seller.is_active = False
    busy_seller.save()
    assert notifications.digests_send_due(now=SEVEN_IN_BERLIN) == 0


# --- assignment by routing: the member as routing read it ------------------------------------------------


@pytest.fixture
def routed_to(tenant):
    """Route every capture to a one-member team; returns that member's factory."""
    from tests.factories import TeamFactory

    from leadwerk.leads.models import RoutingRule

    team = TeamFactory(tenant=tenant)
    RoutingRule.objects.create(tenant=tenant, name="Alle", target_team=team, position=1)

    def member(**kwargs):
        return MembershipFactory(tenant=tenant, role=Role.SALES, team=team, **kwargs)

    return member


def test_routed_capture_notifies_in_the_owners_language_without_reading_the_member_again(
    tenant, manager, routed_to, mailoutbox, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner = routed_to(user__language="en", user__email="owner@nordstern.test")
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as ctx:
        lead = capture(manager, title="Probefahrt")
    assert lead.owner_id == owner.pk
    assert Notification.objects.get(recipient=owner).text == "New lead for you: Jonas Wagner · Probefahrt"
    assert [m.to for m in mailoutbox] == [["owner@nordstern.test"]]  # no profile: e-mails are on
    assert not [q for q in ctx.captured_queries if q["sql"].startswith('SELECT "accounts_membership"')]


def test_routed_capture_notifies_in_the_tenants_language_when_the_owner_has_none(
    tenant, manager, routed_to, django_capture_on_commit_callbacks
):
    owner = routed_to(user__language="")
    with django_capture_on_commit_callbacks(execute=True):
        capture(manager, title="Probefahrt")
    assert Notification.objects.get(recipient=owner).text == "Neuer Lead für Sie: Jonas Wagner · Probefahrt"


def test_routed_capture_sends_no_mail_to_an_owner_who_opted_out(
    tenant, manager, routed_to, mailoutbox, django_capture_on_commit_callbacks
):
    owner = routed_to(user__language="en")
    LeadProfile.objects.create(tenant=tenant, membership=owner, email_on_assignment=False, weekly_capacity=5)
    with django_capture_on_commit_callbacks(execute=True):
        capture(manager)
    assert mailoutbox == []
    assert Notification.objects.filter(recipient=owner, emailed_at__isnull=True).count() == 1
