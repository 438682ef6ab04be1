"""Screens of the marketing database: role walls, tenant walls, forms, search and paging."""

from __future__ import annotations

import pytest
from conftest import login
from django.urls import reverse
from tests.factories import OrganizationFactory, PersonFactory

from leadwerk.accounts.roles import Role
from leadwerk.contacts import services
from leadwerk.contacts.models import Person

READERS = {Role.ADMIN, Role.MANAGER, Role.MARKETING, Role.PRIVACY}
WRITERS = {Role.ADMIN, Role.MARKETING}
ADMINS = {Role.ADMIN, Role.MARKETING, Role.PRIVACY}


@pytest.fixture
def person(tenant):
    return PersonFactory(tenant=tenant, last_name="Becker", last_name_key="becker")


@pytest.fixture
def organization(tenant):
    return OrganizationFactory(tenant=tenant, name="Autohaus Nord GmbH", name_key="autohaus nord gmbh")


PAGES = [
    ("contacts:person_list", {}, READERS),
    ("contacts:person_create", {}, WRITERS),
    ("contacts:person_detail", {"pk": "person"}, READERS),
    ("contacts:person_edit", {"pk": "person"}, WRITERS),
    ("contacts:person_delete", {"pk": "person"}, WRITERS),
    ("contacts:organization_list", {}, READERS),
    ("contacts:organization_create", {}, WRITERS),
    ("contacts:organization_detail", {"pk": "organization"}, READERS),
    ("contacts:organization_edit", {"pk": "organization"}, WRITERS),
    ("contacts:suppression_list", {}, ADMINS),
]


def _url(name, kwargs, tenant_slug, objects):
    resolved = {key: objects[value].pk for key, value in kwargs.items()}
    return reverse(name, kwargs={"tenant": tenant_slug, **resolved})


@pytest.mark.parametrize(("name", "kwargs", "allowed"), PAGES)
def test_each_role_gets_exactly_its_contact_pages(client, members_by_role, person, organization, name, kwargs, allowed):
    url = _url(name, kwargs, "nordstern", {"person": person, "organization": organization})
    for role, membership in members_by_role.items():
        client.force_login(membership.user)
        assert client.get(url).status_code == (200 if role in allowed else 404), f"{role} {name}"


@pytest.mark.parametrize(("name", "kwargs", "allowed"), PAGES)
def test_outsider_gets_404_with_own_tenant_and_our_ids(client, outsider, person, organization, name, kwargs, allowed):
    login(client, outsider)
    url = _url(name, kwargs, outsider.tenant.slug, {"person": person, "organization": organization})
    expected = 404 if kwargs else 200  # their own lists exist, our objects do not
    assert client.get(url).status_code == expected


@pytest.mark.parametrize("name", ["contacts:person_delete", "contacts:person_consent", "contacts:organization_delete"])
def test_writes_to_foreign_objects_are_404_and_change_nothing(client, outsider, person, organization, name):
    login(client, outsider)
    pk = organization.pk if "organization" in name else person.pk
    assert (
        client.post(reverse(name, kwargs={"tenant": outsider.tenant.slug, "pk": pk}), {"channel": "email"}).status_code
        == 404
    )
    assert Person.objects.filter(pk=person.pk).exists()


