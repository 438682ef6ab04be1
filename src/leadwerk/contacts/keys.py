"""Sort and match keys: case- and accent-folded names, so that prefix ranges can use an index."""

from __future__ import annotations

import unicodedata

_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"})


def name_key(value: str) -> str:
    """'Müller-Lüdenscheidt' -> 'mueller-luedenscheidt'; 'Émile' -> 'emile'."""
    if value.isascii():  # most names: the folding below would change nothing but the case
        return value.lower().strip()
    folded = value.translate(_GERMAN).casefold()
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()
