"""``{% sla_badge lead now %}``: the lead's SLA state as a badge (inbox rows, lead page, board cards)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from leadwerk.leads.sla import duration_text, sla_state

register = template.Library()

TONES = {"overdue": "badge-off", "soon": "badge-warn", "due": "", "met": "badge-ok", "late": "badge-warn"}


@register.simple_tag
def sla_badge(lead, now=None) -> str:
    """A simple tag rather than an included template: it renders once per inbox row and board card."""
    state = sla_state(lead, now)
    if state is None:
        return ""
    title = ""
    if state.due:
        due = date_format(timezone.localtime(state.due), "SHORT_DATETIME_FORMAT")
        title = format_html(' title="{}"', _("Due %(due)s") % {"due": due})
    return format_html(
        '<span class="badge {}" data-testid="sla-badge" data-sla="{}"{}>{}</span>',
        TONES.get(state.tone, ""),
        state.tone,
        title,
        state.text,
    )


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
