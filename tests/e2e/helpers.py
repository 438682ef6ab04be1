"""What the browser tests share: signing in, full-page screenshots, console errors that are real."""

from __future__ import annotations

from playwright.sync_api import expect


def login(page, live_server, user) -> None:
    """Sign in through the login form (factories give every user the same test password)."""
    page.set_default_timeout(60_000)  # the shared test machine can be slow; the assertions stay the same
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("main button[type=submit]:not(.lang-button)")
    expect(page.locator("header.topbar")).to_be_visible()


def shoot(page, path) -> None:
    """A full-page screenshot from the top (scrolled down, the sticky top bar lands mid-picture)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)


def console_errors(page) -> list[str]:
    """Console errors but Chromium's note on a deliberate 422 answer to an invalid form (not a page error)."""
    return [e for e in page.console_errors if "the server responded with a status of 422" not in e]
