"""Bulk actions of the people list: tag, untag, export and delete on ticked rows or on the filter."""

from __future__ import annotations

import pytest
from conftest import login
from django.urls import reverse
from tests.factories import PersonFactory

from leadwerk.accounts.models import AuditEntry
from leadwerk.contacts import services
from leadwerk.contacts.models import Person, PersonTag, Tag
from leadwerk.core.exceptions import DomainError


@pytest.fixture
def people(tenant):
    return [
        PersonFactory(tenant=tenant, last_name=name, last_name_key=name.lower(), city=city)
        for name, city in [("Becker", "Berlin"), ("Schulz", "Berlin"), ("Wagner", "Hamburg"), ("Zimmer", "Hamburg")]
    ]


def bulk_url(tenant):
    return reverse("contacts:person_bulk", kwargs={"tenant": tenant.slug})


def test_people_tag_adds_once_and_untag_removes(tenant, marketing, people):
    assert services.people_tag(by=marketing, people=[p.pk for p in people[:2]], tag_name=" Messe 2026 ") == 2
    entry = AuditEntry.objects.get(tenant=tenant, action=AuditEntry.Action.UPDATE, object_pk="")
    assert entry.actor == marketing.user and entry.changes["people"] == [None, 2]
    # Tagging again changes nothing.
    assert services.people_tag(by=marketing, people=[p.pk for p in people], tag_name="Messe 2026") == 2
    tag = Tag.objects.get(tenant=tenant, name="Messe 2026")
    assert set(PersonTag.objects.filter(tag=tag).values_list("person_id", flat=True)) == {p.pk for p in people}
    assert services.people_tag(by=marketing, people=[people[0].pk], tag_name="Messe 2026", remove=True) == 1
    assert PersonTag.objects.filter(tag=tag).count() == 3
    assert services.people_tag(by=marketing, people=[people[0].pk], tag_name="unknown tag", remove=True) == 0


def test_bulk_services_ignore_other_tenants_people(tenant, other_tenant, marketing, people):
    foreign = PersonFactory(tenant=other_tenant)
    assert services.people_tag(by=marketing, people=[foreign.pk, people[0].pk], tag_name="x") == 1
    assert not PersonTag.objects.filter(person=foreign).exists()
    assert services.people_delete(by=marketing, people=[foreign.pk]) == 0
    assert Person.objects.filter(pk=foreign.pk).exists()


def test_bulk_services_need_a_writer(manager, people):
    with pytest.raises(DomainError):
        services.people_tag(by=manager, people=[people[0].pk], tag_name="x")
    with pytest.raises(DomainError):
        services.people_delete(by=manager, people=[people[0].pk])
    assert Person.objects.filter(pk=people[0].pk).exists()


def test_empty_tag_is_a_field_error(marketing, people):
    with pytest.raises(DomainError) as caught:
        services.people_tag(by=marketing, people=[people[0].pk], tag_name="   ")
    assert caught.value.field == "tag"


def test_bulk_delete_refuses_above_the_limit_and_deletes_nothing(marketing, people, monkeypatch):
    monkeypatch.setattr(services, "BULK_DELETE_LIMIT", 3)
    with pytest.raises(DomainError):
        services.people_delete(by=marketing, people=[p.pk for p in people])
    assert Person.objects.filter(pk__in=[p.pk for p in people]).count() == 4


def test_tag_ticked_people_in_the_list(client, tenant, marketing, people):
    login(client, marketing)
    response = client.post(
        bulk_url(tenant), {"action": "tag", "scope": "selected", "ids": [people[0].pk, people[2].pk], "tag_name": "VIP"}
    )
    assert response.status_code == 302
    assert set(Person.objects.filter(tags__name="VIP").values_list("pk", flat=True)) == {people[0].pk, people[2].pk}


