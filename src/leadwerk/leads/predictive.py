"""Predictive scoring: a per-tenant model of won vs. lost, trained on closed leads (see ScoreModel).

The model is a logistic regression over one-hot encoded categories and standardised numbers. It is stored as
plain JSON parameters in ``ScoreModel.parameters`` (no pickle) and evaluated here in plain Python, so each
factor of a prediction is explainable as coefficient × value:

    {"format": 1,
     "categorical": {"channel": ["email", "web_form", …], …},   # known categories per categorical feature
     "numeric": {"log_budget": [mean, scale], …},                # standardisation per numeric feature
     "features": ["channel=email", …, "log_budget", …],          # column order of the coefficients
     "coefficients": [..], "intercept": float,
     "source_top": [..], "questions": {key: kind}}
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from typing import Any

from django.db import connections, transaction
from django.db.models import Count, F, FloatField, Max, Q
from django.db.models.functions import Cast
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from leadwerk.accounts.models import Membership
from leadwerk.core.exceptions import Conflict, NotFound, ValidationFailed
from leadwerk.core.memo import memoized

from . import states
from .models import Lead, LeadEvent, QualificationQuestion, ScoreModel, ScoringSettings
from .roles import LEAD_ADMINS

logger = logging.getLogger(__name__)

FORMAT = 1
OTHER = "__other__"


@memoized
def active_model(tenant_id: int) -> ScoreModel | None:
    """The tenant's active model version, or None while rules alone drive the grade."""
    return ScoreModel.objects.filter(tenant_id=tenant_id, state=ScoreModel.State.ACTIVE).first()


# --- features -------------------------------------------------------------------------------------------------

# WZ 2008 division (first two digits) → section letter.
_WZ_SECTIONS = (
    (1, 3, "A"), (5, 9, "B"), (10, 33, "C"), (35, 35, "D"), (36, 39, "E"), (41, 43, "F"), (45, 47, "G"),
    (49, 53, "H"), (55, 56, "I"), (58, 63, "J"), (64, 66, "K"), (68, 68, "L"), (69, 75, "M"), (77, 82, "N"),
    (84, 84, "O"), (85, 85, "P"), (86, 88, "Q"), (90, 93, "R"), (94, 96, "S"), (97, 98, "T"), (99, 99, "U"),
)  # fmt: skip


def wz_section(code: str) -> str:
    digits = "".join(ch for ch in (code or "")[:2] if ch.isdigit())
    if len(digits) != 2:
        return ""
    division = int(digits)
    for low, high, letter in _WZ_SECTIONS:
        if low <= division <= high:
            return letter
    return ""


def _log(value: Any) -> float:
    try:
        number = float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0
    return math.log1p(max(number, 0.0))


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


# The lead, person and organisation values the features are made of (``values()`` names, so training reads them
# in one query; a single lead is mapped to the same names by ``_row_of``).
ROW_FIELDS = (
    "id", "closed_at", "status", "channel", "source", "interest__key", "rating", "timeline", "authority", "budget",
    "estimated_value", "qualification", "organization__employees", "organization__revenue",
    "organization__industry_code", "organization__country", "person__country", "person__consent_email",
    "person__email", "person__phone", "person__mobile",
)  # fmt: skip


def _row_of(lead: Lead) -> dict[str, Any]:
    person, org = lead.person, lead.organization
    return {
        "id": lead.pk, "closed_at": lead.closed_at, "status": lead.status, "channel": lead.channel,
        "source": lead.source, "interest__key": lead.interest.key if lead.interest_id else None,
        "rating": lead.rating, "timeline": lead.timeline, "authority": lead.authority, "budget": lead.budget,
        "estimated_value": lead.estimated_value, "qualification": lead.qualification,
        "organization__employees": org.employees if org else None,
        "organization__revenue": org.revenue if org else None,
        "organization__industry_code": org.industry_code if org else None,
        "organization__country": org.country if org else None,
        "person__country": person.country, "person__consent_email": person.consent_email,
        "person__email": person.email, "person__phone": person.phone, "person__mobile": person.mobile,
    }  # fmt: skip


