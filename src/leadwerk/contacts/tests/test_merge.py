"""Merging two records of one person and undoing it: service rules, exact restore, screens, API, scoping."""

from __future__ import annotations

import json

import pytest
from conftest import bearer, login
from django.core import serializers
from django.db.models import Q
from django.urls import reverse

from leadwerk.accounts.models import AuditEntry
from leadwerk.contacts import merge as m
from leadwerk.contacts import services
from leadwerk.contacts.exceptions import NotAllowed
from leadwerk.contacts.models import (
    Affiliation,
    Consent,
    DuplicateCandidate,
    Merge,
    Organization,
    Person,
    PersonTag,
    Segment,
    SegmentMember,
    Suppression,
)
from leadwerk.core.exceptions import Conflict, ValidationFailed


def _person(by, merge=False, tags=(), **data):
    return services.person_create(by=by, data=data, tags=tags, merge=merge).person


@pytest.fixture
def pair(marketing):
    """Two records of Anna Schmidt: the older one with e-mail and a tag, the newer with a phone and consent."""
    org = services.organization_create(by=marketing, data={"name": "Nordwerk GmbH", "postcode": "20095"})
    older = _person(
        marketing,
        first_name="Anna",
        last_name="Schmidt",
        email="anna.schmidt@example.de",
        postcode="20095",
        street="Hauptstraße 5",
        tags=["Messe", "VIP"],
    )
    newer = _person(
        marketing,
        first_name="Anna",
        last_name="Schmid",
        phone="040 1234567",
        postcode="20095",
        street="Hauptstr. 5",
        organization=org,
        position="Einkauf",
        tags=["Messe", "Newsletter"],
    )
    services.consent_record(person=older, by=marketing, channel="phone", status="denied", source="user")
    services.consent_record(person=newer, by=marketing, channel="email", status="granted", source="form")
    newer.refresh_from_db()
    older.refresh_from_db()
    return older, newer


def _state(tenant_id: int, *pks: int) -> dict:
    """Everything about these people, as stored: the rows and every related row."""
    people = Q(person__in=pks)
    candidates = Q(person_a__in=pks) | Q(person_b__in=pks)
    sets = {
        "person": Person.objects.filter(pk__in=pks),
        "consent": Consent.objects.filter(people),
        "tags": PersonTag.objects.filter(people),
        "affiliations": Affiliation.objects.filter(people),
        "segments": SegmentMember.objects.filter(people),
        "candidates": DuplicateCandidate.objects.filter(candidates),
        "suppressions": Suppression.objects.filter(tenant_id=tenant_id),
        "flags": Person.objects.filter(duplicate_of__in=pks),
    }
    return {name: json.loads(serializers.serialize("json", qs.order_by("pk"))) for name, qs in sets.items()}


def test_merge_moves_everything_to_the_survivor(marketing, pair):
    older, newer = pair
    segment = Segment.objects.create(tenant=marketing.tenant, name="Hamburg")
    SegmentMember.objects.create(tenant=marketing.tenant, segment=segment, person=newer, manual=True)
    third = _person(marketing, first_name="Anne", last_name="Schmidt", postcode="20095")
    Person.objects.filter(pk=third.pk).update(duplicate_of=newer)

    done = m.person_merge(by=marketing, survivor=older, other=newer, choices={})

    older.refresh_from_db()
    assert not Person.objects.filter(pk=newer.pk).exists()
    assert done.survivor_pk == older.pk and done.other_pk == newer.pk
    # Values: the survivor's own where the other has none, the other's where the survivor had none.
    assert older.email == "anna.schmidt@example.de"
    assert older.phone == "+49401234567"
    assert older.organization.name == "Nordwerk GmbH" and older.position == "Einkauf"
    # Tags: union, no duplicates.
    assert sorted(older.tags.values_list("name", flat=True)) == ["Messe", "Newsletter", "VIP"]
    # Consent: history kept, the mirror from the newest record per channel.
    assert older.consents.count() == 2
    assert older.consent_email == "granted" and older.consent_phone == "denied"
    assert Affiliation.objects.filter(person=older, ended_at__isnull=True).count() == 1
    assert SegmentMember.objects.filter(segment=segment, person=older).exists()
    assert Person.objects.get(pk=third.pk).duplicate_of_id == older.pk


