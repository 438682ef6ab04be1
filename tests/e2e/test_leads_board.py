"""Pipeline board and bulk actions in a real browser: drag and drop, a refused move, the reason dialog, the keyboard
menu, and a bulk assignment from the inbox; screenshots at 1366 and 390 px."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from leadwerk.accounts.roles import Role
from tests.e2e.helpers import console_errors, login, shoot
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)]


@pytest.fixture
def pipeline():
    from leadwerk.leads import services
    from leadwerk.leads.models import InterestCategory, Lead, LeadReason

    tenant = TenantFactory(name="Nordstern Automobile AG", slug="nordstern")
    user = UserFactory(email="max@nordstern.test", full_name="Max Weber")
    manager = MembershipFactory(tenant=tenant, user=user, role=Role.MANAGER)
    MembershipFactory(
        tenant=tenant, user=UserFactory(email="sven@nordstern.test", full_name="Sven Berg"), role=Role.SALES
    )
    interest = InterestCategory.objects.create(tenant=tenant, name="Elektro-SUV", key="e-suv")
    LeadReason.objects.create(tenant=tenant, kind="lost", label="Preis zu hoch")
    leads = {}
    for name, score, grade in (("Becker", 82, "A"), ("Wagner", 51, "B"), ("Schulz", 23, "C"), ("Keller", 64, "B")):
        person = {"first_name": "Jana", "last_name": name, "email": f"{name.lower()}@example.de"}
        lead = services.lead_capture(by=manager, person=person, lead={"interest": interest}).lead
        Lead.objects.filter(pk=lead.pk).update(score=score, grade=grade)
        leads[name] = lead
    services.lead_transition(lead=leads["Keller"], by=manager, to="accepted")
    return user, leads


def card(page, name: str):
    return page.locator(".board-card", has_text=name)


def column(page, status: str):
    return page.get_by_test_id(f"column-{status}")


def count(page, status: str):
    return page.get_by_test_id(f"count-{status}")


def test_drag_cards_on_the_board_desktop(live_server, page_at, pipeline, screenshot_dir):
    from leadwerk.leads.models import Lead

    user, leads = pipeline
    page = page_at(1366, 900)
    login(page, live_server, user)
    page.goto(f"{live_server.url}/nordstern/leads/board/")
    expect(count(page, "new")).to_have_text("3")
    # Best score on top.
    expect(column(page, "new").locator(".board-card").first).to_contain_text("Becker")
    shoot(page, screenshot_dir / "leads-board-desktop.png")

    # An allowed move: New → Qualifying.
    card(page, "Becker").drag_to(column(page, "qualifying"))
    expect(page.locator("#board-status")).to_contain_text("Becker moved to Qualifying.")
    expect(column(page, "qualifying").locator(".board-card")).to_contain_text("Becker")
    expect(count(page, "new")).to_have_text("2")
    assert Lead.objects.get(pk=leads["Becker"].pk).status == "qualifying"

    # A forbidden move snaps back with the state machine's message.
    card(page, "Becker").drag_to(column(page, "routed"))
    expect(page.get_by_test_id("board-error")).to_contain_text("A lead that is Qualifying cannot become Routed.")
    expect(column(page, "qualifying").locator(".board-card", has_text="Becker")).to_be_visible()
    assert Lead.objects.get(pk=leads["Becker"].pk).status == "qualifying"

    # The keyboard menu: Keller from Accepted to In progress.
    menu = card(page, "Keller").locator("details.board-menu")
    menu.locator("summary").click()
    menu.get_by_role("button", name="In progress").click()
    expect(column(page, "in_progress").locator(".board-card", has_text="Keller")).to_be_visible()

    # Lost needs a reason: the dialog comes first, refuses without one, then moves.
    page.locator(".board").evaluate("el => { el.scrollLeft = el.scrollWidth; }")  # In progress … Lost in view
    card(page, "Keller").drag_to(column(page, "lost"))
    dialog = page.get_by_test_id("move-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("move-confirm").click()
    expect(page.get_by_test_id("move-dialog")).to_contain_text("Choose a reason.")
    assert Lead.objects.get(pk=leads["Keller"].pk).status == "in_progress"
    shoot(page, screenshot_dir / "leads-board-dialog-desktop.png")
    page.get_by_test_id("move-dialog").locator("select[name=reason]").select_option(label="Preis zu hoch")
    page.get_by_test_id("move-dialog").get_by_test_id("move-confirm").click()
    expect(page.get_by_test_id("move-dialog")).to_have_count(0)
    expect(count(page, "lost")).to_have_text("1")
    assert Lead.objects.get(pk=leads["Keller"].pk).lost_reason.label == "Preis zu hoch"
    assert console_errors(page) == []


def test_keyboard_menu_and_phone_layout(live_server, page_at, pipeline, screenshot_dir):
    from leadwerk.leads.models import Lead

    user, leads = pipeline
    page = page_at(390, 844)
    login(page, live_server, user)
    page.goto(f"{live_server.url}/nordstern/leads/board/")
    board = page.locator(".board")
    # Columns scroll sideways on a phone instead of squeezing.
    assert board.evaluate("el => el.scrollWidth > el.clientWidth")
    shoot(page, screenshot_dir / "leads-board-phone.png")
    menu = card(page, "Schulz").locator("details.board-menu")
    menu.locator("summary").click()
    menu.get_by_role("button", name="Qualified").click()
    expect(page.locator("#board-status")).to_contain_text("Schulz moved to Qualified.")
    assert Lead.objects.get(pk=leads["Schulz"].pk).status == "qualified"
    # Nurture from the menu opens the dialog for the re-contact date.
    menu = card(page, "Schulz").locator("details.board-menu")
    menu.locator("summary").click()
    menu.get_by_role("link", name="Nurture…").click()
    expect(page.get_by_test_id("move-dialog")).to_be_visible()
    expect(page.get_by_test_id("move-dialog").locator("input[name=recontact_on]")).to_be_visible()
    shoot(page, screenshot_dir / "leads-board-dialog-phone.png")
    assert console_errors(page) == []


@pytest.mark.parametrize(("width", "name"), [(1366, "desktop"), (390, "phone")])
def test_bulk_assign_from_the_inbox(live_server, page_at, pipeline, screenshot_dir, width, name):
    from leadwerk.leads.models import Lead

    user, leads = pipeline
    page = page_at(width, 900)
    login(page, live_server, user)
    page.goto(f"{live_server.url}/nordstern/leads/?view=all")
    page.get_by_label("Tick Becker").check()
    page.get_by_label("Tick Wagner").check()
    page.locator("#lead-bulk-action").select_option("assign")
    shoot(page, screenshot_dir / f"leads-bulk-bar-{name}.png")
    page.get_by_test_id("lead-bulk-apply").click()
    expect(page.get_by_role("heading", name="Assign leads")).to_be_visible()
    page.locator("select[name=owner]").select_option(label="Sven Berg")
    page.get_by_test_id("bulk-confirm").click()
    expect(page.get_by_test_id("bulk-result")).to_contain_text("2")
    shoot(page, screenshot_dir / f"leads-bulk-result-{name}.png")
    owners = set(
        Lead.objects.filter(pk__in=[leads["Becker"].pk, leads["Wagner"].pk]).values_list(
            "owner__user__email", flat=True
        )
    )
    assert owners == {"sven@nordstern.test"}
    assert console_errors(page) == []
