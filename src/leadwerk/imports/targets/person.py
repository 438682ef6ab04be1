"""The person target: rows become people in the marketing database.

Every row goes through ``contacts.services.normalize_person_data`` and the attribute rules of
``attributes_clean`` (the forms' and the API's normalisation), the suppression list, and
``contacts.matching.person_match_many`` (the online matcher's rules, set-based). Writes are bulk
``executemany`` statements through Django's connection, because per-row ORM saves cannot carry a
million-row file; so the Person audit-log signal does not fire per row: the import's audit trail is
its ``ImportChange`` rows plus one audit entry per job (see services).

Decisions per row, for a sure match:
- update mode, matched by the chosen key: the file's non-empty values overwrite the record's → "updated";
- update mode, matched otherwise (another identifier, same name and address): only what the record lacks
  is filled in, as a form does → "merged";
- insert-only mode: nothing is written → "existing".
A probable match is created and flagged (``duplicate_of``) → "created" and "flagged", unless it is equal
to the candidate in every imported field → "unchanged" (so a re-run creates nothing). Nothing to change
→ "unchanged". Empty cells never blank out a value.

Data quality: a value that could not be normalised is stored as given with its flag, as in a form; an
update re-decides the flags of the fields it writes and keeps the others. Rows that brought a new flag are
counted as "quality".

Suppression: a row whose e-mail or phone is on the suppression list is stored, marked suppressed, like a
record typed into the form; an import never clears a suppression mark.
Consent: the import writes no consent; new people start with "unknown" on every channel (not marketable),
existing people keep theirs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadwerk.accounts.models import Membership
from leadwerk.contacts import normalize as n
from leadwerk.contacts.keys import name_key
from leadwerk.contacts.matching import BlockIndex, match_keys, person_match_many
from leadwerk.contacts.models import (
    Affiliation,
    AttributeDefinition,
    Organization,
    Person,
    PersonTag,
    Suppression,
    Tag,
)
from leadwerk.contacts.services import PERSON_FIELDS, _attribute_value, normalize_person_data
from leadwerk.core import heap
from leadwerk.core.exceptions import ValidationFailed

from ..mapping import TargetField
from . import ChunkResult, Target, register

ORG_FIELD = "organization_name"
TAGS_FIELD = "tags"
ATTR = "attributes."
# Person fields an import may set (the organisation comes by name, the address flag is not imported).
IMPORT_FIELDS = tuple(f for f in PERSON_FIELDS if f not in ("organization", "use_organization_address"))
SALUTATION_VALUES = frozenset(Person.Salutation.values)
JSON_COLUMNS = frozenset({"attributes", "quality_flags"})
# The fields a person's data-quality flag speaks of (contacts.normalize).
FLAG_FIELDS = {
    n.FLAG_EMAIL_INVALID: frozenset({"email"}),
    n.FLAG_PHONE_INVALID: frozenset({"phone", "mobile"}),
    n.FLAG_POSTCODE_FORMAT: frozenset({"postcode"}),
    n.FLAG_POSTCODE_UNKNOWN: frozenset({"postcode"}),
    n.FLAG_COUNTRY_UNKNOWN: frozenset({"country"}),
}
# A BlockIndex is built when the rows still to import times this reach the tenant's people.
INDEX_ROWS_PER_PERSON = 40
BLOCKING_FIELDS = {"first_name", "last_name", "postcode", "organization_id", "street"}
SALUTATIONS = {
    "herr": "mr", "hr": "mr", "mr": "mr", "mister": "mr", "m": "mr", "male": "mr", "maennlich": "mr",
    "frau": "ms", "fr": "ms", "ms": "ms", "mrs": "ms", "miss": "ms", "w": "ms", "female": "ms", "weiblich": "ms",
    "divers": "diverse", "diverse": "diverse", "d": "diverse", "x": "diverse",
}  # fmt: skip


def person_fields(tenant_id: int) -> list[TargetField]:
    fields = [
        TargetField("salutation", _("Salutation"), ("Anrede", "Salutation", "Gender", "Geschlecht")),
        TargetField("title", _("Title"), ("Titel", "Title", "Akademischer Titel")),
        TargetField("first_name", _("First name"), ("Vorname", "First name", "Firstname", "Given name", "Forename")),
        TargetField(
            "last_name",
            _("Last name"),
            ("Nachname", "Last name", "Lastname", "Name", "Surname", "Family name", "Familienname", "Zuname"),
            required=True,
        ),
        TargetField("position", _("Position"), ("Position", "Funktion", "Job title", "Jobtitel", "Function", "Rolle")),
        TargetField("department", _("Department"), ("Abteilung", "Department", "Bereich")),
        TargetField(
            ORG_FIELD,
            _("Organisation"),
            ("Firma", "Unternehmen", "Company", "Organisation", "Organization", "Firmenname", "Company name"),
        ),
        TargetField(
            "email",
            _("E-mail"),
            ("E-Mail", "Email", "Mail", "E-Mail-Adresse", "Email address", "E-mail address", "Mailadresse"),
        ),
        TargetField(
            "phone",
            _("Phone"),
            ("Telefon", "Tel", "Tel.", "Phone", "Telephone", "Telefonnummer", "Phone number", "Festnetz"),
        ),
        TargetField("mobile", _("Mobile"), ("Mobil", "Handy", "Mobile", "Mobiltelefon", "Mobilnummer", "Cell")),
        TargetField(
            "street", _("Street and number"), ("Straße", "Strasse", "Street", "Adresse", "Address", "Anschrift")
        ),
        TargetField("postcode", _("Postcode"), ("PLZ", "Postleitzahl", "ZIP", "Zip code", "Postcode", "Postal code")),
        TargetField("city", _("City"), ("Ort", "Stadt", "City", "Town", "Wohnort")),
        TargetField("state", _("State"), ("Bundesland", "State", "Region")),
        TargetField("country", _("Country"), ("Land", "Country", "Staat")),
        TargetField("language", _("Language"), ("Sprache", "Language", "Korrespondenzsprache")),
        TargetField("birth_year", _("Year of birth"), ("Geburtsjahr", "Birth year", "Year of birth", "Jahrgang")),
        TargetField(
            "external_id",
            _("External id"),
            ("External id", "Externe ID", "Ext ID", "ID", "Kundennummer", "Customer number", "CRM ID"),
        ),
        TargetField(TAGS_FIELD, _("Tags"), ("Tags", "Tag", "Schlagworte", "Stichworte", "Labels")),
    ]
    for definition in AttributeDefinition.objects.filter(tenant_id=tenant_id, record_type="person"):
        fields.append(
            TargetField(
                ATTR + definition.key, definition.label, (definition.key, definition.label), definition.required
            )
        )
    return fields


def _column_spec() -> list[tuple[str, Any, Any]]:
    """(attname, adapter, default) for every concrete Person column, in INSERT order."""
    ops = connection.ops
    spec = []
    for field in Person._meta.concrete_fields:
        internal = field.get_internal_type()
        default = None if field.primary_key else field.get_default()
        if internal == "JSONField":
            spec.append((field.attname, _json_adapter(field), default))
        elif field.attname in ("created_at", "updated_at"):
            spec.append((field.attname, None, default))  # the chunk's stamp, adapted once
        elif internal == "DateTimeField":
            spec.append((field.attname, ops.adapt_datetimefield_value, default))
        else:
            spec.append((field.attname, None, default))
    return spec


def _json_adapter(field):
    """The field's JSON adapter, with the empty dict and list (most rows' attributes and flags) made once."""
    empty_dict = connection.ops.adapt_json_value({}, field.encoder)
    empty_list = connection.ops.adapt_json_value([], field.encoder)

    def adapt(value):
        if value == {}:
            return empty_dict
        if value == []:
            return empty_list
        return connection.ops.adapt_json_value(value, field.encoder)

    return adapt


class PersonLoader:
    def __init__(self, job, by: Membership) -> None:
        self.job = job
        self.by = by
        self.tenant = by.tenant
        self.tenant_id = by.tenant_id
        self.this_year = timezone.localdate().year  # a year of birth lies in the past (contacts.models)
        fields = {f.key: f for f in person_fields(self.tenant_id)}
        self.columns: dict[str, int] = {}
        self.headers: dict[str, str] = {}
        for position, header in enumerate(job.headers):
            field = job.mapping.get(header)
            if field and field in fields:
                self.columns[field] = position
                self.headers[field] = header
        self.model_fields = [(f, self.columns[f]) for f in IMPORT_FIELDS if f in self.columns]
        self.definitions = {
            d.key: d for d in AttributeDefinition.objects.filter(tenant_id=self.tenant_id, record_type="person")
        }
        self.attr_columns = [(key, self.columns[ATTR + key]) for key in self.definitions if ATTR + key in self.columns]
        self.required_attrs = [key for key, d in self.definitions.items() if d.required]
        self.max_lengths = {
            f.name: f.max_length for f in Person._meta.concrete_fields if getattr(f, "max_length", None)
        }
        self.phone_cache: dict[tuple[str, str], n.Normalized] = {}
        self.org_ids: dict[str, int] = {}  # name key -> organisation id (negative: not created yet)
        self.new_orgs: dict[str, str] = {}  # name key -> name, to create
        self.tag_ids: dict[str, int] = {}
        self.mode = job.mode
        self.key = job.key
        self.row_people: dict[int, int | None] = {}  # row number -> person id, after each process()
        self.index: BlockIndex | None = None  # the tenant's fuzzy blocks in memory, for large files
        self.index_checked = False

    # --- validate -------------------------------------------------------------------------------

    def _reject(self, result: ChunkResult, number: int, field: str | None, message: str, cells: tuple) -> None:
        column = self.headers.get(field or "", "") if field else ""
        result.rejections.append((number, column, str(message), ["" if c is None else c for c in cells]))

    def _phone(self, raw: str, region: str) -> n.Normalized:
        key = (raw, region)
        found = self.phone_cache.get(key)
        if found is None:
            if len(self.phone_cache) > 200_000:
                self.phone_cache.clear()
            found = self.phone_cache[key] = n.normalize_phone(raw, region=region)
        return found

    def _row(self, cells: tuple) -> tuple[dict, list[str], dict, list[str], str]:
        """One row normalised like the forms: (clean fields, flags, attributes, tags, organisation name)."""
        data: dict[str, Any] = {}
        for field, position in self.model_fields:
            value = cells[position]
            if value is not None and value != "":
                data[field] = value
        phones = {f: data.pop(f) for f in ("phone", "mobile") if f in data}
        if "salutation" in data:
            raw = data["salutation"]
            data["salutation"] = SALUTATIONS.get(name_key(n.clean_text(raw)).rstrip("."), raw)
        if "birth_year" in data:
            try:
                data["birth_year"] = int(float(str(data["birth_year"]).strip().replace(",", ".")))
            except ValueError:
                raise ValidationFailed(_("Enter a year."), field="birth_year") from None
        clean, flags = normalize_person_data(self.tenant, data)
        if phones:
            # The same rule as the form path (contacts.services._normalize_common), with a cache per raw
            # value: phonenumbers costs ~30 µs a call and a file repeats switchboard numbers.
            region = clean["country"] or self.tenant.country
            flag_set = set(flags)
            for field, raw in phones.items():
                result = self._phone(raw, region)
                clean[field] = result.value
                if not result.ok:
                    flag_set.add(result.flag)
            flags = sorted(flag_set)
        if "country" not in data:
            del clean["country"]  # the tenant's default applies to new records only, never overwrites
        for field, value in clean.items():
            limit = self.max_lengths.get(field)
            if limit and isinstance(value, str) and len(value) > limit:
                raise ValidationFailed(
                    _("At most %(n)s characters.") % {"n": limit},
                    field=field,
                )
        if clean.get("salutation", "") not in SALUTATION_VALUES:
            raise ValidationFailed(_("Choose Herr/Mr, Frau/Ms or Divers."), field="salutation")
        if clean.get("birth_year") is not None and not 1900 <= clean["birth_year"] <= self.this_year:
            raise ValidationFailed(
                _("Enter a year between 1900 and %(year)s.") % {"year": self.this_year}, field="birth_year"
            )
        attrs: dict[str, Any] = {}
        for key, position in self.attr_columns:
            value = _attribute_value(self.definitions[key], cells[position])
            if value not in (None, "", []):
                attrs[key] = value
        for key in self.required_attrs:
            if key not in attrs:
                raise ValidationFailed(_("This attribute is required."), field=ATTR + key)
        tags: list[str] = []
        if TAGS_FIELD in self.columns and cells[self.columns[TAGS_FIELD]]:
            raw = cells[self.columns[TAGS_FIELD]]
            separator = ";" if ";" in raw else ","
            tags = sorted({n.clean_text(part)[:60] for part in raw.split(separator)} - {""})
        org = ""
        if ORG_FIELD in self.columns:
            org = n.clean_text(cells[self.columns[ORG_FIELD]])[:200]
        return clean, flags, attrs, tags, org

    def _organizations(self, names: dict[str, str], *, write: bool) -> None:
        """Find or (with ``write``) create the organisations ``names`` (name key -> name) into ``org_ids``."""
        wanted = {key: name for key, name in names.items() if key not in self.org_ids}
        if not wanted:
            return
        keys = sorted(wanted)
        for start in range(0, len(keys), 900):
            batch = keys[start : start + 900]
            for pk, key in (
                Organization.objects.filter(tenant_id=self.tenant_id, name_key__in=batch)
                .order_by("pk")
                .values_list("pk", "name_key")
            ):
                self.org_ids.setdefault(key, pk)
        missing = [key for key in keys if key not in self.org_ids]
        if missing and write:
            Organization.objects.bulk_create(
                [Organization(tenant_id=self.tenant_id, name=wanted[key], name_key=key) for key in missing]
            )
            for pk, key in Organization.objects.filter(tenant_id=self.tenant_id, name_key__in=missing).values_list(
                "pk", "name_key"
            ):
                self.org_ids.setdefault(key, pk)
        else:
            for key in missing:
                self.org_ids[key] = -1 - len(self.org_ids)  # a stand-in that no stored person has

    def _tags(self, names: set[str]) -> None:
        missing = sorted(name for name in names if name not in self.tag_ids)
        if not missing:
            return
        Tag.objects.bulk_create([Tag(tenant_id=self.tenant_id, name=name) for name in missing], ignore_conflicts=True)
        for pk, name in Tag.objects.filter(tenant_id=self.tenant_id, name__in=missing).values_list("pk", "name"):
            self.tag_ids[name] = pk

    # --- the chunk ------------------------------------------------------------------------------

    def process(self, rows: list[tuple], first_row: int, *, write: bool) -> ChunkResult:
        return self.load(self.prepare(rows, first_row), write=write)

    def prepare(self, rows: list[tuple], first_row: int) -> tuple[list[dict], ChunkResult]:
        """Normalise and validate one chunk: the valid rows, and a result holding the rejected ones.

        Pure (no database), so that a large import can run it in a second process, one chunk ahead of
        ``load`` (see imports.preparing).
        """
        result = ChunkResult()
        items: list[dict] = []  # the valid rows
        for offset, cells in enumerate(rows):
            number = first_row + offset
            if not any(cells):
                continue  # blank lines, as spreadsheets leave them at the end: nothing to import or report
            try:
                clean, flags, attrs, tags, org = self._row(cells)
            except ValidationFailed as exc:
                self._reject(result, number, exc.field, exc.message, cells)
                continue
            item = dict(number=number, clean=clean, flags=flags, attrs=attrs, tags=tags, org=org)
            item["org_key"] = name_key(org) if org else ""
            # Keys and hashes the matcher and the writer need, made here: in a large import this runs in the
            # second process, and the worker is the bottleneck. (The raw cells stay behind: less to pickle.)
            item["keys"] = match_keys(clean.get("first_name", ""), clean["last_name"])
            item["hashes"] = {
                (kind, clean[field]): n.contact_hash(kind, clean[field])
                for field, kind in (("email", "email"), ("phone", "phone"), ("mobile", "phone"))
                if clean.get(field)
            }
            items.append(item)
        return items, result

    def load(self, prepared: tuple[list[dict], ChunkResult], *, write: bool) -> ChunkResult:
        """Match the prepared rows and (with ``write``) store them, inside the caller's transaction."""
        items, result = prepared
        self.row_people = {}
        if not items:
            if result.rejections:
                result.add("rejected", len(result.rejections))
            return result
        names: dict[str, str] = {}  # a new organisation is named as the chunk first spells it
        for item in items:
            if item["org"]:
                names.setdefault(item["org_key"], item["org"])
        self._organizations(names, write=write)
        for item in items:
            item["org_id"] = self.org_ids[item["org_key"]] if item["org"] else None
            if item["org_id"] is not None:
                item["clean"]["organization_id"] = item["org_id"]

        queries = []
        for item in items:
            clean, flags = item["clean"], item["flags"]
            # The same inputs as contacts.services.person_create gives the matcher.
            queries.append(
                {
                    "email": clean.get("email", "") if "email_invalid" not in flags else "",
                    "phone": clean.get("phone", "") if clean.get("phone", "").startswith("+") else "",
                    "mobile": clean.get("mobile", "") if clean.get("mobile", "").startswith("+") else "",
                    "first_name": clean.get("first_name", ""),
                    "last_name": clean["last_name"],
                    "postcode": clean.get("postcode", ""),
                    "street": clean.get("street", ""),
                    "organization_id": item["org_id"] if item["org_id"] and item["org_id"] > 0 else None,
                    "external_id": clean.get("external_id", ""),
                    "keys": item["keys"],
                }
            )
            if item["org_id"] and item["org_id"] < 0:
                queries[-1]["organization_id"] = item["org_id"]  # a new organisation: only rows of this file
        matches = person_match_many(self.tenant_id, queries, within=True, index=self._index(write))

        matched_ids = sorted({m.person_id for m in matches if m is not None and m.person_id})
        current = self._current(matched_ids)
        if len(current) < len(matched_ids):  # deleted meanwhile (the index can hold them): no match then
            matches = [None if m is not None and m.person_id and m.person_id not in current else m for m in matches]
        now = timezone.now()
        creates: list[dict] = []  # new records, in row order
        created_at_row: dict[int, dict] = {}  # item index -> its new record
        updates: dict[int, dict] = {}  # person id -> {"changes": {...}, "previous": {...}, "action": ..}
        for index, (item, match) in enumerate(zip(items, matches, strict=True)):
            clean, attrs, tags = item["clean"], item["attrs"], item["tags"]
            if match is not None and match.row is not None and match.row not in created_at_row:
                match = None  # that earlier row was not created (equal to a stored record)
            if match is not None and match.is_sure and match.row is not None:
                # An earlier row of this chunk is the same person: complete that new record.
                record = created_at_row[match.row]
                for key, value in clean.items():
                    if value not in ("", None) and not record.get(key):
                        record[key] = value
                record["attributes"] = {**attrs, **record["attributes"]}
                record["_tags"] = sorted(set(record["_tags"]) | set(tags))
                record["last_name_key"], record["_full_key"] = match_keys(
                    record.get("first_name", ""), record["last_name"]
                )
                created_at_row[index] = record
                result.add("merged")
                continue
            if match is not None and match.is_sure:
                if self.mode == "insert":
                    result.add("existing")
                    continue
                overwrite = match.reason == self.key
                state = current[match.person_id]
                change = updates.setdefault(match.person_id, {"changes": {}, "previous": {}, "tags": []})
                changed = self._apply(state, change, clean, attrs, overwrite=overwrite)
                if changed and self._reflag(state, change, item["flags"]):
                    result.add("quality")
                new_tags = sorted(set(tags) - state["_tag_names"])
                if new_tags:
                    state["_tag_names"] |= set(new_tags)
                    change["tags"] += new_tags
                    changed = True
                if changed:
                    change.setdefault("action", "u" if overwrite else "m")
                    result.add("updated" if overwrite else "merged")
                else:
                    result.add("unchanged")
                continue
            if match is not None and match.row is None and self._same(current[match.person_id], clean, attrs):
                result.add("unchanged")  # a probable match equal in every imported field: imported before
                continue
            record = {"country": self.tenant.country, **clean, "attributes": attrs, "quality_flags": item["flags"]}
            record["_tags"] = tags
            record["last_name_key"], record["_full_key"] = item["keys"]
            if match is not None:
                record["_duplicate_of"] = match.person_id if match.row is None else created_at_row[match.row]
                result.add("flagged")
            if item["flags"]:
                result.add("quality")
            creates.append(record)
            created_at_row[index] = record
            result.add("created")
        if result.rejections:
            result.add("rejected", len(result.rejections))
        if write:
            known = {}
            for item in items:
                known.update(item["hashes"])
            self._write(creates, updates, current, now, known)
            if self.index is not None:
                self._refile(updates, current)
                if connection.vendor == "sqlite":
                    # The chunk held SQLite's write lock since the index's refresh, so its new people are
                    # the only ones since: file them from memory instead of reading them back.
                    self.index.file_new(
                        (
                            r["id"],
                            r.get("postcode"),
                            r.get("organization_id"),
                            r["last_name_key"],
                            r["_full_key"],
                            r.get("street"),
                        )
                        for r in creates
                    )
        # Which person each row became (None: a new person in a dry run), for targets that build on people.
        for index, (item, match) in enumerate(zip(items, matches, strict=True)):
            if index in created_at_row:
                self.row_people[item["number"]] = created_at_row[index].get("id")
            elif match is not None and match.person_id:
                self.row_people[item["number"]] = match.person_id
        return result

    def warm_up(self) -> None:
        """What the worker can do before the first chunk: build the fuzzy blocks (imports.preparing)."""
        self._index(write=True)

    def _index(self, write: bool) -> BlockIndex | None:
        """An in-memory BlockIndex when the rest of the file is large against the tenant's people.

        Fetching fuzzy candidates costs ~130 µs a row at a million people; filing a person in the index
        ~3 µs. So the index pays from about one row per 40 people; it is refreshed before every chunk
        (people created since, by this import or anyone) and costs ≈ 430 MB at a million people.
        """
        if not write:
            return None
        if not self.index_checked:
            self.index_checked = True
            rows_left = self.job.total_rows - self.job.rows_done
            if rows_left * INDEX_ROWS_PER_PERSON >= Person.objects.filter(tenant_id=self.tenant_id).count():
                with heap.long_lived():  # kept out of the collector until the import ends (core.heap)
                    self.index = BlockIndex(self.tenant_id)
                return self.index
        if self.index is not None:
            self.index.refresh()
        return self.index

    def _refile(self, updates: dict[int, dict], current: dict[int, dict]) -> None:
        """Keep the index in step with this chunk's changes to names, streets and blocking values."""
        for pk, update in updates.items():
            previous = update["previous"]
            if not previous.keys() & BLOCKING_FIELDS:
                continue
            after = dict(current[pk])
            before = {**after, **previous}
            before["last_name_key"] = name_key(before.get("last_name") or "")
            after["last_name_key"] = name_key(after.get("last_name") or "")
            self.index.refile(pk, before, after)

    def _current(self, ids: list[int]) -> dict[int, dict]:
        fields = [*IMPORT_FIELDS, "organization_id", "attributes", "quality_flags", "suppressed_reason"]
        found: dict[int, dict] = {}
        for start in range(0, len(ids), 900):
            batch = ids[start : start + 900]
            for values in Person.objects.filter(pk__in=batch).values("pk", *fields):
                values["_tag_names"] = set()
                found[values.pop("pk")] = values
            for person_id, name in PersonTag.objects.filter(person_id__in=batch).values_list("person_id", "tag__name"):
                found[person_id]["_tag_names"].add(name)
        return found

    @staticmethod
    def _apply(state: dict, change: dict, clean: dict, attrs: dict, *, overwrite: bool) -> bool:
        changed = False
        for key, value in clean.items():
            if value in ("", None) or state.get(key) == value:
                continue
            if not overwrite and state.get(key) not in ("", None):
                continue
            change["previous"].setdefault(key, state.get(key))
            change["changes"][key] = value
            state[key] = value
            changed = True
        if attrs:
            merged = {**state["attributes"], **attrs} if overwrite else {**attrs, **state["attributes"]}
            if merged != state["attributes"]:
                change["previous"].setdefault("attributes", state["attributes"])
                change["changes"]["attributes"] = merged
                state["attributes"] = merged
                changed = True
        return changed

    @staticmethod
    def _reflag(state: dict, change: dict, row_flags: list[str]) -> bool:
        """Re-decide the flags of the fields this change wrote (the others stay); True if a flag was added.

        A phone flag speaks of phone and mobile together: it stays while either holds a number that could
        not be read (stored as given, so without the "+" of E.164).
        """
        written = change["changes"].keys()
        before = state.get("quality_flags") or []
        flags = {flag for flag in before if not FLAG_FIELDS.get(flag, frozenset()) & written}
        flags |= {flag for flag in row_flags if FLAG_FIELDS.get(flag, frozenset()) & written}
        if written & FLAG_FIELDS[n.FLAG_PHONE_INVALID]:
            flags.discard(n.FLAG_PHONE_INVALID)
            if any(state.get(field) and not state[field].startswith("+") for field in ("phone", "mobile")):
                flags.add(n.FLAG_PHONE_INVALID)
        after = sorted(flags)
        if after == sorted(before):
            return False
        change["previous"].setdefault("quality_flags", before)
        change["changes"]["quality_flags"] = after
        state["quality_flags"] = after
        return bool(flags - set(before))

    @staticmethod
    def _same(state: dict, clean: dict, attrs: dict) -> bool:
        if any(state.get(key) != value for key, value in clean.items() if value not in ("", None)):
            return False
        return all(state["attributes"].get(key) == value for key, value in attrs.items())

    # --- load -----------------------------------------------------------------------------------

    def _suppressed(self, records: list[dict], known: dict) -> dict[tuple[str, str], str]:
        """(kind, value) -> suppression reason, for the records' e-mails and phones on the list."""
        hashes: dict[str, tuple[str, str]] = {}
        for record in records:
            for field, kind in (("email", "email"), ("phone", "phone"), ("mobile", "phone")):
                if value := record.get(field):
                    found = known.get((kind, value)) or n.contact_hash(kind, value)
                    hashes.setdefault(found, (kind, value))
        found: dict[tuple[str, str], str] = {}
        table = connection.ops.quote_name(Suppression._meta.db_table)
        with connection.cursor() as cursor:
            for kind in ("email", "phone"):  # the unique index is (tenant, kind, hash)
                keys = sorted(h for h, (k, _value) in hashes.items() if k == kind)
                for start in range(0, len(keys), 900):
                    batch = keys[start : start + 900]
                    cursor.execute(
                        f"SELECT value_hash, reason FROM {table} "  # noqa: S608
                        f"WHERE tenant_id = %s AND kind = %s AND value_hash IN ({', '.join(['%s'] * len(batch))})",
                        [self.tenant_id, kind, *batch],
                    )
                    for value_hash, reason in cursor.fetchall():
                        found[hashes[value_hash]] = reason
        return found

    @staticmethod
    def _reason(record: dict, suppressed: dict[tuple[str, str], str]) -> str:
        if not suppressed:
            return ""
        if record.get("email") and (reason := suppressed.get(("email", record["email"]))):
            return reason
        for field in ("phone", "mobile"):
            if record.get(field) and (reason := suppressed.get(("phone", record[field]))):
                return reason
        return ""

    def _write(
        self, creates: list[dict], updates: dict[int, dict], current: dict[int, dict], now: datetime, known: dict
    ) -> None:
        """Store the chunk; ``known``: contact hashes already made, by (kind, value)."""
        from ..models import ImportChange

        ops = connection.ops
        changed_states = [current[pk] for pk, u in updates.items() if u["changes"] or u["tags"]]
        suppressed = self._suppressed(creates + changed_states, known)
        stamp = ops.adapt_datetimefield_value(now)
        change_rows: list[tuple] = []
        tag_links: list[tuple[int, str]] = []
        affiliations: list[tuple] = []

        if creates:
            ids = self._reserve_ids(len(creates))
            for record, pk in zip(creates, ids, strict=True):
                record["id"] = pk
            spec = _column_spec()
            adapted = [(at, adapt) for at, (_name, adapt, _default) in enumerate(spec) if adapt is not None]
            params = []
            for record in creates:
                duplicate = record.pop("_duplicate_of", None)
                record["duplicate_of_id"] = duplicate["id"] if isinstance(duplicate, dict) else duplicate
                record["suppressed_reason"] = self._reason(record, suppressed)
                record["tenant_id"] = self.tenant_id
                record["created_at"] = record["updated_at"] = stamp
                row = [record.get(name, default) for name, _adapt, default in spec]
                for at, adapt in adapted:
                    if row[at] is not None:
                        row[at] = adapt(row[at])
                params.append(row)
                change_rows.append((self.tenant_id, self.job.pk, record["id"], "c", None, stamp))
                tag_links += [(record["id"], tag) for tag in record["_tags"]]
                if record.get("organization_id"):
                    affiliations.append(
                        (self.tenant_id, stamp, stamp, record["id"], record["organization_id"],
                         record.get("position", ""), record.get("department", ""), stamp)
                    )  # fmt: skip
            table = ops.quote_name(Person._meta.db_table)
            columns = ", ".join(ops.quote_name(f.column) for f in Person._meta.concrete_fields)
            marks = ", ".join(["%s"] * len(spec))
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", params)  # noqa: S608

        groups: dict[tuple[str, ...], list[tuple]] = {}
        for pk, update in updates.items():
            if not update["changes"] and not update["tags"]:
                continue
            state = current[pk]
            changes = dict(update["changes"])
            previous = dict(update["previous"])
            if "last_name" in changes:
                changes["last_name_key"] = name_key(changes["last_name"])
            reason = state["suppressed_reason"] or self._reason(state, suppressed)
            if reason != state["suppressed_reason"]:
                changes["suppressed_reason"] = reason
                previous["suppressed_reason"] = state["suppressed_reason"]
            if changes.get("organization_id"):
                previous.setdefault("organization_id", state.get("organization_id"))
            columns = tuple(sorted(changes))
            values = []
            for column in columns:
                value = changes[column]
                values.append(ops.adapt_json_value(value, None) if column in JSON_COLUMNS else value)
            groups.setdefault(columns, []).append((*values, stamp, pk))
            if update["tags"]:
                previous["_tags"] = update["tags"]
                tag_links += [(pk, tag) for tag in update["tags"]]
            action = update.get("action", "u")
            change_rows.append((self.tenant_id, self.job.pk, pk, action, ops.adapt_json_value(previous, None), stamp))
        table = ops.quote_name(Person._meta.db_table)
        with connection.cursor() as cursor:
            for columns, params in groups.items():
                sets = ", ".join(f"{ops.quote_name(column)} = %s" for column in (*columns, "updated_at"))
                cursor.executemany(f"UPDATE {table} SET {sets} WHERE id = %s", params)  # noqa: S608
            if change_rows:
                change_table = ops.quote_name(ImportChange._meta.db_table)
                cursor.executemany(
                    f"INSERT INTO {change_table} (tenant_id, job_id, record_id, action, previous, stamp) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s, %s, %s)",
                    change_rows,
                )
        if affiliations:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {ops.quote_name(Affiliation._meta.db_table)} (tenant_id, created_at, updated_at, "  # noqa: S608
                    "person_id, organization_id, position, department, started_at) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    affiliations,
                )
        if tag_links:
            self._tags({tag for _pk, tag in tag_links})
            PersonTag.objects.bulk_create(
                [PersonTag(tenant_id=self.tenant_id, person_id=pk, tag_id=self.tag_ids[tag]) for pk, tag in tag_links],
                ignore_conflicts=True,
            )

    def _reserve_ids(self, count: int) -> list[int]:
        """Primary keys for ``count`` new people, taken inside the chunk's transaction (write lock held)."""
        table = Person._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
                )
                return [row[0] for row in cursor.fetchall()]
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            top = cursor.fetchone()[0] or 0
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            seq = cursor.fetchone()
            top = max(top, seq[0] if seq else 0)
            return list(range(top + 1, top + 1 + count))

    # --- undo -----------------------------------------------------------------------------------

    def undo(self, changes) -> dict[str, list]:
        """Created people are deleted, changed ones restored, unless someone changed them after the import."""
        from auditlog.context import disable_auditlog

        by_record: dict[int, list] = {}
        for change in changes:
            by_record.setdefault(change.record_id, []).append(change)
        ids = sorted(by_record)
        now_values = dict(Person.objects.filter(tenant_id=self.tenant_id, pk__in=ids).values_list("pk", "updated_at"))
        report: dict[str, list] = {"deleted": [], "restored": [], "conflicts": []}
        delete_ids = []
        for pk in ids:
            record_changes = sorted(by_record[pk], key=lambda c: c.pk)
            first, last = record_changes[0], record_changes[-1]
            if pk not in now_values:
                report["conflicts"].append([pk, "deleted"])
                continue
            if now_values[pk] != last.stamp:
                report["conflicts"].append([pk, "changed"])
                continue
            if first.action == "c":
                delete_ids.append(pk)
                continue
            previous: dict = {}
            tags: list[str] = []
            for change in reversed(record_changes):  # the earliest value wins
                previous.update(change.previous or {})
                tags += (change.previous or {}).get("_tags", [])
            previous.pop("_tags", None)
            if "last_name" in previous:
                previous["last_name_key"] = name_key(previous["last_name"])
            Person.objects.filter(pk=pk).update(**previous, updated_at=timezone.now())
            if tags:
                PersonTag.objects.filter(person_id=pk, tag__name__in=tags).delete()
            report["restored"].append(pk)
        with disable_auditlog():
            for start in range(0, len(delete_ids), 500):
                Person.objects.filter(pk__in=delete_ids[start : start + 500]).delete()
        report["deleted"] = delete_ids
        return report


PERSON = register(
    Target(
        key="person",
        label=gettext_lazy("People"),
        fields=person_fields,
        loader=PersonLoader,
        keys=("email", "external_id"),
    )
)
