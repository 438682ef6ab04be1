"""API of the marketing database: same services, walls and error shape as the rest of the API."""

from __future__ import annotations

import pytest
from conftest import bearer
from tests.factories import OrganizationFactory, PersonFactory

from leadwerk.accounts.roles import Role
from leadwerk.contacts import services
from leadwerk.contacts.models import Person


def post(client, url, data, member):
    return client.post(url, data, content_type="application/json", headers=bearer(member))


def test_create_normalises_and_reports_matches(client, marketing):
    body = post(client, "/api/v1/people", {"last_name": "KRAUSE", "email": " Krause@Example.DE"}, marketing)
    assert body.status_code == 201
    assert body.json()["person"]["email"] == "krause@example.de" and body.json()["created"] is True
    again = post(
        client, "/api/v1/people", {"last_name": "Krause", "email": "krause@example.de", "city": "Ulm"}, marketing
    )
    assert again.status_code == 200
    assert again.json()["created"] is False and again.json()["match_reason"] == "email"
    assert again.json()["person"]["city"] == "Ulm"
    assert Person.objects.count() == 1


def test_missing_last_name_is_422_with_field(client, marketing):
    response = post(client, "/api/v1/people", {"first_name": "Anna"}, marketing)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "last_name"


def test_upsert_by_external_id_updates_then_creates(client, marketing):
    first = post(
        client, "/api/v1/people/upsert?key=external_id", {"last_name": "Vogel", "external_id": "ERP-1"}, marketing
    )
    assert first.status_code == 201
    second = post(
        client,
        "/api/v1/people/upsert?key=external_id",
        {"last_name": "Vogel", "external_id": "ERP-1", "city": "Jena"},
        marketing,
    )
    assert second.status_code == 200 and second.json()["person"]["city"] == "Jena"
    assert Person.objects.count() == 1
    bad = post(client, "/api/v1/people/upsert?key=name", {"last_name": "Vogel"}, marketing)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "key"


def test_list_is_cursor_paginated_and_filtered(client, marketing, tenant):
    for i in range(7):
        PersonFactory(tenant=tenant, last_name=f"N{i}", last_name_key=f"n{i}")
    page = client.get("/api/v1/people", {"limit": 5}, headers=bearer(marketing)).json()
    assert [p["last_name"] for p in page["items"]] == ["N0", "N1", "N2", "N3", "N4"]
    rest = client.get("/api/v1/people", {"limit": 5, "cursor": page["next_cursor"]}, headers=bearer(marketing)).json()
    assert [p["last_name"] for p in rest["items"]] == ["N5", "N6"] and rest["next_cursor"] is None
    found = client.get("/api/v1/people", {"q": "n3"}, headers=bearer(marketing)).json()
    assert [p["last_name"] for p in found["items"]] == ["N3"]


def test_patch_consent_and_delete(client, marketing):
    pid = post(client, "/api/v1/people", {"last_name": "Haas"}, marketing).json()["person"]["id"]
    headers = bearer(marketing)
    response = client.patch(
        f"/api/v1/people/{pid}",
        {"phone": "0221 123456", "tags": ["Messe"]},
        content_type="application/json",
        headers=headers,
    )
    assert response.json()["phone"] == "+49221123456"
    consent = post(
        client,
        f"/api/v1/people/{pid}/consents",
        {"channel": "phone", "status": "granted", "source": "agent"},
        marketing,
    )
    assert consent.status_code == 201
    assert client.get(f"/api/v1/people/{pid}", headers=headers).json()["consent_phone"] == "granted"
    assert len(client.get(f"/api/v1/people/{pid}/consents", headers=headers).json()) == 1
    assert client.delete(f"/api/v1/people/{pid}", headers=headers).status_code == 204
    assert not Person.objects.exists()


def test_organisations_crud(client, marketing):
    created = post(
        client,
        "/api/v1/organizations",
        {"name": "Datenwerk GmbH", "vat_id": "DE123456789", "website": "datenwerk.de"},
        marketing,
    )
    assert created.status_code == 201 and created.json()["website"] == "https://datenwerk.de"
    oid = created.json()["id"]
    headers = bearer(marketing)
    patched = client.patch(
        f"/api/v1/organizations/{oid}", {"city": "leipzig"}, content_type="application/json", headers=headers
    )
    assert patched.json()["city"] == "Leipzig" and patched.json()["name"] == "Datenwerk GmbH"
    listed = client.get("/api/v1/organizations", {"q": "daten"}, headers=headers).json()
    assert [o["id"] for o in listed["items"]] == [oid]
    assert client.delete(f"/api/v1/organizations/{oid}", headers=headers).status_code == 204


def test_suppression_through_api(client, privacy, marketing):
    services.person_create(by=marketing, data={"last_name": "Z", "email": "z@example.de"})
    response = post(
        client, "/api/v1/suppressions", {"kind": "email", "value": "z@example.de", "reason": "bounce"}, privacy
    )
    assert response.status_code == 201
    assert Person.objects.get().suppressed_reason == "bounce"


