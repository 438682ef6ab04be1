"""The pipeline board: one column per status (states.BOARD), the best leads on top, drag a card to move it.

A move goes through services.lead_transition like every status change; the state machine's refusal comes
back as a message and the card stays where it was. Moves that need input (a reason, a re-contact date, a won
value) open a dialog first. Won and lost show only the last CLOSED_DAYS days: a board of every lead ever lost
helps nobody.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadwerk.accounts.decorators import tenant_view
from leadwerk.core.exceptions import DomainError
from leadwerk.core.links import pk_url
from leadwerk.core.paging import keyset_paginate

from . import services, states
from .bulk import default_view, lead_filter
from .forms import TransitionForm
from .models import InterestCategory, Lead
from .roles import LEAD_READERS, LEAD_WORKERS
from .states import Status

CARDS = 10
CLOSED_DAYS = 30
BOARD_CLOSED = frozenset(s for s in states.BOARD if s in states.CLOSED)
# Moves that need more than the target status: they open a dialog before anything changes.
NEEDS_INPUT = frozenset({*states.REASON_REQUIRED, Status.NURTURE, Status.WON})
INPUT_FIELDS = ("reason", "note", "recontact_on", "won_value")


class BoardFilterForm(forms.Form):
    VIEWS = [("mine", gettext_lazy("Mine")), ("team", gettext_lazy("My team")),
             ("unassigned", gettext_lazy("Unassigned")), ("all", gettext_lazy("All"))]  # fmt: skip
    view = forms.ChoiceField(required=False, choices=VIEWS)
    interest = forms.CharField(required=False, max_length=40)
    grade = forms.ChoiceField(required=False, choices=[("", ""), ("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")])
    column = forms.ChoiceField(required=False, choices=[("", ""), *[(s, s) for s in states.BOARD]])
    cursor = forms.CharField(required=False)


class BoardMoveForm(TransitionForm):
    """The dialog's form: the target status is fixed by where the card was dropped."""

    def __init__(self, *args, target: str | None = None, **kwargs):
        kwargs.setdefault("auto_id", "move_%s")
        super().__init__(*args, **kwargs)
        self.fields["to"].widget = forms.HiddenInput()
        target = target or self.data.get("to")
        reasons = self.fields["reason"]
        if target in states.REASON_REQUIRED:
            kind = states.REASON_REQUIRED[target]
            reasons.queryset = reasons.queryset.filter(kind=kind)
            reasons.choices = [("", "—")] + [(r.pk, r.label) for r in reasons.queryset]
        for name in INPUT_FIELDS:
            if not _needs(target, name):
                self.fields[name].widget = forms.HiddenInput()


def _needs(target: str | None, field: str) -> bool:
    return {
        "reason": target in states.REASON_REQUIRED,
        "note": target in NEEDS_INPUT,
        "recontact_on": target == Status.NURTURE,
        "won_value": target == Status.WON,
    }[field]


def _filters(request: HttpRequest, data) -> dict:
    form = BoardFilterForm(data)
    filters = form.cleaned_data if form.is_valid() else {}
    filters = {k: v for k, v in filters.items() if v}
    filters.setdefault("view", default_view(request.membership))
    return filters


def _column_leads(base, status: str, since: dt.datetime):
    leads = base.filter(status=status)
    if status in BOARD_CLOSED:
        return leads.filter(closed_at__gte=since), "-closed_at"
    return leads, "-score"


COUNT_CAP = 1000  # a column counts up to here and shows "1,000+" beyond


def _counts(base, since: dt.datetime) -> dict[str, int]:
    """Leads per column, each counted on its index up to COUNT_CAP + 1 entries: a column of 45,000 leads in
    progress shows "1,000+" instead of costing a 40 ms count of every open lead on each page view.

    The nine capped counts go to the database as one statement of nine scalar subqueries, one round trip
    instead of nine."""
    parts, params = [], []
    for status in states.BOARD:
        leads = base.filter(status=status)
        if status in BOARD_CLOSED:
            leads = leads.filter(closed_at__gte=since)
        try:
            sql, args = leads.order_by().values("pk")[: COUNT_CAP + 1].query.sql_with_params()
        except EmptyResultSet:  # e.g. an unknown interest: nothing can match
            parts.append("0")
            continue
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped)")  # noqa: S608  (ORM-compiled SQL, values as params)
        params.extend(args)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(states.BOARD, row, strict=True))


def _board_context(request: HttpRequest, filters: dict, **extra) -> dict:
    me = request.membership
    since = timezone.now() - dt.timedelta(days=CLOSED_DAYS)
    base = lead_filter(membership=me, filters=filters, statuses=False)
    counts = _counts(base, since)
    labels = dict(Status.choices)
    columns = []
    for status in states.BOARD:
        leads, key = _column_leads(base, status, since)
        page = keyset_paginate(leads.for_rows(), key=key, cursor=None, size=CARDS) if counts.get(status) else None
        _with_links(request, page)
        columns.append(
            {
                "status": status,
                "label": labels[status],
                "count": min(counts.get(status, 0), COUNT_CAP),
                "more_than": counts.get(status, 0) > COUNT_CAP,
                "page": page,
                "closed": status in BOARD_CLOSED,
                "needs_input": status in NEEDS_INPUT,
                "moves": _moves()[status],
            }
        )
    return {
        "columns": columns,
        "filters": filters,
        "query": urlencode({k: v for k, v in filters.items() if k in ("view", "interest", "grade")}),
        "views": BoardFilterForm.VIEWS,
        "interests": InterestCategory.objects.visible_to(me),
        "can_work": me.role in LEAD_WORKERS,
        "closed_days": CLOSED_DAYS,
        "total": sum(counts.values()),
        "now": timezone.now(),
        "needs_input": NEEDS_INPUT,
        **extra,
    }


