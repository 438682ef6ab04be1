"""The demo's predictive model: trained and activated when the history allows, idempotent, removable."""

from __future__ import annotations

from leadwerk.demo.model import model_delete, model_load
from leadwerk.leads.models import Lead, ScoreModel
from leadwerk.leads.states import CLOSED
from leadwerk.leads.tests.predictive_data import history


def test_model_load_trains_activates_and_scores_open_leads(tenant):
    history(tenant, closed=230, open_leads=6)
    model = model_load(tenant)
    assert model.state == ScoreModel.State.ACTIVE and model.version == 1
    open_leads = Lead.objects.exclude(status__in=CLOSED)
    assert open_leads.filter(score_model=model, probability__isnull=False).count() == 6
    assert model_load(tenant) == model and ScoreModel.objects.count() == 1
    model_delete([tenant])
    assert not ScoreModel.objects.exists()


def test_model_load_with_short_history_leaves_the_rules_alone(tenant):
    history(tenant, closed=40)
    assert model_load(tenant) is None
    assert not ScoreModel.objects.exists()
