"""Screens for segments: list, builder (htmx, live count), detail with exclusions, members, export."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from leadwerk.accounts.decorators import tenant_view
from leadwerk.core.exceptions import DomainError, ValidationFailed
from leadwerk.core.exports import file_response
from leadwerk.core.htmx import partial_template
from leadwerk.core.paging import keyset_paginate

from . import segment_services as services
from .models import Channel, Person, Segment, SegmentMember
from .roles import CONTACT_EXPORTERS, CONTACT_READERS, CONTACT_WRITERS
from .segments import (
    DAYS_VALUE,
    LIST_VALUE,
    NO_VALUE,
    OPERATORS,
    PAIR_VALUE,
    Kind,
    Registry,
    definition_problem,
    describe,
    registry_for,
    segment_count,
    segment_counts,
    segment_eligible,
    segment_queryset,
)
from .services import export_record

PAGE_SIZE = 50


class SegmentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=300, required=False)
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        choices=[("", gettext_lazy("No channel (nobody is excluded)")), *Channel.choices],
        required=False,
        help_text=gettext_lazy(
            "For a channel, suppressed people and those without granted consent or contact data for it are excluded."
        ),
    )


# --- the builder: a definition tree <-> flat form fields ------------------------------------------
#
# Every node has a path: "r" is the root group, "r.1.0" the first child of the root's second child.
# Posted fields: node=<path> (one per node, in order), kind-<path> (group|condition), op-<path>,
# field-<path>, operator-<path>, value-<path> (repeated for lists), value2-<path> (upper bound).

PATH = re.compile(r"^r(\.\d{1,3}){0,6}$")


def builder_parse(data: QueryDict) -> tuple[dict, str | None]:
    """The posted builder as a raw definition, with the user's action (add, group, remove) applied."""
    nodes: dict[tuple[int, ...], dict] = {(): {"op": "and", "children": []}}
    paths = [p for p in data.getlist("node") if PATH.match(p) and p != "r"]
    nodes[()]["op"] = data.get("op-r", "and")
    for path in sorted(paths, key=lambda p: tuple(int(i) for i in p.split(".")[1:])):
        key = tuple(int(i) for i in path.split(".")[1:])
        parent = nodes.get(key[:-1])
        if parent is None or "children" not in parent:
            continue
        if data.get(f"kind-{path}") == "group":
            node: dict = {"op": data.get(f"op-{path}", "and"), "children": []}
        else:
            node = {
                "field": data.get(f"field-{path}", ""),
                "operator": data.get(f"operator-{path}", ""),
                "value": _posted_value(data, path),
            }
        parent["children"].append(node)
        nodes[key] = node
    action = data.get("action") or ""
    verb, _sep, target = action.partition(":")
    root = nodes[()]
    if verb in ("add", "group", "remove") and PATH.match(target):
        _apply(root, verb, [int(i) for i in target.split(".")[1:]])
    return root, verb or None


def _posted_value(data: QueryDict, path: str) -> Any:
    operator = data.get(f"operator-{path}", "")
    values = [v for v in data.getlist(f"value-{path}")]
    if operator in NO_VALUE:
        return None
    if operator in PAIR_VALUE:
        return [values[0] if values else "", data.get(f"value2-{path}", "")]
    if operator in LIST_VALUE:
        return values[0] if len(values) == 1 and "," in values[0] else values
    return values[0] if values else ""


def _apply(root: dict, verb: str, index: list[int]) -> None:
    try:
        if verb == "remove":
            if not index:
                return
            parent = root
            for i in index[:-1]:
                parent = parent["children"][i]
            del parent["children"][index[-1]]
            return
        group = root
        for i in index:
            group = group["children"][i]
        if "children" not in group:
            return
        blank = {"field": "", "operator": "", "value": ""}
        group["children"].append(blank if verb == "add" else {"op": "or", "children": [dict(blank)]})
    except (IndexError, KeyError, TypeError):
        return


