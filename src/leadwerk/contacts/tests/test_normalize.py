"""Normalisation of contact data: German formats, bad input, empty input, and properties that must hold for any text."""

from __future__ import annotations

import hashlib
import unicodedata

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from leadwerk.contacts.normalize import (
    FLAG_LABELS,
    Normalized,
    clean_text,
    contact_hash,
    normalize_country,
    normalize_email,
    normalize_name,
    normalize_phone,
    normalize_postcode,
    normalize_vat_id,
    normalize_website,
    postcode_coordinates,
)

OK_EMPTY = Normalized("", True, None)

# No example database: it would leave a .hypothesis/ folder in the working tree.
properties = settings(database=None, max_examples=300, deadline=None)


# --- clean_text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ""),
        ("", ""),
        ("   ", ""),
        ("Hauptstraße 1", "Hauptstraße 1"),
        ("  Müller  GmbH ", "Müller GmbH"),
        ("Müller\u00a0GmbH", "Müller GmbH"),  # non-breaking space from a web page
        ("Müller\u202fGmbH", "Müller GmbH"),  # narrow no-break space
        ("Zeile 1\r\nZeile 2\tEnde", "Zeile 1 Zeile 2 Ende"),
        ("Nord\x00stern\x07", "Nordstern"),
        ("\ufeffNordstern", "Nordstern"),  # BOM at the start of a CSV
        ("Nord\u200bstern", "Nordstern"),  # zero-width space
        ("Lüden\u00adscheidt", "Lüdenscheidt"),  # soft hyphen
        ("\u202eevil", "evil"),  # bidi override
        ("Mu\u0308ller", "Müller"),  # decomposed umlaut (macOS) becomes NFC
        (10115, "10115"),
        (10115.0, "10115"),  # spreadsheet number
        (float("nan"), ""),  # spreadsheet empty cell
        (b"M\xc3\xbcller", "Müller"),
    ],
)
def test_clean_text_trims_collapses_and_strips_invisible_characters(raw, expected):
    assert clean_text(raw) == expected


def test_clean_text_keeps_zero_width_joiners_that_carry_meaning():
    assert clean_text("می\u200cخواهم") == "می\u200cخواهم"


@properties
@given(st.text())
def test_clean_text_never_leaves_edge_or_double_whitespace(raw):
    cleaned = clean_text(raw)
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned
    assert all(ch == " " or not ch.isspace() for ch in cleaned)
    assert not any(unicodedata.category(ch) == "Cc" for ch in cleaned)


@properties
@given(st.text())
def test_clean_text_is_idempotent_and_nfc(raw):
    cleaned = clean_text(raw)
    assert clean_text(cleaned) == cleaned
    assert unicodedata.is_normalized("NFC", cleaned)


# --- names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("MÜLLER-LÜDENSCHEIDT", "Müller-Lüdenscheidt"),
        ("hans peter", "Hans Peter"),
        ("o'neil", "O'Neil"),
        ("D'ANGELO", "D'Angelo"),
        ("ludwig VAN beethoven", "Ludwig van Beethoven"),
        ("VON DER LEYEN", "von der Leyen"),
        ("karl-theodor zu guttenberg", "Karl-Theodor zu Guttenberg"),
        ("jan van 't hof", "Jan van 't Hof"),
        ("GROß", "Groß"),
        ("MCDONALD", "McDonald"),
        ("van ijzendoorn", "van IJzendoorn"),
        ("J.R.R. TOLKIEN", "J.R.R. Tolkien"),
        ("  hans\u00a0\tPETER  ", "Hans Peter"),
    ],
)
def test_names_typed_in_one_case_get_proper_case(raw, expected):
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["McDonald", "de Vries", "DJ Bobo", "Hans MÜLLER", "o'Neil", "Müller", "李小龍", "Ελένη"],
)
def test_names_with_deliberate_or_no_case_stay_as_typed(raw):
    assert normalize_name(raw) == raw


@pytest.mark.parametrize(
    ("raw", "expected"), [("DE", "De"), ("van", "Van"), ("VON DER", "Von Der"), ("HANS DER", "Hans Der")]
)
def test_a_particle_is_lower_case_only_before_a_name_word(raw, expected):
    assert normalize_name(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "  \t "])
def test_empty_name_is_empty(raw):
    assert normalize_name(raw) == ""


@properties
@given(st.text())
def test_normalize_name_is_idempotent(raw):
    once = normalize_name(raw)
    assert normalize_name(once) == once


# --- e-mail ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hans.mueller@example.de", "hans.mueller@example.de"),
        ("  Hans.Mueller@Example.DE ", "hans.mueller@example.de"),
        ("<info@nordstern.test>", "info@nordstern.test"),
        ("MAILTO:Info@Nordstern.test", "info@nordstern.test"),
        ("mailto:info@nordstern.test?subject=Anfrage", "info@nordstern.test"),
        ("Hans Müller <Hans@Nordstern.test>", "hans@nordstern.test"),
        ("info@müller.de", "info@müller.de"),
    ],
)
def test_email_is_unwrapped_and_lower_cased(raw, expected):
    assert normalize_email(raw) == Normalized(expected, True, None)


