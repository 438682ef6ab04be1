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
        ("Brandt Ute", ["Brandt"]),  # last name first, as lists write it
        ("Brandt Kuhn", []),
        ("kuhn", ["Kuhn"]),
    ],
)
def test_search_finds_people_by_phone_postcode_city_company_and_name(client, marketing, people, query, expected):
    login(client, marketing)
    url = reverse("contacts:person_list", kwargs={"tenant": "nordstern"})
    assert [p.last_name for p in client.get(url, {"q": query}).context["page"].items] == expected


@pytest.fixture
def town(marketing, tenant, organization):
    """People whose city, last name or company match "Ber", so the search's branches overlap."""
    from leadwerk.contacts.models import Person

    bertelsmann = OrganizationFactory(tenant=tenant, name="Bertelsmann", name_key="bertelsmann")
    rows = [
        ("Berger", "Köln", None),
        ("Adler", "Berlin", None),
        ("Zeller", "Berlin", organization),
        ("Bergmann", "Bernau", None),
        ("Meier", "Bergisch Gladbach", None),
        ("Müller", "Hamburg", None),
        ("Adler", "Bernau", None),
        ("Schulz", "Hamburg", bertelsmann),
    ]
    for i in range(3):
        for last, city, org in rows:
            services.person_create(
                by=marketing, data={"last_name": last, "first_name": f"P{i}", "city": city, "organization": org}
            )
    return Person.objects.filter(tenant=tenant)


@pytest.mark.parametrize("dense_rows", [1000, 2])
def test_search_pages_through_its_branches_like_one_ordered_query(marketing, town, monkeypatch, dense_rows):
    """Paged by separate walks (sparse: each branch's own index; dense: the name index), the pages are the
    same as one ORDER BY over the OR, without gaps or repeats."""
    from leadwerk.contacts import querysets, selectors
    from leadwerk.core.paging import keyset_paginate

    monkeypatch.setattr(querysets, "DENSE_ROWS", dense_rows)
    people = selectors.person_filter(membership=marketing, filters={"q": "ber"})
    assert people.keyset_branches("last_name_key") is not None
    expected = [p.pk for p in people.order_by("last_name_key", "pk")]
    assert len(expected) == 21  # all but the Müller of Hamburg: by name, city or company, or several
    seen, cursor = [], None
    while True:
        page = keyset_paginate(people, key="last_name_key", cursor=cursor, size=4)
        seen += [p.pk for p in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected


def test_a_filter_after_the_search_drops_the_branch_plan(marketing, town):
    from leadwerk.contacts.models import Person

    searched = Person.objects.visible_to(marketing).search("ber", tenant_id=marketing.tenant_id)
    assert searched.keyset_branches("last_name_key") is not None
    assert searched.select_related("organization").keyset_branches("last_name_key") is not None
    assert searched.filter(city="Berlin").keyset_branches("last_name_key") is None
