"""Scoring API: rules CRUD, fields, settings, recompute; 422 with the field at fault; 404 across roles and tenants."""

from __future__ import annotations

import pytest
from conftest import bearer

from leadwerk.leads import services
from leadwerk.leads.models import ScoringRule, ScoringSettings

API = "/api/v1"
HOT = {"name": "Hot lead", "field": "lead.rating", "operator": "eq", "value": "hot", "points": 75}


def call(client, method, path, headers, data=None):
    kwargs = {"content_type": "application/json", "headers": headers}
    return (
        getattr(client, method)(f"{API}{path}", data, **kwargs)
        if data is not None
        else getattr(client, method)(f"{API}{path}", headers=headers)
    )


@pytest.fixture
def rule(tenant):
    return ScoringRule.objects.create(tenant=tenant, **HOT)


def test_rule_crud(client, manager):
    headers = bearer(manager)
    created = call(client, "post", "/scoring-rules", headers, HOT)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["field"], body["value"], body["points"], body["position"]) == ("lead.rating", "hot", 75, 0)
    rule_id = body["id"]
    engagement = {"name": "Calls", "field": "engagement.activity", "value": ["call"], "points": 5, "max_points": 15,
                  "half_life_days": 30}  # fmt: skip
    second = call(client, "post", "/scoring-rules", headers, engagement).json()
    assert (second["operator"], second["value"], second["max_points"]) == ("count", ["call"], 15)
    assert [r["id"] for r in call(client, "get", "/scoring-rules", headers).json()] == [rule_id, second["id"]]
    patched = call(client, "patch", f"/scoring-rules/{second['id']}", headers, {"points": 8, "position": 0}).json()
    assert (patched["points"], patched["position"], patched["max_points"]) == (8, 0, 15)
    assert call(client, "get", f"/scoring-rules/{rule_id}", headers).json()["position"] == 1
    assert call(client, "delete", f"/scoring-rules/{rule_id}", headers).status_code == 204
    assert list(ScoringRule.objects.values_list("name", flat=True)) == ["Calls"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({**HOT, "field": "lead.colour"}, "field"),
        ({**HOT, "operator": "gte"}, "operator"),
        ({**HOT, "value": "tepid"}, "value"),
        ({**HOT, "field": "lead.budget", "operator": "gte", "value": "much"}, "value"),
        ({**HOT, "points": 0}, "points"),
        ({**HOT, "max_points": 100}, "max_points"),
        ({**HOT, "name": "   "}, "name"),
        ({**HOT, "points": "many"}, "points"),
    ],
)
def test_bad_rule_is_422_with_field_and_db_unchanged(client, manager, data, field):
    response = call(client, "post", "/scoring-rules", bearer(manager), data)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not ScoringRule.objects.exists()


def test_bad_patch_is_422_and_rule_unchanged(client, manager, rule):
    response = call(client, "patch", f"/scoring-rules/{rule.pk}", bearer(manager), {"field": "lead.budget"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "value"
    rule.refresh_from_db()
    assert rule.field == "lead.rating"


def test_fields_catalogue(client, admin):
    fields = {f["key"]: f for f in call(client, "get", "/scoring-fields", bearer(admin)).json()}
    assert ["hot", "hot"] in fields["lead.rating"]["choices"]
    assert fields["engagement.reached"]["operators"] == ["count"]
    assert "prefix" in fields["person.postcode"]["operators"]


def test_settings_get_and_put(client, manager, tenant):
    headers = bearer(manager)
    current = call(client, "get", "/scoring-settings", headers).json()
    assert current["grade_a_min"] == 70 and not ScoringSettings.objects.exists()
    bad = call(client, "put", "/scoring-settings", headers, {**current, "grade_c_min": 90})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "grade_b_min"
    assert not ScoringSettings.objects.exists()
    saved = call(client, "put", "/scoring-settings", headers, {**current, "grade_a_min": 80, "driver": "model"})
    assert saved.status_code == 200 and saved.json()["grade_a_min"] == 80
    assert ScoringSettings.objects.get(tenant=tenant).driver == "model"


def test_recompute_and_its_status(client, manager, rule, django_capture_on_commit_callbacks):
    lead = services.lead_capture(by=manager, person={"last_name": "Wagner"}, lead={"rating": "hot"}).lead
    headers = bearer(manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", "/scoring/recompute", headers, {})
    assert response.status_code == 202
    job = call(client, "get", f"/scoring/recompute/{response.json()['job_id']}", headers).json()
    assert job["status"] == "SUCCESSFUL" and job["result"]["leads"] == 1
    detail = call(client, "get", f"/leads/{lead.pk}", headers).json()
    assert detail["score"] == 75 and detail["score_points"][0]["label"] == "Hot lead"


@pytest.mark.parametrize("role", ["marketing", "sales", "agent", "partner_user", "privacy"])
def test_other_roles_get_404(client, rule, request, role):
    headers = bearer(request.getfixturevalue(role))
    for method, path, data in [
        ("get", "/scoring-rules", None),
        ("post", "/scoring-rules", HOT),
        ("get", f"/scoring-rules/{rule.pk}", None),
        ("patch", f"/scoring-rules/{rule.pk}", {"points": 1}),
        ("delete", f"/scoring-rules/{rule.pk}", None),
        ("get", "/scoring-fields", None),
        ("get", "/scoring-settings", None),
        ("post", "/scoring/recompute", {}),
    ]:
        assert call(client, method, path, headers, data).status_code == 404, (method, path)
    rule.refresh_from_db()
    assert rule.points == 75 and ScoringRule.objects.count() == 1


def test_other_tenant_gets_404_for_rules_and_jobs(client, manager, outsider, rule, django_capture_on_commit_callbacks):
    headers = bearer(outsider)
    assert call(client, "get", f"/scoring-rules/{rule.pk}", headers).status_code == 404
    assert call(client, "patch", f"/scoring-rules/{rule.pk}", headers, {"points": 1}).status_code == 404
    assert call(client, "delete", f"/scoring-rules/{rule.pk}", headers).status_code == 404
    assert call(client, "get", "/scoring-rules", headers).json() == []
    with django_capture_on_commit_callbacks(execute=True):
        job = call(client, "post", "/scoring/recompute", bearer(manager), {}).json()["job_id"]
    assert call(client, "get", f"/scoring/recompute/{job}", headers).status_code == 404
    rule.refresh_from_db()
    assert rule.points == 75