def row_features(
    row: dict[str, Any], *, responses: int = 0, activities: int = 0, questions: dict[str, str] | None = None
) -> dict[str, Any]:
    """The raw feature values of one lead row (categories as strings, numbers as floats).

    ``responses``/``activities`` are the engagement counts before close (so far for an open lead). ``questions``
    maps the tenant's qualification question keys to their kind.
    """
    features: dict[str, Any] = {
        "channel": row["channel"] or "",
        "source": (row["source"] or "").strip().lower(),
        "interest": row["interest__key"] or "",
        "rating": row["rating"] or "",
        "timeline": row["timeline"] or "",
        "authority": _yes_no(row["authority"]),
        "employees": row["organization__employees"] or "",
        "revenue": row["organization__revenue"] or "",
        "wz_section": wz_section(row["organization__industry_code"] or ""),
        "country": row["organization__country"] or row["person__country"] or "",
        "consent_email": row["person__consent_email"] or "",
        "has_budget": 1.0 if row["budget"] is not None else 0.0,
        "log_budget": _log(row["budget"]),
        "has_value": 1.0 if row["estimated_value"] is not None else 0.0,
        "log_value": _log(row["estimated_value"]),
        "has_email": 1.0 if row["person__email"] else 0.0,
        "has_phone": 1.0 if (row["person__phone"] or row["person__mobile"]) else 0.0,
        "log_responses": _log(responses),
        "log_activities": _log(activities),
    }
    answers = row["qualification"] if isinstance(row["qualification"], dict) else {}
    for key, kind in (questions or {}).items():
        value = answers.get(key)
        if kind == "number":
            features[f"q_{key}"] = _log(value)
        elif kind in ("bool", "choice"):
            features[f"q_{key}"] = "" if value in (None, "") else str(value).lower()
        elif kind == "multi":
            features[f"q_{key}"] = _log(len(value)) if isinstance(value, list) else 0.0
        else:
            features[f"q_{key}"] = "" if value in (None, "") else "answered"
    return features


def lead_features(
    lead: Lead, *, responses: int | None = None, activities: int | None = None, questions: dict[str, str] | None = None
) -> dict[str, Any]:
    """``row_features`` of one lead instance; counts its engagement unless given."""
    if responses is None or activities is None:
        counts = engagement_counts(lead.tenant_id, lead_ids=[lead.pk])
        responses, activities = counts.get(lead.pk, (0, 0))
    return row_features(_row_of(lead), responses=responses, activities=activities, questions=questions)


def engagement_counts(tenant_id: int, *, lead_ids: list[int] | None = None, closed: bool | None = None) -> dict:
    """lead id → (responses, activities) before the lead closed (all so far while open). Two grouped queries."""
    from .models import Activity, LeadEvent

    before_close = Q(lead__closed_at__isnull=True) | Q(at__lt=F("lead__closed_at"))
    scope = Q(tenant_id=tenant_id)
    if lead_ids is not None:
        scope &= Q(lead_id__in=lead_ids)
    if closed is not None:
        scope &= Q(lead__status__in=states.CLOSED) if closed else ~Q(lead__status__in=states.CLOSED)
    counts: dict[int, list[int]] = {}
    responses = LeadEvent.objects.filter(scope, before_close, kind=LeadEvent.Kind.RESPONSE)
    for lead_id, n in responses.values("lead_id").annotate(n=Count("id")).values_list("lead_id", "n"):
        counts.setdefault(lead_id, [0, 0])[0] = n
    activities = Activity.objects.filter(scope, before_close)
    for lead_id, n in activities.values("lead_id").annotate(n=Count("id")).values_list("lead_id", "n"):
        counts.setdefault(lead_id, [0, 0])[1] = n
    return {lead_id: (r, a) for lead_id, (r, a) in counts.items()}


def tenant_questions(tenant_id: int) -> dict[str, str]:
    """The tenant's active qualification questions: key → kind."""
    return dict(
        QualificationQuestion.objects.filter(tenant_id=tenant_id, active=True)
        .order_by("position", "id")
        .values_list("key", "kind")
    )


# --- prediction from the stored parameters ------------------------------------------------------------------


def _vector(params: dict, raw: dict[str, Any]) -> list[tuple[str, str, Any, float]]:
    """(feature column, group, raw value, encoded value) for every non-zero column."""
    top = set(params.get("source_top") or [])
    out: list[tuple[str, str, Any, float]] = []
    for group, categories in params["categorical"].items():
        value = raw.get(group, "")
        if group == "source" and value and value not in top:
            value = OTHER
        value = "" if value is None else str(value)
        if value in categories:
            out.append((f"{group}={value}", group, value, 1.0))
    for group, (mean, scale) in params["numeric"].items():
        value = float(raw.get(group) or 0.0)
        out.append((group, group, value, (value - mean) / (scale or 1.0)))
    return out


