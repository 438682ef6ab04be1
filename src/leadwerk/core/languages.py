"""Language codes as people read them."""

from __future__ import annotations

from django.utils.translation import get_language_info


def language_name(code: str) -> str:
    """ "de" → "Deutsch" / "German", in the active language; an unknown code stays as it is."""
    try:
        return get_language_info(code)["name_translated"] if code else ""
    except KeyError:
        return code
