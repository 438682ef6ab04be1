"""The demo marketing database: realistic, consistent with the services' rules, deterministic, idempotent."""

from __future__ import annotations

import pytest
from tests.factories import TenantFactory

from leadwerk.contacts import normalize as n
from leadwerk.contacts.matching import person_match
from leadwerk.contacts.models import (
    Affiliation,
    AttributeDefinition,
    Channel,
    Consent,
    Organization,
    Person,
    PersonTag,
    Suppression,
    Tag,
)
from leadwerk.contacts.services import attributes_clean
from leadwerk.demo import services
from leadwerk.demo.contacts import CITIES, contacts_load

PEOPLE, ORGANIZATIONS = 300, 50


@pytest.fixture
def loaded(tenant):
    return contacts_load(tenant, people=PEOPLE, organizations=ORGANIZATIONS, seed=7)


def _people(tenant):
    return Person.objects.filter(tenant=tenant)


def test_counts(tenant, loaded):
    assert loaded["people"] == _people(tenant).count() == PEOPLE
    assert loaded["organizations"] == Organization.objects.filter(tenant=tenant).count() == ORGANIZATIONS
    assert loaded["duplicates"] == 3  # 1 %
    assert loaded["suppressions"] == Suppression.objects.filter(tenant=tenant).count() >= 1
    assert loaded["consents"] == Consent.objects.filter(tenant=tenant).count() > PEOPLE
    linked = _people(tenant).filter(organization__isnull=False).count()
    assert 0.6 * PEOPLE < linked < 0.8 * PEOPLE
    assert Affiliation.objects.filter(tenant=tenant, ended_at__isnull=True).count() == linked
    assert Organization.objects.filter(tenant=tenant, parent__isnull=False).exists()
    assert 0.1 * PEOPLE < PersonTag.objects.filter(tenant=tenant).values("person").distinct().count() < 0.3 * PEOPLE
    assert set(Tag.objects.filter(tenant=tenant).values_list("name", flat=True)) >= {"Messe 2026", "Newsletter", "VIP"}


def test_every_city_has_postcodes_of_its_own():
    from leadwerk.demo.contacts import city_postcodes

    postcodes = city_postcodes()
    for city in CITIES:
        assert city.postcode in postcodes[city.name], city.name


def test_addresses_and_contact_data_are_what_the_services_would_store(tenant, loaded):
    flagged = 0
    for person in _people(tenant):
        if person.quality_flags:
            flagged += 1
            assert person.quality_flags in (["email_invalid"], ["postcode_unknown"])
            field, normalize = (
                ("email", n.normalize_email)
                if person.quality_flags == ["email_invalid"]
                else ("postcode", n.normalize_postcode)
            )
            assert normalize(getattr(person, field)).flag == person.quality_flags[0]
        if person.quality_flags != ["postcode_unknown"] and person.postcode:
            assert n.normalize_postcode(person.postcode) == n.Normalized(person.postcode, True, None)
            assert n.postcode_coordinates(person.postcode) is not None
        if person.quality_flags != ["email_invalid"] and person.email:
            assert n.normalize_email(person.email).value == person.email
        for number in (person.phone, person.mobile):
            if number:
                assert n.normalize_phone(number).value == number
                assert number.startswith("+49")
        if person.use_organization_address:
            org = person.organization
            assert (person.street, person.postcode, person.city) == (org.street, org.postcode, org.city)
    assert 1 <= flagged <= 0.05 * PEOPLE
    for org in Organization.objects.filter(tenant=tenant):
        assert n.postcode_coordinates(org.postcode) is not None
        assert org.legal_form in Organization.LegalForm.values
        assert org.industry_code[:2].isdigit() and org.industry_code[2] == "."
        if org.vat_id:
            assert n.normalize_vat_id(org.vat_id).value == org.vat_id
        if org.website:
            assert n.normalize_website(org.website).value == org.website
        if org.phone:
            assert n.normalize_phone(org.phone).value == org.phone


def test_names_carry_their_keys(tenant, loaded):
    from leadwerk.contacts.keys import name_key

    for last_name, key in _people(tenant).values_list("last_name", "last_name_key"):
        assert key == name_key(last_name)
    for name, key in Organization.objects.filter(tenant=tenant).values_list("name", "name_key"):
        assert key == name_key(name)


