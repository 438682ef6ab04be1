"""person_match_many gives, row for row, what person_match gives (a seeded table of random cases)."""

from __future__ import annotations

import random

import pytest
from tests.factories import OrganizationFactory

from leadwerk.contacts.keys import name_key
from leadwerk.contacts.matching import BlockIndex, Match, person_match, person_match_many
from leadwerk.contacts.models import Person

pytestmark = pytest.mark.django_db

FIRST = ["Anna", "Anne", "Hans", "Hannes", "Li", "Jürgen", "Jurgen", ""]
LAST = ["Müller", "Mueller", "Muller", "Li", "Lin", "Schmidt", "Schmitt", "Meyer", "Meier", "Öz"]
POSTCODES = ["10115", "01067", "", "80331"]
STREETS = ["Hauptstraße 1", "Hauptstrasse 1", "Ringweg 2", ""]
PHONES = ["+49301234567", "+49301234568", "+4915112345678", ""]
EMAILS = ["a@example.de", "b@example.de", "c@example.de", ""]
EXTERNALS = ["K1", "K2", "", "", ""]


def _values(rng: random.Random, orgs: list[int | None]) -> dict:
    return {
        "first_name": rng.choice(FIRST),
        "last_name": rng.choice(LAST),
        "postcode": rng.choice(POSTCODES),
        "street": rng.choice(STREETS),
        "phone": rng.choice(PHONES),
        "mobile": rng.choice(PHONES),
        "email": rng.choice(EMAILS),
        "organization_id": rng.choice(orgs),
    }


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_set_based_matcher_equals_the_row_by_row_matcher(tenant, other_tenant, seed):
    rng = random.Random(seed)  # noqa: S311 (test data)
    orgs = [OrganizationFactory(tenant=tenant).pk, OrganizationFactory(tenant=tenant).pk, None]
    used_external = set()
    for _ in range(120):
        values = _values(rng, orgs)
        external = rng.choice(EXTERNALS)
        if external in used_external:
            external = ""
        used_external.add(external)
        Person.objects.create(
            tenant=tenant, external_id=external, last_name_key=name_key(values["last_name"]), **values
        )
    # The same data in another tenant must never match.
    Person.objects.create(tenant=other_tenant, last_name="Müller", last_name_key="mueller", email="a@example.de")
    queries = []
    for _ in range(300):
        query = _values(rng, orgs)
        query["external_id"] = rng.choice(EXTERNALS)
        queries.append(query)
    expected = [person_match(tenant_id=tenant.pk, **query) for query in queries]
    assert person_match_many(tenant.pk, queries) == expected
    # The in-memory blocks of a large import give the same answers (short names still come from SQL).
    assert person_match_many(tenant.pk, queries, index=BlockIndex(tenant.pk)) == expected
    assert any(m is not None and m.kind == "probable" for m in expected)
    reasons = {m.reason for m in expected if m is not None}
    assert reasons >= {"email", "phone", "external_id"} and reasons & {"name_postcode", "name_organization"}


@pytest.mark.parametrize(
    ("stored", "query", "expected"),
    [
        # A short name's prefix covers longer names ("Li" → "Lin"); the block is "li", the score decides.
        ({"last_name": "Lin", "postcode": "10115"}, {"last_name": "Li", "postcode": "10115"}, None),
        ({"last_name": "Li", "postcode": "10115"}, {"last_name": "Li", "postcode": "10115"}, "probable"),
        (
            {"last_name": "Li", "postcode": "10115", "street": "Weg 1"},
            {"last_name": "Li", "postcode": "10115", "street": "Weg 1"},
            "sure",
        ),
        # A shared switchboard number alone does not make two people one.
        ({"last_name": "Meyer", "phone": "+49301234567"}, {"last_name": "Schulz", "phone": "+49301234567"}, None),
        ({"last_name": "Meyer", "mobile": "+49301234567"}, {"last_name": "meyer", "phone": "+49301234567"}, "sure"),
    ],
)
def test_table_of_cases(tenant, stored, query, expected):
    Person.objects.create(tenant=tenant, last_name_key=name_key(stored["last_name"]), **stored)
    single = person_match(tenant_id=tenant.pk, **query)
    assert person_match_many(tenant.pk, [query]) == [single]
    assert person_match_many(tenant.pk, [query], index=BlockIndex(tenant.pk)) == [single]
    assert (single.kind if single else None) == expected


def test_rows_of_one_batch_match_each_other(tenant):
    rows = [
        {"last_name": "Wolf", "email": "lea@example.de"},
        {"last_name": "Wolf", "first_name": "Lea", "email": "lea@example.de"},
        {"last_name": "Berg", "phone": "+49301234567"},
        {"last_name": "Berg", "mobile": "+49301234567"},
        {"last_name": "Kranz", "first_name": "Ute", "postcode": "10115"},
        {"last_name": "Kranz", "first_name": "Ute", "postcode": "10115"},
        {"last_name": "Other"},
    ]
    assert person_match_many(tenant.pk, rows) == [None] * 7
    assert person_match_many(tenant.pk, rows, within=True) == [
        None,
        Match(0, "sure", 100, "email", row=0),
        None,
        Match(0, "sure", 100, "phone", row=2),
        None,
        Match(0, "probable", 100, "name_postcode", row=4),
        None,
    ]


