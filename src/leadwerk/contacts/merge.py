"""Merging two records of one person, and undoing it.

A merge keeps the *survivor* and deletes the *other* record, after moving everything that hangs off the
other to the survivor. Everything needed to undo it is kept on the ``Merge`` row: both records as they
were (Django's serialised form, so a restore is exact, timestamps included) and, per kind of related
row, what was moved.

**Relation movers.** Each kind of related row is moved by a ``RelationMover`` registered here. Apps that
add relations to people later (segments, leads, campaigns) register their own with ``register_mover``
— or do nothing: any foreign key to Person without a mover is re-pointed to the survivor by the generic
mover (a plain ``UPDATE``, undone the same way). A relation whose rows must stay unique per person
(tags, segment membership) needs ``unique_mover``, which drops the rows the survivor already has and
keeps them for the undo.

**Timeline.** The other record's audit entries are not rewritten (an audit log is never changed after the
fact); the survivor's timeline shows them through the Merge rows (``merged_person_ids``). An undo
therefore needs no audit change either.

**Undo** restores both records and every moved row exactly, in reverse order only: a merge whose survivor
was merged again later is refused until that later merge is undone. Changes made to the survivor after
the merge are lost by the undo (the record is restored as it was); consent recorded since stays with
the survivor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from auditlog.context import disable_auditlog
from django.apps import apps
from django.core import serializers
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from leadwerk.accounts.models import Membership
from leadwerk.core.exceptions import Conflict, ValidationFailed

from . import normalize as n
from . import services
from .exceptions import NotAllowed
from .models import (
    Affiliation,
    AttributeDefinition,
    Channel,
    Consent,
    DuplicateCandidate,
    Merge,
    Person,
    Suppression,
)
from .roles import CONTACT_WRITERS

# The fields a user chooses between, in the order of the form (the service's own list of person fields).
MERGE_FIELDS = services.PERSON_FIELDS
Choice = str  # "survivor" or "other"


def _require(by: Membership, *objs) -> None:
    if not by.is_active or by.role not in CONTACT_WRITERS or any(o.tenant_id != by.tenant_id for o in objs):
        raise NotAllowed()


# --- serialised rows ------------------------------------------------------------------------------------------


def rows_dump(queryset_or_objects) -> list[dict]:
    """Rows as Django's JSON serialiser writes them: every column, restorable exactly."""
    return json.loads(serializers.serialize("json", queryset_or_objects))


def rows_restore(rows: list[dict]) -> None:
    """Write rows back as they were (same ids, same timestamps; no auto_now, no audit entries).

    A row pointing at something deleted since loses that link if it may (nullable), else is not restored.
    """
    if not rows:
        return
    with disable_auditlog():
        for item in serializers.deserialize("json", json.dumps(rows)):
            obj = item.object
            for field in obj._meta.concrete_fields:
                if not field.many_to_one or field.name == "tenant":
                    continue
                value = getattr(obj, field.attname)
                if value is None or field.related_model._base_manager.filter(pk=value).exists():
                    continue
                if not field.null:
                    break
                setattr(obj, field.attname, None)
            else:
                item.save()


# --- relation movers ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelationMover:
    """Moves one kind of related row from the other record to the survivor, and back on undo.

    ``move(survivor, other)`` returns a JSON-serialisable payload; ``undo(survivor_pk, other_pk, payload)``
    runs after the other record is back. ``relations`` are the ("app_label.Model", "field") foreign keys it
    takes care of, so the generic mover leaves them alone.
    """

    name: str
    relations: tuple[tuple[str, str], ...]
    move: Callable[[Person, Person], Any]
    undo: Callable[[int, int, Any], None]


_MOVERS: dict[str, RelationMover] = {}


def register_mover(mover: RelationMover) -> RelationMover:
    """Add (or replace, by name) a mover; apps call this from their AppConfig.ready()."""
    _MOVERS[mover.name] = mover
    return mover


