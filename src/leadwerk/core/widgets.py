"""Form widgets shared by the apps."""

from __future__ import annotations

from django import forms


class DateInput(forms.DateInput):
    """The browser's date picker. It takes ISO dates only: a German "02.12.2026" as its value leaves it empty."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    """The browser's date-and-time picker, with the ISO value it needs (``2026-12-02T14:30``)."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")