def predict_raw(params: dict, raw: dict[str, Any]) -> tuple[float, list[dict]]:
    """Probability and the factors (coefficient × value) for one row of raw features."""
    weights = dict(zip(params["features"], params["coefficients"], strict=True))
    logit = float(params["intercept"])
    factors = []
    for column, group, value, x in _vector(params, raw):
        effect = weights.get(column, 0.0) * x
        logit += effect
        if effect:
            factors.append({"feature": group, "value": value, "column": column, "effect": round(effect, 4)})
    probability = 1.0 / (1.0 + math.exp(-max(min(logit, 35.0), -35.0)))
    factors.sort(key=lambda f: -abs(f["effect"]))
    return probability, factors


def predict_one(model: ScoreModel, lead: Lead, **counts: int) -> tuple[float, list[dict]]:
    """The model's conversion probability for one lead and its strongest factors, strongest first.

    Each factor is ``{"feature", "value", "column", "effect"}``; ``effect`` is the contribution to the log-odds
    (positive raises the probability). At most the ten strongest are returned.
    """
    params = model.parameters
    raw = lead_features(lead, questions=params.get("questions") or {}, **counts)
    probability, factors = predict_raw(params, raw)
    return probability, factors[:10]


# --- training --------------------------------------------------------------------------------------------------

MIN_CLOSED = 200
MIN_PER_CLASS = 40
HOLDOUT_SHARE = 0.2
SOURCE_TOP = 20
CATEGORICAL = (
    "channel", "source", "interest", "rating", "timeline", "authority", "employees", "revenue", "wz_section",
    "country", "consent_email",
)  # fmt: skip
NUMERIC = (
    "has_budget", "log_budget", "has_value", "log_value", "has_email", "has_phone", "log_responses", "log_activities",
)  # fmt: skip
WON = frozenset({states.Status.WON})


def training_counts(tenant_id: int) -> dict[str, int]:
    """Closed leads usable for training: won (1) and lost or disqualified (0)."""
    closed = Lead.objects.filter(tenant_id=tenant_id, status__in=states.CLOSED, closed_at__isnull=False)
    won = closed.filter(status__in=WON).count()
    total = closed.count()
    return {"closed": total, "won": won, "lost": total - won}


def training_shortfall(counts: dict[str, int]) -> str | None:
    """Why there is not enough history to train yet, or None."""
    if counts["closed"] < MIN_CLOSED:
        return _("You have %(closed)s closed leads; %(needed)s are needed before a model can be trained.") % {
            "closed": counts["closed"],
            "needed": MIN_CLOSED,
        }
    if min(counts["won"], counts["lost"]) < MIN_PER_CLASS:
        return _(
            "You have %(won)s won and %(lost)s lost or disqualified leads; at least %(needed)s of each are needed."
        ) % {"won": counts["won"], "lost": counts["lost"], "needed": MIN_PER_CLASS}
    return None


def training_rows(tenant_id: int) -> tuple[list[dict], list[int], list]:
    """Features, labels and close dates of every closed lead, oldest close first.

    Read with one plain cursor (no per-value ORM conversion: that was most of the time at 100,000 leads). So the
    close dates are as the database returns them (text on SQLite, datetimes on PostgreSQL), which order and
    compare correctly within one database; ``as_datetime`` turns the holdout cut into a datetime.
    """
    questions = tenant_questions(tenant_id)
    counts = engagement_counts(tenant_id, closed=True)
    # Money as float straight from the database (no Decimal per row); answers only when there are questions.
    plain = [f for f in ROW_FIELDS if f not in ("budget", "estimated_value", "qualification")]
    names = [*plain, *(["qualification"] if questions else []), "budget", "estimated_value"]
    queryset = (
        Lead.objects.filter(tenant_id=tenant_id, status__in=states.CLOSED, closed_at__isnull=False)
        .order_by("closed_at", "id")
        .annotate(budget_f=Cast("budget", FloatField()), value_f=Cast("estimated_value", FloatField()))
        .values_list(*names[:-2], "budget_f", "value_f")  # annotations last: the SQL's column order
    )
    sql, params = queryset.query.sql_with_params()
    features, labels, closed_at = [], [], []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(5000):
            for values in batch:
                row = dict(zip(names, values, strict=True))
                answers = row.get("qualification")
                row["qualification"] = json.loads(answers) if isinstance(answers, str) else answers
                responses, activities = counts.get(row["id"], (0, 0))
                features.append(row_features(row, responses=responses, activities=activities, questions=questions))
                labels.append(1 if row["status"] in WON else 0)
                closed_at.append(row["closed_at"])
    return features, labels, closed_at


