"""The predictive model through its services: data checks, time holdout, metrics, prediction, activation."""

from __future__ import annotations

import math

import pytest
from django.db.models import Max, Min

from leadwerk.accounts.models import AuditEntry
from leadwerk.core.exceptions import Conflict, NotFound, ValidationFailed
from leadwerk.leads import predictive
from leadwerk.leads.models import Lead, QualificationQuestion, ScoreModel, ScoringSettings
from leadwerk.leads.states import CLOSED, Status

from .predictive_data import history


def test_training_refuses_with_too_few_closed_leads_and_writes_nothing(tenant):
    history(tenant, closed=150)
    with pytest.raises(ValidationFailed, match="150 closed leads; 200 are needed"):
        predictive.model_train(tenant.pk)
    assert not ScoreModel.objects.exists()


def test_training_refuses_with_too_few_of_one_outcome(tenant):
    history(tenant, closed=220, won_share=0.08)
    won = Lead.objects.filter(status=Status.WON).count()
    assert won < 40
    with pytest.raises(ValidationFailed, match=f"{won} won and {220 - won} lost"):
        predictive.model_train(tenant.pk)
    assert not ScoreModel.objects.exists()


def test_holdout_is_the_newest_fifth_and_strictly_newer_than_training(tenant):
    history(tenant, closed=250)
    model = predictive.model_train(tenant.pk)
    assert model.state == ScoreModel.State.READY and model.version == 1
    assert model.train_rows + model.holdout_rows == 250
    assert model.holdout_rows == 50
    train = Lead.objects.filter(status__in=CLOSED, closed_at__lt=model.holdout_from)
    holdout = Lead.objects.filter(status__in=CLOSED, closed_at__gte=model.holdout_from)
    assert train.count() == model.train_rows and holdout.count() == model.holdout_rows
    assert train.aggregate(m=Max("closed_at"))["m"] < holdout.aggregate(m=Min("closed_at"))["m"]
    assert model.metrics["holdout_won"] + model.metrics["holdout_lost"] == model.holdout_rows
    assert model.metrics["train_won"] + model.metrics["train_lost"] == model.train_rows


def test_time_split_keeps_ties_at_the_cut_together():
    closed_at = [1, 2, 3, 4, 5, 6, 7, 8, 8, 9]
    first, cut = predictive.time_split(closed_at)
    assert (first, cut) == (7, 8)  # both 8s are held out, so training is strictly older
    assert max(closed_at[:first]) < min(closed_at[first:])


def test_metrics_come_from_the_holdout_only(tenant):
    """'tip' is the outcome in the training period and random afterwards: a model measured on its training data
    would be perfect; measured on the holdout it is not."""
    QualificationQuestion.objects.create(tenant=tenant, key="tip", label="Tip from a customer?", kind="choice")
    history(tenant, closed=300, leak=True, seed=7)
    model = predictive.model_train(tenant.pk)
    weights = dict(zip(model.parameters["features"], model.parameters["coefficients"], strict=True))
    assert weights["q_tip=yes"] - weights["q_tip=no"] > 2  # it learned the leak …
    assert model.metrics["roc_auc"] < 0.9  # … and the holdout shows it does not hold
    features, labels, _closed = predictive.training_rows(tenant.pk)
    train_probabilities = [predictive.predict_raw(model.parameters, f)[0] for f in features[: model.train_rows]]
    in_sample = predictive.evaluate(train_probabilities, labels[: model.train_rows])
    assert in_sample["roc_auc"] > 0.99  # the same model on its own training data: "perfect"


def test_metrics_have_auc_lift_brier_and_ten_calibration_bins(tenant):
    history(tenant, closed=260)
    metrics = predictive.model_train(tenant.pk).metrics
    assert 0.6 < metrics["roc_auc"] <= 1
    assert metrics["lift_top_decile"] > 1
    assert 0 < metrics["brier"] < 0.25
    assert len(metrics["calibration"]) == 10
    assert sum(b["count"] for b in metrics["calibration"]) == metrics["holdout_won"] + metrics["holdout_lost"]


