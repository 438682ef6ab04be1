"""A manager sets up SLAs in a real browser (field error, policy, calendar, preview) and finds overdue leads."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from leadwerk.accounts.roles import Role
from tests.e2e.helpers import console_errors, login, shoot
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)]


@pytest.fixture
def max_weber():
    tenant = TenantFactory(name="Nordstern Automobile AG", slug="nordstern")
    user = UserFactory(email="max@nordstern.test", full_name="Max Weber")
    MembershipFactory(tenant=tenant, user=user, role=Role.MANAGER)
    return user


def leads_with_deadlines(user):
    from leadwerk.leads import services
    from leadwerk.leads.models import Lead

    manager = user.memberships.get()
    now = timezone.now()
    made = {}
    dues = {
        "Krüger": now - dt.timedelta(days=1, hours=3),
        "Wagner": now + dt.timedelta(hours=2, minutes=5),
        "Schmidt": now + dt.timedelta(days=4),
    }
    for name, due in dues.items():
        lead = services.lead_capture(
            by=manager, person={"first_name": "Petra", "last_name": name}, channel="phone"
        ).lead
        Lead.objects.filter(pk=lead.pk).update(sla_first_contact_due=due, sla_due_at=due)
        made[name] = lead
    return made


@pytest.mark.parametrize(("width", "name"), [(1366, "desktop"), (390, "phone")])
def test_manager_sets_up_slas_and_finds_overdue_leads(live_server, page_at, max_weber, screenshot_dir, width, name):
    from leadwerk.leads.models import BusinessCalendar, SlaPolicy

    page = page_at(width, 900)
    page.set_default_timeout(60_000)  # two shared cores, often busy with other benchmarks
    expect.set_options(timeout=20_000)
    login(page, live_server, max_weber)
    page.goto(f"{live_server.url}/nordstern/leads/settings/")
    page.get_by_test_id("sla-link").click()
    expect(page.get_by_role("heading", name="SLAs", exact=True)).to_be_visible()
    expect(page.get_by_test_id("sla-empty")).to_be_visible()

    # A policy with a reminder longer than its deadline: field error, nothing saved.
    form = page.get_by_test_id("sla-policy-form")
    form.get_by_label("Name").fill("A: first contact")
    form.get_by_label("Deadline for").select_option("first_contact")
    form.get_by_label("Grade").select_option("A")
    form.get_by_label("Within (business hours)").fill("2")
    form.get_by_label("Remind the owner (minutes before)").fill("180")
    form.get_by_label("Re-route after missing it by (business hours)").fill("4")
    form.get_by_role("button", name="Add policy").click()
    error = page.get_by_test_id("sla-policy-form").locator(".has-error .error")
    expect(error).to_contain_text("A reminder must come at least a minute before the deadline")
    assert not SlaPolicy.objects.exists()
    shoot(page, screenshot_dir / f"sla-policy-error-{name}.png")

    page.get_by_test_id("sla-policy-form").get_by_label("Remind the owner (minutes before)").fill("30")
    page.get_by_test_id("sla-policy-form").get_by_role("button", name="Add policy").click()
    expect(page.locator(".flash")).to_contain_text("SLA policy added.")
    row = page.get_by_test_id("sla-policy-row")
    expect(row).to_contain_text("2 business hours")
    expect(row).to_contain_text("re-route 4 business hours after")
    expect(page.get_by_test_id("sla-preview")).to_have_text(re.compile(r"^(Mon|Tue|Wed|Thu|Fri), "))

    # The calendar: Bavaria, Christmas Eve closed.
    cal = page.get_by_test_id("sla-calendar-form")
    cal.get_by_label("Federal state").select_option("BY")
    cal.get_by_label("Further closed days").fill("2026-12-24\n2026-12-31")
    cal.get_by_role("button", name="Save calendar").click()
    expect(page.locator(".flash")).to_contain_text("Business calendar saved.")
    calendar = BusinessCalendar.objects.get()
    assert calendar.state == "BY" and calendar.closed_days == ["2026-12-24", "2026-12-31"]
    shoot(page, screenshot_dir / f"sla-settings-{name}.png")
    assert console_errors(page) == []

    # The inbox: badges, the overdue filter, and the lead page.
    leads_with_deadlines(max_weber)
    page.goto(f"{live_server.url}/nordstern/leads/")
    expect(page.locator("[data-sla=overdue]")).to_have_text("first contact overdue by 1 day")
    expect(page.locator("[data-sla=soon]")).to_have_text("first contact due in 2 h")
    page.select_option("#sla", "overdue")
    expect(page).to_have_url(re.compile(r"sla=overdue"))
    expect(page.locator("#lead-table tbody tr")).to_have_count(1)
    expect(page.locator("#lead-table tbody tr")).to_contain_text("Krüger")
    page.select_option("#sla", "")
    page.select_option("#sort", "sla")
    expect(page.locator("#lead-table tbody tr").first).to_contain_text("Krüger")
    expect(page.locator("#lead-table tbody tr").nth(2)).to_contain_text("Schmidt")
    shoot(page, screenshot_dir / f"sla-inbox-{name}.png")
    page.get_by_role("link", name="Krüger, Petra").click()
    expect(page.get_by_test_id("sla-badge")).to_contain_text("overdue by 1 day")
    expect(page.get_by_test_id("sla-first-contact-due")).to_be_visible()
    shoot(page, screenshot_dir / f"sla-lead-{name}.png")
    assert console_errors(page) == []