def as_datetime(value: Any) -> dt.datetime:
    """A close date read by ``training_rows`` as a timezone-aware datetime."""
    if isinstance(value, str):
        value = parse_datetime(value)
    # SQLite hands back naive UTC (text or, with its type detection, datetimes); PostgreSQL aware datetimes.
    return value if timezone.is_aware(value) else timezone.make_aware(value, dt.UTC)


def time_split(closed_at: list, share: float = HOLDOUT_SHARE) -> tuple[int, Any]:
    """Index of the first holdout row (rows sorted by close) and its close time.

    Every lead closed at or after that time is held out, so training data is strictly older than the holdout.
    """
    n = len(closed_at)
    cut = closed_at[n - max(1, math.ceil(n * share))]
    first = next(i for i, at in enumerate(closed_at) if at >= cut)
    return first, cut


def _columns(features: list[dict]) -> tuple[list[str], list[str]]:
    sample = features[0] if features else {}
    categorical = [c for c in CATEGORICAL] + sorted(
        k for k, v in sample.items() if k.startswith("q_") and isinstance(v, str)
    )
    numeric = [c for c in NUMERIC] + sorted(
        k for k, v in sample.items() if k.startswith("q_") and not isinstance(v, str)
    )
    return categorical, numeric


def _matrix(features: list[dict], categorical: list[str], numeric: list[str], source_top: set[str]):
    import numpy as np

    cat = np.empty((len(features), len(categorical)), dtype=object)
    num = np.zeros((len(features), len(numeric)), dtype=float)
    for i, row in enumerate(features):
        for j, name in enumerate(categorical):
            value = row.get(name, "")
            if name == "source" and value and value not in source_top:
                value = OTHER
            cat[i, j] = "" if value is None else str(value)
        for j, name in enumerate(numeric):
            num[i, j] = float(row.get(name) or 0.0)
    return cat, num


def fit(features: list[dict], labels: list[int]) -> tuple[dict, Any]:
    """Fit one-hot + scaling + logistic regression on the rows; return the JSON parameters and the fitted pipeline.

    The pipeline is returned for tests only (its ``predict_proba`` must equal ``predict_raw`` on the parameters).
    """
    from collections import Counter

    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from threadpoolctl import threadpool_limits

    categorical, numeric = _columns(features)
    sources = Counter(row["source"] for row in features if row.get("source"))
    source_top = [s for s, n in sources.most_common(SOURCE_TOP) if n >= 5]
    cat, num = _matrix(features, categorical, numeric, set(source_top))
    x = np.concatenate([cat, num.astype(object)], axis=1)
    nc = len(categorical)
    pipeline = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("cat", OneHotEncoder(handle_unknown="ignore"), list(range(nc))),
                        ("num", StandardScaler(), list(range(nc, nc + len(numeric)))),
                    ]
                ),
            ),
            ("clf", LogisticRegression(C=1.0, max_iter=2000)),
        ]
    )
    # One BLAS thread: the problem is small, and threads fighting over the (shared) cores made it 7× slower.
    with threadpool_limits(limits=1):
        pipeline.fit(x, np.asarray(labels))
    encoder = pipeline.named_steps["prep"].named_transformers_["cat"]
    scaler = pipeline.named_steps["prep"].named_transformers_["num"]
    clf = pipeline.named_steps["clf"]
    names = [f"{group}={value}" for group, cats in zip(categorical, encoder.categories_, strict=True) for value in cats]
    names += numeric
    params = {
        "format": FORMAT,
        "categorical": {g: [str(v) for v in cats] for g, cats in zip(categorical, encoder.categories_, strict=True)},
        "numeric": {
            name: [float(m), float(s)] for name, m, s in zip(numeric, scaler.mean_, scaler.scale_, strict=True)
        },
        "features": names,
        "coefficients": [float(c) for c in clf.coef_[0]],
        "intercept": float(clf.intercept_[0]),
        "source_top": source_top,
        "questions": {k[2:]: None for k in categorical + numeric if k.startswith("q_")},
    }
    return params, pipeline