def test_block_index_follows_new_and_changed_people(tenant, other_tenant):
    def person(**values):
        return Person.objects.create(tenant=tenant, last_name_key=name_key(values["last_name"]), **values)

    first = person(first_name="Ute", last_name="Kranz", postcode="10115")
    Person.objects.create(tenant=other_tenant, last_name="Kranz", last_name_key="kranz", postcode="10115")
    index = BlockIndex(tenant.pk)
    query = {"first_name": "Ute", "last_name": "Kranz", "postcode": "10115"}
    assert person_match_many(tenant.pk, [query], index=index) == [Match(first.pk, "probable", 100, "name_postcode")]

    # Someone new in the block: seen after refresh(), in pk order behind the first.
    second = person(first_name="Ute", last_name="Kranz", postcode="80331", street="Weg 1")
    assert index.refresh() == 1
    moved = {"first_name": "Ute", "last_name": "Kranz", "postcode": "80331", "street": "Weg 1"}
    assert person_match_many(tenant.pk, [moved], index=index) == [Match(second.pk, "sure", 100, "name_postcode")]

    # The first moves to 80331 (as an import's update would): it leaves 10115 and files before the second.
    before = {"first_name": "Ute", "last_name": "Kranz", "last_name_key": "kranz", "postcode": "10115"}
    after = {**before, "postcode": "80331", "street": "Weg 1"}
    Person.objects.filter(pk=first.pk).update(postcode="80331", street="Weg 1")
    index.refile(first.pk, before, after)
    assert person_match_many(tenant.pk, [query], index=index) == [None]
    assert [entry[0] for entry in index.postcode[("80331", "kra")]] == [first.pk, second.pk]
    assert (
        person_match_many(tenant.pk, [moved], index=index)
        == [person_match(tenant_id=tenant.pk, **moved)]
        == [Match(first.pk, "sure", 100, "name_postcode")]
    )


def test_external_id_lookups_use_the_partial_unique_index(tenant):
    """Without the "not empty" term SQLite reads the whole tenant for each external-id lookup."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's planner (PostgreSQL proves the partial index's condition from the value)")

    Person.objects.create(tenant=tenant, last_name="Berg", last_name_key="berg", external_id="K1")
    with CaptureQueriesContext(connection) as queries:
        single = person_match(tenant_id=tenant.pk, external_id="K1", last_name="Berg")
        many = person_match_many(tenant.pk, [{"external_id": "K1", "last_name": "Berg"}])
    assert many == [single] and single.reason == "external_id"
    lookups = [
        q["sql"] for q in queries.captured_queries if '"external_id" IN' in q["sql"] or '"external_id" =' in q["sql"]
    ]
    assert len(lookups) == 2
    with connection.cursor() as cursor:
        for sql in lookups:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "person_unique_external_id" in plan, plan


def test_block_index_files_new_people_from_memory(tenant):
    index = BlockIndex(tenant.pk)
    person = Person.objects.create(
        tenant=tenant, first_name="Ute", last_name="Kranz", last_name_key="kranz", postcode="10115"
    )
    index.file_new([(person.pk, "10115", None, "kranz", "ute kranz", "")])
    assert index.last_id == person.pk
    assert index.refresh() == 0  # already filed: not read back
    query = {"first_name": "Ute", "last_name": "Kranz", "postcode": "10115"}
    assert person_match_many(tenant.pk, [query], index=index) == [person_match(tenant_id=tenant.pk, **query)]


def test_later_chunk_finds_a_person_an_earlier_chunk_created(marketing, settings):
    """Chunks of one row: the second finds the first's new person through the in-memory blocks."""
    from .helpers import run

    settings.IMPORT_CHUNK_ROWS = 1
    text = "Vorname;Nachname;PLZ;Straße\nUte;Kranz;10115;Weg 1\nUte;Kranz;10115;Weg 1\nUte;Kranz;10115;Weg 2\n"
    job = run(marketing, text, mode="insert")
    assert job.counts == {"created": 2, "existing": 1, "flagged": 1}  # the same street: sure; another: probable
    flagged = Person.objects.get(street="Weg 2")
    assert flagged.duplicate_of == Person.objects.get(street="Weg 1")


def test_block_index_merges_built_and_moved_people_in_id_order(tenant):
    def person(first, postcode):
        return Person.objects.create(
            tenant=tenant, first_name=first, last_name="Kranz", last_name_key="kranz", postcode=postcode
        )

    a, b, c = person("Anna", "10115"), person("Bert", "80331"), person("Cora", "10115")
    index = BlockIndex(tenant.pk)
    assert [entry[0] for entry in index.blocks("postcode", {("10115", "kra")})[("10115", "kra")]] == [a.pk, c.pk]
    # Bert moves into 10115 between Anna and Cora; a newcomer comes after all of them.
    before = {"first_name": "Bert", "last_name": "Kranz", "last_name_key": "kranz", "postcode": "80331"}
    index.refile(b.pk, before, {**before, "postcode": "10115"})
    d = person("Dora", "10115")
    index.refresh()
    found = index.blocks("postcode", {("10115", "kra"), ("80331", "kra")})
    assert [entry[0] for entry in found[("10115", "kra")]] == [a.pk, b.pk, c.pk, d.pk]
    assert found[("80331", "kra")] == []
