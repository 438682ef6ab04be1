"""The import's result screen: only the counters that apply, a note when not every rejected row is shown, the
rejected rows refreshed with the live progress, confirmation before undo and delete, reasons in the starter's
language."""

from __future__ import annotations

import pytest
from conftest import login
from django.urls import reverse
from django.utils import translation

from leadwerk.imports.models import ImportRejection

from .helpers import run

pytestmark = pytest.mark.django_db


def _detail(client, member, job, **headers):
    return login(client, member).get(reverse("imports:detail", args=[member.tenant.slug, job.pk]), headers=headers)


def _english(member):
    member.user.language = "en"
    member.user.save(update_fields=["language"])
    return member


def test_a_people_import_shows_the_counters_of_a_people_import_only(client, marketing):
    job = run(_english(marketing), "Vorname;Nachname;E-Mail\nAnna;Schmidt;anna@example.de\n")
    page = _detail(client, marketing, job).text
    assert "created" in page and "updated" in page and "rejected" in page
    assert "added as response to an open lead" not in page  # a lead import's counters
    assert "reasons created" not in page
    assert "already there (insert only)" not in page  # only insert-only imports find people "already there"

    again = run(marketing, "Vorname;Nachname;E-Mail\nAnna;Schmidt;anna@example.de\n", mode="insert")
    assert again.counts == {"existing": 1}
    assert "already there (insert only)" in _detail(client, marketing, again).text


def test_more_rejected_rows_than_shown_says_so_and_points_to_the_file(client, marketing):
    rows = "".join(f"P{i};;p{i}@example.de\n" for i in range(55))
    job = run(_english(marketing), "Vorname;Nachname;E-Mail\nAnna;Schmidt;anna@example.de\n" + rows)
    assert job.counts["rejected"] == 55
    page = _detail(client, marketing, job).text
    assert "The first 50 of 55 rejected rows; the CSV file holds all of them." in page
    assert page.count('<td data-label="Reason">') == 50

    few = run(marketing, "Vorname;Nachname;E-Mail\nB;;b@example.de\n")
    page = _detail(client, marketing, few).text
    assert page.count('<td data-label="Reason">') == 1 and "The first" not in page


def test_the_live_part_carries_the_rejected_rows_so_they_appear_when_the_job_ends(client, marketing):
    job = run(_english(marketing), "Vorname;Nachname;E-Mail\nB;;b@example.de\n")
    partial = _detail(client, marketing, job, **{"HX-Request": "true"}).text
    assert "<html" not in partial
    assert 'id="import-progress"' in partial and 'id="import-rejected"' in partial
    assert "Enter the last name." in partial


def test_undo_and_delete_ask_before_they_act(client, marketing):
    job = run(_english(marketing), "Vorname;Nachname;E-Mail\nAnna;Schmidt;anna@example.de\n")
    page = _detail(client, marketing, job).text
    for testid, button in (("undo-confirm", "Undo the import"), ("delete-confirm", "Delete the job")):
        start = page.index(f'data-testid="{testid}"')
        panel = page[start : page.index("</details>", start)]
        # The action's button sits inside a closed disclosure, behind an explanation of what it does.
        assert "<summary" in panel and f">{button}</button>" in panel and "<p>" in panel
        assert "open" not in page[page.rindex("<details", 0, start) : start]


@pytest.mark.parametrize(
    ("language", "reason"), [("de", "Geben Sie den Nachnamen ein."), ("en", "Enter the last name.")]
)
def test_rejection_reasons_are_stored_in_the_language_the_import_was_started_in(marketing, language, reason):
    with translation.override(language):  # as the request that starts it has it active
        job = run(marketing, "Vorname;Nachname;E-Mail\nB;;b@example.de\n")
    assert job.language == language
    assert list(ImportRejection.objects.values_list("message", flat=True)) == [reason]


def test_the_browser_language_of_the_start_request_counts(client, marketing):
    from .helpers import tasks_run, upload

    job = upload(marketing, "Vorname;Nachname;E-Mail\nB;;b@example.de\n")
    form = {"mode": "update", "key": "email", "map_0": "first_name", "map_1": "last_name", "map_2": "email"}
    with tasks_run():
        login(client, marketing).post(
            reverse("imports:action", args=[marketing.tenant.slug, job.pk, "start"]), form, HTTP_ACCEPT_LANGUAGE="de"
        )
    assert list(ImportRejection.objects.values_list("message", flat=True)) == ["Geben Sie den Nachnamen ein."]


def test_a_job_without_a_recorded_language_uses_the_members(marketing):
    """Jobs queued before the language was recorded: the member's language, else the tenant's."""
    from leadwerk.imports import services
    from leadwerk.imports.models import ImportJob

    from .helpers import tasks_run, upload

    assert marketing.user.language == "" and marketing.tenant.locale == "de"
    job = upload(marketing, "Vorname;Nachname;E-Mail\nB;;b@example.de\n")
    services.import_configure(job=job, by=marketing, mapping=job.mapping)
    with tasks_run():
        services.import_start(job=job, by=marketing)
        ImportJob.objects.filter(pk=job.pk).update(language="")
    assert list(ImportRejection.objects.values_list("message", flat=True)) == ["Geben Sie den Nachnamen ein."]


def test_a_failed_upload_keeps_the_job_list_as_it_was_and_the_menu_in_place(client, marketing):
    job = run(_english(marketing), "Vorname;Nachname;E-Mail\nAnna;Schmidt;anna@example.de\nB;;b@example.de\n")
    assert job.counts == {"created": 1, "rejected": 1}
    listing = login(client, marketing).get(reverse("imports:list", args=[marketing.tenant.slug]))
    failed = client.post(reverse("imports:upload", args=[marketing.tenant.slug]), {})
    assert failed.status_code == 422 and "This field is required." in failed.text
    assert "1 created · 1 rejected" in listing.text and "1 created · 1 rejected" in failed.text
    # The same job table on both pages, and the Imports menu item marked as the current one.
    summary = listing.text[listing.text.index("<tbody") : listing.text.index("</tbody>")]
    assert summary in failed.text
    assert 'class="is-active" href="/nordstern/imports/"' in failed.text


def test_the_dry_run_answer_scrolls_to_its_result(client, marketing):
    from .helpers import upload

    job = upload(marketing, "Vorname;Nachname;E-Mail\nAnna;Schmidt;anna@example.de\n")
    page = login(client, marketing).get(reverse("imports:detail", args=[marketing.tenant.slug, job.pk])).text
    assert f'formaction="/nordstern/imports/{job.pk}/validate/#validation"' in page


def test_the_confirmations_speak_german_to_a_german_user(client, marketing):
    job = run(marketing, "Vorname;Nachname;E-Mail\nAnna;Schmidt;anna@example.de\n")
    marketing.user.language = "de"
    marketing.user.save(update_fields=["language"])
    page = _detail(client, marketing, job).text
    assert ">Import rückgängig machen</button>" in page and ">Importvorgang endgültig löschen</button>" in page
    assert "Das Rückgängigmachen löscht die Datensätze, die dieser Import angelegt hat" in page
