"""Deadlines set by the lead services' hooks (capture, assignment, status, first contact) from the SLA policies."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from tests.factories import MembershipFactory

from leadwerk.accounts.roles import Role
from leadwerk.leads import services
from leadwerk.leads.models import BusinessCalendar, Lead, LeadReason, SlaPolicy
from leadwerk.leads.sla import lead_sla_apply, sla_recompute
from leadwerk.leads.states import Status

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)
PERSON = {"first_name": "Jonas", "last_name": "Wagner", "email": "jonas@example.de"}


def policy(tenant, metric, hours, grade="", **kwargs):
    return SlaPolicy.objects.create(
        tenant=tenant, name=f"{metric} {grade}", metric=metric, grade=grade, business_minutes=hours * 60, **kwargs
    )


@pytest.fixture
def policies(tenant):
    BusinessCalendar.objects.create(tenant=tenant, state="BY", workdays=[0, 1, 2, 3, 4])
    return [
        policy(tenant, "first_contact", 8),
        policy(tenant, "first_contact", 2, grade="A"),
        policy(tenant, "accept", 4),
        policy(tenant, "outcome", 20 * 9),
    ]


def capture(by, at=MONDAY_9) -> Lead:
    return services.lead_capture(by=by, person=PERSON, channel="api", captured_at=at).lead


def test_capture_sets_first_contact_and_accept_deadlines(manager, policies):
    lead = capture(manager)
    assert lead.sla_first_contact_due == dt.datetime(2026, 11, 23, 17, 0, tzinfo=BERLIN)  # 8 business hours
    assert lead.sla_accept_due == dt.datetime(2026, 11, 23, 13, 0, tzinfo=BERLIN)
    assert lead.sla_outcome_due is None
    assert lead.sla_due_at == lead.sla_accept_due
    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.sla_first_contact_due, stored.sla_due_at) == (lead.sla_first_contact_due, lead.sla_due_at)


def test_policy_for_the_grade_wins_over_the_general_one(manager, policies):
    lead = capture(manager)
    Lead.objects.filter(pk=lead.pk).update(grade="A")
    lead.refresh_from_db()
    lead_sla_apply(lead=lead)
    assert lead.sla_first_contact_due == dt.datetime(2026, 11, 23, 11, 0, tzinfo=BERLIN)
    lead.grade = "B"  # no B policy: the general one applies
    lead_sla_apply(lead=lead)
    assert Lead.objects.get(pk=lead.pk).sla_first_contact_due == dt.datetime(2026, 11, 23, 17, 0, tzinfo=BERLIN)


def test_no_policy_no_deadline(manager, tenant):
    lead = capture(manager)
    assert lead.sla_due_at is None and lead.sla_first_contact_due is None and lead.sla_accept_due is None


def test_inactive_policy_does_not_count(manager, tenant):
    policy(tenant, "first_contact", 2, active=False)
    assert capture(manager).sla_first_contact_due is None


def test_first_contact_clears_its_deadline_and_records_speed_to_lead(manager, policies):
    lead = capture(manager)
    services.activity_log(lead=lead, by=manager, kind="call", outcome="reached", at=MONDAY_9 + dt.timedelta(minutes=35))
    lead.refresh_from_db()
    assert lead.first_contact_at == MONDAY_9 + dt.timedelta(minutes=35)
    assert lead.speed_to_lead_seconds == 35 * 60
    assert lead.sla_first_contact_due is None
    assert lead.sla_due_at == lead.sla_accept_due


def test_unreached_call_keeps_the_first_contact_clock_running(manager, policies):
    lead = capture(manager)
    services.activity_log(lead=lead, by=manager, kind="call", outcome="not_reached", at=MONDAY_9)
    lead.refresh_from_db()
    assert lead.sla_first_contact_due is not None and lead.speed_to_lead_seconds is None


def test_speed_to_lead_is_wall_clock_time_even_over_a_weekend(manager, policies):
    friday = dt.datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN)
    lead = capture(manager, at=friday)
    services.activity_log(lead=lead, by=manager, kind="email", at=friday + dt.timedelta(days=3))
    lead.refresh_from_db()
    assert lead.speed_to_lead_seconds == 3 * 24 * 3600


def test_assignment_restarts_the_accept_clock(manager, policies, tenant):
    lead = capture(manager)
    sales = MembershipFactory(tenant=tenant, role=Role.SALES)
    services.lead_assign(lead=lead, by=manager, owner=sales)
    lead.refresh_from_db()
    assert lead.status == Status.ROUTED
    assigned = lead.assigned_at.astimezone(BERLIN)
    assert lead.sla_accept_due is not None and lead.sla_accept_due >= assigned
    assert lead.sla_accept_due != dt.datetime(2026, 11, 23, 13, 0, tzinfo=BERLIN)


def test_accepting_ends_accept_and_starts_outcome(manager, policies, tenant):
    lead = capture(manager)
    services.lead_transition(lead=lead, by=manager, to=Status.ACCEPTED)
    lead.refresh_from_db()
    assert lead.sla_accept_due is None
    assert lead.sla_outcome_due is not None and lead.sla_outcome_due > lead.accepted_at
    assert lead.sla_due_at == min(lead.sla_outcome_due, lead.sla_first_contact_due)


def test_closing_clears_every_deadline(manager, policies, tenant):
    lead = capture(manager)
    reason = LeadReason.objects.create(tenant=tenant, kind="disqualified", label="Kein Bedarf")
    services.lead_transition(lead=lead, by=manager, to=Status.DISQUALIFIED, reason=reason)
    lead.refresh_from_db()
    assert (lead.sla_first_contact_due, lead.sla_accept_due, lead.sla_outcome_due, lead.sla_due_at) == (None,) * 4


def test_nurture_parks_the_deadlines(manager, policies):
    lead = capture(manager)
    services.lead_transition(lead=lead, by=manager, to=Status.NURTURE, recontact_on=dt.date(2030, 1, 1))
    lead.refresh_from_db()
    assert lead.sla_due_at is None


def test_sla_writes_do_not_make_an_open_form_stale(manager, policies):
    lead = capture(manager)
    version = lead.version
    lead.grade = "A"
    lead_sla_apply(lead=lead)
    assert Lead.objects.get(pk=lead.pk).version == version


def test_recompute_after_a_policy_change(manager, policies, tenant):
    lead = capture(manager)
    SlaPolicy.objects.filter(tenant=tenant, metric="first_contact", grade="").update(business_minutes=60)
    assert sla_recompute(tenant=tenant) == 1
    lead.refresh_from_db()
    assert lead.sla_first_contact_due == dt.datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN)
    assert sla_recompute(tenant=tenant) == 0


def test_other_tenants_policies_do_not_apply(manager, outsider, other_tenant):
    policy(other_tenant, "first_contact", 2)
    assert capture(manager).sla_due_at is None


def test_preview_shows_when_a_clock_started_now_would_end(policies, tenant):
    from leadwerk.leads.sla import sla_preview

    friday = dt.datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN)
    preview = {(p.metric, p.grade): due for p, due in sla_preview(tenant, friday)}
    assert preview[("first_contact", "A")] == dt.datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)
    assert preview[("accept", "")] == dt.datetime(2026, 11, 30, 11, 0, tzinfo=BERLIN)
