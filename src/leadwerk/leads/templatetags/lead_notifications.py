"""The header's notification bell: one small indexed COUNT, only on tenant pages."""

from __future__ import annotations

from django import template

from leadwerk.leads.notifications import unread_count

register = template.Library()


@register.inclusion_tag("leads/notifications_bell.html", takes_context=True)
def notification_bell(context) -> dict:
    membership = context.get("membership")
    return {"bell_count": unread_count(membership), "current_tenant": context.get("current_tenant")}
