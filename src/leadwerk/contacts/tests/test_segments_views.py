"""Segment screens: role and tenant walls, the htmx builder, the live count, snapshots, members, export."""

from __future__ import annotations

import csv
import io

import pytest
from conftest import login
from django.urls import reverse
from tests.factories import PersonFactory

from leadwerk.accounts.models import AuditEntry
from leadwerk.accounts.roles import Role
from leadwerk.contacts import segment_services as services
from leadwerk.contacts.models import Person, Segment, SegmentMember

READERS = {Role.ADMIN, Role.MANAGER, Role.MARKETING, Role.PRIVACY}
WRITERS = {Role.ADMIN, Role.MARKETING}
EXPORTERS = {Role.ADMIN, Role.MANAGER, Role.MARKETING}
BAVARIA = {"op": "and", "children": [{"field": "postcode", "operator": "starts_with", "value": "8"}]}


@pytest.fixture
def people(tenant):
    rows = (("Adler", "80331", "granted"), ("Berger", "81999", "unknown"), ("Dorn", "20095", "granted"))
    return [
        PersonFactory(tenant=tenant, last_name=n, last_name_key=n.lower(), postcode=postcode, consent_email=consent)
        for n, postcode, consent in rows
    ]


@pytest.fixture
def segment(marketing, people):
    return services.segment_create(by=marketing, name="Bayern", definition=BAVARIA, channel="email")


def url(name, tenant="nordstern", **kwargs):
    return reverse(f"contacts:{name}", kwargs={"tenant": tenant, **kwargs})


PAGES = [
    ("segment_list", False, READERS),
    ("segment_create", False, WRITERS),
    ("segment_detail", True, READERS),
    ("segment_edit", True, WRITERS),
    ("segment_members", True, READERS),
    ("segment_delete", True, WRITERS),
    ("segment_export", True, EXPORTERS),
]


@pytest.mark.parametrize(("name", "with_pk", "allowed"), PAGES)
def test_each_role_gets_exactly_its_segment_pages(client, members_by_role, segment, name, with_pk, allowed):
    target = url(name, pk=segment.pk) if with_pk else url(name)
    for role, membership in members_by_role.items():
        client.force_login(membership.user)
        assert client.get(target).status_code == (200 if role in allowed else 404), f"{role} {name}"


@pytest.mark.parametrize(("name", "with_pk", "allowed"), PAGES)
def test_outsider_gets_404_for_our_segments(client, outsider, segment, name, with_pk, allowed):
    login(client, outsider)
    target = url(name, tenant=outsider.tenant.slug, pk=segment.pk) if with_pk else url(name, tenant="nordstern")
    assert client.get(target).status_code == 404


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("segment_delete", {}),
        ("segment_freeze", {"action": "freeze"}),
        ("segment_count_refresh", {}),
        ("segment_members_add", {"person_ids": []}),
        ("segment_members_remove", {"person_ids": []}),
    ],
)
def test_writes_to_foreign_segments_are_404_and_change_nothing(client, outsider, segment, people, name, data):
    login(client, outsider)
    data = data or {}
    if "person_ids" in data:
        data = {"person_ids": [people[0].pk]}
    assert client.post(url(name, tenant=outsider.tenant.slug, pk=segment.pk), data).status_code == 404
    segment.refresh_from_db()
    assert segment.frozen_at is None and not SegmentMember.objects.exists()


def test_readers_cannot_write(client, manager, segment, people):
    login(client, manager)
    assert client.post(url("segment_freeze", pk=segment.pk)).status_code == 404
    assert client.post(url("segment_builder"), {"node": "r"}).status_code == 404
    assert client.post(url("segment_members_add", pk=segment.pk), {"person_ids": [people[1].pk]}).status_code == 404


def test_list_shows_stored_counts_and_an_empty_state(client, marketing, segment):
    login(client, marketing)
    page = client.get(url("segment_list")).content.decode()
    assert "Bayern" in page and 'id="segment-count-' in page
    Segment.objects.all().delete()
    empty = client.get(url("segment_list")).content.decode()
    assert "No segments yet" in empty and url("segment_create") in empty


