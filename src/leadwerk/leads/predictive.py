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

import math
from typing import Any

from .models import Lead, ScoreModel

FORMAT = 1
OTHER = "__other__"


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


def lead_features(
    lead: Lead, *, responses: int | None = None, activities: int | None = None, questions: dict[str, str] | None = None
) -> dict[str, Any]:
    """The raw feature values of one lead (categories as strings, numbers as floats).

    ``responses``/``activities`` are the engagement counts before close (or so far for an open lead); the bulk
    paths pass them in, a single prediction counts them here. ``questions`` maps qualification question keys to
    their kind (from the model's parameters when predicting).
    """
    person = lead.person
    org = lead.organization
    if responses is None or activities is None:
        responses, activities = engagement_counts(lead)
    features: dict[str, Any] = {
        "channel": lead.channel or "",
        "source": (lead.source or "").strip().lower(),
        "interest": lead.interest.key if lead.interest_id else "",
        "rating": lead.rating or "",
        "timeline": lead.timeline or "",
        "authority": _yes_no(lead.authority),
        "employees": org.employees if org else "",
        "revenue": org.revenue if org else "",
        "wz_section": wz_section(org.industry_code) if org else "",
        "country": (org.country if org else person.country) or "",
        "consent_email": person.consent_email or "",
        "has_budget": 1.0 if lead.budget is not None else 0.0,
        "log_budget": _log(lead.budget),
        "has_value": 1.0 if lead.estimated_value is not None else 0.0,
        "log_value": _log(lead.estimated_value),
        "has_email": 1.0 if person.email else 0.0,
        "has_phone": 1.0 if (person.phone or person.mobile) else 0.0,
        "log_responses": _log(responses),
        "log_activities": _log(activities),
    }
    answers = lead.qualification or {}
    for key, kind in (questions or {}).items():
        value = answers.get(key)
        if kind == "number":
            features[f"q_{key}"] = _log(value)
        elif kind in ("bool", "choice"):
            features[f"q_{key}"] = "" if value in (None, "") else str(value).lower()
        elif kind == "multi":
            features[f"q_{key}"] = float(len(value)) if isinstance(value, list) else 0.0
        else:
            features[f"q_{key}"] = "" if value in (None, "") else "answered"
    return features


def engagement_counts(lead: Lead) -> tuple[int, int]:
    """Responses and activities of one lead before it closed (all so far while open)."""
    from .models import Activity, LeadEvent

    events = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.RESPONSE)
    acts = Activity.objects.filter(lead=lead)
    if lead.closed_at:
        events = events.filter(at__lt=lead.closed_at)
        acts = acts.filter(at__lt=lead.closed_at)
    return events.count(), acts.count()


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
