"""Helpers shared by the HTML views of every app."""

from __future__ import annotations

from django.http import HttpRequest

from .exceptions import DomainError


def partial_template(request: HttpRequest, template: str, partial: str) -> str:
    """Render only the named ``{% partialdef %}`` for htmx requests, the whole page otherwise."""
    if getattr(request, "htmx", False) and not request.htmx.boosted:
        return f"{template}#{partial}"
    return template


def form_error(form, exc: DomainError) -> None:
    """Show a service's domain error on the form field it names (``attributes.x`` → ``attr_x``), else on top."""
    field = exc.field
    if field and field.startswith("attributes."):
        field = "attr_" + field.split(".", 1)[1]
    form.add_error(field if field in form.fields else None, exc.message)
