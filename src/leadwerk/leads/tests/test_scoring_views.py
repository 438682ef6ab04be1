"""Scoring screens: rules list, add/edit with field errors and fitting value widgets, grades, recompute, walls."""

from __future__ import annotations

import pytest
from conftest import login
from django.urls import reverse

from leadwerk.leads import services
from leadwerk.leads.models import Lead, ScoringRule, ScoringSettings
from leadwerk.leads.scoring_tasks import score_recompute_task

PERSON = {"first_name": "Jonas", "last_name": "Wagner", "email": "jonas@example.de"}


def url(name, tenant, **kwargs):
    return reverse(f"leads:{name}", kwargs={"tenant": tenant.slug, **kwargs})


@pytest.fixture
def hot_rule(tenant):
    return ScoringRule.objects.create(
        tenant=tenant, name="Hot lead", field="lead.rating", operator="eq", value="hot", points=75
    )


def rule_post(**overrides):
    data = {"name": "Budget", "field": "lead.budget", "operator": "gte", "value_text": "20000", "points": "15",
            "active": "on"}  # fmt: skip
    return {**data, **overrides}


def test_empty_state_explains_scoring(client, tenant, admin):
    login(client, admin)
    page = client.get(url("scoring_rules", tenant)).content.decode()
    assert 'data-testid="scoring-empty"' in page and "No scoring rules yet" in page
    assert 'data-testid="grades-form"' in page


def test_rules_list_shows_rules_with_labels(client, tenant, manager, hot_rule):
    login(client, manager)
    page = client.get(url("scoring_rules", tenant)).content.decode()
    assert "Hot lead" in page and "Lead · Rating" in page and "<strong>hot</strong>" in page and "+75" in page


def test_add_rule_with_field_errors_then_success(client, tenant, admin, django_capture_on_commit_callbacks):
    login(client, admin)
    response = client.post(url("scoring_rule_create", tenant), rule_post(value_text="lots"))
    assert response.status_code == 422 and "Enter a number." in response.content.decode()
    response = client.post(url("scoring_rule_create", tenant), rule_post(points=""))
    assert response.status_code == 422 and "This field is required." in response.content.decode()
    assert not ScoringRule.objects.exists()
    lead = services.lead_capture(by=admin, person=PERSON, lead={"budget": 25000}).lead
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("scoring_rule_create", tenant), rule_post())
    assert response.status_code == 302 and response["Location"] == url("scoring_rules", tenant)
    rule = ScoringRule.objects.get()
    assert (rule.field, rule.operator, rule.value, rule.points) == ("lead.budget", "gte", 20000.0, 15)
    lead.refresh_from_db()
    assert lead.score == 15  # the background recompute ran on commit


def test_choice_field_gets_checkboxes_and_engagement_gets_cap_and_decay(client, tenant, admin):
    login(client, admin)
    headers = {"HX-Request": "true"}
    page = client.get(url("scoring_rule_create", tenant), {"field": "lead.timeline", "name": "T"}, headers=headers)
    body = page.content.decode()
    assert page.status_code == 200 and 'name="value_choices"' in body and 'value="now"' in body
    assert "<html" not in body  # only the form
    page = client.get(url("scoring_rule_create", tenant), {"field": "engagement.response"}, headers=headers)
    body = page.content.decode()
    assert 'name="half_life_days"' in body and 'name="max_points"' in body and 'name="value_text"' not in body
    page = client.get(url("scoring_rule_create", tenant), {"field": "lead.authority"}, headers=headers)
    assert 'name="value_bool"' in page.content.decode()


def test_add_choice_and_engagement_rules(client, tenant, admin):
    login(client, admin)
    response = client.post(
        url("scoring_rule_create", tenant),
        rule_post(name="Soon", field="lead.timeline", operator="in", value_choices=["now", "quarter"], value_text=""),
    )
    assert response.status_code == 302
    response = client.post(
        url("scoring_rule_create", tenant),
        rule_post(name="Calls", field="engagement.activity", operator="count", value_text="", points="5",
                  max_points="20", half_life_days="30", value_choices=["call"]),
    )  # fmt: skip
    assert response.status_code == 302
    soon, calls = ScoringRule.objects.order_by("position")
    assert soon.value == ["now", "quarter"]
    assert (calls.value, calls.max_points, calls.half_life_days) == (["call"], 20, 30)


def test_edit_toggle_move_delete(client, tenant, admin, hot_rule):
    second = ScoringRule.objects.create(
        tenant=tenant, name="Decision maker", field="lead.authority", operator="eq", value=True, points=20, position=1
    )
    login(client, admin)
    page = client.get(url("scoring_rule_edit", tenant, pk=hot_rule.pk)).content.decode()
    assert 'value="Hot lead"' in page
    response = client.post(
        url("scoring_rule_edit", tenant, pk=hot_rule.pk),
        rule_post(name="Hot!", field="lead.rating", operator="eq", value_choices=["hot"], value_text="", points="60"),
    )
    assert response.status_code == 302
    hot_rule.refresh_from_db()
    assert (hot_rule.name, hot_rule.points, hot_rule.value) == ("Hot!", 60, "hot")
    client.post(url("scoring_rule_toggle", tenant, pk=hot_rule.pk))
    hot_rule.refresh_from_db()
    assert not hot_rule.active
    client.post(url("scoring_rule_move", tenant, pk=second.pk), {"direction": "up"})
    assert list(ScoringRule.objects.values_list("name", flat=True)) == ["Decision maker", "Hot!"]
    client.post(url("scoring_rule_delete", tenant, pk=hot_rule.pk))
    assert list(ScoringRule.objects.values_list("name", flat=True)) == ["Decision maker"]