def test_create_form_shows_field_errors_and_saves_nothing(client, marketing):
    login(client, marketing)
    response = client.post(
        reverse("contacts:person_create", kwargs={"tenant": "nordstern"}), {"first_name": "Anna", "country": "DE"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["last_name"]
    assert not Person.objects.exists()


def test_create_and_edit_through_the_forms(client, marketing, organization):
    login(client, marketing)
    response = client.post(
        reverse("contacts:person_create", kwargs={"tenant": "nordstern"}),
        {"last_name": "wagner", "first_name": "jonas", "email": "J.Wagner@Example.de", "organization": organization.pk,
         "country": "DE", "language": "de", "tags": "Messe 2026, VIP"},
    )  # fmt: skip
    person = Person.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/people/{person.pk}/")
    assert (person.first_name, person.last_name, person.email) == ("Jonas", "Wagner", "j.wagner@example.de")
    assert sorted(person.tags.values_list("name", flat=True)) == ["Messe 2026", "VIP"]
    url = reverse("contacts:person_edit", kwargs={"tenant": "nordstern", "pk": person.pk})
    response = client.post(
        url, {"last_name": "Wagner", "first_name": "Jonas", "email": "", "country": "DE", "tags": "VIP"}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.email == "" and list(person.tags.values_list("name", flat=True)) == ["VIP"]
    detail = client.get(reverse("contacts:person_detail", kwargs={"tenant": "nordstern", "pk": person.pk}))
    assert b"Wagner" in detail.content


def test_consent_is_recorded_from_the_detail_page(client, marketing, person):
    login(client, marketing)
    url = reverse("contacts:person_consent", kwargs={"tenant": "nordstern", "pk": person.pk})
    client.post(url, {"channel": "phone", "status": "granted", "source": "agent", "proof_form": "Call 12.3."})
    person.refresh_from_db()
    assert person.consent_phone == "granted"


def test_search_finds_by_email_postcode_name_and_organisation(client, marketing, tenant, organization):
    login(client, marketing)
    services.person_create(
        by=marketing,
        data={
            "last_name": "Öztürk",
            "first_name": "Ali",
            "email": "ali@oz.de",
            "postcode": "50667",
            "organization": organization,
        },
    )
    services.person_create(by=marketing, data={"last_name": "Schulz", "email": "s@x.de", "postcode": "80331"})
    url = reverse("contacts:person_list", kwargs={"tenant": "nordstern"})
    for query in ("ali@oz", "50667", "öztürk", "oeztuerk", "Ali Öztürk", "Autohaus"):
        names = [p.last_name for p in client.get(url, {"q": query}).context["page"].items]
        assert names == ["Öztürk"], query


def test_people_list_pages_by_cursor_without_count(client, marketing, tenant, django_assert_max_num_queries):
    for i in range(120):
        PersonFactory(tenant=tenant, last_name=f"Name{i:03d}", last_name_key=f"name{i:03d}")
    login(client, marketing)
    url = reverse("contacts:person_list", kwargs={"tenant": "nordstern"})
    client.get(url)
    with django_assert_max_num_queries(10) as captured:
        first = client.get(url)
    # No count of the people (the header's unread-notification badge counts its own small table).
    assert not any("COUNT(" in q["sql"].upper() and "contacts_person" in q["sql"] for q in captured.captured_queries)
    names = [p.last_name for p in first.context["page"].items]
    assert names[0] == "Name000" and len(names) == 50
    second = client.get(url, {"cursor": first.context["page"].next_cursor})
    assert second.context["page"].items[0].last_name == "Name050"
    third = client.get(url, {"cursor": second.context["page"].next_cursor})
    assert len(third.context["page"].items) == 20 and third.context["page"].next_cursor is None


def test_empty_state_invites_to_add(client, marketing):
    login(client, marketing)
    response = client.get(reverse("contacts:person_list", kwargs={"tenant": "nordstern"}))
    assert b"No people yet" in response.content


def test_suppression_form_blocks_a_person(client, privacy, marketing):
    p = services.person_create(by=marketing, data={"last_name": "Lang", "email": "lang@example.de"}).person
    login(client, privacy)
    url = reverse("contacts:suppression_list", kwargs={"tenant": "nordstern"})
    response = client.post(url, {"kind": "email", "value": "x", "reason": "objection"})
    assert response.status_code == 200 and response.context["form"].errors["value"]
    assert client.post(url, {"kind": "email", "value": "lang@example.de", "reason": "objection"}).status_code == 302
    p.refresh_from_db()
    assert p.suppressed_reason == "objection"


def test_export_is_filtered_neutralised_localised_and_audited(client, marketing, tenant):
    import csv
    import io

    from leadwerk.accounts.models import AuditEntry

    services.person_create(by=marketing, data={"last_name": "@Sum(A1)", "email": "a@example.de"})
    services.person_create(by=marketing, data={"last_name": "Klein", "email": "k@example.de", "postcode": "10115"})
    login(client, marketing)
    marketing.user.language = "de"
    marketing.user.save()
    url = reverse("contacts:person_export", kwargs={"tenant": "nordstern"})
    response = client.get(url, {"format": "csv"})
    assert response["Content-Disposition"].startswith('attachment; filename="nordstern-people-')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:4] == ["Anrede", "Titel", "Vorname", "Nachname"]
    last_names = sorted(row[3] for row in rows[1:])
    assert last_names == ["'@Sum(A1)", "Klein"]
    filtered = b"".join(client.get(url, {"format": "csv", "q": "10115"}).streaming_content).decode("utf-8-sig")
    assert filtered.count("\n") == 2
    xlsx = client.get(url, {"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    entries = AuditEntry.objects.filter(tenant=tenant, action=3)
    assert entries.count() == 3 and entries.first().actor == marketing.user


@pytest.mark.parametrize("role", [Role.AGENT, Role.SALES, Role.PARTNER, Role.PRIVACY])
def test_export_is_404_for_roles_without_export_right(client, members_by_role, role):
    login(client, members_by_role[role])
    assert client.get(reverse("contacts:person_export", kwargs={"tenant": "nordstern"})).status_code == 404


def test_admin_defines_attributes_that_appear_on_the_person_form(client, admin, marketing):
    login(client, admin)
    url = reverse("contacts:attribute_list", kwargs={"tenant": "nordstern"})
    response = client.post(url, {"record_type": "person", "label": "Interesse", "key": "interest", "type": "choice"})
    assert response.status_code == 200 and response.context["form"].errors["choices"]
    client.post(
        url,
        {"record_type": "person", "label": "Interesse", "key": "interest", "type": "choice", "choices": "EV, Hybrid"},
    )
    login(client, marketing)
    form_page = client.get(reverse("contacts:person_create", kwargs={"tenant": "nordstern"}))
    assert "attr_interest" in form_page.context["form"].fields
    response = client.post(
        reverse("contacts:person_create", kwargs={"tenant": "nordstern"}),
        {"last_name": "Berg", "country": "DE", "attr_interest": "Diesel"},
    )
    assert response.status_code == 200 and response.context["form"].errors["attr_interest"]
    client.post(
        reverse("contacts:person_create", kwargs={"tenant": "nordstern"}),
        {"last_name": "Berg", "country": "DE", "attr_interest": "EV"},
    )
    assert Person.objects.get().attributes == {"interest": "EV"}


@pytest.mark.parametrize("role", [Role.MANAGER, Role.MARKETING, Role.AGENT, Role.PRIVACY])
def test_attribute_screen_is_for_admins_only(client, members_by_role, role):
    login(client, members_by_role[role])
    assert client.get(reverse("contacts:attribute_list", kwargs={"tenant": "nordstern"})).status_code == 404


def test_export_with_an_invalid_filter_exports_nothing(client, marketing):
    login(client, marketing)
    response = client.get(reverse("contacts:person_export", kwargs={"tenant": "nordstern"}), {"consent": "foo"})
    assert response.status_code == 302


def test_privacy_officer_records_a_withdrawal(client, privacy, tenant):
    person = PersonFactory(tenant=tenant, consent_email="granted")
    login(client, privacy)
    url = reverse("contacts:person_consent", kwargs={"tenant": "nordstern", "pk": person.pk})
    client.post(url, {"channel": "email", "status": "withdrawn", "source": "letter"})
    person.refresh_from_db()
    assert person.consent_email == "withdrawn"