def _model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def fk_mover(label: str, field: str) -> RelationMover:
    """Re-point every row of ``label`` whose ``field`` is the other record; undo points the same rows back."""

    def move(survivor: Person, other: Person) -> list:
        rows = _model(label)._base_manager.filter(**{field: other.pk})
        ids = list(rows.values_list("pk", flat=True))
        if ids:
            _model(label)._base_manager.filter(pk__in=ids).update(**{field: survivor.pk})
        return ids

    def undo(survivor_pk: int, other_pk: int, ids: list) -> None:
        if ids:
            _model(label)._base_manager.filter(pk__in=ids).update(**{field: other_pk})

    return RelationMover(f"fk:{label}.{field}", ((label, field),), move, undo)


def unique_mover(label: str, field: str, unique_with: tuple[str, ...]) -> RelationMover:
    """Like ``fk_mover`` for rows unique per person and ``unique_with`` (a tag, a segment): rows the survivor
    already has are deleted from the other (kept in the payload) instead of moved."""

    def move(survivor: Person, other: Person) -> dict:
        model = _model(label)
        have = set(model._base_manager.filter(**{field: survivor.pk}).values_list(*unique_with))
        moved, dropped = [], []
        for row in model._base_manager.filter(**{field: other.pk}):
            (dropped if tuple(getattr(row, f) for f in unique_with) in have else moved).append(row)
        payload = {"moved": [row.pk for row in moved], "dropped": rows_dump(dropped)}
        if moved:
            model._base_manager.filter(pk__in=payload["moved"]).update(**{field: survivor.pk})
        if dropped:
            model._base_manager.filter(pk__in=[row.pk for row in dropped]).delete()
        return payload

    def undo(survivor_pk: int, other_pk: int, payload: dict) -> None:
        model = _model(label)
        if payload["moved"]:
            model._base_manager.filter(pk__in=payload["moved"]).update(**{field: other_pk})
        rows_restore(payload["dropped"])

    return RelationMover(f"unique:{label}.{field}", ((label, field),), move, undo)


def _affiliations_move(survivor: Person, other: Person) -> dict:
    # Snapshot of both people's affiliations: the merge may also end or add some (see person_merge).
    before = rows_dump(Affiliation.objects.filter(person__in=[survivor.pk, other.pk]))
    Affiliation.objects.filter(person=other.pk).update(person=survivor.pk)
    return {"before": before}


def _affiliations_undo(survivor_pk: int, other_pk: int, payload: dict) -> None:
    keep = [row["pk"] for row in payload["before"]]
    Affiliation.objects.filter(person__in=[survivor_pk, other_pk]).exclude(pk__in=keep).delete()
    rows_restore(payload["before"])


def _duplicate_of_move(survivor: Person, other: Person) -> dict:
    pointing = Person.objects.filter(duplicate_of=other.pk)
    own = list(pointing.filter(pk=survivor.pk).values_list("pk", flat=True))
    ids = list(pointing.exclude(pk=survivor.pk).values_list("pk", flat=True))
    Person.objects.filter(pk__in=ids).update(duplicate_of=survivor.pk)
    # The survivor's own flag pointed at the record it now absorbs, or at itself through it: cleared.
    Person.objects.filter(pk=survivor.pk, duplicate_of__in=[other.pk, survivor.pk]).update(duplicate_of=None)
    flagged_other = Person.objects.filter(pk=other.pk, duplicate_of=survivor.pk).exists()
    return {"ids": ids, "own": own, "other_pointed_here": flagged_other}


def _duplicate_of_undo(survivor_pk: int, other_pk: int, payload: dict) -> None:
    Person.objects.filter(pk__in=payload["ids"]).update(duplicate_of=other_pk)


def _candidates_move(survivor: Person, other: Person) -> dict:
    # Proposals involving the other record (this pair's included) go with it; their decisions come back on undo.
    rows = DuplicateCandidate.objects.filter(Q(person_a=other.pk) | Q(person_b=other.pk))
    dumped = rows_dump(rows)
    rows.delete()
    return {"rows": dumped}


