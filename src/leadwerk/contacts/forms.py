from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from leadwerk.accounts.models import Tenant
from leadwerk.core.widgets import DateInput

from .models import AttributeDefinition, Channel, Consent, ConsentStatus, Organization, Person, Suppression


def attribute_fields(tenant: Tenant, record_type: str, initial: dict | None = None) -> dict[str, forms.Field]:
    """Form fields for the tenant's attributes, named ``attr_<key>``; the service validates the values again."""
    T = AttributeDefinition.Type
    fields: dict[str, forms.Field] = {}
    for d in AttributeDefinition.objects.filter(tenant=tenant, record_type=record_type):
        common = {"label": d.label, "required": d.required, "initial": (initial or {}).get(d.key)}
        match d.type:
            case T.NUMBER:
                field = forms.DecimalField(**common)
            case T.DATE:
                field = forms.DateField(widget=DateInput(), **common)
            case T.BOOLEAN:
                common["required"] = False
                field = forms.BooleanField(**common)
            case T.CHOICE:
                field = forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in d.choices]], **common)
            case T.MULTICHOICE:
                field = forms.MultipleChoiceField(
                    choices=[(c, c) for c in d.choices], widget=forms.CheckboxSelectMultiple, **common
                )
            case _:
                field = forms.CharField(max_length=500, **common)
        fields[f"attr_{d.key}"] = field
    return fields


class _AttributeFormMixin:
    record_type = ""

    def _add_attributes(self, tenant: Tenant, initial: dict | None) -> None:
        self.fields.update(attribute_fields(tenant, self.record_type, initial))

    def attribute_values(self) -> dict:
        return {
            name.removeprefix("attr_"): value for name, value in self.cleaned_data.items() if name.startswith("attr_")
        }

    def data_values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if not k.startswith("attr_") and k != "tags"}