def as_matrix(params: dict, features: list[dict]):
    """The rows as the fitted pipeline expects them (for comparing with sklearn)."""
    import numpy as np

    categorical, numeric = list(params["categorical"]), list(params["numeric"])
    cat, num = _matrix(features, categorical, numeric, set(params["source_top"]))
    return np.concatenate([cat, num.astype(object)], axis=1)


def evaluate(probabilities: list[float], labels: list[int]) -> dict[str, Any]:
    """Holdout metrics: ROC AUC, lift of the top decile, Brier score, calibration in 10 bins, counts."""
    import numpy as np
    from sklearn.metrics import brier_score_loss, roc_auc_score

    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(labels, dtype=int)
    n = len(y)
    base_rate = float(y.mean()) if n else 0.0
    auc = float(roc_auc_score(y, p)) if 0 < y.sum() < n else None
    top = max(1, math.ceil(n * 0.1))
    order = np.argsort(-p, kind="stable")[:top]
    top_rate = float(y[order].mean()) if n else 0.0
    bins = []
    for b in range(10):
        low, high = b / 10, (b + 1) / 10
        mask = (p >= low) & ((p < high) if b < 9 else (p <= high))
        count = int(mask.sum())
        bins.append(
            {
                "from": low,
                "to": high,
                "count": count,
                "predicted": round(float(p[mask].mean()), 4) if count else None,
                "observed": round(float(y[mask].mean()), 4) if count else None,
            }
        )
    return {
        "roc_auc": round(auc, 4) if auc is not None else None,
        "lift_top_decile": round(top_rate / base_rate, 3) if base_rate else None,
        "top_decile_rate": round(top_rate, 4),
        "base_rate": round(base_rate, 4),
        "brier": round(float(brier_score_loss(y, p)), 4) if n else None,
        "calibration": bins,
        "holdout_won": int(y.sum()),
        "holdout_lost": int(n - y.sum()),
    }


def _next_version(tenant_id: int) -> int:
    return (ScoreModel.objects.filter(tenant_id=tenant_id).aggregate(v=Max("version"))["v"] or 0) + 1


def _phase(model: ScoreModel, message: str) -> None:
    model.message = message[:500]
    ScoreModel.objects.filter(pk=model.pk).update(message=model.message, updated_at=timezone.now())


def model_train(tenant_id: int, *, by: Membership | None = None, model: ScoreModel | None = None) -> ScoreModel:
    """Train a new version on the tenant's closed leads; it ends READY (an admin activates it) or FAILED.

    Refuses with a ValidationFailed when there is too little history (nothing is written then, unless ``model``
    — a queued version — was given: that one is marked FAILED with the reason). Metrics come from the newest 20 %
    by close date only, which the model never saw.
    """
    counts = training_counts(tenant_id)
    short = training_shortfall(counts)
    if short and model is None:
        raise ValidationFailed(short)
    if model is None:
        model = ScoreModel.objects.create(tenant_id=tenant_id, version=_next_version(tenant_id), trained_by=by)
    if short:
        _fail(model, short)
        raise ValidationFailed(short)
    try:
        clock = time.perf_counter()
        _phase(model, _("Reading closed leads"))
        features, labels, closed_at = training_rows(tenant_id)
        seconds = {"read": time.perf_counter() - clock}
        first, cut = time_split(closed_at)
        train_y, hold_y = labels[:first], labels[first:]
        if len(set(train_y)) < 2:
            raise ValidationFailed(_("The older 80 % of closed leads hold only one outcome; the model cannot learn."))
        _phase(model, _("Fitting the model on %(rows)s leads") % {"rows": first})
        clock = time.perf_counter()
        params, pipeline = fit(features[:first], train_y)
        seconds["fit"] = time.perf_counter() - clock
        params["questions"] = {
            key: kind
            for key, kind in tenant_questions(tenant_id).items()
            if f"q_{key}" in params["numeric"] or f"q_{key}" in params["categorical"]
        }
        _phase(model, _("Measuring on the newest %(rows)s leads") % {"rows": len(hold_y)})
        clock = time.perf_counter()
        # Vectorised; equal to predict_raw on the stored parameters (tested).
        probabilities = list(pipeline.predict_proba(as_matrix(params, features[first:]))[:, 1].tolist())
        metrics = evaluate(probabilities, hold_y)
        seconds["evaluate"] = time.perf_counter() - clock
        metrics |= {"train_won": sum(train_y), "train_lost": len(train_y) - sum(train_y)}
        metrics["seconds"] = {phase: round(value, 2) for phase, value in seconds.items()}
    except ValidationFailed as exc:
        _fail(model, exc.message)
        raise
    except Exception as exc:
        _fail(model, _("Training failed: %(error)s") % {"error": exc})
        raise
    model.state = ScoreModel.State.READY
    model.trained_at = timezone.now()
    model.train_rows, model.holdout_rows, model.holdout_from = first, len(hold_y), as_datetime(cut)
    model.metrics, model.parameters, model.message = metrics, params, ""
    model.save()
    return model


