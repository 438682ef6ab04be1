"""Routing: rules in order, conditions, targets (member, team by round robin or fewest open), capacity,
absences, the team inbox, re-routing, the capture hook, and concurrency on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts.roles import Role
from leadwerk.contacts.models import Organization
from leadwerk.core.exceptions import NotFound, ValidationFailed
from leadwerk.leads import routing, services
from leadwerk.leads.models import Absence, InterestCategory, Lead, LeadEvent, LeadProfile, RoutingRule

SUED = [{"field": "person.postcode", "op": "between", "value": ["80000", "87999"]}]


@pytest.fixture
def interest(tenant):
    return InterestCategory.objects.create(tenant=tenant, name="Elektro-SUV", key="e-suv")


@pytest.fixture
def sued(tenant):
    return TeamFactory(tenant=tenant, name="Team Süd")


@pytest.fixture
def nord(tenant):
    return TeamFactory(tenant=tenant, name="Team Nord")


@pytest.fixture
def sued_members(tenant, sued):
    return [MembershipFactory(tenant=tenant, role=Role.SALES, team=sued) for _ in range(3)]


@pytest.fixture
def nord_member(tenant, nord):
    return MembershipFactory(tenant=tenant, role=Role.SALES, team=nord)


def rule(tenant, name, conditions=(), *, team=None, member=None, strategy="round_robin", position=None, active=True):
    last = RoutingRule.objects.filter(tenant=tenant).count()
    return RoutingRule.objects.create(
        tenant=tenant,
        name=name,
        conditions=list(conditions),
        target="user" if member else "team",
        target_member=member,
        target_team=team,
        strategy=strategy,
        position=last + 1 if position is None else position,
        active=active,
    )


_counter = iter(range(10_000, 99_999))


def capture(admin, postcode="80331", interest=None, **lead):
    n = next(_counter)
    person = {"last_name": f"Kunde{n}", "email": f"k{n}@example.de", "postcode": postcode}
    if interest is not None:
        lead["interest"] = interest
    return services.lead_capture(by=admin, person=person, lead=lead).lead


# --- rules and targets ------------------------------------------------------------------------------


def test_postcode_range_routes_round_robin_through_the_team(admin, sued, sued_members):
    r = rule(admin.tenant, "Süd", SUED, team=sued)
    owners = [capture(admin, "80331").owner_id for _ in range(4)]
    ids = sorted(m.pk for m in sued_members)
    assert owners == [ids[0], ids[1], ids[2], ids[0]]
    lead = Lead.objects.get(owner_id=ids[1])
    assert lead.status == "routed" and lead.team_id == sued.pk and lead.routing_rule_id == r.pk
    event = LeadEvent.objects.get(lead=lead, kind="assignment")
    assert event.actor is None and event.after["rule"] == "Süd"
    assert event.reason == "postcode 80331 in Team Süd, round robin"


def test_the_captured_lead_carries_its_new_owner_as_in_the_database(admin, sued, sued_members):
    rule(admin.tenant, "Süd", SUED, team=sued)
    lead = capture(admin, "80331")  # routed inside the capture, from the member's row
    stored = Lead.objects.select_related("owner__user", "team").get(pk=lead.pk)
    assert (lead.owner.pk, lead.owner.user_id, lead.owner.user.email, lead.owner.role, lead.owner.team_id) == (
        stored.owner.pk,
        stored.owner.user_id,
        stored.owner.user.email,
        stored.owner.role,
        stored.owner.team_id,
    )
    assert lead.team.name == stored.team.name == sued.name


def test_fewest_open_leads_wins_and_says_so(admin, sued, sued_members):
    busy, free, middle = sued_members
    for member, n in ((busy, 3), (middle, 1)):
        for _ in range(n):
            lead = capture(admin, "10115")
            services.lead_assign(lead=lead, by=admin, owner=member)
    rule(admin.tenant, "Süd", SUED, team=sued, strategy="fewest_open")
    lead = capture(admin, "80331")
    assert lead.owner_id == free.pk
    assert LeadEvent.objects.filter(lead=lead, kind="assignment").get().reason.endswith("fewest open leads")


def test_first_matching_rule_wins_and_the_fallback_takes_the_rest(admin, sued, nord, sued_members, nord_member):
    rule(admin.tenant, "Süd", SUED, team=sued)
    rule(admin.tenant, "Alles andere", team=nord)
    assert capture(admin, "80331").team_id == sued.pk
    fallback = capture(admin, "20095")
    assert fallback.owner_id == nord_member.pk
    assert "fallback rule “Alles andere”" in fallback.events.get(kind="assignment").reason


def test_without_a_matching_rule_the_lead_stays_unassigned(admin, sued, sued_members):
    rule(admin.tenant, "Süd", SUED, team=sued)
    lead = capture(admin, "20095")
    assert lead.owner_id is None and lead.team_id is None and lead.status == "new"
    assert not lead.events.filter(kind="assignment").exists()


def test_inactive_rules_are_ignored(admin, sued, sued_members):
    rule(admin.tenant, "Süd", SUED, team=sued, active=False)
    assert capture(admin, "80331").owner_id is None


def test_unavailable_members_are_skipped(admin, tenant, sued, sued_members):
    absent, off, available = sorted(sued_members, key=lambda m: m.pk)
    today = timezone.localdate()
    Absence.objects.create(tenant=tenant, membership=absent, starts_on=today, ends_on=today + dt.timedelta(days=2))
    LeadProfile.objects.create(tenant=tenant, membership=off, takes_leads=False)
    MembershipFactory(tenant=tenant, role=Role.MARKETING, team=sued)  # cannot work leads
    MembershipFactory(tenant=tenant, role=Role.SALES, team=sued, is_active=False)
    rule(tenant, "Süd", SUED, team=sued)
    assert {capture(admin, "80331").owner_id for _ in range(3)} == {available.pk}


def test_an_absence_that_ended_yesterday_does_not_block(admin, tenant, sued):
    member = MembershipFactory(tenant=tenant, role=Role.SALES, team=sued)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Absence.objects.create(tenant=tenant, membership=member, starts_on=yesterday, ends_on=yesterday)
    rule(tenant, "Süd", SUED, team=sued)
    assert capture(admin, "80331").owner_id == member.pk


def test_weekly_capacity_is_respected_and_last_week_does_not_count(admin, tenant, sued):
    small, big = (MembershipFactory(tenant=tenant, role=Role.SALES, team=sued) for _ in range(2))
    LeadProfile.objects.create(tenant=tenant, membership=small, weekly_capacity=1)
    old = capture(admin, "10115")
    services.lead_assign(lead=old, by=admin, owner=small)
    Lead.objects.filter(pk=old.pk).update(assigned_at=timezone.now() - dt.timedelta(days=8))
    rule(tenant, "Süd", SUED, team=sued)
    owners = [capture(admin, "80331").owner_id for _ in range(4)]
    assert owners.count(small.pk) == 1 and owners.count(big.pk) == 3


def test_a_full_team_keeps_the_lead_in_its_inbox_until_someone_is_free(admin, tenant, sued):
    member = MembershipFactory(tenant=tenant, role=Role.SALES, team=sued)
    profile = LeadProfile.objects.create(tenant=tenant, membership=member, takes_leads=False)
    rule(tenant, "Süd", SUED, team=sued)
    lead = capture(admin, "80331")
    assert lead.owner_id is None and lead.team_id == sued.pk and lead.status == "routed"
    assert "team inbox" in lead.events.get(kind="assignment").reason
    assert routing.route_unassigned(tenant.pk) == 0
    assert lead.events.filter(kind="assignment").count() == 1  # nothing new, no event
    profile.takes_leads = True
    profile.save()
    assert routing.route_unassigned(tenant.pk) == 1
    lead.refresh_from_db()
    assert lead.owner_id == member.pk and lead.events.filter(kind="assignment").count() == 2


def test_an_unavailable_person_target_passes_to_the_next_rule(admin, tenant, sued, nord, nord_member):
    star = MembershipFactory(tenant=tenant, role=Role.SALES, team=sued)
    today = timezone.localdate()
    Absence.objects.create(tenant=tenant, membership=star, starts_on=today, ends_on=today)
    rule(tenant, "Großkunden an Star", [{"field": "lead.rating", "op": "eq", "value": "hot"}], member=star)
    rule(tenant, "Rest", team=nord)
    lead = capture(admin, "80331", rating="hot")
    assert lead.owner_id == nord_member.pk
    Absence.objects.all().delete()
    lead = capture(admin, "80332", rating="hot")
    assert lead.owner_id == star.pk and lead.team_id == sued.pk
    assert lead.events.get(kind="assignment").reason == f"rating hot, to {star.user.full_name}"


def test_reroute_excludes_the_current_owner(admin, tenant, sued, sued_members):
    rule(tenant, "Süd", SUED, team=sued)
    lead = capture(admin, "80331")
    first = lead.owner
    assert routing.lead_route(lead) is None  # already with someone: not routed twice
    routed = routing.lead_route(lead, exclude_members=[first])
    assert routed is not None and routed.owner_id not in (None, first.pk)
    lead.refresh_from_db()
    assert lead.owner_id == routed.owner_id and lead.events.filter(kind="assignment").count() == 2


def test_closed_leads_are_not_routed(admin, tenant, sued, sued_members):
    lead = capture(admin, "80331")
    Lead.objects.filter(pk=lead.pk).update(status="won")
    rule(tenant, "Süd", SUED, team=sued)
    assert routing.lead_route(lead) is None


def test_a_sales_users_own_capture_is_not_routed(tenant, sued, sued_members, sales):
    rule(tenant, "Süd", SUED, team=sued)
    lead = services.lead_capture(by=sales, person={"last_name": "Eigen", "postcode": "80331"}).lead
    assert lead.owner_id == sales.pk and lead.routing_rule_id is None


def test_route_now_needs_an_admin_or_manager(admin, manager, sales, tenant, sued, sued_members):
    lead = capture(admin, "80331")
    rule(tenant, "Süd", SUED, team=sued)
    with pytest.raises(NotFound):
        routing.lead_route(lead, by=sales)
    assert routing.lead_route(lead, by=manager).events.get(kind="assignment").actor == manager


def test_a_rule_edit_is_seen_by_the_next_decision(admin, tenant, sued, nord, sued_members, nord_member):
    r = rule(tenant, "Süd", SUED, team=sued)
    assert capture(admin, "80331").team_id == sued.pk
    routing.routing_rule_update(rule=r, by=admin, data={"target_team": nord})
    assert capture(admin, "80331").team_id == nord.pk
    routing.routing_rule_delete(rule=r, by=admin)
    assert capture(admin, "80331").team_id is None


# --- conditions ---------------------------------------------------------------------------------------


def decide(admin, **lead_data):
    person = {"last_name": "Probe", "postcode": lead_data.pop("postcode", "")}
    person_attrs = lead_data.pop("person_attributes", None)
    org = lead_data.pop("organization", None)
    lead = Lead(tenant_id=admin.tenant_id, **lead_data)
    from leadwerk.contacts.models import Person

    p = Person(tenant_id=admin.tenant_id, attributes=person_attrs or {}, **person)
    return routing.route_decide(lead, person=p, organization=org)


@pytest.mark.parametrize(
    ("condition", "lead", "matches"),
    [
        ({"field": "person.postcode", "op": "prefix", "value": "80,81"}, {"postcode": "81541"}, True),
        ({"field": "person.postcode", "op": "prefix", "value": "80,81"}, {"postcode": "82041"}, False),
        ({"field": "person.postcode", "op": "between", "value": ["01000", "09999"]}, {"postcode": "01067"}, True),
        ({"field": "person.postcode", "op": "between", "value": ["80000", "80999"]}, {"postcode": "8033"}, False),
        ({"field": "lead.channel", "op": "in", "value": ["web_form", "api"]}, {"channel": "api"}, True),
        ({"field": "lead.grade", "op": "eq", "value": "A"}, {"grade": "B"}, False),
        ({"field": "lead.estimated_value", "op": "gte", "value": "50000"}, {"estimated_value": 60000}, True),
        ({"field": "lead.question.fleet", "op": "gte", "value": "10"}, {"qualification": {"fleet": 12}}, True),
        ({"field": "lead.question.fleet", "op": "set", "value": None}, {"qualification": {}}, False),
        ({"field": "person.attr.region", "op": "eq", "value": "bayern"}, {"person_attributes": {"region": "Bayern"}},
         True),
        ({"field": "lead.source", "op": "contains", "value": "messe"}, {"source": "Hausmesse 2026"}, True),
    ],
)  # fmt: skip
def test_conditions(admin, tenant, nord, nord_member, condition, lead, matches):
    rule(tenant, "R", routing.clean_conditions([condition]), team=nord)
    assert (decide(admin, **lead).rule is not None) is matches


def test_organisation_fields_size_band_and_wz_prefix(admin, tenant, nord, nord_member):
    rule(tenant, "Autoindustrie, groß", routing.clean_conditions([
        {"field": "organization.industry_code", "op": "prefix", "value": "29"},
        {"field": "organization.employees", "op": "in", "value": ["250-999", "1000+"]},
    ]), team=nord)  # fmt: skip
    big = Organization(tenant=tenant, name="Motorwerk", industry_code="29.10", employees="1000+")
    small = Organization(tenant=tenant, name="Werkstatt", industry_code="29.10", employees="1-9")
    assert decide(admin, organization=big).rule is not None
    assert decide(admin, organization=small).rule is None
    assert decide(admin).rule is None


@pytest.mark.parametrize(
    ("conditions", "field"),
    [
        ("postcode", "conditions"),
        ([{"field": "person.shoe_size", "op": "eq", "value": "42"}], "conditions.0.field"),
        ([{"field": "lead.grade", "op": "between", "value": ["A", "B"]}], "conditions.0.op"),
        ([{"field": "person.postcode", "op": "between", "value": ["89999", "80000"]}], "conditions.0.value"),
        ([{"field": "person.postcode", "op": "between", "value": ["80000"]}], "conditions.0.value"),
        ([{"field": "lead.grade", "op": "in", "value": []}], "conditions.0.value"),
        ([{"field": "lead.grade", "op": "eq", "value": "E"}], "conditions.0.value"),
        ([{"field": "lead.score", "op": "gte", "value": "viel"}], "conditions.0.value"),
        ([{"field": "person.attr.Bad Key", "op": "eq", "value": "x"}], "conditions.0.field"),
    ],
)
def test_bad_conditions_name_their_field(conditions, field):
    with pytest.raises(ValidationFailed) as error:
        routing.clean_conditions(conditions)
    assert error.value.field == field


# --- configuration services ---------------------------------------------------------------------------


def test_rule_create_validates_and_appends(admin, tenant, sued, nord_member, outsider):
    first = routing.routing_rule_create(by=admin, data={"name": " Süd ", "conditions": SUED, "target_team": sued})
    second = routing.routing_rule_create(
        by=admin, data={"name": "Star", "target": "user", "target_member": nord_member}
    )
    assert first.name == "Süd" and second.position > first.position
    for data, field in (
        ({"name": "", "target_team": sued}, "name"),
        ({"name": "X"}, "target_team"),
        ({"name": "X", "target": "user"}, "target_member"),
        ({"name": "X", "target": "user", "target_member": outsider}, "target_member"),
        ({"name": "X", "target_team": sued, "strategy": "random"}, "strategy"),
        ({"name": "X", "target": "partner", "target_team": sued}, "target"),
    ):
        with pytest.raises(ValidationFailed) as error:
            routing.routing_rule_create(by=admin, data=data)
        assert error.value.field == field
    assert RoutingRule.objects.count() == 2


def test_only_admins_and_managers_configure_routing(tenant, sales, marketing, sued, admin):
    for member in (sales, marketing):
        with pytest.raises(NotFound):
            routing.routing_rule_create(by=member, data={"name": "X", "target_team": sued})
        with pytest.raises(NotFound):
            routing.lead_profile_set(by=member, member=admin, weekly_capacity=3)
    assert not RoutingRule.objects.exists()


def test_reorder_and_move(admin, tenant, sued):
    a, b, c = (routing.routing_rule_create(by=admin, data={"name": n, "target_team": sued}) for n in "abc")
    routing.routing_rule_move(rule=c, by=admin, up=True)
    assert list(RoutingRule.objects.order_by("position").values_list("name", flat=True)) == ["a", "c", "b"]
    with pytest.raises(ValidationFailed):
        routing.routing_rules_reorder(by=admin, ids=[a.pk, b.pk])
    routing.routing_rules_reorder(by=admin, ids=[b.pk, a.pk, c.pk])
    assert list(RoutingRule.objects.order_by("position").values_list("name", flat=True)) == ["b", "a", "c"]


def test_absence_and_capacity_validation(admin, tenant, sales, outsider):
    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as error:
        routing.absence_add(by=admin, member=sales, starts_on=today, ends_on=today - dt.timedelta(days=1))
    assert error.value.field == "ends_on"
    with pytest.raises(ValidationFailed):
        routing.absence_add(by=admin, member=outsider, starts_on=today, ends_on=today)
    with pytest.raises(ValidationFailed) as error:
        routing.lead_profile_set(by=admin, member=sales, weekly_capacity=-1)
    assert error.value.field == "weekly_capacity"
    assert not Absence.objects.exists() and not LeadProfile.objects.filter(weekly_capacity__isnull=False).exists()
    profile = routing.lead_profile_set(by=admin, member=sales, weekly_capacity=5, takes_leads=False)
    assert (profile.weekly_capacity, profile.takes_leads) == (5, False)
    assert routing.lead_profile_set(by=admin, member=sales, weekly_capacity=None).weekly_capacity is None


# --- concurrency (PostgreSQL) -------------------------------------------------------------------------

pg_only = pytest.mark.skipif(
    connection.vendor == "sqlite", reason="the in-memory SQLite test database is one connection; PostgreSQL run only"
)


def _in_threads(n: int, work) -> list:
    results: list = []
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results.append(work(i))
        except Exception as exc:  # collected and asserted below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pg_only
@pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)
def test_two_workers_never_route_the_same_lead_twice(admin, tenant, sued, sued_members):
    lead = capture(admin, "80331")  # no rule yet: stays unassigned
    rule(tenant, "Süd", SUED, team=sued)
    results = _in_threads(6, lambda i: routing.lead_route(Lead.objects.get(pk=lead.pk)))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len([r for r in results if r is not None]) == 1
    assert LeadEvent.objects.filter(lead_id=lead.pk, kind="assignment").count() == 1


@pg_only
@pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)
def test_capacity_is_never_overshot_under_concurrent_routing(admin, tenant, sued):
    members = [MembershipFactory(tenant=tenant, role=Role.SALES, team=sued) for _ in range(2)]
    for m in members:
        LeadProfile.objects.create(tenant=tenant, membership=m, weekly_capacity=2)
    leads = [capture(admin, "80331") for _ in range(8)]
    rule(tenant, "Süd", SUED, team=sued, strategy="fewest_open")
    # half through the team rule, half through a person rule on the same member: two lock paths
    rule(tenant, "Direkt", [{"field": "lead.source", "op": "eq", "value": "direkt"}], member=members[0], position=0)
    Lead.objects.filter(pk__in=[lead.pk for lead in leads[::2]]).update(source="direkt")
    results = _in_threads(8, lambda i: routing.lead_route(Lead.objects.get(pk=leads[i].pk)))
    assert not [r for r in results if isinstance(r, Exception)], results
    for m in members:
        assert Lead.objects.filter(owner=m).count() == 2
    assert Lead.objects.filter(owner__isnull=True, team=sued).count() == 4


def test_the_worker_job_hands_out_team_inbox_leads_but_not_unmatched_ones(admin, tenant, sued):
    member = MembershipFactory(tenant=tenant, role=Role.SALES, team=sued)
    profile = LeadProfile.objects.create(tenant=tenant, membership=member, takes_leads=False)
    unmatched = capture(admin, "20095")
    rule(tenant, "Süd", SUED, team=sued)
    waiting = capture(admin, "80331")
    profile.takes_leads = True
    profile.save()
    assert routing.route_waiting_all() == 1
    waiting.refresh_from_db()
    unmatched.refresh_from_db()
    assert waiting.owner_id == member.pk and unmatched.owner_id is None
    rule(tenant, "Rest", team=sued)
    assert routing.route_unassigned(tenant.pk, include_unmatched=True) == 1


def test_an_earlier_rule_on_an_attribute_beats_a_later_indexed_postcode_rule(admin, tenant, sued, nord, nord_member):
    MembershipFactory(tenant=tenant, role=Role.SALES, team=sued)
    rule(tenant, "VIP", [{"field": "person.attr.vip", "op": "eq", "value": "ja"}], team=nord)
    rule(tenant, "Süd", SUED, team=sued)
    assert decide(admin, postcode="80331", person_attributes={"vip": "ja"}).rule.name == "VIP"
    assert decide(admin, postcode="80331", person_attributes={"vip": "nein"}).rule.name == "Süd"
    assert decide(admin, postcode="8033A").rule is None