def _candidates_undo(survivor_pk: int, other_pk: int, payload: dict) -> None:
    rows_restore(payload["rows"])


def _segment_members_mover() -> RelationMover | None:
    try:
        apps.get_model("contacts", "SegmentMember")
    except LookupError:
        return None
    return unique_mover("contacts.SegmentMember", "person", ("segment_id",))


register_mover(fk_mover("contacts.Consent", "person"))
register_mover(unique_mover("contacts.PersonTag", "person", ("tag_id",)))
register_mover(
    RelationMover("affiliations", (("contacts.Affiliation", "person"),), _affiliations_move, _affiliations_undo)
)
register_mover(
    RelationMover("duplicate_of", (("contacts.Person", "duplicate_of"),), _duplicate_of_move, _duplicate_of_undo)
)
register_mover(
    RelationMover(
        "candidates",
        (("contacts.DuplicateCandidate", "person_a"), ("contacts.DuplicateCandidate", "person_b")),
        _candidates_move,
        _candidates_undo,
    )
)
if (_members := _segment_members_mover()) is not None:
    register_mover(_members)


def movers() -> list[RelationMover]:
    """The registered movers, then a generic one for every other foreign key to Person."""
    result = list(_MOVERS.values())
    covered = {(label.lower(), field) for mover in result for label, field in mover.relations}
    for relation in Person._meta.related_objects:
        if relation.many_to_many or not relation.field.concrete:
            continue
        label = relation.related_model._meta.label
        if (label.lower(), relation.field.name) in covered:
            continue
        result.append(fk_mover(label, relation.field.name))
    return result


# --- choosing values ----------------------------------------------------------------------------------------


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


def order_pair(a: Person, b: Person) -> tuple[Person, Person]:
    """(survivor, other) by default: the older record survives."""
    return (a, b) if (a.created_at, a.pk) <= (b.created_at, b.pk) else (b, a)


@dataclass(frozen=True)
class FieldChoice:
    field: str  # a Person field or "attributes.<key>"
    label: str
    survivor_value: Any
    other_value: Any
    default: Choice


def differing_fields(survivor: Person, other: Person) -> list[FieldChoice]:
    """The fields in which the two records differ, with the default pick: the newer non-empty value."""
    newer = "other" if (other.updated_at, other.pk) > (survivor.updated_at, survivor.pk) else "survivor"
    rows = []

    def pick(mine: Any, theirs: Any) -> Choice:
        if _empty(mine):
            return "other"
        if _empty(theirs):
            return "survivor"
        return newer

    for name in MERGE_FIELDS:
        field = Person._meta.get_field(name)
        mine = getattr(survivor, field.attname)
        theirs = getattr(other, field.attname)
        if mine == theirs or (_empty(mine) and _empty(theirs)):
            continue
        rows.append(FieldChoice(name, str(field.verbose_name), mine, theirs, pick(mine, theirs)))
    definitions = {
        d.key: d.label for d in AttributeDefinition.objects.filter(tenant_id=survivor.tenant_id, record_type="person")
    }
    for key, label in definitions.items():
        mine, theirs = survivor.attributes.get(key), other.attributes.get(key)
        if mine == theirs or (_empty(mine) and _empty(theirs)):
            continue
        rows.append(FieldChoice(f"attributes.{key}", label, mine, theirs, pick(mine, theirs)))
    return rows


