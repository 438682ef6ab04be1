"""My day: buckets on the tenant's day (time zone edges), hot leads and SLAs, the screen, htmx done, the API."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from conftest import bearer, login
from django.urls import reverse
from django.utils import timezone
from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts.roles import Role
from leadwerk.leads import myday, services
from leadwerk.leads.models import FollowUp, Lead, LeadProfile

UTC = dt.UTC


def url(name, tenant, **kwargs):
    return reverse(f"leads:{name}", kwargs={"tenant": tenant.slug, **kwargs})


def capture(by, last_name="Wagner", **lead):
    person = {"first_name": "Jonas", "last_name": last_name, "email": f"{last_name.lower()}@example.de"}
    return services.lead_capture(by=by, person=person, lead=lead).lead


def follow_up(lead, by, due_at, **kwargs):
    return services.follow_up_schedule(lead=lead, by=by, due_at=due_at, **kwargs)


# --- buckets -------------------------------------------------------------------------------------------


def test_buckets_follow_the_tenants_day_not_utc(tenant, sales):
    """23:30 in New York is already the next day in UTC; 'today' ends at New York's midnight."""
    tenant.timezone = "America/New_York"
    tenant.save()
    lead = capture(sales)
    now = dt.datetime(2026, 3, 10, 3, 30, tzinfo=UTC)  # 23:30 on 9 March in New York (EDT, UTC-4)
    overdue = follow_up(lead, sales, dt.datetime(2026, 3, 10, 3, 0, tzinfo=UTC))  # 23:00 NY
    today = follow_up(lead, sales, dt.datetime(2026, 3, 10, 3, 45, tzinfo=UTC))  # 23:45 NY
    tomorrow = follow_up(lead, sales, dt.datetime(2026, 3, 10, 4, 30, tzinfo=UTC))  # 00:30 NY, 10 March
    in_a_week = follow_up(lead, sales, dt.datetime(2026, 3, 17, 3, 59, tzinfo=UTC))  # 23:59 NY, 16 March
    beyond = follow_up(lead, sales, dt.datetime(2026, 3, 17, 4, 0, tzinfo=UTC))  # 00:00 NY, 17 March

    day = myday.my_day(sales, now=now)

    assert day.today == dt.date(2026, 3, 9)
    assert day.overdue.items == [overdue]
    assert day.due_today.items == [today]
    assert day.upcoming.items == [tomorrow, in_a_week]
    assert beyond not in day.upcoming.items


def test_same_instant_in_berlin_is_already_the_next_morning(tenant, sales):
    lead = capture(sales)
    now = dt.datetime(2026, 3, 10, 3, 30, tzinfo=UTC)  # 04:30 in Berlin, 10 March
    tonight_in_new_york = follow_up(lead, sales, dt.datetime(2026, 3, 10, 3, 45, tzinfo=UTC))
    later_today = follow_up(lead, sales, dt.datetime(2026, 3, 10, 22, 59, tzinfo=UTC))  # 23:59 Berlin
    day = myday.my_day(sales, now=now)
    assert day.today == dt.date(2026, 3, 10)
    assert day.due_today.items == [tonight_in_new_york, later_today]
    assert day.upcoming.items == []


def test_only_my_open_follow_ups_on_open_leads(tenant, sales, manager):
    now = timezone.now()
    mine = capture(sales)
    colleague = MembershipFactory(tenant=tenant, role=Role.SALES)
    theirs = capture(colleague, last_name="Becker")
    mine_due = follow_up(mine, sales, now - dt.timedelta(hours=1))
    follow_up(theirs, colleague, now - dt.timedelta(hours=1))
    done = follow_up(mine, sales, now - dt.timedelta(hours=2))
    services.follow_up_done(follow_up=done, by=sales)
    closed = capture(sales, last_name="Klein")
    follow_up(closed, sales, now - dt.timedelta(hours=3))
    services.lead_transition(lead=closed, by=sales, to="accepted")
    FollowUp.objects.filter(lead=closed).update(due_at=now - dt.timedelta(hours=3))
    Lead.objects.filter(pk=closed.pk).update(status="lost")

    assert myday.my_day(sales).overdue.items == [mine_due]
    assert myday.my_day(colleague).overdue.items != [mine_due]


