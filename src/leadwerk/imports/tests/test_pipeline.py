"""The import pipeline through its services: parse, map, normalise, match, load, resume, undo."""

from __future__ import annotations

import pytest

from leadwerk.contacts import services as contact_services
from leadwerk.contacts.models import Person, Suppression
from leadwerk.core.exceptions import ValidationFailed
from leadwerk.imports import services
from leadwerk.imports.models import ImportChange, ImportJob, ImportRejection

from .helpers import crash_in_third_chunk_then_resume, run, tasks_run, upload

pytestmark = pytest.mark.django_db

GERMAN = (
    "Anrede;Vorname;Nachname;E-Mail;Telefon;Straße;PLZ;Ort;Firma\n"
    "Herr;JÜRGEN;MÜLLER;Juergen.Mueller@Example.DE ;030 1234567;Hauptstraße 1;10115;Berlin;Müller GmbH\n"
    "Frau;Anna;Schmidt;anna@example.de;;Ringstraße 5;01067;Dresden;\n"
)


def test_mapping_is_suggested_from_german_headers(marketing):
    job = upload(marketing, GERMAN)
    assert job.mapping == {
        "Anrede": "salutation", "Vorname": "first_name", "Nachname": "last_name", "E-Mail": "email",
        "Telefon": "phone", "Straße": "street", "PLZ": "postcode", "Ort": "city", "Firma": "organization_name",
    }  # fmt: skip
    assert job.delimiter == ";" and job.total_rows == 2


def test_english_headers_and_comma(marketing):
    text = "First name,Last name,Email,Mobile,ZIP,City\nJane,Doe,jane@example.com,0171 1234567,10115,Berlin\n"
    job = upload(marketing, text)
    assert job.mapping["Mobile"] == "mobile" and job.mapping["ZIP"] == "postcode" and job.delimiter == ","


def test_windows_1252_file_as_german_excel_writes_it(marketing):
    job = run(marketing, GERMAN, encoding="cp1252")
    assert job.source_encoding == "cp1252"
    person = Person.objects.get(email="juergen.mueller@example.de")
    assert (person.first_name, person.last_name, person.street) == ("Jürgen", "Müller", "Hauptstraße 1")


def test_rows_are_normalised_like_the_form(marketing):
    job = run(marketing, GERMAN)
    assert job.status == ImportJob.Status.DONE
    assert job.counts == {"created": 2}
    person = Person.objects.get(email="juergen.mueller@example.de")
    assert person.salutation == "mr"
    assert person.phone == "+49301234567"
    assert person.last_name_key == "mueller"
    assert person.organization.name == "Müller GmbH"
    assert person.consent_email == "unknown" and person.consent_phone == "unknown"
    assert person.affiliations.count() == 1
    anna = Person.objects.get(email="anna@example.de")
    assert anna.postcode == "01067" and anna.country == "DE"


def test_one_organisation_per_name_named_as_the_file_first_spells_it(marketing):
    from leadwerk.contacts.models import Organization

    text = (
        "Vorname;Nachname;E-Mail;Firma\n"
        "Anna;Berg;anna@example.de;Acme  GmbH\n"
        "Bernd;Kranz;bernd@example.de;ACME GmbH\n"
        "Carla;Lind;carla@example.de;acme gmbh\n"
    )
    job = run(marketing, text)
    assert job.counts == {"created": 3}
    assert list(Organization.objects.filter(tenant=marketing.tenant).values_list("name", flat=True)) == ["Acme GmbH"]
    assert Person.objects.filter(organization__name="Acme GmbH").count() == 3


def test_utf8_bom_is_read(marketing):
    job = run(marketing, "\ufeffVorname;Nachname;E-Mail\nÖzlem;Yılmaz;oe@example.de\n")
    assert job.source_encoding == "utf-8-sig"
    assert Person.objects.get(email="oe@example.de").first_name == "Özlem"


def test_xlsx_file(marketing):
    from leadwerk.core.exports import xlsx_bytes

    data = xlsx_bytes(["Vorname", "Nachname", "E-Mail", "PLZ"], [["Eva", "Klein", "eva@example.de", "20095"]])
    job = run(marketing, data, name="people.xlsx")
    assert job.source_format == "xlsx"
    assert Person.objects.get(email="eva@example.de").postcode == "20095"


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "a.csv", "empty"),
        (b"Vorname;Nachname\n", "a.csv", "no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "a.png", "CSV or XLSX"),
        (b"PK\x03\x04garbage", "a.xlsx", "could not be read"),
        (b"x" * 10 + b"\x00" * 10, "a.csv", "CSV or XLSX"),
    ],
)
def test_bad_files_are_form_errors(marketing, content, name, message):
    with pytest.raises(ValidationFailed) as exc:
        upload(marketing, content, name=name)
    assert exc.value.field == "file" and message in exc.value.message


def test_too_large_file(marketing, settings):
    settings.IMPORT_MAX_BYTES = 10
    with pytest.raises(ValidationFailed, match="too large"):
        upload(marketing, GERMAN)


