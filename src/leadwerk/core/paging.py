from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def paginate(request: HttpRequest, queryset: QuerySet, *, per_page: int = 25) -> Page:
    """A page of ``queryset`` from ``?page=``; out-of-range numbers give the last page."""
    paginator = Paginator(queryset, per_page)
    return paginator.get_page(request.GET.get("page"))