def test_chosen_values_win_and_are_normalised(marketing, pair):
    older, newer = pair
    m.person_merge(by=marketing, survivor=older, other=newer, choices={"last_name": "other", "street": "other"})
    older.refresh_from_db()
    assert older.last_name == "Schmid" and older.last_name_key == "schmid"
    assert older.street == "Hauptstr. 5"


def test_default_picks_the_newer_non_empty_value_and_the_older_record_survives(marketing, pair):
    older, newer = pair
    survivor, other = m.order_pair(newer, older)
    assert survivor == older
    rows = {row.field: row for row in m.differing_fields(survivor, other)}
    assert rows["last_name"].default == "other"  # both filled: the newer record's
    assert rows["email"].default == "survivor"  # only the survivor has one
    assert rows["phone"].default == "other"  # only the other has one
    assert "first_name" not in rows  # same value: nothing to choose


def test_suppression_of_either_record_wins(marketing, pair, privacy):
    older, newer = pair
    services.suppression_add(by=privacy, kind="phone", value="040 1234567", reason="objection")
    newer.refresh_from_db()
    assert newer.suppressed_reason == "objection" and not older.suppressed_reason

    done = m.person_merge(by=marketing, survivor=older, other=newer, choices={"phone": "survivor"})

    older.refresh_from_db()
    assert older.suppressed_reason == "objection"
    # It sticks: the survivor's own address is now on the suppression list too, so an edit keeps it.
    services.person_update(person=older, by=marketing, data={"position": "Leitung"})
    older.refresh_from_db()
    assert older.suppressed_reason == "objection"
    m.merge_undo(by=marketing, merge=done)
    assert not Suppression.objects.filter(note="merge").exists()


def test_undo_restores_both_records_and_all_relations_exactly(marketing, pair):
    older, newer = pair
    segment = Segment.objects.create(tenant=marketing.tenant, name="Hamburg")
    SegmentMember.objects.create(tenant=marketing.tenant, segment=segment, person=newer, manual=True)
    SegmentMember.objects.create(tenant=marketing.tenant, segment=segment, person=older, manual=False)
    third = _person(marketing, first_name="Anne", last_name="Schmidt", postcode="20095")
    Person.objects.filter(pk=third.pk).update(duplicate_of=newer)
    Person.objects.filter(pk=newer.pk).update(duplicate_of=older)
    candidate = DuplicateCandidate.objects.create(
        tenant=marketing.tenant, person_a=older, person_b=newer, score=0.97, levels={"last_name": "similar"}
    )
    DuplicateCandidate.objects.create(
        tenant=marketing.tenant, person_a=newer, person_b=third, score=0.9, status="dismissed"
    )
    before = _state(marketing.tenant_id, older.pk, newer.pk, third.pk)

    done = m.person_merge(
        by=marketing, survivor=older, other=newer, choices={"last_name": "other", "organization": "other"}
    )
    assert not DuplicateCandidate.objects.filter(pk=candidate.pk).exists()
    assert _state(marketing.tenant_id, older.pk, newer.pk, third.pk) != before

    m.merge_undo(by=marketing, merge=done)

    after = _state(marketing.tenant_id, older.pk, newer.pk, third.pk)
    for kind, rows in before.items():
        assert after[kind] == rows, kind
    done.refresh_from_db()
    assert done.undone_at is not None and done.undone_by == marketing


