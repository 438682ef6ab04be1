"""Capture's configuration: shared between captures of a tenant under one stamp, and never stale after an edit."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import bearer
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.factories import MembershipFactory, TeamFactory

from leadwerk.accounts.models import Tenant
from leadwerk.accounts.roles import Role
from leadwerk.leads import questions, routing, scoring, sla
from leadwerk.leads.config import STAMPED_TABLES, capture_stamp
from leadwerk.leads.models import InterestCategory, Lead, QualificationQuestion, RoutingRule, ScoringRule

BODY = {
    "person": {"first_name": "Jonas", "last_name": "Wagner", "email": "jonas@example.de", "postcode": "80331"},
    "interest": "e-suv",
    "title": "Probefahrt",
    "source": "website",
}
FIRST_TABLE = re.compile(r'^SELECT .*? FROM "?(\w+)"?', re.S)


@pytest.fixture
def setup(tenant, admin):
    """What the benchmark's tenant has: a scoring rule, an SLA policy, a routing rule to a team."""
    InterestCategory.objects.create(tenant=tenant, name="Elektro-SUV", key="e-suv")
    scoring.scoring_rule_create(
        by=admin, data={"name": "Website", "field": "lead.source", "operator": "eq", "value": "website", "points": 10}
    )
    sla.sla_policy_create(by=admin, data={"name": "Erstkontakt", "metric": "first_contact", "business_minutes": 240})
    sued = TeamFactory(tenant=tenant, name="Team Süd")
    MembershipFactory(tenant=tenant, role=Role.SALES, team=sued)
    routing.routing_rule_create(by=admin, data={"name": "Süd", "target_team": sued})
    return {"headers": bearer(admin), "team": sued}


def capture(client, headers, n: int, **changes) -> dict:
    body = {**BODY, "person": {**BODY["person"], "email": f"p{n}@example.de"}, **changes}
    response = client.post(
        "/api/v1/leads", body, content_type="application/json", headers={**headers, "Idempotency-Key": f"k{n}"}
    )
    assert response.status_code == 201, response.json()
    return response.json()["lead"]


def test_a_capture_reads_its_configuration_in_one_statement_once_shared(client, setup):
    capture(client, setup["headers"], 1)  # fills the shared answers
    with CaptureQueriesContext(connection) as ctx:
        capture(client, setup["headers"], 2)
    sqls = [q["sql"] for q in ctx.captured_queries]
    stamps = [sql for sql in sqls if "SUM(" in sql]
    assert len(stamps) == 1 and all(table in stamps[0] for table in STAMPED_TABLES)
    config = [sql for sql in sqls if FIRST_TABLE.search(sql) and FIRST_TABLE.search(sql)[1] in STAMPED_TABLES]
    assert len(config) == 1 and '"leads_interestcategory"."key" =' in config[0], config  # the input's interest
    # The whole capture, pinned (token, idempotency, stamp, interest, person, lead, events, scoring, routing,
    # SLAs, notification, response): a new statement here should be a decision, not an accident.
    # PostgreSQL adds the person's advisory lock and the team's row lock (SQLite's write transaction is both).
    assert len(sqls) == {"sqlite": 30, "postgresql": 33}[connection.vendor], "\n".join(sqls)


def test_an_edited_scoring_rule_scores_the_next_capture(client, setup, admin):
    assert capture(client, setup["headers"], 1)["score"] == 10
    rule = ScoringRule.objects.get(name="Website")
    scoring.scoring_rule_update(by=admin, rule=rule, data={"points": 25})
    assert capture(client, setup["headers"], 2)["score"] == 25


def test_a_deleted_scoring_rule_no_longer_scores_the_next_capture(client, setup, admin):
    assert capture(client, setup["headers"], 1)["score"] == 10
    scoring.scoring_rule_delete(by=admin, rule=ScoringRule.objects.get(name="Website"))
    assert capture(client, setup["headers"], 2)["score"] == 0


def test_an_edited_routing_rule_routes_the_next_capture(client, setup, admin, tenant):
    assert capture(client, setup["headers"], 1)["team_id"] == setup["team"].pk
    nord = TeamFactory(tenant=tenant, name="Team Nord")
    MembershipFactory(tenant=tenant, role=Role.SALES, team=nord)
    routing.routing_rule_update(rule=RoutingRule.objects.get(name="Süd"), by=admin, data={"target_team": nord})
    assert capture(client, setup["headers"], 2)["team_id"] == nord.pk