def test_blocking_a_person_through_api(client, privacy, marketing, manager):
    person = services.person_create(
        by=marketing, data={"last_name": "Z", "email": "z@example.de", "mobile": "0151 23456789"}
    ).person
    url = f"/api/v1/people/{person.pk}/suppress"
    assert post(client, url, {"reason": "robinson"}, manager).status_code == 403  # reads people, handles no blocks
    bad = post(client, url, {"reason": "because"}, privacy)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "reason"
    response = post(client, url, {"reason": "objection", "note": "Brief vom 1.12."}, privacy)
    assert response.status_code == 200
    body = response.json()
    assert body["suppressed_reason"] == "objection" and sorted(e["kind"] for e in body["entries"]) == ["email", "phone"]
    assert Person.objects.get().suppressed_reason == "objection"


@pytest.fixture
def foreign(other_tenant):
    return {"person": PersonFactory(tenant=other_tenant), "organization": OrganizationFactory(tenant=other_tenant)}


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("get", "/api/v1/people/{person}", None),
        ("patch", "/api/v1/people/{person}", {"city": "X"}),
        ("delete", "/api/v1/people/{person}", None),
        ("get", "/api/v1/people/{person}/consents", None),
        ("post", "/api/v1/people/{person}/consents", {"channel": "email", "status": "granted"}),
        ("post", "/api/v1/people/{person}/suppress", {"reason": "objection"}),
        ("get", "/api/v1/organizations/{organization}", None),
        ("patch", "/api/v1/organizations/{organization}", {"city": "X"}),
        ("delete", "/api/v1/organizations/{organization}", None),
    ],
)
@pytest.mark.parametrize("caller", ["admin_here", "agent_here"])
def test_foreign_and_forbidden_objects_are_404(client, request, tenant, foreign, method, path, payload, caller):
    from tests.factories import MembershipFactory

    if caller == "admin_here":
        member = MembershipFactory(tenant=tenant, role=Role.ADMIN)
        objects = foreign  # another tenant's records
    else:
        member = MembershipFactory(tenant=tenant, role=Role.AGENT)
        objects = {"person": PersonFactory(tenant=tenant), "organization": OrganizationFactory(tenant=tenant)}
    url = path.format(person=objects["person"].pk, organization=objects["organization"].pk)
    kwargs = {"data": payload, "content_type": "application/json"} if payload is not None else {}
    assert getattr(client, method)(url, headers=bearer(member), **kwargs).status_code == 404
    assert Person.objects.filter(pk=objects["person"].pk).exists()


def test_agents_cannot_list_or_create_people(client, agent):
    assert client.get("/api/v1/people", headers=bearer(agent)).json()["items"] == []
    assert post(client, "/api/v1/people", {"last_name": "X"}, agent).status_code == 403
    assert not Person.objects.exists()


def test_bad_values_are_422_not_server_errors(client, marketing):
    pid = post(client, "/api/v1/people", {"last_name": "Adler", "external_id": "A-1"}, marketing).json()["person"]["id"]
    post(client, "/api/v1/people", {"last_name": "Bauer", "external_id": "B-1"}, marketing)
    headers = bearer(marketing)
    cases = [
        ("get", "/api/v1/people?consent=foo", None, "consent"),
        ("patch", f"/api/v1/people/{pid}", {"external_id": "B-1"}, "external_id"),
        ("patch", f"/api/v1/people/{pid}", {"salutation": "king"}, "salutation"),
        ("patch", f"/api/v1/people/{pid}", {"position": "x" * 500}, "position"),
        (
            "post",
            f"/api/v1/people/{pid}/consents",
            {"channel": "email", "status": "granted", "proof_ip": "nope"},
            "proof_ip",
        ),
        ("post", "/api/v1/organizations", {"name": "X", "employees": "lots"}, "employees"),
    ]
    for method, url, payload, field in cases:
        kwargs = {"data": payload, "content_type": "application/json"} if payload is not None else {}
        response = getattr(client, method)(url, headers=headers, **kwargs)
        assert response.status_code == 422, (url, payload, response.content)
        assert field in response.json()["errors"][0]["field"], (url, response.json())
    ok = client.patch(
        f"/api/v1/people/{pid}", {"use_organization_address": None}, content_type="application/json", headers=headers
    )
    assert ok.status_code == 200 and ok.json()["external_id"] == "A-1"


def test_organisation_parent_cycles_are_refused(client, marketing):
    a = post(client, "/api/v1/organizations", {"name": "A"}, marketing).json()["id"]
    b = post(client, "/api/v1/organizations", {"name": "B", "parent_id": a}, marketing).json()["id"]
    response = client.patch(
        f"/api/v1/organizations/{a}", {"parent_id": b}, content_type="application/json", headers=bearer(marketing)
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "parent_id"
