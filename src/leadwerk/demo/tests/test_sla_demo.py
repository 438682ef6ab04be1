"""Demo SLAs: calendar and policies per grade, deadlines on open leads, speed-to-lead and misses in the history."""

from __future__ import annotations

import pytest
from django.utils import timezone
from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts.roles import Role
from leadwerk.demo.contacts import contacts_load
from leadwerk.demo.leads import leads_load
from leadwerk.demo.sla import sla_delete, sla_load
from leadwerk.leads import sla, states
from leadwerk.leads.models import BusinessCalendar, Lead, LeadEvent, SlaPolicy


@pytest.fixture
def loaded(tenant):
    team = TeamFactory(tenant=tenant, name="Nord")
    MembershipFactory(tenant=tenant, role=Role.SALES, team=team)
    MembershipFactory(tenant=tenant, role=Role.MANAGER)
    contacts_load(tenant, people=300, organizations=30, seed=5)
    leads_load(tenant, seed=5, count=200)
    sla_load(tenant)
    return tenant


def test_calendar_and_policies_per_grade(loaded):
    assert BusinessCalendar.objects.get(tenant=loaded).state in sla.STATE_CODES
    grades = dict(
        SlaPolicy.objects.filter(tenant=loaded, metric="first_contact").values_list("grade", "business_minutes")
    )
    assert grades == {"A": 120, "B": 480, "C": 1440, "": 3 * 540}
    assert SlaPolicy.objects.get(tenant=loaded, grade="A", metric="first_contact").reroute_after_minutes == 240


def test_open_leads_have_deadlines_and_closed_ones_none(loaded):
    leads = Lead.objects.filter(tenant=loaded)
    assert leads.filter(status__in=states.CLOSED, sla_due_at__isnull=False).count() == 0
    assert leads.filter(status__in=states.OPEN).exclude(status="nurture").filter(sla_due_at__isnull=True).count() == 0


def test_history_has_speed_to_lead_and_misses(loaded):
    leads = Lead.objects.filter(tenant=loaded)
    contacted = leads.filter(first_contact_at__isnull=False)
    assert contacted.count() and not contacted.filter(speed_to_lead_seconds__isnull=True).exists()
    misses = LeadEvent.objects.filter(tenant=loaded, kind="sla", after__has_key="breached")
    assert 0 < misses.count() < leads.count()


def test_the_first_job_run_does_not_flood_the_managers(loaded):
    counts = sla.sla_run(timezone.now(), tenant=loaded)
    assert counts.escalated == 0 and counts.breached == 0


def test_second_load_changes_nothing_and_delete_removes_all(loaded):
    events = LeadEvent.objects.filter(tenant=loaded).count()
    sla_load(loaded)
    assert (
        LeadEvent.objects.filter(tenant=loaded).count() == events
        and SlaPolicy.objects.filter(tenant=loaded).count() == 6
    )
    sla_delete([loaded])
    assert (
        not SlaPolicy.objects.filter(tenant=loaded).exists()
        and not BusinessCalendar.objects.filter(tenant=loaded).exists()
    )