@pytest.mark.parametrize(
    "raw",
    ["hans.mueller", "hans@", "@example.de", "hans@example", "hans@localhost", "hans müller@example.de", "a@b.de."],
)
def test_invalid_email_is_flagged_and_kept_cleaned(raw):
    assert normalize_email(f" {raw} ") == Normalized(raw, False, "email_invalid")


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_empty_email_is_ok(raw):
    assert normalize_email(raw) == OK_EMPTY


@properties
@given(st.text())
def test_normalize_email_never_raises(raw):
    result = normalize_email(raw)
    assert result.ok is (result.flag is None)


@properties
@given(st.one_of(st.emails(), st.text()))
def test_normalize_email_is_idempotent(raw):
    once = normalize_email(raw)
    assert normalize_email(once.value) == once


# --- phone -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("030 123456", "+4930123456"),
        ("0049 30 123456", "+4930123456"),
        ("+49 (0) 30 123456", "+4930123456"),
        ("+49 (0)30 123456", "+4930123456"),
        ("030/123456-7", "+49301234567"),
        ("(030) 12345678", "+493012345678"),
        ("0171 1234567", "+491711234567"),
        ("+49 171 1234567", "+491711234567"),
        ("+4930123456", "+4930123456"),
        ("+43 1 5331234", "+4315331234"),
    ],
)
def test_phone_becomes_e164(raw, expected):
    assert normalize_phone(raw) == Normalized(expected, True, None)


def test_phone_without_country_code_is_read_in_the_given_region():
    assert normalize_phone("01 5331234", region="AT") == Normalized("+4315331234", True, None)


@pytest.mark.parametrize(
    "raw", ["12345", "+49 30 12", "0800 FLOWERS", "Tel. 030 123456", "030 123456 ext. 12", "n/a", "---", "+999 123"]
)
def test_invalid_phone_is_flagged_and_kept_cleaned(raw):
    assert normalize_phone(f"  {raw}\t") == Normalized(raw, False, "phone_invalid")


def test_phone_in_an_unknown_region_is_flagged():
    assert normalize_phone("030 123456", region="ZZ") == Normalized("030 123456", False, "phone_invalid")


@pytest.mark.parametrize("raw", [None, "", " "])
def test_empty_phone_is_ok(raw):
    assert normalize_phone(raw) == OK_EMPTY


@properties
@given(st.one_of(st.from_regex(r"\+?[0-9 ()/-]{3,20}", fullmatch=True), st.text()))
def test_normalize_phone_is_idempotent(raw):
    once = normalize_phone(raw)
    assert normalize_phone(once.value) == once


# --- postcode ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("10115", "10115"), (" 10115 ", "10115"), ("D-10115", "10115"), ("de-01067", "01067"), ("10 115", "10115")],
)
def test_german_postcode_is_five_known_digits(raw, expected):
    assert normalize_postcode(raw) == Normalized(expected, True, None)


def test_spreadsheet_number_gets_its_leading_zero_back():
    assert normalize_postcode(1067) == Normalized("01067", True, None)
    assert normalize_postcode(1067.0) == Normalized("01067", True, None)


def test_four_digit_text_is_not_padded_as_it_may_be_austrian_or_swiss():
    assert normalize_postcode("1067") == Normalized("1067", False, "postcode_format")


@pytest.mark.parametrize("raw", ["1234", "123456", "abcde", "10115 Berlin", "１０１１５"])
def test_german_postcode_without_five_digits_is_a_format_problem(raw):
    assert normalize_postcode(raw) == Normalized(raw, False, "postcode_format")


def test_five_digits_that_are_no_german_postcode_are_unknown():
    assert normalize_postcode("00000") == Normalized("00000", False, "postcode_unknown")
    assert normalize_postcode("D-99999") == Normalized("D-99999", False, "postcode_unknown")


def test_other_countries_postcodes_are_only_cleaned_and_upper_cased():
    assert normalize_postcode(" 1010 ", country="AT") == Normalized("1010", True, None)
    assert normalize_postcode("sw1a  1aa", country="gb") == Normalized("SW1A 1AA", True, None)


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_empty_postcode_is_ok(raw):
    assert normalize_postcode(raw) == OK_EMPTY


def test_postcode_coordinates_give_latitude_and_longitude():
    latitude, longitude = postcode_coordinates("10115")
    assert 52 < latitude < 53  # Berlin-Mitte
    assert 13 < longitude < 14
    assert postcode_coordinates("D-10115") == postcode_coordinates("10115")


@pytest.mark.parametrize("raw", ["99999", "", "Berlin"])
def test_postcode_coordinates_of_unknown_postcode_are_none(raw):
    assert postcode_coordinates(raw) is None


@properties
@given(st.one_of(st.from_regex(r"(D-)?[0-9]{4,6}", fullmatch=True), st.text()))
def test_normalize_postcode_is_idempotent(raw):
    once = normalize_postcode(raw)
    assert normalize_postcode(once.value) == once