def test_consent_mirror_is_the_newest_marketing_consent(tenant, loaded):
    people = {person.pk: person for person in _people(tenant)}
    newest = {}
    for consent in Consent.objects.filter(tenant=tenant, purpose="marketing").order_by("recorded_at", "id"):
        newest[consent.person_id, consent.channel] = consent.status
    for person in people.values():
        for channel in Channel.values:
            assert person.consent_for(channel) == newest.get((person.pk, channel), "unknown"), (person, channel)
    granted = Consent.objects.filter(tenant=tenant, channel="email", status="granted")
    assert granted.exists()
    for consent in granted:
        assert consent.source == "form" and consent.proof_form == "Newsletter-Anmeldung"
        assert consent.wording_version in ("v2", "v3") and consent.doi_confirmed_at > consent.recorded_at
    share = sum(p.consent_email == "granted" for p in people.values()) / len(people)
    assert 0.3 < share < 0.5
    # Nobody has e-mail consent without a usable address.
    assert not _people(tenant).filter(consent_email="granted", email="").exists()
    assert not [p for p in people.values() if p.consent_email == "granted" and "email_invalid" in p.quality_flags]


def test_suppressed_people_match_a_suppression(tenant, loaded):
    hashes = dict(Suppression.objects.filter(tenant=tenant, kind="email").values_list("value_hash", "reason"))
    suppressed = _people(tenant).exclude(suppressed_reason="")
    assert suppressed.count() == len(hashes)
    for person in suppressed:
        assert hashes[n.contact_hash("email", person.email)] == person.suppressed_reason
        if person.suppressed_reason == Suppression.Reason.OBJECTION:
            assert person.consent_email == "withdrawn"
    assert set(hashes.values()) <= set(Suppression.Reason.values)


def test_duplicates_are_what_the_matcher_flags(tenant, loaded):
    duplicates = _people(tenant).filter(duplicate_of__isnull=False).select_related("duplicate_of")
    assert duplicates.exists()
    for dup in duplicates:
        original = dup.duplicate_of
        assert original.duplicate_of_id is None
        assert (dup.last_name, dup.postcode) == (original.last_name, original.postcode)
        assert dup.email != original.email or not dup.email
        match = person_match(
            tenant_id=tenant.pk,
            email=dup.email,
            phone=dup.phone,
            mobile=dup.mobile,
            first_name=dup.first_name,
            last_name=dup.last_name,
            postcode=dup.postcode,
            street=dup.street,
            organization_id=dup.organization_id,
            exclude_pk=dup.pk,
        )
        assert match is not None and not match.is_sure and match.person_id == original.pk, (dup, match)


def test_attributes_are_valid_for_their_definitions(tenant, loaded):
    keys = set(AttributeDefinition.objects.filter(tenant=tenant, record_type="person").values_list("key", flat=True))
    assert keys == {"fleet_size", "interest"}
    with_values = _people(tenant).exclude(attributes={})
    assert with_values.count() > 0.2 * PEOPLE
    for person in with_values:
        assert (
            attributes_clean(tenant_id=tenant.pk, record_type="person", values=person.attributes) == person.attributes
        )


def test_a_second_load_creates_nothing(tenant, loaded):
    before = {
        model: model.objects.filter(tenant=tenant).count()
        for model in (Person, Organization, Consent, Suppression, PersonTag, Tag, AttributeDefinition, Affiliation)
    }
    assert contacts_load(tenant, people=PEOPLE, organizations=ORGANIZATIONS, seed=8) == loaded
    assert before == {model: model.objects.filter(tenant=tenant).count() for model in before}


def test_the_same_seed_gives_the_same_data(tenant, loaded):
    twin = TenantFactory(name="Nordstern Zwilling", slug="nordstern-twin")  # unknown slug: the same profile
    contacts_load(twin, people=PEOPLE, organizations=ORGANIZATIONS, seed=7)
    fields = ("first_name", "last_name", "email", "phone", "postcode", "consent_email", "consent_post", "attributes")

    def rows(t):
        return list(_people(t).order_by("pk").values_list(*fields))

    assert rows(twin) == rows(tenant)


def test_demo_load_and_reset(db, monkeypatch):
    monkeypatch.setattr(services, "DEMO_PEOPLE", 120)
    monkeypatch.setattr(services, "DEMO_ORGANIZATIONS", 25)
    services.demo_load()
    first = services.demo_contacts()
    assert [slug for slug, _counts in first] == ["nordstern", "datavia"]
    assert all(counts["people"] == 120 for _slug, counts in first)
    services.demo_load()
    assert services.demo_contacts() == first
    datavia = AttributeDefinition.objects.filter(tenant__slug="datavia").values_list("key", flat=True)
    assert set(datavia) == {"it_budget", "products"}

    services.demo_reset()
    assert services.demo_contacts() == []
    for model in (Person, Organization, Consent, Suppression, PersonTag, Tag, AttributeDefinition, Affiliation):
        assert not model.objects.exists(), model
