from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest


def paginate(request: HttpRequest, queryset: QuerySet, *, per_page: int = 25) -> Page:
    """A page of ``queryset`` from ``?page=``; out-of-range numbers give the last page."""
    paginator = Paginator(queryset, per_page)
    return paginator.get_page(request.GET.get("page"))


@dataclass(frozen=True)
class KeysetPage:
    """One page of a keyset-paginated list: no OFFSET and no COUNT(*), so page 10,000 costs what page 1 costs."""

    items: list
    next_cursor: str | None
    is_first: bool


def _encode(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        return None
    return values if isinstance(values, list) and len(values) == 2 else None


def keyset_paginate(queryset: QuerySet, *, key: str, cursor: str | None, size: int = 50) -> KeysetPage:
    """Order by (key, pk) and continue after the cursor's (key, pk); "-key" sorts descending, "-pk" newest first."""
    if key == "-pk":
        qs = queryset.order_by("-pk")
        after = _decode(cursor) if cursor else None
        if after is not None:
            qs = qs.filter(pk__lt=after[1])
        items = list(qs[: size + 1])
        next_cursor = _encode([None, items[size - 1].pk]) if len(items) > size else None
        return KeysetPage(items=items[:size], next_cursor=next_cursor, is_first=after is None)
    descending = key.startswith("-")
    field = key.lstrip("-")
    after = _decode(cursor) if cursor else None
    branches = None if descending else getattr(queryset, "keyset_branches", lambda field: None)(field)
    if branches:
        items = _merged_walks(queryset, branches, field, after, size)
    else:
        qs = queryset.order_by(f"-{field}", "-pk") if descending else queryset.order_by(field, "pk")
        items = list(_after(qs, field, after, descending)[: size + 1])
    next_cursor = None
    if len(items) > size:
        items = items[:size]
        last = items[-1]
        next_cursor = _encode([getattr(last, field.split("__")[0]), last.pk])
    return KeysetPage(items=items, next_cursor=next_cursor, is_first=after is None)


def _after(qs: QuerySet, field: str, after: list | None, descending: bool = False) -> QuerySet:
    if after is None:
        return qs
    value, pk = after
    beyond, bound = ("lt", "lte") if descending else ("gt", "gte")
    # The plain range bound first lets the database walk the key's index from the cursor on
    # (SQLite does not derive it from the OR alone).
    return qs.filter(Q(**{f"{field}__{bound}": value})).filter(
        Q(**{f"{field}__{beyond}": value}) | Q(**{field: value, f"pk__{beyond}": pk})
    )


def _merged_walks(
    queryset: QuerySet, branches: list[tuple[QuerySet, str]], field: str, after: list | None, size: int
) -> list:
    """One page of the union of ``branches``: each walked in (key, pk) order up to a page, merged, then fetched.

    Each branch comes with the name of its key (``field`` or an alias holding the same values). A search
    whose OR would make the database collect and sort every match (a city of 100,000 people) instead
    costs a page per branch.
    """
    keys: set[tuple] = set()
    for branch, key in branches:
        walk = _after(branch.order_by(key, "pk"), key, after)
        keys.update(walk.values_list(field, "pk")[: size + 1])
    page = sorted(keys, key=lambda k: (k[0] is None, k[0] or "", k[1]))[: size + 1]
    # The walks applied every filter; fetch by primary key alone, so the planner cannot prefer a search index.
    fetch = queryset.model._default_manager.filter(pk__in=[pk for _, pk in page])
    fetch.query.select_related = queryset.query.select_related
    rows = fetch.in_bulk() if page else {}
    return [rows[pk] for _, pk in page if pk in rows]