def _error_target(field: str | None) -> tuple[str | None, str]:
    """ "definition.children.1.children.0.value" → ("r.1.0", "value")."""
    if not field or not field.startswith("definition"):
        return None, ""
    parts = field.split(".")[1:]
    path, rest = ["r"], []
    while parts:
        if parts[0] == "children" and len(parts) > 1 and parts[1].isdigit():
            path.append(parts[1])
            parts = parts[2:]
        else:
            rest, parts = parts, []
    return ".".join(path), ".".join(rest)


def builder_tree(definition: dict, registry: Registry, error: DomainError | None = None) -> dict:
    """The view model of the builder: groups and conditions with their fields, operators and widgets."""
    error_path, _error_part = _error_target(error.field if error else None)

    def group(node: dict, path: str, depth: int) -> dict:
        children = []
        for i, child in enumerate(node.get("children") or []):
            child_path = f"{path}.{i}"
            if isinstance(child, dict) and "children" in child:
                children.append(group(child, child_path, depth + 1))
            elif isinstance(child, dict):
                children.append(condition(child, child_path))
        return {
            "kind": "group",
            "path": path,
            "op": node.get("op") if node.get("op") in ("and", "or") else "and",
            "children": children,
            "depth": depth,
            "can_nest": depth < 4,
            "error": error.message if error and error_path == path else None,
        }

    def condition(node: dict, path: str) -> dict:
        spec = registry.fields.get(node.get("field") or "")
        operator = node.get("operator")
        if spec is not None and operator not in spec.operators:
            operator = spec.operators[0]
        value = node.get("value")
        pair = value if isinstance(value, list) and len(value) == 2 and operator in PAIR_VALUE else ["", ""]
        values = value if isinstance(value, list) else ([value] if value not in (None, "") else [])
        return {
            "kind": "condition",
            "path": path,
            "field": spec.key if spec else "",
            "operator": operator or "",
            "operators": [(op, OPERATORS[op]) for op in spec.operators] if spec else [],
            "widget": _widget(spec, operator) if spec else "none",
            "value": _scalar_shown(value),
            "text_list": ", ".join(str(v) for v in values),
            "values": [str(v) for v in values],
            "low": pair[0],
            "high": pair[1],
            "choices": [(str(v), label) for v, label in registry.choices_for(spec)] if spec else [],
            "error": error.message if error and error_path == path else None,
        }

    return group(definition if isinstance(definition, dict) else {}, "r", 1)


