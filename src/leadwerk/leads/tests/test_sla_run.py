"""The SLA job: reminder before, breach + escalation after, re-routing long after — each once per deadline."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts.roles import Role
from leadwerk.leads import services
from leadwerk.leads.models import BusinessCalendar, Lead, LeadEvent, Notification, SlaPolicy
from leadwerk.leads.sla import lead_sla_apply, sla_run, sla_state

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)
DUE = dt.datetime(2026, 11, 23, 11, 0, tzinfo=BERLIN)  # first contact within 2 business hours
PERSON = {"first_name": "Jonas", "last_name": "Wagner", "email": "jonas@example.de"}


@pytest.fixture
def team(tenant):
    team = TeamFactory(tenant=tenant, name="Team Süd")
    team.lead = MembershipFactory(tenant=tenant, role=Role.SALES, team=team, user__full_name="Tina Teamlead")
    team.save()
    return team


@pytest.fixture
def seller(tenant, team):
    return MembershipFactory(tenant=tenant, role=Role.SALES, team=team, user__full_name="Sven Seller")


@pytest.fixture
def first_contact_policy(tenant):
    BusinessCalendar.objects.create(tenant=tenant, state="BY", workdays=[0, 1, 2, 3, 4])
    return SlaPolicy.objects.create(
        tenant=tenant, name="A: first contact", metric="first_contact", business_minutes=120,
        remind_before_minutes=30, escalate=True,
    )  # fmt: skip


def capture(by, owner=None) -> Lead:
    lead = services.lead_capture(by=by, person=PERSON, channel="api", captured_at=MONDAY_9).lead
    if owner is not None:
        Lead.objects.filter(pk=lead.pk).update(owner=owner, team=owner.team)
        lead.refresh_from_db()
    return lead


def notes(kind):
    return list(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


def sla_events(lead):
    return list(lead.events.filter(kind=LeadEvent.Kind.SLA).order_by("id").values_list("after", flat=True))


def test_nothing_happens_while_the_deadline_is_far(manager, first_contact_policy, seller):
    capture(manager, owner=seller)
    counts = sla_run(MONDAY_9 + dt.timedelta(minutes=60))
    assert counts.leads == 0 and Notification.objects.count() == 0


def test_owner_is_reminded_once_before_the_deadline(manager, first_contact_policy, seller):
    lead = capture(manager, owner=seller)
    assert sla_run(DUE - dt.timedelta(minutes=20)).reminded == 1
    assert sla_run(DUE - dt.timedelta(minutes=10)).reminded == 0
    assert notes(Notification.Kind.SLA_REMINDER) == [seller.pk]
    lead.refresh_from_db()
    assert set(lead.sla_flags["first_contact"]) == {"due", "reminded"}


def test_reminder_horizon_is_business_time(manager, first_contact_policy, seller, tenant):
    # Due Monday 9:00 when captured Friday 16:00 with 2 h: Friday 16:45 is 75 business minutes before.
    friday = dt.datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN)
    lead = services.lead_capture(by=manager, person=PERSON, channel="api", captured_at=friday).lead
    Lead.objects.filter(pk=lead.pk).update(owner=seller)
    assert sla_run(friday + dt.timedelta(minutes=45)).reminded == 0
    # Monday 8:40 is 20 business minutes before — remind, though it is 15 wall-clock hours after Friday 17:00.
    assert sla_run(dt.datetime(2026, 11, 30, 8, 40, tzinfo=BERLIN)).reminded == 1


def test_breach_is_recorded_and_escalated_to_the_team_lead_once(manager, first_contact_policy, seller, team):
    lead = capture(manager, owner=seller)
    after = DUE + dt.timedelta(minutes=5)
    counts = sla_run(after)
    assert (counts.breached, counts.escalated) == (1, 1)
    again = sla_run(after + dt.timedelta(hours=1))
    assert (again.leads, again.breached, again.escalated, again.reminded) == (0, 0, 0, 0)
    assert notes(Notification.Kind.SLA_ESCALATION) == [team.lead_id]
    events = sla_events(lead)
    assert [e.get("breached") is not None for e in events] == [True, False]
    assert events[0]["metric"] == "first_contact" and events[1]["to"] == [team.lead_id]
    # Overdue without a reminder first: the reminder is not sent late.
    assert notes(Notification.Kind.SLA_REMINDER) == []
    assert sla_state(Lead.objects.get(pk=lead.pk), after).tone == "overdue"


def test_without_team_lead_managers_and_admins_get_the_escalation(manager, admin, first_contact_policy, tenant):
    owner = MembershipFactory(tenant=tenant, role=Role.SALES)
    MembershipFactory(tenant=tenant, role=Role.MANAGER, is_active=False)
    capture(manager, owner=owner)
    sla_run(DUE + dt.timedelta(minutes=1))
    assert sorted(notes(Notification.Kind.SLA_ESCALATION)) == sorted([manager.pk, admin.pk])


def test_team_lead_owning_the_lead_escalates_to_managers(manager, first_contact_policy, team):
    capture(manager, owner=team.lead)
    sla_run(DUE + dt.timedelta(minutes=1))
    assert notes(Notification.Kind.SLA_ESCALATION) == [manager.pk]


def test_unowned_lead_reminds_the_managers(manager, first_contact_policy):
    capture(manager)
    sla_run(DUE - dt.timedelta(minutes=5))
    assert notes(Notification.Kind.SLA_REMINDER) == [manager.pk]


def test_policy_without_escalation_only_records_the_breach(manager, first_contact_policy, seller):
    SlaPolicy.objects.filter(pk=first_contact_policy.pk).update(escalate=False)
    lead = capture(manager, owner=seller)
    counts = sla_run(DUE + dt.timedelta(minutes=1))
    assert (counts.breached, counts.escalated) == (1, 0)
    assert len(sla_events(lead)) == 1 and not notes(Notification.Kind.SLA_ESCALATION)


def test_met_deadline_is_not_reminded_nor_breached(manager, first_contact_policy, seller):
    lead = capture(manager, owner=seller)
    services.activity_log(lead=lead, by=manager, kind="call", at=MONDAY_9 + dt.timedelta(minutes=35))
    counts = sla_run(DUE + dt.timedelta(hours=3))
    assert counts.leads == 0 and Notification.objects.count() == 0
    state = sla_state(Lead.objects.get(pk=lead.pk))
    assert (state.tone, state.text) == ("met", "first contact in 35 min")


def test_a_runner_with_a_stale_read_does_nothing(manager, first_contact_policy, seller):
    """Two workers read the same lead; only the first one's conditional update wins the steps."""
    lead = capture(manager, owner=seller)
    stale = Lead.objects.get(pk=lead.pk)
    sla_run(DUE + dt.timedelta(minutes=1))
    from leadwerk.leads.sla import RunCounts, _process, active_policies, tenant_hours

    counts = RunCounts()
    _process(
        stale, hours=tenant_hours(lead.tenant), policies=active_policies(lead.tenant_id),
        now=DUE + dt.timedelta(minutes=1), can_route=False, counts=counts,
    )  # fmt: skip
    assert counts.breached == 0
    assert len(sla_events(lead)) == 2 and len(notes(Notification.Kind.SLA_ESCALATION)) == 1


