"""Import targets: what a row becomes. The stages parse → map → validate → match → load are the same for
every target; a target supplies its fields and a loader. People and leads (lead files, with history) so far.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from django.utils.functional import Promise

if TYPE_CHECKING:
    from leadwerk.accounts.models import Membership

    from ..mapping import TargetField
    from ..models import ImportChange, ImportJob


@dataclass
class ChunkResult:
    counts: dict[str, int] = field(default_factory=dict)
    rejections: list[tuple[int, str, str, list]] = field(default_factory=list)  # row number, column, message, cells

    def add(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n


class Loader(Protocol):
    def process(self, rows: list[tuple], first_row: int, *, write: bool) -> ChunkResult:
        """Normalise, validate, match and (with ``write``) load one chunk inside the caller's transaction."""

    def undo(self, changes: list[ImportChange]) -> dict[str, list]:
        """Revert these changes of one record set; returns {"reverted": [...], "conflicts": [[id, reason]]}."""


@dataclass(frozen=True)
class Target:
    key: str
    label: Promise | str
    fields: Callable[[int], list[TargetField]]  # tenant id -> the fields a column can be mapped to
    loader: Callable[[ImportJob, Membership], Loader]
    keys: tuple[str, ...]  # update keys it supports
    # Checks a mapping together with the job's options (raises ValidationFailed); None: nothing to check.
    options_check: Callable[[dict[str, str], dict], dict] | None = None


TARGETS: dict[str, Target] = {}


def register(target: Target) -> Target:
    TARGETS[target.key] = target
    return target


def get_target(key: str) -> Target:
    from . import lead, person  # noqa: F401  (register themselves)

    return TARGETS[key]


def target_choices() -> list[tuple[str, str]]:
    from . import lead, person  # noqa: F401

    return [(t.key, str(t.label)) for t in sorted(TARGETS.values(), key=lambda t: t.key != "person")]