def _with_links(request: HttpRequest, page):
    """Each card's links. Where a card can go is its column's: the keyboard menu is rendered once per column
    (a <template> that board.js copies into a card's menu when it opens), not once per card."""
    if page is not None:
        detail = pk_url("leads:lead_detail", tenant=request.tenant.slug)
        move = pk_url("leads:board_move", tenant=request.tenant.slug)
        for lead in page.items:
            lead.detail_url, lead.move_url = detail(lead.pk), move(lead.pk)
    return page


@cache
def _moves() -> dict[str, list[tuple[str, str]]]:
    """Per status: where a card can go (the state machine's order), for the keyboard menu."""
    order = [*states.BOARD, Status.REJECTED, Status.DISQUALIFIED]
    return {s: [(t, Status(t).label) for t in order if t in states.allowed(s)] for s in Status.values}


@tenant_view(roles=LEAD_READERS)
def lead_board(request: HttpRequest) -> HttpResponse:
    filters = _filters(request, request.GET)
    column = filters.get("column")
    if column and request.htmx:
        # "More" in one column: the next cards after the cursor, nothing else.
        since = timezone.now() - dt.timedelta(days=CLOSED_DAYS)
        base = lead_filter(membership=request.membership, filters=filters, statuses=False)
        leads, key = _column_leads(base, column, since)
        page = keyset_paginate(leads.for_rows(), key=key, cursor=filters.get("cursor"), size=CARDS)
        context = _board_extras(request, filters)
        context["col"] = {
            "status": column,
            "page": _with_links(request, page),
            "closed": column in BOARD_CLOSED,
            "moves": _moves()[column],
        }
        return render(request, "leads/board.html#board-cards", context)
    template = "leads/board.html#board" if request.htmx and not request.htmx.boosted else "leads/board.html"
    return render(request, template, _board_context(request, filters))


def _board_extras(request: HttpRequest, filters: dict) -> dict:
    return {
        "filters": filters,
        "query": urlencode({k: v for k, v in filters.items() if k in ("view", "interest", "grade")}),
        "can_work": request.membership.role in LEAD_WORKERS,
        "now": timezone.now(),
        "needs_input": NEEDS_INPUT,
    }


def _board_url(request: HttpRequest, filters: dict) -> str:
    url = reverse("leads:lead_board", kwargs={"tenant": request.tenant.slug})
    query = urlencode({k: v for k, v in filters.items() if k in ("view", "interest", "grade")})
    return f"{url}?{query}" if query else url


def _is_board_script(request: HttpRequest) -> bool:
    return request.headers.get("X-Board") == "1"


def _dialog(request: HttpRequest, lead: Lead, form: BoardMoveForm, filters: dict, status: int) -> HttpResponse:
    target = form.data.get("to") if form.is_bound else form.initial.get("to")
    context = {
        "lead": lead,
        "form": form,
        "target": target,
        "target_label": Status(target).label if target in Status.values else "",
        "filters": filters,
        "back": _board_url(request, filters),
        "as_page": not _is_board_script(request),
    }
    template = "leads/board_move.html#move-dialog" if _is_board_script(request) else "leads/board_move.html"
    response = render(request, template, context, status=status)
    response["X-Board-Dialog"] = "1"
    return response


@tenant_view(roles=LEAD_WORKERS)
def board_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a card. GET: the dialog for moves that need input. POST: the move; the board again, or the dialog
    with its errors, or the board with the refusal (the card back where it was)."""
    lead = get_object_or_404(
        Lead.objects.visible_to(request.membership).select_related("person", "organization", "interest"), pk=pk
    )
    data = request.POST if request.method == "POST" else request.GET
    filters = _filters(request, data)
    target = data.get("to", "")
    if request.method != "POST":
        try:  # a move the state machine refuses is refused before the dialog asks for its reason
            states.check(lead.status, target)
        except DomainError as exc:
            if not _is_board_script(request):
                messages.error(request, exc.message)
                return redirect(_board_url(request, filters))
            context = _board_context(request, filters, board_error=exc.message)
            return render(request, "leads/board.html#board", context, status=422)
        form = BoardMoveForm(tenant=request.tenant, target=target, initial={"to": target, "version": lead.version})
        return _dialog(request, lead, form, filters, 200)
    form = BoardMoveForm(data, tenant=request.tenant)
    error = None
    if not form.is_valid():
        error = next(iter(e for errors in form.errors.values() for e in errors), _("Check the input."))
    else:
        try:
            services.lead_transition(lead=lead, by=request.membership, **form.cleaned_data)
        except DomainError as exc:
            error = exc.message
            if exc.field in INPUT_FIELDS or exc.field == "version":
                form.add_error(None if exc.field == "version" else exc.field, exc.message)
    if error is None:
        message = _("%(name)s moved to %(status)s.") % {
            "name": lead.person.last_name,
            "status": Status(form.cleaned_data["to"]).label,
        }
        if not _is_board_script(request):
            messages.success(request, message)
            return redirect(_board_url(request, filters))
        return render(request, "leads/board.html#board", _board_context(request, filters, board_message=message))
    if target in NEEDS_INPUT and any(form.has_error(f) for f in INPUT_FIELDS if f in form.fields):
        return _dialog(request, lead, form, filters, 422)
    if not _is_board_script(request):
        messages.error(request, error)
        return redirect(_board_url(request, filters))
    context = _board_context(request, filters, board_error=error)
    return render(request, "leads/board.html#board", context, status=422)
