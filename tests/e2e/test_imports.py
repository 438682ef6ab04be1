"""Marketing imports a German Excel CSV in a real browser: mapping, dry run, progress, rejected rows, undo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from leadwerk.accounts.roles import Role
from tests.e2e.helpers import login, shoot
from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)]

# As German Excel saves "CSV (Trennzeichen-getrennt)": semicolons, Windows-1252. Line 4 lacks the last name.
CSV = (
    "Vorname;Nachname;E-Mail;PLZ;Ort\r\n"
    "Jürgen;Müller;Juergen.Mueller@Example.DE;10115;Berlin\r\n"
    "Anna;Schmidt;anna@example.de;01067;Dresden\r\n"
    "Bernd;;bernd@example.de;20095;Hamburg\r\n"
    "Sören;Weiß;soeren@example.de;80331;München\r\n"
)


@pytest.fixture
def lena():
    tenant = TenantFactory(name="Nordstern Automobile AG", slug="nordstern")
    user = UserFactory(email="lena@nordstern.test", full_name="Lena Schulz")
    MembershipFactory(tenant=tenant, user=user, role=Role.MARKETING)
    return user


def facts(section) -> dict[str, str]:
    """A <dl class="facts"> as label → value."""
    terms = section.locator("dl.facts dt").all_inner_texts()
    values = section.locator("dl.facts dd").all_inner_texts()
    return dict(zip(terms, values, strict=True))


@pytest.mark.parametrize(("width", "name"), [(1366, "desktop"), (390, "phone")])
def test_marketing_imports_checks_and_undoes_a_file(live_server, page_at, lena, tmp_path, screenshot_dir, width, name):
    from leadwerk.contacts.models import Person
    from leadwerk.imports.models import ImportJob

    path = tmp_path / "Messe Kontakte.csv"
    path.write_bytes(CSV.encode("cp1252"))
    page = page_at(width, 900)
    login(page, live_server, lena)
    page.goto(f"{live_server.url}/nordstern/imports/")
    expect(page.get_by_text("No imports yet. Upload a file to start.")).to_be_visible()

    page.set_input_files("input[name=file]", path)
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="Messe Kontakte.csv")).to_be_visible()
    expect(page.get_by_text("4 data rows")).to_be_visible()
    job = ImportJob.objects.get()
    assert (job.source_encoding, job.delimiter) == ("cp1252", ";")

    # The mapping is suggested from the German headers; the preview shows the umlauts decoded.
    suggested = {"Vorname": "first_name", "Nachname": "last_name", "E-Mail": "email", "PLZ": "postcode", "Ort": "city"}
    for header, field in suggested.items():
        expect(page.get_by_label(header, exact=True)).to_have_value(field)
    columns = page.locator("section.card", has=page.get_by_role("heading", name="Columns"))
    row = columns.locator("tbody tr")
    expect(row.filter(has=page.locator("label", has_text=re.compile("^Nachname$")))).to_contain_text("Müller")
    expect(row.filter(has=page.locator("label", has_text=re.compile("^Ort$")))).to_contain_text("München")

    page.get_by_role("button", name="Check (dry run)").click()
    dry_run = page.locator("#validation")
    expect(dry_run.get_by_role("heading", name="Dry run")).to_be_visible()
    expect(dry_run).to_contain_text("4 of 4 rows checked; nothing was written.")
    assert facts(dry_run)["would be created"] == "3"
    assert facts(dry_run)["would be rejected"] == "1"
    expect(dry_run.locator("li", has_text="Line 4")).to_contain_text("Nachname")
    assert not Person.objects.exists()
    shoot(page, screenshot_dir / f"import-mapping-{name}.png")

    page.get_by_role("button", name="Start import").click()
    # The page polls the job (htmx, every second) until it is no longer active; tests run the job at once.
    progress = page.locator("#import-progress")
    expect(progress.get_by_role("heading", level=2)).to_have_text("Done")
    expect(progress).to_contain_text("4 of 4 rows")
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    counts = facts(progress)
    assert (counts["created"], counts["rejected"], counts["updated"]) == ("3", "1", "0")
    rejected = page.locator("section.card", has=page.get_by_role("heading", name="Rejected rows"))
    expect(rejected.locator("tbody tr")).to_have_count(1)
    expect(rejected.locator("tbody tr td").nth(0)).to_have_text("4")
    expect(rejected.locator("tbody tr td").nth(1)).to_have_text("Nachname")
    shoot(page, screenshot_dir / f"import-result-{name}.png")
    assert page.locator("#import-live").get_attribute("hx-trigger") is None  # a finished job is not polled

    # Tests finish the job inside the start request, so to see the polling, put the job back mid-run:
    # the card polls every second and swaps in the final state without a page load.
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, rows_done=2)
    page.reload()
    expect(progress.get_by_role("heading", level=2)).to_have_text("Running")
    expect(progress).to_contain_text("2 of 4 rows")
    expect(progress.locator("progress")).to_have_attribute("value", "50")
    page.evaluate("window.notReloaded = true")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.DONE, rows_done=4)
    expect(progress.get_by_role("heading", level=2)).to_have_text("Done")
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    assert page.evaluate("window.notReloaded") is True
    people = Person.objects.order_by("last_name")
    assert [(p.first_name, p.last_name, p.email) for p in people] == [
        ("Jürgen", "Müller", "juergen.mueller@example.de"),
        ("Anna", "Schmidt", "anna@example.de"),
        ("Sören", "Weiß", "soeren@example.de"),
    ]

    with page.expect_download() as download:
        rejected.get_by_role("link", name="Download as CSV").click()
    assert download.value.suggested_filename == f"import-{job.pk}-rejected.csv"
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "Vorname;Nachname;E-Mail;PLZ;Ort;Line;Column;Reason"
    assert len(lines) == 2 and lines[1].startswith("Bernd;;bernd@example.de;20095;Hamburg;4;Nachname;")

    page.goto(f"{live_server.url}/nordstern/people/")
    expect(page.get_by_role("link", name=re.compile("Müller, Jürgen"))).to_be_visible()

    page.goto(f"{live_server.url}/nordstern/imports/")
    page.get_by_role("link", name="Messe Kontakte.csv").click()
    confirm = page.get_by_role("button", name="Undo the import")
    expect(confirm).to_be_hidden()  # behind a confirmation that says what undo does
    page.get_by_test_id("undo-confirm").locator("summary").click()
    expect(page.get_by_test_id("undo-confirm")).to_contain_text("deletes the records this import created")
    confirm.click()
    expect(page.locator(".flash-success")).to_contain_text("The import is being undone.")
    expect(progress.get_by_role("heading", level=2)).to_have_text("Undone")
    expect(progress).to_contain_text("Undone: 3 deleted, 0 restored, 0 left alone")
    assert not Person.objects.exists()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDONE
    page.goto(f"{live_server.url}/nordstern/people/")
    expect(page.get_by_role("heading", name="No people yet")).to_be_visible()
    assert page.console_errors == []


def test_the_german_result_fits_a_phone(live_server, page_at, lena, screenshot_dir):
    """German labels are long ("in vorhandene Dubletten zusammengeführt"): the counts stay readable and the
    undo/delete buttons wrap instead of widening the page."""
    from leadwerk.accounts.models import Membership
    from leadwerk.imports.tests.helpers import run

    lena.language = "de"
    lena.save(update_fields=["language"])
    from django.utils import translation

    with translation.override("de"):  # started in German: the reasons are stored in German
        job = run(Membership.objects.get(user=lena), CSV.encode("cp1252"), name="Messe Kontakte.csv")
    page = page_at(390, 844)
    login(page, live_server, lena)
    page.goto(f"{live_server.url}/nordstern/imports/{job.pk}/")
    progress = page.locator("#import-progress")
    expect(progress.get_by_role("heading", level=2)).to_have_text("Erledigt")
    expect(page.locator("#import-rejected")).to_contain_text("Geben Sie den Nachnamen ein.")
    shoot(page, screenshot_dir / "import-result-de-phone.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    counts = progress.locator("dl.facts dd")
    assert counts.count() >= 5
    lines = "el => { const r = document.createRange(); r.selectNodeContents(el); return r.getClientRects().length; }"
    for index in range(counts.count()):
        assert counts.nth(index).bounding_box()["width"] >= 24
        assert counts.nth(index).evaluate(lines) == 1  # a number on one line, not a digit per line


def test_on_a_phone_the_upload_comes_first_and_the_menu_shows_imports(live_server, page_at, lena, screenshot_dir):
    """The sideways-scrolling menu of a phone shows the current page's item; the form to upload comes before
    the list of earlier jobs, which on a desktop spans the page's width."""
    from leadwerk.accounts.models import Membership
    from leadwerk.imports.tests.helpers import run

    run(Membership.objects.get(user=lena), CSV.encode("cp1252"), name="Messe Kontakte.csv")
    page = page_at(390, 844)
    login(page, live_server, lena)
    page.goto(f"{live_server.url}/nordstern/imports/")
    item = page.locator(".sidebar a.is-active")
    expect(item).to_have_text("Imports")
    box = item.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # scrolled into view, not cut off at the right
    upload = page.get_by_role("heading", name="Upload a file").bounding_box()
    jobs = page.get_by_role("heading", name="Jobs").bounding_box()
    assert upload["y"] < jobs["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, screenshot_dir / "import-list-phone.png")

    page.set_viewport_size({"width": 1366, "height": 900})
    page.reload()
    table = page.locator("table.table").bounding_box()
    assert table["width"] > 1366 * 0.6  # the whole content width, not a half-width column
    expect(page.get_by_role("link", name="Messe Kontakte.csv")).to_be_visible()
    shoot(page, screenshot_dir / "import-list-desktop.png")
    assert page.console_errors == []
