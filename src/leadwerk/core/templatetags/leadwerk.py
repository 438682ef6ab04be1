"""Formatting helpers for templates: money and numbers per the active locale."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils import formats, translation

register = template.Library()


@register.filter
def money(value, currency: str = "EUR") -> str:
    """1.234,56 € in German, €1,234.56 in English."""
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    number = formats.number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    symbol = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF"}.get(currency, currency)
    if translation.get_language() == "de":
        return f"{number}\u00a0{symbol}"
    return f"{symbol}{number}"


@register.filter
def number(value, decimals: int = 0) -> str:
    if value in (None, ""):
        return ""
    return formats.number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=True)


@register.simple_tag(takes_context=True)
def nav_active(context, *prefixes: str) -> str:
    """'is-active' when the current URL name starts with one of the prefixes."""
    match = getattr(context.get("request"), "resolver_match", None)
    name = match.view_name if match else ""
    return "is-active" if any(name == p or name.startswith(p + ":") for p in prefixes) else ""


@register.filter
def audit_value(value) -> str:
    """auditlog stores missing values as the text 'None'; show a dash instead."""
    if value in (None, "", "None", "[]", "{}"):
        return "—"
    return str(value)


@register.filter
def flag_labels(flags) -> str:
    """A record's data-quality flags as the texts the detail page shows them with."""
    from leadwerk.contacts.normalize import flag_text

    return flag_text(flags)


@register.filter
def language_name(code: str) -> str:
    from leadwerk.core.languages import language_name as name

    return name(code)


@register.filter
def audit_action(entry) -> str:
    """An audit entry's action as a past participle for timelines ("created", "changed"), in the page's language."""
    from django.utils.translation import gettext

    labels = {0: gettext("created"), 1: gettext("changed"), 2: gettext("deleted"), 3: gettext("viewed")}
    return labels.get(entry.action, entry.get_action_display())
