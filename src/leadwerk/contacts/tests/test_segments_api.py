"""Segments through the API: CRUD, counts with exclusions, members, snapshots, 422 shapes, 404 walls."""

from __future__ import annotations

import pytest
from conftest import bearer
from tests.factories import PersonFactory

from leadwerk.accounts.roles import Role
from leadwerk.contacts import segment_services as services
from leadwerk.contacts.models import Segment, SegmentMember

BAVARIA = {"op": "and", "children": [{"field": "postcode", "operator": "between", "value": ["80000", "81999"]}]}


@pytest.fixture
def people(tenant):
    rows = (
        ("Adler", "80331", "granted", ""),
        ("Berger", "81999", "granted", "bounce"),
        ("Dorn", "20095", "granted", ""),
    )
    return [
        PersonFactory(
            tenant=tenant, last_name=n, last_name_key=n.lower(), postcode=code, consent_email=consent,
            suppressed_reason=reason,
        )
        for n, code, consent, reason in rows
    ]  # fmt: skip


@pytest.fixture
def segment(marketing, people):
    return services.segment_create(by=marketing, name="Bayern", definition=BAVARIA, channel="email")


def send(client, method, url, member, data=None):
    return getattr(client, method)(url, data, content_type="application/json", headers=bearer(member))


def test_create_get_patch_delete(client, marketing, people):
    created = send(client, "post", "/api/v1/segments", marketing, {"name": "Bayern", "definition": BAVARIA})
    assert created.status_code == 201
    body = created.json()
    assert body["definition"] == BAVARIA and body["frozen"] is False and body["last_total"] == 2
    url = f"/api/v1/segments/{body['id']}"
    assert send(client, "get", url, marketing).json()["name"] == "Bayern"
    patched = send(client, "patch", url, marketing, {"channel": "email"})
    assert patched.status_code == 200 and patched.json()["channel"] == "email"
    assert patched.json()["definition"] == BAVARIA  # untouched
    listed = send(client, "get", "/api/v1/segments", marketing).json()
    assert [s["name"] for s in listed["items"]] == ["Bayern"]
    assert send(client, "delete", url, marketing).status_code == 204
    assert not Segment.objects.exists()


def test_count_of_a_saved_segment_has_exclusions(client, marketing, segment):
    body = send(client, "get", f"/api/v1/segments/{segment.pk}/count", marketing).json()
    assert body == {
        "total": 2,
        "eligible": 1,
        "excluded_suppressed": 1,
        "excluded_no_consent": 0,
        "excluded_no_contact_data": 0,
        "suppressed": 1,
        "channel": "email",
    }


def test_count_of_an_unsaved_definition(client, manager, people):
    body = send(client, "post", "/api/v1/segments/count", manager, {"definition": BAVARIA}).json()
    assert (body["total"], body["eligible"], body["suppressed"]) == (2, 2, 1)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"definition": {"op": "and", "children": [{"field": "nope", "operator": "eq", "value": 1}]}},
         "definition.children.0.field"),
        ({"definition": {"op": "or", "children": [{"field": "postcode", "operator": "gt", "value": "1"}]}},
         "definition.children.0.operator"),
        ({"definition": {"op": "and", "children": [
            {"field": "city", "operator": "eq", "value": "Ulm"},
            {"op": "or", "children": [{"field": "birth_year", "operator": "between", "value": [1990]}]},
        ]}}, "definition.children.1.children.0.value"),
        ({"definition": {}, "channel": "fax"}, "channel"),
    ],
)  # fmt: skip
def test_bad_definitions_are_422_with_the_field_path(client, marketing, people, payload, field):
    response = send(client, "post", "/api/v1/segments/count", marketing, payload)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    created = send(client, "post", "/api/v1/segments", marketing, {"name": "X", **payload})
    assert created.status_code == 422 and created.json()["errors"][0]["field"] == field
    assert not Segment.objects.exists()


def test_duplicate_name_and_missing_name_are_422(client, marketing, segment):
    clash = send(client, "post", "/api/v1/segments", marketing, {"name": "Bayern"})
    assert clash.status_code == 422 and clash.json()["errors"][0]["field"] == "name"
    missing = send(client, "post", "/api/v1/segments", marketing, {"definition": BAVARIA})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "name"