def _merged_values(survivor: Person, other: Person, choices: Mapping[str, Choice]) -> tuple[dict, dict | None]:
    """(person field data, attributes or None) after applying the choices; unchosen differences use the default."""
    defaults = {row.field: row.default for row in differing_fields(survivor, other)}
    unknown = set(choices) - set(defaults) - set(MERGE_FIELDS) - {f"attributes.{k}" for k in other.attributes}
    if unknown:
        raise ValidationFailed(_("Unknown field to choose."), field=sorted(unknown)[0])
    for field, choice in choices.items():
        if choice not in ("survivor", "other"):
            raise ValidationFailed(_("Choose the kept or the merged record's value."), field=field)
    pick = {**defaults, **{k: v for k, v in choices.items() if k in defaults}}
    data = {}
    for name in MERGE_FIELDS:
        if pick.get(name) == "other":
            data[name] = getattr(other, name)
    attributes = dict(survivor.attributes)
    for key, value in other.attributes.items():
        if pick.get(f"attributes.{key}", "other" if key not in attributes else "survivor") == "other":
            attributes[key] = value
    return data, (attributes if attributes != survivor.attributes else None)


# --- merge and undo ---------------------------------------------------------------------------------------


def _audit(*, by: Membership, person_pk: int, text: str, changes: dict) -> None:
    from leadwerk.accounts.models import AuditEntry
    from leadwerk.accounts.services import audit_note

    audit_note(
        tenant_id=by.tenant_id,
        by=by,
        model=Person,
        object_pk=person_pk,
        text=text,
        action=AuditEntry.Action.UPDATE,
        changes=changes,
    )


def _mirror_consent(person: Person) -> None:
    """Each channel's current consent from the newest marketing consent record, as consent_record keeps it."""
    updates = {}
    for channel in Channel.values:
        latest = (
            Consent.objects.filter(person=person.pk, channel=channel, purpose="marketing")
            .order_by("-recorded_at", "-id")
            .values_list("status", flat=True)
            .first()
        )
        if latest is not None and latest != getattr(person, f"consent_{channel}"):
            updates[f"consent_{channel}"] = latest
    if updates:
        Person.objects.filter(pk=person.pk).update(**updates)
        for key, value in updates.items():
            setattr(person, key, value)


def _suppress(person: Person, reason: str) -> list[int]:
    """Suppression wins: block the survivor's own address and numbers with the other record's reason."""
    created = []
    values = [("email", person.email)] + [("phone", v) for v in (person.phone, person.mobile)]
    for kind, value in values:
        if not value or (kind == "phone" and not value.startswith("+")):
            continue
        suppression, was_created = Suppression.objects.get_or_create(
            tenant_id=person.tenant_id,
            kind=kind,
            value_hash=n.contact_hash(kind, value),
            defaults={"reason": reason, "note": "merge"},
        )
        if was_created:
            created.append(suppression.pk)
    Person.objects.filter(pk=person.pk).update(suppressed_reason=reason)
    person.suppressed_reason = reason
    return created


@transaction.atomic
def person_merge(*, by: Membership, survivor: Person, other: Person, choices: Mapping[str, Choice]) -> Merge:
    """Make two records of one person one: the chosen values go to the survivor, every link moves to it."""
    _require(by, survivor, other)
    if survivor.pk == other.pk:
        raise ValidationFailed(_("Choose two different people."), field="other")
    locked = {p.pk: p for p in Person.objects.select_for_update().filter(pk__in=[survivor.pk, other.pk])}
    if len(locked) != 2:
        raise Conflict(_("One of the two records no longer exists."))
    survivor, other = locked[survivor.pk], locked[other.pk]
    data, attributes = _merged_values(survivor, other, choices)
    snapshot = {"survivor": rows_dump([survivor]), "other": rows_dump([other])}
    # A list, not a dict: the undo goes backwards, and PostgreSQL's jsonb does not keep key order.
    moved: list[list] = [[mover.name, mover.move(survivor, other)] for mover in movers()]
    was_suppressed = survivor.suppressed_reason or other.suppressed_reason
    other_pk = other.pk
    Person.objects.filter(pk=other_pk).delete()
    survivor.refresh_from_db()
    if data or attributes is not None:
        services.person_update(person=survivor, by=by, data=data, attributes=attributes)
    now = timezone.now()
    # Affiliations taken over from the other record that are still open but not at the survivor's organisation end.
    Affiliation.objects.filter(person=survivor.pk, ended_at__isnull=True).exclude(
        organization=survivor.organization_id
    ).update(ended_at=now)
    _mirror_consent(survivor)
    if was_suppressed and not survivor.suppressed_reason:
        moved.append(["suppressions", _suppress(survivor, was_suppressed)])
    merge = Merge.objects.create(
        tenant_id=by.tenant_id,
        by=by,
        survivor_pk=survivor.pk,
        other_pk=other_pk,
        snapshot=snapshot,
        choices=dict(choices),
        moved=moved,
    )
    _audit(
        by=by,
        person_pk=survivor.pk,
        text=f"Merge #{merge.pk}: {other_pk} → {survivor.pk}",
        changes={"merged": [str(other_pk), str(survivor.pk)]},
    )
    return merge