def test_an_edited_sla_policy_sets_the_next_captures_deadline(client, setup, admin):
    first = Lead.objects.get(pk=capture(client, setup["headers"], 1)["id"])
    policy = sla.active_policies(admin.tenant_id)[0]
    sla.sla_policy_update(policy=policy, by=admin, data={"business_minutes": 240 + 5 * 24 * 60})
    second = Lead.objects.get(pk=capture(client, setup["headers"], 2)["id"])
    assert second.sla_first_contact_due - first.sla_first_contact_due > dt.timedelta(days=5)


def test_a_new_time_zone_is_used_by_the_next_capture(client, setup, tenant):
    def due_in(tz: str, lead: Lead) -> dt.datetime:
        return sla.add_business_minutes(None, lead.captured_at, 240, tz)

    first = Lead.objects.get(pk=capture(client, setup["headers"], 1)["id"])
    assert first.sla_first_contact_due == due_in("Europe/Berlin", first)
    Tenant.objects.filter(pk=tenant.pk).update(timezone="America/New_York")
    second = Lead.objects.get(pk=capture(client, setup["headers"], 2)["id"])
    assert second.sla_first_contact_due == due_in("America/New_York", second)
    assert due_in("America/New_York", second) != due_in("Europe/Berlin", second)


def test_the_stamp_changes_with_every_kind_of_configuration_write(setup, admin, tenant):
    stamps = [capture_stamp(tenant.pk)]

    def changed() -> bool:
        stamps.append(capture_stamp(tenant.pk))
        return stamps[-1] != stamps[-2]

    second = scoring.scoring_rule_create(
        by=admin, data={"name": "Hot", "field": "lead.rating", "operator": "eq", "value": "hot", "points": 30}
    )
    assert changed()
    scoring.scoring_rule_move(by=admin, rule=second, to=0)  # a reorder written with .update()
    assert changed()
    questions.question_create(by=admin, data={"key": "fahrzeuge", "label": "Fahrzeuge", "kind": "number"})
    questions.question_create(by=admin, data={"key": "marke", "label": "Marke", "kind": "text"})
    assert changed()
    keys = list(QualificationQuestion.objects.order_by("-position").values_list("key", flat=True))
    questions.question_reorder(by=admin, keys=keys)  # bulk_update
    assert changed()
    InterestCategory.objects.get(key="e-suv").save()
    assert changed()
    Tenant.objects.filter(pk=tenant.pk).update(timezone="Europe/Vienna")
    assert changed()
    assert not changed()  # and nothing else moves it


def test_the_stamp_sees_a_save_that_commits_after_a_later_one(setup, tenant):
    """Two admins save at once: the one who began first commits last, with the older ``updated_at``. The newest
    ``updated_at`` and the count do not change then; the stamp does."""
    older, newer = (
        RoutingRule.objects.create(tenant=tenant, name=n, target_team=setup["team"], position=10 + i)
        for i, n in enumerate(("A", "B"))
    )
    before, rules_before = capture_stamp(tenant.pk), routing.rules_stamp(tenant.pk)
    late = newer.updated_at - dt.timedelta(microseconds=1)
    assert late > older.updated_at
    RoutingRule.objects.filter(pk=older.pk).update(active=False, updated_at=late)
    assert capture_stamp(tenant.pk) != before
    assert routing.rules_stamp(tenant.pk) != rules_before
    assert [r.name for r in routing.compiled_rules(tenant.pk)] == ["Süd", "B"]


def test_the_captured_lead_carries_what_its_row_holds_after_scoring_and_routing(tenant, setup, admin):
    """Capture sets the score, the assignment and the rule link on its instance instead of reading them back."""
    from leadwerk.leads import services

    scoring.scoring_rule_create(
        by=admin, data={"name": "Responses", "field": "engagement.response", "operator": "count", "points": 5}
    )
    lead = services.lead_capture(by=admin, person={"last_name": "Wagner", "email": "w@example.de"},
                                 lead={"source": "website"}).lead  # fmt: skip
    row = Lead.objects.get(pk=lead.pk)
    fields = ("score", "grade", "score_points", "scored_at", "owner_id", "team_id", "routing_rule_id", "status",
              "version", "sla_first_contact_due", "sla_due_at")  # fmt: skip
    assert {f: getattr(lead, f) for f in fields} == {f: getattr(row, f) for f in fields}
    assert (row.score, row.routing_rule.name, row.team_id) == (10, "Süd", setup["team"].pk)
