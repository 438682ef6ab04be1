"""Tenant-defined qualification questions: their configuration and the typed answers in ``Lead.qualification``.

Answers are stored by question key with a JSON-friendly type per kind: text → str, number → int or float,
date → ISO date string, yes/no → bool, single choice → one of the question's choices, multiple choice →
a list of them. Every writer (form, API, import) goes through ``qualification_clean``, so an unknown key or
a wrong type is a field error ``qualification.<key>`` wherever it comes from.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from leadwerk.accounts.models import Membership
from leadwerk.contacts import normalize as n
from leadwerk.core.exceptions import NotFound, ValidationFailed

from .models import Lead, QualificationQuestion
from .roles import LEAD_ADMINS

Q = QualificationQuestion
KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
TRUE = frozenset({"1", "true", "yes", "y", "ja", "j", "x", "wahr"})
FALSE = frozenset({"0", "false", "no", "n", "nein", "falsch"})
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%m/%d/%Y")
EMPTY = (None, "", [])


class QuestionNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__(_("Question not found."))


def _require(by: Membership, question: QualificationQuestion | None = None) -> None:
    if not by.is_active or by.role not in LEAD_ADMINS:
        raise QuestionNotFound()
    if question is not None and question.tenant_id != by.tenant_id:
        raise QuestionNotFound()


# --- answers ----------------------------------------------------------------------------------------


def _choices(question: QualificationQuestion) -> dict[str, str]:
    """Folded choice → the choice as configured, so 'ja'/'Ja' and ' Ja ' find the same answer."""
    return {n.clean_text(str(c)).casefold(): str(c) for c in question.choices}


def _number(raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise InvalidOperation
    if isinstance(raw, (int, float, Decimal)):
        number = Decimal(str(raw))
    else:
        text = str(raw).strip().replace(" ", "").replace("\u00a0", "")
        if "," in text and "." in text:  # 1.234,5 or 1,234.5: the last separator is the decimal one
            text = (
                text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
            )
        else:
            text = text.replace(",", ".")
        number = Decimal(text)
    if not number.is_finite():
        raise InvalidOperation
    return float(number) if number % 1 else int(number)


def _date(raw: Any) -> str:
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    if isinstance(raw, dt.date):
        return raw.isoformat()
    text = str(raw).strip()
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return dt.date.fromisoformat(text[:10]).isoformat()


def answer_clean(question: QualificationQuestion, raw: Any) -> Any:
    """One answer in its stored type; None for an empty answer. Raises a field error naming the question."""
    field = f"qualification.{question.key}"
    if isinstance(raw, str):
        raw = raw.strip()
    if raw in EMPTY:
        return None
    try:
        match question.kind:
            case Q.Kind.TEXT:
                if not isinstance(raw, (str, int, float, Decimal)) or isinstance(raw, bool):
                    raise ValueError
                text = n.clean_text(str(raw))
                if len(text) > 1000:
                    raise ValidationFailed(_("At most %(n)s characters.") % {"n": 1000}, field=field)
                return text
            case Q.Kind.NUMBER:
                return _number(raw)
            case Q.Kind.DATE:
                return _date(raw)
            case Q.Kind.YES_NO:
                if isinstance(raw, bool):
                    return raw
                text = str(raw).strip().casefold()
                if text in TRUE:
                    return True
                if text in FALSE:
                    return False
                raise ValidationFailed(_("Answer yes or no."), field=field)
            case Q.Kind.CHOICE:
                found = _choices(question).get(n.clean_text(str(raw)).casefold())
                if found is None:
                    raise ValidationFailed(_("Choose one of the offered answers."), field=field)
                return found
            case Q.Kind.MULTI:
                items = raw if isinstance(raw, (list, tuple)) else re.split(r"[;|]", str(raw))
                choices = _choices(question)
                picked = []
                for item in items:
                    text = n.clean_text(str(item)).casefold()
                    if not text:
                        continue
                    if text not in choices:
                        raise ValidationFailed(
                            _("“%(value)s” is not one of the offered answers.") % {"value": str(item)[:60]},
                            field=field,
                        )
                    if choices[text] not in picked:
                        picked.append(choices[text])
                return [c for c in question.choices if c in picked] or None
    except (ValueError, TypeError, InvalidOperation, ArithmeticError):
        messages = {
            Q.Kind.NUMBER: _("Enter a number."),
            Q.Kind.DATE: _("Enter a date (YYYY-MM-DD or DD.MM.YYYY)."),
        }
        raise ValidationFailed(messages.get(question.kind, _("Enter a valid answer.")), field=field) from None
    raise ValidationFailed(_("Enter a valid answer."), field=field)


def questions_for(tenant_id: int, *, active_only: bool = False) -> dict[str, QualificationQuestion]:
    questions = QualificationQuestion.objects.for_tenant(tenant_id).order_by("position", "id")
    if active_only:
        questions = questions.filter(active=True)
    return {q.key: q for q in questions}


def qualification_clean(
    tenant_id: int, answers: Mapping[str, Any], *, questions: Mapping[str, QualificationQuestion] | None = None
) -> dict[str, Any]:
    """Typed answers by key; an empty answer becomes None (it removes a stored one). Unknown keys are refused.

    Answers to a retired question stay accepted, so a client that sends back what it read does not fail.
    """
    if not isinstance(answers, Mapping):
        raise ValidationFailed(_("Send the answers as an object of question key and answer."), field="qualification")
    known = questions if questions is not None else questions_for(tenant_id)
    clean: dict[str, Any] = {}
    for key, raw in answers.items():
        question = known.get(str(key))
        if question is None:
            raise ValidationFailed(_("There is no qualification question with this key."), field=f"qualification.{key}")
        clean[question.key] = answer_clean(question, raw)
    return clean


def qualification_merge(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The stored answers with ``changes`` applied; None removes an answer."""
    merged = dict(current or {})
    for key, value in changes.items():
        if value in EMPTY:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def missing_required(lead: Lead, answers: Mapping[str, Any] | None = None) -> list[QualificationQuestion]:
    """The active questions required before 'qualified' that the lead has not answered."""
    answers = lead.qualification if answers is None else answers
    return [
        q
        for q in QualificationQuestion.objects.for_tenant(lead.tenant_id).filter(active=True, required_to_qualify=True)
        if answers.get(q.key) in EMPTY
    ]


