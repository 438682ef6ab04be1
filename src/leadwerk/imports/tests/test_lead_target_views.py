"""Lead files on the import screens and over the import API: target choice, lead options, 422s and walls."""

from __future__ import annotations

import json

import pytest
from conftest import bearer, login
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leadwerk.imports.models import ImportJob
from leadwerk.leads.models import InterestCategory, Lead, LeadReason

from .helpers import tasks_run

pytestmark = pytest.mark.django_db

CSV = (
    "Nachname;E-Mail;Status;Erstellt am;Verlustgrund;Interesse\n"
    "Schmidt;anna@example.de;Verloren;01.02.2024;Zu teuer;e-suv\n"
    "Meier;karl@example.de;Neu;03.02.2024;;e-suv\n"
)


@pytest.fixture
def interest(tenant):
    return InterestCategory.objects.create(tenant=tenant, name="Elektro-SUV", key="e-suv")


def _url(name, tenant, *args):
    return reverse(f"imports:{name}", args=[tenant.slug, *args])


def _form(job, **options):
    form = {"mode": "update", "key": "email"}
    for index, header in enumerate(job.headers):
        form[f"map_{index}"] = job.mapping[header]
    return form | {k: "on" for k, v in options.items() if v}


def test_lead_file_in_the_browser_with_history_options(client, marketing, tenant, interest):
    login(client, marketing)
    page = client.get(_url("list", tenant))
    assert 'name="target"' in page.text and 'value="lead"' in page.text
    response = client.post(
        _url("upload", tenant), {"target": "lead", "file": SimpleUploadedFile("l.csv", CSV.encode())}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.target == "lead"
    mapping = client.get(response.url)
    assert 'name="history"' in mapping.text and 'name="create_reasons"' in mapping.text
    assert 'value="lead.status" selected' in mapping.text
    # Without history mode the status column is refused, as a form error.
    refused = client.post(_url("action", tenant, job.pk, "validate"), _form(job))
    assert refused.status_code == 422 and "History from another system" in refused.text
    checked = client.post(_url("action", tenant, job.pk, "validate"), _form(job, history=True))
    assert checked.status_code == 200 and "would be rejected" in checked.text and "Zu teuer" in checked.text
    with tasks_run():
        started = client.post(_url("action", tenant, job.pk, "start"), _form(job, history=True, create_reasons=True))
    assert started.status_code == 302
    result = client.get(_url("detail", tenant, job.pk))
    assert "reasons created" in result.text and "people created" in result.text
    assert Lead.objects.get(person__email="anna@example.de").lost_reason.label == "Zu teuer"
    assert LeadReason.objects.filter(tenant=tenant, label="Zu teuer", kind="lost").count() == 1


def test_person_uploads_do_not_offer_lead_options(client, marketing, tenant):
    login(client, marketing)
    response = client.post(_url("upload", tenant), {"file": SimpleUploadedFile("p.csv", b"Nachname\nA\n")})
    assert 'name="history"' not in client.get(response.url).text
    assert ImportJob.objects.get().target == "person"


def test_unknown_target_is_a_form_error(client, marketing, tenant):
    login(client, marketing)
    response = client.post(_url("upload", tenant), {"target": "cars", "file": SimpleUploadedFile("l.csv", b"a\n1\n")})
    assert response.status_code == 422 and not ImportJob.objects.exists()


def test_api_lead_import_with_options_and_run(client, admin, tenant, interest):
    headers = bearer(admin)
    options = {"target": "lead", "options": {"history": True, "create_reasons": True}, "run": True}
    with tasks_run():
        response = client.post(
            "/api/v1/imports",
            {"file": SimpleUploadedFile("l.csv", CSV.encode()), "options": json.dumps(options)},
            headers=headers,
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["target"] == "lead" and body["options"] == {"history": True, "create_reasons": True,
                                                            "keep_columns": False}  # fmt: skip
    detail = client.get(f"/api/v1/imports/{body['id']}", headers=headers).json()
    assert detail["status"] == "done" and detail["counts"]["created"] == 2
    assert Lead.objects.filter(tenant=tenant).count() == 2


def test_api_history_columns_without_history_mode_are_a_422(client, admin, interest):
    options = {"target": "lead", "options": {"history": False}}
    response = client.post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile("l.csv", CSV.encode()), "options": json.dumps(options)},
        headers=bearer(admin),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "history"
    assert not Lead.objects.exists()


def test_lead_import_of_another_tenant_or_role_is_not_found(client, admin, outsider, sales, tenant, interest):
    from leadwerk.imports import services

    job = services.import_upload(
        by=admin, upload=SimpleUploadedFile("l.csv", CSV.encode()), name="l.csv", target="lead"
    )
    assert client.get(f"/api/v1/imports/{job.pk}", headers=bearer(outsider)).status_code == 404
    assert client.get(f"/api/v1/imports/{job.pk}", headers=bearer(sales)).status_code == 404
    login(client, outsider)
    assert client.get(_url("detail", tenant, job.pk)).status_code == 404
    login(client, sales)
    assert client.get(_url("detail", tenant, job.pk)).status_code == 404
