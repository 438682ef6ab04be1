"""Every change to segments: define, change, delete, freeze and refresh snapshots, add people by hand.

The HTML views, the API and the demo all call these; the condition language is in ``segments.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import BooleanField, DateTimeField, IntegerField, Max, Min, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from leadwerk.accounts.models import Membership
from leadwerk.core.exceptions import Conflict, ValidationFailed

from . import normalize as n
from .models import Channel, Person, Segment, SegmentMember
from .roles import CONTACT_READERS, CONTACT_WRITERS
from .segments import (
    SegmentCounts,
    definition_clean,
    definition_q,
    registry_for,
    segment_count,
)
from .services import _require

SNAPSHOT_CHUNK = 50_000  # person ids per INSERT … SELECT


def _clean(
    *, by: Membership, segment: Segment | None, name: Any, description: Any, channel: Any, definition: Any
) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if name is not None:
        clean["name"] = n.clean_text(str(name))
        if not clean["name"]:
            raise ValidationFailed(_("Enter a name."), field="name")
        if len(clean["name"]) > 120:
            raise ValidationFailed(_("At most 120 characters."), field="name")
        clash = Segment.objects.filter(tenant_id=by.tenant_id, name=clean["name"])
        if segment is not None:
            clash = clash.exclude(pk=segment.pk)
        if clash.exists():
            raise ValidationFailed(_("Another segment has this name."), field="name")
    if description is not None:
        clean["description"] = n.clean_text(str(description))[:300]
    if channel is not None:
        if channel not in ("", *Channel.values):
            raise ValidationFailed(_("Choose a channel or none."), field="channel")
        clean["channel"] = channel
    if definition is not None:
        clean["definition"] = definition_clean(definition, registry_for(by))
    return clean


def _store_counts(segment: Segment, counts: SegmentCounts) -> None:
    segment.last_total, segment.last_eligible, segment.counted_at = counts.total, counts.eligible, timezone.now()
    # A cache, not a change of the segment: no audit entry, no updated_at.
    Segment.objects.filter(pk=segment.pk).update(
        last_total=segment.last_total, last_eligible=segment.last_eligible, counted_at=segment.counted_at
    )


@transaction.atomic
def segment_create(*, by: Membership, name: str, definition: dict, channel: str = "", description: str = "") -> Segment:
    """A new dynamic segment; its count is taken at once so the segment list can show it."""
    _require(by, CONTACT_WRITERS)
    clean = _clean(by=by, segment=None, name=name, description=description, channel=channel, definition=definition)
    segment = Segment.objects.create(tenant_id=by.tenant_id, created_by=by, **clean)
    _store_counts(segment, segment_count(membership=by, segment=segment))
    return segment


@transaction.atomic
def segment_update(
    *,
    segment: Segment,
    by: Membership,
    name: str | None = None,
    definition: dict | None = None,
    channel: str | None = None,
    description: str | None = None,
) -> Segment:
    """Change what is given; a frozen segment keeps its snapshot until it is refreshed."""
    _require(by, CONTACT_WRITERS, segment)
    clean = _clean(by=by, segment=segment, name=name, description=description, channel=channel, definition=definition)
    for key, value in clean.items():
        setattr(segment, key, value)
    segment.save()
    _store_counts(segment, segment_count(membership=by, segment=segment))
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment, by: Membership) -> None:
    """The segment and its snapshot go; the people stay."""
    _require(by, CONTACT_WRITERS, segment)
    SegmentMember.objects.filter(tenant_id=segment.tenant_id, segment=segment).delete()
    segment.delete()


def _snapshot(segment: Segment, by: Membership) -> int:
    """Write the current matches as snapshot rows, in chunks of person ids, as INSERT … SELECT."""
    members = SegmentMember.objects.filter(tenant_id=segment.tenant_id, segment=segment)
    members.filter(manual=False).delete()
    registry = registry_for(by)
    condition = definition_q(definition_clean(segment.definition, registry), registry)
    people = (
        Person.objects.filter(tenant_id=segment.tenant_id)
        .filter(condition)
        .exclude(pk__in=members.filter(manual=True).values("person_id"))
    )
    bounds = people.order_by().aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return 0
    now = timezone.now()
    # The constants are selected with the ids, so the INSERT takes the SELECT as it is.
    rows = people.annotate(
        _tenant=Value(segment.tenant_id, output_field=IntegerField()),
        _segment=Value(segment.pk, output_field=IntegerField()),
        _manual=Value(False, output_field=BooleanField()),
        _created=Value(now, output_field=DateTimeField()),
    )
    table = connection.ops.quote_name(SegmentMember._meta.db_table)
    written = 0
    with connection.cursor() as cursor:
        for start in range(bounds["low"], bounds["high"] + 1, SNAPSHOT_CHUNK):
            chunk = rows.filter(pk__gte=start, pk__lt=start + SNAPSHOT_CHUNK).order_by()
            select_sql, params = chunk.values_list(
                "pk", "_tenant", "_segment", "_manual", "_created", "_created"
            ).query.sql_with_params()
            cursor.execute(
                f"INSERT INTO {table} (person_id, tenant_id, segment_id, manual, created_at, updated_at) " + select_sql,
                params,
            )
            written += cursor.rowcount
    return written


@transaction.atomic
def segment_freeze(*, segment: Segment, by: Membership) -> Segment:
    """Take a snapshot: from now on the segment is these people (plus those added by hand) until refreshed."""
    _require(by, CONTACT_WRITERS, segment)
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    _snapshot(segment, by)
    segment.frozen_at = timezone.now()
    segment.save(update_fields=["frozen_at", "updated_at"])
    _store_counts(segment, segment_count(membership=by, segment=segment))
    return segment


@transaction.atomic
def segment_refresh(*, segment: Segment, by: Membership) -> Segment:
    """Re-take the snapshot of a frozen segment with today's data."""
    _require(by, CONTACT_WRITERS, segment)
    if not segment.is_frozen:
        raise Conflict(_("Only a frozen segment has a snapshot to refresh."), field="frozen_at")
    return segment_freeze(segment=segment, by=by)


