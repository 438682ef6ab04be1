"""The lead target: lead files, and lead history migrated from Salesforce, HubSpot, Odoo or spreadsheets.

A row is a person (the person target's columns, normalisation and set-based matching: ``PersonLoader``
does that part, with its create/update/merge decisions) plus a lead. Lead columns are checked first, so a
row with a bad status never creates its person.

Two modes (job option ``history``):
- lead file (default): each row is captured through ``leads.services.lead_capture`` with the matched
  person, exactly like a manual or API capture — the person's open lead of the same interest gets the
  response instead of a duplicate, and whatever capture starts (scoring, routing, SLAs) starts.
- history: status (with reason), capture and close date, won value and owner are taken as they were, and
  ``leads.history`` writes the leads and their events at the historical times. Nothing is triggered: no
  routing, SLAs, notifications or assignment e-mails. An open row for a person with an open lead of the same
  interest becomes a response to it, as in capture.

Re-running a file creates nothing twice: every lead remembers the rows it came from (a hash of the row's
mapped cells, ``source_details.import_keys``) and the old system's id (``source_details.external_id``);
a row whose hash or id is on one of its person's leads counts as "unchanged".

Further columns (option ``keep_columns``): unmapped columns are kept as text in ``Lead.attributes`` under
their header (there are no typed lead attributes yet).

Undo: leads the import created are deleted and responses it added removed, unless someone worked the lead
since (a status change, assignment or edit by a member, an activity or a follow-up); then the person
target's undo runs for the people (a created person that still has leads stays, as a conflict).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadwerk.accounts.models import Membership
from leadwerk.contacts import normalize as n
from leadwerk.contacts.models import Person
from leadwerk.core.exceptions import DomainError, ValidationFailed
from leadwerk.leads import questions as lead_questions
from leadwerk.leads import states
from leadwerk.leads.models import (
    Activity,
    Channel,
    FollowUp,
    InterestCategory,
    Lead,
    LeadEvent,
    LeadReason,
    Rating,
    Timeline,
)
from leadwerk.leads.roles import LEAD_WORKERS
from leadwerk.leads.states import Status

from ..mapping import TargetField, header_key
from . import ChunkResult, Target, register
from .person import PersonLoader, person_fields

L = "lead."
QUESTION = "question."
HISTORY_FIELDS = ("lead.status", "lead.closed_at", "lead.won_value", "lead.owner", "lead.reason")
MONEY_MAX = Decimal("9999999999.99")


def _words(*pairs: tuple[str, tuple[str, ...]]) -> dict[str, str]:
    return {header_key(word): value for value, words in pairs for word in words}


# Status values of common exports (German and English) → Leadwerk status. Compared by header_key, so case,
# spaces and punctuation do not matter ("Closed - Converted" = "closed converted").
STATUS_WORDS = _words(
    (
        Status.NEW,
        (
            "new",
            "neu",
            "open",
            "offen",
            "open - not contacted",
            "not contacted",
            "nicht kontaktiert",
            "lead",
            "eingegangen",
            "unbearbeitet",
        ),
    ),
    (
        Status.QUALIFYING,
        (
            "qualifying",
            "in qualifizierung",
            "qualifizierung",
            "working - contacted",
            "contacted",
            "kontaktiert",
            "attempted to contact",
            "kontaktversuch",
            "connected",
            "prospecting",
            "qualification",
            "in klärung",
        ),
    ),
    (
        Status.QUALIFIED,
        (
            "qualified",
            "qualifiziert",
            "marketing qualified lead",
            "mql",
            "needs analysis",
            "bedarfsanalyse",
            "sales qualified lead",
            "sql",
        ),
    ),
    (Status.ROUTED, ("routed", "zugewiesen", "weitergeleitet", "assigned")),
    (Status.REJECTED, ("rejected", "abgelehnt", "zurückgewiesen")),
    (Status.ACCEPTED, ("accepted", "angenommen", "akzeptiert")),
    (
        Status.IN_PROGRESS,
        (
            "in progress",
            "in bearbeitung",
            "working",
            "open deal",
            "opportunity",
            "verkaufschance",
            "proposition",
            "proposal",
            "angebot",
            "angebot erstellt",
            "value proposition",
            "id. decision makers",
            "id decision makers",
            "perception analysis",
            "proposal/price quote",
            "negotiation/review",
            "negotiation",
            "verhandlung",
            "presentation scheduled",
            "decision maker bought-in",
            "contract sent",
            "vertrag versendet",
            "appointment scheduled",
            "termin vereinbart",
            "qualified to buy",
        ),
    ),
    (
        Status.WON,
        (
            "won",
            "gewonnen",
            "closed won",
            "closed - converted",
            "converted",
            "konvertiert",
            "customer",
            "kunde",
            "evangelist",
            "auftrag",
            "auftrag erteilt",
            "abgeschlossen gewonnen",
        ),
    ),
    (
        Status.LOST,
        (
            "lost",
            "verloren",
            "closed lost",
            "closed - not converted",
            "not converted",
            "nicht konvertiert",
            "abgeschlossen verloren",
            "absage",
        ),
    ),
    (
        Status.DISQUALIFIED,
        (
            "disqualified",
            "disqualifiziert",
            "unqualified",
            "unqualifiziert",
            "junk",
            "ungeeignet",
            "spam",
        ),
    ),
    (
        Status.NURTURE,
        (
            "nurture",
            "nurturing",
            "bad timing",
            "zurückgestellt",
            "später",
            "later",
            "subscriber",
            "abonnent",
            "wiedervorlage",
            "on hold",
        ),
    ),
)
# Channel values → Leadwerk channel (unknown ones are refused).
CHANNEL_WORDS = _words(
    (Channel.MANUAL, ("manual", "manuell", "manual entry", "manuelle eingabe")),
    (Channel.API, ("api",)),
    (Channel.IMPORT, ("import", "list", "liste")),
    (Channel.WEB_FORM, ("web form", "webformular", "web", "website", "webseite", "formular", "form", "online")),
    (Channel.EMAIL, ("email", "e-mail", "mail")),
    (Channel.PHONE, ("phone", "telefon", "anruf", "call", "phone inquiry", "telefonische anfrage")),
    (Channel.EVENT, ("event", "messe", "trade fair", "trade show", "veranstaltung", "seminar")),
    (Channel.CAMPAIGN, ("campaign", "kampagne", "mailing", "aktion")),
    (Channel.PARTNER, ("partner", "händler", "dealer", "partner referral", "empfehlung", "referral")),
    (Channel.OTHER, ("other", "sonstige", "andere", "sonstiges")),
)
RATING_WORDS = _words(
    (Rating.HOT, ("hot", "heiß", "heiss", "a")),
    (Rating.WARM, ("warm", "b")),
    (Rating.COLD, ("cold", "kalt", "c")),
)
TIMELINE_WORDS = _words(
    (Timeline.NOW, ("now", "sofort", "jetzt", "immediately")),
    (Timeline.QUARTER, ("quarter", "within 3 months", "3 monate", "innerhalb 3 monaten", "quartal")),
    (Timeline.YEAR, ("year", "within 12 months", "12 monate", "innerhalb 12 monaten", "jahr")),
    (Timeline.LATER, ("later", "später", "unknown", "unbekannt", "later or unknown")),
)
TRUE = frozenset({"1", "true", "yes", "y", "ja", "j", "x", "wahr"})
FALSE = frozenset({"0", "false", "no", "n", "nein", "falsch"})
# Date and time formats of common exports: ISO, German (dot, day first), US (slash, month first; Salesforce).
DATE_FORMATS = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
    "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%d.%m.%y", "%d.%m.%y %H:%M",
    "%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%d/%m/%Y", "%d/%m/%Y %H:%M",
)  # fmt: skip


def lead_fields(tenant_id: int) -> list[TargetField]:
    fields = person_fields(tenant_id)
    fields += [
        TargetField(L + "interest", _("Interest (key or name)"), (
            "Interesse", "Interest", "Produkt", "Product", "Produktinteresse", "Product interest", "Interessent für",
        )),
        TargetField(L + "title", _("Subject"), (
            "Betreff", "Subject", "Lead title", "Anfrage", "Opportunity Name", "Deal Name", "Vorgang",
        )),
        TargetField(L + "channel", _("Channel"), ("Kanal", "Channel", "Eingangskanal", "Lead channel")),
        TargetField(L + "source", _("Source"), (
            "Quelle", "Source", "Lead Source", "Leadquelle", "Lead-Quelle", "Herkunft", "Original Source",
            "Kampagne", "Campaign",
        )),
        TargetField(L + "message", _("Message"), (
            "Nachricht", "Message", "Description", "Beschreibung", "Notiz", "Notes", "Kommentar", "Comment",
        )),
        TargetField(L + "budget", _("Budget"), ("Budget",)),
        TargetField(L + "estimated_value", _("Estimated value"), (
            "Amount", "Betrag", "Estimated value", "Geschätzter Wert", "Expected Revenue", "Erwarteter Umsatz",
            "Deal amount", "Volumen", "Wert",
        )),
        TargetField(L + "rating", _("Rating"), ("Rating", "Bewertung", "Einstufung", "Temperatur", "Lead Rating")),
        TargetField(L + "timeline", _("Timeline"), ("Zeitrahmen", "Timeline", "Timeframe", "Zeithorizont")),
        TargetField(L + "authority", _("Decision maker reached"), ("Entscheider", "Decision maker", "Authority")),
        TargetField(L + "need", _("Need"), ("Bedarf", "Need")),
        TargetField(L + "status", _("Status"), (
            "Status", "Phase", "Stage", "Lead Status", "Lead-Status", "Deal Stage", "Lifecycle Stage",
            "Lebenszyklusphase", "Stufe", "Pipeline Stage",
        )),
        TargetField(L + "captured_at", _("Capture date"), (
            "Erstellt am", "Created Date", "Create Date", "Created", "Erstellt", "Erfasst am", "Eingangsdatum",
            "Created on", "Anlagedatum", "Lead Date",
        )),
        TargetField(L + "closed_at", _("Close date"), (
            "Close Date", "Closed Date", "Closing Date", "Abschlussdatum", "Geschlossen am", "Closed on",
            "Datum Abschluss", "Converted Date",
        )),
        TargetField(L + "won_value", _("Won value"), ("Won value", "Auftragswert", "Gewonnener Betrag", "Umsatz")),
        TargetField(L + "owner", _("Owner (e-mail or name of a member)"), (
            "Owner", "Besitzer", "Lead Owner", "Inhaber", "Verantwortlich", "Zuständig", "Bearbeiter",
            "Opportunity Owner", "Deal Owner", "Contact Owner", "Lead-Inhaber", "Salesperson", "Vertriebler",
        )),
        TargetField(L + "reason", _("Lost or disqualification reason"), (
            "Lost Reason", "Verlustgrund", "Reason", "Grund", "Absagegrund", "Closed Lost Reason",
            "Disqualification Reason", "Disqualifizierungsgrund", "Unqualified Reason",
        )),
        TargetField(L + "external_id", _("Lead id in the old system"), (
            "Lead ID", "Lead-ID", "Opportunity ID", "Deal ID", "Record ID", "Datensatz-ID", "Lead-Nummer",
            "Lead number",
        )),
    ]  # fmt: skip
    for question in lead_questions.questions_for(tenant_id).values():
        fields.append(TargetField(QUESTION + question.key, question.label, (question.key, question.label)))
    return fields


def lead_options_check(mapping: dict[str, str], options: dict) -> dict:
    """The lead target's options; status, close date, won value, owner and reason need history mode."""
    clean = {key: bool(options.get(key)) for key in ("history", "create_reasons", "keep_columns")}
    if not clean["history"]:
        used = [field for field in HISTORY_FIELDS if field in mapping.values()]
        if used:
            raise ValidationFailed(
                _(
                    "Status, close date, won value, owner and reason columns are lead history: tick “history "
                    "from another system”, or do not import these columns."
                ),
                field="history",
            )
    return clean