def _fail(model: ScoreModel, message: str) -> None:
    model.state = ScoreModel.State.FAILED
    model.message = message[:500]
    model.trained_at = timezone.now()
    model.save(update_fields=["state", "message", "trained_at", "updated_at"])


STALE_AFTER = dt.timedelta(minutes=30)


def _require_admin(by: Membership) -> None:
    if not by.is_active or by.role not in LEAD_ADMINS:
        raise NotFound(_("Model not found."))


@transaction.atomic
def model_train_request(*, by: Membership) -> ScoreModel:
    """Queue training of a new version (the screen's and the API's "Train now"); one at a time per tenant."""
    _require_admin(by)
    short = training_shortfall(training_counts(by.tenant_id))
    if short:
        raise ValidationFailed(short)
    running = ScoreModel.objects.select_for_update().filter(tenant_id=by.tenant_id, state=ScoreModel.State.TRAINING)
    running.filter(updated_at__lt=timezone.now() - STALE_AFTER).update(
        state=ScoreModel.State.FAILED, message=_("No progress for 30 minutes; training was stopped.")
    )
    if running.exists():
        raise Conflict(_("A model is already being trained for this tenant."))
    model = ScoreModel.objects.create(tenant_id=by.tenant_id, version=_next_version(by.tenant_id), trained_by=by)
    model.message = _("Queued")
    model.save(update_fields=["message"])
    from .tasks import model_train_task

    transaction.on_commit(lambda: model_train_task.enqueue(tenant_id=model.tenant_id, model_id=model.pk))
    return model


def model_train_run(*, tenant_id: int, model_id: int | None = None) -> ScoreModel | None:
    """The task's body: train the queued version (or a new one); failures end as FAILED, never raise."""
    model = ScoreModel.objects.filter(tenant_id=tenant_id, pk=model_id).first() if model_id else None
    if model_id and (model is None or model.state != ScoreModel.State.TRAINING):
        return model
    try:
        return model_train(tenant_id, by=model.trained_by if model else None, model=model)
    except ValidationFailed:
        return ScoreModel.objects.filter(tenant_id=tenant_id, pk=model.pk).first() if model else None
    except Exception:
        logger.exception("Training the predictive model of tenant %s failed", tenant_id)
        return ScoreModel.objects.filter(tenant_id=tenant_id, pk=model.pk).first() if model else None


def model_retrain_all() -> list[int]:
    """Weekly: train a new version for every tenant with enough history (activation stays an admin's decision)."""
    from leadwerk.accounts.models import Tenant

    trained = []
    for tenant_id in Tenant.objects.values_list("pk", flat=True).order_by("pk"):
        if training_shortfall(training_counts(tenant_id)):
            continue
        if ScoreModel.objects.filter(tenant_id=tenant_id, state=ScoreModel.State.TRAINING).exists():
            continue
        model = model_train_run(tenant_id=tenant_id)
        if model is not None:
            trained.append(model.pk)
    return trained


# --- activation and bulk prediction -------------------------------------------------------------------------


@transaction.atomic
def model_activate(model: ScoreModel, by: Membership | None, *, background: bool = True) -> ScoreModel:
    """Make a trained version the active one (the previous becomes RETIRED); open leads are rescored after commit.

    ``background=False`` leaves the rescoring to the caller (``model_rescore``; the demo loader does so).
    """
    if by is not None:
        _require_admin(by)
        if by.tenant_id != model.tenant_id:
            raise NotFound(_("Model not found."))
    model = ScoreModel.objects.select_for_update().get(pk=model.pk)
    if model.state not in (ScoreModel.State.READY, ScoreModel.State.RETIRED, ScoreModel.State.ACTIVE):
        raise ValidationFailed(_("Only a trained model can be activated."), field="state")
    if model.state == ScoreModel.State.ACTIVE:
        return model
    previous = list(
        ScoreModel.objects.select_for_update()
        .filter(tenant_id=model.tenant_id, state=ScoreModel.State.ACTIVE)
        .values_list("version", flat=True)
    )
    ScoreModel.objects.filter(tenant_id=model.tenant_id, state=ScoreModel.State.ACTIVE).update(
        state=ScoreModel.State.RETIRED, updated_at=timezone.now()
    )
    model.state = ScoreModel.State.ACTIVE
    model.activated_at = timezone.now()
    model.save(update_fields=["state", "activated_at", "updated_at"])
    _audit(
        model,
        by,
        _("Predictive model version %(version)s activated") % {"version": model.version},
        {"state": [f"v{previous[0]}" if previous else "rules", f"v{model.version}"]},
    )
    if background:
        _rescore_after_commit(model.tenant_id)
    return model


