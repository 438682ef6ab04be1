"""The segment condition language: every field kind and operator, groups, validation, channel exclusions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from tests.factories import OrganizationFactory, PersonFactory

from leadwerk.contacts.models import AttributeDefinition, Person, PersonTag, Tag
from leadwerk.contacts.segments import (
    FIELDS,
    OPERATORS,
    SegmentCounts,
    definition_clean,
    registry_for,
    segment_counts,
)
from leadwerk.core.exceptions import ValidationFailed


def cond(field, operator, value=None):
    return {"field": field, "operator": operator, "value": value}


def AND(*children):
    return {"op": "and", "children": list(children)}


def OR(*children):
    return {"op": "or", "children": list(children)}


@pytest.fixture
def people(tenant, other_tenant):
    """A small database where every condition below picks a known set of last names."""
    big = OrganizationFactory(
        tenant=tenant,
        name="Auto Groß AG",
        industry_code="29.10",
        employees="1000+",
        revenue="250m+",
        legal_form="AG",
        postcode="80331",
        city="München",
        street="Hauptstr. 1",
    )
    small = OrganizationFactory(
        tenant=tenant, name="Klein KG", industry_code="45.11", employees="1-9", revenue="<2m", legal_form="KG",
        postcode="20095", city="Hamburg",
    )  # fmt: skip
    for key, kind, choices in (
        ("fleet", "number", []),
        ("since", "date", []),
        ("vip", "boolean", []),
        ("budget", "choice", ["low", "high"]),
        ("interest", "multichoice", ["Ölheizung", "EV", "Hybrid"]),
        ("note", "text", []),
    ):
        AttributeDefinition.objects.create(
            tenant=tenant, record_type="person", key=key, label=key.title(), type=kind, choices=choices
        )
    rows = {
        "Adler": dict(
            first_name="Anna", postcode="80331", city="München", state="Bayern", organization=big,
            birth_year=1970, consent_email="granted", consent_post="granted", street="A-Weg 1",
            attributes={"fleet": 120, "since": "2020-05-01", "vip": True, "budget": "high",
                        "interest": ["EV", "Ölheizung"], "note": "Stammkunde"},
        ),
        "Berger": dict(
            first_name="Bernd", postcode="81999", city="München", state="Bayern", organization=small,
            birth_year=1985, consent_email="granted", suppressed_reason="objection",
            attributes={"fleet": 5, "since": "2024-01-15", "budget": "low", "interest": ["Hybrid"]},
        ),
        "Christ": dict(
            first_name="Clara", postcode="82000", city="Starnberg", state="Bayern", email="",
            consent_email="granted", phone="+4989123456", consent_phone="denied", attributes={"vip": False},
        ),
        "Dorn": dict(
            first_name="Dieter", postcode="20095", city="Hamburg", state="Hamburg", country="DE",
            consent_email="withdrawn", mobile="+491701234567", consent_sms="granted", title="Dr.",
            duplicate_of=None, quality_flags=["postcode_unknown"], language="en",
        ),
        "Ebert": dict(
            first_name="Eva", postcode="", city="", state="", country="AT", email="eva@example.test",
            consent_email="unknown", organization=big, use_organization_address=True, consent_post="granted",
        ),
    }  # fmt: skip
    made = {}
    for last_name, fields in rows.items():
        fields.setdefault("street", "")
        made[last_name] = PersonFactory(
            tenant=tenant, last_name=last_name, last_name_key=last_name.lower(), position="", **fields
        )
    made["Dorn"].duplicate_of = made["Adler"]
    made["Dorn"].save()
    messe, vip = Tag.objects.create(tenant=tenant, name="Messe"), Tag.objects.create(tenant=tenant, name="VIP")
    for person, tag in ((made["Adler"], messe), (made["Adler"], vip), (made["Berger"], messe), (made["Dorn"], vip)):
        PersonTag.objects.create(tenant=tenant, person=person, tag=tag)
    # Another tenant's look-alike never counts.
    PersonFactory(tenant=other_tenant, last_name="Adler", last_name_key="adler", postcode="80331")
    return made


def names(membership, definition, channel=None):
    from leadwerk.contacts.segments import definition_q

    registry = registry_for(membership)
    clean = definition_clean(definition, registry)
    people = Person.objects.visible_to(membership).filter(definition_q(clean, registry))
    return set(people.values_list("last_name", flat=True))


ALL = {"Adler", "Berger", "Christ", "Dorn", "Ebert"}

CASES = [
    # plain person fields
    (cond("last_name", "eq", "ADLER"), {"Adler"}),
    (cond("last_name", "starts_with", "b"), {"Berger"}),
    (cond("last_name", "in", ["Dorn", "Ebert"]), {"Dorn", "Ebert"}),
    (cond("last_name", "neq", "adler"), ALL - {"Adler"}),
    (cond("first_name", "contains", "er"), {"Berger", "Dorn"}),
    (cond("title", "not_empty"), {"Dorn"}),
    (cond("title", "empty"), ALL - {"Dorn"}),
    (cond("language", "eq", "en"), {"Dorn"}),
    (cond("salutation", "in", ["mr", "ms"]), set()),
    # postcodes: ranges, prefixes, lists
    (cond("postcode", "between", ["80000", "81999"]), {"Adler", "Berger"}),
    (cond("postcode", "between", ["80", "82"]), {"Adler", "Berger", "Christ"}),
    (cond("postcode", "starts_with", "8"), {"Adler", "Berger", "Christ"}),
    (cond("postcode", "starts_with", "819"), {"Berger"}),
    (cond("postcode", "eq", "20095"), {"Dorn"}),
    (cond("postcode", "in", ["20095", "82000"]), {"Christ", "Dorn"}),
    (cond("postcode", "not_in", ["20095"]), ALL - {"Dorn"}),
    (cond("postcode", "empty"), {"Ebert"}),
    (cond("city", "eq", "münchen"), {"Adler", "Berger"}),
    (cond("state", "in", ["Bayern"]), {"Adler", "Berger", "Christ"}),
    (cond("country", "neq", "DE"), {"Ebert"}),
    # numbers
    (cond("birth_year", "lt", 1980), {"Adler"}),
    (cond("birth_year", "gte", 1985), {"Berger"}),
    (cond("birth_year", "between", [1960, 1990]), {"Adler", "Berger"}),
    (cond("birth_year", "empty"), {"Christ", "Dorn", "Ebert"}),
    (cond("birth_year", "neq", 1970), {"Berger"}),
    # derived yes/no
    (cond("has_email", "is", False), {"Christ"}),
    (cond("has_phone", "is", True), {"Christ", "Dorn"}),
    (cond("has_mobile", "is", True), {"Dorn"}),
    (cond("has_address", "is", True), {"Adler", "Ebert"}),
    (cond("suppressed", "is", True), {"Berger"}),
    (cond("suppressed", "is", False), ALL - {"Berger"}),
    (cond("duplicate", "is", True), {"Dorn"}),
    (cond("quality_problems", "is", True), {"Dorn"}),
    (cond("has_organization", "is", False), {"Christ", "Dorn"}),
    # consent per channel
    (cond("consent.email", "eq", "granted"), {"Adler", "Berger", "Christ"}),
    (cond("consent.email", "in", ["withdrawn", "unknown"]), {"Dorn", "Ebert"}),
    (cond("consent.phone", "neq", "unknown"), {"Christ"}),
    # organisation facts
    (cond("org.industry_code", "starts_with", "29"), {"Adler", "Ebert"}),
    (cond("org.industry_code", "in", ["45", "46"]), {"Berger"}),
    (cond("org.industry_code", "empty"), {"Christ", "Dorn"}),
    (cond("org.employees", "at_least", "250-999"), {"Adler", "Ebert"}),
    (cond("org.employees", "at_most", "10-49"), {"Berger"}),
    (cond("org.revenue", "eq", "<2m"), {"Berger"}),
    (cond("org.legal_form", "not_in", ["AG"]), {"Berger", "Christ", "Dorn"}),
    (cond("org.postcode", "between", ["80000", "81999"]), {"Adler", "Ebert"}),
    (cond("org.city", "eq", "Hamburg"), {"Berger"}),
    (cond("org.name", "starts_with", "auto"), {"Adler", "Ebert"}),
    # tags
    (cond("tags", "has_any", ["Messe", "VIP"]), {"Adler", "Berger", "Dorn"}),
    (cond("tags", "has_all", ["Messe", "VIP"]), {"Adler"}),
    (cond("tags", "has_none", ["Messe"]), {"Christ", "Dorn", "Ebert"}),
    # tenant attributes by type
    (cond("attr.fleet", "gt", 100), {"Adler"}),
    (cond("attr.fleet", "between", [1, 10]), {"Berger"}),
    (cond("attr.fleet", "empty"), {"Christ", "Dorn", "Ebert"}),
    (cond("attr.since", "before", "2021-01-01"), {"Adler"}),
    (cond("attr.since", "between", ["2024-01-01", "2024-12-31"]), {"Berger"}),
    (cond("attr.vip", "is", True), {"Adler"}),
    (cond("attr.vip", "is", False), ALL - {"Adler"}),
    (cond("attr.budget", "eq", "low"), {"Berger"}),
    (cond("attr.budget", "in", ["low", "high"]), {"Adler", "Berger"}),
    (cond("attr.budget", "neq", "low"), {"Adler"}),
    (cond("attr.interest", "contains_any", ["Ölheizung", "Hybrid"]), {"Adler", "Berger"}),
    (cond("attr.interest", "contains_all", ["EV", "Ölheizung"]), {"Adler"}),
    (cond("attr.interest", "contains_none", ["EV"]), ALL - {"Adler"}),
    (cond("attr.note", "contains", "stamm"), {"Adler"}),
    (cond("attr.note", "not_empty"), {"Adler"}),
]


@pytest.mark.parametrize(("condition", "expected"), CASES, ids=[f"{c['field']}-{c['operator']}" for c, _ in CASES])
def test_each_condition_picks_exactly_its_people(marketing, people, condition, expected):
    assert names(marketing, AND(condition)) == expected


def test_dates_absolute_and_relative(marketing, people):
    Person.objects.filter(pk=people["Adler"].pk).update(created_at=timezone.now() - timedelta(days=400))
    Person.objects.filter(pk=people["Berger"].pk).update(created_at=timezone.now() - timedelta(days=40))
    last_year = (timezone.now() - timedelta(days=365)).date().isoformat()
    assert names(marketing, AND(cond("created_at", "before", last_year))) == {"Adler"}
    assert names(marketing, AND(cond("created_at", "since", last_year))) == ALL - {"Adler"}
    assert names(marketing, AND(cond("created_at", "in_last_days", 30))) == {"Christ", "Dorn", "Ebert"}
    assert names(marketing, AND(cond("created_at", "not_in_last_days", 30))) == {"Adler", "Berger"}
    today = timezone.localdate().isoformat()
    assert names(marketing, AND(cond("created_at", "between", [today, today]))) == {"Christ", "Dorn", "Ebert"}
    assert names(marketing, AND(cond("updated_at", "in_last_days", 1))) == ALL


def test_groups_combine_with_and_or_and_nest(marketing, people):
    bavaria_or_hamburg = OR(cond("state", "eq", "Bayern"), cond("city", "eq", "Hamburg"))
    assert names(marketing, AND(bavaria_or_hamburg, cond("tags", "has_any", ["VIP"]))) == {"Adler", "Dorn"}
    nested = OR(
        AND(cond("postcode", "starts_with", "8"), OR(cond("birth_year", "lt", 1980), cond("has_email", "is", False))),
        AND(cond("country", "eq", "AT")),
    )
    assert names(marketing, nested) == {"Adler", "Christ", "Ebert"}
    three_deep = AND(OR(AND(OR(cond("last_name", "eq", "Dorn"))), cond("last_name", "eq", "Ebert")))
    assert names(marketing, three_deep) == {"Dorn", "Ebert"}


def test_an_empty_definition_is_everyone_of_the_tenant(marketing, people):
    assert names(marketing, {"op": "and", "children": []}) == ALL
    assert names(marketing, {}) == ALL


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        (AND(cond("shoe_size", "eq", "42")), "definition.children.0.field"),
        (AND(cond("city", "between", ["A", "B"])), "definition.children.0.operator"),
        (AND(cond("city", "eq", "x"), cond("birth_year", "gt", "old")), "definition.children.1.value"),
        (AND(cond("city", "eq", "")), "definition.children.0.value"),
        (AND(OR(cond("city", "eq", "x"), cond("tags", "has_any", ["No"]))), "definition.children.0.children.1.value.0"),
        (AND(cond("postcode", "between", ["80000"])), "definition.children.0.value"),
        (AND(cond("birth_year", "between", [1990, 1980])), "definition.children.0.value.1"),
        (AND(cond("org.employees", "eq", "huge")), "definition.children.0.value"),
        (AND(cond("attr.interest", "contains_any", ["Diesel"])), "definition.children.0.value.0"),
        (AND(cond("created_at", "in_last_days", -3)), "definition.children.0.value"),
        (AND(cond("created_at", "since", "yesterday")), "definition.children.0.value"),
        (AND(cond("has_email", "is", "maybe")), "definition.children.0.value"),
        (AND(cond("org.industry_code", "starts_with", "C29")), "definition.children.0.value"),
        (AND(OR()), "definition.children.0"),
        ({"op": "xor", "children": []}, "definition.op"),
        (AND(AND(AND(AND(AND(cond("city", "eq", "x")))))), "definition.children.0.children.0.children.0.children.0"),
        (AND("city = x"), "definition.children.0"),
    ],
)  # fmt: skip
def test_invalid_definitions_name_the_offending_input(marketing, people, definition, field):
    with pytest.raises(ValidationFailed) as exc:
        definition_clean(definition, registry_for(marketing))
    assert exc.value.field == field


def test_clean_normalises_values(marketing, people):
    clean = definition_clean(
        AND(cond("postcode", "in", "80331, 81 999"), cond("birth_year", "eq", "1970"), cond("city", "empty", "x")),
        registry_for(marketing),
    )
    assert clean["children"] == [
        cond("postcode", "in", ["80331", "81999"]),
        cond("birth_year", "eq", 1970),
        cond("city", "empty", None),
    ]


def test_every_operator_has_a_label_and_every_field_an_operator():
    for spec in FIELDS.values():
        assert spec.operators and all(op in OPERATORS for op in spec.operators), spec.key


# --- channel exclusions ----------------------------------------------------------------------------


def test_email_channel_excludes_suppressed_unconsented_and_addressless_with_exact_counts(marketing, people):
    counts = segment_counts(membership=marketing, definition={}, channel="email")
    # Adler: eligible. Berger: suppressed (granted, but the suppression wins). Christ: granted but no address.
    # Dorn: withdrawn. Ebert: unknown consent is not marketable.
    assert counts == SegmentCounts(
        total=5,
        eligible=1,
        excluded_suppressed=1,
        excluded_no_consent=2,
        excluded_no_contact_data=1,
        suppressed=1,
        channel="email",
    )


def test_post_channel_uses_the_organisations_address_when_the_person_does(marketing, people):
    counts = segment_counts(membership=marketing, definition={}, channel="post")
    # Adler (own address) and Ebert (organisation's address) have consent for post; nobody else does.
    assert (counts.eligible, counts.excluded_no_consent, counts.excluded_suppressed) == (2, 2, 1)
    assert counts.total == counts.eligible + counts.excluded_suppressed + counts.excluded_no_consent + (
        counts.excluded_no_contact_data
    )


def test_phone_and_sms_channels(marketing, people):
    phone = segment_counts(membership=marketing, definition={}, channel="phone")
    assert (phone.eligible, phone.excluded_no_consent) == (0, 4)  # Christ denied
    sms = segment_counts(membership=marketing, definition={}, channel="sms")
    assert sms.eligible == 1  # Dorn: mobile and consent


def test_without_channel_nobody_is_excluded_but_suppressed_are_counted(marketing, people):
    counts = segment_counts(membership=marketing, definition=AND(cond("state", "eq", "Bayern")), channel=None)
    assert counts == SegmentCounts(3, 3, 0, 0, 0, suppressed=1, channel=None)


def test_counts_refuse_an_unknown_channel(marketing, people):
    with pytest.raises(ValidationFailed) as exc:
        segment_counts(membership=marketing, definition={}, channel="pigeon")
    assert exc.value.field == "channel"


def test_counts_see_only_the_membership_tenant(outsider, people):
    assert segment_counts(membership=outsider, definition={}, channel=None).total == 1


def test_roles_without_contacts_count_nothing(agent, people):
    assert segment_counts(membership=agent, definition={}, channel=None).total == 0
