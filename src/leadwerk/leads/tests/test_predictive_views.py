"""The predictive model's screen and the probability on the lead page, as each role and tenant sees them."""

from __future__ import annotations

import pytest
from conftest import login

from leadwerk.leads import predictive
from leadwerk.leads.models import Lead, ScoreModel
from leadwerk.leads.states import CLOSED

from .predictive_data import history


def url(tenant, name="", pk=None):
    base = f"/{tenant.slug}/leads/settings/model/"
    return base + (f"{pk}/{name}/" if pk else (f"{name}/" if name else ""))


def test_empty_state_says_how_many_closed_leads_there_are(client, tenant, admin):
    history(tenant, closed=57)
    page = login(client, admin).get(url(tenant))
    assert page.status_code == 200
    text = page.content.decode()
    assert "You have 57 closed leads; 200 are needed" in text
    assert 'data-testid="train-now"' not in text
    assert "No version has been trained yet." in text


def test_settings_page_links_the_model_screen(client, tenant, manager):
    page = login(client, manager).get(f"/{tenant.slug}/leads/settings/")
    assert url(tenant) in page.content.decode()


def test_versions_with_holdout_metrics_and_calibration(client, tenant, manager):
    history(tenant, closed=240)
    model = predictive.model_train(tenant.pk, by=manager)
    page = login(client, manager).get(url(tenant))
    text = page.content.decode()
    assert page.status_code == 200
    assert f"{model.metrics['roc_auc']:.2f}" in text
    assert "newest 20 %" in text and 'class="calibration-chart"' in text
    assert text.count('class="bar-observed"') == 10
    assert f'data-testid="activate-{model.version}"' in text


def test_the_calibration_chart_draws_in_german(client, tenant, manager):
    """SVG coordinates take a decimal point: a German "28,5" left the chart empty."""
    import re

    history(tenant, closed=240)
    predictive.model_train(tenant.pk, by=manager)
    manager.user.language = "de"
    manager.user.save(update_fields=["language"])
    text = login(client, manager).get(url(tenant)).content.decode()
    start = text.index('class="calibration-chart"')
    chart = text[start : text.index("</svg>", start)]
    numbers = re.findall(r' (?:x|y|x1|y1|x2|y2|width|height)="([^"]*)"', chart)
    assert len(numbers) > 40
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", n) for n in numbers), numbers


def test_train_now_queues_and_trains(client, tenant, admin, django_capture_on_commit_callbacks):
    history(tenant, closed=230)
    login(client, admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(tenant, "train"))
    assert response.status_code == 302
    model = ScoreModel.objects.get()
    assert model.state == ScoreModel.State.READY and model.trained_by == admin


def test_train_now_when_short_shows_the_reason_and_creates_nothing(client, tenant, admin):
    history(tenant, closed=80)
    page = login(client, admin).post(url(tenant, "train"), follow=True)
    assert "You have 80 closed leads" in page.content.decode()
    assert not ScoreModel.objects.exists()


def test_status_polls_while_training_and_reloads_when_done(client, tenant, admin):
    history(tenant, closed=30)
    training = ScoreModel.objects.create(tenant=tenant, version=1, message="Fitting")
    login(client, admin)
    card = client.get(url(tenant, "status") + "?was=training", headers={"HX-Request": "true"})
    assert card.status_code == 200 and 'hx-trigger="every 2s"' in card.content.decode()
    training.state = ScoreModel.State.READY
    training.save()
    done = client.get(url(tenant, "status") + "?was=training", headers={"HX-Request": "true"})
    assert done.status_code == 204 and done["HX-Refresh"] == "true"


def test_activate_and_deactivate_from_the_screen(client, tenant, admin, django_capture_on_commit_callbacks):
    history(tenant, closed=230, open_leads=5)
    model = predictive.model_train(tenant.pk)
    login(client, admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(tenant, "activate", model.pk))
    model.refresh_from_db()
    assert model.state == ScoreModel.State.ACTIVE
    assert Lead.objects.exclude(status__in=CLOSED).filter(score_model=model).count() == 5
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(tenant, "deactivate", model.pk))
    model.refresh_from_db()
    assert model.state == ScoreModel.State.RETIRED


@pytest.mark.parametrize("role", ["marketing", "sales", "agent", "partner_user", "privacy"])
def test_other_roles_get_404_everywhere(client, request, tenant, role):
    member = request.getfixturevalue(role)
    model = ScoreModel.objects.create(tenant=tenant, version=1, state=ScoreModel.State.READY)
    login(client, member)
    assert client.get(url(tenant)).status_code == 404
    assert client.get(url(tenant, "status")).status_code == 404
    assert client.post(url(tenant, "train")).status_code == 404
    assert client.post(url(tenant, "activate", model.pk)).status_code == 404
    model.refresh_from_db()
    assert model.state == ScoreModel.State.READY


def test_another_tenant_gets_404_for_the_screen_and_the_versions(client, tenant, other_tenant, outsider, admin):
    model = ScoreModel.objects.create(tenant=tenant, version=1, state=ScoreModel.State.READY)
    login(client, outsider)
    assert client.get(url(tenant)).status_code == 404
    # Its own screen does not reach the other tenant's version either.
    assert client.post(url(other_tenant, "activate", model.pk)).status_code == 404
    assert client.post(url(other_tenant, "deactivate", model.pk)).status_code == 404
    assert client.get(url(other_tenant) + f"?version={model.pk}").status_code == 404
    model.refresh_from_db()
    assert model.state == ScoreModel.State.READY


def test_lead_page_shows_probability_and_strongest_factors(client, tenant, manager, django_capture_on_commit_callbacks):
    history(tenant, closed=230, open_leads=3)
    model = predictive.model_train(tenant.pk)
    with django_capture_on_commit_callbacks(execute=True):
        predictive.model_activate(model, manager)
    lead = Lead.objects.exclude(status__in=CLOSED).first()
    page = login(client, manager).get(f"/{tenant.slug}/leads/{lead.pk}/")
    text = page.content.decode()
    assert 'data-testid="probability"' in text
    shown = f"{round(lead.probability * 100)} %"
    if not 0.005 <= lead.probability <= 0.995:
        shown = "under 1 %" if lead.probability < 0.005 else "over 99 %"
    assert shown in text
    assert "Raises it" in text and "Lowers it" in text
    top = predictive.factor_text(lead.probability_factors[0])
    assert f"{top[0]}: <strong>{top[1]}</strong>" in text


def test_lead_page_without_probability_has_no_card(client, tenant, manager):
    history(tenant, closed=0, open_leads=1)
    lead = Lead.objects.get()
    page = login(client, manager).get(f"/{tenant.slug}/leads/{lead.pk}/")
    assert page.status_code == 200 and 'data-testid="probability"' not in page.content.decode()
