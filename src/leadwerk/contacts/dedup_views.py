"""Screens for duplicates: the search runs, the review queue, a pair side by side, merge, dismiss and undo."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from leadwerk.accounts.decorators import tenant_view
from leadwerk.accounts.models import AuditEntry
from leadwerk.core.exceptions import DomainError
from leadwerk.core.htmx import partial_template

from . import dedup, merge
from .models import AttributeDefinition, Channel, ConsentStatus, DedupRun, DuplicateCandidate, Merge, Person
from .roles import CONTACT_READERS, CONTACT_WRITERS

PAGE_SIZE = 50
# How the comparison levels of a pair (DuplicateCandidate.levels) read on the pair page.
COMPARISON_LABELS = {
    "first_name": gettext_lazy("first name"),
    "last_name": gettext_lazy("last name"),
    "email": gettext_lazy("e-mail"),
    "phone": gettext_lazy("phone"),
    "location": gettext_lazy("address"),
    "birth_year": gettext_lazy("year of birth"),
}
LEVEL_LABELS = {
    "exact": gettext_lazy("same"),
    "similar": gettext_lazy("similar"),
    "alike": gettext_lazy("alike"),
    "initial": gettext_lazy("initial only"),
    "different": gettext_lazy("different"),
    "address": gettext_lazy("same address"),
    "similar_address": gettext_lazy("similar address"),
    "organization": gettext_lazy("same organisation"),
    "postcode": gettext_lazy("same postcode"),
}
STRONG_LEVELS = frozenset({"exact", "address"})
# Shown side by side on the pair page besides the choosable fields.
READONLY_ROWS = ("suppressed_reason", "duplicate_of", "created_at", "updated_at")


def _filters(params) -> dict[str, str]:
    status = params.get("status") or DuplicateCandidate.Status.OPEN
    if status not in (DuplicateCandidate.Status.OPEN, DuplicateCandidate.Status.DISMISSED):
        status = DuplicateCandidate.Status.OPEN
    source = params.get("source") or ""
    if source not in DuplicateCandidate.Source.values:
        source = ""
    return {"status": status, "source": source}


@tenant_view(roles=CONTACT_READERS)
def duplicate_list(request: HttpRequest) -> HttpResponse:
    """The review queue, best-scored first, and the duplicate search with its last figures."""
    filters = _filters(request.GET)
    dedup.candidates_sync_online(tenant_id=request.tenant.pk)
    page = dedup.candidate_page(
        membership=request.membership, **filters, cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    last_run = DedupRun.objects.visible_to(request.membership).order_by("-pk").first()
    context = {
        "page": page,
        "filters": filters,
        "statuses": [
            (DuplicateCandidate.Status.OPEN, _("Open")),
            (DuplicateCandidate.Status.DISMISSED, _("Dismissed")),
        ],
        "sources": DuplicateCandidate.Source.choices,
        "run": last_run,
        "threshold": dedup.threshold_for(request.tenant.pk),
        "can_write": request.membership.role in CONTACT_WRITERS,
    }
    return render(request, partial_template(request, "contacts/duplicate_list.html", "duplicate-table"), context)


@tenant_view(roles=CONTACT_READERS)
def duplicate_run(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's status card; polled by htmx while the run is queued or running."""
    run = get_object_or_404(DedupRun.objects.visible_to(request.membership), pk=pk)
    context = {"run": run, "can_write": request.membership.role in CONTACT_WRITERS, "threshold": run.threshold}
    return render(request, "contacts/duplicate_list.html#run-card", context)


