"""Demo SLAs: a business calendar, policies per grade, deadlines on the open leads, and the history of hits
and misses (speed-to-lead, breach events) that reports and the SLA badges show."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from leadwerk.accounts.models import Tenant
from leadwerk.leads import sla
from leadwerk.leads.models import BusinessCalendar, Lead, LeadEvent, SlaPolicy

__all__ = ["sla_delete", "sla_load"]

DAY = 9 * 60  # business minutes of one demo working day (8:00–17:00)
# (name, metric, grade, business minutes, remind before, escalate, re-route after)
POLICIES = [
    ("A: first contact within 2 h", "first_contact", "A", 2 * 60, 30, True, 4 * 60),
    ("B: first contact within 8 h", "first_contact", "B", 8 * 60, 60, True, None),
    ("C: first contact within 24 h", "first_contact", "C", 24 * 60, 120, True, None),
    ("First contact within 3 days", "first_contact", "", 3 * DAY, None, False, None),
    ("Acceptance within 4 h", "accept", "", 4 * 60, 60, True, None),
    ("Outcome within 20 business days", "outcome", "", 20 * DAY, 2 * DAY, True, None),
]
STATE = {"de": "BY", "en": "NW"}


def sla_load(tenant: Tenant) -> None:
    """Idempotent: a tenant that has policies already is left alone."""
    if SlaPolicy.objects.filter(tenant=tenant).exists():
        return
    BusinessCalendar.objects.update_or_create(
        tenant=tenant,
        defaults={
            "state": STATE.get(tenant.locale, "BY"),
            "workdays": [0, 1, 2, 3, 4],
            "day_starts": dt.time(8),
            "day_ends": dt.time(17),
            "closed_days": [f"{year}-12-24" for year in (2025, 2026, 2027)]
            + [f"{year}-12-31" for year in (2025, 2026, 2027)],
        },
    )
    SlaPolicy.objects.bulk_create(
        [
            SlaPolicy(tenant=tenant, name=name, metric=metric, grade=grade, business_minutes=minutes,
                      remind_before_minutes=remind, escalate=escalate, reroute_after_minutes=reroute)
            for name, metric, grade, minutes, remind, escalate, reroute in POLICIES
        ]
    )  # fmt: skip
    _history(tenant)
    sla.sla_recompute(tenant=tenant)
    _settle_open_breaches(tenant)


def _history(tenant: Tenant) -> None:
    """Speed-to-lead for every contacted lead, and a breach event where the first contact came too late."""
    hours = sla.tenant_hours(tenant)
    policies = sla.active_policies(tenant.pk)
    leads = list(
        Lead.objects.filter(tenant=tenant, first_contact_at__isnull=False).only(
            "tenant_id", "grade", "captured_at", "first_contact_at", "owner_id", "sla_flags", "speed_to_lead_seconds"
        )
    )
    events = []
    for lead in leads:
        lead.speed_to_lead_seconds = max(0, int((lead.first_contact_at - lead.captured_at).total_seconds()))
        policy = sla.policy_for(policies, "first_contact", lead.grade)
        if policy is None:
            continue
        due = sla.add_business_minutes(hours, lead.captured_at, policy.business_minutes)
        entry = {"due": due.isoformat()}
        if lead.first_contact_at > due:
            entry |= {"breached": due.isoformat()}
            events.append(_breach(lead, "first_contact", due))
        lead.sla_flags = {"first_contact": entry}
    Lead.objects.bulk_update(leads, ["speed_to_lead_seconds", "sla_flags"], batch_size=1000)
    LeadEvent.objects.bulk_create(events, batch_size=2000)


def _breach(lead: Lead, metric: str, due: dt.datetime) -> LeadEvent:
    return LeadEvent(
        tenant_id=lead.tenant_id, lead=lead, kind=LeadEvent.Kind.SLA, at=due,
        before={"metric": metric, "due": due.isoformat()},
        after={"metric": metric, "breached": due.isoformat(), "owner": lead.owner_id},
        reason=_("%(metric)s deadline missed") % {"metric": sla.Metric(metric).label},  # as leads.sla writes it
    )  # fmt: skip


def _settle_open_breaches(tenant: Tenant) -> None:
    """Open leads already overdue when the demo is built count as breached and escalated back then, so the
    worker's first run does not flood the managers with hundreds of escalations at once."""
    now = timezone.now()
    leads = list(Lead.objects.filter(tenant=tenant, sla_due_at__lte=now, status__in=sla.states.OPEN))
    events = []
    for lead in leads:
        flags = dict(lead.sla_flags or {})
        for metric, field in sla.DUE_FIELDS.items():
            due = getattr(lead, field)
            if due is None or due > now:
                continue
            stamp = due.isoformat()
            flags[metric] = {"due": due.astimezone(dt.UTC).isoformat(), "reminded": stamp, "breached": stamp,
                             "escalated": stamp, "rerouted": stamp}  # fmt: skip
            events.append(_breach(lead, metric, due))
        lead.sla_flags = flags
    Lead.objects.bulk_update(leads, ["sla_flags"], batch_size=1000)
    LeadEvent.objects.bulk_create(events, batch_size=2000)


def sla_delete(tenants: list[Tenant]) -> None:
    for model in (SlaPolicy, BusinessCalendar):
        model.objects.filter(tenant__in=tenants).delete()