def _money(raw: str, field: str) -> Decimal:
    text = re.sub(r"[€$£\s\u00a0]|EUR|USD|CHF", "", raw, flags=re.IGNORECASE)
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
    elif re.fullmatch(r"-?\d{1,3}([.,]\d{3})+", text):
        text = re.sub(r"[.,]", "", text)  # 1.500 or 1,500: thousands
    else:
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(_("Enter an amount, e.g. 1.234,50 or 1234.50."), field=field) from None
    if not value.is_finite() or value < 0:
        raise ValidationFailed(_("Enter an amount of zero or more."), field=field)
    if value > MONEY_MAX:
        raise ValidationFailed(_("The amount is too large."), field=field)
    return value.quantize(Decimal("0.01"))


class LeadLoader:
    def __init__(self, job, by: Membership) -> None:
        self.job = job
        self.by = by
        self.tenant_id = by.tenant_id
        self.tz = ZoneInfo(by.tenant.timezone)
        self.options = job.options or {}
        self.history = bool(self.options.get("history"))
        self.people = PersonLoader(job, by)
        known = {f.key for f in lead_fields(self.tenant_id)}
        self.columns: dict[str, int] = {}
        self.headers: dict[str, str] = {}
        self.extra_columns: list[tuple[str, int]] = []
        for position, header in enumerate(job.headers):
            field = job.mapping.get(header)
            if field and field in known:
                self.columns[field] = position
                self.headers[field] = header
            elif not field and self.options.get("keep_columns"):
                self.extra_columns.append((n.clean_text(header)[:80] or str(position + 1), position))
        self.mapped_positions = sorted(self.columns.values())
        self.questions = lead_questions.questions_for(self.tenant_id)
        self.interests: dict[str, InterestCategory] = {}
        for interest in InterestCategory.objects.for_tenant(self.tenant_id):
            self.interests.setdefault(interest.key.casefold(), interest)
            self.interests.setdefault(header_key(interest.name), interest)
        self.reasons: dict[tuple[str, str], LeadReason] = {
            (r.kind, header_key(r.label)): r for r in LeadReason.objects.for_tenant(self.tenant_id)
        }
        self.new_reasons: dict[tuple[str, str], str] = {}  # (kind, folded label) -> label, created on write
        self.owners: dict[str, Membership | None] = {}
        self._owner_index: dict[str, Membership] | None = None
        self._leads_undone = False
        self.dates: dict[tuple[str, str], dt.datetime | ValidationFailed] = {}

    # --- one row's lead part --------------------------------------------------------------------------

    def _cell(self, cells: tuple, field: str) -> str:
        position = self.columns.get(field)
        if position is None or position >= len(cells):
            return ""
        return n.clean_text(cells[position])

    def _date(self, raw: str, field: str) -> dt.datetime:
        """A date of the file, parsed once per distinct value (exports repeat dates a lot)."""
        key = (raw, field)
        found = self.dates.get(key)
        if found is None:
            if len(self.dates) > 100_000:
                self.dates.clear()
            try:
                found = self.dates[key] = self._parse_date(raw, field)
            except ValidationFailed as exc:
                found = self.dates[key] = exc
        if isinstance(found, ValidationFailed):
            raise ValidationFailed(found.message, field=found.field)
        return found

    def _parse_date(self, raw: str, field: str) -> dt.datetime:
        text = raw.strip().replace("Z", "+00:00")
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            value = None
            for pattern in DATE_FORMATS:
                try:
                    value = dt.datetime.strptime(text, pattern)
                    break
                except ValueError:
                    continue
        if value is None:
            raise ValidationFailed(_("Enter a date, e.g. 31.12.2024 or 2024-12-31."), field=field)
        if timezone.is_naive(value):
            if value.time() == dt.time(0, 0) and ":" not in text:
                value = value.replace(hour=12)  # a bare date: noon, so it stays the same day in every zone
            value = value.replace(tzinfo=self.tz)
        if value.year < 1990:
            raise ValidationFailed(_("Enter a date after 1990."), field=field)
        if value > timezone.now() + dt.timedelta(minutes=5):
            raise ValidationFailed(_("The date lies in the future."), field=field)
        return value

    def _owner(self, raw: str) -> Membership:
        key = raw.casefold()
        if key not in self.owners:
            if self._owner_index is None:
                self._owner_index = {}
                members = Membership.objects.filter(tenant_id=self.tenant_id, role__in=LEAD_WORKERS).select_related(
                    "user", "tenant"
                )
                for member in members.order_by("-is_active", "pk"):
                    self._owner_index.setdefault(member.user.email.casefold(), member)
                    if member.user.full_name:
                        self._owner_index.setdefault(n.clean_text(member.user.full_name).casefold(), member)
            self.owners[key] = self._owner_index.get(key)
        owner = self.owners[key]
        if owner is None:
            raise ValidationFailed(
                _("“%(owner)s” is not a member of this tenant who works leads.") % {"owner": raw[:80]},
                field=L + "owner",
            )
        return owner

    def _reason(self, raw: str, status: str) -> LeadReason | tuple[str, str] | None:
        kind = states.REASON_REQUIRED.get(status)
        if kind is None:
            return None
        if not raw:
            raise ValidationFailed(
                _("A lost or disqualified lead needs a reason; map a reason column or fill it in."),
                field=L + "reason",
            )
        found = self.reasons.get((kind, header_key(raw)))
        if found is not None:
            return found
        if not self.options.get("create_reasons"):
            raise ValidationFailed(
                _("“%(reason)s” is not on the %(list)s reason list; add it, or tick “create missing reasons”.")
                % {"reason": raw[:80], "list": LeadReason.Kind(kind).label},
                field=L + "reason",
            )
        self.new_reasons.setdefault((kind, header_key(raw)), raw[:120])
        return (kind, header_key(raw))

    def _lead_row(self, cells: tuple) -> dict[str, Any]:
        """The lead part of a row, parsed and checked; raises ValidationFailed with the field."""
        data: dict[str, Any] = {}
        cell = self._cell
        if raw := cell(cells, L + "interest"):
            interest = self.interests.get(raw.casefold()) or self.interests.get(header_key(raw))
            if interest is None:
                raise ValidationFailed(_("“%(value)s” is not one of the interests.") % {"value": raw[:80]},
                                       field=L + "interest")  # fmt: skip
            data["interest"] = interest
        for field, limit in (("title", 200), ("source", 120), ("need", 300)):
            if raw := cell(cells, L + field):
                data[field] = raw[:limit]
        if raw := cell(cells, L + "message"):
            data["message"] = raw[:5000]
        for field in ("budget", "estimated_value"):
            if raw := cell(cells, L + field):
                data[field] = _money(raw, L + field)
        for field, words, message in (
            ("rating", RATING_WORDS, _("Enter hot, warm or cold.")),
            ("timeline", TIMELINE_WORDS, _("Enter now, within 3 months, within 12 months or later.")),
        ):
            if raw := cell(cells, L + field):
                value = words.get(header_key(raw))
                if value is None:
                    raise ValidationFailed(message, field=L + field)
                data[field] = value
        if raw := cell(cells, L + "authority"):
            if raw.casefold() in TRUE:
                data["authority"] = True
            elif raw.casefold() in FALSE:
                data["authority"] = False
            else:
                raise ValidationFailed(_("Answer yes or no."), field=L + "authority")
        answers = {}
        for key, question in self.questions.items():
            if (raw := cell(cells, QUESTION + key)) and (
                value := lead_questions.answer_clean(question, raw)
            ) is not None:
                answers[key] = value
        if answers:
            data["qualification"] = answers
        extra = {}
        for header, position in self.extra_columns:
            value = n.clean_text(cells[position])[:500] if position < len(cells) else ""
            if value:
                extra[header] = value
        if extra:
            data["attributes"] = extra
        row: dict[str, Any] = {"data": data, "channel": Channel.IMPORT}
        if raw := cell(cells, L + "channel"):
            channel = CHANNEL_WORDS.get(header_key(raw)) or (raw if raw in Channel.values else None)
            if channel is None:
                raise ValidationFailed(_("Unknown channel “%(value)s”.") % {"value": raw[:60]}, field=L + "channel")
            row["channel"] = channel
        external = cell(cells, L + "external_id")[:100]
        key_source = "\x1f".join(n.clean_text(cells[p]) if p < len(cells) else "" for p in self.mapped_positions)
        row["import_key"] = hashlib.sha1(key_source.encode(), usedforsecurity=False).hexdigest()[:20]
        row["external_id"] = external
        row["captured_at"] = self._date(raw, L + "captured_at") if (raw := cell(cells, L + "captured_at")) else None
        status = Status.NEW
        if raw := cell(cells, L + "status"):
            status = STATUS_WORDS.get(header_key(raw)) or (raw if raw in Status.values else None)
            if status is None:
                raise ValidationFailed(
                    _("Unknown status “%(value)s”; use e.g. new, qualified, in progress, won, lost.")
                    % {"value": raw[:60]},
                    field=L + "status",
                )
        row["status"] = status
        # Only a closed lead's close date is history; an open opportunity's is a forecast and may lie ahead.
        row["closed_at"] = None
        if status in states.CLOSED and (raw := cell(cells, L + "closed_at")):
            row["closed_at"] = self._date(raw, L + "closed_at")
        if row["closed_at"] and row["captured_at"] and row["closed_at"] < row["captured_at"]:
            raise ValidationFailed(_("The close date lies before the capture date."), field=L + "closed_at")
        row["won_value"] = _money(raw, L + "won_value") if (raw := cell(cells, L + "won_value")) else None
        row["owner"] = self._owner(raw) if (raw := cell(cells, L + "owner")) else None
        row["reason"] = self._reason(cell(cells, L + "reason"), status)
        return row

    # --- the chunk --------------------------------------------------------------------------------------

    def _reject(self, result: ChunkResult, number: int, field: str | None, message: str, cells: tuple) -> None:
        if field and field.startswith("qualification."):
            field = QUESTION + field.removeprefix("qualification.")
        column = self.headers.get(field or "", "")
        result.rejections.append((number, column, str(message), ["" if c is None else c for c in cells]))

    def process(self, rows: list[tuple], first_row: int, *, write: bool) -> ChunkResult:
        result = ChunkResult()
        parsed: dict[int, tuple[dict, tuple]] = {}
        masked: list[tuple] = []
        for offset, cells in enumerate(rows):
            number = first_row + offset
            if not any(cells):
                masked.append(cells)
                continue
            try:
                parsed[number] = (self._lead_row(cells), cells)
                masked.append(cells)
            except ValidationFailed as exc:
                self._reject(result, number, exc.field, exc.message, cells)
                masked.append(tuple(None for _c in cells))  # the person part skips it: no person without its lead
        people = self.people.process(masked, first_row, write=write)
        for number, column, message, cells in people.rejections:
            parsed.pop(number, None)
            result.rejections.append((number, column, message, cells))
        for key, value in people.counts.items():
            if key != "rejected":
                result.add(f"people_{key}", value)
        row_people = self.people.row_people
        items = [(number, row, cells, row_people.get(number)) for number, (row, cells) in sorted(parsed.items())]
        if write and self.new_reasons:
            self._create_reasons(result)
        self._leads(items, result, write=write)
        if result.rejections:
            result.add("rejected", len(result.rejections))
        return result

    def _create_reasons(self, result: ChunkResult) -> None:
        for (kind, folded), label in self.new_reasons.items():
            if (kind, folded) in self.reasons:
                continue
            reason, created = LeadReason.objects.get_or_create(tenant_id=self.tenant_id, kind=kind, label=label)
            self.reasons[(kind, folded)] = reason
            if created:
                result.add("reasons_created")
        self.new_reasons = {}

    def _candidates(self, person_ids: list[int]) -> dict[int, list[dict]]:
        """The stored leads of these people (the only ones a row can repeat or join)."""
        found: dict[int, list[dict]] = {}
        for start in range(0, len(person_ids), 900):
            batch = person_ids[start : start + 900]
            for values in (
                Lead.objects.for_tenant(self.tenant_id)
                .filter(person_id__in=batch)
                .values("pk", "person_id", "interest_id", "status", "captured_at", "source_details")
            ):
                found.setdefault(values["person_id"], []).append(values)
        return found

    @staticmethod
    def _seen(row: dict, leads: list[dict]) -> bool:
        for lead in leads:
            details = lead["source_details"] or {}
            if row["external_id"] and details.get("external_id") == row["external_id"]:
                return True
            if row["import_key"] in (details.get("import_keys") or []):
                return True
        return False

    def _leads(self, items: list[tuple], result: ChunkResult, *, write: bool) -> None:
        from ..models import ImportChange

        candidates = self._candidates(sorted({pid for *_r, pid in items if pid}))
        changes: list[ImportChange] = []
        history_rows: list[tuple[int, dict, Any]] = []
        open_in_chunk: dict[tuple[int, int | None], int] = {}  # (person, interest) -> index in history_rows
        for number, row, cells, person_id in items:
            leads = candidates.get(person_id, []) if person_id else []
            if self._seen(row, leads):
                result.add("unchanged")
                continue
            interest = row["data"].get("interest")
            interest_id = interest.pk if interest else None
            is_open = row["status"] in states.OPEN
            joins = None
            if is_open and person_id:
                joins = next(
                    (lead["pk"] for lead in sorted(leads, key=lambda v: v["captured_at"], reverse=True)
                     if lead["interest_id"] == interest_id and lead["status"] in states.OPEN),
                    None,
                )  # fmt: skip
            if not write:
                if joins is not None or (is_open and (person_id, interest_id) in open_in_chunk and person_id):
                    result.add("responses")
                else:
                    result.add("created")
                    if is_open and person_id:
                        open_in_chunk[(person_id, interest_id)] = 1
                continue
            if not person_id:  # the person part decided nothing for this row: never a lead without its person
                self._reject(result, number, None, _("The person of this row could not be found or created."), cells)
                continue
            try:
                if self.history:
                    if joins is None and is_open and (person_id, interest_id) in open_in_chunk:
                        history_rows[open_in_chunk[(person_id, interest_id)]][1].setdefault("_joins", []).append(row)
                        result.add("responses")
                        continue
                    if joins is not None:
                        changes.append(self._history_response(joins, row))
                        result.add("responses")
                        continue
                    if is_open:
                        open_in_chunk[(person_id, interest_id)] = len(history_rows)
                    history_rows.append((number, row, cells, person_id))
                else:
                    change, created = self._capture(row, person_id)
                    changes.append(change)
                    result.add("created" if created else "responses")
            except DomainError as exc:
                self._reject(result, number, exc.field, exc.message, cells)
        if history_rows:
            changes += self._history_write(history_rows, result)
        if changes:
            ImportChange.objects.bulk_create(changes, batch_size=1000)

    def _details(self, row: dict, current: dict | None = None) -> dict:
        details = dict(current or {})
        keys = list(details.get("import_keys") or [])
        if row["import_key"] not in keys:
            keys.append(row["import_key"])
        details["import_keys"] = keys[-50:]
        if row["external_id"] and not details.get("external_id"):
            details["external_id"] = row["external_id"]
        return details

    def _change(self, lead_id: int, action: str, previous: dict | None, stamp=None):
        """The row-level history entry; ``stamp`` is the lead's ``updated_at`` after the import wrote it."""
        from ..models import ImportChange

        return ImportChange(
            tenant_id=self.tenant_id, job_id=self.job.pk, record_id=lead_id, action=action, previous=previous,
            stamp=stamp or timezone.now(),
        )  # fmt: skip

    def _capture(self, row: dict, person_id: int):
        """A lead file's row: the one capture path, with the matched person."""
        from leadwerk.leads import services

        person = Person.objects.get(pk=person_id)
        data = {**row["data"], "source_details": self._details(row)}
        captured = services.lead_capture(
            by=self.by, person=person, lead=data, channel=row["channel"], captured_at=row["captured_at"]
        )
        lead = captured.lead
        if captured.created:
            return self._change(lead.pk, "l", None, lead.updated_at), True
        # Joined the person's open lead: remember the row on it (so a re-run skips it) and what undo removes.
        previous_details = Lead.objects.filter(pk=lead.pk).values_list("source_details", flat=True).first() or {}
        Lead.objects.filter(pk=lead.pk).update(source_details=self._details(row, previous_details))
        # The newest response of the lead is the one capture just added (same transaction, row lock held).
        activity = Activity.objects.filter(lead=lead, kind=Activity.Kind.RESPONSE).order_by("-pk").first()
        event = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.RESPONSE).order_by("-pk").first()
        previous = {
            "activity": activity.pk if activity else None,
            "event": event.pk if event else None,
            "source_details": previous_details,
        }
        return self._change(lead.pk, "r", previous), False

    def _history_response(self, lead_id: int, row: dict):
        from leadwerk.leads.history import lead_history_response

        lead = Lead.objects.select_for_update().get(pk=lead_id)
        previous_details = dict(lead.source_details or {})
        data = {**row["data"]}
        data.pop("source_details", None)
        activity, event, previous = lead_history_response(
            lead=lead, by=self.by, at=row["captured_at"] or timezone.now(), channel=row["channel"], data=data
        )
        Lead.objects.filter(pk=lead.pk).update(source_details=self._details(row, previous_details))
        plain = {
            k: (v.pk if hasattr(v, "pk") else str(v) if isinstance(v, Decimal) else v) for k, v in previous.items()
        }
        return self._change(
            lead.pk, "r",
            {"activity": activity.pk, "event": event.pk, "source_details": previous_details, "fields": plain},
        )  # fmt: skip

    def _history_write(self, rows: list[tuple], result: ChunkResult) -> list:
        from leadwerk.leads.history import HistoryLead, lead_history_load

        history: list[HistoryLead] = []
        now = timezone.now()
        ids = sorted({person_id for *_r, person_id in rows})
        organizations = dict(Person.objects.filter(pk__in=ids).values_list("pk", "organization_id"))
        for _number, row, _cells, person_id in rows:
            reason = row["reason"]
            if isinstance(reason, tuple):
                reason = self.reasons[reason]
            captured = row["captured_at"] or now
            history.append(
                HistoryLead(
                    person_id=person_id,
                    organization_id=organizations.get(person_id),
                    captured_at=captured,
                    status=row["status"],
                    status_at=row["closed_at"] if row["status"] != Status.NEW else None,
                    channel=row["channel"],
                    owner=row["owner"],
                    reason=reason,
                    won_value=row["won_value"],
                    data={**row["data"], "source_details": self._details(row)},
                )
            )
        leads = lead_history_load(by=self.by, rows=history)
        result.add("created", len(leads))
        changes = [self._change(lead.pk, "l", None, lead.updated_at) for lead in leads]
        # Open rows of the same person and interest later in the chunk: responses to the lead just written.
        for (_number, row, _cells, _pid), lead in zip(rows, leads, strict=True):
            for joined in row.get("_joins", []):
                changes.append(self._history_response(lead.pk, joined))
        return changes

    # --- undo -------------------------------------------------------------------------------------------

    def undo(self, changes) -> dict[str, list]:
        """Leads first (all of the job's, on the first batch: people cannot go while their leads stay)."""
        from ..models import ImportChange

        report: dict[str, list] = {"deleted": [], "restored": [], "conflicts": []}
        if not self._leads_undone:
            self._leads_undone = True
            lead_changes = list(ImportChange.objects.filter(job=self.job, action__in=("l", "r")).order_by("-pk"))
            self._undo_leads(lead_changes, report)
        person_changes = [c for c in changes if c.action not in ("l", "r")]
        if person_changes:
            created = [c.record_id for c in person_changes if c.action == "c"]
            with_leads = set(
                Lead.objects.for_tenant(self.tenant_id)
                .filter(person_id__in=created)
                .values_list("person_id", flat=True)
            )
            for pk in sorted(with_leads):
                report["conflicts"].append([pk, "has leads"])
            person_report = self.people.undo([c for c in person_changes if c.record_id not in with_leads])
            for key in report:
                report[key] += person_report[key]
        return report

    def _worked_since(self, lead_ids: list[int], since: dt.datetime) -> set[int]:
        worked = set(
            LeadEvent.objects.filter(lead_id__in=lead_ids, created_at__gt=since, actor__isnull=False)
            .filter(kind__in=(LeadEvent.Kind.STATUS, LeadEvent.Kind.ASSIGNMENT, LeadEvent.Kind.UPDATE))
            .values_list("lead_id", flat=True)
        )
        worked |= set(
            Activity.objects.filter(lead_id__in=lead_ids, created_at__gt=since)
            .filter(~Q(kind=Activity.Kind.RESPONSE))
            .values_list("lead_id", flat=True)
        )
        worked |= set(
            FollowUp.objects.filter(lead_id__in=lead_ids, created_at__gt=since).values_list("lead_id", flat=True)
        )
        return worked

    def _undo_leads(self, changes: list, report: dict[str, list]) -> None:
        from auditlog.context import disable_auditlog

        since = self.job.finished_at or timezone.now()
        ids = sorted({c.record_id for c in changes})
        existing = set(Lead.objects.for_tenant(self.tenant_id).filter(pk__in=ids).values_list("pk", flat=True))
        worked = set()
        for start in range(0, len(ids), 900):
            worked |= self._worked_since(ids[start : start + 900], since)
        delete_ids: list[int] = []
        for change in changes:  # newest first: responses come off before their lead goes
            pk = change.record_id
            if pk not in existing:
                report["conflicts"].append([pk, "deleted"])
                continue
            if pk in worked:
                report["conflicts"].append([pk, "changed"])
                continue
            if change.action == "l":
                delete_ids.append(pk)
                continue
            previous = change.previous or {}
            Activity.objects.filter(pk=previous.get("activity"), lead_id=pk).delete()
            LeadEvent.objects.filter(pk=previous.get("event"), lead_id=pk).delete()
            restore: dict[str, Any] = {"source_details": previous.get("source_details") or {}}
            for key, value in (previous.get("fields") or {}).items():
                restore[key + "_id" if key in ("interest", "organization") else key] = value
            Lead.objects.filter(pk=pk).update(**restore)
            report["restored"].append(pk)
        with disable_auditlog():
            for start in range(0, len(delete_ids), 500):
                Lead.objects.filter(pk__in=delete_ids[start : start + 500]).delete()
        report["deleted"] += delete_ids


LEAD = register(
    Target(
        key="lead",
        label=gettext_lazy("Leads"),
        fields=lead_fields,
        loader=LeadLoader,
        keys=("email", "external_id"),
        options_check=lead_options_check,
    )
)
