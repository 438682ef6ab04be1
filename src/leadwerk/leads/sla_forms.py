"""Forms of the SLA settings screen: the business calendar and a policy (times entered in hours)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BusinessCalendar, Grade, SlaPolicy
from .sla import DEFAULT_WORKDAYS, FEDERAL_STATES

WEEKDAYS = [
    (0, _("Monday")), (1, _("Tuesday")), (2, _("Wednesday")), (3, _("Thursday")), (4, _("Friday")),
    (5, _("Saturday")), (6, _("Sunday")),
]  # fmt: skip


class CalendarForm(forms.Form):
    workdays = forms.TypedMultipleChoiceField(
        label=_("Working days"), choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one working day.")},
    )  # fmt: skip
    day_starts = forms.TimeField(label=_("Working day starts"), widget=forms.TimeInput(attrs={"type": "time"}))
    day_ends = forms.TimeField(label=_("Working day ends"), widget=forms.TimeInput(attrs={"type": "time"}))
    state = forms.ChoiceField(
        label=_("Federal state"),
        required=False,
        choices=[("", _("Nationwide holidays only")), *FEDERAL_STATES],
        help_text=_("Its public holidays do not count as business time."),
    )
    closed_days = forms.CharField(
        label=_("Further closed days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "2026-12-24\n2026-12-31"}),
        help_text=_("One date per line (YYYY-MM-DD), e.g. Christmas Eve or a company holiday."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "calendar_%s")
        super().__init__(*args, **kwargs)

    @staticmethod
    def initial_for(calendar: BusinessCalendar) -> dict:
        return {
            "workdays": calendar.workdays or list(DEFAULT_WORKDAYS),
            "day_starts": calendar.day_starts.strftime("%H:%M"),
            "day_ends": calendar.day_ends.strftime("%H:%M"),
            "state": calendar.state,
            "closed_days": "\n".join(calendar.closed_days or []),
        }

    def clean_closed_days(self) -> list[str]:
        return [part for part in self.cleaned_data["closed_days"].replace(",", "\n").split() if part]

    def clean(self):
        data = super().clean()
        starts, ends = data.get("day_starts"), data.get("day_ends")
        if isinstance(starts, dt.time) and isinstance(ends, dt.time) and ends <= starts:
            self.add_error("day_ends", _("The working day must end after it starts."))
        return data


def _minutes(hours: Decimal | None) -> int | None:
    return None if hours is None else round(hours * 60)


def _hours(minutes: int | None) -> Decimal | None:
    return None if minutes is None else (Decimal(minutes) / 60).quantize(Decimal("0.01")).normalize()


class SlaPolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    metric = forms.ChoiceField(label=_("Deadline for"), choices=SlaPolicy.Metric.choices)
    grade = forms.ChoiceField(label=_("Grade"), required=False, choices=[("", _("All grades")), *Grade.choices])
    hours = forms.DecimalField(
        label=_("Within (business hours)"), min_value=Decimal("0.25"), max_digits=7, decimal_places=2,
        help_text=_("First contact and acceptance count from capture (acceptance from assignment), "
                    "the outcome from acceptance."),
    )  # fmt: skip
    remind_before_minutes = forms.IntegerField(
        label=_("Remind the owner (minutes before)"), required=False, min_value=1,
        help_text=_("Empty: no reminder."),
    )  # fmt: skip
    escalate = forms.BooleanField(label=_("Escalate to the team lead or managers when missed"), required=False)
    reroute_hours = forms.DecimalField(
        label=_("Re-route after missing it by (business hours)"), required=False, min_value=0, max_digits=7,
        decimal_places=2, help_text=_("Empty: never re-route. Re-routing uses the routing rules and skips the owner."),
    )  # fmt: skip
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "policy_%s")
        super().__init__(*args, **kwargs)

    @staticmethod
    def initial_for(policy: SlaPolicy) -> dict:
        return {
            "name": policy.name, "metric": policy.metric, "grade": policy.grade,
            "hours": _hours(policy.business_minutes), "remind_before_minutes": policy.remind_before_minutes,
            "escalate": policy.escalate, "reroute_hours": _hours(policy.reroute_after_minutes),
            "active": policy.active,
        }  # fmt: skip

    def policy_data(self) -> dict:
        d = self.cleaned_data
        return {
            "name": d["name"], "metric": d["metric"], "grade": d["grade"] or "",
            "business_minutes": _minutes(d["hours"]), "remind_before_minutes": d["remind_before_minutes"],
            "escalate": d["escalate"], "reroute_after_minutes": _minutes(d["reroute_hours"]), "active": d["active"],
        }  # fmt: skip


# Service field → form field, so a service's error lands on the input the user typed.
POLICY_FORM_FIELDS = {"business_minutes": "hours", "reroute_after_minutes": "reroute_hours"}
