"""The predictive model's API: versions, train, activate, deactivate; walls between roles and tenants."""

from __future__ import annotations

import pytest
from conftest import bearer

from leadwerk.leads import predictive
from leadwerk.leads.models import Lead, ScoreModel
from leadwerk.leads.states import CLOSED

from .predictive_data import history


def test_list_and_detail_carry_holdout_metrics_and_parameters(client, tenant, manager):
    history(tenant, closed=230)
    model = predictive.model_train(tenant.pk)
    headers = bearer(manager)
    listed = client.get("/api/v1/score-models", headers=headers)
    assert listed.status_code == 200
    (row,) = listed.json()
    assert row["id"] == model.pk and row["state"] == "ready" and row["holdout_rows"] == model.holdout_rows
    assert row["metrics"]["roc_auc"] == model.metrics["roc_auc"] and "parameters" not in row
    detail = client.get(f"/api/v1/score-models/{model.pk}", headers=headers).json()
    assert detail["parameters"]["features"] == model.parameters["features"]
    assert len(detail["metrics"]["calibration"]) == 10


def test_train_queues_and_trains(client, tenant, admin, django_capture_on_commit_callbacks):
    history(tenant, closed=230)
    headers = bearer(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/score-models/train", headers=headers)
    assert response.status_code == 202, response.json()
    assert response.json()["state"] == "training" and response.json()["version"] == 1
    assert ScoreModel.objects.get().state == ScoreModel.State.READY


def test_train_with_too_little_history_is_422_and_writes_nothing(client, tenant, admin):
    history(tenant, closed=57)
    response = client.post("/api/v1/score-models/train", headers=bearer(admin))
    assert response.status_code == 422
    assert "57 closed leads" in response.json()["detail"]
    assert not ScoreModel.objects.exists()


def test_train_while_training_is_409(client, tenant, admin):
    history(tenant, closed=230)
    ScoreModel.objects.create(tenant=tenant, version=1)
    assert client.post("/api/v1/score-models/train", headers=bearer(admin)).status_code == 409
    assert ScoreModel.objects.count() == 1


def test_activate_then_deactivate(client, tenant, admin, django_capture_on_commit_callbacks):
    history(tenant, closed=230, open_leads=4)
    first = predictive.model_train(tenant.pk)
    second = predictive.model_train(tenant.pk)
    headers = bearer(admin)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/v1/score-models/{first.pk}/activate", headers=headers).json()["state"] == "active"
        response = client.post(f"/api/v1/score-models/{second.pk}/activate", headers=headers)
    assert response.status_code == 200 and response.json()["activated_at"]
    first.refresh_from_db()
    assert first.state == ScoreModel.State.RETIRED
    assert set(Lead.objects.exclude(status__in=CLOSED).values_list("score_model", flat=True)) == {second.pk}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/score-models/{second.pk}/deactivate", headers=headers)
    assert response.json()["state"] == "retired"
    assert not Lead.objects.filter(score_model__isnull=False).exclude(status__in=CLOSED).exists()


def test_activating_a_failed_version_is_422(client, tenant, admin):
    failed = ScoreModel.objects.create(tenant=tenant, version=1, state=ScoreModel.State.FAILED)
    response = client.post(f"/api/v1/score-models/{failed.pk}/activate", headers=bearer(admin))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "state"
    assert client.post(f"/api/v1/score-models/{failed.pk}/deactivate", headers=bearer(admin)).status_code == 422


@pytest.mark.parametrize("role", ["marketing", "sales", "agent", "partner_user", "privacy"])
def test_other_roles_get_404(client, request, tenant, role):
    history(tenant, closed=230)
    model = ScoreModel.objects.create(tenant=tenant, version=1, state=ScoreModel.State.READY)
    headers = bearer(request.getfixturevalue(role))
    assert client.get("/api/v1/score-models", headers=headers).status_code == 404
    assert client.get(f"/api/v1/score-models/{model.pk}", headers=headers).status_code == 404
    assert client.post("/api/v1/score-models/train", headers=headers).status_code == 404
    assert client.post(f"/api/v1/score-models/{model.pk}/activate", headers=headers).status_code == 404
    assert client.post(f"/api/v1/score-models/{model.pk}/deactivate", headers=headers).status_code == 404
    assert ScoreModel.objects.count() == 1
    model.refresh_from_db()
    assert model.state == ScoreModel.State.READY


def test_another_tenant_sees_none_of_it(client, tenant, outsider):
    model = ScoreModel.objects.create(tenant=tenant, version=1, state=ScoreModel.State.ACTIVE)
    headers = bearer(outsider)
    assert client.get("/api/v1/score-models", headers=headers).json() == []
    assert client.get(f"/api/v1/score-models/{model.pk}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/score-models/{model.pk}/deactivate", headers=headers).status_code == 404
    model.refresh_from_db()
    assert model.state == ScoreModel.State.ACTIVE
