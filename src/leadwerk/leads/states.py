"""The lead state machine: the one place that says which status may follow which.

new → qualifying → qualified → routed → accepted → in_progress → won | lost
exits: disqualified (with reason), nurture (with a re-contact date; reopens as qualifying)
routed → rejected → routed when a partner or user declines
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from leadwerk.core.exceptions import ValidationFailed


class Status(models.TextChoices):
    NEW = "new", _("New")
    QUALIFYING = "qualifying", _("Qualifying")
    QUALIFIED = "qualified", _("Qualified")
    ROUTED = "routed", _("Routed")
    REJECTED = "rejected", _("Rejected")
    ACCEPTED = "accepted", _("Accepted")
    IN_PROGRESS = "in_progress", _("In progress")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    DISQUALIFIED = "disqualified", _("Disqualified")
    NURTURE = "nurture", _("Nurture")


S = Status
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.QUALIFYING, S.QUALIFIED, S.ROUTED, S.ACCEPTED, S.DISQUALIFIED, S.NURTURE}),
    S.QUALIFYING: frozenset({S.QUALIFIED, S.DISQUALIFIED, S.NURTURE}),
    S.QUALIFIED: frozenset({S.ROUTED, S.ACCEPTED, S.DISQUALIFIED, S.NURTURE}),
    S.ROUTED: frozenset({S.ACCEPTED, S.REJECTED}),
    S.REJECTED: frozenset({S.ROUTED, S.DISQUALIFIED, S.NURTURE}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.WON, S.LOST, S.DISQUALIFIED, S.NURTURE}),
    S.IN_PROGRESS: frozenset({S.WON, S.LOST, S.DISQUALIFIED, S.NURTURE}),
    S.NURTURE: frozenset({S.QUALIFYING, S.QUALIFIED, S.ROUTED, S.LOST, S.DISQUALIFIED}),
    S.WON: frozenset(),
    S.LOST: frozenset(),
    S.DISQUALIFIED: frozenset(),
}
CLOSED = frozenset({S.WON, S.LOST, S.DISQUALIFIED})
OPEN = frozenset(Status.values) - CLOSED
# Status → the reason list it needs (LeadReason.kind).
REASON_REQUIRED = {S.LOST: "lost", S.DISQUALIFIED: "disqualified"}
# A nurtured lead comes back as this status on its re-contact date.
REOPEN_AS = S.QUALIFYING
# The order of the pipeline board's columns.
BOARD = (S.NEW, S.QUALIFYING, S.QUALIFIED, S.ROUTED, S.ACCEPTED, S.IN_PROGRESS, S.NURTURE, S.WON, S.LOST)


def allowed(current: str) -> frozenset[str]:
    return TRANSITIONS[current]


def check(current: str, target: str) -> None:
    """Refuse a transition the machine does not allow, with a message a user understands."""
    if target not in Status.values:
        raise ValidationFailed(gettext("Unknown status."), field="status")
    if target == current:
        raise ValidationFailed(
            gettext("The lead is already %(status)s.") % {"status": Status(current).label}, field="status"
        )
    if target not in TRANSITIONS[current]:
        options = ", ".join(str(Status(s).label) for s in Status.values if s in TRANSITIONS[current])
        message = gettext("A lead that is %(current)s cannot become %(target)s.") % {
            "current": Status(current).label,
            "target": Status(target).label,
        }
        if options:
            message += " " + gettext("Possible next: %(options)s.") % {"options": options}
        else:
            message += " " + gettext("It is closed.")
        raise ValidationFailed(message, field="status")
