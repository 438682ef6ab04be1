"""Marketing finds duplicates in a real browser: run the search, review a pair side by side, merge, undo."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from leadwerk.accounts.roles import Role
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)]


@pytest.fixture
def lena():
    from leadwerk.contacts import services

    tenant = TenantFactory(name="Nordstern Automobile AG", slug="nordstern")
    user = UserFactory(email="lena@nordstern.test", full_name="Lena Schulz")
    member = MembershipFactory(tenant=tenant, user=user, role=Role.MARKETING)
    base = {"postcode": "20095", "street": "Hauptstraße 5"}
    services.person_create(
        by=member, data={**base, "first_name": "Anna", "last_name": "Schmidt", "email": "anna@example.de"}
    )
    services.person_create(
        by=member,
        data={**base, "first_name": "Anna", "last_name": "Schmitt", "phone": "040 1234567", "street": "Hauptstr. 5"},
        merge=False,
    )
    services.person_create(by=member, data={**base, "first_name": "Bernd", "last_name": "Krause"})
    return user


@pytest.mark.parametrize(("width", "name"), [(1366, "desktop"), (390, "phone")])
def test_marketing_reviews_merges_and_undoes(live_server, page_at, lena, screenshot_dir, width, name):
    from leadwerk.contacts.models import Person

    page = page_at(width, 900)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", lena.email)
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("main button[type=submit]:not(.lang-button)")
    page.goto(f"{live_server.url}/nordstern/duplicates/")
    # The probable match noticed on entry is already in the queue.
    expect(page.get_by_test_id("review")).to_have_count(1)

    page.get_by_test_id("run-start").click()
    expect(page.get_by_test_id("run-status")).to_have_text("done")
    page.screenshot(path=str(screenshot_dir / f"duplicates-{name}.png"), full_page=True)

    page.get_by_test_id("review").first.click()
    expect(page.get_by_role("heading", name="Possible duplicate")).to_be_visible()
    expect(page.locator("tr.dedup-differs").first).to_be_visible()
    # Keep the older record, but take the other record's spelling of the last name.
    page.locator("input[name='f:last_name'][value='b']").check()
    page.screenshot(path=str(screenshot_dir / f"duplicate-pair-{name}.png"), full_page=True)
    page.get_by_test_id("merge").click()
    expect(page.locator(".flash-success")).to_contain_text("Merged")
    assert Person.objects.count() == 2
    assert Person.objects.filter(last_name="Schmitt", email="anna@example.de", phone="+49401234567").exists()

    page.get_by_test_id("undo").click()
    expect(page.locator(".flash-success")).to_contain_text("undone")
    expect(page.get_by_role("heading", name=re.compile("Anna Schmitt"))).to_be_visible()
    assert Person.objects.count() == 3
    assert page.console_errors == []
