"""A sales manager works a lead in a real browser: lists, capture, assignment, call, follow-up, status, inbox."""

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
    MembershipFactory(tenant=tenant, user=UserFactory(email="sven@nordstern.test", full_name="Sven Berg"))  # sales
    return user


def fact(page, term: str):
    """The <dd> after the <dt> of this text in the person card."""
    return page.locator(f"dl.facts dt:text-is('{term}') + dd")


@pytest.mark.parametrize(("width", "name"), [(1366, "desktop"), (390, "phone")])
def test_manager_captures_assigns_works_and_loses_a_lead(live_server, page_at, max_weber, screenshot_dir, width, name):
    from leadwerk.leads.models import Activity, FollowUp, InterestCategory, Lead, LeadReason

    page = page_at(width, 900)
    login(page, live_server, max_weber)
    page.goto(f"{live_server.url}/nordstern/leads/")
    expect(page.get_by_role("heading", name="No leads here")).to_be_visible()

    # Interests and reasons: what leads can be about, and why they are lost.
    page.get_by_role("link", name="Interests and reasons").click()
    expect(page.get_by_role("heading", name="Interests and reasons", level=1)).to_be_visible()
    page.fill("#id_name", "E-SUV")
    page.fill("#id_key", "e-suv")
    page.get_by_role("button", name="Add interest").click()
    expect(page.locator(".flash-success")).to_contain_text("Interest added.")
    page.select_option("#id_kind", "lost")
    page.fill("#id_label", "Bought elsewhere")
    page.get_by_role("button", name="Add reason").click()
    expect(page.locator(".flash-success")).to_contain_text("Reason added.")
    reasons = page.locator("section.card", has=page.get_by_role("heading", name="Reasons"))
    expect(reasons.locator("li", has_text="Bought elsewhere")).to_contain_text("Lost")
    expect(page.locator("li", has_text="E-SUV").locator("code")).to_have_text("e-suv")
    shoot(page, screenshot_dir / f"lead-settings-{name}.png")
    assert InterestCategory.objects.get().key == "e-suv"
    assert LeadReason.objects.get().kind == "lost"

    # Capture by hand: the last name is required; nothing is saved until it is there.
    page.goto(f"{live_server.url}/nordstern/leads/")
    page.get_by_role("link", name="New lead").first.click()
    page.fill("#id_first_name", "Petra")
    page.fill("#id_email", "petra.krueger@example.de")
    page.fill("#id_phone", "030 5550123")
    page.select_option("#id_interest", label="E-SUV")
    page.fill("#id_title", "Test drive")
    page.get_by_role("button", name="Capture lead").click()
    error = page.locator(".field.has-error")
    expect(error).to_have_count(1)
    expect(error.locator("label")).to_contain_text("Last name")
    expect(error.locator(".error")).to_have_text("This field is required.")
    expect(page.locator("#id_email")).to_have_value("petra.krueger@example.de")
    shoot(page, screenshot_dir / f"lead-capture-error-{name}.png")
    assert not Lead.objects.exists()
    page.fill("#id_last_name", "Krüger")
    page.get_by_role("button", name="Capture lead").click()

    expect(page.locator(".flash-success")).to_contain_text("Lead captured.")
    expect(page.get_by_role("heading", name="Petra Krüger · Test drive")).to_be_visible()
    status = page.get_by_test_id("lead-status")
    expect(status).to_have_text("New")
    expect(fact(page, "Owner")).to_have_text("unassigned")
    lead = Lead.objects.get()
    assert (lead.person.last_name, lead.interest.key, lead.channel, lead.owner) == ("Krüger", "e-suv", "phone", None)
    detail_url = page.url

    # A new, unassigned lead waits in the inbox's "Unassigned" view.
    page.goto(f"{live_server.url}/nordstern/leads/?view=unassigned")
    expect(page.get_by_role("link", name="Krüger, Petra")).to_be_visible()
    page.goto(detail_url)

    # Assign to a sales member.
    page.locator("summary", has_text="Assign").click()
    assign = page.locator("form[action$='/assign/']")
    assign.locator("select[name=owner]").select_option(label="Sven Berg")
    assign.get_by_role("button", name="Assign").click()
    expect(page.locator(".flash-success")).to_contain_text("Lead assigned.")
    expect(fact(page, "Owner")).to_have_text("Sven Berg")
    expect(status).to_have_text("Routed")  # assigning a new lead routes it; the owner then accepts it
    lead.refresh_from_db()
    assert (lead.owner.user.email, lead.status) == ("sven@nordstern.test", "routed")

    # Log the first call: it ends the speed-to-lead clock.
    expect(fact(page, "First contact")).to_have_text("not yet")
    page.locator("summary", has_text="Log a call or note").click()
    log = page.locator("form[action$='/activities/']")
    log.locator("select[name=kind]").select_option("call")
    log.locator("select[name=outcome]").select_option("reached")
    log.locator("input[name=duration_minutes]").fill("7")
    log.locator("textarea[name=note]").fill("Wants a test drive on Saturday.")
    log.get_by_role("button", name="Log").click()
    expect(page.locator(".flash-success")).to_contain_text("Activity logged.")
    timeline = page.locator("ol.timeline")
    expect(timeline.locator("li", has_text="Wants a test drive")).to_contain_text("Call · reached · 7 minutes")
    expect(fact(page, "First contact")).not_to_have_text("not yet")
    assert Activity.objects.get(lead=lead).kind == "call"
    lead.refresh_from_db()
    assert lead.first_contact_at is not None

    # Schedule the follow-up for Sven.
    due = timezone.localdate() + dt.timedelta(days=3)
    page.locator("summary", has_text="Schedule a follow-up").click()
    follow = page.locator("form[action$='/follow-ups/']")
    follow.locator("input[name=due_at]").fill(f"{due.isoformat()}T10:00")
    follow.locator("select[name=kind]").select_option("call")
    follow.locator("select[name=assignee]").select_option(label="Sven Berg")
    follow.locator("input[name=note]").fill("Confirm the test drive")
    follow.get_by_role("button", name="Schedule").click()
    expect(page.locator(".flash-success")).to_contain_text("Follow-up scheduled.")
    follow_ups = page.locator("section.card", has=page.get_by_role("heading", name="Follow-ups"))
    expect(follow_ups.locator("li", has_text="Confirm the test drive")).to_contain_text("Sven Berg")
    follow_up = FollowUp.objects.get(lead=lead)
    assert (timezone.localtime(follow_up.due_at).date(), follow_up.assignee.user.full_name) == (due, "Sven Berg")
    shoot(page, screenshot_dir / f"lead-detail-{name}.png")

    # Accepted, then lost: without a reason the form says so and nothing changes.
    transition = page.get_by_test_id("transition-form")
    transition.locator("select[name=to]").select_option("accepted")
    transition.get_by_role("button", name="Change status").click()
    expect(page.locator(".flash-success")).to_contain_text("Status changed to Accepted.")
    expect(status).to_have_text("Accepted")
    transition.locator("select[name=to]").select_option("lost")
    transition.get_by_role("button", name="Change status").click()
    reason = transition.locator(".field", has=page.locator("select[name=reason]"))
    expect(reason).to_have_class(re.compile("has-error"))
    expect(reason.locator(".error")).to_have_text("Choose a reason.")
    expect(status).to_have_text("Accepted")
    lead.refresh_from_db()
    assert lead.status == "accepted"
    transition.locator("select[name=reason]").select_option(label="Bought elsewhere")
    transition.locator("input[name=note]").fill("Signed with the dealer next door")
    transition.get_by_role("button", name="Change status").click()
    expect(page.locator(".flash-success")).to_contain_text("Status changed to Lost.")
    expect(status).to_have_text("Lost")
    expect(fact(page, "Lost because")).to_have_text("Bought elsewhere – Signed with the dealer next door")
    expect(page.get_by_text("This lead is closed.")).to_be_visible()
    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason.label) == ("lost", "Bought elsewhere")

    # The inbox: a lost lead has left the open leads, and is found under "Lost", with its owner.
    page.goto(f"{live_server.url}/nordstern/leads/")
    expect(page.locator(".tabs [aria-current=page]")).to_have_text("All")  # a manager's default view
    expect(page.get_by_role("heading", name="No leads here")).to_be_visible()
    page.select_option("#status", "lost")
    row = page.locator("#lead-table tbody tr", has=page.get_by_role("link", name="Krüger, Petra"))
    expect(row).to_be_visible()
    expect(row).to_contain_text("Lost")
    expect(row).to_contain_text("Sven Berg")
    expect(page).to_have_url(re.compile(r"status=lost"))
    shoot(page, screenshot_dir / f"lead-inbox-{name}.png")
    assert console_errors(page) == []
