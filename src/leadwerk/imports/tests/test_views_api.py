"""The import screens and API: the whole flow, errors as form errors or 422s, and 404 outside tenant and role."""

from __future__ import annotations

import json

import pytest
from conftest import bearer, login
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leadwerk.contacts.models import Person
from leadwerk.imports.models import ImportJob, ImportTemplate

from .helpers import run, tasks_run, upload

pytestmark = pytest.mark.django_db

CSV = "Vorname;Nachname;E-Mail\nAnna;Schmidt;anna@example.de\nB;;b@example.de\n"


def _url(name, tenant, *args):
    return reverse(f"imports:{name}", args=[tenant.slug, *args])


def test_empty_state_and_navigation(client, marketing, tenant):
    response = login(client, marketing).get(_url("list", tenant))
    assert response.status_code == 200
    assert "No imports yet" in response.text
    assert _url("list", tenant) in response.text


def test_upload_map_check_run_and_result_in_the_browser(client, marketing, tenant):
    login(client, marketing)
    response = client.post(_url("upload", tenant), {"file": SimpleUploadedFile("p.csv", CSV.encode())})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == _url("detail", tenant, job.pk)
    page = client.get(response.url)
    assert "Anna" in page.text and 'value="last_name" selected' in page.text
    form = {"mode": "update", "key": "email", "map_0": "first_name", "map_1": "last_name", "map_2": "email"}
    checked = client.post(_url("action", tenant, job.pk, "validate"), form)
    assert checked.status_code == 200 and "would be rejected" in checked.text and "Line 3" in checked.text
    with tasks_run():
        started = client.post(_url("action", tenant, job.pk, "start"), form)
    assert started.status_code == 302
    result = client.get(_url("detail", tenant, job.pk))
    assert "Done" in result.text and "Download as CSV" in result.text
    partial = client.get(_url("detail", tenant, job.pk), headers={"HX-Request": "true"})
    assert 'id="import-progress"' in partial.text and "<html" not in partial.text
    download = client.get(_url("rejected", tenant, job.pk))
    body = b"".join(download.streaming_content).decode()
    assert body.startswith("\ufeffVorname;Nachname;E-Mail;Line;Column;Reason")
    assert "B;;b@example.de;3;Nachname;" in body
    assert Person.objects.filter(tenant=tenant).count() == 1
    with tasks_run():
        client.post(_url("action", tenant, job.pk, "undo"))
    assert not Person.objects.exists()


def test_mapping_errors_are_field_errors(client, marketing, tenant):
    job = upload(marketing, CSV)
    login(client, marketing)
    form = {"mode": "update", "key": "email", "map_0": "last_name", "map_1": "last_name", "map_2": "email"}
    response = client.post(_url("action", tenant, job.pk, "start"), form)
    assert response.status_code == 422 and "both mapped" in response.text
    form = {"mode": "insert", "key": "email", "map_0": "first_name", "map_1": "", "map_2": "email"}
    response = client.post(_url("action", tenant, job.pk, "validate"), form)
    assert response.status_code == 422 and "required field" in response.text
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UPLOADED


def test_file_errors_are_form_errors(client, marketing, tenant):
    login(client, marketing)
    response = client.post(_url("upload", tenant), {"file": SimpleUploadedFile("p.csv", b"Vorname;Nachname\n")})
    assert response.status_code == 422 and "no data rows" in response.text
    assert not ImportJob.objects.exists()


def test_template_saved_from_the_mapping_screen(client, marketing, tenant):
    job = upload(marketing, CSV)
    form = {"mode": "update", "key": "email", "map_0": "first_name", "map_1": "last_name", "map_2": "email",
            "template_name": "Messe"}  # fmt: skip
    login(client, marketing).post(_url("action", tenant, job.pk, "template"), form)
    assert ImportTemplate.objects.get().name == "Messe"


