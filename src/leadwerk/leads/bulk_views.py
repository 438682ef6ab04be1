"""Bulk actions of the lead inbox: tick leads (or take all matching the filter), pick an action, fill in what it
needs, see what was done and what was refused, lead by lead."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from leadwerk.accounts.decorators import tenant_view
from leadwerk.core.exceptions import DomainError
from leadwerk.core.exports import file_response

from . import bulk
from .forms import AssignForm, FollowUpForm, InboxFilterForm, TransitionForm
from .roles import LEAD_READERS
from .states import Status
from .views import form_error

FILTER_KEYS = ("view", "status", "interest", "grade", "sla", "sort")


class BulkForm(forms.Form):
    """Which action on which leads (the inbox's bulk bar)."""

    ACTIONS = [
        ("assign", gettext_lazy("Assign")),
        ("status", gettext_lazy("Change status")),
        ("follow_up", gettext_lazy("Schedule a follow-up")),
        ("export_csv", gettext_lazy("Export as CSV")),
        ("export_xlsx", gettext_lazy("Export as XLSX")),
    ]
    SCOPES = [("selected", gettext_lazy("The ticked leads")), ("filter", gettext_lazy("All matching the filter"))]

    action = forms.ChoiceField(label=gettext_lazy("Action"), choices=ACTIONS)
    scope = forms.ChoiceField(label=gettext_lazy("Apply to"), choices=SCOPES, initial="selected")
    ids = forms.TypedMultipleChoiceField(required=False, coerce=int)

    def __init__(self, *args, ids: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # Ids are checked against what the member may see by bulk_select; here they only need to be numbers.
        self.fields["ids"].choices = [(pk, pk) for pk in (ids or []) if str(pk).isdigit()]

    def clean(self):
        data = super().clean()
        if data.get("scope") == "selected" and not data.get("ids"):
            self.add_error("ids", _("Tick at least one lead, or apply the action to all matching the filter."))
        return data

    @property
    def service_action(self) -> str:
        action = self.cleaned_data["action"]
        return "export" if action.startswith("export_") else action


class BulkStatusForm(TransitionForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].required = False
        self.fields["to"].choices = [("", "—"), *Status.choices]


class BulkAssignForm(AssignForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].required = False


PARAMETER_FORMS = {"assign": BulkAssignForm, "status": BulkStatusForm, "follow_up": FollowUpForm}
TITLES = {
    "assign": gettext_lazy("Assign leads"),
    "status": gettext_lazy("Change the status of leads"),
    "follow_up": gettext_lazy("Schedule a follow-up for leads"),
}


def _filters(request: HttpRequest) -> dict:
    form = InboxFilterForm(request.POST)
    form.is_valid()
    return {k: v for k in FILTER_KEYS if (v := form.cleaned_data.get(k))}


def _inbox_url(request: HttpRequest, filters: dict) -> str:
    url = reverse("leads:lead_inbox", kwargs={"tenant": request.tenant.slug})
    return f"{url}?{urlencode(filters)}" if filters else url


def _apply(request: HttpRequest, action: str, selection: bulk.Selection, data: dict) -> bulk.BulkOutcome:
    by = request.membership
    if action == "assign":
        return bulk.leads_assign(
            by=by, selection=selection, owner=data["owner"], team=data["team"], reason=data.get("reason", "")
        )
    if action == "status":
        return bulk.leads_transition(
            by=by,
            selection=selection,
            to=data["to"],
            reason=data.get("reason"),
            note=data.get("note", ""),
            recontact_on=data.get("recontact_on"),
            won_value=data.get("won_value"),
        )
    return bulk.leads_follow_up(
        by=by,
        selection=selection,
        due_at=data["due_at"],
        kind=data["kind"],
        assignee=data.get("assignee"),
        note=data.get("note", ""),
    )


def _export(request: HttpRequest, selection: bulk.Selection, file_format: str) -> HttpResponse:
    header, rows = bulk.leads_export_rows(by=request.membership, selection=selection, file_format=file_format)
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    return file_response(
        header,
        rows,
        file_format=file_format,
        filename=f"{request.tenant.slug}-leads-{stamp}.{file_format}",
        sheet=str(_("Leads")),
    )


@tenant_view(roles=LEAD_READERS)
@require_POST
def lead_bulk(request: HttpRequest) -> HttpResponse:
    """Step 1 (from the inbox): the action's form for the chosen leads, or the export file.
    Step 2 (``step=apply``): run the action and show what was done and refused."""
    form = BulkForm(request.POST, ids=request.POST.getlist("ids"))
    filters = _filters(request)
    back = _inbox_url(request, filters)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    action = form.service_action
    if request.membership.role not in bulk.ACTION_ROLES[action]:
        raise Http404("Not available for this role.")
    try:
        if form.cleaned_data["scope"] == "filter":
            selection = bulk.bulk_select(by=request.membership, filters=filters)
        else:
            selection = bulk.bulk_select(by=request.membership, ids=form.cleaned_data["ids"])
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if action == "export":
        return _export(request, selection, form.cleaned_data["action"].removeprefix("export_"))

    parameter_form_class = PARAMETER_FORMS[action]
    applying = request.POST.get("step") == "apply"
    parameters = parameter_form_class(request.POST if applying else None, tenant=request.tenant)
    if applying and parameters.is_valid():
        try:
            outcome = _apply(request, action, selection, parameters.cleaned_data)
        except DomainError as exc:
            form_error(parameters, exc)
        else:
            context = {"outcome": outcome, "title": TITLES[action], "back": back, "selection": selection}
            return render(request, "leads/bulk_result.html", context)
    context = {
        "form": parameters,
        "title": TITLES[action],
        "action": action,
        "bulk": form.cleaned_data,
        "ids": form.cleaned_data["ids"] if form.cleaned_data["scope"] == "selected" else [],
        "filters": filters,
        "selection": selection,
        "sample": selection.leads[:8],
        "back": back,
        "limit": bulk.BULK_LIMIT,
    }
    return render(request, "leads/bulk_form.html", context, status=422 if applying else 200)
