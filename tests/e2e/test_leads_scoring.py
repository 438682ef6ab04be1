"""An admin sets up lead scoring in a real browser: empty state, a rule with a field error, a choice rule, an
engagement rule, grades, recompute now; the lead page explains the score; the inbox filters by grade."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from leadwerk.accounts.roles import Role
from tests.factories import MembershipFactory, TenantFactory, UserFactory

from .test_leads import console_errors, login, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)]


@pytest.fixture
def anna():
    tenant = TenantFactory(name="Nordstern Automobile AG", slug="nordstern")
    user = UserFactory(email="anna@nordstern.test", full_name="Anna Schulz")
    membership = MembershipFactory(tenant=tenant, user=user, role=Role.ADMIN)
    return user, membership


def choose(page, test_id: str, value: str) -> None:
    """Pick an option of the rule form and wait until htmx has swapped in the form it answers with."""
    with page.expect_response(lambda r: "/leads/settings/scoring/rules/" in r.url and r.request.method == "GET"):
        page.get_by_test_id(test_id).select_option(value)
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")
    expect(page.get_by_test_id(test_id)).to_have_value(value)


@pytest.mark.parametrize(("width", "name"), [(1366, "desktop"), (390, "phone")])
def test_admin_sets_up_scoring_and_reads_the_explanation(live_server, page_at, anna, screenshot_dir, width, name):
    from leadwerk.leads import services
    from leadwerk.leads.models import Lead, ScoringRule

    user, membership = anna
    hot = services.lead_capture(
        by=membership, person={"first_name": "Jonas", "last_name": "Wagner"}, lead={"rating": "hot"}
    ).lead
    services.lead_capture(by=membership, person={"first_name": "Eva", "last_name": "Kalt"}, lead={"rating": "cold"})
    page = page_at(width, 900)
    page.set_default_timeout(60_000)  # a loaded CI machine: the first page can take a while
    page.set_default_navigation_timeout(120_000)
    login(page, live_server, user)
    page.goto(f"{live_server.url}/nordstern/leads/settings/")
    page.get_by_test_id("settings-nav").get_by_role("link", name="Scoring", exact=True).click()
    expect(page.get_by_test_id("scoring-empty")).to_be_visible()
    shoot(page, screenshot_dir / f"scoring-empty-{name}.png")

    # A number rule with a word as value: the error is shown at the value, nothing saved.
    page.get_by_test_id("rule-add").click()
    page.fill("input[name=name]", "Big budget")
    choose(page, "rule-field", "lead.budget")
    expect(page.get_by_test_id("rule-operator")).to_contain_text("at least")
    choose(page, "rule-operator", "gte")  # the form is swapped for the condition; type after that
    page.fill("input[name=value_text]", "lots")
    page.fill("input[name=points]", "15")
    page.get_by_test_id("rule-save").click()
    expect(page.get_by_test_id("rule-form").get_by_text("Enter a number.")).to_be_visible()
    assert not ScoringRule.objects.exists()
    shoot(page, screenshot_dir / f"scoring-rule-error-{name}.png")

    # A choice field offers its values as checkboxes.
    page.fill("input[name=name]", "Hot lead")
    choose(page, "rule-field", "lead.rating")
    expect(page.get_by_test_id("rule-value").get_by_label("hot")).to_be_visible()
    page.get_by_test_id("rule-value").get_by_label("hot").check()
    page.fill("input[name=points]", "75")
    page.get_by_test_id("rule-save").click()
    expect(page.get_by_test_id("rules-table")).to_contain_text("Hot lead")

    # An engagement rule with cap and half-life.
    page.get_by_test_id("rule-add").click()
    page.fill("input[name=name]", "Reached")
    choose(page, "rule-field", "engagement.reached")
    expect(page.locator("input[name=half_life_days]")).to_be_visible()
    page.fill("input[name=points]", "10")
    page.fill("input[name=max_points]", "20")
    page.fill("input[name=half_life_days]", "45")
    page.get_by_test_id("rule-save").click()
    expect(page.get_by_test_id("rule-row")).to_have_count(2)

    # Recompute now: the result appears in place (the rules' own background recompute ran already).
    page.get_by_test_id("recompute").click()
    expect(page.get_by_test_id("recompute-status")).to_contain_text("leads recomputed", timeout=15_000)
    shoot(page, screenshot_dir / f"scoring-rules-{name}.png")
    hot.refresh_from_db()
    assert (hot.score, hot.grade) == (75, "A")

    page.goto(f"{live_server.url}/nordstern/leads/{hot.pk}/")
    explanation = page.get_by_test_id("score-explanation")
    expect(explanation.get_by_test_id("score-value")).to_have_text("75")
    expect(explanation).to_contain_text("Hot lead")
    explanation.scroll_into_view_if_needed()
    shoot(page, screenshot_dir / f"scoring-lead-{name}.png")

    page.goto(f"{live_server.url}/nordstern/leads/?view=all")
    page.get_by_test_id("grade-filter").select_option("A")
    expect(page.locator("#lead-table")).to_contain_text("Wagner")
    expect(page.locator("#lead-table")).not_to_contain_text("Kalt")
    assert Lead.objects.filter(grade="A").count() == 1
    assert console_errors(page) == []