def test_evaluate_by_hand():
    metrics = predictive.evaluate([0.9, 0.8, 0.3, 0.2, 0.1, 0.05, 0.6, 0.4, 0.35, 0.15], [1, 1, 0, 0, 0, 0, 1, 0, 1, 0])
    assert metrics["roc_auc"] == pytest.approx(0.9583, abs=1e-4)  # 23 of 24 pairs ordered right
    assert metrics["lift_top_decile"] == pytest.approx(1 / 0.4)  # the top 1 of 10 won; base rate 40 %
    assert metrics["brier"] == pytest.approx(0.09575, abs=1e-4)
    bin_8 = metrics["calibration"][8]  # 0.8 ≤ p < 0.9
    assert bin_8 == {"from": 0.8, "to": 0.9, "count": 1, "predicted": 0.8, "observed": 1.0}
    assert metrics["calibration"][9]["count"] == 1  # p = 0.9 falls in the last bin


def test_predict_raw_equals_sklearn_predict_proba(tenant):
    QualificationQuestion.objects.create(tenant=tenant, key="tip", label="Tip?", kind="choice")
    QualificationQuestion.objects.create(tenant=tenant, key="fleet", label="Fleet size", kind="number")
    history(tenant, closed=240, leak=True)
    features, labels, _closed = predictive.training_rows(tenant.pk)
    for i, row in enumerate(features):
        row["q_fleet"] = math.log1p(i % 7)
    params, pipeline = predictive.fit(features[:200], labels[:200])
    expected = pipeline.predict_proba(predictive.as_matrix(params, features))[:, 1]
    ours = [predictive.predict_raw(params, row)[0] for row in features]
    assert ours == pytest.approx(list(expected), abs=1e-9)
    unseen = dict(features[0], source="a fair nobody saw", country="ZZ")
    assert predictive.predict_raw(params, unseen)[0] == pytest.approx(
        pipeline.predict_proba(predictive.as_matrix(params, [unseen]))[0, 1], abs=1e-9
    )


def test_predict_one_on_a_lead_matches_its_training_row_and_explains_itself(tenant):
    history(tenant, closed=240)
    model = predictive.model_train(tenant.pk)
    features, _labels, _closed = predictive.training_rows(tenant.pk)
    lead = Lead.objects.filter(status__in=CLOSED).order_by("closed_at", "id").select_related("person")[3]
    probability, factors = predictive.predict_one(model, lead)
    assert probability == pytest.approx(predictive.predict_raw(model.parameters, features[3])[0], abs=1e-12)
    assert 0 < len(factors) <= 10
    assert [abs(f["effect"]) for f in factors] == sorted((abs(f["effect"]) for f in factors), reverse=True)
    weights = dict(zip(model.parameters["features"], model.parameters["coefficients"], strict=True))
    rating = next(f for f in factors if f["feature"] == "rating") if lead.rating else None
    if rating:
        assert rating["effect"] == pytest.approx(weights[f"rating={lead.rating}"], abs=1e-4)


