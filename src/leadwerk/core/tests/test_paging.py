"""Keyset pagination walks every row exactly once, in order, whichever direction and however many ties."""

from __future__ import annotations

import pytest
from tests.factories import PersonFactory

from leadwerk.contacts.models import Person
from leadwerk.core.paging import keyset_paginate


@pytest.fixture
def people(tenant):
    # Many equal keys, so pages must break ties by pk.
    return [PersonFactory(tenant=tenant, last_name_key=f"name{i % 4}", birth_year=1950 + i % 3) for i in range(23)]


@pytest.mark.parametrize(
    ("key", "expected_order"),
    [
        ("last_name_key", lambda p: (p.last_name_key, p.pk)),
        ("-birth_year", lambda p: (-p.birth_year, -p.pk)),
        ("-pk", lambda p: -p.pk),
    ],
)
def test_pages_cover_every_row_once_in_order(people, key, expected_order):
    seen, cursor, first = [], None, True
    while True:
        page = keyset_paginate(Person.objects.all(), key=key, cursor=cursor, size=5)
        assert page.is_first == first
        seen.extend(page.items)
        if page.next_cursor is None:
            break
        cursor, first = page.next_cursor, False
    assert [p.pk for p in seen] == [p.pk for p in sorted(people, key=expected_order)]


def test_a_garbled_cursor_starts_from_the_beginning(people):
    page = keyset_paginate(Person.objects.all(), key="last_name_key", cursor="not-a-cursor", size=5)
    assert page.is_first and len(page.items) == 5