def test_members_are_cursor_paginated_and_can_be_limited_to_eligible(client, marketing, segment, tenant):
    for i in range(4):
        PersonFactory(tenant=tenant, last_name=f"M{i}", last_name_key=f"m{i}", postcode="80000")
    url = f"/api/v1/segments/{segment.pk}/members"
    first = client.get(url, {"limit": 4}, headers=bearer(marketing)).json()
    rest = client.get(url, {"limit": 4, "cursor": first["next_cursor"]}, headers=bearer(marketing)).json()
    assert [p["last_name"] for p in first["items"] + rest["items"]] == ["Adler", "Berger", "M0", "M1", "M2", "M3"]
    assert rest["next_cursor"] is None
    eligible = client.get(url, {"eligible": "true"}, headers=bearer(marketing)).json()
    assert [p["last_name"] for p in eligible["items"]] == ["Adler"]


def test_freeze_add_members_and_unfreeze(client, marketing, segment, people, tenant):
    frozen = send(client, "post", f"/api/v1/segments/{segment.pk}/freeze", marketing)
    assert frozen.status_code == 200 and frozen.json()["frozen"] is True and frozen.json()["frozen_at"]
    PersonFactory(tenant=tenant, last_name="Later", last_name_key="later", postcode="80000")
    assert send(client, "get", f"/api/v1/segments/{segment.pk}/count", marketing).json()["total"] == 2
    added = send(client, "post", f"/api/v1/segments/{segment.pk}/members", marketing, {"person_ids": [people[2].pk]})
    assert added.json() == {"added": 1}
    assert send(client, "get", f"/api/v1/segments/{segment.pk}/count", marketing).json()["total"] == 3
    send(client, "post", f"/api/v1/segments/{segment.pk}/unfreeze", marketing)
    assert send(client, "get", f"/api/v1/segments/{segment.pk}/count", marketing).json()["total"] == 4  # + Dorn
    assert SegmentMember.objects.get().manual is True


def test_adding_unknown_people_is_422(client, marketing, segment, other_tenant):
    foreign = PersonFactory(tenant=other_tenant, last_name="Fremd")
    response = send(client, "post", f"/api/v1/segments/{segment.pk}/members", marketing, {"person_ids": [foreign.pk]})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "person_ids"


def test_fields_catalogue_lists_attributes_and_tags(client, marketing, people):
    fields = {f["key"]: f for f in send(client, "get", "/api/v1/segments/fields", marketing).json()}
    assert "between" in fields["postcode"]["operators"] and fields["org.employees"]["choices"][0] == "1-9"
    assert fields["consent.email"]["kind"] == "choice"


OBJECT_URLS = [
    ("get", "/api/v1/segments/{id}", None),
    ("patch", "/api/v1/segments/{id}", {"name": "Mine"}),
    ("delete", "/api/v1/segments/{id}", None),
    ("get", "/api/v1/segments/{id}/count", None),
    ("get", "/api/v1/segments/{id}/members", None),
    ("post", "/api/v1/segments/{id}/members", {"person_ids": [1]}),
    ("post", "/api/v1/segments/{id}/freeze", None),
    ("post", "/api/v1/segments/{id}/unfreeze", None),
]


@pytest.mark.parametrize(("method", "url", "data"), OBJECT_URLS)
def test_other_tenant_gets_404_for_every_segment_url(client, outsider, segment, method, url, data):
    response = send(client, method, url.format(id=segment.pk), outsider, data)
    assert response.status_code == 404
    assert Segment.objects.filter(pk=segment.pk, name="Bayern", frozen_at__isnull=True).exists()


@pytest.mark.parametrize("role", [Role.AGENT, Role.SALES, Role.PARTNER])
def test_roles_without_contacts_get_404_everywhere(client, members_by_role, segment, role):
    member = members_by_role[role]
    for method, url, data in OBJECT_URLS:
        assert send(client, method, url.format(id=segment.pk), member, data).status_code == 404, (method, url)
    assert send(client, "get", "/api/v1/segments", member).json()["items"] == []
    assert send(client, "post", "/api/v1/segments/count", member, {"definition": {}}).status_code == 404
    assert send(client, "get", "/api/v1/segments/fields", member).status_code == 404


def test_readers_may_count_but_not_change(client, privacy, segment):
    assert send(client, "get", f"/api/v1/segments/{segment.pk}/count", privacy).status_code == 200
    assert send(client, "post", f"/api/v1/segments/{segment.pk}/freeze", privacy).status_code == 403
    assert send(client, "post", "/api/v1/segments", privacy, {"name": "P"}).status_code == 403
