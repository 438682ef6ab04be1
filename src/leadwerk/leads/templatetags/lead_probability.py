"""The predictive model's view of a lead, for ``leads/_probability.html``."""

from __future__ import annotations

from django import template

from leadwerk.leads.predictive import explain

register = template.Library()


@register.simple_tag
def probability_explained(lead) -> dict:
    """``{% probability_explained lead as p %}``: percent plus the strongest factors up and down."""
    return explain(lead)
