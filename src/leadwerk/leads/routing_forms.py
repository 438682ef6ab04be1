"""Forms of the routing screens: the rule (with its condition rows), try-it, capacity and absences."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from leadwerk.accounts.models import Membership, Team, Tenant
from leadwerk.core.widgets import DateInput

from .models import InterestCategory, RoutingRule
from .roles import LEAD_WORKERS
from .routing import LIST_VALUE, NO_VALUE, OPERATORS, PAIR_VALUE, field_choices

MAX_ROWS = 20


def _workers(tenant: Tenant):
    return (
        Membership.objects.filter(tenant=tenant, is_active=True, role__in=LEAD_WORKERS)
        .select_related("user")
        .order_by("user__full_name", "pk")
    )


def _member_label(m: Membership) -> str:
    return m.user.full_name or m.user.email


class RoutingRuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    target = forms.ChoiceField(label=_("Leads go to"), choices=RoutingRule.Target.choices, initial="team")
    target_team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False, empty_label="—")
    strategy = forms.ChoiceField(
        label=_("Distribution in the team"),
        choices=RoutingRule.Strategy.choices,
        help_text=_("Members who are absent, take no leads or reached their weekly capacity are skipped."),
    )
    target_member = forms.ModelChoiceField(
        label=_("Person"), queryset=Membership.objects.none(), required=False, empty_label="—"
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target_team"].queryset = Team.objects.filter(tenant=tenant).order_by("name")
        self.fields["target_member"].queryset = _workers(tenant)
        self.fields["target_member"].label_from_instance = _member_label


def conditions_from_post(data: QueryDict) -> tuple[list[dict[str, Any]], str]:
    """Condition rows as posted (cond-field-<i>, cond-op-<i>, cond-value-<i>, cond-value2-<i>), with the
    row action applied: "add" appends an empty row, "remove:<i>" drops one. Returns (rows, action)."""
    rows = []
    for i in sorted({int(k.rsplit("-", 1)[1]) for k in data if k.startswith("cond-field-") and k[11:].isdigit()}):
        if i >= MAX_ROWS * 2:
            break
        field, op = data.get(f"cond-field-{i}", ""), data.get(f"cond-op-{i}", "")
        value, value2 = data.get(f"cond-value-{i}", "").strip(), data.get(f"cond-value2-{i}", "").strip()
        if op in NO_VALUE:
            parsed: Any = None
        elif op in PAIR_VALUE:
            parsed = [value, value2]
        elif op in LIST_VALUE:
            parsed = [v.strip() for v in value.split(",") if v.strip()]
        else:
            parsed = value
        rows.append({"field": field, "op": op, "value": parsed})
    action = data.get("action", "")
    if action == "add" and len(rows) < MAX_ROWS:
        rows.append({"field": "", "op": "eq", "value": ""})
    elif action.startswith("remove:") and action[7:].isdigit():
        index = int(action[7:])
        if 0 <= index < len(rows):
            rows.pop(index)
    return rows, action


def condition_rows(conditions: list[dict[str, Any]], tenant_id: int, error=None) -> list[dict[str, Any]]:
    """The view model of the condition rows, with the error of the row it concerns."""
    groups = field_choices(tenant_id)
    error_index, error_part = None, ""
    if error is not None and (error.field or "").startswith("conditions."):
        parts = error.field.split(".")
        if len(parts) >= 2 and parts[1].isdigit():
            error_index, error_part = int(parts[1]), parts[2] if len(parts) > 2 else ""
    rows = []
    for i, c in enumerate(conditions):
        value = c.get("value")
        pair = value if isinstance(value, list) and len(value) == 2 and c.get("op") in PAIR_VALUE else None
        rows.append({
            "index": i,
            "field": c.get("field", ""),
            "op": c.get("op", ""),
            "value": pair[0] if pair else (", ".join(value) if isinstance(value, list) else (value or "")),
            "value2": pair[1] if pair else "",
            "error": error.message if error_index == i else "",
            "error_part": error_part if error_index == i else "",
            "groups": groups,
        })  # fmt: skip
    return rows


OPERATOR_CHOICES = list(OPERATORS.items())


class TryForm(forms.Form):
    lead = forms.IntegerField(label=_("Lead number"), required=False, min_value=1)
    postcode = forms.CharField(label=_("Postcode"), required=False, max_length=12)
    interest = forms.ModelChoiceField(
        label=_("Interest"), queryset=InterestCategory.objects.none(), required=False, empty_label="—"
    )
    grade = forms.ChoiceField(
        label=_("Grade"), required=False, choices=[("", "—"), ("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")]
    )

    def __init__(self, *args, tenant: Tenant, **kwargs):
        kwargs.setdefault("auto_id", "try_%s")
        super().__init__(*args, **kwargs)
        self.fields["interest"].queryset = InterestCategory.objects.for_tenant(tenant.pk).filter(active=True)


class CapacityForm(forms.Form):
    weekly_capacity = forms.IntegerField(label=_("New leads per week"), required=False, min_value=0, max_value=10_000)
    takes_leads = forms.BooleanField(label=_("Receives routed leads"), required=False)


class AbsenceForm(forms.Form):
    membership = forms.ModelChoiceField(label=_("Member"), queryset=Membership.objects.none())
    starts_on = forms.DateField(label=_("From"), widget=DateInput())
    ends_on = forms.DateField(label=_("Until"), widget=DateInput())
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, tenant: Tenant, **kwargs):
        kwargs.setdefault("auto_id", "absence_%s")
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = _workers(tenant)
        self.fields["membership"].label_from_instance = _member_label
