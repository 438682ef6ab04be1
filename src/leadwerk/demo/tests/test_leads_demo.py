"""The demo lead database: every state, histories that the state machine allows, and a reset that leaves nothing."""

from __future__ import annotations

import itertools

import pytest
from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts.models import Tenant
from leadwerk.accounts.roles import Role
from leadwerk.contacts.models import DedupRun, Person
from leadwerk.demo import services
from leadwerk.demo.contacts import contacts_load
from leadwerk.demo.leads import leads_load
from leadwerk.imports.models import ImportJob
from leadwerk.leads import states
from leadwerk.leads.models import FollowUp, Lead, LeadEvent


@pytest.fixture
def loaded(tenant):
    team = TeamFactory(tenant=tenant, name="Nord")
    MembershipFactory(tenant=tenant, role=Role.SALES, team=team)
    MembershipFactory(tenant=tenant, role=Role.MANAGER)
    MembershipFactory(tenant=tenant, role=Role.AGENT)
    contacts_load(tenant, people=400, organizations=40, seed=3)
    leads_load(tenant, seed=3, count=300)
    return tenant


def test_leads_in_every_state_with_complete_histories(loaded):
    leads = Lead.objects.filter(tenant=loaded)
    assert leads.count() == 300
    assert set(leads.values_list("status", flat=True)) == set(states.Status.values) - {"rejected"}
    for lead in leads.prefetch_related("events"):
        changes = sorted((e for e in lead.events.all() if e.kind == "status"), key=lambda e: (e.at, e.pk))
        path = ["new"] + [e.after["status"] for e in changes]
        for current, target in itertools.pairwise(path):
            states.check(current, target)  # every recorded step is one the state machine allows
        assert path[-1] == lead.status
        assert set(lead.stage_entered_at) == set(path)
        assert lead.events.filter(kind="created").count() == 1
        if lead.status == "lost":
            assert lead.lost_reason_id and lead.closed_at
        if lead.status == "nurture":
            assert lead.recontact_on and lead.follow_ups.filter(kind="recontact").exists()
        if lead.status in states.CLOSED:
            assert not lead.follow_ups.filter(done_at__isnull=True).exists()


def test_leads_are_about_unsuppressed_people_of_the_tenant(loaded):
    person_ids = Lead.objects.filter(tenant=loaded).values_list("person_id", flat=True)
    assert not Person.objects.filter(pk__in=person_ids).exclude(tenant=loaded).exists()
    assert not Person.objects.filter(pk__in=person_ids).exclude(suppressed_reason="").exists()


def test_a_second_load_changes_nothing(loaded):
    before = (Lead.objects.count(), LeadEvent.objects.count(), FollowUp.objects.count())
    leads_load(loaded, seed=3, count=300)
    assert (Lead.objects.count(), LeadEvent.objects.count(), FollowUp.objects.count()) == before


def test_reset_removes_leads_imports_and_duplicate_searches(loaded):
    assert loaded.slug == "nordstern"  # one of the demo tenants
    ImportJob.objects.create(tenant=loaded, file_name="x.csv", stored_file="missing.csv", source_format="csv")
    DedupRun.objects.create(tenant=loaded, threshold=0.95)
    services.demo_reset()
    assert not Tenant.objects.filter(slug="nordstern").exists()
    assert not Lead.objects.exists() and not Person.objects.exists()