@pytest.mark.parametrize("who", ["outsider", "manager", "agent", "sales", "partner_user", "privacy"])
def test_other_tenants_and_roles_get_404_everywhere(client, request, marketing, tenant, who):
    job = run(marketing, CSV)
    member = request.getfixturevalue(who)
    login(client, member)
    urls = [_url("detail", tenant, job.pk), _url("rejected", tenant, job.pk), _url("list", tenant)]
    for url in urls:
        assert client.get(url).status_code == 404, url
    for action in ("undo", "cancel", "resume", "delete", "start"):
        assert client.post(_url("action", tenant, job.pk, action)).status_code == 404
    headers = bearer(member)
    for path in ("", "/rejected"):
        assert client.get(f"/api/v1/imports/{job.pk}{path}", headers=headers).status_code == 404
    for path in ("/undo", "/run", "/cancel", "/resume", "/validate"):
        assert client.post(f"/api/v1/imports/{job.pk}{path}", headers=headers).status_code == 404
    assert client.get("/api/v1/imports", headers=headers).json() == []
    assert client.get("/api/v1/import-templates", headers=headers).json() == []
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE


def test_api_upload_with_options_and_run(client, marketing):
    headers = bearer(marketing)
    options = {"mapping": {"Vorname": "first_name", "Nachname": "last_name", "E-Mail": "email"}, "run": True}
    with tasks_run():
        response = client.post(
            "/api/v1/imports",
            {"file": SimpleUploadedFile("p.csv", CSV.encode()), "options": json.dumps(options)},
            headers=headers,
        )
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    status = client.get(f"/api/v1/imports/{job_id}", headers=headers).json()
    assert status["status"] == "done" and status["progress"] == 100
    assert status["counts"] == {"created": 1, "rejected": 1}
    rejected = client.get(f"/api/v1/imports/{job_id}/rejected", headers=headers)
    assert b"".join(rejected.streaming_content).decode().count("\n") == 2
    with tasks_run():
        undone = client.post(f"/api/v1/imports/{job_id}/undo", headers=headers)
    assert undone.status_code == 202
    assert client.get(f"/api/v1/imports/{job_id}", headers=headers).json()["status"] == "undone"


def test_api_upload_then_mapping_then_run(client, marketing):
    headers = bearer(marketing)
    response = client.post("/api/v1/imports", {"file": SimpleUploadedFile("p.csv", CSV.encode())}, headers=headers)
    job = response.json()
    assert job["status"] == "uploaded" and job["mapping"]["Nachname"] == "last_name"
    bad = client.put(
        f"/api/v1/imports/{job['id']}/mapping",
        {"mapping": {"Vorname": "last_name", "Nachname": "last_name"}},
        content_type="application/json",
        headers=headers,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "map.Nachname"
    good = client.put(
        f"/api/v1/imports/{job['id']}/mapping",
        {"mapping": job["mapping"], "mode": "insert"},
        content_type="application/json",
        headers=headers,
    )
    assert good.status_code == 200 and good.json()["mode"] == "insert"
    summary = client.post(f"/api/v1/imports/{job['id']}/validate", headers=headers).json()
    assert summary["counts"] == {"created": 1, "rejected": 1}
    with tasks_run():
        assert client.post(f"/api/v1/imports/{job['id']}/run", headers=headers).status_code == 202
    assert Person.objects.count() == 1


def test_api_bad_file_is_422(client, marketing):
    response = client.post("/api/v1/imports", {"file": SimpleUploadedFile("p.csv", b"")}, headers=bearer(marketing))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "file"


def test_api_templates(client, marketing):
    headers = bearer(marketing)
    payload = {"name": "CRM", "headers": ["Name", "Mail"], "mapping": {"Name": "last_name", "Mail": "email"}}
    created = client.post("/api/v1/import-templates", payload, content_type="application/json", headers=headers)
    assert created.status_code == 201
    assert [t["name"] for t in client.get("/api/v1/import-templates", headers=headers).json()] == ["CRM"]
