"""A tenant migrates lead history from a German spreadsheet; an admin defines qualification questions and a
salesperson answers them on the lead page — in a real browser, at desktop and phone width."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from leadwerk.accounts.roles import Role
from tests.factories import MembershipFactory, TenantFactory, UserFactory

from .test_imports import facts, login, shoot
from .test_leads import console_errors

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)]

# As German Excel saves it: semicolons, Windows-1252, German dates and amounts. Line 4 has an unknown status.
CSV = (
    "Vorname;Nachname;E-Mail;Phase;Erstellt am;Abschlussdatum;Betrag;Besitzer;Verlustgrund;Interesse\r\n"
    "Jürgen;Müller;juergen@example.de;Gewonnen;15.01.2024;01.03.2024;45.000,00;sven@nordstern.test;;e-suv\r\n"
    "Anna;Schmidt;anna@example.de;Verloren;10.02.2024;20.02.2024;;Sven Seller;Zu teuer;e-suv\r\n"
    "Bernd;Bauer;bernd@example.de;Vielleicht;01.03.2024;;;;;\r\n"
    "Sören;Weiß;soeren@example.de;In Bearbeitung;01.06.2024;;12.500;sven@nordstern.test;;e-suv\r\n"
)


@pytest.fixture
def people():
    from leadwerk.leads.models import InterestCategory

    tenant = TenantFactory(name="Nordstern Automobile AG", slug="nordstern")
    admin = UserFactory(email="lena@nordstern.test", full_name="Lena Schulz")
    MembershipFactory(tenant=tenant, user=admin, role=Role.ADMIN)
    sven = UserFactory(email="sven@nordstern.test", full_name="Sven Seller")
    MembershipFactory(tenant=tenant, user=sven, role=Role.SALES)
    InterestCategory.objects.create(tenant=tenant, name="Elektro-SUV", key="e-suv")
    return admin, sven


@pytest.mark.parametrize(("width", "name"), [(1366, "desktop"), (390, "phone")])
def test_lead_history_import_and_qualification_questions(
    live_server, page_at, people, tmp_path, screenshot_dir, width, name
):
    from leadwerk.leads.models import Lead, LeadReason, Notification

    admin, sven = people
    path = tmp_path / "Altsystem Leads.csv"
    path.write_bytes(CSV.encode("cp1252"))
    page = page_at(width, 900)
    login(page, live_server, admin)

    # Upload as leads: the history columns are recognised, history mode is ticked by itself.
    page.goto(f"{live_server.url}/nordstern/imports/")
    page.get_by_label("The rows are").select_option("lead")
    page.set_input_files("input[name=file]", path)
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="Altsystem Leads.csv")).to_be_visible()
    for header, field in {"Phase": "lead.status", "Erstellt am": "lead.captured_at", "Besitzer": "lead.owner",
                          "Verlustgrund": "lead.reason", "Betrag": "lead.estimated_value"}.items():  # fmt: skip
        expect(page.get_by_label(header, exact=True)).to_have_value(field)
    expect(page.get_by_label("History from another system")).to_be_checked()
    page.get_by_label("Create missing reasons").check()
    page.get_by_role("button", name="Check (dry run)").click()
    dry_run = page.locator("#validation")
    expect(dry_run).to_contain_text("4 of 4 rows checked; nothing was written.")
    assert facts(dry_run)["would be created"] == "3" and facts(dry_run)["would be rejected"] == "1"
    expect(dry_run.locator("li", has_text="Line 4")).to_contain_text("Vielleicht")
    shoot(page, screenshot_dir / f"lead-import-mapping-{name}.png")

    page.get_by_role("button", name="Start import").click()
    progress = page.locator("#import-progress")
    expect(progress.get_by_role("heading", level=2)).to_have_text("Done")
    counts = facts(progress)
    assert (counts["created"], counts["rejected"], counts["people created"]) == ("3", "1", "3")
    assert counts["reasons created"] == "1"
    shoot(page, screenshot_dir / f"lead-import-result-{name}.png")
    won = Lead.objects.get(person__email="juergen@example.de")
    assert won.status == "won" and str(won.won_value) == "45000.00" and won.owner.user == sven
    assert LeadReason.objects.filter(label="Zu teuer", kind="lost").exists()
    assert not Notification.objects.exists()

    # The admin adds a required question; a wrong definition is shown at its field.
    page.goto(f"{live_server.url}/nordstern/leads/settings/")
    page.get_by_test_id("settings-nav").get_by_role("link", name="Qualification questions").click()
    expect(page.get_by_text("No questions yet.", exact=False)).to_be_visible()
    form = page.get_by_test_id("question-form")
    form.locator("#question_label").fill("Anzahl Standorte")
    form.locator("#question_key").fill("standorte")
    form.locator("#question_kind").select_option("number")
    form.get_by_label("Required before a lead is qualified").check()
    page.get_by_role("button", name="Add question").click()
    expect(page.locator("[data-testid=question-row]")).to_have_count(1)
    expect(page.locator("[data-testid=question-row]")).to_contain_text("required before qualified")
    shoot(page, screenshot_dir / f"lead-questions-{name}.png")

    # On the open lead the question is an input; 'qualified' is refused until it is answered.
    open_lead = Lead.objects.get(person__email="soeren@example.de")
    Lead.objects.filter(pk=open_lead.pk).update(status="qualifying")
    page.goto(f"{live_server.url}/nordstern/leads/{open_lead.pk}/")
    transition = page.get_by_test_id("transition-form")
    transition.locator("select[name=to]").select_option("qualified")
    transition.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("Answer these questions before the lead is qualified", exact=False)).to_be_visible()
    page.get_by_label("Anzahl Standorte").fill("1e30")  # a number, but far too long: an error at the input
    page.get_by_role("button", name="Save qualification").click()
    answer_field = page.locator(".field", has=page.get_by_label("Anzahl Standorte"))
    expect(answer_field).to_have_class(re.compile("has-error"))
    assert Lead.objects.get(pk=open_lead.pk).qualification == {}
    page.get_by_label("Anzahl Standorte").fill("3")
    page.get_by_role("button", name="Save qualification").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()
    transition.locator("select[name=to]").select_option("qualified")
    transition.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("Status changed to Qualified.")).to_be_visible()
    shoot(page, screenshot_dir / f"lead-questions-answered-{name}.png")
    assert Lead.objects.get(pk=open_lead.pk).qualification == {"standorte": 3}
    assert console_errors(page) == []  # the form errors' 422s are expected; nothing else
