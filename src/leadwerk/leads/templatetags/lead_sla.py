"""``{% sla_badge lead now %}``: the lead's SLA state as a badge (inbox rows, lead page, board cards)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils.translation import ngettext

from leadwerk.leads.sla import duration_text, sla_state

register = template.Library()

TONES = {"overdue": "badge-off", "soon": "badge-warn", "due": "", "met": "badge-ok", "late": "badge-warn"}


@register.inclusion_tag("leads/_sla_badge.html")
def sla_badge(lead, now=None) -> dict:
    state = sla_state(lead, now)
    return {"state": state, "css": TONES.get(state.tone, "") if state else ""}


@register.filter
def seconds_duration(seconds) -> str:
    """3,600 → '1 h' (speed-to-lead and other wall-clock durations)."""
    if seconds in (None, ""):
        return ""
    return duration_text(dt.timedelta(seconds=int(seconds)))


@register.filter
def business_minutes(minutes) -> str:
    """120 → '2 business hours', 90 → '90 business minutes'."""
    if minutes in (None, ""):
        return ""
    minutes = int(minutes)
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(n)d business hour", "%(n)d business hours", hours) % {"n": hours}
    return ngettext("%(n)d business minute", "%(n)d business minutes", minutes) % {"n": minutes}
