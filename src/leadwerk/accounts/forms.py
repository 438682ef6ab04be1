from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from leadwerk.core.widgets import DateInput

from .models import Membership, Team, Tenant
from .roles import Role


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("No team")
    )

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_tenant(tenant.pk)


class MembershipForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    team = forms.ModelChoiceField(
        label=_("Team"), queryset=Team.objects.none(), required=False, empty_label=_("No team")
    )

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.for_tenant(tenant.pk)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), max_length=255, required=False)
    lead = forms.ModelChoiceField(
        label=_("Team lead"), queryset=Membership.objects.none(), required=False, empty_label=_("No team lead")
    )

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = Membership.objects.for_tenant(tenant.pk).active().select_related("user")
        self.fields["lead"].label_from_instance = lambda m: str(m.user)


class TenantSettingsForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["name", "locale", "timezone", "country", "require_mfa"]

    def clean_country(self) -> str:
        value = self.cleaned_data["country"].strip().upper()
        if len(value) != 2 or not value.isalpha():
            raise forms.ValidationError(_("Use a two-letter country code such as DE."))
        return value


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("What uses it, e.g. “Web form” or “ERP sync”."))
    expires_at = forms.DateField(label=_("Expires on"), required=False, widget=DateInput(), help_text=_("Optional."))


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    next = forms.CharField(required=False)
