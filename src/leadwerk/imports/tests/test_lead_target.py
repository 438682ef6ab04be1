"""Lead files through the import pipeline: capture semantics, history from other systems, re-runs, undo."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from tests.factories import MembershipFactory

from leadwerk.accounts.roles import Role
from leadwerk.contacts.models import Person
from leadwerk.core.exceptions import ValidationFailed
from leadwerk.imports import services
from leadwerk.imports.models import ImportChange, ImportJob, ImportRejection
from leadwerk.leads.models import Activity, InterestCategory, Lead, LeadEvent, LeadReason, Notification
from leadwerk.leads.models import QualificationQuestion as Question

from .helpers import tasks_run

pytestmark = pytest.mark.django_db

SALESFORCE = (
    "Lead ID,First Name,Last Name,Email,Company,Lead Source,Lead Status,Created Date,Close Date,Amount,"
    "Lead Owner,Lost Reason,Product Interest\n"
    "00Q1,Jonas,Wagner,jonas@example.de,Wagner GmbH,Web,Closed - Converted,03/15/2024,04/20/2024,45000,"
    "Sven Seller,,e-suv\n"
    "00Q2,Mia,Becker,mia@example.de,,Trade Show,Closed - Not Converted,02/01/2024,02/28/2024,12000,"
    "sven@nordstern.test,Zu teuer,e-suv\n"
    "00Q3,Paul,Schulz,paul@example.de,,Web,Working - Contacted,05/02/2024,12/31/2099,,,,Kombi\n"
)
GERMAN = (
    "Vorname;Nachname;E-Mail;PLZ;Phase;Erstellt am;Abschlussdatum;Betrag;Besitzer;Verlustgrund;Quelle;Interesse;"
    "Flottengröße\n"
    "Anna;Schmidt;anna@example.de;01067;Gewonnen;15.01.2024;01.03.2024;1.234,50;sven@nordstern.test;;Messe;"
    "Elektro-SUV;12\n"
    "Karl;Meier;karl@example.de;80331;Verloren;10.02.2024 09:30;20.02.2024;;Sven Seller;Kein Budget;Website;;3\n"
    "Eva;Klein;eva@example.de;20095;In Bearbeitung;01.06.2024;;;;;Telefon;e-suv;\n"
)


@pytest.fixture
def interests(tenant):
    return [
        InterestCategory.objects.create(tenant=tenant, name="Elektro-SUV", key="e-suv"),
        InterestCategory.objects.create(tenant=tenant, name="Kombi", key="kombi"),
    ]


@pytest.fixture
def seller(tenant):
    return MembershipFactory(
        tenant=tenant, role=Role.SALES, user__email="sven@nordstern.test", user__full_name="Sven Seller"
    )


@pytest.fixture
def lost_reason(tenant):
    return LeadReason.objects.create(tenant=tenant, kind="lost", label="Zu teuer")


def upload(by, text: str, name: str = "leads.csv"):
    data = SimpleUploadedFile(name, text.encode())
    return services.import_upload(by=by, upload=data, name=name, target="lead")


def run(by, text: str, *, options=None, mapping=None, all_or_nothing=False, mode="update") -> ImportJob:
    job = upload(by, text)
    services.import_configure(
        job=job, by=by, mapping=mapping or job.mapping, mode=mode, key="email", all_or_nothing=all_or_nothing,
        options=job.options if options is None else options,
    )  # fmt: skip
    with tasks_run():
        services.import_start(job=job, by=by)
    job.refresh_from_db()
    return job


def test_salesforce_headers_are_suggested_and_history_mode_ticked(admin, interests):
    job = upload(admin, SALESFORCE)
    assert job.target == "lead"
    assert job.mapping["Lead Status"] == "lead.status"
    assert job.mapping["Created Date"] == "lead.captured_at"
    assert job.mapping["Close Date"] == "lead.closed_at"
    assert job.mapping["Amount"] == "lead.estimated_value"
    assert job.mapping["Lead Owner"] == "lead.owner"
    assert job.mapping["Lost Reason"] == "lead.reason"
    assert job.mapping["Lead Source"] == "lead.source"
    assert job.mapping["Lead ID"] == "lead.external_id"
    assert job.mapping["Product Interest"] == "lead.interest"
    assert job.mapping["Email"] == "email" and job.mapping["Company"] == "organization_name"
    assert job.options == {"history": True, "create_reasons": False, "keep_columns": True}


def test_german_headers_are_suggested(admin, interests):
    job = upload(admin, GERMAN)
    assert job.mapping["Phase"] == "lead.status"
    assert job.mapping["Erstellt am"] == "lead.captured_at"
    assert job.mapping["Abschlussdatum"] == "lead.closed_at"
    assert job.mapping["Betrag"] == "lead.estimated_value"
    assert job.mapping["Besitzer"] == "lead.owner"
    assert job.mapping["Verlustgrund"] == "lead.reason"
    assert job.mapping["Quelle"] == "lead.source"
    assert job.mapping["Flottengröße"] == ""


def test_history_columns_need_history_mode(admin, interests):
    job = upload(admin, SALESFORCE)
    with pytest.raises(ValidationFailed) as error:
        services.import_configure(job=job, by=admin, mapping=job.mapping, options={"history": False})
    assert error.value.field == "history"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UPLOADED and job.options["history"] is True


def test_salesforce_history_is_written_with_its_past(admin, interests, seller, lost_reason):
    job = run(admin, SALESFORCE)
    assert job.status == ImportJob.Status.DONE, job.message
    assert job.counts == {"created": 3, "people_created": 3}
    tz = timezone.get_current_timezone()
    won = Lead.objects.get(person__email="jonas@example.de")
    assert won.status == "won" and won.owner == seller and won.team_id == seller.team_id
    assert won.won_value == Decimal("45000.00") and won.estimated_value == Decimal("45000.00")
    assert won.captured_at.astimezone(tz).date() == dt.date(2024, 3, 15)
    assert won.won_at.astimezone(tz).date() == dt.date(2024, 4, 20) and won.closed_at == won.won_at
    assert won.interest == interests[0] and won.source == "Web" and won.channel == "import"
    assert won.organization.name == "Wagner GmbH"
    assert won.source_details["external_id"] == "00Q1"
    events = {e.kind: e for e in won.events.all()}
    assert events["created"].at == won.captured_at
    assert events["status"].at == won.won_at and events["status"].after == {"status": "won", "imported": True}
    assert events["assignment"].after["owner"] == seller.pk and events["assignment"].at == won.captured_at
    assert all(e.actor_id is None for e in events.values())
    lost = Lead.objects.get(person__email="mia@example.de")
    assert lost.status == "lost" and lost.lost_reason == lost_reason and lost.closed_at is not None
    open_lead = Lead.objects.get(person__email="paul@example.de")
    # An open opportunity's close date is a forecast: kept out of the history, never a rejection.
    assert open_lead.status == "qualifying" and open_lead.closed_at is None and open_lead.interest == interests[1]
    assert open_lead.events.get(kind="status").at == open_lead.captured_at


def test_imported_history_triggers_nothing(admin, interests, seller, lost_reason, mailoutbox):
    run(admin, SALESFORCE)
    assert Notification.objects.count() == 0
    assert mailoutbox == []
    for lead in Lead.objects.all():
        assert lead.sla_due_at is None and lead.routing_rule_id is None
        assert lead.sla_first_contact_due is None and lead.sla_accept_due is None
        assert not lead.events.filter(kind__in=["sla", "score"]).exists()


def test_german_excel_file_with_history(admin, interests, seller):
    job = upload(admin, GERMAN)
    services.import_configure(
        job=job, by=admin, mapping=job.mapping,
        options={"history": True, "create_reasons": True, "keep_columns": True},
    )  # fmt: skip
    with tasks_run():
        services.import_start(job=job, by=admin)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.message
    assert job.counts["created"] == 3 and job.counts["reasons_created"] == 1
    anna = Lead.objects.get(person__email="anna@example.de")
    assert anna.status == "won" and anna.won_value == Decimal("1234.50") and anna.interest == interests[0]
    assert anna.attributes == {"Flottengröße": "12"}
    karl = Lead.objects.get(person__email="karl@example.de")
    assert karl.lost_reason.label == "Kein Budget" and karl.lost_reason.kind == "lost"
    assert karl.owner == seller  # by full name
    tz = timezone.get_current_timezone()
    assert karl.captured_at.astimezone(tz) == dt.datetime(2024, 2, 10, 9, 30, tzinfo=tz)
    eva = Lead.objects.get(person__email="eva@example.de")
    assert eva.status == "in_progress" and eva.source == "Telefon"


def test_bad_rows_are_rejected_with_reasons_and_good_rows_kept(admin, interests, seller, lost_reason):
    future = (timezone.localdate() + dt.timedelta(days=30)).strftime("%d.%m.%Y")
    text = (
        "Nachname;E-Mail;Status;Erstellt am;Betrag;Besitzer;Verlustgrund\n"
        "Gut;gut@example.de;Gewonnen;01.02.2024;500;sven@nordstern.test;\n"
        "Status;s@example.de;Vielleicht;01.02.2024;;;\n"
        "Owner;o@example.de;Neu;01.02.2024;;nobody@example.de;\n"
        f"Zukunft;z@example.de;Neu;{future};;;\n"
        "Betrag;b@example.de;Neu;01.02.2024;zwölf;;\n"
        "Grund;g@example.de;Verloren;01.02.2024;;;Unbekannter Grund\n"
        "Ohne;x@example.de;Verloren;01.02.2024;;;\n"
    )
    job = run(admin, text)
    assert job.status == ImportJob.Status.DONE
    assert job.counts == {"created": 1, "people_created": 1, "rejected": 6}
    reasons = {r.row_number: (r.column, r.message) for r in ImportRejection.objects.filter(job=job)}
    assert reasons[3][0] == "Status" and "Vielleicht" in reasons[3][1]
    assert reasons[4][0] == "Besitzer" and "nobody@example.de" in reasons[4][1]
    assert reasons[5][0] == "Erstellt am" and "future" in reasons[5][1]
    assert reasons[6][0] == "Betrag" and "amount" in reasons[6][1]
    assert reasons[7][0] == "Verlustgrund" and "create missing reasons" in reasons[7][1]
    assert reasons[8][0] == "Verlustgrund" and "needs a reason" in reasons[8][1]
    # A rejected row creates no person either.
    assert list(Person.objects.values_list("last_name", flat=True)) == ["Gut"]
    assert not LeadReason.objects.filter(label="Unbekannter Grund").exists()


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(admin, interests):
    text = (
        "Nachname;E-Mail;Status;Erstellt am\nGut;gut@example.de;Neu;01.02.2024\nBad;b@example.de;Quatsch;01.02.2024\n"
    )
    job = run(admin, text, all_or_nothing=True)
    assert job.status == ImportJob.Status.FAILED
    assert Lead.objects.count() == 0 and Person.objects.count() == 0
    assert ImportRejection.objects.filter(job=job).count() == 1


def test_rerun_of_the_same_file_creates_no_duplicates(admin, interests, seller, lost_reason):
    run(admin, SALESFORCE)
    events = LeadEvent.objects.count()
    again = run(admin, SALESFORCE)
    assert again.counts == {"unchanged": 3, "people_unchanged": 3}
    assert Lead.objects.count() == 3 and Person.objects.count() == 3
    assert LeadEvent.objects.count() == events and Activity.objects.count() == 0


def test_lead_file_captures_and_joins_the_open_lead(admin, interests):
    text = (
        "Nachname;E-Mail;Interesse;Betreff;Nachricht\n"
        "Wagner;jonas@example.de;e-suv;Probefahrt;Bitte anrufen\n"
        "Wagner;jonas@example.de;e-suv;Preisfrage;Was kostet er?\n"
        "Becker;mia@example.de;kombi;;\n"
    )
    job = run(admin, text)
    assert job.options == {"history": False, "create_reasons": False, "keep_columns": False}
    assert job.counts == {"created": 2, "responses": 1, "people_created": 2, "people_merged": 1}
    lead = Lead.objects.get(person__email="jonas@example.de")
    assert lead.status == "new" and lead.channel == "import" and lead.title == "Probefahrt"
    assert lead.activities.get(kind="response").note == "Was kostet er?"
    assert lead.events.filter(kind="created").get().actor == admin
    # the same file again: nothing new, not even a response
    again = run(admin, text)
    assert again.counts["unchanged"] == 3
    assert Lead.objects.count() == 2 and Activity.objects.count() == 1


def test_qualification_answers_are_typed_and_checked(admin, interests):
    Question.objects.create(tenant=admin.tenant, key="standorte", label="Anzahl Standorte", kind="number")
    Question.objects.create(
        tenant=admin.tenant, key="anbieter", label="Bestehender Anbieter", kind="choice",
        choices=["Keiner", "Wettbewerb"],
    )  # fmt: skip
    text = "Nachname;E-Mail;Anzahl Standorte;Bestehender Anbieter\nA;a@example.de;3;keiner\nB;b@example.de;drei;\n"
    job = run(admin, text)
    assert job.mapping["Anzahl Standorte"] == "question.standorte"
    assert job.counts["created"] == 1 and job.counts["rejected"] == 1
    assert Lead.objects.get().qualification == {"standorte": 3, "anbieter": "Keiner"}
    assert ImportRejection.objects.get(job=job).column == "Anzahl Standorte"


def test_dry_run_writes_nothing(admin, interests, seller, lost_reason):
    job = upload(admin, SALESFORCE)
    services.import_configure(job=job, by=admin, mapping=job.mapping, options=job.options)
    summary = services.import_validate(job=job, by=admin)
    assert summary["counts"] == {"created": 3, "people_created": 3}
    assert Lead.objects.count() == 0 and Person.objects.count() == 0


def test_undo_deletes_the_leads_and_people_it_created(admin, interests, seller, lost_reason):
    job = run(admin, SALESFORCE)
    worked = Lead.objects.get(person__email="paul@example.de")
    from leadwerk.leads import services as lead_services

    lead_services.activity_log(lead=worked, by=admin, kind="call", outcome="reached")
    with tasks_run():
        services.import_undo(job=job, by=admin)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDONE
    assert list(Lead.objects.values_list("person__email", flat=True)) == ["paul@example.de"]
    assert sorted(Person.objects.values_list("email", flat=True)) == ["paul@example.de"]
    assert job.undo_report["deleted"] == 4 and job.undo_report["conflicts"] == 2  # lead and person of Paul


def test_undo_of_a_response_removes_it_and_keeps_the_lead(admin, interests):
    first = run(admin, "Nachname;E-Mail;Interesse\nWagner;jonas@example.de;e-suv\n")
    second = run(admin, "Nachname;E-Mail;Interesse;Nachricht\nWagner;jonas@example.de;e-suv;Noch eine Frage\n")
    assert second.counts["responses"] == 1
    assert ImportChange.objects.filter(job=second, action="r").count() == 1
    with tasks_run():
        services.import_undo(job=second, by=admin)
    lead = Lead.objects.get()
    assert not lead.activities.exists() and not lead.events.filter(kind="response").exists()
    assert lead.source_details["import_keys"] and len(lead.source_details["import_keys"]) == 1
    assert first.counts["created"] == 1


def test_roles_without_import_rights_cannot_upload_lead_files(sales, agent):
    for member in (sales, agent):
        with pytest.raises(services.NotAllowed):
            upload(member, SALESFORCE)


def test_another_tenants_import_is_not_found(client, admin, outsider, interests):
    from conftest import bearer

    job = upload(admin, SALESFORCE)
    response = client.get(f"/api/v1/imports/{job.pk}", headers=bearer(outsider))
    assert response.status_code == 404


def test_a_saved_template_brings_back_the_lead_options(admin, interests):
    job = upload(admin, SALESFORCE)
    options = {"history": True, "create_reasons": True, "keep_columns": False}
    services.import_configure(job=job, by=admin, mapping=job.mapping, options=options)
    services.template_save(
        by=admin, name="Salesforce", headers=job.headers, mapping=job.mapping, target="lead",
        options={"mode": "update", "key": "email", "target_options": options},
    )  # fmt: skip
    again = upload(admin, SALESFORCE)
    assert again.validation == {"template": "Salesforce"} and again.options == options