def merge_blocker(merge: Merge) -> str | None:
    """Why this merge cannot be undone now, or None."""
    if merge.undone_at is not None:
        return _("This merge has already been undone.")
    later = (
        Merge.objects.filter(tenant_id=merge.tenant_id, pk__gt=merge.pk, undone_at__isnull=True)
        .filter(Q(survivor_pk=merge.survivor_pk) | Q(other_pk=merge.survivor_pk))
        .order_by("-pk")
        .first()
    )
    if later is not None:
        return _("The kept record was merged again later (merge #%(id)s). Undo that merge first.") % {"id": later.pk}
    if not Person.objects.filter(pk=merge.survivor_pk).exists():
        return _("The kept record has been deleted since; the merge cannot be undone.")
    if Person.objects.filter(pk=merge.other_pk).exists():
        return _("The merged record exists again; the merge cannot be undone.")
    return None


@transaction.atomic
def merge_undo(*, by: Membership, merge: Merge) -> Merge:
    """Restore both records and every moved row as they were before the merge."""
    _require(by, merge)
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    Person.objects.select_for_update().filter(pk=merge.survivor_pk).first()
    if (reason := merge_blocker(merge)) is not None:
        raise Conflict(reason)
    later_consent = Consent.objects.filter(person=merge.survivor_pk, created_at__gt=merge.created_at).exists()
    rows_restore(merge.snapshot["other"])
    registered = {mover.name: mover for mover in movers()}
    for name, payload in reversed(merge.moved):
        if name == "suppressions":
            Suppression.objects.filter(pk__in=payload).delete()
            continue
        mover = registered.get(name)
        if mover is None and name.startswith("fk:"):
            label, field = name[3:].rsplit(".", 1)
            mover = fk_mover(label, field)
        if mover is None:
            raise Conflict(_("This merge moved records this installation no longer knows; it cannot be undone."))
        mover.undo(merge.survivor_pk, merge.other_pk, payload)
    rows_restore(merge.snapshot["survivor"])
    if later_consent:
        _mirror_consent(Person.objects.get(pk=merge.survivor_pk))
    merge.undone_at = timezone.now()
    merge.undone_by = by
    merge.save(update_fields=["undone_at", "undone_by", "updated_at"])
    for pk in (merge.survivor_pk, merge.other_pk):
        _audit(
            by=by,
            person_pk=pk,
            text=f"Merge #{merge.pk} undone",
            changes={"merge_undone": [str(merge.other_pk), str(merge.survivor_pk)]},
        )
    return merge


def merged_person_ids(person: Person) -> list[int]:
    """Ids of the records merged into this person (also through earlier merges), for its timeline."""
    found: list[int] = []
    frontier = [person.pk]
    while frontier and len(found) < 1000:
        frontier = list(
            Merge.objects.filter(tenant_id=person.tenant_id, survivor_pk__in=frontier, undone_at__isnull=True)
            .exclude(other_pk__in=found)
            .values_list("other_pk", flat=True)
        )
        found.extend(frontier)
    return found
