"""About 5,000 leads per demo tenant over the last 18 months, in every state, with complete histories.

Written in bulk (events, activities and follow-ups as the services would have written them) so that the
demo loads in seconds; deterministic for a seed apart from being anchored at today's date.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from leadwerk.accounts.models import Membership, Tenant
from leadwerk.accounts.roles import Role
from leadwerk.contacts.models import Person
from leadwerk.leads.models import Activity, Channel, FollowUp, InterestCategory, Lead, LeadEvent, LeadReason
from leadwerk.leads.states import Status

__all__ = ["leads_counts", "leads_delete", "leads_load"]

DEMO_LEADS = 5_000
INTERESTS = {
    "de": [("e-suv", "Elektro-SUV"), ("kompakt", "Kompaktwagen"), ("transporter", "Transporter"),
           ("flotte", "Flottenleasing"), ("service", "Service & Wartung")],
    "en": [("backup", "Cloud Backup"), ("security", "Network Security"), ("erp", "ERP Integration"),
           ("managed", "Managed Services"), ("analytics", "Data Analytics")],
}  # fmt: skip
REASONS = {
    "de": {
        "lost": ["Preis zu hoch", "Wettbewerber gewählt", "Kein Budget", "Projekt verschoben", "Keine Rückmeldung"],
        "disqualified": ["Kein Bedarf", "Falsche Zielgruppe", "Ungültige Kontaktdaten", "Privatperson"],
    },
    "en": {
        "lost": ["Price too high", "Chose a competitor", "No budget", "Project postponed", "No response"],
        "disqualified": ["No need", "Wrong target group", "Invalid contact data", "Student or private person"],
    },
}
SOURCES = {
    Channel.WEB_FORM: ["Probefahrt-Formular", "Kontaktformular", "Newsletter-Anmeldung"],
    Channel.PHONE: ["Hotline", "Callcenter Qualifizierung"],
    Channel.EVENT: ["IAA 2025", "Hausmesse", "CeBIT-Nachfolger"],
    Channel.EMAIL: ["Info-Postfach"],
    Channel.API: ["Website", "Preisvergleich"],
    Channel.IMPORT: ["Messeliste"],
}
MAIN_PATH = [Status.NEW, Status.QUALIFYING, Status.QUALIFIED, Status.ROUTED, Status.ACCEPTED, Status.IN_PROGRESS]


def _path(final: str, rng: random.Random) -> list[str]:
    """The statuses a lead passed through to reach ``final`` (allowed by leads/states.py)."""
    if final in MAIN_PATH:
        return MAIN_PATH[: MAIN_PATH.index(final) + 1]
    if final == Status.WON:
        return [*MAIN_PATH, Status.WON]
    if final == Status.LOST:
        return [*MAIN_PATH[: rng.choice([5, 6])], Status.LOST]
    if final == Status.DISQUALIFIED:
        return [Status.NEW, Status.QUALIFYING, Status.DISQUALIFIED]
    return [Status.NEW, Status.QUALIFYING, Status.NURTURE]


# How much more (or less) often a lead with this trait ends won: the demo's past has patterns a model can learn.
WIN_ODDS = {
    "rating": {"hot": 2.4, "warm": 1.2, "cold": 0.45, "": 0.8},
    "timeline": {"now": 1.9, "quarter": 1.3, "year": 0.8, "later": 0.5, "": 0.9},
    "channel": {Channel.EVENT: 1.5, Channel.PHONE: 1.3, Channel.WEB_FORM: 1.0, Channel.EMAIL: 0.9},
}


def _final_status(age_days: int, rng: random.Random, odds: float = 1.0) -> str:
    """Where the lead stands today; ``odds`` scales its chance of having been won (and lowers lost)."""
    if age_days > 60:  # older leads are mostly decided
        weights = {Status.WON: 22 * odds, Status.LOST: 38 / odds, Status.DISQUALIFIED: 18 / odds ** 0.5,
                   Status.NURTURE: 8, Status.IN_PROGRESS: 6, Status.ACCEPTED: 4, Status.ROUTED: 2,
                   Status.QUALIFIED: 2}  # fmt: skip
    else:
        weights = {Status.NEW: 14, Status.QUALIFYING: 14, Status.QUALIFIED: 10, Status.ROUTED: 12,
                   Status.ACCEPTED: 12, Status.IN_PROGRESS: 14, Status.WON: 8 * odds, Status.LOST: 8 / odds,
                   Status.DISQUALIFIED: 5, Status.NURTURE: 3}  # fmt: skip
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def leads_load(tenant: Tenant, *, seed: int, count: int = DEMO_LEADS) -> None:
    if Lead.objects.filter(tenant=tenant).exists():
        return
    rng = random.Random(seed * 7919)  # noqa: S311  (demo data, not security)
    language = "de" if tenant.locale == "de" else "en"
    interests = []
    for position, (key, name) in enumerate(INTERESTS[language]):
        interest, _ = InterestCategory.objects.get_or_create(
            tenant=tenant, key=key, defaults={"name": name, "position": position}
        )
        interests.append(interest)
    reasons: dict[str, list[LeadReason]] = {}
    for kind, labels in REASONS[language].items():
        reasons[kind] = [
            LeadReason.objects.get_or_create(tenant=tenant, kind=kind, label=label, defaults={"position": i})[0]
            for i, label in enumerate(labels)
        ]
    sales = list(Membership.objects.filter(tenant=tenant, role=Role.SALES, is_active=True).order_by("pk"))
    agents = list(Membership.objects.filter(tenant=tenant, role=Role.AGENT, is_active=True).order_by("pk"))
    managers = list(Membership.objects.filter(tenant=tenant, role=Role.MANAGER).order_by("pk"))
    people = list(
        Person.objects.filter(tenant=tenant, suppressed_reason="", duplicate_of__isnull=True)
        .order_by("pk")
        .values_list("pk", "organization_id")
    )
    now = timezone.now()
    chosen = rng.sample(people, min(count, len(people)))
    leads, plans = [], []
    for person_id, organization_id in chosen:
        age_days = int(rng.triangular(0, 548, 30))
        captured = now - dt.timedelta(days=age_days, hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
        channel = rng.choices(list(SOURCES), weights=[35, 20, 15, 10, 12, 8])[0]
        rating = rng.choice(["hot", "warm", "warm", "cold", ""])
        timeline = rng.choice(["now", "quarter", "year", "later", ""])
        odds = WIN_ODDS["rating"][rating] * WIN_ODDS["timeline"][timeline] * WIN_ODDS["channel"].get(channel, 1.0)
        final = _final_status(age_days, rng, odds)
        path = _path(final, rng)
        interest = rng.choice(interests)
        owner = rng.choice(sales) if Status.ROUTED in path and sales else None
        # Step times: hours to first touches, days between later stages; never in the future.
        times, at = [captured], captured
        for step in path[1:]:
            gap = dt.timedelta(hours=rng.uniform(0.2, 30)) if step in (Status.QUALIFYING, Status.QUALIFIED) else (
                dt.timedelta(days=rng.uniform(0.5, 12)))  # fmt: skip
            at = min(at + gap, now - dt.timedelta(minutes=5))
            times.append(at)
        value = Decimal(rng.randrange(8, 120) * 500 if language == "de" else rng.randrange(4, 80) * 750)
        lead = Lead(
            tenant=tenant, person_id=person_id, organization_id=organization_id, interest=interest,
            title=interest.name, channel=channel, source=rng.choice(SOURCES[channel]),
            source_details={"utm_source": "google", "utm_medium": "cpc"} if channel == Channel.WEB_FORM else {},
            status=final, status_changed_at=times[-1], captured_at=captured,
            stage_entered_at={s: t.isoformat() for s, t in zip(path, times, strict=True)},
            rating=rating, estimated_value=value,
            budget=value if rng.random() < 0.4 else None, timeline=timeline,
            owner=owner, team=owner.team if owner else None,
            assigned_at=times[path.index(Status.ROUTED)] if owner else None,
            version=len(path),
        )  # fmt: skip
        if len(path) > 1:
            # Speed to lead: most within the hour, some after days (SLA misses).
            lead.first_contact_at = min(captured + dt.timedelta(hours=rng.choice([0.3, 0.5, 1, 2, 4, 26, 70])), now)
        if Status.ACCEPTED in path:
            lead.accepted_at = times[path.index(Status.ACCEPTED)]
        if final == Status.WON:
            lead.won_value, lead.won_at, lead.closed_at = value * Decimal("0.95"), times[-1], times[-1]
        elif final in (Status.LOST, Status.DISQUALIFIED):
            reason = rng.choice(reasons["lost" if final == Status.LOST else "disqualified"])
            setattr(lead, "lost_reason" if final == Status.LOST else "disqualified_reason", reason)
            lead.closed_at = times[-1]
        elif final == Status.NURTURE:
            lead.recontact_on = (now + dt.timedelta(days=rng.randint(7, 120))).date()
        leads.append(lead)
        plans.append((path, times, owner))
    Lead.objects.bulk_create(leads, batch_size=1000)

    events, activities, follow_ups = [], [], []
    system_actor = managers[0] if managers else None
    for lead, (path, times, owner) in zip(leads, plans, strict=True):
        worker = owner or (rng.choice(agents) if agents else system_actor)
        created = {"status": Status.NEW, "channel": lead.channel, "source": lead.source}
        events.append(
            LeadEvent(
                tenant=tenant, lead=lead, kind=LeadEvent.Kind.CREATED, at=times[0], actor=system_actor, after=created
            )
        )
        for before, after, at in zip(path, path[1:], times[1:], strict=False):
            if after == Status.ROUTED and owner:
                assigned = {"owner": owner.pk, "team": owner.team_id}
                events.append(
                    LeadEvent(tenant=tenant, lead=lead, kind=LeadEvent.Kind.ASSIGNMENT, at=at, actor=system_actor,
                              before={"owner": None, "team": None}, after=assigned, reason="PLZ")
                )  # fmt: skip
            reason = ""
            if after == Status.LOST:
                reason = lead.lost_reason.label
            elif after == Status.DISQUALIFIED:
                reason = lead.disqualified_reason.label
            actor = owner if after in (Status.ACCEPTED, Status.IN_PROGRESS, Status.WON, Status.LOST) else worker
            events.append(LeadEvent(tenant=tenant, lead=lead, kind=LeadEvent.Kind.STATUS, at=at, actor=actor,
                                    before={"status": before}, after={"status": after}, reason=reason))  # fmt: skip
        if lead.first_contact_at:
            seconds = int((lead.first_contact_at - lead.captured_at).total_seconds())
            activities.append(Activity(tenant=tenant, lead=lead, kind=Activity.Kind.CALL, outcome="reached",
                                       duration_minutes=rng.randint(2, 25), at=lead.first_contact_at, by=worker,
                                       note=""))  # fmt: skip
            events.append(LeadEvent(tenant=tenant, lead=lead, kind=LeadEvent.Kind.SLA, at=lead.first_contact_at,
                                    actor=worker, after={"first_contact": lead.first_contact_at.isoformat(),
                                                         "speed_to_lead_s": seconds}))  # fmt: skip
        if lead.status in (Status.ACCEPTED, Status.IN_PROGRESS, Status.QUALIFYING, Status.ROUTED) and worker:
            due = now + dt.timedelta(hours=rng.randint(-72, 240))
            follow_ups.append(FollowUp(tenant=tenant, lead=lead, due_at=due, assignee=worker,
                                       kind=rng.choice(["call", "email", "meeting"]), note=""))  # fmt: skip
        elif lead.status == Status.NURTURE:
            due = dt.datetime.combine(lead.recontact_on, dt.time(9), tzinfo=timezone.get_current_timezone())
            follow_ups.append(FollowUp(tenant=tenant, lead=lead, due_at=due, assignee=worker, kind="recontact"))
    LeadEvent.objects.bulk_create(events, batch_size=2000)
    Activity.objects.bulk_create(activities, batch_size=2000)
    FollowUp.objects.bulk_create(follow_ups, batch_size=2000)
    for follow_up in follow_ups:
        follow_up.lead.next_follow_up_at = follow_up.due_at
    Lead.objects.bulk_update([f.lead for f in follow_ups], ["next_follow_up_at"], batch_size=1000)


def leads_delete(tenants: list[Tenant]) -> None:
    from leadwerk.leads.models import (
        IdempotencyRecord,
        Notification,
        QualificationQuestion,
        ScoringRule,
        ScoringSettings,
    )

    for model in (
        Notification, IdempotencyRecord, FollowUp, Activity, LeadEvent, Lead, LeadReason, InterestCategory,
        QualificationQuestion, ScoringRule, ScoringSettings,
    ):  # fmt: skip
        model.objects.filter(tenant__in=tenants).delete()


def leads_counts(tenant: Tenant) -> dict[str, int]:
    from leadwerk.leads import states

    leads = Lead.objects.filter(tenant=tenant)
    return {
        "leads": leads.count(),
        "open": leads.filter(status__in=states.OPEN).count(),
        "won": leads.filter(status=Status.WON).count(),
        "lost": leads.filter(status=Status.LOST).count(),
        "events": LeadEvent.objects.filter(tenant=tenant).count(),
        "follow_ups": FollowUp.objects.filter(tenant=tenant).count(),
    }
