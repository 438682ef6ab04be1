"""Marketing works the marketing database in a real browser: create, find, record consent, export."""

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
    tenant = TenantFactory(name="Nordstern Automobile AG", slug="nordstern")
    user = UserFactory(email="lena@nordstern.test", full_name="Lena Schulz")
    MembershipFactory(tenant=tenant, user=user, role=Role.MARKETING)
    return user


@pytest.mark.parametrize(("width", "name"), [(1366, "desktop"), (390, "phone")])
def test_marketing_creates_finds_and_records_consent(live_server, page_at, lena, screenshot_dir, width, name):
    page = page_at(width, 900)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", lena.email)
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("main button[type=submit]:not(.lang-button)")
    page.goto(f"{live_server.url}/nordstern/people/")
    expect(page.get_by_role("heading", name="No people yet")).to_be_visible()

    page.get_by_role("link", name="New person").first.click()
    page.fill("input[name=last_name]", "")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".has-error")).to_have_count(1)  # last name is required; nothing saved

    page.fill("input[name=first_name]", "jonas")
    page.fill("input[name=last_name]", "WAGNER")
    page.fill("input[name=email]", " Jonas.Wagner@Example.DE ")
    page.fill("input[name=phone]", "030 / 1234567")
    page.fill("input[name=postcode]", "10115")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name=re.compile("Jonas Wagner"))).to_be_visible()
    expect(page.get_by_role("link", name="jonas.wagner@example.de")).to_be_visible()
    expect(page.get_by_role("link", name="+49301234567")).to_be_visible()

    consent = page.locator("details.inline-form", has_text="Record consent")
    consent.locator("summary").click()
    page.select_option("select[name=channel]", "email")
    page.select_option("select[name=status]", "granted")
    page.fill("input[name=proof_form]", "Messe 2026")
    consent.get_by_role("button", name="Save").click()
    expect(page.locator(".flash-success")).to_contain_text("Consent recorded")
    page.screenshot(path=str(screenshot_dir / f"person-detail-{name}.png"), full_page=True)

    page.goto(f"{live_server.url}/nordstern/people/")
    page.fill("input[name=q]", "wagn")
    expect(page.get_by_role("link", name=re.compile("Wagner, Jonas"))).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"people-{name}.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    assert download.value.suggested_filename.startswith("nordstern-people-")
    assert page.console_errors == []


@pytest.mark.parametrize(("width", "name"), [(1366, "desktop"), (390, "phone")])
def test_marketing_tags_and_deletes_in_bulk(live_server, page_at, lena, screenshot_dir, width, name):
    from leadwerk.contacts.models import Person
    from tests.factories import PersonFactory

    tenant = lena.memberships.get().tenant
    for last, city in [("Becker", "Berlin"), ("Schulz", "Hamburg"), ("Wagner", "Hamburg")]:
        PersonFactory(tenant=tenant, last_name=last, last_name_key=last.lower(), city=city)
    page = page_at(width, 900)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", lena.email)
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("main button[type=submit]:not(.lang-button)")
    page.goto(f"{live_server.url}/nordstern/people/")

    # Tick all on the page, then untick Becker: the tag goes to the other two.
    page.locator("input[data-select-all]").check()
    page.get_by_label("Tick Becker").uncheck()
    page.select_option("#bulk-action", "tag")
    page.fill("#bulk-tag", "Messe 2026")
    page.screenshot(path=str(screenshot_dir / f"people-bulk-{name}.png"), full_page=True)
    page.get_by_test_id("bulk-apply").click()
    expect(page.locator(".flash-success")).to_contain_text("Tag added to 2 people")
    assert set(Person.objects.filter(tags__name="Messe 2026").values_list("last_name", flat=True)) == {
        "Schulz",
        "Wagner",
    }

    # Everyone matching the search "Hamburg" is deleted after a confirmation page.
    page.fill("input[name=q]", "Hamburg")
    expect(page.get_by_label("Tick Becker")).to_have_count(0)
    page.select_option("#bulk-action", "delete")
    page.select_option("#bulk-scope", "filter")
    page.get_by_test_id("bulk-apply").click()
    expect(page.get_by_role("heading", name="Delete 2 people?")).to_be_visible()
    page.get_by_test_id("bulk-delete-confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("2 people deleted")
    assert list(Person.objects.values_list("last_name", flat=True)) == ["Becker"]
    assert page.console_errors == []
