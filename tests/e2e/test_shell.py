"""A person logs in, switches tenant and language, uses a modal, and logs out — in a real browser."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from leadwerk.accounts.roles import Role
from tests.factories import MembershipFactory, TeamFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def anna():
    """Admin of Nordstern, marketing in Datavia — two tenants, two roles."""
    nordstern = TenantFactory(name="Nordstern Automobile AG", slug="nordstern")
    datavia = TenantFactory(name="Datavia Systems GmbH", slug="datavia")
    user = UserFactory(email="anna@nordstern.test", full_name="Anna Becker")
    team = TeamFactory(tenant=nordstern, name="Vertrieb Nord")
    MembershipFactory(tenant=nordstern, user=user, role=Role.ADMIN, team=team)
    MembershipFactory(tenant=datavia, user=user, role=Role.MARKETING)
    MembershipFactory(tenant=nordstern, user__email="jonas@nordstern.test", user__full_name="Jonas Wagner", team=team)
    return user


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]:not(.lang-button)")


@pytest.mark.parametrize(("width", "height", "name"), [(1366, 860, "desktop"), (390, 844, "phone")])
def test_login_switch_tenant_language_and_logout(live_server, page_at, anna, screenshot_dir, width, height, name):
    page = page_at(width, height)
    page.goto(f"{live_server.url}/accounts/login/")
    page.screenshot(path=str(screenshot_dir / f"login-{name}.png"))
    log_in(page, live_server.url, anna.email)

    # Two tenants: the start page lets Anna choose.
    expect(page.get_by_role("heading", name="Your tenants")).to_be_visible()
    page.get_by_role("link", name=re.compile("Nordstern Automobile AG")).first.click()
    expect(page).to_have_url(re.compile(r"/nordstern/$"))
    expect(page.get_by_role("heading", name=re.compile("Anna Becker"))).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"overview-{name}.png"), full_page=True)

    # Switch tenant through the header.
    page.locator(".tenant-switcher summary").click()
    page.locator(".tenant-switcher").get_by_role("link", name=re.compile("Datavia")).click()
    expect(page).to_have_url(re.compile(r"/datavia/$"))
    expect(page.locator(".tenant-name")).to_have_text("Datavia Systems GmbH")
    # As marketing in Datavia, the member directory is not offered.
    expect(page.locator(".sidebar").get_by_role("link", name="Members")).to_have_count(0)

    # Change language; it sticks to the user.
    page.get_by_test_id("lang-de").first.click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.locator(".sidebar").get_by_role("link", name="Übersicht")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / f"overview-de-{name}.png"), full_page=True)

    # Log out through the user menu.
    page.locator(".user-menu summary").click()
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/accounts/(login|logout)/"))
    page.goto(f"{live_server.url}/nordstern/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert page.console_errors == []


def test_admin_deactivates_a_member_through_the_modal(live_server, page_at, anna, screenshot_dir):
    page = page_at()
    log_in(page, live_server.url, anna.email)
    page.goto(f"{live_server.url}/nordstern/members/")
    row = page.get_by_role("row", name=re.compile("Jonas Wagner"))
    row.get_by_role("link", name="Deactivate").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "members-modal-desktop.png"))
    # Escape closes it without a change; then confirm for real.
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    row.get_by_role("link", name="Deactivate").click()
    page.get_by_role("dialog").get_by_role("button", name="Deactivate").click()
    expect(page.locator(".flash-success")).to_contain_text("Jonas Wagner no longer has access")
    expect(page.get_by_role("row", name=re.compile("Jonas Wagner"))).to_have_count(0)
    assert page.console_errors == []


def test_live_search_filters_members_with_htmx(live_server, page_at, anna):
    page = page_at()
    log_in(page, live_server.url, anna.email)
    page.goto(f"{live_server.url}/nordstern/members/")
    page.fill("input[name=q]", "jonas")
    expect(page.get_by_role("row", name=re.compile("Anna Becker"))).to_have_count(0)
    expect(page.get_by_role("row", name=re.compile("Jonas Wagner"))).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=jonas"))
    assert page.console_errors == []


def _totp(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time

    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def test_admin_sets_up_two_factor_when_the_tenant_requires_it(live_server, page_at, anna, screenshot_dir):
    from leadwerk.accounts.models import Tenant

    Tenant.objects.filter(slug="nordstern").update(require_mfa=True)
    page = page_at()
    log_in(page, live_server.url, anna.email)
    page.goto(f"{live_server.url}/nordstern/")
    # The tenant demands 2FA for admins: Anna is sent to set it up (after confirming her password).
    expect(page.locator(".flash-warning")).to_contain_text("requires two-factor authentication")
    if "/reauthenticate/" in page.url:
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]:not(.lang-button)")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    secret = page.locator("#authenticator_secret").input_value()
    page.screenshot(path=str(screenshot_dir / "totp-activate-desktop.png"), full_page=True)
    page.fill("input[name=code]", _totp(secret))
    page.click("main button[type=submit]:not(.lang-button)")
    page.goto(f"{live_server.url}/nordstern/")
    expect(page.get_by_role("heading", name=re.compile("Anna Becker"))).to_be_visible()
    # Next login asks for the code.
    page.locator(".user-menu summary").click()
    page.get_by_test_id("logout").click()
    log_in(page, live_server.url, anna.email)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", _totp(secret))
    page.click("main button[type=submit]:not(.lang-button)")
    expect(page).to_have_url(re.compile(r"/$"))
    assert page.console_errors == []