def qualify_check(lead: Lead) -> None:
    """Refuse 'qualified' while required answers are missing, naming them."""
    missing = missing_required(lead)
    if missing:
        raise ValidationFailed(
            _("Answer these questions before the lead is qualified: %(questions)s.")
            % {"questions": ", ".join(f"“{q.label}”" for q in missing)},
            field="status",
        )


def answers_display(lead: Lead, questions: Iterable[QualificationQuestion]) -> list[tuple[str, str]]:
    """(question, answer as text) for the lead page, in question order."""
    rows = []
    for q in questions:
        value = lead.qualification.get(q.key)
        if value in EMPTY:
            continue
        if isinstance(value, bool):
            text = _("yes") if value else _("no")
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        rows.append((q.label, text))
    return rows


# --- configuration ------------------------------------------------------------------------------------


def _clean_definition(by: Membership, data: Mapping[str, Any], question: QualificationQuestion | None) -> dict:
    clean: dict[str, Any] = {}
    if question is None or "key" in data:
        key = n.clean_text(str(data.get("key") or "")).lower()
        if not KEY.match(key):
            raise ValidationFailed(
                _("Use 1 to 40 lower-case letters, digits, hyphens or underscores, e.g. standorte."), field="key"
            )
        taken = QualificationQuestion.objects.for_tenant(by.tenant_id).filter(key=key)
        if question is not None:
            taken = taken.exclude(pk=question.pk)
        if taken.exists():
            raise ValidationFailed(_("This key is taken."), field="key")
        clean["key"] = key
    if question is None or "label" in data:
        label = n.clean_text(str(data.get("label") or ""))
        if not label:
            raise ValidationFailed(_("Enter the question."), field="label")
        if len(label) > 200:
            raise ValidationFailed(_("At most %(n)s characters.") % {"n": 200}, field="label")
        clean["label"] = label
    if question is None or "kind" in data:
        kind = data.get("kind") or Q.Kind.TEXT
        if kind not in Q.Kind.values:
            raise ValidationFailed(_("Choose an answer type."), field="kind")
        clean["kind"] = kind
    kind = clean.get("kind", question.kind if question else Q.Kind.TEXT)
    if question is None or "choices" in data or "kind" in data:
        raw = data.get("choices", question.choices if question else [])
        if isinstance(raw, str):
            raw = re.split(r"[\n;]", raw)
        choices: list[str] = []
        for choice in raw or []:
            text = n.clean_text(str(choice))[:100]
            if text and text.casefold() not in {c.casefold() for c in choices}:
                choices.append(text)
        if kind in (Q.Kind.CHOICE, Q.Kind.MULTI) and len(choices) < 2:
            raise ValidationFailed(_("Give at least two answers to choose from."), field="choices")
        clean["choices"] = choices if kind in (Q.Kind.CHOICE, Q.Kind.MULTI) else []
    for flag in ("required_to_qualify", "active"):
        if flag in data and data[flag] is not None:
            clean[flag] = bool(data[flag])
    return clean


