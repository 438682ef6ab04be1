"""The benchmark data generator (bench/datagen.py): deterministic, valid, and near-duplicates that stay near."""

from __future__ import annotations

import csv
import importlib.util
import random
import sys
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from leadwerk.contacts.keys import name_key
from leadwerk.contacts.normalize import normalize_email, normalize_phone, normalize_postcode

_PATH = Path(__file__).resolve().parent.parent / "bench" / "datagen.py"
_spec = importlib.util.spec_from_file_location("bench_datagen", _PATH)
datagen = importlib.util.module_from_spec(_spec)
sys.modules["bench_datagen"] = datagen
_spec.loader.exec_module(datagen)


@pytest.fixture(scope="module")
def rows():
    return list(datagen.people(3000, seed=5))


def test_same_seed_gives_same_people_and_start_continues_the_sequence(rows):
    assert list(datagen.people(3000, seed=5)) == rows
    assert list(datagen.people(20, seed=5, start=100)) == rows[100:120]
    assert list(datagen.people(3, seed=6)) != rows[:3]
    assert [row["external_id"] for row in datagen.people(2, seed=5, start=41)] == ["P0000041", "P0000042"]


def test_values_are_already_normalised_and_valid(rows):
    for row in rows:
        assert row["last_name"] and row["first_name"]
        assert normalize_postcode(row["postcode"]) == normalize_postcode(row["postcode"]).__class__(
            row["postcode"], True, None
        )
        for field in ("phone", "mobile"):
            if row[field]:
                assert normalize_phone(row[field]).value == row[field]
        if row["email"]:
            assert normalize_email(row["email"]).value == row["email"]
        assert row["country"] == "DE"


def test_shares_of_optional_values_are_realistic(rows):
    def share(field):
        return sum(1 for row in rows if row[field]) / len(rows)

    assert 0.65 < share("email") < 0.75
    assert 0.55 < share("phone") < 0.65
    assert 0.25 < share("mobile") < 0.35
    assert 0.15 < share("birth_year") < 0.25
    assert share("title") < 0.06


def test_identifiers_never_repeat_within_a_seed(rows):
    for field in ("email", "phone", "mobile", "external_id"):
        values = [row[field] for row in rows if row[field]]
        assert len(values) == len(set(values)), field


def test_near_duplicate_differs_but_stays_similar(rows):
    rng = random.Random(1)  # noqa: S311
    identifiers = ("email", "phone", "mobile", "first_name", "last_name", "street")
    for row in rows[:500]:
        dup = datagen.near_duplicate(row, rng)
        assert dup["external_id"] != row["external_id"]
        assert any(dup[key] != row[key] for key in identifiers)
        assert dup["postcode"] == row["postcode"]
        # Same initial (typo, short form or "T."), and a last name at most one slip away.
        assert dup["first_name"][0] == row["first_name"][0]
        assert fuzz.ratio(name_key(dup["last_name"]), name_key(row["last_name"])) >= 75
        # Changed identifiers still normalise to the original, unless dropped.
        if dup["email"]:
            assert normalize_email(dup["email"]).value == row["email"]
        for field in ("phone", "mobile"):
            if dup[field]:
                assert normalize_phone(dup[field]).value == row[field]


def test_import_file_has_german_headers_duplicates_and_bad_rows(tmp_path):
    path = datagen.write_import_csv(tmp_path / "import.csv", 4000, existing_n=2000, duplicate_rate=0.1, bad_rate=0.01)
    with open(path, encoding="utf-8-sig", newline="") as f:
        lines = list(csv.reader(f, delimiter=";"))
    header, body = lines[0], lines[1:]
    assert header == datagen.IMPORT_HEADER
    assert len(body) == 4000
    existing_emails = {row["email"] for row in datagen.people(2000, seed=1) if row["email"]}
    emails = [normalize_email(line[4]).value for line in body]
    from_existing = sum(1 for email in emails if email in existing_emails)
    assert 100 < from_existing < 400  # about 10 % duplicates, some without their e-mail
    nameless = sum(1 for line in body if not line[2] and not line[3])
    invalid = sum(1 for line in body if line[4] and not normalize_email(line[4]).ok)
    assert 5 < nameless + invalid < 80
    assert all(normalize_postcode(line[8]).ok or len(line[8]) == 4 for line in body if line[8])
