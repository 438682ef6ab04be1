from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from leadwerk.accounts.models import Membership, Team, Tenant
from leadwerk.contacts.models import Person
from leadwerk.core.widgets import DateInput, DateTimeInput

from .models import Activity, Channel, FollowUp, InterestCategory, Lead, LeadReason, Rating
from .roles import LEAD_WORKERS
from .states import Status


class LeadCaptureForm(forms.Form):
    """Manual entry: who (matched against the marketing database) and what they are interested in."""

    salutation = forms.ChoiceField(
        label=_("Salutation"), required=False, choices=[("", "—"), *Person.Salutation.choices]
    )
    first_name = forms.CharField(label=_("First name"), required=False, max_length=80)
    last_name = forms.CharField(label=_("Last name"), max_length=80)
    email = forms.CharField(label=_("E-mail"), required=False, max_length=254)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    postcode = forms.CharField(label=_("Postcode"), required=False, max_length=12)
    city = forms.CharField(label=_("City"), required=False, max_length=80)
    interest = forms.ModelChoiceField(label=_("Interest"), queryset=InterestCategory.objects.none(), required=False)
    title = forms.CharField(label=_("Subject"), required=False, max_length=200)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    source = forms.CharField(label=_("Source"), required=False, max_length=120)
    rating = forms.ChoiceField(label=_("Rating"), required=False, choices=[("", "—"), *Rating.choices])
    estimated_value = forms.DecimalField(label=_("Estimated value (€)"), required=False, min_value=0, max_digits=12)
    message = forms.CharField(label=_("Message or note"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    PERSON_FIELDS = ("salutation", "first_name", "last_name", "email", "phone", "postcode", "city")

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["interest"].queryset = InterestCategory.objects.for_tenant(tenant.pk).filter(active=True)

    def person_data(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.PERSON_FIELDS if self.cleaned_data.get(k) not in (None, "")}

    def lead_data(self) -> dict:
        keys = ("interest", "title", "source", "rating", "estimated_value", "message")
        return {k: self.cleaned_data[k] for k in keys if self.cleaned_data.get(k) not in (None, "")}


class QualificationForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = Lead
        fields = ["title", "interest", "rating", "budget", "authority", "need", "timeline", "estimated_value"]
        widgets = {"authority": forms.NullBooleanSelect}

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["interest"].queryset = InterestCategory.objects.for_tenant(tenant.pk)
        self.fields["version"].initial = self.instance.version
        from .question_views import question_form_fields  # the tenant's own questions, after BANT

        self.fields.update(question_form_fields(tenant.pk, self.instance.qualification or {}))

    def changes(self) -> dict:
        from .question_views import ANSWER, question_answers

        data = {k: v for k, v in self.cleaned_data.items() if k != "version" and not k.startswith(ANSWER)}
        data["qualification"] = question_answers(self.cleaned_data, self.instance.qualification or {})
        return data


class TransitionForm(forms.Form):
    to = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    reason = forms.ModelChoiceField(label=_("Reason"), queryset=LeadReason.objects.none(), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)
    recontact_on = forms.DateField(label=_("Re-contact on"), required=False, widget=DateInput())
    won_value = forms.DecimalField(label=_("Won value (€)"), required=False, min_value=0, max_digits=12)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, tenant: Tenant, **kwargs):
        kwargs.setdefault("auto_id", "status_%s")  # unique ids beside the lead page's other forms
        super().__init__(*args, **kwargs)
        reasons = LeadReason.objects.for_tenant(tenant.pk).filter(active=True)
        self.fields["reason"].queryset = reasons
        # Grouped by list, so a lost reason is not picked for a disqualification by mistake.
        groups = {kind: [] for kind in LeadReason.Kind.values}
        for reason in reasons:
            groups[reason.kind].append((reason.pk, reason.label))
        self.fields["reason"].choices = [("", "—")] + [
            (LeadReason.Kind(kind).label, items) for kind, items in groups.items() if items
        ]


class AssignForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Assign to"), queryset=Membership.objects.none(), required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    reason = forms.CharField(label=_("Why"), required=False, max_length=300)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, tenant: Tenant, **kwargs):
        kwargs.setdefault("auto_id", "assign_%s")  # unique ids beside the lead page's other forms
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            Membership.objects.filter(tenant=tenant, is_active=True, role__in=LEAD_WORKERS)
            .select_related("user")
            .order_by("user__full_name")
        )
        self.fields["owner"].label_from_instance = lambda m: m.user.full_name or m.user.email
        self.fields["team"].queryset = Team.objects.filter(tenant=tenant).order_by("name")


class InterestForm(forms.Form):
    name = forms.CharField(label=_("Interest"), max_length=120)
    key = forms.SlugField(label=_("Key"), max_length=40, help_text=_("Used in imports and the API, e.g. e-suv."))


class ReasonForm(forms.Form):
    kind = forms.ChoiceField(label=_("List"), choices=LeadReason.Kind.choices)
    label = forms.CharField(label=_("Reason"), max_length=120)


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"), choices=[c for c in Activity.Kind.choices if c[0] != Activity.Kind.RESPONSE]
    )
    outcome = forms.ChoiceField(label=_("Outcome"), required=False, choices=[("", "—"), *Activity.Outcome.choices])
    duration_minutes = forms.IntegerField(label=_("Minutes"), required=False, min_value=0, max_value=24 * 60)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "activity_%s")  # unique ids beside the lead page's other forms
        super().__init__(*args, **kwargs)


class FollowUpForm(forms.Form):
    due_at = forms.DateTimeField(label=_("Due"), widget=DateTimeInput())
    kind = forms.ChoiceField(label=_("Type"), choices=FollowUp.Kind.choices, initial=FollowUp.Kind.CALL)
    assignee = forms.ModelChoiceField(label=_("For"), queryset=Membership.objects.none(), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, tenant: Tenant, **kwargs):
        kwargs.setdefault("auto_id", "follow_%s")  # unique ids beside the lead page's other forms
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = (
            Membership.objects.filter(tenant=tenant, is_active=True, role__in=LEAD_WORKERS)
            .select_related("user")
            .order_by("user__full_name")
        )
        self.fields["assignee"].label_from_instance = lambda m: m.user.full_name or m.user.email


class InboxFilterForm(forms.Form):
    VIEWS = [("mine", _("Mine")), ("team", _("My team")), ("unassigned", _("Unassigned")),
             ("overdue", _("Overdue follow-ups")), ("all", _("All"))]  # fmt: skip
    view = forms.ChoiceField(required=False, choices=VIEWS)
    status = forms.ChoiceField(required=False, choices=[("", ""), ("open", "open"), *Status.choices])
    interest = forms.CharField(required=False)
    grade = forms.ChoiceField(required=False, choices=[("", ""), ("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")])
    sort = forms.ChoiceField(required=False, choices=[("newest", "newest"), ("score", "score"), ("sla", "sla")])
    sla = forms.ChoiceField(required=False, choices=[("", ""), ("overdue", "overdue"), ("due_soon", "due_soon"),
                                                     ("on_time", "on_time")])  # fmt: skip
    cursor = forms.CharField(required=False)
