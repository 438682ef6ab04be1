"""Matching before the write transaction (person_match_ahead) and only the newcomers inside it."""

from __future__ import annotations

import pytest

from leadwerk.contacts import services
from leadwerk.contacts.matching import Match, match_combined
from leadwerk.contacts.models import Person
from leadwerk.core.memo import config_memo


def sure(pk, reason):
    return Match(pk, "sure", 100, reason)


def probable(pk, score, reason="name_postcode"):
    return Match(pk, "probable", score, reason)


@pytest.mark.parametrize(
    ("earlier", "newer", "expected"),
    [
        (None, None, None),
        (None, sure(9, "email"), sure(9, "email")),
        (probable(3, 92), None, probable(3, 92)),
        (sure(3, "email"), sure(9, "email"), sure(3, "email")),  # the older person is found first
        (sure(3, "phone"), sure(9, "email"), sure(9, "email")),  # e-mail is tried before phone
        (sure(3, "external_id"), sure(9, "email"), sure(3, "external_id")),
        (probable(3, 95), sure(9, "phone"), sure(9, "phone")),
        (sure(3, "name_postcode"), sure(9, "phone"), sure(9, "phone")),  # an exact identifier before names
        (probable(3, 91), probable(9, 96), probable(9, 96)),
        (probable(3, 96), probable(9, 96), probable(3, 96)),
        (probable(3, 99), sure(9, "name_organization"), sure(9, "name_organization")),
    ],
)
def test_combined_answer_is_what_one_match_over_everyone_gives(earlier, newer, expected):
    assert match_combined(earlier, newer) == expected


DATA = {"first_name": "Jonas", "last_name": "Wagner", "email": "jonas@example.de", "postcode": "80331"}


def test_a_person_created_after_the_early_match_is_still_found(marketing):
    with config_memo():
        services.person_match_ahead(tenant=marketing.tenant, data=DATA)  # nobody yet
        # meanwhile another request creates the same person
        other = services.person_upsert(by=marketing, data={**DATA, "email": "JONAS@example.de "}).person
        result = services.person_upsert(by=marketing, data=DATA)
    assert not result.created and result.person.pk == other.pk and result.match.reason == "email"
    assert Person.objects.count() == 1


def test_the_early_match_is_used_without_matching_everyone_again(marketing):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    known = services.person_upsert(by=marketing, data=DATA).person
    with config_memo():
        services.person_match_ahead(tenant=marketing.tenant, data=DATA)
        with CaptureQueriesContext(connection) as ctx:
            result = services.person_upsert(by=marketing, data={**DATA, "first_name": "JONAS"})
    assert not result.created and result.person.pk == known.pk
    lookups = [q["sql"] for q in ctx.captured_queries if '"contacts_person"."email" =' in q["sql"]]
    assert lookups and all('"contacts_person"."id" >' in sql for sql in lookups)  # newcomers only


def test_an_early_match_merged_away_meanwhile_is_matched_again(marketing):
    first = services.person_upsert(by=marketing, data=DATA).person
    with config_memo():
        services.person_match_ahead(tenant=marketing.tenant, data=DATA)  # finds `first`
        second = Person.objects.create(tenant=marketing.tenant, first_name="Jonas", last_name="Wagner",
                                       email="jonas@example.de", postcode="80331")  # fmt: skip
        Person.objects.filter(pk=first.pk).delete()  # e.g. merged into the second
        result = services.person_upsert(by=marketing, data=DATA)
    assert not result.created and result.person.pk == second.pk


def test_bad_data_is_left_to_the_write_path(marketing):
    with config_memo():
        services.person_match_ahead(tenant=marketing.tenant, data={"first_name": "Ohne"})  # no last name
        with pytest.raises(services.ValidationFailed):
            services.person_upsert(by=marketing, data={"first_name": "Ohne"})