# --- country -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Deutschland", "DE"),
        ("Germany", "DE"),
        ("DE", "DE"),
        ("deu", "DE"),
        (" deutschland ", "DE"),
        ("Österreich", "AT"),
        ("Oesterreich", "AT"),
        ("Austria", "AT"),
        ("AT", "AT"),
        ("Schweiz", "CH"),
        ("Switzerland", "CH"),
        ("CH", "CH"),
        ("Niederlande", "NL"),
        ("The Netherlands", "NL"),
        ("Frankreich", "FR"),
        ("Tschechische Republik", "CZ"),
        ("Großbritannien", "GB"),
        ("UK", "GB"),
        ("U.S.A.", "US"),
        ("EL", "GR"),
        ("jp", "JP"),  # any ISO 3166-1 alpha-2 code
    ],
)
def test_country_becomes_iso_alpha2(raw, expected):
    assert normalize_country(raw) == Normalized(expected, True, None)


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_empty_country_is_the_default(raw):
    assert normalize_country(raw) == Normalized("DE", True, None)
    assert normalize_country(raw, default="at") == Normalized("AT", True, None)


@pytest.mark.parametrize("raw", ["Atlantis", "XX", "Deutschlandd", "123"])
def test_unknown_country_is_flagged(raw):
    assert normalize_country(raw) == Normalized(raw, False, "country_unknown")


@properties
@given(st.one_of(st.sampled_from(["Deutschland", "Austria", "ch", "U.S.A."]), st.text()))
def test_normalize_country_is_idempotent(raw):
    once = normalize_country(raw)
    assert normalize_country(once.value) == once


# --- website -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("www.Nordstern.de", "https://www.nordstern.de"),
        ("nordstern.de/", "https://nordstern.de"),
        ("https://nordstern.de/", "https://nordstern.de"),
        ("HTTP://Nordstern.DE/Kontakt/", "http://nordstern.de/Kontakt/"),
        ("https://nordstern.de/?utm_source=Messe", "https://nordstern.de/?utm_source=Messe"),
        ("//nordstern.de", "https://nordstern.de"),
        ("https://müller.de", "https://müller.de"),
    ],
)
def test_website_gets_scheme_and_lower_case_host(raw, expected):
    assert normalize_website(raw) == Normalized(expected, True, None)


@pytest.mark.parametrize(
    "raw", ["nordstern", "not a url", "javascript:alert(1)", "ftp://nordstern.de", "localhost:8000", "https://"]
)
def test_invalid_website_is_flagged(raw):
    assert normalize_website(raw) == Normalized(raw, False, "website_invalid")


@pytest.mark.parametrize("raw", [None, "", " "])
def test_empty_website_is_ok(raw):
    assert normalize_website(raw) == OK_EMPTY


@properties
@given(st.one_of(st.from_regex(r"(https?://)?[a-zA-Z]{1,10}\.[a-z]{2,4}/?[a-zA-Z/]{0,10}", fullmatch=True), st.text()))
def test_normalize_website_is_idempotent(raw):
    once = normalize_website(raw)
    assert normalize_website(once.value) == once


# --- VAT ID ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("DE123456789", "DE123456789"),
        ("de 123 456 789", "DE123456789"),
        ("DE-123.456.789", "DE123456789"),
        ("ATU12345678", "ATU12345678"),
        ("NL123456789B01", "NL123456789B01"),
        ("GR123456789", "EL123456789"),
    ],
)
def test_vat_id_is_compacted_and_upper_cased(raw, expected):
    assert normalize_vat_id(raw) == Normalized(expected, True, None)


@pytest.mark.parametrize(
    "raw", ["DE12345678", "DE1234567890", "DEA23456789", "XX123456", "CHE-123.456.789 MWST", "123456789", "AT1"]
)
def test_invalid_vat_id_is_flagged(raw):
    assert normalize_vat_id(raw) == Normalized(raw, False, "vat_invalid")


@pytest.mark.parametrize("raw", [None, "", " "])
def test_empty_vat_id_is_ok(raw):
    assert normalize_vat_id(raw) == OK_EMPTY


@properties
@given(st.one_of(st.from_regex(r"[A-Za-z]{2}[ .0-9A-Z-]{2,15}", fullmatch=True), st.text()))
def test_normalize_vat_id_is_idempotent(raw):
    once = normalize_vat_id(raw)
    assert normalize_vat_id(once.value) == once


# --- hashes and labels -------------------------------------------------------------


def test_contact_hash_is_sha256_of_kind_and_value():
    assert contact_hash("email", "info@nordstern.test") == hashlib.sha256(b"email:info@nordstern.test").hexdigest()


def test_contact_hash_separates_kinds():
    assert contact_hash("email", "+4930123456") != contact_hash("phone", "+4930123456")


def test_contact_hash_refuses_unknown_kinds():
    with pytest.raises(ValueError, match="fax"):
        contact_hash("fax", "+4930123456")


def test_every_flag_has_a_label():
    flags = {
        "email_invalid",
        "phone_invalid",
        "postcode_format",
        "postcode_unknown",
        "country_unknown",
        "website_invalid",
        "vat_invalid",
    }
    assert set(FLAG_LABELS) == flags
    with translation.override("en"):
        assert str(FLAG_LABELS["email_invalid"]) == "E-mail address is not valid"