class PersonForm(_AttributeFormMixin, forms.ModelForm):
    record_type = "person"
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate with commas."))

    class Meta:
        model = Person
        fields = [
            "salutation", "title", "first_name", "last_name", "organization", "position", "department",
            "email", "phone", "mobile", "use_organization_address", "street", "postcode", "city", "country",
            "language", "birth_year", "external_id",
        ]  # fmt: skip
        widgets = {"email": forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off"})}

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.for_tenant(tenant.pk).order_by("name_key")
        self.fields["country"].initial = tenant.country
        instance = kwargs.get("instance")
        self._add_attributes(tenant, instance.attributes if instance else None)
        if instance is not None and instance.pk:
            self.fields["tags"].initial = ", ".join(instance.tags.values_list("name", flat=True))

    def tag_names(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data.get("tags", "").split(",") if part.strip()]


class OrganizationForm(_AttributeFormMixin, forms.ModelForm):
    record_type = "organization"

    class Meta:
        model = Organization
        fields = [
            "name", "legal_form", "industry_code", "employees", "revenue", "website", "vat_id", "email", "phone",
            "street", "postcode", "city", "country", "parent", "external_id",
        ]  # fmt: skip

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        parents = Organization.objects.for_tenant(tenant.pk).order_by("name_key")
        instance = kwargs.get("instance")
        if instance is not None and instance.pk:
            parents = parents.exclude(pk=instance.pk)
        self.fields["parent"].queryset = parents
        self.fields["country"].initial = tenant.country
        self._add_attributes(tenant, instance.attributes if instance else None)


class AttributeDefinitionForm(forms.Form):
    record_type = forms.ChoiceField(label=_("For"), choices=AttributeDefinition.RecordType.choices)
    label = forms.CharField(label=_("Label"), max_length=80)
    key = forms.SlugField(
        label=_("Key"),
        max_length=40,
        help_text=_("Letters, digits, underscores or hyphens (stored in lower case); used in imports and the API."),
    )
    type = forms.ChoiceField(label=_("Type"), choices=AttributeDefinition.Type.choices)
    choices = forms.CharField(
        label=_("Choices"), required=False, help_text=_("For choice types: separate with commas.")
    )
    required = forms.BooleanField(label=_("Required"), required=False)

    def choice_list(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data.get("choices", "").split(",") if part.strip()]


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    status = forms.ChoiceField(label=_("Status"), choices=ConsentStatus.choices)
    source = forms.ChoiceField(label=_("Source"), choices=Consent.Source.choices, initial=Consent.Source.USER)
    proof_form = forms.CharField(label=_("Form or document"), required=False, max_length=200)
    wording_version = forms.CharField(label=_("Wording version"), required=False, max_length=40)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class SuppressionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Suppression.Kind.choices)
    value = forms.CharField(label=_("E-mail address or phone number"), max_length=254)
    reason = forms.ChoiceField(label=_("Reason"), choices=Suppression.Reason.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class PersonSuppressForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=Suppression.Reason.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class PersonFilterForm(forms.Form):
    q = forms.CharField(required=False)
    consent = forms.ChoiceField(required=False, choices=[("", ""), *Channel.choices])
    consent_status = forms.ChoiceField(required=False, choices=[("", ""), *ConsentStatus.choices])
    tag = forms.CharField(required=False)
    flags = forms.ChoiceField(
        required=False, choices=[("", ""), ("any", "any"), ("duplicates", "duplicates"), ("suppressed", "suppressed")]
    )
    sort = forms.ChoiceField(required=False, choices=[("name", "name"), ("newest", "newest")])
    cursor = forms.CharField(required=False)


class PersonBulkForm(forms.Form):
    """One action on the ticked people of a list page, or on everyone the list's filter matches."""

    ACTIONS = [
        ("tag", _("Add tag")),
        ("untag", _("Remove tag")),
        ("segment", _("Add to segment")),
        ("export_csv", _("Export as CSV")),
        ("export_xlsx", _("Export as XLSX")),
        ("delete", _("Delete")),
    ]
    SCOPES = [("selected", _("The ticked people")), ("filter", _("Everyone matching the filter"))]

    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    scope = forms.ChoiceField(label=_("Apply to"), choices=SCOPES, initial="selected")
    ids = forms.TypedMultipleChoiceField(required=False, coerce=int)
    tag_name = forms.CharField(label=_("Tag"), required=False, max_length=60)
    segment = forms.IntegerField(label=_("Segment"), required=False)
    confirm = forms.BooleanField(required=False)

    def __init__(self, *args, ids: list[int] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Ids are checked against the tenant by the service; here they only need to be numbers.
        self.fields["ids"].choices = [(str(pk), str(pk)) for pk in (ids or [])]

    def clean(self):
        data = super().clean()
        if data.get("scope") == "selected" and not data.get("ids"):
            self.add_error("ids", _("Tick at least one person, or apply the action to everyone matching the filter."))
        if data.get("action") in {"tag", "untag"} and not (data.get("tag_name") or "").strip():
            self.add_error("tag_name", _("Enter the tag to add or remove."))
        if data.get("action") == "segment" and not data.get("segment"):
            self.add_error("segment", _("Choose the segment to add the people to."))
        return data


class OrganizationFilterForm(forms.Form):
    q = forms.CharField(required=False)
    industry = forms.RegexField(
        required=False, regex=r"^[A-Ua-u0-9.]{1,8}$", error_messages={"invalid": _("Enter a WZ 2008 code or prefix.")}
    )
    employees = forms.ChoiceField(required=False, choices=[("", ""), *Organization.Employees.choices])
    revenue = forms.ChoiceField(required=False, choices=[("", ""), *Organization.Revenue.choices])
    legal_form = forms.ChoiceField(required=False, choices=[("", ""), *Organization.LegalForm.choices])
    tag = forms.CharField(required=False)
    cursor = forms.CharField(required=False)