def test_tag_everyone_matching_the_filter(client, tenant, marketing, people):
    login(client, marketing)
    client.post(bulk_url(tenant), {"action": "tag", "scope": "filter", "q": "Hamburg", "tag_name": "Nord"})
    assert set(Person.objects.filter(tags__name="Nord").values_list("last_name", flat=True)) == {"Wagner", "Zimmer"}
    # The list's own tag filter narrows "everyone matching the filter" too.
    client.post(bulk_url(tenant), {"action": "tag", "scope": "filter", "tag": "Nord", "tag_name": "Nord-VIP"})
    assert set(Person.objects.filter(tags__name="Nord-VIP").values_list("last_name", flat=True)) == {"Wagner", "Zimmer"}


def test_missing_ticks_and_tag_are_reported_and_change_nothing(client, tenant, marketing, people):
    login(client, marketing)
    response = client.post(bulk_url(tenant), {"action": "tag", "scope": "selected", "tag_name": ""}, follow=True)
    text = response.content.decode()
    assert "Tick at least one person" in text
    assert "Enter the tag to add or remove." in text
    assert not PersonTag.objects.exists()


def test_delete_asks_for_confirmation_first(client, tenant, marketing, people):
    login(client, marketing)
    data = {"action": "delete", "scope": "selected", "ids": [people[0].pk, people[1].pk]}
    response = client.post(bulk_url(tenant), data)
    assert response.status_code == 200
    assert "Delete 2 people?" in response.content.decode()
    assert Person.objects.filter(tenant=tenant).count() == 4

    response = client.post(bulk_url(tenant), {**data, "confirm": "1"})
    assert response.status_code == 302
    assert set(Person.objects.filter(tenant=tenant).values_list("last_name", flat=True)) == {"Wagner", "Zimmer"}
    assert AuditEntry.objects.filter(tenant=tenant, action=AuditEntry.Action.DELETE).count() == 2


def test_bulk_export_of_ticked_people_is_audited(client, tenant, manager, people):
    login(client, manager)
    response = client.post(bulk_url(tenant), {"action": "export_csv", "scope": "selected", "ids": [people[3].pk]})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Zimmer" in body and "Becker" not in body
    assert AuditEntry.objects.filter(tenant=tenant, action=AuditEntry.Action.ACCESS).count() == 1


def test_manager_may_export_but_not_tag_or_delete(client, tenant, manager, people):
    login(client, manager)
    for action in ("tag", "delete"):
        response = client.post(bulk_url(tenant), {"action": action, "scope": "filter", "tag_name": "x", "confirm": "1"})
        assert response.status_code == 404
    assert Person.objects.filter(tenant=tenant).count() == 4


@pytest.mark.parametrize("who", ["privacy", "agent", "sales", "partner_user", "outsider"])
def test_bulk_is_404_for_other_roles_and_tenants(client, request, tenant, people, who):
    login(client, request.getfixturevalue(who))
    response = client.post(bulk_url(tenant), {"action": "delete", "scope": "filter", "confirm": "1"})
    assert response.status_code == 404
    assert Person.objects.filter(tenant=tenant).count() == 4


def test_list_shows_bulk_bar_only_to_roles_that_may_use_it(client, tenant, marketing, privacy, people):
    url = reverse("contacts:person_list", kwargs={"tenant": tenant.slug})
    assert 'id="bulk-form"' in login(client, marketing).get(url).content.decode()
    client.logout()
    assert 'id="bulk-form"' not in login(client, privacy).get(url).content.decode()


def test_add_ticked_people_to_a_segment(client, tenant, marketing, people):
    from leadwerk.contacts import segment_services
    from leadwerk.contacts.models import SegmentMember

    segment = segment_services.segment_create(by=marketing, name="Messe", definition={"op": "and", "children": []})
    login(client, marketing)
    page = client.get(reverse("contacts:person_list", kwargs={"tenant": tenant.slug})).content.decode()
    assert 'value="segment"' in page and "Messe" in page
    missing = client.post(
        bulk_url(tenant), {"action": "segment", "scope": "selected", "ids": [people[0].pk]}, follow=True
    )
    assert "Choose the segment" in missing.content.decode()
    client.post(
        bulk_url(tenant), {"action": "segment", "segment": segment.pk, "scope": "selected", "ids": [people[1].pk]}
    )
    assert list(SegmentMember.objects.filter(segment=segment, manual=True).values_list("person_id", flat=True)) == [
        people[1].pk
    ]