def test_undo_only_in_reverse_order(marketing, pair):
    older, newer = pair
    third = _person(marketing, first_name="Anna", last_name="Schmitt", postcode="20095")
    first = m.person_merge(by=marketing, survivor=older, other=newer, choices={})
    second = m.person_merge(by=marketing, survivor=older, other=third, choices={})

    with pytest.raises(Conflict, match="merged again later"):
        m.merge_undo(by=marketing, merge=first)

    m.merge_undo(by=marketing, merge=second)
    m.merge_undo(by=marketing, merge=first)
    assert Person.objects.filter(pk__in=[older.pk, newer.pk, third.pk]).count() == 3
    with pytest.raises(Conflict, match="already been undone"):
        m.merge_undo(by=marketing, merge=first)


def test_survivor_merged_into_another_blocks_the_earlier_undo(marketing, pair):
    older, newer = pair
    third = _person(marketing, first_name="Anna", last_name="Schmitt", postcode="20095")
    first = m.person_merge(by=marketing, survivor=older, other=newer, choices={})
    second = m.person_merge(by=marketing, survivor=third, other=older, choices={})
    assert m.merge_blocker(first)
    m.merge_undo(by=marketing, merge=second)
    m.merge_undo(by=marketing, merge=first)
    assert Person.objects.filter(pk__in=[older.pk, newer.pk, third.pk]).count() == 3


def test_merged_record_leaves_lists_and_search_but_its_timeline_shows_on_the_survivor(client, marketing, pair):
    older, newer = pair
    m.person_merge(by=marketing, survivor=older, other=newer, choices={})
    login(client, marketing)
    listing = client.get(reverse("contacts:person_list", args=[marketing.tenant.slug]), {"q": "Schmid"})
    assert listing.status_code == 200
    assert f"/people/{newer.pk}/" not in listing.content.decode()
    page = client.get(reverse("contacts:person_detail", args=[marketing.tenant.slug, older.pk]))
    shown = [entry.object_pk for entry, _changes in page.context["timeline"]]
    assert str(newer.pk) in shown and str(older.pk) in shown
    # Its old address leads to the record it became part of.
    gone = client.get(reverse("contacts:person_detail", args=[marketing.tenant.slug, newer.pk]))
    assert gone.status_code == 302 and gone.url == reverse(
        "contacts:person_detail", args=[marketing.tenant.slug, older.pk]
    )


def test_merge_and_undo_are_audit_logged(marketing, pair):
    older, newer = pair
    done = m.person_merge(by=marketing, survivor=older, other=newer, choices={})
    m.merge_undo(by=marketing, merge=done)
    entries = AuditEntry.objects.filter(tenant_id=marketing.tenant_id, object_repr__startswith=f"Merge #{done.pk}")
    assert {entry.object_pk for entry in entries} == {str(older.pk), str(newer.pk)}
    assert entries.count() == 3
    assert all(entry.actor == marketing.user for entry in entries)


def test_merge_refuses_bad_input_and_roles(marketing, manager, outsider, pair):
    older, newer = pair
    with pytest.raises(ValidationFailed):
        m.person_merge(by=marketing, survivor=older, other=older, choices={})
    with pytest.raises(ValidationFailed):
        m.person_merge(by=marketing, survivor=older, other=newer, choices={"last_name": "both"})
    with pytest.raises(ValidationFailed):
        m.person_merge(by=marketing, survivor=older, other=newer, choices={"password": "other"})
    with pytest.raises(NotAllowed):
        m.person_merge(by=manager, survivor=older, other=newer, choices={})
    with pytest.raises(NotAllowed):
        m.person_merge(by=outsider, survivor=older, other=newer, choices={})
    assert Person.objects.filter(pk__in=[older.pk, newer.pk]).count() == 2


def test_every_relation_to_person_has_a_mover():
    movers = {mover.name for mover in m.movers()}
    assert "unique:contacts.PersonTag.person" in movers and "fk:contacts.Consent.person" in movers
    # Every foreign key to Person is covered by a registered or a generic mover.
    covered = {(label.lower(), field) for mover in m.movers() for label, field in mover.relations}
    for relation in Person._meta.related_objects:
        if relation.many_to_many or not relation.field.concrete:
            continue
        assert (relation.related_model._meta.label.lower(), relation.field.name) in covered


