from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ImportJob


class UploadForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"), help_text=_("Any delimiter; UTF-8 or Windows-1252 (Excel)."))


class MappingForm(forms.Form):
    """One choice per column of the file, plus the options."""

    mode = forms.ChoiceField(label=_("Existing records"), choices=ImportJob.Mode.choices)
    key = forms.ChoiceField(label=_("Key"), choices=ImportJob.Key.choices)
    all_or_nothing = forms.BooleanField(
        label=_("All or nothing: import nothing if one row is not valid"), required=False
    )
    template_name = forms.CharField(label=_("Save the mapping as template"), max_length=80, required=False)

    def __init__(self, *args, job: ImportJob, fields, **kwargs) -> None:
        initial = {"mode": job.mode, "key": job.key, "all_or_nothing": job.all_or_nothing}
        for index, header in enumerate(job.headers):
            initial[f"map_{index}"] = job.mapping.get(header, "")
        super().__init__(*args, initial=initial, **kwargs)
        self.job = job
        choices = [("", _("— do not import —")), *[(f.key, f.label) for f in fields]]
        self.columns = []
        for index, header in enumerate(job.headers):
            name = f"map_{index}"
            self.fields[name] = forms.ChoiceField(label=header, choices=choices, required=False)
            self.columns.append((header, name))

    def mapping(self) -> dict[str, str]:
        return {header: self.cleaned_data.get(name) or "" for header, name in self.columns}

    def field_for(self, service_field: str | None) -> str | None:
        """A service's error field (map.<header>, mapping, key, mode) as this form's field name."""
        if service_field and service_field.startswith("map."):
            header = service_field[4:]
            return next((name for h, name in self.columns if h == header), None)
        return service_field if service_field in self.fields else None