@transaction.atomic
def question_create(*, by: Membership, data: Mapping[str, Any]) -> QualificationQuestion:
    """Add a question at the end of the list."""
    _require(by)
    clean = _clean_definition(by, data, None)
    top = QualificationQuestion.objects.for_tenant(by.tenant_id).aggregate(top=Max("position"))["top"]
    question = QualificationQuestion(tenant_id=by.tenant_id, position=(top or 0) + 1, **clean)
    try:
        question.full_clean(exclude=["tenant"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ValidationFailed(messages[0], field=field if field != "__all__" else "key") from exc
    question.save()
    return question


@transaction.atomic
def question_update(
    *, question: QualificationQuestion, by: Membership, data: Mapping[str, Any]
) -> QualificationQuestion:
    """Change a question. Its key stays once leads have answers under it (they would be orphaned)."""
    _require(by, question)
    question = QualificationQuestion.objects.select_for_update().get(pk=question.pk)
    clean = _clean_definition(by, data, question)
    if clean.get("key", question.key) != question.key and _answered(question):
        raise ValidationFailed(_("Leads have answered this question; its key cannot change."), field="key")
    if clean.get("kind", question.kind) != question.kind and _answered(question):
        raise ValidationFailed(
            _("Leads have answered this question; add a new question instead of changing the answer type."),
            field="kind",
        )
    for name, value in clean.items():
        setattr(question, name, value)
    question.save()
    return question


def _answered(question: QualificationQuestion) -> bool:
    return Lead.objects.for_tenant(question.tenant_id).filter(qualification__has_key=question.key).exists()


@transaction.atomic
def question_active_set(*, question: QualificationQuestion, by: Membership, active: bool) -> QualificationQuestion:
    """Retire a question (its answers stay on the leads) or bring it back."""
    _require(by, question)
    question.active = active
    question.save(update_fields=["active", "updated_at"])
    return question


@transaction.atomic
def question_move(*, question: QualificationQuestion, by: Membership, offset: int) -> QualificationQuestion:
    """Move a question up (-1) or down (+1) in the list; the order is the form's order."""
    _require(by, question)
    ordered = list(
        QualificationQuestion.objects.for_tenant(by.tenant_id).select_for_update().order_by("position", "id")
    )
    index = next(i for i, q in enumerate(ordered) if q.pk == question.pk)
    target = max(0, min(len(ordered) - 1, index + offset))
    ordered.insert(target, ordered.pop(index))
    _renumber(ordered)
    return next(q for q in ordered if q.pk == question.pk)


@transaction.atomic
def question_reorder(*, by: Membership, keys: list[str]) -> list[QualificationQuestion]:
    """Set the whole order at once (the API): every question's key exactly once."""
    _require(by)
    ordered = {q.key: q for q in QualificationQuestion.objects.for_tenant(by.tenant_id).select_for_update()}
    if sorted(keys) != sorted(ordered) or len(set(keys)) != len(keys):
        raise ValidationFailed(_("List every question's key exactly once."), field="keys")
    questions = [ordered[key] for key in keys]
    _renumber(questions)
    return questions


def _renumber(questions: list[QualificationQuestion]) -> None:
    now = timezone.now()
    for position, q in enumerate(questions, start=1):
        q.position, q.updated_at = position, now  # updated_at: the capture's configuration stamp sums it
    QualificationQuestion.objects.bulk_update(questions, ["position", "updated_at"])