def test_hot_leads_are_mine_or_my_teams_queue_and_not_yet_contacted(tenant, manager):
    team = TeamFactory(tenant=tenant)
    me = MembershipFactory(tenant=tenant, role=Role.SALES, team=team)
    teammate = MembershipFactory(tenant=tenant, role=Role.SALES, team=team)
    hot_mine = capture(manager, last_name="Hot", rating="hot")
    services.lead_assign(lead=hot_mine, by=manager, owner=me)
    grade_a_queue = capture(manager, last_name="Queue")
    Lead.objects.filter(pk=grade_a_queue.pk).update(grade="A")
    services.lead_assign(lead=Lead.objects.get(pk=grade_a_queue.pk), by=manager, owner=None, team=team)
    teammates = capture(manager, last_name="Teammate", rating="hot")
    services.lead_assign(lead=teammates, by=manager, owner=teammate)
    warm = capture(manager, last_name="Warm", rating="warm")
    services.lead_assign(lead=warm, by=manager, owner=me)
    contacted = capture(manager, last_name="Contacted", rating="hot")
    services.lead_assign(lead=contacted, by=manager, owner=me)
    services.activity_log(lead=contacted, by=me, kind="call", outcome="reached")

    assert {lead.pk for lead in myday.my_day(me).hot_leads.items} == {hot_mine.pk, grade_a_queue.pk}


def test_sla_bucket_lists_my_deadlines_until_midnight(tenant, sales):
    now = dt.datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # 12:00 in Berlin
    overdue = capture(sales, last_name="Overdue")
    tonight = capture(sales, last_name="Tonight")
    tomorrow = capture(sales, last_name="Tomorrow")
    Lead.objects.filter(pk=overdue.pk).update(sla_due_at=now - dt.timedelta(hours=1))
    Lead.objects.filter(pk=tonight.pk).update(sla_due_at=dt.datetime(2026, 6, 1, 21, 59, tzinfo=UTC))
    Lead.objects.filter(pk=tomorrow.pk).update(sla_due_at=dt.datetime(2026, 6, 1, 22, 0, tzinfo=UTC))
    assert [lead.pk for lead in myday.my_day(sales, now=now).sla_leads.items] == [overdue.pk, tonight.pk]


def test_a_full_bucket_says_there_is_more(tenant, sales, monkeypatch):
    monkeypatch.setattr(myday, "BUCKET_SIZE", 2)
    lead = capture(sales)
    for hours in (1, 2, 3):
        follow_up(lead, sales, timezone.now() - dt.timedelta(hours=hours))
    day = myday.my_day(sales)
    assert len(day.overdue) == 2 and day.overdue.more
    assert not day.due_today.more


# --- screen --------------------------------------------------------------------------------------------


def test_my_day_page_shows_buckets_and_good_empty_states(client, tenant, sales):
    login(client, sales)
    page = client.get(url("my_day", tenant))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Nothing overdue. Well done." in html and "No new hot leads waiting for you." in html

    lead = capture(sales)
    follow_up(lead, sales, timezone.now() - dt.timedelta(hours=2), note="Angebot nachfassen")
    html = client.get(url("my_day", tenant)).content.decode()
    assert "Angebot nachfassen" in html and "Nothing overdue" not in html
    assert url("lead_detail", tenant, pk=lead.pk) in html


def test_my_day_is_in_the_navigation_for_people_who_work_leads(client, tenant, sales, marketing):
    link = f'href="{url("my_day", tenant)}"'
    login(client, sales)
    assert link in client.get(url("notification_list", tenant)).content.decode()
    client.logout()
    login(client, marketing)
    assert link not in client.get(url("notification_list", tenant)).content.decode()


def test_marketing_gets_an_explanation(client, tenant, marketing):
    login(client, marketing)
    page = client.get(url("my_day", tenant))
    assert page.status_code == 200 and "My day is for the people who work leads" in page.content.decode()
    assert page.context.get("day") is None and "settings_form" not in page.context


