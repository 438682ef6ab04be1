"""The write paths of the marketing database: normalise, match, consent, suppression, attributes."""

from __future__ import annotations

import pytest
from tests.factories import MembershipFactory

from leadwerk.accounts.roles import Role
from leadwerk.contacts import services
from leadwerk.contacts.models import AttributeDefinition, ConsentStatus, Person
from leadwerk.core.exceptions import PermissionDenied, ValidationFailed


@pytest.fixture
def writer(marketing):
    return marketing


def create(by, **data):
    return services.person_create(by=by, data=data)


def test_values_are_normalised_on_create(writer):
    result = create(
        writer,
        first_name="  HANS ", last_name="MÜLLER", email=" Hans.Mueller@Example.DE ",
        phone="030 / 1234567", postcode="D-10115", city="BERLIN",
    )  # fmt: skip
    p = result.person
    assert (p.first_name, p.last_name, p.email, p.phone, p.postcode, p.city) == (
        "Hans", "Müller", "hans.mueller@example.de", "+49301234567", "10115", "Berlin",
    )  # fmt: skip
    assert p.quality_flags == []
    assert p.consent_email == ConsentStatus.UNKNOWN


def test_values_that_cannot_be_normalised_are_kept_and_flagged(writer):
    p = create(writer, last_name="Schmidt", email="schmidt(at)firma", phone="12", postcode="99999").person
    assert p.email == "schmidt(at)firma" and p.phone == "12" and p.postcode == "99999"
    assert set(p.quality_flags) == {"email_invalid", "phone_invalid", "postcode_unknown"}


def test_last_name_is_required(writer):
    with pytest.raises(ValidationFailed) as exc:
        create(writer, first_name="Anna", last_name="  ")
    assert exc.value.field == "last_name"
    assert not Person.objects.exists()


def test_same_email_is_a_sure_match_that_fills_gaps(writer):
    first = create(writer, first_name="Eva", last_name="Klein", email="eva.klein@example.de").person
    again = create(writer, first_name="Eva", last_name="Klein", email="EVA.KLEIN@example.de", city="Köln")
    assert not again.created and again.match.reason == "email"
    first.refresh_from_db()
    assert first.city == "Köln"
    assert Person.objects.count() == 1


def test_sure_match_never_blanks_existing_values(writer):
    first = create(writer, last_name="Klein", email="k@example.de", city="Bonn").person
    create(writer, last_name="Klein", email="k@example.de", city="Köln")
    first.refresh_from_db()
    assert first.city == "Bonn"


def test_similar_name_in_same_postcode_is_flagged_not_merged(writer):
    first = create(writer, first_name="Jürgen", last_name="Schneider", postcode="80331").person
    second = create(writer, first_name="Juergen", last_name="Schneider", postcode="80331")
    assert second.created
    assert second.match.kind == "probable"
    assert second.person.duplicate_of_id == first.pk


def test_shared_switchboard_number_does_not_merge_colleagues(writer):
    create(writer, first_name="Ina", last_name="Berg", phone="+49 30 1234567")
    other = create(writer, first_name="Tim", last_name="Wolf", phone="030 1234567")
    assert other.created and other.match is None


def test_matching_stays_inside_the_tenant(writer, outsider):
    create(writer, last_name="Klein", email="k@example.de")
    theirs = MembershipFactory(tenant=outsider.tenant, role=Role.MARKETING)
    assert create(theirs, last_name="Klein", email="k@example.de").created


def test_roles_without_write_access_are_refused(agent, manager):
    for member in (agent, manager):
        with pytest.raises(PermissionDenied):
            create(member, last_name="X")


def test_consent_history_is_kept_and_latest_is_mirrored(writer):
    p = create(writer, last_name="Roth", email="roth@example.de").person
    services.consent_record(
        person=p, by=writer, channel="email", status="granted", source="form", proof_form="Newsletter"
    )
    services.consent_record(person=p, by=writer, channel="email", status="withdrawn", source="letter")
    p.refresh_from_db()
    assert p.consent_email == ConsentStatus.WITHDRAWN
    assert [c.status for c in p.consents.all()] == ["withdrawn", "granted"]
    assert not Person.objects.marketable("email").exists()