def test_new_deadline_after_reassignment_starts_its_steps_over(manager, tenant, seller, team):
    BusinessCalendar.objects.create(tenant=tenant, workdays=[0, 1, 2, 3, 4])
    SlaPolicy.objects.create(tenant=tenant, name="accept", metric="accept", business_minutes=60, escalate=False)
    lead = capture(manager)
    services.lead_assign(lead=lead, by=manager, owner=seller)
    # Assignment times set by hand (the services stamp the real clock): Monday 9:00, then Tuesday 9:00.
    for assigned, due in ((MONDAY_9, MONDAY_9 + dt.timedelta(hours=1)), (MONDAY_9 + dt.timedelta(days=1), None)):
        Lead.objects.filter(pk=lead.pk).update(assigned_at=assigned)
        lead.refresh_from_db()
        lead_sla_apply(lead=lead)
        assert lead.sla_accept_due == (due or MONDAY_9 + dt.timedelta(days=1, hours=1))
        assert sla_run(lead.sla_accept_due + dt.timedelta(minutes=1)).breached == 1
    assert len(sla_events(lead)) == 2


def test_other_tenants_leads_are_untouched_by_a_tenant_run(manager, first_contact_policy, seller, outsider):
    capture(manager, owner=seller)
    assert sla_run(DUE + dt.timedelta(minutes=1), tenant=outsider.tenant).leads == 0
    assert Notification.objects.count() == 0


def test_closed_leads_are_not_candidates(manager, first_contact_policy, seller, tenant):
    from leadwerk.leads.models import LeadReason

    lead = capture(manager, owner=seller)
    reason = LeadReason.objects.create(tenant=tenant, kind="disqualified", label="Kein Bedarf")
    services.lead_transition(lead=lead, by=manager, to="disqualified", reason=reason)
    assert sla_run(DUE + dt.timedelta(days=3)).leads == 0
