"""A salesperson starts the day: My day as landing page, a follow-up done with htmx, the bell, notifications."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from leadwerk.accounts.roles import Role
from tests.e2e.helpers import login, shoot
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)]


@pytest.fixture
def sven():
    """Sven (sales) with an overdue and a later follow-up, a hot lead the manager just gave him, an SLA today."""
    from leadwerk.leads import services
    from leadwerk.leads.models import Lead

    tenant = TenantFactory(name="Nordstern Automobile AG", slug="nordstern")
    manager = MembershipFactory(
        tenant=tenant, role=Role.MANAGER, user=UserFactory(email="max@nordstern.test", full_name="Max Weber")
    )
    user = UserFactory(email="sven@nordstern.test", full_name="Sven Berg", language="en")
    me = MembershipFactory(tenant=tenant, user=user, role=Role.SALES)
    now = timezone.now()

    def capture(by, first, last, **lead):
        person = {"first_name": first, "last_name": last, "email": f"{last.lower()}@example.de"}
        return services.lead_capture(by=by, person=person, lead=lead).lead

    wagner = capture(me, "Jonas", "Wagner", title="Probefahrt E-SUV")
    services.follow_up_schedule(lead=wagner, by=me, due_at=now - dt.timedelta(hours=3), note="Angebot nachfassen")
    services.follow_up_schedule(lead=wagner, by=me, due_at=now + dt.timedelta(days=2), kind="meeting")
    becker = capture(me, "Anna", "Becker", title="Leasingangebot")
    # Due later today in the tenant's time zone, whatever the hour the test runs at.
    local = timezone.localtime(now, ZoneInfo(tenant.timezone))
    due = now + (local.replace(hour=23, minute=59, second=0, microsecond=0) - local) / 2
    Lead.objects.filter(pk=becker.pk).update(sla_due_at=due)
    hot = capture(manager, "Lena", "Hoffmann", title="Flotte mit 12 Fahrzeugen", rating="hot")
    services.lead_assign(lead=hot, by=manager, owner=me)
    return user


@pytest.mark.parametrize(("width", "name"), [(1366, "desktop"), (390, "phone")])
def test_sales_user_works_through_my_day(live_server, page_at, sven, screenshot_dir, width, name):
    from leadwerk.leads.models import FollowUp, LeadProfile, Notification

    page = page_at(width, 900)
    login(page, live_server, sven)
    # Sales users land on My day.
    expect(page).to_have_url(f"{live_server.url}/nordstern/leads/my-day/")
    expect(page.get_by_role("heading", name="My day", exact=True)).to_be_visible()
    expect(page.get_by_test_id("count-overdue")).to_have_text("1")
    expect(page.get_by_test_id("count-hot")).to_have_text("1")
    expect(page.get_by_test_id("count-sla")).to_have_text("1")
    expect(page.locator("#hot")).to_contain_text("Lena Hoffmann")
    expect(page.locator("#sla")).to_contain_text("due in")
    expect(page.get_by_test_id("bell-count")).to_have_text("1")
    shoot(page, screenshot_dir / f"myday-{name}.png")

    overdue = FollowUp.objects.get(note="Angebot nachfassen")
    page.get_by_test_id(f"done-{overdue.pk}").click()
    expect(page.locator("#overdue")).to_contain_text("Nothing overdue. Well done.")
    expect(page.get_by_test_id("count-overdue")).to_have_text("0")
    assert FollowUp.objects.get(pk=overdue.pk).done_at is not None

    # Own e-mail settings.
    page.get_by_label("Send me a digest of my day every morning at 7:00").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_contain_text("Your e-mail settings are saved.")
    assert LeadProfile.objects.get(membership__user=sven).daily_digest is False

    # The bell leads to the notifications; marking one read refreshes the bell.
    page.get_by_test_id("notification-bell").click()
    expect(page.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()
    note = Notification.objects.get(recipient__user=sven)
    expect(page.get_by_test_id(f"notification-{note.pk}")).to_contain_text("Hot lead for you: Lena Hoffmann")
    shoot(page, screenshot_dir / f"notifications-{name}.png")
    page.get_by_test_id(f"read-{note.pk}").click()
    expect(page.get_by_test_id(f"read-{note.pk}")).to_have_count(0)
    expect(page.get_by_test_id("bell-count")).to_have_count(0)
    assert Notification.objects.get(pk=note.pk).read_at is not None

    # Opening it goes to the lead.
    page.get_by_role("link", name="All").click()
    page.get_by_role("link", name="Hot lead for you: Lena Hoffmann · Flotte mit 12 Fahrzeugen").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lena Hoffmann")
    assert page.console_errors == []


def test_empty_day_and_no_notifications(live_server, page_at, screenshot_dir):
    tenant = TenantFactory(name="Nordstern Automobile AG", slug="nordstern")
    user = UserFactory(email="agent@nordstern.test", full_name="Ina Agent")
    MembershipFactory(tenant=tenant, user=user, role=Role.AGENT)
    page = page_at(1366, 900)
    login(page, live_server, user)
    expect(page.locator("#overdue")).to_contain_text("Nothing overdue. Well done.")
    expect(page.locator("#upcoming")).to_contain_text("Nothing scheduled for the coming days yet.")
    shoot(page, screenshot_dir / "myday-empty-desktop.png")
    page.get_by_test_id("notification-bell").click()
    expect(page.get_by_role("heading", name="You are all caught up")).to_be_visible()
    assert page.console_errors == []
