"""API for duplicates: start a search and follow it, read the review queue, merge, dismiss, undo.

Same services as the screens (contacts/dedup.py, contacts/merge.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from leadwerk.core.exceptions import ValidationFailed

from . import dedup, merge
from .models import DedupRun, DuplicateCandidate, Merge

router = Router(tags=["duplicates"])
PAGE_MAX = 200


class DedupRunIn(Schema):
    threshold: float | None = Field(
        default=None, ge=0.5, le=0.9999, description="Match probability from which pairs are proposed."
    )


class DedupRunOut(Schema):
    id: int
    status: str
    phase: str
    threshold: float
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    people_count: int
    pairs_found: int
    candidates_new: int
    seconds: float | None
    error: str


class PersonRef(Schema):
    id: int
    first_name: str
    last_name: str
    email: str
    postcode: str
    city: str


class CandidateOut(Schema):
    id: int
    person_a: PersonRef
    person_b: PersonRef
    score: float = Field(description="Match probability (0 for pairs flagged on entry).")
    levels: dict[str, str] = Field(description="Comparison → level that fired, e.g. last_name: similar.")
    source: str
    status: str
    decided_at: datetime | None


class FieldChoiceOut(Schema):
    field: str
    survivor_value: Any
    other_value: Any
    default: str


class CandidateDetail(CandidateOut):
    default_survivor_id: int = Field(description="The older record, kept unless chosen otherwise.")
    differing_fields: list[FieldChoiceOut] = Field(description="Relative to the default survivor.")


class CandidatePage(Schema):
    items: list[CandidateOut]
    next_cursor: str | None


class CandidateFilter(Schema):
    status: Literal["open", "dismissed"] = "open"
    source: Literal["batch", "online"] | None = None
    cursor: str | None = None
    limit: int = 50


class MergeIn(Schema):
    survivor_id: int = Field(description="Which of the pair's two records is kept.")
    choices: dict[str, Literal["survivor", "other"]] = Field(
        default_factory=dict,
        description="Per differing field (or attributes.<key>) whose value to keep; unnamed fields use the default.",
    )


class MergeOut(Schema):
    id: int
    survivor_id: int
    merged_id: int
    created_at: datetime
    choices: dict[str, str]
    undone_at: datetime | None
    undo_blocked_by: str | None = None


def _merge_out(done: Merge) -> dict:
    return {
        "id": done.pk,
        "survivor_id": done.survivor_pk,
        "merged_id": done.other_pk,
        "created_at": done.created_at,
        "choices": done.choices,
        "undone_at": done.undone_at,
        "undo_blocked_by": merge.merge_blocker(done) if done.undone_at is None else None,
    }


@router.post("/duplicates/runs", response={202: DedupRunOut}, summary="Start a duplicate search (background job)")
def run_start(request: HttpRequest, payload: DedupRunIn):
    run = dedup.dedup_run_start(by=request.membership, threshold=payload.threshold)
    run.refresh_from_db()
    return Status(202, run)


@router.get("/duplicates/runs/{run_id}", response=DedupRunOut, summary="A duplicate search: status and figures")
def run_get(request: HttpRequest, run_id: int):
    return get_object_or_404(DedupRun.objects.visible_to(request.membership), pk=run_id)


@router.get("/duplicates", response=CandidatePage, summary="Proposed duplicate pairs, best first (cursor pagination)")
def candidate_list(request: HttpRequest, filters: Query[CandidateFilter]):
    dedup.candidates_sync_online(tenant_id=request.membership.tenant_id)
    page = dedup.candidate_page(
        membership=request.membership,
        status=filters.status,
        source=filters.source or "",
        cursor=filters.cursor,
        size=max(1, min(filters.limit, PAGE_MAX)),
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


def _candidate(request: HttpRequest, candidate_id: int) -> DuplicateCandidate:
    return get_object_or_404(
        DuplicateCandidate.objects.visible_to(request.membership).select_related("person_a", "person_b"),
        pk=candidate_id,
    )


@router.get("/duplicates/{candidate_id}", response=CandidateDetail, summary="A proposed pair with its differences")
def candidate_get(request: HttpRequest, candidate_id: int):
    candidate = _candidate(request, candidate_id)
    survivor, other = merge.order_pair(candidate.person_a, candidate.person_b)
    candidate.default_survivor_id = survivor.pk
    candidate.differing_fields = [
        {
            "field": row.field,
            "survivor_value": row.survivor_value,
            "other_value": row.other_value,
            "default": row.default,
        }
        for row in merge.differing_fields(survivor, other)
    ]
    return candidate


@router.post("/duplicates/{candidate_id}/dismiss", response=CandidateOut, summary="Not a duplicate")
def candidate_dismiss(request: HttpRequest, candidate_id: int):
    return dedup.candidate_dismiss(by=request.membership, candidate=_candidate(request, candidate_id))


@router.post("/duplicates/{candidate_id}/merge", response={201: MergeOut}, summary="Merge the pair")
def candidate_merge(request: HttpRequest, candidate_id: int, payload: MergeIn):
    candidate = _candidate(request, candidate_id)
    pair = {candidate.person_a_id: candidate.person_a, candidate.person_b_id: candidate.person_b}
    if payload.survivor_id not in pair:
        raise ValidationFailed(_("Choose one of the pair's two records."), field="survivor_id")
    survivor = pair.pop(payload.survivor_id)
    (other,) = pair.values()
    done = merge.person_merge(by=request.membership, survivor=survivor, other=other, choices=payload.choices)
    return Status(201, _merge_out(done))


@router.get("/merges/{merge_id}", response=MergeOut, summary="A merge")
def merge_get(request: HttpRequest, merge_id: int):
    return _merge_out(get_object_or_404(Merge.objects.visible_to(request.membership), pk=merge_id))


@router.post("/merges/{merge_id}/undo", response=MergeOut, summary="Undo a merge (latest first)")
def merge_undo(request: HttpRequest, merge_id: int):
    done = get_object_or_404(Merge.objects.visible_to(request.membership), pk=merge_id)
    return _merge_out(merge.merge_undo(by=request.membership, merge=done))
