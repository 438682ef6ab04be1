"""A manager sets up routing in a real browser: a rule with a postcode range (field error first), try-it,
capacity and an absence; a captured lead is routed and the lead page says why."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from leadwerk.accounts.roles import Role
from tests.e2e.helpers import console_errors, login, shoot
from tests.factories import MembershipFactory, TeamFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)]


@pytest.fixture
def max_weber():
    tenant = TenantFactory(name="Nordstern Automobile AG", slug="nordstern")
    user = UserFactory(email="max@nordstern.test", full_name="Max Weber")
    MembershipFactory(tenant=tenant, user=user, role=Role.MANAGER)
    sued = TeamFactory(tenant=tenant, name="Team Süd")
    MembershipFactory(tenant=tenant, role=Role.SALES, team=sued, user=UserFactory(full_name="Sina Berger"))
    MembershipFactory(tenant=tenant, role=Role.SALES, team=sued, user=UserFactory(full_name="Paul Huber"))
    return user


@pytest.mark.parametrize(("width", "name"), [(1366, "desktop"), (390, "phone")])
def test_manager_sets_up_routing_and_a_lead_is_routed(live_server, page_at, max_weber, screenshot_dir, width, name):
    from leadwerk.leads import services
    from leadwerk.leads.models import Absence, LeadProfile, RoutingRule

    page = page_at(width, 900)
    page.set_default_timeout(60_000)  # two shared cores, often busy with other benchmarks
    expect.set_options(timeout=20_000)
    login(page, live_server, max_weber)
    page.goto(f"{live_server.url}/nordstern/leads/settings/")
    page.get_by_test_id("routing-link").click()
    expect(page.get_by_role("heading", name="Routing", exact=True)).to_be_visible()
    expect(page.get_by_test_id("routing-empty")).to_be_visible()
    shoot(page, screenshot_dir / f"routing-empty-{name}.png")

    # A postcode range upside down: the row shows the error, nothing is saved.
    page.get_by_test_id("routing-rule-add").click()
    form = page.get_by_test_id("routing-rule-form")
    form.get_by_label("Name").fill("Süd")
    page.select_option("#cond-field-0", "person.postcode")
    page.select_option("#cond-op-0", "between")
    page.fill("#cond-value-0", "87999")
    page.fill("#cond-value2-0", "80000")
    form.get_by_label("Team", exact=True).select_option(label="Team Süd")
    form.get_by_label("Distribution in the team").select_option("fewest_open")
    page.get_by_test_id("routing-rule-save").click()
    expect(page.get_by_test_id("condition-error")).to_contain_text("lower bound")
    assert not RoutingRule.objects.exists()
    shoot(page, screenshot_dir / f"routing-rule-error-{name}.png")

    # A second condition row, then the fix.
    page.get_by_test_id("condition-add").click()
    expect(page.get_by_test_id("condition-row")).to_have_count(2)
    page.select_option("#cond-field-1", "lead.channel")
    page.select_option("#cond-op-1", "in")
    page.fill("#cond-value-1", "manual, web_form, api, phone")
    page.fill("#cond-value-0", "80000")
    page.fill("#cond-value2-0", "87999")
    page.get_by_test_id("routing-rule-save").click()
    expect(page.get_by_test_id("routing-rule-row")).to_have_count(1)
    expect(page.get_by_test_id("routing-rules")).to_contain_text("postcode is between 80000–87999")
    rule = RoutingRule.objects.get()
    assert rule.conditions[1] == {"field": "lead.channel", "op": "in", "value": ["manual", "web_form", "api", "phone"]}

    # Try it: a Munich postcode goes to Team Süd and says why.
    page.get_by_label("Postcode").fill("80331")
    page.get_by_test_id("routing-try-submit").click()
    result = page.get_by_test_id("routing-try-result")
    expect(result).to_contain_text("postcode 80331")
    expect(result).to_contain_text("Team Süd, fewest open leads")
    shoot(page, screenshot_dir / f"routing-rules-{name}.png")

    # Capacity: Paul takes 5 a week; Sina is away today.
    page.get_by_test_id("capacity-link").click()
    expect(page.get_by_test_id("capacity-row")).to_have_count(3)
    row = page.get_by_test_id("capacity-row").filter(has_text="Paul Huber")
    row.locator("input[name=weekly_capacity]").fill("5")
    row.get_by_test_id("capacity-save").click()
    expect(page.locator(".flash")).to_contain_text("Saved for Paul Huber")
    absence = page.get_by_test_id("absence-form")
    absence.get_by_label("Member").select_option(label="Sina Berger")
    today = page.evaluate("new Date().toLocaleDateString('sv-SE')")
    absence.get_by_label("From").fill(today)
    absence.get_by_label("Until").fill(today)
    absence.get_by_role("button", name="Add absence").click()
    expect(page.get_by_test_id("absence-row")).to_have_count(1)
    expect(page.get_by_test_id("capacity-row").filter(has_text="Sina Berger")).to_contain_text("absent today")
    shoot(page, screenshot_dir / f"routing-capacity-{name}.png")
    assert LeadProfile.objects.get(membership__user__full_name="Paul Huber").weekly_capacity == 5
    assert Absence.objects.count() == 1

    # A lead from Munich goes to Paul (Sina is away), and its page says why.
    manager = max_weber.memberships.get()
    lead = services.lead_capture(
        by=manager, person={"last_name": "Wagner", "postcode": "80331"}, channel="web_form"
    ).lead
    assert lead.owner.user.full_name == "Paul Huber"
    page.goto(f"{live_server.url}/nordstern/leads/{lead.pk}/")
    expect(page.locator("main")).to_contain_text("postcode 80331, channel Web form in Team Süd, fewest open leads")
    shoot(page, screenshot_dir / f"routing-lead-{name}.png")
    assert console_errors(page) == []