def test_list_count_button_counts_one_segment(client, marketing, segment, tenant):
    PersonFactory(tenant=tenant, last_name="Zeh", last_name_key="zeh", postcode="80000")
    login(client, marketing)
    response = client.post(url("segment_count_refresh", pk=segment.pk), headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<strong>3</strong>" in response.content.decode()
    segment.refresh_from_db()
    assert segment.last_total == 3


def _builder_post(**extra):
    data = {
        "name": "Nord",
        "channel": "",
        "node": ["r", "r.0"],
        "op-r": "and",
        "kind-r.0": "condition",
        "field-r.0": "postcode",
        "operator-r.0": "between",
        "value-r.0": "80000",
        "value2-r.0": "81999",
    }
    data.update(extra)
    return data


def test_create_through_the_form_saves_the_definition(client, marketing, people):
    login(client, marketing)
    response = client.post(url("segment_create"), _builder_post())
    segment = Segment.objects.get(name="Nord")
    assert response.status_code == 302 and response["Location"] == url("segment_detail", pk=segment.pk)
    assert segment.definition == {
        "op": "and",
        "children": [{"field": "postcode", "operator": "between", "value": ["80000", "81999"]}],
    }
    assert segment.last_total == 2 and segment.created_by == marketing


def test_invalid_condition_re_renders_the_builder_with_the_message_at_the_condition(client, marketing, people):
    login(client, marketing)
    response = client.post(url("segment_create"), _builder_post(**{"value2-r.0": ""}))
    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-path="r.0"' in page and "Enter a value." in page
    assert 'value="80000"' in page  # what the user typed stays
    assert not Segment.objects.exists()


def test_duplicate_name_is_a_field_error(client, marketing, segment):
    login(client, marketing)
    response = client.post(url("segment_create"), _builder_post(name="Bayern"))
    assert response.status_code == 422 and "Another segment has this name." in response.content.decode()


def test_builder_adds_groups_and_conditions_and_removes_them(client, marketing, people):
    login(client, marketing)
    headers = {"HX-Request": "true"}
    added = client.post(url("segment_builder"), _builder_post(action="group:r"), headers=headers)
    page = added.content.decode()
    assert added.status_code == 200 and added["HX-Trigger-After-Swap"] == "segmentChanged"
    assert 'name="kind-r.1" value="group"' in page and 'name="kind-r.1.0" value="condition"' in page
    assert "<html" not in page  # only the partial
    removed = client.post(url("segment_builder"), _builder_post(action="remove:r.0"), headers=headers)
    assert 'name="kind-r.0"' not in removed.content.decode()


def test_changing_the_field_adapts_operators_and_value_input(client, marketing, people):
    login(client, marketing)
    data = _builder_post(**{"field-r.0": "has_email", "operator-r.0": "between"})
    page = client.post(url("segment_builder"), data, headers={"HX-Request": "true"}).content.decode()
    assert '<option value="is" selected>' in page and 'name="value-r.0"' in page and "value2-r.0" not in page
    data = _builder_post(**{"field-r.0": "org.employees", "operator-r.0": "in"})
    page = client.post(url("segment_builder"), data, headers={"HX-Request": "true"}).content.decode()
    assert "<select multiple" in page and "1000+" in page


def test_live_count_shows_totals_and_exclusions_without_saving(client, marketing, people):
    login(client, marketing)
    data = _builder_post(channel="email")
    response = client.post(url("segment_count_preview"), data, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert 'data-testid="count-total">2<' in page and 'data-testid="count-eligible">1<' in page
    assert not Segment.objects.exists()


def test_live_count_of_an_incomplete_definition_says_what_is_missing(client, marketing, people):
    login(client, marketing)
    page = client.post(url("segment_count_preview"), _builder_post(**{"value-r.0": "x"})).content.decode()
    assert 'data-testid="count-problem"' in page


def test_edit_keeps_values_and_saves(client, marketing, segment):
    login(client, marketing)
    page = client.get(url("segment_edit", pk=segment.pk)).content.decode()
    assert 'value="8"' in page and '<option value="starts_with" selected>' in page
    response = client.post(url("segment_edit", pk=segment.pk), _builder_post(name="Bayern neu", channel="post"))
    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.channel) == ("Bayern neu", "post")


def test_detail_shows_counts_and_exclusions(client, manager, segment):
    login(client, manager)
    page = client.get(url("segment_detail", pk=segment.pk)).content.decode()
    assert 'data-testid="total">2<' in page and 'data-testid="eligible">1<' in page
    assert "Freeze" not in page  # a manager reads and exports, but does not change segments


def test_freeze_refresh_and_unfreeze_through_the_page(client, marketing, segment, tenant):
    login(client, marketing)
    client.post(url("segment_freeze", pk=segment.pk), {"action": "freeze"})
    segment.refresh_from_db()
    assert segment.is_frozen and SegmentMember.objects.filter(segment=segment).count() == 2
    assert "Refresh snapshot" in client.get(url("segment_detail", pk=segment.pk)).content.decode()
    PersonFactory(tenant=tenant, last_name="Neu", last_name_key="neu", postcode="85000")
    client.post(url("segment_freeze", pk=segment.pk), {"action": "refresh"})
    assert SegmentMember.objects.filter(segment=segment).count() == 3
    client.post(url("segment_freeze", pk=segment.pk), {"action": "unfreeze"})
    segment.refresh_from_db()
    assert not segment.is_frozen and not SegmentMember.objects.exists()


def test_members_page_is_keyset_paged_and_filters_eligible(client, marketing, segment, tenant):
    for i in range(60):
        PersonFactory(tenant=tenant, last_name=f"M{i:02d}", last_name_key=f"m{i:02d}", postcode="80000")
    login(client, marketing)
    first = client.get(url("segment_members", pk=segment.pk))
    assert first.status_code == 200 and first.context["page"].next_cursor
    second = client.get(url("segment_members", pk=segment.pk), {"cursor": first.context["page"].next_cursor})
    assert len(first.context["page"].items) + len(second.context["page"].items) == 62
    eligible = client.get(url("segment_members", pk=segment.pk), {"eligible": "1"})
    assert [p.last_name for p in eligible.context["page"].items] == ["Adler"]


def test_bulk_action_adds_people_from_the_list(client, marketing, segment, people):
    login(client, marketing)
    response = client.post(url("segment_members_add_any"), {"segment": segment.pk, "person_ids": [people[2].pk]})
    assert response.status_code == 302
    assert SegmentMember.objects.get(segment=segment).person == people[2]
    members = client.get(url("segment_members", pk=segment.pk)).content.decode()
    assert "Dorn" in members and "added by hand" in members
    client.post(url("segment_members_remove", pk=segment.pk), {"person_ids": [people[2].pk]})
    assert not SegmentMember.objects.exists()


def test_bulk_add_refuses_people_of_another_tenant(client, marketing, segment, other_tenant):
    foreign = PersonFactory(tenant=other_tenant, last_name="Fremd")
    login(client, marketing)
    client.post(url("segment_members_add", pk=segment.pk), {"person_ids": [foreign.pk]})
    assert not SegmentMember.objects.exists()


def test_delete_asks_then_removes_the_segment_only(client, marketing, segment, people):
    login(client, marketing)
    dialog = client.get(url("segment_delete", pk=segment.pk), headers={"HX-Request": "true"})
    assert 'role="dialog"' in dialog.content.decode() and "<html" not in dialog.content.decode()
    assert client.post(url("segment_delete", pk=segment.pk)).status_code == 302
    assert not Segment.objects.exists() and people[0].__class__.objects.count() == 3


def _csv(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_export_has_eligible_members_default_columns_and_is_audit_logged(client, marketing, segment, people):
    people[0].salutation, people[0].first_name, people[0].street, people[0].city = "ms", "Anna", "Weg 1", "München"
    people[0].save()
    login(client, marketing)
    rows = _csv(client.get(url("segment_export", pk=segment.pk), {"format": "csv"}))
    # An e-mail segment: the name and the e-mail address by default, not the postal address.
    assert rows[0] == ["Salutation", "Title", "First name", "Last name", "Organisation", "E-mail", "Language"]
    assert rows[1:] == [["Ms", "", "Anna", "Adler", "", people[0].email, people[0].language]]  # Berger: no consent
    entry = AuditEntry.objects.get(object_repr__startswith="Export segment")
    assert entry.actor == marketing.user and "1 (csv)" in entry.object_repr

    segment.channel = "post"
    segment.save(update_fields=["channel"])
    Person.objects.filter(pk=people[0].pk).update(consent_post="granted")
    rows = _csv(client.get(url("segment_export", pk=segment.pk), {"format": "csv"}))
    assert rows[0] == [
        "Salutation", "Title", "First name", "Last name", "Organisation", "Street and number", "Postcode", "City",
        "Country",
    ]  # fmt: skip
    assert rows[1:] == [["Ms", "", "Anna", "Adler", "", "Weg 1", "80331", "München", "DE"]]


def test_export_with_every_column_unticked_says_so_and_exports_nothing(client, marketing, segment, people):
    login(client, marketing)
    response = client.get(url("segment_export", pk=segment.pk), {"format": "csv", "chosen": "1"}, follow=True)
    assert "Choose at least one column to export." in response.content.decode()
    assert not AuditEntry.objects.filter(object_repr__startswith="Export segment").exists()
    page = client.get(url("segment_detail", pk=segment.pk)).content.decode()
    assert 'value="email" checked' in page and 'value="street" checked' not in page


def test_export_columns_are_chosen_and_formulas_defused(client, marketing, segment, people):
    people[0].first_name = "=HYPERLINK(1)"
    people[0].save()
    login(client, marketing)
    rows = _csv(client.get(url("segment_export", pk=segment.pk), {"format": "csv", "columns": ["email", "first_name"]}))
    assert rows[0] == ["First name", "E-mail"]
    assert rows[1] == ["'=HYPERLINK(1)", people[0].email]


def test_export_in_the_users_language_and_as_xlsx(client, marketing, segment):
    login(client, marketing)
    client.cookies["django_language"] = "de"
    response = client.get(url("segment_export", pk=segment.pk), {"format": "xlsx"}, headers={"Accept-Language": "de"})
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert response["Content-Disposition"].endswith('.xlsx"')
