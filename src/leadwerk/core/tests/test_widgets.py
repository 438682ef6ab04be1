"""Date pickers get ISO values whatever the language: a German "02.12.2026" leaves the browser's field empty."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import translation

from leadwerk.core.widgets import DateInput, DateTimeInput


class _Form(forms.Form):
    day = forms.DateField(widget=DateInput())
    due = forms.DateTimeField(widget=DateTimeInput())


def test_initial_dates_are_iso_in_german_and_english():
    for language in ("de", "en"):
        with translation.override(language):
            html = str(_Form(initial={"day": dt.date(2026, 12, 2), "due": dt.datetime(2026, 12, 2, 14, 30)}))
        assert 'type="date"' in html and 'value="2026-12-02"' in html
        assert 'type="datetime-local"' in html and 'value="2026-12-02T14:30"' in html


def test_the_iso_values_the_browser_sends_are_read_back():
    with translation.override("de"):
        form = _Form(data={"day": "2026-12-02", "due": "2026-12-02T14:30"})
        assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == dt.date(2026, 12, 2)
    assert form.cleaned_data["due"].replace(tzinfo=None) == dt.datetime(2026, 12, 2, 14, 30)