def test_imported_consent_without_evidence_is_unknown(writer):
    p = create(writer, last_name="Roth").person
    services.consent_record(person=p, by=writer, channel="email", status="granted", source="import")
    p.refresh_from_db()
    assert p.consent_email == ConsentStatus.UNKNOWN


def test_suppression_blocks_existing_and_future_records(writer, privacy):
    p = create(writer, last_name="Lang", email="lang@example.de").person
    services.consent_record(person=p, by=writer, channel="email", status="granted", source="form", proof_form="x")
    services.suppression_add(by=privacy, kind="email", value="LANG@example.de", reason="objection")
    p.refresh_from_db()
    assert p.suppressed_reason == "objection"
    assert not Person.objects.marketable("email").filter(pk=p.pk).exists()
    p.delete()
    again = create(writer, last_name="Lang", email="lang@example.de").person
    assert again.suppressed_reason == "objection"


def test_suppression_needs_a_valid_value(privacy):
    with pytest.raises(ValidationFailed) as exc:
        services.suppression_add(by=privacy, kind="email", value="nope", reason="bounce")
    assert exc.value.field == "value"


@pytest.fixture
def attributes(admin):
    services.attribute_define(by=admin, record_type="person", key="fleet_size", label="Flottengröße", type="number")
    services.attribute_define(
        by=admin, record_type="person", key="interest", label="Interesse", type="multichoice", choices=["EV", "Hybrid"]
    )
    services.attribute_define(by=admin, record_type="person", key="vip", label="VIP", type="boolean")


def test_attributes_are_validated_by_type(writer, attributes):
    p = services.person_create(
        by=writer, data={"last_name": "Kurz"}, attributes={"fleet_size": "12", "interest": "EV;Hybrid", "vip": "ja"}
    ).person
    assert p.attributes == {"fleet_size": 12, "interest": ["EV", "Hybrid"], "vip": True}
    for bad in ({"fleet_size": "zwölf"}, {"interest": ["Diesel"]}, {"unknown": 1}):
        with pytest.raises(ValidationFailed) as exc:
            services.person_create(by=writer, data={"last_name": "Kurz2"}, attributes=bad)
        assert exc.value.field.startswith("attributes.")


def test_attribute_keys_are_unique_per_record_type(admin, attributes):
    with pytest.raises(ValidationFailed):
        services.attribute_define(by=admin, record_type="person", key="vip", label="VIP 2", type="boolean")
    assert AttributeDefinition.objects.filter(key="vip").count() == 1


def test_changing_organisation_keeps_the_history(writer):
    a = services.organization_create(by=writer, data={"name": "Alpha GmbH"})
    b = services.organization_create(by=writer, data={"name": "Beta AG"})
    p = create(writer, last_name="Weber", organization=a).person
    services.person_update(person=p, by=writer, data={"organization": b})
    history = list(p.affiliations.order_by("started_at").values_list("organization__name", "ended_at"))
    assert history[0][0] == "Alpha GmbH" and history[0][1] is not None
    assert history[1] == ("Beta AG", None)


def test_organisation_of_another_tenant_is_refused(writer, outsider):
    foreign = services.organization_create(
        by=MembershipFactory(tenant=outsider.tenant, role=Role.MARKETING), data={"name": "X"}
    )
    with pytest.raises(ValidationFailed) as exc:
        create(writer, last_name="Y", organization=foreign)
    assert exc.value.field == "organization"


def test_organisation_values_are_normalised(writer):
    org = services.organization_create(
        by=writer,
        data={"name": " Muster  GmbH ", "website": "Muster.DE", "vat_id": "de 123 456 789", "postcode": "20095"},
    )
    assert (org.name, org.website, org.vat_id) == ("Muster GmbH", "https://muster.de", "DE123456789")
    assert org.quality_flags == []