def _activate(model, by, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return predictive.model_activate(model, by)


def test_activation_flips_states_and_scores_open_leads(tenant, admin, django_capture_on_commit_callbacks):
    history(tenant, closed=240, open_leads=12)
    first = predictive.model_train(tenant.pk, by=admin)
    second = predictive.model_train(tenant.pk, by=admin)
    assert (first.version, second.version) == (1, 2)
    _activate(first, admin, django_capture_on_commit_callbacks)
    assert predictive.active_model(tenant.pk) == first
    _activate(second, admin, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == (ScoreModel.State.RETIRED, ScoreModel.State.ACTIVE)
    assert second.activated_at is not None
    open_leads = Lead.objects.exclude(status__in=CLOSED)
    assert open_leads.count() == 12
    for lead in open_leads.select_related("person", "organization", "interest"):
        assert lead.score_model_id == second.pk
        probability, factors = predictive.predict_one(second, lead)
        assert lead.probability == pytest.approx(probability, abs=1e-4)
        assert lead.probability_factors[0]["column"] == factors[0]["column"]
    assert not Lead.objects.filter(status__in=CLOSED, probability__isnull=False).exists()
    assert AuditEntry.objects.filter(object_repr="Predictive model version 2 activated").exists()

    with django_capture_on_commit_callbacks(execute=True):
        predictive.model_deactivate(second, admin)
    second.refresh_from_db()
    assert second.state == ScoreModel.State.RETIRED and predictive.active_model(tenant.pk) is None
    assert not Lead.objects.filter(probability__isnull=False).exists()
    assert AuditEntry.objects.filter(object_repr="Predictive model version 2 deactivated").exists()


def test_model_driven_grade_follows_the_probability(tenant, admin, django_capture_on_commit_callbacks):
    history(tenant, closed=240, open_leads=10)
    ScoringSettings.objects.create(tenant=tenant, driver=ScoringSettings.Driver.MODEL)
    model = predictive.model_train(tenant.pk)
    _activate(model, admin, django_capture_on_commit_callbacks)
    settings = ScoringSettings.objects.get(tenant=tenant)
    for lead in Lead.objects.exclude(status__in=CLOSED):
        assert lead.grade == predictive.grade_for(lead.probability, settings)


def test_only_trained_versions_can_be_activated_and_only_active_deactivated(tenant, admin):
    failed = ScoreModel.objects.create(tenant=tenant, version=1, state=ScoreModel.State.FAILED)
    with pytest.raises(ValidationFailed):
        predictive.model_activate(failed, admin)
    ready = ScoreModel.objects.create(tenant=tenant, version=2, state=ScoreModel.State.READY)
    with pytest.raises(ValidationFailed):
        predictive.model_deactivate(ready, admin)


@pytest.mark.parametrize("role", ["marketing", "sales", "agent", "partner_user", "privacy"])
def test_only_admins_and_managers_train_and_activate(request, tenant, role):
    member = request.getfixturevalue(role)
    ready = ScoreModel.objects.create(tenant=tenant, version=1, state=ScoreModel.State.READY)
    with pytest.raises(NotFound):
        predictive.model_train_request(by=member)
    with pytest.raises(NotFound):
        predictive.model_activate(ready, member)
    ready.refresh_from_db()
    assert ready.state == ScoreModel.State.READY


def test_another_tenants_admin_cannot_activate(tenant, outsider):
    ready = ScoreModel.objects.create(tenant=tenant, version=1, state=ScoreModel.State.READY)
    with pytest.raises(NotFound):
        predictive.model_activate(ready, outsider)


def test_train_request_queues_a_version_that_the_task_trains(tenant, manager, django_capture_on_commit_callbacks):
    history(tenant, closed=230)
    with django_capture_on_commit_callbacks(execute=True):
        queued = predictive.model_train_request(by=manager)
    queued.refresh_from_db()
    assert queued.state == ScoreModel.State.READY and queued.trained_by == manager
    assert queued.parameters["features"] and queued.metrics["roc_auc"] is not None


def test_train_request_when_short_is_a_field_free_422_and_writes_nothing(tenant, manager):
    history(tenant, closed=57)
    with pytest.raises(ValidationFailed, match="57 closed leads"):
        predictive.model_train_request(by=manager)
    assert not ScoreModel.objects.exists()


def test_one_training_at_a_time(tenant, manager):
    history(tenant, closed=230)
    ScoreModel.objects.create(tenant=tenant, version=1, state=ScoreModel.State.TRAINING)
    with pytest.raises(Conflict):
        predictive.model_train_request(by=manager)


def test_failed_training_is_marked_failed_with_the_message(tenant, manager, monkeypatch):
    history(tenant, closed=230)
    queued = ScoreModel.objects.create(tenant=tenant, version=1, trained_by=manager)

    def broken(*args, **kwargs):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(predictive, "fit", broken)
    result = predictive.model_train_run(tenant_id=tenant.pk, model_id=queued.pk)
    assert result.state == ScoreModel.State.FAILED
    assert "solver exploded" in result.message
    assert predictive.active_model(tenant.pk) is None


def test_weekly_retrain_trains_but_does_not_activate(tenant, other_tenant):
    history(tenant, closed=230)
    history(other_tenant, closed=30)
    trained = predictive.model_retrain_all()
    assert [m.tenant_id for m in ScoreModel.objects.filter(pk__in=trained)] == [tenant.pk]
    assert ScoreModel.objects.get().state == ScoreModel.State.READY


def test_wz_sections():
    assert [predictive.wz_section(c) for c in ("29.10", "62.01", "01.1", "x", "")] == ["C", "J", "A", "", ""]


def test_rule_scoring_asks_the_active_model_for_each_lead(tenant, admin, django_capture_on_commit_callbacks):
    from leadwerk.leads import scoring

    history(tenant, closed=230, open_leads=1)
    model = predictive.model_train(tenant.pk)
    _activate(model, admin, django_capture_on_commit_callbacks)
    lead = Lead.objects.exclude(status__in=CLOSED).get()
    Lead.objects.filter(pk=lead.pk).update(probability=None, probability_factors=[], score_model=None)
    scoring.lead_score(lead)
    lead = Lead.objects.select_related("person", "organization", "interest").get(pk=lead.pk)
    probability, factors = predictive.predict_one(model, lead)
    assert lead.score_model == model
    assert lead.probability == pytest.approx(probability) and lead.probability_factors == factors