@transaction.atomic
def model_deactivate(model: ScoreModel, by: Membership | None) -> ScoreModel:
    """Stop using the active version: it becomes RETIRED and the rules alone drive the grade again."""
    if by is not None:
        _require_admin(by)
        if by.tenant_id != model.tenant_id:
            raise NotFound(_("Model not found."))
    model = ScoreModel.objects.select_for_update().get(pk=model.pk)
    if model.state != ScoreModel.State.ACTIVE:
        raise ValidationFailed(_("This model version is not active."), field="state")
    model.state = ScoreModel.State.RETIRED
    model.save(update_fields=["state", "updated_at"])
    _audit(
        model,
        by,
        _("Predictive model version %(version)s deactivated") % {"version": model.version},
        {"state": [f"v{model.version}", "rules"]},
    )
    _rescore_after_commit(model.tenant_id)
    return model


def _audit(model: ScoreModel, by: Membership | None, text: str, changes: dict) -> None:
    from leadwerk.accounts.models import AuditEntry
    from leadwerk.accounts.services import audit_note

    audit_note(
        tenant_id=model.tenant_id,
        by=by,
        model=ScoreModel,
        text=text,
        action=AuditEntry.Action.UPDATE,
        changes=changes,
        object_pk=model.pk,
    )


def _rescore_after_commit(tenant_id: int) -> None:
    from .tasks import model_rescore_task

    transaction.on_commit(lambda: model_rescore_task.enqueue(tenant_id=tenant_id))


def model_rescore(tenant_id: int) -> int:
    """Background: rescore the tenant's open leads after an activation or deactivation.

    Writes the probabilities in bulk, then lets the rule scoring's recompute (when it exists) derive the grades
    from them where the tenant's grade is driven by the model. Returns the number of open leads written.
    """
    try:
        from . import scoring
    except ImportError:  # pragma: no cover - the rule scoring ships with the app
        scoring = None
    recompute = getattr(scoring, "score_recompute", None)
    written = predict_open(tenant_id, grades=recompute is None)
    if recompute is not None:
        recompute(tenant_id)
    return written


def grade_for(probability: float, settings: ScoringSettings) -> str:
    if probability >= settings.probability_a_min:
        return "A"
    if probability >= settings.probability_b_min:
        return "B"
    if probability >= settings.probability_c_min:
        return "C"
    return "D"


def predict_open(tenant_id: int, *, grades: bool = True, chunk: int = 2000) -> int:
    """Bulk: write probability, factors and model (and the grade when the model drives it) to every open lead.

    Without an active model, the probability is cleared. With ``grades`` (when no rule scoring takes over), a grade
    change writes a SCORE event per lead.
    """
    model = active_model(tenant_id)
    settings = ScoringSettings.objects.filter(tenant_id=tenant_id).first()
    drives = grades and model is not None and settings is not None and settings.driver == ScoringSettings.Driver.MODEL
    open_leads = Lead.objects.filter(tenant_id=tenant_id).exclude(status__in=states.CLOSED)
    if model is None:
        return open_leads.exclude(probability=None, score_model=None).update(
            probability=None, probability_factors=[], score_model=None
        )
    params = model.parameters
    questions = params.get("questions") or {}
    ids = list(open_leads.order_by("id").values_list("id", flat=True))
    written, now = 0, timezone.now()
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        counts = engagement_counts(tenant_id, lead_ids=part)
        leads, events = [], []
        for row in Lead.objects.filter(pk__in=part).values(*ROW_FIELDS, "grade"):
            responses, activities = counts.get(row["id"], (0, 0))
            raw = row_features(row, responses=responses, activities=activities, questions=questions)
            probability, factors = predict_raw(params, raw)
            lead = Lead(
                pk=row["id"],
                probability=round(probability, 4),
                probability_factors=factors[:10],
                score_model_id=model.pk,
                grade=row["grade"],
            )
            if drives:
                lead.grade = grade_for(probability, settings)
                if lead.grade != row["grade"]:
                    events.append(
                        LeadEvent(
                            tenant_id=tenant_id,
                            lead_id=row["id"],
                            kind=LeadEvent.Kind.SCORE,
                            at=now,
                            before={"grade": row["grade"]},
                            after={"grade": lead.grade, "probability": lead.probability},
                            reason=f"model v{model.version}",
                        )
                    )
            leads.append(lead)
        with transaction.atomic():
            Lead.objects.bulk_update(leads, ["probability", "probability_factors", "score_model", "grade"])
            LeadEvent.objects.bulk_create(events)
        written += len(leads)
    return written