@tenant_view(roles=CONTACT_WRITERS)
@require_POST
def duplicate_run_start(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("threshold", "").replace(",", ".").strip()
    try:
        threshold = float(raw) if raw else None
    except ValueError:
        threshold = -1.0
    try:
        dedup.dedup_run_start(by=request.membership, threshold=threshold)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The duplicate search has started; this page shows its progress."))
    return redirect("contacts:duplicate_list", tenant=request.tenant.slug)


def _display(person: Person, name: str) -> Any:
    if name == "organization":
        return person.organization.name if person.organization_id else ""
    if name == "duplicate_of":
        return person.duplicate_of_id or ""
    if name.startswith("attributes."):
        value = person.attributes.get(name.split(".", 1)[1], "")
        return ", ".join(value) if isinstance(value, list) else value
    field = Person._meta.get_field(name)
    if field.choices:
        return getattr(person, f"get_{name}_display")() if getattr(person, name) else ""
    if isinstance(field, models.BooleanField):
        return _("yes") if getattr(person, name) else _("no")  # not "—": "no" is a value to choose too
    return getattr(person, name)


def _empty(value: Any) -> bool:
    return value in (None, "", [], {})


def _blank(person: Person, name: str) -> bool:
    """Nothing worth a row: an empty value, or a yes/no field that is "no"."""
    if isinstance(Person._meta.get_field(name), models.BooleanField):
        return not getattr(person, name)
    return _empty(_display(person, name))


def _timeline_count(person: Person) -> int:
    ids = [str(pk) for pk in [person.pk, *merge.merged_person_ids(person)]]
    return AuditEntry.objects.filter(
        tenant_id=person.tenant_id, content_type__model="person", object_pk__in=ids
    ).count()


def _pair_context(request: HttpRequest, candidate: DuplicateCandidate) -> dict:
    a, b = candidate.person_a, candidate.person_b
    survivor, other = merge.order_pair(a, b)
    side = {survivor.pk: "a" if survivor.pk == a.pk else "b", other.pk: "a" if other.pk == a.pk else "b"}
    differing = {row.field: row for row in merge.differing_fields(survivor, other)}
    rows = []
    for name in merge.MERGE_FIELDS:
        field = Person._meta.get_field(name)
        row = differing.get(name)
        default = side[survivor.pk if row.default == "survivor" else other.pk] if row else None
        if row is None and _blank(a, name) and _blank(b, name):
            continue  # nothing to compare: keeps the page short on a phone
        rows.append(
            {
                "name": name,
                "label": field.verbose_name,
                "a": _display(a, name),
                "b": _display(b, name),
                "differs": row is not None,
                "default": default,
            }
        )
    for definition in AttributeDefinition.objects.filter(tenant_id=a.tenant_id, record_type="person"):
        name = f"attributes.{definition.key}"
        row = differing.get(name)
        if row is None and definition.key not in a.attributes and definition.key not in b.attributes:
            continue
        default = side[survivor.pk if row.default == "survivor" else other.pk] if row else None
        rows.append(
            {
                "name": name,
                "label": definition.label,
                "a": _display(a, name),
                "b": _display(b, name),
                "differs": row is not None,
                "default": default,
            }
        )
    info = [
        (_("Tags"), ", ".join(t.name for t in a.tags.all()), ", ".join(t.name for t in b.tags.all())),
        *[
            (
                _("Consent: %(channel)s") % {"channel": label},
                ConsentStatus(a.consent_for(value)).label,
                ConsentStatus(b.consent_for(value)).label,
            )
            for value, label in Channel.choices
        ],
        (_("Suppressed"), a.suppressed_label, b.suppressed_label),
        (_("Created"), a.created_at, b.created_at),
        (_("Changed"), a.updated_at, b.updated_at),
        (_("Timeline entries"), _timeline_count(a), _timeline_count(b)),
    ]
    return {
        "candidate": candidate,
        "a": a,
        "b": b,
        "rows": rows,
        "info": info,
        "keep_default": side[survivor.pk],
        "can_write": request.membership.role in CONTACT_WRITERS and candidate.status == DuplicateCandidate.Status.OPEN,
        "levels": [
            (
                COMPARISON_LABELS.get(name, name),
                LEVEL_LABELS.get(level, level),
                "badge-ok" if level in STRONG_LEVELS else "badge-off" if level == "different" else "",
            )
            for name, level in candidate.levels.items()
        ],
    }


def _candidate(request: HttpRequest, pk: int) -> DuplicateCandidate:
    return get_object_or_404(
        DuplicateCandidate.objects.visible_to(request.membership).select_related(
            "person_a__organization", "person_b__organization"
        ),
        pk=pk,
    )


@tenant_view(roles=CONTACT_READERS)
def duplicate_pair(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = _candidate(request, pk)
    return render(request, "contacts/duplicate_pair.html", _pair_context(request, candidate))


@tenant_view(roles=CONTACT_WRITERS)
@require_POST
def duplicate_merge(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = _candidate(request, pk)
    a, b = candidate.person_a, candidate.person_b
    keep = request.POST.get("keep")
    if keep not in ("a", "b"):
        messages.error(request, _("Choose which record to keep."))
        return redirect("contacts:duplicate_pair", tenant=request.tenant.slug, pk=candidate.pk)
    survivor, other = (a, b) if keep == "a" else (b, a)
    choices = {}
    for key, value in request.POST.items():
        if key.startswith("f:") and value in ("a", "b"):
            choices[key[2:]] = "survivor" if value == keep else "other"
    try:
        done = merge.person_merge(by=request.membership, survivor=survivor, other=other, choices=choices)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("contacts:duplicate_pair", tenant=request.tenant.slug, pk=candidate.pk)
    messages.success(request, _("Merged. The merge can be undone on this page."))
    return redirect("contacts:duplicate_merge_detail", tenant=request.tenant.slug, pk=done.pk)


@tenant_view(roles=CONTACT_WRITERS)
@require_POST
def duplicate_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = _candidate(request, pk)
    try:
        dedup.candidate_dismiss(by=request.membership, candidate=candidate)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("contacts:duplicate_pair", tenant=request.tenant.slug, pk=candidate.pk)
    messages.success(request, _("Marked as not a duplicate."))
    following = dedup.candidate_page(membership=request.membership, status="open", source="", cursor=None, size=1)
    if following.items:
        return redirect("contacts:duplicate_pair", tenant=request.tenant.slug, pk=following.items[0].pk)
    return redirect("contacts:duplicate_list", tenant=request.tenant.slug)


@tenant_view(roles=CONTACT_READERS)
def duplicate_merge_detail(request: HttpRequest, pk: int) -> HttpResponse:
    done = get_object_or_404(Merge.objects.visible_to(request.membership).select_related("by__user"), pk=pk)
    survivor = Person.objects.visible_to(request.membership).filter(pk=done.survivor_pk).first()
    other = done.snapshot.get("other", [{}])[0].get("fields", {})
    context = {
        "merge": done,
        "survivor": survivor,
        "other_name": " ".join(part for part in (other.get("first_name"), other.get("last_name")) if part),
        "blocker": merge.merge_blocker(done),
        "can_write": request.membership.role in CONTACT_WRITERS,
    }
    return render(request, "contacts/duplicate_merge.html", context)


@tenant_view(roles=CONTACT_WRITERS)
@require_POST
def duplicate_merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    done = get_object_or_404(Merge.objects.visible_to(request.membership), pk=pk)
    try:
        merge.merge_undo(by=request.membership, merge=done)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("contacts:duplicate_merge_detail", tenant=request.tenant.slug, pk=done.pk)
    messages.success(request, _("The merge was undone; both records are back as they were."))
    return redirect("contacts:person_detail", tenant=request.tenant.slug, pk=done.other_pk)