def test_mapping_errors(marketing):
    job = upload(marketing, GERMAN)
    mapping = dict(job.mapping, Vorname="last_name")
    with pytest.raises(ValidationFailed, match="both mapped"):
        services.import_configure(job=job, by=marketing, mapping=mapping)
    mapping = dict(job.mapping, Nachname="")
    with pytest.raises(ValidationFailed, match="required"):
        services.import_configure(job=job, by=marketing, mapping=mapping, mode="insert")
    with pytest.raises(ValidationFailed, match="key"):
        services.import_configure(job=job, by=marketing, mapping=job.mapping, key="external_id")


def test_rerun_of_the_same_file_changes_nothing(marketing):
    run(marketing, GERMAN)
    before = list(Person.objects.order_by("pk").values())
    again = run(marketing, GERMAN)
    assert again.counts == {"unchanged": 2}
    assert list(Person.objects.order_by("pk").values()) == before
    assert not ImportChange.objects.filter(job=again).exists()


def test_rerun_without_identifiers_changes_nothing(marketing):
    text = "Vorname;Nachname;PLZ\nKarl;Berg;10115\n"
    run(marketing, text, mode="insert")
    again = run(marketing, text, mode="insert")
    assert again.counts == {"unchanged": 1}
    assert Person.objects.count() == 1


def test_update_by_key_overwrites_and_insert_only_leaves_alone(marketing):
    run(marketing, GERMAN)
    changed = GERMAN.replace("Ringstraße 5", "Neue Straße 9")
    insert = run(marketing, changed, mode="insert")
    assert insert.counts == {"existing": 2}
    assert Person.objects.get(email="anna@example.de").street == "Ringstraße 5"
    update = run(marketing, changed)
    assert update.counts == {"unchanged": 1, "updated": 1}
    assert Person.objects.get(email="anna@example.de").street == "Neue Straße 9"
    change = ImportChange.objects.get(job=update)
    assert change.action == "u" and change.previous == {"street": "Ringstraße 5"}


def test_sure_match_by_other_identifier_only_fills_gaps(marketing):
    contact_services.person_create(
        by=marketing, data={"first_name": "Anna", "last_name": "Schmidt", "phone": "0351 1234567", "city": "Dresden"}
    )
    job = run(marketing, "Vorname;Nachname;Telefon;Ort;E-Mail\nAnna;Schmidt;0351 1234567;Leipzig;a@example.de\n")
    assert job.counts == {"merged": 1}
    person = Person.objects.get()
    assert person.city == "Dresden" and person.email == "a@example.de"


def test_probable_duplicate_is_created_and_flagged(marketing):
    existing = contact_services.person_create(
        by=marketing, data={"first_name": "Johannes", "last_name": "Schneider", "postcode": "10115"}
    ).person
    job = run(marketing, "Vorname;Nachname;PLZ;E-Mail\nJohannes;Schneider;10115;js@example.de\n")
    assert job.counts == {"created": 1, "flagged": 1}
    assert Person.objects.get(email="js@example.de").duplicate_of == existing


def test_two_rows_of_one_file_make_one_person(marketing, settings):
    text = "Vorname;Nachname;E-Mail;Telefon\nLea;Wolf;lea@example.de;\nLea;Wolf;LEA@example.de;030 1234567\n"
    job = run(marketing, text)
    assert job.counts == {"created": 1, "merged": 1}
    assert Person.objects.get().phone == "+49301234567"
    settings.IMPORT_CHUNK_ROWS = 1  # the second row in its own chunk: matched against the stored first one
    Person.objects.all().delete()
    job = run(marketing, text.replace("lea@", "lea2@").replace("LEA@", "LEA2@"))
    assert Person.objects.count() == 1 and job.counts["created"] == 1


def test_suppressed_contact_is_stored_suppressed(marketing, admin):
    contact_services.suppression_add(by=admin, kind="email", value="anna@example.de", reason="objection")
    run(marketing, GERMAN)
    assert Person.objects.get(email="anna@example.de").suppressed_reason == "objection"
    assert Person.objects.get(email="juergen.mueller@example.de").suppressed_reason == ""
    assert Suppression.objects.count() == 1


def test_bad_rows_are_rejected_with_reasons_and_downloadable(marketing):
    text = "Vorname;Nachname;E-Mail;Geburtsjahr\nA;;a@example.de;\nB;Berg;b@example.de;1850\nC;Cramer;c@example.de;\n"
    job = run(marketing, text)
    assert job.counts == {"created": 1, "rejected": 2}
    rejections = list(ImportRejection.objects.filter(job=job).values_list("row_number", "column", "message"))
    assert rejections[0][:2] == (2, "Nachname") and rejections[1][:2] == (3, "Geburtsjahr")
    header, rows = services.rejected_rows(job)
    rows = list(rows)
    assert header[:4] == ["Vorname", "Nachname", "E-Mail", "Geburtsjahr"]
    assert rows[0][:3] == ["A", "", "a@example.de"] and rows[0][4] == 2


