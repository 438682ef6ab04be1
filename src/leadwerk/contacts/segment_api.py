"""API of segments: definition, counts with exclusions, members, snapshots. Same services as the UI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from leadwerk.core.paging import keyset_paginate

from . import segment_services as services
from .models import Segment
from .roles import CONTACT_READERS
from .schemas import PersonOut
from .segments import (
    SegmentCounts,
    fields_catalogue,
    registry_for,
    segment_count,
    segment_counts,
    segment_eligible,
    segment_queryset,
)

router = Router(tags=["segments"])
PAGE_MAX = 200
DEFINITION_HELP = (
    'A group {"op": "and"|"or", "children": [...]} whose children are groups or conditions '
    '{"field": "postcode", "operator": "between", "value": ["80000", "81999"]}. '
    "GET /segments/fields lists the fields, their operators and offered values."
)


class SegmentIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    description: str = ""
    channel: str = Field(default="", description="email, phone, post, sms, or empty for none.")
    definition: dict[str, Any] = Field(default_factory=dict, description=DEFINITION_HELP)


class SegmentPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = None
    channel: str | None = None
    definition: dict[str, Any] | None = Field(default=None, description=DEFINITION_HELP)


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    channel: str
    definition: dict[str, Any]
    frozen: bool
    frozen_at: datetime | None = Field(description="When the snapshot was taken; null for dynamic segments.")
    last_total: int | None = Field(description="The last count taken, see counted_at; GET …/count counts now.")
    last_eligible: int | None
    counted_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_frozen(obj: Segment) -> bool:
        return obj.is_frozen


class SegmentPage(Schema):
    items: list[SegmentOut]
    next_cursor: str | None


class CountIn(Schema):
    definition: dict[str, Any] = Field(default_factory=dict, description=DEFINITION_HELP)
    channel: str | None = None


class CountOut(Schema):
    total: int
    eligible: int = Field(description="May be contacted by the channel; equals total without a channel.")
    excluded_suppressed: int
    excluded_no_consent: int = Field(description="Consent for the channel is not 'granted'.")
    excluded_no_contact_data: int = Field(description="No e-mail address, phone/mobile number or postal address.")
    suppressed: int = Field(description="Of total, on the suppression list (also without a channel).")
    channel: str | None


class MemberPage(Schema):
    items: list[PersonOut]
    next_cursor: str | None


class PersonIds(Schema):
    person_ids: list[int] = Field(min_length=1, max_length=10_000)


class Added(Schema):
    added: int


class FieldOut(Schema):
    key: str
    label: str
    group: str
    kind: str
    operators: list[str]
    choices: list[Any]


def _segment(request: HttpRequest, segment_id: int) -> Segment:
    return get_object_or_404(Segment.objects.visible_to(request.membership), pk=segment_id)


def _counts(counts: SegmentCounts) -> dict:
    return counts.__dict__


@router.get("/segments", response=SegmentPage, summary="Segments by name (cursor pagination)")
def segment_list(request: HttpRequest, cursor: str | None = None, limit: int = 50):
    segments = Segment.objects.visible_to(request.membership)
    page = keyset_paginate(segments, key="name", cursor=cursor, size=max(1, min(limit, PAGE_MAX)))
    return {"items": page.items, "next_cursor": page.next_cursor}


def _require_reader(request: HttpRequest) -> None:
    """Roles without the marketing database do not learn that segments exist."""
    if request.membership.role not in CONTACT_READERS:
        raise Http404


@router.get("/segments/fields", response=list[FieldOut], summary="Fields, operators and values a condition can use")
def segment_fields(request: HttpRequest):
    _require_reader(request)
    return fields_catalogue(registry_for(request.membership))


@router.post("/segments", response={201: SegmentOut}, summary="Create a dynamic segment")
def segment_create(request: HttpRequest, payload: SegmentIn):
    return Status(201, services.segment_create(by=request.membership, **payload.model_dump()))


@router.post("/segments/count", response=CountOut, summary="Count an unsaved definition, with channel exclusions")
def segment_count_unsaved(request: HttpRequest, payload: CountIn):
    _require_reader(request)
    counts = segment_counts(
        membership=request.membership, definition=payload.definition, channel=payload.channel or None
    )
    return _counts(counts)


@router.get("/segments/{segment_id}", response=SegmentOut)
def segment_detail(request: HttpRequest, segment_id: int):
    return _segment(request, segment_id)


@router.patch("/segments/{segment_id}", response=SegmentOut, summary="Change name, channel or definition")
def segment_update(request: HttpRequest, segment_id: int, payload: SegmentPatch):
    segment = _segment(request, segment_id)
    return services.segment_update(segment=segment, by=request.membership, **payload.model_dump(exclude_unset=True))


@router.delete("/segments/{segment_id}", response={204: None})
def segment_delete(request: HttpRequest, segment_id: int):
    services.segment_delete(segment=_segment(request, segment_id), by=request.membership)
    return Status(204, None)


@router.get("/segments/{segment_id}/count", response=CountOut, summary="Count now, with channel exclusions")
def segment_count_now(request: HttpRequest, segment_id: int):
    return _counts(segment_count(membership=request.membership, segment=_segment(request, segment_id)))


@router.get(
    "/segments/{segment_id}/members",
    response=MemberPage,
    summary="Members by name (cursor pagination); eligible=true for those the channel may reach",
)
def segment_members(
    request: HttpRequest, segment_id: int, cursor: str | None = None, limit: int = 50, eligible: bool = False
):
    segment = _segment(request, segment_id)
    find = segment_eligible if eligible else segment_queryset
    people = find(membership=request.membership, segment=segment).select_related("organization")
    page = keyset_paginate(people, key="last_name_key", cursor=cursor, size=max(1, min(limit, PAGE_MAX)))
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/segments/{segment_id}/members", response=Added, summary="Add people by hand")
def segment_members_add(request: HttpRequest, segment_id: int, payload: PersonIds):
    segment = _segment(request, segment_id)
    return {"added": services.segment_members_add(segment=segment, by=request.membership, **payload.model_dump())}


@router.post("/segments/{segment_id}/freeze", response=SegmentOut, summary="Take (or re-take) the snapshot")
def segment_freeze(request: HttpRequest, segment_id: int):
    return services.segment_freeze(segment=_segment(request, segment_id), by=request.membership)


@router.post("/segments/{segment_id}/unfreeze", response=SegmentOut, summary="Drop the snapshot: dynamic again")
def segment_unfreeze(request: HttpRequest, segment_id: int):
    return services.segment_unfreeze(segment=_segment(request, segment_id), by=request.membership)