def _scalar_shown(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None or isinstance(value, list) else value


def prune(definition: dict) -> dict:
    """Drop conditions without a field (the builder's blank rows) and groups left empty, before saving or counting."""
    children = []
    for child in definition.get("children") or []:
        if isinstance(child, dict) and "children" in child:
            child = prune(child)
            if child["children"]:
                children.append(child)
        elif not (isinstance(child, dict) and not child.get("field")):
            children.append(child)
    return {**definition, "children": children}


def _widget(spec, operator: str | None) -> str:
    if operator in NO_VALUE:
        return "none"
    if spec.kind == Kind.BOOLEAN:
        return "boolean"
    if operator in DAYS_VALUE:
        return "days"
    input_type = {Kind.NUMBER: "number", Kind.DATE: "date"}.get(spec.kind, "text")
    if operator in PAIR_VALUE:
        return f"pair-{input_type}"
    if spec.kind in (Kind.CHOICE, Kind.MULTICHOICE, Kind.TAGS):
        return "multi" if operator in LIST_VALUE else "select"
    if operator in LIST_VALUE:
        return "list"
    return input_type


def field_groups(registry: Registry) -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for spec in registry.fields.values():
        groups.setdefault(str(spec.group), []).append((spec.key, str(spec.label)))
    return list(groups.items())


def _builder_context(request: HttpRequest, definition: dict, error: DomainError | None = None) -> dict:
    registry = registry_for(request.membership)
    return {
        "tree": builder_tree(definition, registry, error),
        "field_groups": field_groups(registry),
        "and_label": _("all of these (and)"),
        "or_label": _("any of these (or)"),
    }


# --- list, create, edit ---------------------------------------------------------------------------


@tenant_view(roles=CONTACT_READERS)
def segment_list(request: HttpRequest) -> HttpResponse:
    segments = Segment.objects.visible_to(request.membership).order_by("name", "pk")
    context = {"segments": segments, "can_write": request.membership.role in CONTACT_WRITERS}
    return render(request, "contacts/segment_list.html", context)


@tenant_view(roles=CONTACT_READERS)
@require_POST
def segment_count_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    """Count one segment now (a button in the list), remember it, show the new figure."""
    segment = get_object_or_404(Segment.objects.visible_to(request.membership), pk=pk)
    services.segment_count_refresh(segment=segment, by=request.membership)
    return render(request, "contacts/segment_list.html#count-cell", {"segment": segment})


def _form_page(request: HttpRequest, segment: Segment | None) -> HttpResponse:
    initial = {"name": segment.name, "description": segment.description, "channel": segment.channel} if segment else {}
    form = SegmentForm(request.POST or None, initial=initial)
    definition = segment.definition if segment else {"op": "and", "children": [{"field": "", "operator": ""}]}
    error: DomainError | None = None
    if request.method == "POST":
        definition, action = builder_parse(request.POST)
        if action is None:
            definition = prune(definition)
        if action is None and form.is_valid():
            try:
                if segment is None:
                    segment = services.segment_create(by=request.membership, definition=definition, **form.cleaned_data)
                else:
                    services.segment_update(
                        segment=segment, by=request.membership, definition=definition, **form.cleaned_data
                    )
            except DomainError as exc:
                error = exc
                if exc.field and not exc.field.startswith("definition"):
                    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                elif error is not None:
                    form.add_error(None, _("Please check the conditions: %(message)s") % {"message": exc.message})
            else:
                messages.success(request, _("Segment %(name)s saved.") % {"name": segment.name})
                return redirect("contacts:segment_detail", tenant=request.tenant.slug, pk=segment.pk)
    context = {"form": form, "segment": segment, **_builder_context(request, definition, error)}
    status = 422 if error is not None else 200
    return render(request, "contacts/segment_form.html", context, status=status)


@tenant_view(roles=CONTACT_WRITERS)
def segment_create(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@tenant_view(roles=CONTACT_WRITERS)
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_page(request, get_object_or_404(Segment.objects.visible_to(request.membership), pk=pk))


@tenant_view(roles=CONTACT_WRITERS)
@require_POST
def segment_builder(request: HttpRequest) -> HttpResponse:
    """htmx: the builder re-rendered after adding, removing or changing a condition (nothing is saved)."""
    definition, _action = builder_parse(request.POST)
    response = render(request, "contacts/segment_form.html#builder", _builder_context(request, definition))
    # After the swap, so the count reads the new builder (HX-Trigger fired before it and counted the old one).
    response["HX-Trigger-After-Swap"] = "segmentChanged"
    return response


@tenant_view(roles=CONTACT_WRITERS)
@require_POST
def segment_count_preview(request: HttpRequest) -> HttpResponse:
    """htmx: the live count of the definition being built, with the exclusions of the chosen channel."""
    definition, _action = builder_parse(request.POST)
    context: dict[str, Any] = {"counts": None, "problem": None}
    try:
        context["counts"] = segment_counts(
            membership=request.membership, definition=prune(definition), channel=request.POST.get("channel") or None
        )
    except ValidationFailed as exc:
        context["problem"] = exc.message
    return render(request, "contacts/segment_form.html#count", context)


# --- one segment ------------------------------------------------------------------------------------

EXPORT_COLUMNS: list[tuple[str, Any]] = [
    ("salutation", gettext_lazy("Salutation")),
    ("title", gettext_lazy("Title")),
    ("first_name", gettext_lazy("First name")),
    ("last_name", gettext_lazy("Last name")),
    ("organization", gettext_lazy("Organisation")),
    ("position", gettext_lazy("Position")),
    ("department", gettext_lazy("Department")),
    ("street", gettext_lazy("Street and number")),
    ("postcode", gettext_lazy("Postcode")),
    ("city", gettext_lazy("City")),
    ("country", gettext_lazy("Country")),
    ("email", gettext_lazy("E-mail")),
    ("phone", gettext_lazy("Phone")),
    ("mobile", gettext_lazy("Mobile")),
    ("language", gettext_lazy("Language")),
    ("external_id", gettext_lazy("External id")),
]
DEFAULT_EXPORT_COLUMNS = (
    "salutation", "title", "first_name", "last_name", "organization", "street", "postcode", "city", "country",
)  # fmt: skip
# What a mailing over the segment's channel needs besides the name: the address for post, else the number or e-mail.
CHANNEL_EXPORT_COLUMNS = {
    "email": ("salutation", "title", "first_name", "last_name", "organization", "email", "language"),
    "phone": ("salutation", "title", "first_name", "last_name", "organization", "phone", "mobile", "language"),
    "sms": ("salutation", "title", "first_name", "last_name", "mobile", "language"),
}


def default_export_columns(segment: Segment) -> tuple[str, ...]:
    return CHANNEL_EXPORT_COLUMNS.get(segment.channel, DEFAULT_EXPORT_COLUMNS)


ADDRESS = ("street", "postcode", "city", "country")


def _segment(request: HttpRequest, pk: int) -> Segment:
    return get_object_or_404(Segment.objects.visible_to(request.membership), pk=pk)


@tenant_view(roles=CONTACT_READERS)
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment(request, pk)
    counts = services.segment_count_refresh(segment=segment, by=request.membership)
    registry = registry_for(request.membership)
    role = request.membership.role
    context = {
        "segment": segment,
        "counts": counts,
        "conditions": describe(segment.definition, registry),
        "problem": definition_problem(membership=request.membership, segment=segment),
        "manual": SegmentMember.objects.filter(tenant_id=segment.tenant_id, segment=segment, manual=True).count(),
        "columns": [(key, label, key in default_export_columns(segment)) for key, label in EXPORT_COLUMNS],
        "can_write": role in CONTACT_WRITERS,
        "can_export": role in CONTACT_EXPORTERS,
    }
    return render(request, "contacts/segment_detail.html", context)


@tenant_view(roles=CONTACT_READERS)
def segment_members(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment(request, pk)
    eligible_only = bool(segment.channel) and request.GET.get("eligible") == "1"
    people = (
        segment_eligible(membership=request.membership, segment=segment)
        if eligible_only
        else segment_queryset(membership=request.membership, segment=segment)
    )
    page = keyset_paginate(
        people.select_related("organization"), key="last_name_key", cursor=request.GET.get("cursor"), size=PAGE_SIZE
    )
    manual = set(
        SegmentMember.objects.filter(
            tenant_id=segment.tenant_id, segment=segment, manual=True, person_id__in=[p.pk for p in page.items]
        ).values_list("person_id", flat=True)
    )
    context = {
        "segment": segment,
        "page": page,
        "manual": manual,
        "eligible_only": eligible_only,
        "can_write": request.membership.role in CONTACT_WRITERS,
    }
    return render(request, partial_template(request, "contacts/segment_members.html", "member-table"), context)


@tenant_view(roles=CONTACT_WRITERS)
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment(request, pk)
    if request.method == "POST":
        services.segment_delete(segment=segment, by=request.membership)
        messages.success(request, _("Segment %(name)s deleted.") % {"name": segment.name})
        return redirect("contacts:segment_list", tenant=request.tenant.slug)
    return render(request, partial_template(request, "contacts/segment_delete.html", "dialog"), {"segment": segment})


@tenant_view(roles=CONTACT_WRITERS)
@require_POST
def segment_freeze(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment(request, pk)
    action = request.POST.get("action", "freeze")
    try:
        if action == "unfreeze":
            services.segment_unfreeze(segment=segment, by=request.membership)
            messages.success(request, _("The segment is dynamic again."))
        elif action == "refresh":
            services.segment_refresh(segment=segment, by=request.membership)
            messages.success(request, _("Snapshot taken again."))
        else:
            services.segment_freeze(segment=segment, by=request.membership)
            messages.success(request, _("Snapshot taken."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("contacts:segment_detail", tenant=request.tenant.slug, pk=segment.pk)


@tenant_view(roles=CONTACT_WRITERS)
@require_POST
def segment_members_add(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The people list's bulk action "add to segment": POST person_ids (and segment, if not in the URL)."""
    segment_id = pk if pk is not None else request.POST.get("segment")
    if not str(segment_id or "").isdigit():
        messages.error(request, _("Choose a segment."))
        return redirect("contacts:person_list", tenant=request.tenant.slug)
    segment = _segment(request, int(segment_id))
    try:
        added = services.segment_members_add(
            segment=segment, by=request.membership, person_ids=request.POST.getlist("person_ids")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("contacts:person_list", tenant=request.tenant.slug)
    messages.success(request, _("%(count)d people added to %(name)s.") % {"count": added, "name": segment.name})
    return redirect("contacts:segment_detail", tenant=request.tenant.slug, pk=segment.pk)


@tenant_view(roles=CONTACT_WRITERS)
@require_POST
def segment_members_remove(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _segment(request, pk)
    services.segment_members_remove(
        segment=segment, by=request.membership, person_ids=request.POST.getlist("person_ids")
    )
    messages.success(request, _("Removed from the segment."))
    return redirect("contacts:segment_members", tenant=request.tenant.slug, pk=segment.pk)


def export_rows(people, columns: list[str]):
    """Rows for a mailing: the person's own address, or the organisation's where the person uses it."""
    salutations = {value: str(label) for value, label in Person.Salutation.choices if value}
    fields = [
        "salutation", "title", "first_name", "last_name", "organization__name", "position", "department",
        "street", "postcode", "city", "country", "email", "phone", "mobile", "language", "external_id",
        "use_organization_address", "organization__street", "organization__postcode", "organization__city",
        "organization__country",
    ]  # fmt: skip
    for values in people.values(*fields).iterator(chunk_size=2000):
        if values["use_organization_address"] and not values["street"] and values["organization__street"]:
            for key in ADDRESS:
                values[key] = values[f"organization__{key}"]
        values["organization"] = values["organization__name"]
        values["salutation"] = salutations.get(values["salutation"], "")
        yield [values[key] for key in columns]


@tenant_view(roles=CONTACT_EXPORTERS)
def segment_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The segment for a mailing (lettershop CSV or XLSX): eligible members only, chosen columns, audit-logged."""
    segment = _segment(request, pk)
    known = [key for key, _label in EXPORT_COLUMNS]
    columns = [key for key in request.GET.getlist("columns") if key in known]
    if not columns and request.GET.get("chosen"):  # the form sent, every column unticked
        messages.error(request, _("Choose at least one column to export."))
        return redirect("contacts:segment_detail", tenant=request.tenant.slug, pk=segment.pk)
    columns = [key for key in known if key in (columns or default_export_columns(segment))]
    file_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    if definition_problem(membership=request.membership, segment=segment) and not segment.is_frozen:
        messages.error(request, _("The segment's conditions are no longer valid; nothing was exported."))
        return redirect("contacts:segment_detail", tenant=request.tenant.slug, pk=segment.pk)
    people = segment_eligible(membership=request.membership, segment=segment).order_by("last_name_key", "pk")
    labels = dict(EXPORT_COLUMNS)
    header = [str(labels[key]) for key in columns]
    count = people.count()
    export_record(
        by=request.membership,
        what="segment",
        rows=count,
        file_format=file_format,
        filters={"segment": f"{segment.pk} {segment.name}", "channel": segment.channel, "columns": ",".join(columns)},
    )
    slug = re.sub(r"[^a-z0-9]+", "-", segment.name.lower()).strip("-") or "segment"
    filename = f"{request.tenant.slug}-{slug}-{timezone.localtime().strftime('%Y-%m-%d')}.{file_format}"
    rows = export_rows(people, columns)
    return file_response(header, rows, file_format=file_format, filename=filename, sheet=segment.name)


__all__ = ["builder_parse", "builder_tree", "export_rows", "segment_count"]
