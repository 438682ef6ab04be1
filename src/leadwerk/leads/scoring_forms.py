"""Forms of the scoring settings: a point rule (with a value widget that fits its field) and the grade settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ScoringRule, ScoringSettings
from .scoring import BOOL, COUNT, NO_VALUE, FieldSpec, field_catalogue

Op = ScoringRule.Operator


class ScoringRuleForm(forms.Form):
    """Parses a rule; the service checks that field, condition and value fit together.

    The value is entered in the widget that fits the chosen field: checkboxes for choice fields and activity
    types, yes/no for yes/no fields, text (comma-separated for lists and prefixes) for the rest."""

    name = forms.CharField(label=_("Name"), max_length=120)
    field = forms.ChoiceField(label=_("Field"))
    operator = forms.ChoiceField(label=_("Condition"), required=False)
    value_text = forms.CharField(
        label=_("Value"),
        required=False,
        max_length=500,
        help_text=_("For 'is one of' and 'starts with', separate several values with commas."),
    )
    value_choices = forms.MultipleChoiceField(label=_("Value"), required=False, widget=forms.CheckboxSelectMultiple)
    value_bool = forms.ChoiceField(
        label=_("Value"), required=False, choices=[("true", _("yes")), ("false", _("no"))], initial="true"
    )
    points = forms.IntegerField(label=_("Points"), min_value=-1000, max_value=1000)
    max_points = forms.IntegerField(
        label=_("At most (cap)"), required=False, help_text=_("Engagement rules: the most points all occurrences give.")
    )
    half_life_days = forms.IntegerField(
        label=_("Half-life (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Engagement rules: an occurrence's points halve after this many days."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, tenant_id: int, rule: ScoringRule | None = None, **kwargs):
        if rule is not None and not args and "data" not in kwargs:
            kwargs.setdefault("initial", self.initial_for(rule))
        super().__init__(*args, **kwargs)
        self.catalogue = field_catalogue(tenant_id)
        groups: dict[str, list[tuple[str, str]]] = {}
        for spec in self.catalogue.values():
            groups.setdefault(str(spec.group), []).append((spec.key, str(spec.label)))
        if rule is not None and rule.field not in self.catalogue:
            groups[str(_("No longer available"))] = [(rule.field, rule.field)]
        self.field_groups = list(groups.items())
        self.fields["field"].choices = [("", _("Choose…")), *self.field_groups]
        spec = self.spec
        operators = spec.operators if spec else tuple(Op.values)
        self.fields["operator"].choices = [(op, Op(op).label) for op in operators]
        if spec is not None and spec.choices:
            self.fields["value_choices"].choices = list(spec.choices)
            if spec.kind == COUNT:
                self.fields["value_choices"].label = _("Only these types (none: all)")

    @staticmethod
    def initial_for(rule: ScoringRule) -> dict[str, Any]:
        value = rule.value
        listed = value if isinstance(value, list) else ([] if value is None else [value])
        return {
            "name": rule.name,
            "field": rule.field,
            "operator": rule.operator,
            "value_text": ", ".join(str(v) for v in listed),
            "value_choices": [str(v) for v in listed],
            "value_bool": "false" if value is False else "true",
            "points": rule.points,
            "max_points": rule.max_points,
            "half_life_days": rule.half_life_days,
            "active": rule.active,
        }

    @property
    def spec(self) -> FieldSpec | None:
        key = self.data.get("field") if self.is_bound else self.initial.get("field")
        return self.catalogue.get(key or "")

    @property
    def widget(self) -> str:
        """Which value input the template shows: none, choices, bool or text."""
        spec = self.spec
        if spec is None:
            return "text"
        operator = (self.data.get("operator") if self.is_bound else self.initial.get("operator")) or ""
        if operator in NO_VALUE:
            return "none"
        if spec.choices:
            return "choices"
        if spec.kind == BOOL:
            return "bool"
        if spec.kind == COUNT:
            return "none"
        return "text"

    @property
    def is_engagement(self) -> bool:
        return self.spec is not None and self.spec.kind == COUNT

    def rule_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        match self.widget:
            case "none":
                value = None
            case "choices":
                value = data["value_choices"]
                operator = data.get("operator")
                if operator in (Op.EQUALS, Op.NOT_EQUALS, Op.CONTAINS):
                    value = value[0] if len(value) == 1 else (value or None)
            case "bool":
                value = data["value_bool"]
            case _:
                value = data["value_text"]
        return {
            "name": data["name"],
            "field": data["field"],
            "operator": data.get("operator") or None,
            "value": value,
            "points": data["points"],
            "max_points": data.get("max_points"),
            "half_life_days": data.get("half_life_days"),
            "active": data.get("active", False),
        }


class ScoringSettingsForm(forms.ModelForm):
    class Meta:
        model = ScoringSettings
        fields = [
            "driver", "max_score", "grade_a_min", "grade_b_min", "grade_c_min",
            "probability_a_min", "probability_b_min", "probability_c_min",
        ]  # fmt: skip
        widgets = {
            "probability_a_min": forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"}),
            "probability_b_min": forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"}),
            "probability_c_min": forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"}),
        }

    def settings_data(self) -> dict[str, Any]:
        return {key: self.cleaned_data[key] for key in self.Meta.fields}
