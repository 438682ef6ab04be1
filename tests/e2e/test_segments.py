"""Marketing builds a target group in a real browser: live count, nested OR group, validation, snapshot, export."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from leadwerk.accounts.roles import Role
from tests.e2e.helpers import login, shoot
from tests.factories import MembershipFactory, PersonFactory, TenantFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)]

# last name, postcode, city, consent by post, suppressed, has a street
PEOPLE = [
    ("Becker", "10115", "Berlin", "granted", "", True),  # eligible
    ("Schulz", "12043", "Berlin", "granted", "", True),  # eligible
    ("Wagner", "14467", "Potsdam", "denied", "", True),  # excluded: no consent
    ("Fischer", "10245", "Berlin", "granted", "objection", True),  # excluded: suppressed
    ("Neumann", "10117", "Berlin", "granted", "", False),  # excluded: no contact data (no street)
    ("Klein", "14612", "Falkensee", "granted", "", True),  # postcode in range, but neither Berlin nor Potsdam
    ("Hoffmann", "20095", "Hamburg", "granted", "", True),  # postcode out of range
]


@pytest.fixture
def lena():
    tenant = TenantFactory(name="Nordstern Automobile AG", slug="nordstern")
    user = UserFactory(email="lena@nordstern.test", full_name="Lena Schulz")
    MembershipFactory(tenant=tenant, user=user, role=Role.MARKETING)
    for last, postcode, city, consent, suppressed, street in PEOPLE:
        PersonFactory(
            tenant=tenant,
            last_name=last,
            last_name_key=last.lower(),
            postcode=postcode,
            city=city,
            street="Hauptstraße 1" if street else "",
            consent_post=consent,
            suppressed_reason=suppressed,
        )
    return user


def console_errors(page) -> list[str]:
    """Console errors, less two kinds of expected noise: Chromium's note on the deliberate 422 answer to an
    invalid form, and htmx's report of a live count it aborted because a newer one replaced it
    (hx-sync="this:replace"; htmx logs "htmx:afterRequest" and "htmx:sendAbort" as errors)."""
    errors = [e for e in page.console_errors if "the server responded with a status of 422" not in e]
    aborted = [i for i, e in enumerate(errors) if e.startswith("htmx:sendAbort")]
    drop = {j for i in aborted for j in (i - 1, i) if errors[j].startswith(("htmx:afterRequest", "htmx:sendAbort"))}
    return [e for i, e in enumerate(errors) if i not in drop]


def settled(page, appeared) -> None:
    """Wait for a builder re-render: the new element is there and htmx has wired it up (after the settle delay,
    ~20 ms, new content carries the class htmx-added and does not react to changes yet)."""
    expect(appeared).to_be_attached()
    expect(page.locator("#builder")).not_to_have_class(re.compile(r"htmx-(added|settling|swapping)"))


@pytest.mark.parametrize(("width", "name"), [(1366, "desktop"), (390, "phone")])
def test_marketing_builds_freezes_and_exports_a_segment(live_server, page_at, lena, screenshot_dir, width, name):
    from leadwerk.contacts.models import Segment, SegmentMember

    page = page_at(width, 900)
    login(page, live_server, lena)
    page.goto(f"{live_server.url}/nordstern/segments/")
    page.get_by_role("link", name="New segment").first.click()
    expect(page.get_by_role("heading", name="New segment")).to_be_visible()
    count = page.get_by_test_id("count-total")
    expect(count).to_have_text("7")  # no conditions yet: everybody

    page.fill("#id_name", "Berlin mailing")
    page.select_option("#id_channel", "post")
    expect(page.get_by_test_id("count-eligible")).to_have_text("4")  # Becker, Schulz, Klein, Hoffmann

    # First condition: postcode between 10000 and 14999 (the builder re-renders via htmx, nothing is saved).
    page.select_option("[name='field-r.0']", "postcode")
    settled(page, page.locator("[name='operator-r.0']"))
    page.select_option("[name='operator-r.0']", "between")
    settled(page, page.locator("[name='value2-r.0']"))
    page.fill("[name='value-r.0']", "10000")
    page.fill("[name='value2-r.0']", "14999")
    expect(count).to_have_text("6")
    assert not Segment.objects.exists()

    # A nested OR group: city is Berlin or city is Potsdam.
    page.locator("button[name=action][value='group:r']").click()
    settled(page, page.locator("[name='field-r.1.0']"))
    expect(page.locator("[name='op-r.1']")).to_have_value("or")
    page.select_option("[name='field-r.1.0']", "city")
    settled(page, page.locator("[name='value-r.1.0']"))
    expect(page.locator("[name='operator-r.1.0']")).to_have_value("eq")
    page.fill("[name='value-r.1.0']", "Berlin")
    expect(count).to_have_text("4")
    page.locator("button[name=action][value='add:r.1']").click()
    settled(page, page.locator("[name='field-r.1.1']"))
    page.select_option("[name='field-r.1.1']", "city")
    settled(page, page.locator("[name='value-r.1.1']"))

    # Saving with the empty value: the error sits on that condition, nothing is saved.
    page.get_by_role("button", name="Save", exact=True).click()
    row = page.locator(".builder-row[data-path='r.1.1']")
    expect(row).to_have_class("builder-row has-error")
    expect(row.locator(".error")).to_have_text("Enter a value.")
    expect(page.locator(".form-errors")).to_contain_text("Please check the conditions")
    assert not Segment.objects.exists()
    # What was built survives the failed save.
    expect(page.locator("[name='value-r.1.0']")).to_have_value("Berlin")
    expect(page.locator("#id_name")).to_have_value("Berlin mailing")
    # The live count says what is missing rather than counting a half-built condition.
    expect(page.get_by_test_id("count-problem")).to_have_text(
        "Complete the conditions to see the count: Enter a value."
    )

    page.fill("[name='value-r.1.1']", "Potsdam")
    expect(count).to_have_text("5")
    expect(page.get_by_test_id("count-eligible")).to_have_text("2")
    shoot(page, screenshot_dir / f"segment-builder-{name}.png")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".flash-success")).to_contain_text("Segment Berlin mailing saved.")
    expect(page.get_by_role("heading", name="Berlin mailing")).to_be_visible()
    segment = Segment.objects.get()
    assert segment.channel == "post"
    assert segment.definition == {
        "op": "and",
        "children": [
            {"field": "postcode", "operator": "between", "value": ["10000", "14999"]},
            {
                "op": "or",
                "children": [
                    {"field": "city", "operator": "eq", "value": "Berlin"},
                    {"field": "city", "operator": "eq", "value": "Potsdam"},
                ],
            },
        ],
    }
    expect(page.get_by_test_id("total")).to_have_text("5")
    expect(page.get_by_test_id("eligible")).to_have_text("2")
    stats = page.locator(".stats")
    for label in ("Excluded: suppressed", "Excluded: no consent", "Excluded: no contact data"):
        expect(stats.locator(".stat", has_text=label).locator(".stat-value")).to_have_text("1")
    expect(page.get_by_text("Dynamic: re-evaluated whenever it is used")).to_be_visible()

    page.get_by_role("button", name="Freeze (take snapshot)").click()
    expect(page.locator(".flash-success")).to_contain_text("Snapshot taken.")
    expect(page.get_by_text("Frozen: snapshot taken")).to_be_visible()
    segment.refresh_from_db()
    assert segment.frozen_at is not None
    assert SegmentMember.objects.filter(segment=segment, manual=False).count() == 5
    shoot(page, screenshot_dir / f"segment-detail-{name}.png")

    # A Berliner added after the snapshot does not join the frozen segment.
    PersonFactory(
        tenant=segment.tenant, last_name="Zimmermann", last_name_key="zimmermann", postcode="10119",
        street="Torstraße 1", consent_post="granted",
    )  # fmt: skip
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    assert download.value.suggested_filename.startswith("nordstern-berlin-mailing-")
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "Salutation;Title;First name;Last name;Organisation;Street and number;Postcode;City;Country"
    assert [line.split(";")[3] for line in lines[1:]] == ["Becker", "Schulz"]
    assert console_errors(page) == []


def test_the_german_builder_fits_a_phone(live_server, page_at, lena, screenshot_dir):
    """German field names and operators are long ("Datenqualitätsprobleme", "liegt zwischen"): the builder with
    a nested group stays inside a phone's width, with its buttons on screen."""
    lena.language = "de"
    lena.save(update_fields=["language"])
    page = page_at(390, 844)
    login(page, live_server, lena)
    page.goto(f"{live_server.url}/nordstern/segments/new/")
    expect(page.get_by_role("heading", name="Neues Segment")).to_be_visible()
    page.select_option("[name='field-r.0']", "postcode")
    settled(page, page.locator("[name='operator-r.0']"))
    page.select_option("[name='operator-r.0']", "between")
    settled(page, page.locator("[name='value2-r.0']"))
    page.locator("button[name=action][value='group:r']").click()
    settled(page, page.locator("[name='field-r.1.0']"))
    page.select_option("[name='field-r.1.0']", "quality_problems")
    settled(page, page.locator("[name='operator-r.1.0']"))
    shoot(page, screenshot_dir / "segment-builder-de-phone.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    remove = page.locator("button[name=action][value='remove:r.1']")
    box = remove.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    remove.click()  # reachable: nothing lies over it
    expect(page.locator("[name='field-r.1.0']")).to_have_count(0)
    assert console_errors(page) == []