# --- screens ---------------------------------------------------------------------------------------------


def _candidate(tenant, a, b, **kwargs):
    a, b = sorted([a, b], key=lambda p: p.pk)
    return DuplicateCandidate.objects.create(tenant=tenant, person_a=a, person_b=b, score=0.98, **kwargs)


def test_pair_page_shows_both_records_with_choices(client, marketing, pair):
    older, newer = pair
    candidate = _candidate(marketing.tenant, older, newer, levels={"last_name": "similar"})
    login(client, marketing)
    response = client.get(reverse("contacts:duplicate_pair", args=[marketing.tenant.slug, candidate.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "anna.schmidt@example.de" in html and "+49401234567" in html and "Nordwerk GmbH" in html
    assert 'name="f:last_name"' in html and 'name="f:first_name"' not in html
    assert 'name="keep" value="a" checked' in html  # the older record is kept by default


def test_merge_from_the_pair_page_then_undo(client, marketing, pair):
    older, newer = pair
    candidate = _candidate(marketing.tenant, older, newer)
    login(client, marketing)
    keep = "a" if candidate.person_a_id == newer.pk else "b"
    response = client.post(
        reverse("contacts:duplicate_merge", args=[marketing.tenant.slug, candidate.pk]),
        {"keep": keep, "f:email": "a" if keep == "b" else "b"},
    )
    done = Merge.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/merges/{done.pk}/")
    assert done.survivor_pk == newer.pk
    newer.refresh_from_db()
    assert newer.email == "anna.schmidt@example.de"
    page = client.get(response["Location"])
    assert page.status_code == 200 and 'data-testid="undo"' in page.content.decode()
    undo = client.post(reverse("contacts:duplicate_merge_undo", args=[marketing.tenant.slug, done.pk]))
    assert undo.status_code == 302
    assert Person.objects.filter(pk__in=[older.pk, newer.pk]).count() == 2


def test_pair_page_for_readers_has_no_merge_button(client, manager, marketing, pair):
    older, newer = pair
    candidate = _candidate(marketing.tenant, older, newer)
    login(client, manager)
    response = client.get(reverse("contacts:duplicate_pair", args=[marketing.tenant.slug, candidate.pk]))
    assert response.status_code == 200 and 'data-testid="merge"' not in response.content.decode()
    merge_url = reverse("contacts:duplicate_merge", args=[marketing.tenant.slug, candidate.pk])
    assert client.post(merge_url, {"keep": "a"}).status_code == 404


@pytest.mark.parametrize("who", ["outsider", "agent", "sales", "partner_user"])
def test_merge_urls_are_404_for_other_tenants_and_roles(client, request, marketing, pair, who):
    older, newer = pair
    candidate = _candidate(marketing.tenant, older, newer)
    done = m.person_merge(by=marketing, survivor=older, other=newer, choices={})
    member = request.getfixturevalue(who)
    login(client, member)
    slug = member.tenant.slug
    for name in ("duplicate_merge_detail", "duplicate_merge_undo"):
        url = reverse(f"contacts:{name}", args=[slug, done.pk])
        assert (client.post(url) if name.endswith("undo") else client.get(url)).status_code == 404
    assert client.get(reverse("contacts:duplicate_pair", args=[slug, candidate.pk])).status_code == 404
    assert Merge.objects.get(pk=done.pk).undone_at is None


# --- API -------------------------------------------------------------------------------------------------


def test_api_merge_and_undo(client, marketing, pair):
    older, newer = pair
    candidate = _candidate(marketing.tenant, older, newer)
    headers = bearer(marketing)
    detail = client.get(f"/api/v1/duplicates/{candidate.pk}", headers=headers).json()
    assert detail["default_survivor_id"] == older.pk
    assert {row["field"] for row in detail["differing_fields"]} >= {"last_name", "phone", "email"}
    response = client.post(
        f"/api/v1/duplicates/{candidate.pk}/merge",
        data={"survivor_id": older.pk, "choices": {"last_name": "other"}},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["survivor_id"] == older.pk and body["merged_id"] == newer.pk and body["undo_blocked_by"] is None
    assert Person.objects.get(pk=older.pk).last_name == "Schmid"
    undo = client.post(f"/api/v1/merges/{body['id']}/undo", headers=headers)
    assert undo.status_code == 200 and undo.json()["undone_at"]
    again = client.post(f"/api/v1/merges/{body['id']}/undo", headers=headers)
    assert again.status_code == 409


def test_api_merge_validates_survivor_and_choices(client, marketing, pair):
    older, newer = pair
    candidate = _candidate(marketing.tenant, older, newer)
    headers = bearer(marketing)
    url = f"/api/v1/duplicates/{candidate.pk}/merge"
    wrong = client.post(url, data={"survivor_id": 999999}, content_type="application/json", headers=headers)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "survivor_id"
    bad = client.post(
        url,
        data={"survivor_id": older.pk, "choices": {"last_name": "both"}},
        content_type="application/json",
        headers=headers,
    )
    assert bad.status_code == 422
    assert Person.objects.filter(pk__in=[older.pk, newer.pk]).count() == 2


@pytest.mark.parametrize("who", ["outsider", "agent", "partner_user"])
def test_api_merge_objects_are_404_outside_tenant_and_role(client, request, marketing, pair, who):
    older, newer = pair
    candidate = _candidate(marketing.tenant, older, newer)
    done = m.person_merge(by=marketing, survivor=older, other=newer, choices={})
    headers = bearer(request.getfixturevalue(who))
    assert client.get(f"/api/v1/merges/{done.pk}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/merges/{done.pk}/undo", headers=headers).status_code == 404
    assert Merge.objects.get(pk=done.pk).undone_at is None
    del candidate


def test_api_reader_cannot_merge(client, manager, marketing, pair):
    older, newer = pair
    candidate = _candidate(marketing.tenant, older, newer)
    response = client.post(
        f"/api/v1/duplicates/{candidate.pk}/merge",
        data={"survivor_id": older.pk},
        content_type="application/json",
        headers=bearer(manager),
    )
    assert response.status_code in (403, 404)
    assert Person.objects.filter(pk__in=[older.pk, newer.pk]).count() == 2


def test_organisation_deleted_before_undo_leaves_the_restored_record_without_it(marketing, pair):
    older, newer = pair
    done = m.person_merge(by=marketing, survivor=older, other=newer, choices={})
    Organization.objects.filter(name="Nordwerk GmbH").delete()
    m.merge_undo(by=marketing, merge=done)
    restored = Person.objects.get(pk=newer.pk)
    assert restored.organization_id is None and restored.last_name == "Schmid"


def test_attributes_are_combined_and_chosen_and_the_external_id_can_move(marketing, admin, pair):
    older, newer = pair
    services.attribute_define(by=admin, record_type="person", key="fleet", label="Fleet size", type="number")
    services.attribute_define(by=admin, record_type="person", key="source", label="Source", type="text")
    services.person_update(person=older, by=marketing, data={}, attributes={"fleet": 10})
    services.person_update(
        person=newer, by=marketing, data={"external_id": "CRM-7"}, attributes={"fleet": 12, "source": "Messe"}
    )
    older.refresh_from_db()
    newer.refresh_from_db()
    rows = {row.field: row.default for row in m.differing_fields(older, newer)}
    assert rows["attributes.fleet"] == "other" and rows["attributes.source"] == "other"

    m.person_merge(
        by=marketing, survivor=older, other=newer, choices={"attributes.fleet": "survivor", "external_id": "other"}
    )

    older.refresh_from_db()
    assert older.attributes == {"fleet": 10, "source": "Messe"}
    assert older.external_id == "CRM-7"
