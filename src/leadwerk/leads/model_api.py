"""API of the predictive model: versions with their holdout metrics, train, activate, deactivate.

Admins and managers only; everyone else (and every other tenant) gets 404. Same services as the screen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from . import predictive
from .models import ScoreModel
from .roles import LEAD_ADMINS

router = Router(tags=["predictive scoring"])


class ScoreModelOut(Schema):
    id: int
    version: int
    state: str = Field(description="training, ready, active, retired or failed.")
    trained_at: datetime | None
    trained_by_id: int | None = Field(description="Membership that started the training; null for the weekly run.")
    activated_at: datetime | None
    train_rows: int = Field(description="Closed leads the model learned from (all closed before holdout_from).")
    holdout_rows: int = Field(description="The newest 20 % of closed leads, never seen in training.")
    holdout_from: datetime | None
    metrics: dict[str, Any] = Field(
        description="On the holdout only: roc_auc, lift_top_decile, top_decile_rate, base_rate, brier, "
        "calibration (10 bins: from, to, count, predicted, observed), holdout_won/lost, train_won/lost."
    )
    message: str = Field(description="Progress while training; the reason when failed.")


class ScoreModelDetail(ScoreModelOut):
    parameters: dict[str, Any] = Field(
        description="The logistic regression: categorical (categories per feature), numeric ([mean, scale]), "
        "features (column order), coefficients, intercept, source_top, questions."
    )


def _models(request: HttpRequest):
    if request.membership.role not in LEAD_ADMINS:
        raise Http404
    return ScoreModel.objects.visible_to(request.membership)


def _model(request: HttpRequest, model_id: int) -> ScoreModel:
    return get_object_or_404(_models(request), pk=model_id)


@router.get("/score-models", response=list[ScoreModelOut], summary="Model versions, newest first")
def score_model_list(request: HttpRequest):
    return list(_models(request).order_by("-version"))


@router.post(
    "/score-models/train",
    response={202: ScoreModelOut},
    summary="Queue training of a new version (422 when there are too few closed leads, 409 while one trains)",
)
def score_model_train(request: HttpRequest):
    _models(request)
    return Status(202, predictive.model_train_request(by=request.membership))


@router.get("/score-models/{model_id}", response=ScoreModelDetail)
def score_model_detail(request: HttpRequest, model_id: int):
    return _model(request, model_id)


@router.post(
    "/score-models/{model_id}/activate",
    response=ScoreModelOut,
    summary="Use this version; the previous one is retired and open leads are rescored in the background",
)
def score_model_activate(request: HttpRequest, model_id: int):
    return predictive.model_activate(_model(request, model_id), request.membership)


@router.post(
    "/score-models/{model_id}/deactivate",
    response=ScoreModelOut,
    summary="Stop using the active version; the rules alone grade leads again",
)
def score_model_deactivate(request: HttpRequest, model_id: int):
    return predictive.model_deactivate(_model(request, model_id), request.membership)
