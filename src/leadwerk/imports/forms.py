from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ImportJob
from .targets import target_choices


class UploadForm(forms.Form):
    target = forms.ChoiceField(label=_("The rows are"), choices=(), initial="person", required=False)
    file = forms.FileField(label=_("CSV or XLSX file"), help_text=_("Any delimiter; UTF-8 or Windows-1252 (Excel)."))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = target_choices()


class MappingForm(forms.Form):
    """One choice per column of the file, plus the options."""

    mode = forms.ChoiceField(label=_("Existing records"), choices=ImportJob.Mode.choices)
    key = forms.ChoiceField(label=_("Key"), choices=ImportJob.Key.choices)
    all_or_nothing = forms.BooleanField(
        label=_("All or nothing: import nothing if one row is not valid"), required=False
    )
    template_name = forms.CharField(label=_("Save the mapping as template"), max_length=80, required=False)
    # The lead target's options (removed for other targets).
    history = forms.BooleanField(
        label=_("History from another system"),
        help_text=_(
            "Status, dates, owner and reasons are taken as they were; nothing is routed, no SLA starts and "
            "nobody is notified."
        ),
        required=False,
    )
    create_reasons = forms.BooleanField(
        label=_("Create missing reasons"),
        help_text=_("Otherwise a row whose lost or disqualification reason is not on the list is rejected."),
        required=False,
    )
    keep_columns = forms.BooleanField(
        label=_("Keep further columns"),
        help_text=_("Columns not imported as a field are kept as text on the lead."),
        required=False,
    )
    LEAD_OPTIONS = ("history", "create_reasons", "keep_columns")

    def __init__(self, *args, job: ImportJob, fields, **kwargs) -> None:
        initial = {"mode": job.mode, "key": job.key, "all_or_nothing": job.all_or_nothing}
        initial |= {name: bool((job.options or {}).get(name)) for name in self.LEAD_OPTIONS}
        for index, header in enumerate(job.headers):
            initial[f"map_{index}"] = job.mapping.get(header, "")
        super().__init__(*args, initial=initial, **kwargs)
        self.job = job
        if job.target != "lead":
            for name in self.LEAD_OPTIONS:
                del self.fields[name]
        choices = [("", _("— do not import —")), *[(f.key, f.label) for f in fields]]
        self.columns = []
        for index, header in enumerate(job.headers):
            name = f"map_{index}"
            self.fields[name] = forms.ChoiceField(label=header, choices=choices, required=False)
            self.columns.append((header, name))

    def mapping(self) -> dict[str, str]:
        return {header: self.cleaned_data.get(name) or "" for header, name in self.columns}

    def options(self) -> dict | None:
        """The target's options, or None when the target has none."""
        if self.job.target != "lead":
            return None
        return {name: bool(self.cleaned_data.get(name)) for name in self.LEAD_OPTIONS}

    def field_for(self, service_field: str | None) -> str | None:
        """A service's error field (map.<header>, mapping, key, mode) as this form's field name."""
        if service_field and service_field.startswith("map."):
            header = service_field[4:]
            return next((name for h, name in self.columns if h == header), None)
        return service_field if service_field in self.fields else None