def test_grade_settings_error_rerenders_and_saves(client, tenant, admin):
    login(client, admin)
    data = {"grades-driver": "rules", "grades-max_score": "100", "grades-grade_a_min": "40", "grades-grade_b_min": "50",
            "grades-grade_c_min": "20", "grades-probability_a_min": "0.5", "grades-probability_b_min": "0.3",
            "grades-probability_c_min": "0.1"}  # fmt: skip
    response = client.post(url("scoring_settings_save", tenant), data)
    assert response.status_code == 422 and "A needs more than B" in response.content.decode()
    assert not ScoringSettings.objects.exists()
    response = client.post(url("scoring_settings_save", tenant), {**data, "grades-grade_a_min": "80"})
    assert response.status_code == 302
    assert ScoringSettings.objects.get(tenant=tenant).grade_a_min == 80


def test_recompute_now_shows_its_result(client, tenant, admin, hot_rule, django_capture_on_commit_callbacks):
    lead = services.lead_capture(by=admin, person=PERSON, lead={"rating": "hot"}).lead
    Lead.objects.filter(pk=lead.pk).update(score=0, grade="")
    login(client, admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("scoring_recompute", tenant), headers={"HX-Request": "true"})
    assert response.status_code == 200
    result_id = response.content.decode().split("recompute/")[1].split("/")[0]
    lead.refresh_from_db()
    assert (lead.score, lead.grade) == (75, "A")
    status = client.get(url("scoring_recompute_status", tenant, result_id=result_id)).content.decode()
    assert "1 leads recomputed" in status and "1 changed" in status


def test_recompute_status_of_another_tenants_job_is_404(client, tenant, other_tenant, admin, outsider):
    result = score_recompute_task.enqueue(tenant_id=other_tenant.pk)
    login(client, admin)
    assert client.get(url("scoring_recompute_status", tenant, result_id=result.id)).status_code == 404
    assert client.get(url("scoring_recompute_status", tenant, result_id="nope")).status_code == 404


@pytest.mark.parametrize("role", ["marketing", "sales", "agent", "partner_user", "privacy"])
def test_other_roles_get_404_everywhere(client, tenant, hot_rule, request, role):
    login(client, request.getfixturevalue(role))
    for name, kwargs in [
        ("scoring_rules", {}),
        ("scoring_rule_create", {}),
        ("scoring_rule_edit", {"pk": hot_rule.pk}),
    ]:
        assert client.get(url(name, tenant, **kwargs)).status_code == 404, name
    for name in ("scoring_rule_toggle", "scoring_rule_delete", "scoring_rule_move"):
        assert client.post(url(name, tenant, pk=hot_rule.pk)).status_code == 404, name
    assert client.post(url("scoring_recompute", tenant)).status_code == 404
    assert client.post(url("scoring_settings_save", tenant), {"grades-max_score": "5"}).status_code == 404
    hot_rule.refresh_from_db()
    assert hot_rule.active and ScoringRule.objects.count() == 1


def test_other_tenants_rule_is_404(client, tenant, hot_rule, outsider):
    login(client, outsider)
    other = outsider.tenant
    assert client.get(url("scoring_rule_edit", other, pk=hot_rule.pk)).status_code == 404
    assert client.post(url("scoring_rule_delete", other, pk=hot_rule.pk)).status_code == 404
    assert client.get(url("scoring_rules", tenant)).status_code == 404
    assert ScoringRule.objects.filter(pk=hot_rule.pk).exists()


def test_lead_page_explains_the_score(client, tenant, admin, hot_rule):
    lead = services.lead_capture(by=admin, person=PERSON, lead={"rating": "hot"}).lead
    login(client, admin)
    page = client.get(url("lead_detail", tenant, pk=lead.pk)).content.decode()
    assert 'data-testid="score-explanation"' in page and "Hot lead" in page and "+75" in page


def test_settings_page_links_scoring(client, tenant, admin):
    login(client, admin)
    page = client.get(url("lead_settings", tenant)).content.decode()
    assert url("scoring_rules", tenant) in page


def test_inbox_filters_by_grade_and_sorts_by_score(client, tenant, admin, hot_rule):
    hot = services.lead_capture(by=admin, person=PERSON, lead={"rating": "hot"}).lead
    cold = services.lead_capture(by=admin, person={"last_name": "Kalt"}, lead={"rating": "cold"}).lead
    login(client, admin)
    page = client.get(url("lead_inbox", tenant), {"grade": "A"}).content.decode()
    assert f"/leads/{hot.pk}/" in page and f"/leads/{cold.pk}/" not in page
    assert 'data-testid="grade-filter"' in page
    page = client.get(url("lead_inbox", tenant), {"sort": "score"}).content.decode()
    assert page.index(f"/leads/{hot.pk}/") < page.index(f"/leads/{cold.pk}/")