# --- explanation for people -------------------------------------------------------------------------------------

FEATURE_LABELS = {
    "channel": gettext_lazy("Channel"),
    "source": gettext_lazy("Source"),
    "interest": gettext_lazy("Interest"),
    "rating": gettext_lazy("Rating"),
    "timeline": pgettext_lazy("when the prospect means to buy", "Timeline"),
    "authority": gettext_lazy("Decision maker reached"),
    "employees": gettext_lazy("Employees"),
    "revenue": gettext_lazy("Annual revenue"),
    "wz_section": gettext_lazy("Industry (WZ section)"),
    "country": gettext_lazy("Country"),
    "consent_email": gettext_lazy("E-mail consent"),
    "has_budget": gettext_lazy("Budget known"),
    "log_budget": gettext_lazy("Budget"),
    "has_value": gettext_lazy("Estimated value known"),
    "log_value": gettext_lazy("Estimated value"),
    "has_email": gettext_lazy("E-mail address"),
    "has_phone": gettext_lazy("Phone number"),
    "log_responses": gettext_lazy("Responses"),
    "log_activities": gettext_lazy("Activities"),
}


def _choice_labels() -> dict[str, dict[str, Any]]:
    from leadwerk.contacts.models import ConsentStatus, Organization

    from .models import Channel, Rating, Timeline

    return {
        "channel": dict(Channel.choices),
        "rating": dict(Rating.choices),
        "timeline": dict(Timeline.choices),
        "employees": dict(Organization.Employees.choices),
        "revenue": dict(Organization.Revenue.choices),
        "consent_email": dict(ConsentStatus.choices),
        "authority": {"yes": gettext_lazy("yes"), "no": gettext_lazy("no")},
    }


def factor_text(factor: dict, *, questions: dict[str, str] | None = None) -> tuple[str, str]:
    """(what, value) of one stored factor for people, e.g. ("Channel", "Web form") or ("Activities", "3")."""
    feature, value = factor.get("feature", ""), factor.get("value")
    if feature.startswith("q_"):
        label = (questions or {}).get(feature[2:], feature[2:])
    else:
        label = str(FEATURE_LABELS.get(feature, feature))
    if feature.startswith("has_"):
        return label, str(_("yes") if value else _("no"))
    if feature in ("log_budget", "log_value") and not value:
        return label, str(_("not given"))  # the model reads a missing amount as 0; "Budget: 0" would mislead
    if feature.startswith("log_") or isinstance(value, float):
        number = math.expm1(float(value or 0)) if feature.startswith("log_") or feature.startswith("q_") else value
        return label, formats.number_format(round(number), use_l10n=True)
    if value == OTHER:
        return label, str(_("other"))
    if value in ("", None):
        return label, str(_("not given"))
    shown = _choice_labels().get(feature, {}).get(value, value)
    return label, str(shown)


def explain(lead: Lead, *, limit: int = 3) -> dict[str, Any]:
    """The lead's probability and its strongest factors up and down, ready for the lead page."""
    questions = {}
    if lead.probability_factors and any(f.get("feature", "").startswith("q_") for f in lead.probability_factors):
        questions = dict(QualificationQuestion.objects.filter(tenant_id=lead.tenant_id).values_list("key", "label"))
    up, down = [], []
    for factor in lead.probability_factors or []:
        effect = float(factor.get("effect") or 0)
        what, value = factor_text(factor, questions=questions)
        item = {"what": what, "value": value, "effect": effect}
        (up if effect > 0 else down).append(item)
    return {
        "probability": lead.probability,
        "percent": round(lead.probability * 100) if lead.probability is not None else None,
        "up": up[:limit],
        "down": down[:limit],
    }