@transaction.atomic
def segment_unfreeze(*, segment: Segment, by: Membership) -> Segment:
    """Back to dynamic: the snapshot is dropped, people added by hand stay."""
    _require(by, CONTACT_WRITERS, segment)
    SegmentMember.objects.filter(tenant_id=segment.tenant_id, segment=segment, manual=False).delete()
    segment.frozen_at = None
    segment.save(update_fields=["frozen_at", "updated_at"])
    _store_counts(segment, segment_count(membership=by, segment=segment))
    return segment


@transaction.atomic
def segment_members_add(*, segment: Segment, by: Membership, person_ids: Iterable[int]) -> int:
    """Add people by hand (the people list's bulk action); they stay members of dynamic and frozen segments.

    Returns how many were not yet members by hand. Ids outside the tenant are refused as unknown.
    """
    _require(by, CONTACT_WRITERS, segment)
    try:
        ids = sorted({int(pk) for pk in person_ids})
    except (TypeError, ValueError):
        raise ValidationFailed(_("Choose people from the list."), field="person_ids") from None
    if not ids:
        raise ValidationFailed(_("Choose at least one person."), field="person_ids")
    if len(ids) > 10_000:
        raise ValidationFailed(_("At most 10,000 people at once."), field="person_ids")
    found = set(Person.objects.filter(tenant_id=segment.tenant_id, pk__in=ids).values_list("pk", flat=True))
    if len(found) != len(ids):
        raise ValidationFailed(_("Some of these people do not exist (any more)."), field="person_ids")
    existing = SegmentMember.objects.filter(tenant_id=segment.tenant_id, segment=segment, person_id__in=ids)
    known = dict(existing.values_list("person_id", "manual"))
    # Snapshot rows become manual ones, so that a refresh keeps them.
    existing.filter(manual=False).update(manual=True, updated_at=timezone.now())
    SegmentMember.objects.bulk_create(
        [
            SegmentMember(tenant_id=segment.tenant_id, segment=segment, person_id=pk, manual=True)
            for pk in ids
            if pk not in known
        ],
        batch_size=2_000,
    )
    _store_counts(segment, segment_count(membership=by, segment=segment))
    return sum(1 for pk in ids if not known.get(pk, False))


@transaction.atomic
def segment_members_remove(*, segment: Segment, by: Membership, person_ids: Iterable[int]) -> int:
    """Take people added by hand (or, in a frozen segment, from its snapshot) out again."""
    _require(by, CONTACT_WRITERS, segment)
    try:
        ids = {int(pk) for pk in person_ids}
    except (TypeError, ValueError):
        raise ValidationFailed(_("Choose people from the list."), field="person_ids") from None
    rows = SegmentMember.objects.filter(tenant_id=segment.tenant_id, segment=segment, person_id__in=ids)
    if not segment.is_frozen:
        rows = rows.filter(manual=True)
    deleted, _details = rows.delete()
    _store_counts(segment, segment_count(membership=by, segment=segment))
    return deleted


def segment_count_refresh(*, segment: Segment, by: Membership) -> SegmentCounts:
    """Count now and remember the result for the segment list."""
    _require(by, CONTACT_READERS, segment)
    counts = segment_count(membership=by, segment=segment)
    _store_counts(segment, counts)
    return counts


__all__ = [
    "segment_count_refresh",
    "segment_create",
    "segment_delete",
    "segment_freeze",
    "segment_members_add",
    "segment_members_remove",
    "segment_refresh",
    "segment_unfreeze",
    "segment_update",
]
