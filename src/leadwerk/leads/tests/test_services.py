"""Capture, state changes, assignment, activities and follow-ups through the services, on the real database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts.roles import Role
from leadwerk.contacts.models import Person
from leadwerk.core.exceptions import Conflict, DomainError, NotFound, ValidationFailed
from leadwerk.leads import services
from leadwerk.leads.models import Activity, FollowUp, InterestCategory, Lead, LeadEvent, LeadReason
from leadwerk.leads.states import Status

PERSON = {"first_name": "Jonas", "last_name": "Wagner", "email": "Jonas.Wagner@Example.de", "postcode": "80331"}


@pytest.fixture
def interest(tenant):
    return InterestCategory.objects.create(tenant=tenant, name="Elektro-SUV", key="e-suv")


@pytest.fixture
def lost_reason(tenant):
    return LeadReason.objects.create(tenant=tenant, kind="lost", label="Preis zu hoch")


def capture(by, interest=None, **lead):
    return services.lead_capture(by=by, person=PERSON, lead={"interest": interest, **lead}, channel="api")


def test_capture_creates_person_and_lead_with_event(manager, interest):
    result = capture(manager, interest, title="Probefahrt", estimated_value=Decimal("45000"))
    lead = result.lead
    assert result.created and result.person_created
    assert lead.person.email == "jonas.wagner@example.de"  # the marketing database's normalisation
    assert lead.status == Status.NEW and lead.channel == "api" and lead.owner is None
    assert set(lead.stage_entered_at) == {"new"}
    event = lead.events.get()
    assert event.kind == LeadEvent.Kind.CREATED and event.actor == manager


def test_second_response_for_same_interest_joins_the_open_lead(manager, interest):
    first = capture(manager, interest, title="Probefahrt").lead
    again = capture(manager, interest, message="Bitte Rückruf", need="Dienstwagen")
    assert not again.created and not again.person_created
    assert again.lead.pk == first.pk
    assert Lead.objects.count() == 1 and Person.objects.count() == 1
    assert first.activities.get().kind == Activity.Kind.RESPONSE
    assert list(first.events.values_list("kind", flat=True)) == ["response", "created"]
    first.refresh_from_db()
    assert first.need == "Dienstwagen" and first.title == "Probefahrt"  # fills gaps, keeps what was there


def test_other_interest_or_closed_lead_gives_a_new_lead(manager, interest, tenant, lost_reason):
    other = InterestCategory.objects.create(tenant=tenant, name="Transporter", key="van")
    first = capture(manager, interest).lead
    assert capture(manager, other).created
    services.lead_transition(lead=first, by=manager, to=Status.ACCEPTED)
    services.lead_transition(lead=first, by=manager, to=Status.LOST, reason=lost_reason)
    assert capture(manager, interest).created
    assert Lead.objects.count() == 3


def test_a_sales_user_capturing_by_hand_keeps_the_lead(tenant, interest):
    team = TeamFactory(tenant=tenant, name="Süd")
    sales = MembershipFactory(tenant=tenant, role=Role.SALES, team=team)
    lead = services.lead_capture(by=sales, person=PERSON, lead={"interest": interest}).lead
    assert lead.owner == sales and lead.team == team
    assert Lead.objects.visible_to(sales).filter(pk=lead.pk).exists()


def test_capture_refuses_foreign_interest_future_time_and_unknown_fields(manager, other_tenant):
    foreign = InterestCategory.objects.create(tenant=other_tenant, name="X", key="x")
    with pytest.raises(ValidationFailed) as caught:
        capture(manager, foreign)
    assert caught.value.field == "interest"
    with pytest.raises(ValidationFailed) as caught:
        services.lead_capture(by=manager, person=PERSON, captured_at=timezone.now() + dt.timedelta(days=1))
    assert caught.value.field == "captured_at"
    with pytest.raises(ValidationFailed) as caught:
        services.lead_capture(by=manager, person=PERSON, lead={"status": "won"})
    assert caught.value.field == "status"
    assert not Lead.objects.exists() and not Person.objects.exists()  # nothing half-written


@pytest.mark.parametrize("role", [Role.PRIVACY, Role.PARTNER])
def test_roles_without_lead_work_cannot_capture(tenant, role):
    with pytest.raises(DomainError):
        services.lead_capture(by=MembershipFactory(tenant=tenant, role=role), person=PERSON)


def test_transitions_write_events_and_stage_times(manager, interest):
    lead = capture(manager, interest).lead
    for to in ("qualifying", "qualified", "accepted", "in_progress"):
        services.lead_transition(lead=lead, by=manager, to=to)
    services.lead_transition(lead=lead, by=manager, to="won", won_value=Decimal("39900"))
    lead.refresh_from_db()
    assert lead.status == "won" and lead.won_value == Decimal("39900") and lead.won_at and lead.closed_at
    assert lead.accepted_at is not None
    assert set(lead.stage_entered_at) == {"new", "qualifying", "qualified", "accepted", "in_progress", "won"}
    changes = list(lead.events.filter(kind="status").order_by("at", "id").values_list("before", "after"))
    assert [(b["status"], a["status"]) for b, a in changes] == [
        ("new", "qualifying"),
        ("qualifying", "qualified"),
        ("qualified", "accepted"),
        ("accepted", "in_progress"),
        ("in_progress", "won"),
    ]


def test_forbidden_transition_changes_nothing(manager, interest):
    lead = capture(manager, interest).lead
    with pytest.raises(ValidationFailed):
        services.lead_transition(lead=lead, by=manager, to="won")
    lead.refresh_from_db()
    assert lead.status == "new" and lead.version == 1 and lead.events.count() == 1


def test_lost_and_disqualified_need_a_fitting_reason(manager, interest, tenant, lost_reason):
    lead = capture(manager, interest).lead
    services.lead_transition(lead=lead, by=manager, to="accepted")
    with pytest.raises(ValidationFailed) as caught:
        services.lead_transition(lead=lead, by=manager, to="lost")
    assert caught.value.field == "reason"
    dq = LeadReason.objects.create(tenant=tenant, kind="disqualified", label="Kein Bedarf")
    with pytest.raises(ValidationFailed):
        services.lead_transition(lead=lead, by=manager, to="lost", reason=dq)
    services.lead_transition(lead=lead, by=manager, to="lost", reason=lost_reason, note="Wettbewerber günstiger")
    lead.refresh_from_db()
    assert lead.lost_reason == lost_reason and lead.reason_note == "Wettbewerber günstiger"
    assert lead.events.filter(kind="status").first().reason == "Preis zu hoch"


def test_nurture_schedules_the_recontact_and_reopens_on_that_date(manager, interest):
    lead = capture(manager, interest).lead
    with pytest.raises(ValidationFailed) as caught:
        services.lead_transition(lead=lead, by=manager, to="nurture", recontact_on=timezone.localdate())
    assert caught.value.field == "recontact_on"
    day = timezone.localdate() + dt.timedelta(days=30)
    services.lead_transition(lead=lead, by=manager, to="nurture", recontact_on=day, note="Budget 2027")
    follow_up = FollowUp.objects.get(lead=lead)
    assert follow_up.kind == "recontact" and timezone.localtime(follow_up.due_at).date() == day
    lead.refresh_from_db()
    assert lead.next_follow_up_at == follow_up.due_at

    assert services.nurture_reopen_due(today=day - dt.timedelta(days=1)) == 0
    assert services.nurture_reopen_due(today=day) == 1
    lead.refresh_from_db()
    assert lead.status == "qualifying" and lead.recontact_on is None
    assert lead.events.filter(kind="status").first().actor is None


def test_a_response_on_a_nurtured_lead_reopens_it(manager, interest):
    lead = capture(manager, interest).lead
    services.lead_transition(
        lead=lead, by=manager, to="nurture", recontact_on=timezone.localdate() + dt.timedelta(days=90)
    )
    again = capture(manager, interest, message="Jetzt doch")
    assert again.lead.pk == lead.pk
    lead.refresh_from_db()
    assert lead.status == "qualifying"


def test_stale_write_is_a_conflict_naming_the_other_writer(tenant, manager, admin, interest):
    lead = capture(manager, interest).lead
    stale_version = lead.version
    services.lead_update(lead=Lead.objects.get(pk=lead.pk), by=admin, data={"need": "Flotte"})
    with pytest.raises(Conflict) as caught:
        services.lead_update(lead=lead, by=manager, data={"need": "Einzelwagen"}, version=stale_version)
    assert admin.user.email in caught.value.message or admin.user.full_name in caught.value.message
    lead.refresh_from_db()
    assert lead.need == "Flotte"


def test_update_records_exactly_what_changed(manager, interest):
    lead = capture(manager, interest).lead
    services.lead_update(lead=lead, by=manager, data={"budget": Decimal("50000"), "need": "", "timeline": "quarter"})
    event = lead.events.get(kind="update")
    assert event.after == {"budget": "50000", "timeline": "quarter"}
    assert event.before == {"budget": None, "timeline": ""}


def test_assignment_routes_and_records_why(tenant, manager, interest):
    team = TeamFactory(tenant=tenant, name="Süd")
    sales = MembershipFactory(tenant=tenant, role=Role.SALES, team=team)
    lead = capture(manager, interest).lead
    services.lead_assign(lead=lead, by=manager, owner=sales, reason="PLZ 80331 → Team Süd")
    lead.refresh_from_db()
    assert lead.owner == sales and lead.team == team and lead.status == "routed"
    event = lead.events.get(kind="assignment")
    assert event.after["owner"] == sales.pk and event.reason == "PLZ 80331 → Team Süd"
    assert Lead.objects.visible_to(sales).filter(pk=lead.pk).exists()


def test_assignment_refuses_members_who_cannot_work_leads(tenant, manager, marketing, outsider, interest):
    lead = capture(manager, interest).lead
    for who in (marketing, outsider):
        with pytest.raises(ValidationFailed) as caught:
            services.lead_assign(lead=lead, by=manager, owner=who)
        assert caught.value.field == "owner"


def test_sales_sees_and_works_only_own_and_team_leads(tenant, manager, interest):
    team = TeamFactory(tenant=tenant, name="Nord")
    mine = MembershipFactory(tenant=tenant, role=Role.SALES, team=team)
    colleague = MembershipFactory(tenant=tenant, role=Role.SALES, team=team)
    stranger = MembershipFactory(tenant=tenant, role=Role.SALES)
    lead = capture(manager, interest).lead
    services.lead_assign(lead=lead, by=manager, owner=colleague)
    assert Lead.objects.visible_to(mine).filter(pk=lead.pk).exists()
    assert not Lead.objects.visible_to(stranger).exists()
    with pytest.raises(NotFound):
        services.lead_transition(lead=lead, by=stranger, to="accepted")
    services.lead_transition(lead=lead, by=colleague, to="accepted")


def test_marketing_reads_but_does_not_work_leads(manager, marketing, interest):
    lead = capture(manager, interest).lead
    assert Lead.objects.visible_to(marketing).filter(pk=lead.pk).exists()
    with pytest.raises(NotFound):
        services.activity_log(lead=lead, by=marketing, kind="call")


def test_outsider_sees_nothing_and_cannot_touch(manager, outsider, interest):
    lead = capture(manager, interest).lead
    assert not Lead.objects.visible_to(outsider).exists()
    with pytest.raises(NotFound):
        services.lead_transition(lead=lead, by=outsider, to="qualifying")
    with pytest.raises(NotFound):
        services.follow_up_schedule(lead=lead, by=outsider, due_at=timezone.now())


def test_first_reached_contact_records_speed_to_lead(manager, interest):
    lead = capture(manager, interest).lead
    services.activity_log(lead=lead, by=manager, kind="call", outcome="not_reached")
    lead.refresh_from_db()
    assert lead.first_contact_at is None
    services.activity_log(lead=lead, by=manager, kind="call", outcome="reached", duration_minutes=7)
    lead.refresh_from_db()
    assert lead.first_contact_at is not None
    sla = lead.events.get(kind="sla")
    assert sla.after["speed_to_lead_s"] >= 0
    with pytest.raises(ValidationFailed):
        services.activity_log(lead=lead, by=manager, kind="note", note="  ")


def test_follow_ups_keep_next_due_current(manager, interest):
    lead = capture(manager, interest).lead
    soon = timezone.now() + dt.timedelta(hours=2)
    later = soon + dt.timedelta(days=2)
    first = services.follow_up_schedule(lead=lead, by=manager, due_at=later)
    second = services.follow_up_schedule(lead=lead, by=manager, due_at=soon, note="Angebot nachfassen")
    lead.refresh_from_db()
    assert lead.next_follow_up_at == soon and second.assignee == manager
    services.follow_up_done(follow_up=second, by=manager)
    lead.refresh_from_db()
    assert lead.next_follow_up_at == later
    services.follow_up_done(follow_up=first, by=manager)
    lead.refresh_from_db()
    assert lead.next_follow_up_at is None


def test_reason_and_interest_lists_are_admin_work(manager, sales, tenant):
    assert services.reason_define(by=manager, kind="lost", label=" Kein  Budget ").label == "Kein Budget"
    with pytest.raises(ValidationFailed):
        services.reason_define(by=manager, kind="lost", label="Kein Budget")
    with pytest.raises(NotFound):
        services.interest_define(by=sales, name="X", key="x")


def test_accepting_a_lead_nobody_owns_makes_the_acceptor_its_owner(manager, tenant, interest):
    team = TeamFactory(tenant=tenant)
    manager.team = team
    manager.save(update_fields=["team"])
    lead = capture(manager, interest).lead
    assert lead.owner is None
    services.lead_transition(lead=lead, by=manager, to="accepted")
    lead.refresh_from_db()
    assert (lead.status, lead.owner, lead.team) == ("accepted", manager, team)
    assert lead.assigned_at is not None and lead.accepted_at is not None
    taken = lead.events.get(kind=LeadEvent.Kind.ASSIGNMENT)
    assert taken.actor == manager and taken.after["owner"] == manager.pk and taken.before["owner"] is None
    assert taken.reason == "took the lead on by accepting it"


def test_accepting_an_owned_lead_keeps_its_owner(manager, tenant, interest):
    seller = MembershipFactory(tenant=tenant, role=Role.SALES)
    lead = capture(manager, interest).lead
    services.lead_assign(lead=lead, by=manager, owner=seller)
    services.lead_transition(lead=lead, by=manager, to="accepted")
    lead.refresh_from_db()
    assert (lead.status, lead.owner) == ("accepted", seller)
    assert lead.events.filter(kind=LeadEvent.Kind.ASSIGNMENT).count() == 1
