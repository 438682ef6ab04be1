"""People search: every kind of input finds the person through an indexed condition."""

from __future__ import annotations

import pytest
from conftest import login
from django.urls import reverse
from tests.factories import OrganizationFactory

from leadwerk.contacts import services


@pytest.fixture
def organization(tenant):
    return OrganizationFactory(tenant=tenant, name="Autohaus Nord GmbH", name_key="autohaus nord gmbh")


@pytest.fixture
def people(marketing, organization):
    services.person_create(
        by=marketing,
        data={
            "last_name": "Brandt",
            "first_name": "Ute",
            "phone": "089 1234567",
            "city": "Frankfurt am Main",
            "postcode": "60311",
            "organization": organization,
        },
    )
    services.person_create(by=marketing, data={"last_name": "Kuhn", "mobile": "0151 23456789", "city": "Hamburg"})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("089 1234567", ["Brandt"]),
        ("+49 (0)89 123 45 67", ["Brandt"]),
        ("0151 23456789", ["Kuhn"]),
        ("1234567", ["Brandt"]),  # a fragment still finds the number's end
        ("603", ["Brandt"]),
        ("hamburg", ["Kuhn"]),
        ("Frankfurt am Main", ["Brandt"]),
        ("Autohaus Nord", ["Brandt"]),
        ("Ute Brandt", ["Brandt"]),
        ("kuhn", ["Kuhn"]),
    ],
)
def test_search_finds_people_by_phone_postcode_city_company_and_name(client, marketing, people, query, expected):
    login(client, marketing)
    url = reverse("contacts:person_list", kwargs={"tenant": "nordstern"})
    assert [p.last_name for p in client.get(url, {"q": query}).context["page"].items] == expected
