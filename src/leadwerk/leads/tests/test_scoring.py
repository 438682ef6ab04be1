"""Rule scoring through its services on the real database: operators, caps, decay, grades, events, hooks, bulk."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone
from tests.factories import OrganizationFactory

from leadwerk.contacts.models import AttributeDefinition
from leadwerk.core.exceptions import NotFound, ValidationFailed
from leadwerk.leads import scoring, services
from leadwerk.leads.models import (
    Activity,
    InterestCategory,
    Lead,
    LeadEvent,
    QualificationQuestion,
    ScoreModel,
    ScoringRule,
    ScoringSettings,
)

PERSON = {"first_name": "Jonas", "last_name": "Wagner", "email": "jonas@example.de", "postcode": "80331"}


def rule(tenant, field, operator, value, points, **extra) -> ScoringRule:
    return ScoringRule.objects.create(
        tenant=tenant, name=extra.pop("name", f"{field} {operator}"), field=field, operator=operator, value=value,
        points=points, **extra,
    )  # fmt: skip


def capture(by, person=PERSON, **lead) -> Lead:
    return services.lead_capture(by=by, person=person, lead=lead, channel="api").lead


def score_of(lead: Lead) -> int:
    lead.refresh_from_db()
    return lead.score


# --- operators --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "operator", "value", "hit"),
    [
        ("lead.rating", "eq", "hot", True),
        ("lead.rating", "eq", "cold", False),
        ("lead.rating", "ne", "cold", True),
        ("lead.rating", "in", ["warm", "hot"], True),
        ("lead.rating", "set", None, True),
        ("lead.timeline", "unset", None, True),
        ("lead.budget", "gte", 20000, True),
        ("lead.budget", "gte", 20000.01, False),
        ("lead.budget", "lte", 19999, False),
        ("lead.authority", "eq", True, True),
        ("lead.authority", "eq", False, False),
        ("person.postcode", "prefix", ["70", "80"], True),
        ("person.postcode", "prefix", "81", False),
        ("lead.need", "contains", "DIENSTWAGEN", True),
        ("lead.source", "eq", " messe münchen ", True),
        ("person.has_email", "eq", True, True),
        ("person.has_phone", "eq", True, False),
        ("organization.employees", "in", ["250-999", "1000+"], True),
        ("organization.industry_code", "prefix", "29", True),
        ("organization.legal_form", "eq", "GmbH", False),
    ],
)
def test_operator(manager, tenant, field, operator, value, hit):
    org = OrganizationFactory(tenant=tenant, employees="1000+", industry_code="29.10", legal_form="AG")
    rule(tenant, field, operator, value, 10)
    lead = capture(
        manager, rating="hot", budget=Decimal("20000"), authority=True, need="Dienstwagen für 12 Leute",
        source="Messe München", organization=org,
    )  # fmt: skip
    assert score_of(lead) == (10 if hit else 0)


def test_question_and_attribute_rules(manager, tenant):
    QualificationQuestion.objects.create(tenant=tenant, key="fleet", label="Fleet size", kind="number")
    AttributeDefinition.objects.create(
        tenant=tenant, record_type="person", key="segment", label="Segment", type="choice", choices=["B2B", "B2C"]
    )
    rule(tenant, "lead.question.fleet", "gte", 10, 15)
    rule(tenant, "person.attr.segment", "eq", "B2B", 5)
    lead = capture(manager, qualification={"fleet": 12})
    assert score_of(lead) == 15
    lead.person.attributes = {"segment": "B2B"}
    lead.person.save()
    assert scoring.lead_score(lead).score == 20
    assert [p["points"] for p in lead.score_points] == [15, 5]


def test_rule_on_a_retired_field_gives_nothing(manager, tenant):
    rule(tenant, "person.attr.gone", "eq", "x", 10)
    rule(tenant, "lead.rating", "eq", "hot", 7)
    assert score_of(capture(manager, rating="hot")) == 7


# --- engagement, caps, decay ---------------------------------------------------------------------------


def test_engagement_points_per_occurrence_with_cap(manager, tenant):
    rule(tenant, "engagement.activity", "count", None, 4, max_points=10)
    lead = capture(manager)
    for _ in range(2):
        services.activity_log(lead=lead, by=manager, kind="call", outcome="not_reached")
    assert score_of(lead) == 8
    services.activity_log(lead=lead, by=manager, kind="email")
    assert score_of(lead) == 10  # capped
    assert lead.score_points[0] | {"label": ""} == {
        "rule": lead.score_points[0]["rule"], "label": "", "points": 10, "count": 3, "decayed": False, "capped": True,
    }  # fmt: skip


def test_engagement_filters_activity_kinds_and_reached(manager, tenant):
    rule(tenant, "engagement.activity", "count", ["meeting"], 20)
    rule(tenant, "engagement.reached", "count", None, 5)
    lead = capture(manager)
    services.activity_log(lead=lead, by=manager, kind="call", outcome="reached")
    services.activity_log(lead=lead, by=manager, kind="call", outcome="not_reached")
    services.activity_log(lead=lead, by=manager, kind="note", note="internal")
    assert score_of(lead) == 5
    services.activity_log(lead=lead, by=manager, kind="meeting", outcome="interested")
    assert score_of(lead) == 30


def test_responses_decay_by_half_life(manager, tenant):
    rule(tenant, "engagement.response", "count", None, 20, half_life_days=30)
    lead = capture(manager)
    now = timezone.now()
    month_ago = now - dt.timedelta(days=30)
    services.lead_capture(by=manager, person=PERSON, lead={}, channel="web_form", captured_at=month_ago)
    assert score_of(lead) == 10  # 20 × 0.5^(30/30)
    assert lead.score_points[0]["decayed"] is True
    Activity.objects.filter(lead=lead).update(at=now - dt.timedelta(days=60))
    assert scoring.lead_score(lead).score == 5


def test_score_is_clamped_to_zero_and_max(manager, tenant):
    ScoringSettings.objects.create(tenant=tenant, max_score=50, grade_a_min=40, grade_b_min=30, grade_c_min=10)
    rule(tenant, "lead.rating", "eq", "hot", 80)
    rule(tenant, "lead.rating", "eq", "cold", -30)
    assert score_of(capture(manager, rating="hot")) == 50
    assert score_of(capture(manager, person={**PERSON, "email": "b@example.de"}, rating="cold")) == 0


# --- grades --------------------------------------------------------------------------------------------


def test_grade_for_uses_score_thresholds():
    settings = ScoringSettings(grade_a_min=70, grade_b_min=45, grade_c_min=20)
    assert [scoring.grade_for(settings, s, None) for s in (70, 69, 45, 20, 19, 0)] == ["A", "B", "B", "C", "D", "D"]


def test_grade_for_uses_probability_only_when_the_model_drives():
    settings = ScoringSettings(driver="model", probability_a_min=0.5, probability_b_min=0.3, probability_c_min=0.1)
    assert scoring.grade_for(settings, 0, 0.55) == "A"
    assert scoring.grade_for(settings, 0, 0.05) == "D"
    assert scoring.grade_for(settings, 80, None) == "A"  # no probability from an active model: the score
    settings.driver = "rules"
    assert scoring.grade_for(settings, 0, 0.9) == "D"


def test_model_driven_grade_ignores_probability_of_inactive_model(manager, tenant):
    ScoringSettings.objects.create(tenant=tenant, driver="model")
    rule(tenant, "lead.rating", "eq", "hot", 80)
    lead = capture(manager, rating="hot")
    retired = ScoreModel.objects.create(tenant=tenant, version=1, state="retired")
    Lead.objects.filter(pk=lead.pk).update(probability=0.01, score_model=retired)
    assert scoring.score_recompute(tenant.pk).leads == 1
    lead.refresh_from_db()
    assert lead.grade == "A"


def test_without_rules_leads_stay_ungraded(manager):
    lead = capture(manager, rating="hot")
    lead.refresh_from_db()
    assert (lead.score, lead.grade, lead.score_points) == (0, "", [])
    assert not lead.events.filter(kind="score").exists()


# --- events and hooks -------------------------------------------------------------------------------------


def test_score_event_only_when_score_or_grade_changes(manager, tenant):
    rule(tenant, "lead.rating", "eq", "hot", 75)
    lead = capture(manager, rating="hot")
    event = lead.events.get(kind=LeadEvent.Kind.SCORE)
    assert (event.before, event.after, event.actor) == ({"score": 0, "grade": ""}, {"score": 75, "grade": "A"}, manager)
    services.lead_update(lead=lead, by=manager, data={"need": "Flotte"})
    scoring.lead_score(lead)
    assert lead.events.filter(kind=LeadEvent.Kind.SCORE).count() == 1
    services.lead_update(lead=lead, by=manager, data={"rating": "warm"})
    latest = lead.events.filter(kind=LeadEvent.Kind.SCORE).first()
    assert (latest.before, latest.after) == ({"score": 75, "grade": "A"}, {"score": 0, "grade": "D"})


def test_score_is_set_before_routing_and_on_each_hook(manager, tenant):
    rule(tenant, "lead.timeline", "eq", "now", 30)
    rule(tenant, "engagement.response", "count", None, 10)
    lead = capture(manager)
    assert score_of(lead) == 0
    services.lead_update(lead=lead, by=manager, data={"timeline": "now"})
    assert score_of(lead) == 30
    again = services.lead_capture(by=manager, person=PERSON, lead={}, channel="web_form")
    assert not again.created and score_of(lead) == 40
    assert lead.scored_at is not None


def test_scoring_does_not_bump_the_version(manager, tenant):
    rule(tenant, "lead.rating", "eq", "hot", 75)
    lead = capture(manager)
    lead.refresh_from_db()
    version = lead.version
    services.lead_update(lead=lead, by=manager, data={"rating": "hot"}, version=version)
    lead.refresh_from_db()
    assert lead.version == version + 1 and lead.score == 75


# --- bulk recompute ------------------------------------------------------------------------------------


def test_bulk_recompute_equals_per_lead_recompute(manager, tenant, other_tenant):
    interest = InterestCategory.objects.create(tenant=tenant, name="SUV", key="suv")
    leads = []
    for i, (rating, timeline) in enumerate([("hot", "now"), ("warm", "year"), ("", ""), ("cold", "now")]):
        person = {**PERSON, "email": f"p{i}@example.de", "postcode": f"{70 + i}000"}
        leads.append(capture(manager, person=person, rating=rating, timeline=timeline, interest=interest))
    services.activity_log(lead=leads[0], by=manager, kind="call", outcome="reached")
    services.activity_log(lead=leads[1], by=manager, kind="meeting", outcome="interested")
    # Rules come after the leads, so only the recompute can score them.
    rule(tenant, "lead.rating", "in", ["hot", "warm"], 30)
    rule(tenant, "lead.timeline", "eq", "now", 25)
    rule(tenant, "person.postcode", "prefix", ["70", "71"], 10)
    rule(tenant, "lead.interest", "eq", "suv", 5)
    rule(tenant, "engagement.reached", "count", None, 12, half_life_days=14, max_points=20)
    now = timezone.now()
    counts = scoring.score_recompute(tenant.pk, now=now, chunk=2)
    assert (counts.leads, counts.changed, counts.events) == (4, 4, 4)
    bulk = {lead.pk: (lead.score, lead.grade, lead.score_points) for lead in Lead.objects.filter(tenant=tenant)}
    assert bulk[leads[0].pk][0] == 82 and bulk[leads[2].pk][0] == 5
    engine = scoring.engine_build(tenant.pk)
    for lead in leads:
        (one,) = scoring._score_rows(engine, Lead.objects.filter(pk=lead.pk), [lead.pk], now)
        assert (one.score, one.grade, json.loads(one.points)) == bulk[lead.pk] and not one.changed
    # A second run changes nothing and writes no events.
    again = scoring.score_recompute(tenant.pk, now=now)
    assert (again.changed, again.events) == (0, 0)
    assert LeadEvent.objects.filter(kind="score", reason="recompute").count() == 4


def test_recompute_leaves_a_lead_edited_meanwhile_to_its_own_hook(manager, tenant):
    lead = capture(manager, rating="hot")
    rule(tenant, "lead.rating", "eq", "hot", 30)  # after the capture: only a recompute scores it
    now = timezone.now()
    engine = scoring.engine_build(tenant.pk)
    results = scoring._score_rows(engine, Lead.objects.filter(pk=lead.pk), [lead.pk], now)  # read ...
    Lead.objects.filter(pk=lead.pk).update(version=lead.version + 1)  # ... someone saves the lead ...
    changed = scoring._write_changes(engine, results, by=None, reason="recompute", now=now)  # ... then write
    lead.refresh_from_db()
    assert changed == (1, 1)  # what the chunk tried
    assert lead.score == 0 and not LeadEvent.objects.filter(lead=lead, kind="score", reason="recompute").exists()


@pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)
def test_recompute_split_over_processes_scores_like_one_process(manager, tenant):
    from django.db import connection

    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the processes need a database file or server they can open (CI runs this on PostgreSQL)")
    for i, rating in enumerate(["hot", "warm", "", "hot", "cold", "hot", "warm"]):
        capture(manager, person={**PERSON, "email": f"p{i}@example.de"}, rating=rating)
    rule(tenant, "lead.rating", "in", ["hot", "warm"], 30)
    rule(tenant, "lead.rating", "eq", "hot", 45)
    now = timezone.now()
    counts = scoring.score_recompute(tenant.pk, now=now, chunk=2, processes=2)
    assert (counts.leads, counts.changed, counts.events) == (7, 7, 7)
    split = dict(Lead.objects.filter(tenant=tenant).values_list("pk", "score"))
    assert sorted(split.values()) == [0, 0, 30, 30, 75, 75, 75]
    # The same scores as in one process: a recompute in one process finds nothing to change.
    again = scoring.score_recompute(tenant.pk, now=now, processes=1)
    assert (again.changed, again.events) == (0, 0)
    assert LeadEvent.objects.filter(kind="score", reason="recompute").count() == 7


def test_recompute_of_an_empty_tenant(tenant):
    assert scoring.score_recompute(tenant.pk).leads == 0


# --- configuration services -------------------------------------------------------------------------------


def test_rule_create_validates_and_leaves_db_unchanged(manager, tenant):
    bad = [
        ({"name": "", "field": "lead.rating", "operator": "eq", "value": "hot", "points": 5}, "name"),
        ({"name": "x", "field": "lead.nope", "operator": "eq", "value": "hot", "points": 5}, "field"),
        ({"name": "x", "field": "lead.rating", "operator": "gte", "value": "hot", "points": 5}, "operator"),
        ({"name": "x", "field": "lead.rating", "operator": "eq", "value": "lukewarm", "points": 5}, "value"),
        ({"name": "x", "field": "lead.budget", "operator": "gte", "value": "viel", "points": 5}, "value"),
        ({"name": "x", "field": "lead.rating", "operator": "eq", "value": "hot", "points": 0}, "points"),
        ({"name": "x", "field": "lead.rating", "operator": "eq", "value": "hot", "points": 5, "max_points": 9},
         "max_points"),
        ({"name": "x", "field": "engagement.activity", "operator": "count", "points": 5, "max_points": 3},
         "max_points"),
        ({"name": "x", "field": "engagement.activity", "operator": "count", "points": 5, "half_life_days": 0},
         "half_life_days"),
        ({"name": "x", "field": "engagement.activity", "operator": "count", "value": ["fax"], "points": 5}, "value"),
    ]  # fmt: skip
    for data, field in bad:
        with pytest.raises(ValidationFailed) as err:
            scoring.scoring_rule_create(by=manager, data=data)
        assert err.value.field == field, data
    assert not ScoringRule.objects.exists()


def test_rule_create_update_move_delete(manager, tenant):
    a = scoring.scoring_rule_create(
        by=manager, data={"name": "Hot", "field": "lead.rating", "operator": "eq", "value": "hot", "points": 30}
    )
    b = scoring.scoring_rule_create(
        by=manager, data={"name": "Budget", "field": "lead.budget", "operator": "gte", "value": "10000", "points": 10}
    )
    assert (a.position, b.position, b.value) == (0, 1, 10000.0)
    change = {"field": "person.postcode", "value": "80, 81", "operator": "prefix"}
    scoring.scoring_rule_update(by=manager, rule=b, data=change)
    b.refresh_from_db()
    assert (b.field, b.value) == ("person.postcode", ["80", "81"])
    scoring.scoring_rule_move(by=manager, rule=b, to=0)
    assert list(ScoringRule.objects.values_list("name", flat=True)) == ["Budget", "Hot"]
    scoring.scoring_rule_delete(by=manager, rule=a)
    assert ScoringRule.objects.count() == 1


def test_config_services_refuse_other_roles_and_tenants(sales, marketing, outsider, manager, tenant):
    data = {"name": "Hot", "field": "lead.rating", "operator": "eq", "value": "hot", "points": 30}
    for member in (sales, marketing):
        with pytest.raises(NotFound):
            scoring.scoring_rule_create(by=member, data=data)
        with pytest.raises(NotFound):
            scoring.scoring_settings_update(by=member, data={"grade_a_min": 80})
    mine = scoring.scoring_rule_create(by=manager, data=data)
    with pytest.raises(NotFound):
        scoring.scoring_rule_update(by=outsider, rule=mine, data={"points": 1})
    with pytest.raises(NotFound):
        scoring.scoring_rule_delete(by=outsider, rule=mine)
    assert ScoringRule.objects.get().points == 30 and not ScoringSettings.objects.exists()


def test_settings_update_validates_thresholds(manager, tenant):
    for data, field in [
        ({"grade_a_min": 40, "grade_b_min": 45}, "grade_b_min"),
        ({"grade_a_min": 150}, "grade_a_min"),
        ({"probability_a_min": 1.5}, "probability_a_min"),
        ({"driver": "magic"}, "driver"),
        ({"max_score": 0}, "max_score"),
    ]:
        with pytest.raises(ValidationFailed) as err:
            scoring.scoring_settings_update(by=manager, data=data)
        assert err.value.field == field
    assert not ScoringSettings.objects.exists()
    saved = scoring.scoring_settings_update(by=manager, data={"grade_a_min": 80, "driver": "model"})
    assert (saved.grade_a_min, saved.driver, saved.tenant_id) == (80, "model", tenant.pk)


def test_rule_changes_recompute_in_the_background(manager, tenant, django_capture_on_commit_callbacks):
    lead = capture(manager, rating="hot")
    with django_capture_on_commit_callbacks(execute=True):
        scoring.scoring_rule_create(
            by=manager, data={"name": "Hot", "field": "lead.rating", "operator": "eq", "value": "hot", "points": 75}
        )
    lead.refresh_from_db()
    assert (lead.score, lead.grade) == (75, "A")
    with django_capture_on_commit_callbacks(execute=True):
        scoring.scoring_settings_update(by=manager, data={"grade_a_min": 80})
    lead.refresh_from_db()
    assert lead.grade == "B"


def test_demo_rules_load_and_score_existing_leads(manager, tenant):
    from leadwerk.demo.scoring import demo_rules, scoring_load

    lead = capture(manager, rating="hot", timeline="now", authority=True)
    counts = scoring_load(tenant)
    assert counts["leads"] == 1 and ScoringRule.objects.filter(tenant=tenant).count() == len(demo_rules())
    lead.refresh_from_db()
    assert (lead.score, lead.grade) == (70, "A")
    scoring_load(tenant)  # idempotent: replaces the rules
    assert ScoringRule.objects.filter(tenant=tenant).count() == len(demo_rules())


def test_nightly_recompute_is_registered():
    from huey.contrib.djhuey import HUEY

    import leadwerk.leads.tasks  # noqa: F401  (what the worker's autodiscovery imports)

    assert any("score_recompute_nightly" in task.__name__ for task in HUEY._registry._periodic_tasks)
