"""Bulk actions on leads: assign, change status, schedule follow-ups, export — on ticked leads or a filter.

Every lead goes through the one-lead services (so each gets its own events, role and version checks);
a lead a service refuses is reported with the service's message, never skipped silently. Input that is wrong
for every lead (no reason for "lost", a date in the past) is refused once, up front, as a field error.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from leadwerk.accounts.models import AuditEntry, Membership, Team
from leadwerk.accounts.services import audit_note
from leadwerk.core.exceptions import DomainError, PermissionDenied, ValidationFailed

from . import services, states
from .models import FollowUp, InterestCategory, Lead, LeadReason
from .roles import LEAD_ADMINS, LEAD_READERS, LEAD_READERS_ALL, LEAD_WORKERS
from .states import Status

# At most this many leads per bulk action ("all matching the filter" included).
BULK_LIMIT = 5000
ACTIONS = ("assign", "status", "follow_up", "export")
# Who may run each action (the services check again per lead).
ACTION_ROLES = {
    "assign": LEAD_ADMINS,
    "status": LEAD_WORKERS,
    "follow_up": LEAD_WORKERS,
    "export": LEAD_READERS,
}
VIEWS = ("mine", "team", "unassigned", "overdue", "all")


def default_view(membership: Membership) -> str:
    return "all" if membership.role in LEAD_READERS_ALL else "mine"


def lead_filter(*, membership: Membership, filters: Mapping[str, Any], statuses: bool = True) -> QuerySet:
    """The inbox's filter (view, status, interest, grade, SLA state) over the leads the member may see.

    ``statuses=False`` leaves the status alone (the board's columns are the statuses).
    """
    view = filters.get("view") or default_view(membership)
    # "mine" and "team" are views of visible_to itself: within the role's wall, on the view's own index.
    leads = Lead.objects.visible_to(membership, view=view if view in ("mine", "team") else None)
    match view:
        case "unassigned":
            leads = leads.filter(owner__isnull=True, team__isnull=True)
        case "overdue":
            leads = leads.filter(next_follow_up_at__lt=timezone.now())
    if statuses:
        status = filters.get("status") or "open"
        leads = leads.filter(status__in=states.OPEN) if status == "open" else leads.filter(status=status)
    if filters.get("interest"):
        # By id, not through a join on the key: the planner then counts on (tenant, interest, status).
        interest = InterestCategory.objects.visible_to(membership).filter(key=filters["interest"]).first()
        leads = leads.filter(interest=interest) if interest else leads.none()
    if filters.get("grade"):
        leads = leads.filter(grade=filters["grade"])
    if filters.get("sla"):
        from . import sla

        if filters["sla"] not in dict(sla.SLA_FILTERS):  # never widen a selection because a filter is not understood
            raise ValidationFailed(_("Unknown filter."), field="sla")
        leads = sla.sla_filter(leads, filters["sla"], timezone.now())
    return leads


@dataclass(frozen=True)
class Refusal:
    lead_id: int
    name: str
    message: str


@dataclass
class BulkOutcome:
    """What a bulk action did: the leads changed, and each refused lead with the reason."""

    action: str
    done: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    @property
    def reasons(self) -> list[tuple[str, int]]:
        """Refusal messages with how many leads got each, most frequent first."""
        return Counter(r.message for r in self.refused).most_common()

    def as_dict(self) -> dict:
        return {
            "action": self.action,
            "done": len(self.done),
            "refused": len(self.refused),
            "done_ids": self.done,
            "refusals": [{"lead_id": r.lead_id, "message": r.message} for r in self.refused],
        }


def _require(by: Membership, action: str) -> None:
    if action not in ACTION_ROLES:
        raise ValidationFailed(_("Choose an action."), field="action")
    if not by.is_active or by.role not in ACTION_ROLES[action]:
        raise PermissionDenied(_("Your role cannot do this with leads."))


def _name(lead: Lead) -> str:
    person = lead.person
    return f"{person.last_name}, {person.first_name}" if person.first_name else person.last_name


@dataclass(frozen=True)
class Selection:
    leads: list[Lead]
    missing: list[int]  # ticked ids that are not (or no longer) visible to the member

    def __len__(self) -> int:
        return len(self.leads) + len(self.missing)


def bulk_select(
    *, by: Membership, ids: Iterable[int] | None = None, filters: Mapping[str, Any] | None = None
) -> Selection:
    """The leads a bulk action works on: the ticked ids, or everything the filter matches (at most BULK_LIMIT)."""
    if (ids is None) == (filters is None):
        raise ValidationFailed(_("Tick leads or apply the action to all matching the filter."), field="ids")
    base = Lead.objects.select_related("person", "owner__user", "team", "interest", "organization")
    if ids is not None:
        wanted = list(dict.fromkeys(int(pk) for pk in ids))
        if not wanted:
            raise ValidationFailed(_("Tick at least one lead."), field="ids")
        if len(wanted) > BULK_LIMIT:
            raise ValidationFailed(_("At most %(limit)s leads at once.") % {"limit": f"{BULK_LIMIT:,}"}, field="ids")
        found = {lead.pk: lead for lead in base.filter(pk__in=Lead.objects.visible_to(by).filter(pk__in=wanted))}
        return Selection([found[pk] for pk in wanted if pk in found], [pk for pk in wanted if pk not in found])
    matching = lead_filter(membership=by, filters=filters).order_by("-pk").values_list("pk", flat=True)
    pks = list(matching[: BULK_LIMIT + 1])
    if len(pks) > BULK_LIMIT:
        raise ValidationFailed(
            _("More than %(limit)s leads match the filter; narrow it down first.") % {"limit": f"{BULK_LIMIT:,}"},
            field="scope",
        )
    leads = {lead.pk: lead for lead in base.filter(pk__in=pks)}
    return Selection([leads[pk] for pk in pks if pk in leads], [])


def _each(action: str, selection: Selection, apply: Callable[[Lead], object]) -> BulkOutcome:
    outcome = BulkOutcome(action)
    for pk in selection.missing:
        outcome.refused.append(Refusal(pk, f"#{pk}", _("Lead not found.")))
    for lead in selection.leads:
        try:
            apply(lead)  # each service runs in its own transaction (a savepoint inside a request's)
        except DomainError as exc:
            outcome.refused.append(Refusal(lead.pk, _name(lead), exc.message))
        else:
            outcome.done.append(lead.pk)
    return outcome


def leads_assign(
    *, by: Membership, selection: Selection, owner: Membership | None, team: Team | None, reason: str = ""
) -> BulkOutcome:
    """Give every selected lead to a member and/or team (admins and managers)."""
    _require(by, "assign")
    if owner is None and team is None:
        raise ValidationFailed(_("Choose a person or a team."), field="owner")
    if owner is not None and (owner.tenant_id != by.tenant_id or not owner.is_active or owner.role not in LEAD_WORKERS):
        raise ValidationFailed(_("Choose an active member who works leads."), field="owner")
    if team is not None and team.tenant_id != by.tenant_id:
        raise ValidationFailed(_("Choose a team of this tenant."), field="team")
    reason = reason.strip() or _("bulk assignment")
    return _each(
        "assign",
        selection,
        lambda lead: services.lead_assign(lead=lead, by=by, owner=owner, team=team, reason=reason),
    )


def leads_transition(
    *,
    by: Membership,
    selection: Selection,
    to: str,
    reason: LeadReason | None = None,
    note: str = "",
    recontact_on: dt.date | None = None,
    won_value: Decimal | None = None,
) -> BulkOutcome:
    """Move every selected lead to ``to``; leads the state machine does not allow there are refused."""
    _require(by, "status")
    if to not in Status.values:
        raise ValidationFailed(_("Unknown status."), field="to")
    if to in states.REASON_REQUIRED:
        if reason is None:
            raise ValidationFailed(_("Choose a reason."), field="reason")
        if reason.tenant_id != by.tenant_id or reason.kind != states.REASON_REQUIRED[to] or not reason.active:
            raise ValidationFailed(_("Choose a reason from the list."), field="reason")
    if to == Status.NURTURE:
        if recontact_on is None:
            raise ValidationFailed(_("Enter the date to contact the lead again."), field="recontact_on")
        if recontact_on <= timezone.localdate():
            raise ValidationFailed(_("The re-contact date must lie in the future."), field="recontact_on")
    if won_value is not None and Decimal(won_value) < 0:
        raise ValidationFailed(_("Enter an amount of zero or more."), field="won_value")
    return _each(
        "status",
        selection,
        lambda lead: services.lead_transition(
            lead=lead,
            by=by,
            to=to,
            reason=reason if to in states.REASON_REQUIRED else None,
            note=note,
            recontact_on=recontact_on if to == Status.NURTURE else None,
            won_value=won_value if to == Status.WON else None,
        ),
    )


def leads_follow_up(
    *,
    by: Membership,
    selection: Selection,
    due_at: dt.datetime,
    kind: str = FollowUp.Kind.CALL,
    assignee: Membership | None = None,
    note: str = "",
) -> BulkOutcome:
    """Schedule the same follow-up on every selected lead (for its owner unless an assignee is given)."""
    _require(by, "follow_up")
    if due_at is None:
        raise ValidationFailed(_("Enter when the follow-up is due."), field="due_at")
    if kind not in FollowUp.Kind.values:
        raise ValidationFailed(_("Unknown follow-up type."), field="kind")
    if assignee is not None and (
        assignee.tenant_id != by.tenant_id or not assignee.is_active or assignee.role not in LEAD_WORKERS
    ):
        raise ValidationFailed(_("Choose an active member who works leads."), field="assignee")
    return _each(
        "follow_up",
        selection,
        lambda lead: services.follow_up_schedule(
            lead=lead, by=by, due_at=due_at, assignee=assignee, kind=kind, note=note
        ),
    )


EXPORT_COLUMNS = (
    ("pk", _("Lead no.")),
    ("status", _("Status")),
    ("person__last_name", _("Last name")),
    ("person__first_name", _("First name")),
    ("person__email", _("E-mail")),
    ("person__phone", _("Phone")),
    ("organization__name", _("Organisation")),
    ("interest__name", _("Interest")),
    ("title", _("Subject")),
    ("grade", _("Grade")),
    ("score", _("Score")),
    ("owner__user__full_name", _("Owner")),
    ("team__name", _("Team")),
    ("channel", _("Channel")),
    ("source", _("Source")),
    ("captured_at", _("Captured")),
    ("next_follow_up_at", _("Next follow-up")),
    ("sla_due_at", _("Next SLA deadline")),
    ("estimated_value", _("Estimated value")),
)


def leads_export_rows(*, by: Membership, selection: Selection, file_format: str) -> tuple[list[str], list[list]]:
    """The selected leads as export rows in the member's language; written to the audit log."""
    _require(by, "export")
    labels = dict(Status.choices)
    fields = [name for name, _label in EXPORT_COLUMNS]
    header = [str(label) for _name, label in EXPORT_COLUMNS]
    pks = [lead.pk for lead in selection.leads]
    rows = []
    for values in Lead.objects.filter(pk__in=pks).order_by("-pk").values_list(*fields):
        row = list(values)
        row[1] = str(labels.get(row[1], row[1]))
        for i, value in enumerate(row):
            if isinstance(value, dt.datetime):
                row[i] = timezone.localtime(value).replace(tzinfo=None)
        rows.append(row)
    audit_note(
        tenant_id=by.tenant_id,
        by=by,
        model=Lead,
        text=f"Export leads (bulk): {len(rows)} ({file_format})",
        action=AuditEntry.Action.ACCESS,
        changes={"export": ["leads (bulk)", file_format], "rows": [None, len(rows)]},
        extra={"leads": pks[:100]},
    )
    return header, rows
