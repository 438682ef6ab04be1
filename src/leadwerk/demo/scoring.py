"""Demo scoring: a realistic rule set (fit and engagement with decay and caps) and grade settings for a tenant.

``scoring_load(tenant)`` is idempotent (it replaces the tenant's rules) and recomputes the scores of the
leads already there, so call it after the demo leads are loaded. bench/scoring uses the same rules.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from leadwerk.accounts.models import Tenant
from leadwerk.leads.models import ScoringRule, ScoringSettings
from leadwerk.leads.scoring import field_catalogue, rule_value_clean, score_recompute


def demo_rules() -> list[dict]:
    """Name, field, condition, value, points (+ cap and half-life for engagement), in the order shown."""
    return [
        {"name": _("Rated hot by the agent"), "field": "lead.rating", "operator": "eq", "value": "hot", "points": 30},
        {"name": _("Rated warm"), "field": "lead.rating", "operator": "eq", "value": "warm", "points": 12},
        {"name": _("Rated cold"), "field": "lead.rating", "operator": "eq", "value": "cold", "points": -10},
        {"name": _("Decision maker reached"), "field": "lead.authority", "operator": "eq", "value": True, "points": 20},
        {"name": _("Buys now"), "field": "lead.timeline", "operator": "eq", "value": "now", "points": 20},
        {"name": _("Buys within 3 months"), "field": "lead.timeline", "operator": "eq", "value": "quarter",
         "points": 10},
        {"name": _("Budget of €30,000 or more"), "field": "lead.budget", "operator": "gte", "value": 30000,
         "points": 15},
        {"name": _("Estimated value of €50,000 or more"), "field": "lead.estimated_value", "operator": "gte",
         "value": 50000, "points": 10},
        {"name": _("Company with 250+ employees"), "field": "organization.employees", "operator": "in",
         "value": ["250-999", "1000+"], "points": 10},
        {"name": _("Names a product interest"), "field": "lead.interest", "operator": "set", "value": None,
         "points": 5},
        {"name": _("Further responses"), "field": "engagement.response", "operator": "count", "value": None,
         "points": 8, "max_points": 24, "half_life_days": 30},
        {"name": _("Reached by phone or in person"), "field": "engagement.reached", "operator": "count",
         "value": None, "points": 10, "max_points": 20, "half_life_days": 45},
        {"name": _("E-mail consent refused"), "field": "person.consent_email", "operator": "in",
         "value": ["denied", "withdrawn"], "points": -10},
    ]  # fmt: skip


@transaction.atomic
def scoring_rules_install(tenant: Tenant) -> list[ScoringRule]:
    """Replace the tenant's rules with the demo set and save default grade settings."""
    catalogue = field_catalogue(tenant.pk)
    ScoringRule.objects.filter(tenant=tenant).delete()
    rules = []
    for position, data in enumerate(demo_rules()):
        spec = catalogue[data["field"]]
        value = rule_value_clean(spec, data["operator"], data["value"])
        rules.append(ScoringRule(tenant=tenant, position=position, **{**data, "value": value}))
    ScoringSettings.objects.update_or_create(
        tenant=tenant,
        defaults={"driver": ScoringSettings.Driver.RULES, "max_score": 100, "grade_a_min": 70, "grade_b_min": 45,
                  "grade_c_min": 20},
    )  # fmt: skip
    return ScoringRule.objects.bulk_create(rules)


def scoring_load(tenant: Tenant) -> dict:
    """Demo rules and settings, then every existing lead scored (counts of the recompute)."""
    scoring_rules_install(tenant)
    return score_recompute(tenant.pk).as_dict()
