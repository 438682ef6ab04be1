"""Values an import could not normalise: kept as given with their data-quality flag, on new and on updated
people, counted in the dry run and the result, and undone with the rest."""

from __future__ import annotations

import pytest
from conftest import login
from django.urls import reverse

from leadwerk.contacts import services as contact_services
from leadwerk.contacts.models import Person
from leadwerk.imports import services

from .helpers import run, tasks_run, upload

pytestmark = pytest.mark.django_db

HEADER = "Vorname;Nachname;E-Mail;Telefon\n"


def _english(member):
    member.user.language = "en"
    member.user.save(update_fields=["language"])
    return member


def test_a_new_person_keeps_the_raw_value_with_its_flag_and_the_row_is_counted(client, marketing):
    job = run(_english(marketing), HEADER + "Clara;Walk;clara(at)walk;\nAnna;Schmidt;anna@example.de;030 1234567\n")
    assert job.counts == {"created": 2, "quality": 1}
    clara = Person.objects.get(last_name="Walk")
    assert clara.email == "clara(at)walk" and clara.quality_flags == ["email_invalid"]
    assert Person.objects.get(last_name="Schmidt").quality_flags == []
    page = login(client, marketing).get(reverse("imports:detail", args=[marketing.tenant.slug, job.pk])).text
    assert "<dt>with a value to check, kept as given</dt><dd>1</dd>" in page


def test_an_update_flags_the_value_it_writes(marketing):
    anna = contact_services.person_create(
        by=marketing, data={"last_name": "Schmidt", "email": "anna@example.de", "phone": "030 1234567"}
    ).person
    assert anna.quality_flags == []
    job = run(marketing, HEADER + "Anna;Schmidt;anna@example.de;0049-abc-12\n")
    assert job.counts == {"updated": 1, "quality": 1}
    anna.refresh_from_db()
    assert anna.phone == "0049-abc-12" and anna.quality_flags == ["phone_invalid"]

    with tasks_run():
        services.import_undo(job=job, by=marketing)
    anna.refresh_from_db()
    assert anna.phone == "+49301234567" and anna.quality_flags == []


def test_an_update_that_corrects_a_value_clears_its_flag_and_keeps_the_others(marketing):
    data = {"last_name": "Schmidt", "email": "anna@example.de", "phone": "kaputt", "postcode": "00000"}
    anna = contact_services.person_create(by=marketing, data=data).person
    assert anna.quality_flags == ["phone_invalid", "postcode_unknown"]
    job = run(marketing, HEADER + "Anna;Schmidt;anna@example.de;030 1234567\n")
    assert job.counts == {"updated": 1}  # a flag taken away is no row to check
    anna.refresh_from_db()
    assert anna.phone == "+49301234567" and anna.quality_flags == ["postcode_unknown"]


def test_the_phone_flag_stays_while_the_mobile_is_still_unreadable(marketing):
    data = {"last_name": "Schmidt", "email": "anna@example.de", "phone": "kaputt", "mobile": "auch kaputt"}
    anna = contact_services.person_create(by=marketing, data=data).person
    assert anna.quality_flags == ["phone_invalid"]
    run(marketing, HEADER + "Anna;Schmidt;anna@example.de;030 1234567\n")
    anna.refresh_from_db()
    assert (anna.phone, anna.mobile) == ("+49301234567", "auch kaputt")
    assert anna.quality_flags == ["phone_invalid"]


def test_a_gap_filled_from_a_file_row_is_flagged_too(marketing):
    """Matched by another identifier (merge: only gaps filled): the filled value brings its flag."""
    anna = contact_services.person_create(by=marketing, data={"last_name": "Schmidt", "email": "anna@example.de"})
    mapping = {"Nachname": "last_name", "E-Mail": "email", "PLZ": "postcode", "Kundennummer": "external_id"}
    text = "Nachname;E-Mail;PLZ;Kundennummer\nSchmidt;anna@example.de;1234;K-1\n"
    job = run(marketing, text, key="external_id", mapping=mapping)
    assert job.counts == {"merged": 1, "quality": 1}
    person = Person.objects.get(pk=anna.person.pk)
    assert (person.postcode, person.external_id) == ("1234", "K-1") and person.quality_flags == ["postcode_format"]


def test_the_dry_run_counts_the_rows_to_check_in_the_users_language(client, marketing):
    marketing.user.language = "de"
    marketing.user.save(update_fields=["language"])
    job = upload(marketing, HEADER + "Clara;Walk;clara(at)walk;\nBert;Bauer;bert@example.de;030 1234567\n")
    form = {"mode": "update", "key": "email", "map_0": "first_name", "map_1": "last_name", "map_2": "email"}
    form["map_3"] = "phone"
    page = login(client, marketing).post(
        reverse("imports:action", args=[marketing.tenant.slug, job.pk, "validate"]), form
    )
    assert page.status_code == 200
    assert "<dt>mit zu prüfendem Wert, wie geliefert übernommen</dt><dd>1</dd>" in page.text
    assert Person.objects.count() == 0