def test_all_or_nothing_writes_nothing_when_a_row_is_bad(marketing):
    job = upload(marketing, "Vorname;Nachname;E-Mail\nA;;a@example.de\nC;Cramer;c@example.de\n")
    services.import_configure(job=job, by=marketing, mapping=job.mapping, all_or_nothing=True)
    with tasks_run():
        services.import_start(job=job, by=marketing)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.counts == {"rejected": 1}
    assert not Person.objects.exists()


def test_dry_run_summarises_without_writing(marketing):
    contact_services.person_create(by=marketing, data={"last_name": "Schmidt", "email": "anna@example.de"})
    job = upload(marketing, GERMAN + "Herr;Z;Zett;kaputt@;;;;;\n;;;;;;;;\nFrau;Y;;y@example.de;;;;;\n")
    services.import_configure(job=job, by=marketing, mapping=job.mapping)
    summary = services.import_validate(job=job, by=marketing)
    assert summary["counts"] == {"created": 2, "updated": 1, "rejected": 1, "quality": 1}  # kaputt@
    assert summary["rejections"][0][:2] == [6, "Nachname"]
    assert Person.objects.count() == 1


def test_crash_after_a_chunk_then_resume_imports_each_row_once(marketing, settings, monkeypatch):
    settings.IMPORT_CHUNK_ROWS = 2
    after_crash, job = crash_in_third_chunk_then_resume(marketing, monkeypatch)
    assert after_crash == (ImportJob.Status.FAILED, 4, 4)  # two whole chunks, nothing of the third
    assert job.status == ImportJob.Status.DONE and job.rows_done == 7
    assert job.counts == {"created": 7}
    assert Person.objects.count() == 7
    assert Person.objects.values("email").distinct().count() == 7


def test_cancel_stops_after_the_current_chunk(marketing, settings, monkeypatch):
    settings.IMPORT_CHUNK_ROWS = 1
    job = upload(marketing, "Nachname\nA\nB\nC\n")
    services.import_configure(job=job, by=marketing, mapping=job.mapping, mode="insert")
    from leadwerk.imports.targets.person import PersonLoader

    real = PersonLoader.process

    def cancel_during_first(self, rows, first_row, *, write):
        result = real(self, rows, first_row, write=write)
        ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)
        return result

    monkeypatch.setattr(PersonLoader, "process", cancel_during_first)
    with tasks_run():
        services.import_start(job=job, by=marketing)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED and job.rows_done == 1
    assert Person.objects.count() == 1


def test_undo_deletes_created_and_restores_updated(marketing):
    data = {"last_name": "Schmidt", "email": "anna@example.de"}
    kept = contact_services.person_create(by=marketing, data=data).person
    job = run(marketing, GERMAN)
    assert job.counts == {"created": 1, "updated": 1}
    with tasks_run():
        services.import_undo(job=job, by=marketing)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDONE
    assert job.undo_report["deleted"] == 1 and job.undo_report["restored"] == 1
    assert list(Person.objects.values_list("pk", flat=True)) == [kept.pk]
    kept.refresh_from_db()
    assert kept.street == "" and kept.postcode == ""


def test_undo_leaves_records_changed_since_and_reports_them(marketing):
    job = run(marketing, GERMAN)
    anna = Person.objects.get(email="anna@example.de")
    contact_services.person_update(person=anna, by=marketing, data={"city": "Leipzig"})
    with tasks_run():
        services.import_undo(job=job, by=marketing)
    job.refresh_from_db()
    assert job.undo_report["deleted"] == 1 and job.undo_report["conflicts"] == 1
    assert job.undo_report["conflict_sample"] == [[anna.pk, "changed"]]
    assert Person.objects.get().pk == anna.pk


def test_template_is_reapplied_to_a_file_with_the_same_headers(marketing):
    text = "Kd-Nr;Zuname;Mail\n1;Berg;b@example.de\n"
    job = upload(marketing, text)
    mapping = {"Kd-Nr": "external_id", "Zuname": "last_name", "Mail": "email"}
    services.template_save(
        by=marketing, name="CRM export", headers=job.headers, mapping=mapping, options={"key": "external_id"}
    )
    again = upload(marketing, text)
    assert again.mapping == mapping and again.key == "external_id"
    assert again.validation == {"template": "CRM export"}


def test_audit_trail_is_one_entry_per_event(marketing):
    from leadwerk.accounts.models import AuditEntry

    job = run(marketing, GERMAN)
    events = list(
        AuditEntry.objects.filter(content_type__model="importjob", object_pk=str(job.pk)).values_list(
            "object_repr", flat=True
        )
    )
    assert sorted(events) == sorted([f"Import people.csv: {e}" for e in ("start", "finish")])
    assert not AuditEntry.objects.filter(content_type__model="person").exists()


def test_expired_jobs_are_purged_with_their_file(marketing, settings):
    from datetime import timedelta

    from django.utils import timezone

    from leadwerk.imports import parsing

    job = run(marketing, GERMAN)
    path = parsing.stored_path(job.stored_file)
    assert path.exists()
    with tasks_run():
        assert services.imports_purge_expired(now=timezone.now() + timedelta(days=settings.IMPORT_KEEP_DAYS + 1)) == 1
    assert not ImportJob.objects.exists() and not path.exists()
    assert Person.objects.count() == 2
