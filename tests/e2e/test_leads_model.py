"""A manager trains, reads and activates the predictive model in a real browser, then sees it on a lead."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from leadwerk.accounts.roles import Role
from tests.e2e.helpers import login, shoot
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)]


@pytest.mark.parametrize(("width", "name"), [(1366, "desktop"), (390, "phone")])
def test_manager_trains_activates_and_reads_the_probability(live_server, page_at, screenshot_dir, width, name):
    from leadwerk.leads.models import Lead, ScoreModel
    from leadwerk.leads.states import CLOSED
    from leadwerk.leads.tests.predictive_data import history

    tenant = TenantFactory(name="Nordstern Automobile AG", slug="nordstern")
    user = UserFactory(email="max@nordstern.test", full_name="Max Weber")
    MembershipFactory(tenant=tenant, user=user, role=Role.MANAGER)
    history(tenant, closed=57)

    page = page_at(width, 900)
    page.set_default_timeout(120_000)  # the shared CI machine is slow under load; training runs in the request
    expect.set_options(timeout=60_000)
    login(page, live_server, user)
    page.goto(f"{live_server.url}/nordstern/leads/settings/")
    page.get_by_test_id("model-settings-link").click()
    expect(page.get_by_role("heading", name="Predictive scoring", exact=True)).to_be_visible()
    expect(page.get_by_test_id("model-empty")).to_contain_text("You have 57 closed leads; 200 are needed")
    shoot(page, screenshot_dir / f"model-empty-{name}.png")

    Lead.objects.all().delete()
    history(tenant, closed=260, open_leads=4, seed=5)
    page.reload()
    page.get_by_test_id("train-now").click()  # tests run tasks at once: the version is trained when the page returns
    expect(page.get_by_test_id("model-versions")).to_contain_text("ready")
    model = ScoreModel.objects.get()
    expect(page.get_by_test_id("metric-auc")).to_have_text(f"{model.metrics['roc_auc']:.2f}")
    expect(page.locator(".calibration-chart .bar-observed")).to_have_count(10)
    shoot(page, screenshot_dir / f"model-trained-{name}.png")

    page.get_by_test_id("activate-1").click()
    expect(page.get_by_test_id("deactivate-1")).to_be_visible()
    expect(page.locator(".flash")).to_contain_text("Version 1 is active")

    lead = Lead.objects.exclude(status__in=CLOSED).order_by("pk").first()
    lead.refresh_from_db()
    assert lead.score_model_id == model.pk
    page.goto(f"{live_server.url}/nordstern/leads/{lead.pk}/")
    shown = f"{round(lead.probability * 100)} %"
    if lead.probability < 0.005 or lead.probability > 0.995:
        shown = "under 1 %" if lead.probability < 0.005 else "over 99 %"
    expect(page.get_by_test_id("probability-value")).to_have_text(shown)
    expect(page.locator(".factors-up li, .factors-down li").first).to_be_visible()
    page.get_by_test_id("probability").scroll_into_view_if_needed()
    page.get_by_test_id("probability").screenshot(path=str(screenshot_dir / f"lead-probability-{name}.png"))
    assert page.console_errors == []
