"""Domain errors. Views show them as messages; the API maps them to HTTP status codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class DomainError(Exception):
    """Base class: a business rule said no. ``field`` names the input it concerns, if any."""

    status_code = 422
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class ValidationFailed(DomainError):
    status_code = 422
    code = "invalid"


class PermissionDenied(DomainError):
    """Used where the object is visible but the action is not allowed for the role."""

    status_code = 403
    code = "forbidden"


@contextmanager
def api_field_names(mapping: dict[str, str]) -> Iterator[None]:
    """Services name model fields (``team``); API inputs carry ids (``team_id``). Rename on the way out."""
    try:
        yield
    except DomainError as exc:
        exc.field = mapping.get(exc.field, exc.field)
        raise
