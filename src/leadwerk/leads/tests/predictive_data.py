"""Small, deterministic histories of closed leads for the predictive model's tests (a few hundred rows)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from tests.factories import OrganizationFactory, PersonFactory

from leadwerk.leads.models import Activity, InterestCategory, Lead
from leadwerk.leads.states import Status

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def history(
    tenant, *, closed: int = 260, won_share: float = 0.4, open_leads: int = 0, seed: int = 1, leak: bool = False
) -> list[Lead]:
    """``closed`` leads closed one per day-ish (oldest first), outcome loosely tied to rating and channel.

    With ``leak``, the qualification answer ``tip`` equals the outcome in the older 80 % and is random in the newest
    20 % — a feature a model evaluated on its own training data would call perfect.
    """
    rng = random.Random(seed)  # noqa: S311  (test data)
    org_big = OrganizationFactory(tenant=tenant, employees="1000+", industry_code="29.10")
    org_small = OrganizationFactory(tenant=tenant, employees="1-9", industry_code="62.01")
    people = [
        PersonFactory(tenant=tenant, organization=org_big),
        PersonFactory(tenant=tenant, organization=org_small, phone="+4930123456"),
        PersonFactory(tenant=tenant, email=""),
    ]
    interest, _ = InterestCategory.objects.get_or_create(tenant=tenant, key="e-suv", defaults={"name": "E-SUV"})
    leads = []
    for i in range(closed + open_leads):
        is_open = i >= closed
        won = rng.random() < won_share
        # Signal: hot leads and web forms win more often; the model must find it without being perfect.
        rating = rng.choice(["hot", "hot", "warm"] if won else ["warm", "cold", "cold", ""])
        if rng.random() < 0.3:
            rating = rng.choice(["hot", "warm", "cold", ""])
        channel = rng.choice(["web_form", "web_form", "phone"] if won else ["phone", "event", "import"])
        person = rng.choice(people)
        captured = START + dt.timedelta(days=i, hours=rng.randint(0, 5))
        tip = ("yes" if won else "no") if i < closed * 0.8 - 1 else rng.choice(["yes", "no"])
        lead = Lead(
            tenant=tenant,
            person=person,
            organization=person.organization,
            interest=interest,
            title=f"Lead {i}",
            channel=channel,
            source=rng.choice(["Website", "Hausmesse", "Hotline"]),
            rating=rating,
            timeline=rng.choice(["now", "quarter", "year", ""]),
            authority=rng.choice([True, False, None]),
            estimated_value=Decimal(rng.randrange(5, 100) * 500),
            budget=Decimal(20000) if rng.random() < 0.4 else None,
            qualification={"tip": tip} if leak else {},
            captured_at=captured,
        )
        if is_open:
            lead.status = rng.choice([Status.NEW, Status.QUALIFYING, Status.IN_PROGRESS])
        else:
            lead.status = Status.WON if won else rng.choice([Status.LOST, Status.LOST, Status.DISQUALIFIED])
            lead.closed_at = captured + dt.timedelta(days=3)
        leads.append(lead)
    Lead.objects.bulk_create(leads)
    activities = [
        Activity(tenant=tenant, lead=lead, kind=Activity.Kind.CALL, at=lead.captured_at + dt.timedelta(hours=2))
        for lead in leads
        if lead.status == Status.WON or rng.random() < 0.3
    ]
    Activity.objects.bulk_create(activities)
    return leads