@pytest.mark.parametrize("role", [Role.PARTNER, Role.PRIVACY])
def test_roles_without_leads_get_404(client, tenant, members_by_role, role):
    login(client, members_by_role[role])
    assert client.get(url("my_day", tenant)).status_code == 404


def test_outsider_gets_404(client, tenant, outsider):
    login(client, outsider)
    assert client.get(url("my_day", tenant)).status_code == 404


def test_mark_done_with_htmx_refreshes_the_buckets(client, tenant, sales):
    lead = capture(sales)
    due = follow_up(lead, sales, timezone.now() - dt.timedelta(hours=1))
    login(client, sales)
    response = client.post(url("my_day_follow_up_done", tenant, pk=due.pk), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="my-day-body"' in html and "<html" not in html and "Nothing overdue. Well done." in html
    due.refresh_from_db()
    assert due.done_at is not None and due.done_by == sales
    lead.refresh_from_db()
    assert lead.next_follow_up_at is None


def test_mark_done_without_htmx_redirects_back(client, tenant, sales):
    due = follow_up(capture(sales), sales, timezone.now())
    login(client, sales)
    response = client.post(url("my_day_follow_up_done", tenant, pk=due.pk))
    assert response.status_code == 302 and response["Location"] == url("my_day", tenant)


def test_nobody_marks_someone_elses_invisible_follow_up_done(client, tenant, sales, outsider):
    colleague = MembershipFactory(tenant=tenant, role=Role.SALES)
    theirs = follow_up(capture(colleague), colleague, timezone.now())
    login(client, sales)
    assert client.post(url("my_day_follow_up_done", tenant, pk=theirs.pk)).status_code == 404
    client.logout()
    login(client, outsider)
    assert client.post(url("my_day_follow_up_done", tenant, pk=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.done_at is None


def test_own_email_settings(client, tenant, sales):
    login(client, sales)
    page = client.get(url("my_day", tenant))
    assert page.context["settings_form"].initial == {"email_on_assignment": True, "daily_digest": True}
    response = client.post(url("my_day_settings", tenant), {"email_on_assignment": "on"})
    assert response.status_code == 302
    profile = LeadProfile.objects.get(membership=sales)
    assert profile.email_on_assignment and not profile.daily_digest and profile.tenant_id == tenant.pk
    page = client.get(url("my_day", tenant))
    assert page.context["settings_form"].initial == {"email_on_assignment": True, "daily_digest": False}


def test_my_day_query_count_does_not_grow_with_rows(client, tenant, sales, django_assert_max_num_queries):
    lead = capture(sales)
    for hours in range(6):
        follow_up(lead, sales, timezone.now() + dt.timedelta(hours=hours - 3))
    login(client, sales)
    client.get(url("my_day", tenant))  # warm the session
    with django_assert_max_num_queries(14):
        client.get(url("my_day", tenant))


# --- API -----------------------------------------------------------------------------------------------


def test_api_my_day(client, tenant, sales):
    lead = capture(sales, rating="hot")
    due = follow_up(lead, sales, timezone.now() - dt.timedelta(minutes=5), note="Rückruf")
    body = client.get("/api/v1/my-day", headers=bearer(sales)).json()
    assert body["today"] == timezone.now().astimezone(ZoneInfo(tenant.timezone)).date().isoformat()
    assert [row["id"] for row in body["overdue"]["items"]] == [due.pk]
    assert body["overdue"]["items"][0]["lead"]["person"]["email"] == "wagner@example.de"
    assert body["due_today"] == {"items": [], "more": False}
    assert [row["id"] for row in body["hot_leads"]["items"]] == [lead.pk]


def test_api_my_day_is_for_lead_workers(client, tenant, marketing, outsider, sales):
    follow_up(capture(sales), sales, timezone.now())
    assert client.get("/api/v1/my-day", headers=bearer(marketing)).status_code == 404
    assert client.get("/api/v1/my-day", headers=bearer(outsider)).json()["overdue"]["items"] == []
