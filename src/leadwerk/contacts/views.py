"""Screens of the marketing database: people, organisations, consent, suppressions."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from leadwerk.accounts.decorators import tenant_view
from leadwerk.accounts.models import AuditEntry
from leadwerk.accounts.roles import MEMBER_ADMINS
from leadwerk.core.exceptions import DomainError
from leadwerk.core.exports import file_response
from leadwerk.core.htmx import form_error, partial_template
from leadwerk.core.paging import keyset_paginate

from . import selectors, services
from .forms import (
    AttributeDefinitionForm,
    ConsentForm,
    OrganizationFilterForm,
    OrganizationForm,
    PersonBulkForm,
    PersonFilterForm,
    PersonForm,
    PersonSuppressForm,
    SuppressionForm,
)
from .merge import merged_person_ids
from .models import (
    AttributeDefinition,
    Channel,
    ConsentStatus,
    Merge,
    Organization,
    Person,
    Segment,
    Suppression,
    Tag,
)
from .normalize import FLAG_LABELS
from .roles import CONTACT_ADMINS, CONTACT_EXPORTERS, CONTACT_READERS, CONTACT_WRITERS

PAGE_SIZE = 50


# --- people -----------------------------------------------------------------------------------


@tenant_view(roles=CONTACT_READERS)
def person_list(request: HttpRequest) -> HttpResponse:
    form = PersonFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    people = selectors.person_filter(membership=request.membership, filters=filters)
    sort = filters.get("sort") or "name"
    page = keyset_paginate(
        people.select_related("organization"),
        key="last_name_key" if sort == "name" else "-pk",
        cursor=filters.get("cursor"),
        size=PAGE_SIZE,
    )
    context = {
        "page": page,
        "filters": filters,
        "channels": Channel.choices,
        "statuses": ConsentStatus.choices,
        "tags": Tag.objects.visible_to(request.membership).order_by("name"),
        "can_write": request.membership.role in CONTACT_WRITERS,
        "can_export": request.membership.role in CONTACT_EXPORTERS,
        "can_bulk": request.membership.role in CONTACT_WRITERS | CONTACT_EXPORTERS,
        "segments": Segment.objects.visible_to(request.membership).order_by("name")
        if request.membership.role in CONTACT_WRITERS
        else [],
    }
    return render(request, partial_template(request, "contacts/person_list.html", "person-table"), context)


@tenant_view(roles=CONTACT_WRITERS)
def person_create(request: HttpRequest) -> HttpResponse:
    form = PersonForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.person_create(
                by=request.membership,
                data=form.data_values(),
                attributes=form.attribute_values(),
                tags=form.tag_names(),
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            if not result.created:
                messages.info(request, _("This person already existed; the record was completed with your input."))
                if result.kept:
                    messages.warning(request, _kept_message(result.kept))
            elif result.match is not None:
                messages.warning(request, _("Saved. It looks like a possible duplicate; please review it."))
            else:
                messages.success(request, _("%(name)s saved.") % {"name": result.person.full_name})
            return redirect("contacts:person_detail", tenant=request.tenant.slug, pk=result.person.pk)
    return render(request, "contacts/person_form.html", {"form": form, "person": None})


def _kept_message(kept: dict) -> str:
    """What a create that found the person already there did not take over, so the user can decide."""
    parts = []
    for name, (have, given) in kept.items():
        label = capfirst(Person._meta.get_field(name).verbose_name)
        if isinstance(given, bool):
            have, given = (_("yes") if v else _("no") for v in (have, given))
        parts.append(_("%(field)s: kept “%(kept)s”, not “%(given)s”") % {"field": label, "kept": have, "given": given})
    return _("The record already had other values; edit it to change them. %(fields)s.") % {"fields": "; ".join(parts)}


def _merge_name(done: Merge) -> str:
    """The merged-away record's name, from the merge's snapshot of it."""
    fields = (done.snapshot.get("other") or [{}])[0].get("fields", {})
    return " ".join(part for part in (fields.get("first_name"), fields.get("last_name")) if part) or f"#{done.other_pk}"


def _merged_away(request: HttpRequest, pk: int) -> HttpResponse:
    """An old link to a record merged into another leads to the record it became part of (if visible)."""
    done = (
        Merge.objects.visible_to(request.membership)
        .filter(other_pk=pk, undone_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if done is None or not Person.objects.visible_to(request.membership).filter(pk=done.survivor_pk).exists():
        raise Http404
    messages.info(request, _("This record was merged into the one shown here."))
    return redirect("contacts:person_detail", tenant=request.tenant.slug, pk=done.survivor_pk)


@tenant_view(roles=CONTACT_READERS)
def person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = (
        Person.objects.visible_to(request.membership)
        .select_related("organization", "duplicate_of")
        .filter(pk=pk)
        .first()
    )
    if person is None:
        return _merged_away(request, pk)
    return render(request, "contacts/person_detail.html", _person_context(request, person))


def _person_context(request: HttpRequest, person: Person, consent_form: ConsentForm | None = None) -> dict:
    consents = person.consents.select_related("recorded_by__user")
    entries = (
        AuditEntry.objects.filter(
            tenant_id=person.tenant_id,
            content_type__model="person",
            # Records merged into this one keep their own entries; they show here (contacts/merge.py).
            object_pk__in=[str(pk) for pk in (person.pk, *merged_person_ids(person))],
        )
        .select_related("actor")
        .order_by("-timestamp")[:50]
    )
    labels = dict(
        AttributeDefinition.objects.filter(tenant_id=person.tenant_id, record_type="person").values_list("key", "label")
    )
    timeline = [(entry, selectors.audit_changes(entry, Person, labels)) for entry in entries]
    return {
        "person": person,
        "current_consent": [
            (value, label, person.consent_for(value), ConsentStatus(person.consent_for(value)).label)
            for value, label in Channel.choices
        ],
        "consents": consents,
        "timeline": timeline,
        "merges": [
            (done, _merge_name(done))
            for done in Merge.objects.visible_to(request.membership)
            .filter(survivor_pk=person.pk, undone_at__isnull=True)
            .select_related("by__user")
            .order_by("-created_at")[:10]
        ],
        "affiliations": person.affiliations.select_related("organization"),
        "flags": [FLAG_LABELS.get(flag, flag) for flag in person.quality_flags],
        "attributes": selectors.attribute_display(person.tenant_id, "person", person.attributes),
        "tags": person.tags.all(),
        "consent_form": consent_form or ConsentForm(),
        "suppress_form": PersonSuppressForm(),
        "can_write": request.membership.role in CONTACT_WRITERS,
        "can_consent": request.membership.role in CONTACT_WRITERS | CONTACT_ADMINS,
    }


@tenant_view(roles=CONTACT_WRITERS)
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person.objects.visible_to(request.membership), pk=pk)
    form = PersonForm(request.POST or None, instance=person, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            person.refresh_from_db()
            services.person_update(
                person=person, by=request.membership, data=form.data_values(), attributes=form.attribute_values()
            )
            services.person_tags_set(person=person, by=request.membership, names=form.tag_names())
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("contacts:person_detail", tenant=request.tenant.slug, pk=person.pk)
    return render(request, "contacts/person_form.html", {"form": form, "person": person})


@tenant_view(roles=CONTACT_WRITERS)
def person_delete(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person.objects.visible_to(request.membership), pk=pk)
    if request.method == "POST":
        services.person_delete(person=person, by=request.membership)
        messages.success(request, _("%(name)s deleted.") % {"name": person.full_name})
        return redirect("contacts:person_list", tenant=request.tenant.slug)
    return render(request, partial_template(request, "contacts/person_delete.html", "dialog"), {"person": person})


@tenant_view(roles=CONTACT_WRITERS | CONTACT_ADMINS)
@require_POST
def person_consent(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person.objects.visible_to(request.membership), pk=pk)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            services.consent_record(person=person, by=request.membership, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Consent recorded."))
            return redirect("contacts:person_detail", tenant=request.tenant.slug, pk=person.pk)
    # The page again with the form as it was sent and its field errors (nothing recorded).
    return render(request, "contacts/person_detail.html", _person_context(request, person, form), status=422)


@tenant_view(roles=CONTACT_ADMINS)
@require_POST
def person_suppress(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Person.objects.visible_to(request.membership), pk=pk)
    form = PersonSuppressForm(request.POST)
    if form.is_valid():
        try:
            entries = services.person_suppress(by=request.membership, person=person, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            text = ngettext(
                "Blocked for marketing; %(count)s address or number is on the suppression list.",
                "Blocked for marketing; %(count)s addresses and numbers are on the suppression list.",
                len(entries),
            )
            messages.success(request, text % {"count": len(entries)})
            return redirect("contacts:person_detail", tenant=request.tenant.slug, pk=person.pk)
    context = _person_context(request, person) | {"suppress_form": form}
    return render(request, "contacts/person_detail.html", context, status=422)


PERSON_EXPORT_COLUMNS = [
    ("salutation", gettext_lazy("Salutation")),
    ("title", gettext_lazy("Title")),
    ("first_name", gettext_lazy("First name")),
    ("last_name", gettext_lazy("Last name")),
    ("organization__name", gettext_lazy("Organisation")),
    ("position", gettext_lazy("Position")),
    ("department", gettext_lazy("Department")),
    ("email", gettext_lazy("E-mail")),
    ("phone", gettext_lazy("Phone")),
    ("mobile", gettext_lazy("Mobile")),
    ("street", gettext_lazy("Street and number")),
    ("postcode", gettext_lazy("Postcode")),
    ("city", gettext_lazy("City")),
    ("country", gettext_lazy("Country")),
    ("language", gettext_lazy("Language")),
    ("consent_email", gettext_lazy("Consent e-mail")),
    ("consent_phone", gettext_lazy("Consent phone")),
    ("consent_post", gettext_lazy("Consent post")),
    ("consent_sms", gettext_lazy("Consent SMS")),
    ("external_id", gettext_lazy("External id")),
]
# Columns whose stored codes the file shows as the screens do, in the user's language.
EXPORT_CHOICES = ("salutation", "consent_email", "consent_phone", "consent_post", "consent_sms")


def _people_file(request: HttpRequest, people, filters: dict, file_format: str, what: str = "people") -> HttpResponse:
    """People as CSV or XLSX in the user's language, with the tenant's attributes; audit-logged."""
    people = people.order_by("last_name_key", "pk")
    attributes = list(AttributeDefinition.objects.filter(tenant=request.tenant, record_type="person"))
    fields = [name for name, _label in PERSON_EXPORT_COLUMNS]
    header = [str(label) for _name, label in PERSON_EXPORT_COLUMNS] + [d.label for d in attributes]
    count = people.count()

    labels = {
        at: {value: str(label) for value, label in Person._meta.get_field(name).flatchoices if value}
        for at, name in enumerate(fields)
        if name in EXPORT_CHOICES
    }

    def rows():
        for values in people.values_list(*fields, "attributes").iterator(chunk_size=2000):
            attrs = values[-1] or {}
            extra = [", ".join(v) if isinstance(v := attrs.get(d.key, ""), list) else v for d in attributes]
            row = list(values[:-1])
            for at, names in labels.items():
                row[at] = names.get(row[at], row[at])
            yield [*row, *extra]

    services.export_record(by=request.membership, what=what, rows=count, file_format=file_format, filters=filters)
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    filename = f"{request.tenant.slug}-people-{stamp}.{file_format}"
    return file_response(header, rows(), file_format=file_format, filename=filename, sheet=str(_("People")))


@tenant_view(roles=CONTACT_EXPORTERS)
def person_export(request: HttpRequest) -> HttpResponse:
    """The current list (same filters) as CSV or XLSX, in the user's language; audit-logged."""
    form = PersonFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        # Never fall back to "everything" when the filter was meant to narrow the export.
        messages.error(request, _("The export filter is not valid; nothing was exported."))
        return redirect("contacts:person_list", tenant=request.tenant.slug)
    filters = form.cleaned_data if request.GET else {}
    file_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    people = selectors.person_filter(membership=request.membership, filters=filters)
    return _people_file(request, people, filters, file_format)


BULK_ROLES = {
    "segment": CONTACT_WRITERS,
    "tag": CONTACT_WRITERS,
    "untag": CONTACT_WRITERS,
    "delete": CONTACT_WRITERS,
    "export_csv": CONTACT_EXPORTERS,
    "export_xlsx": CONTACT_EXPORTERS,
}


def _list_url(request: HttpRequest, filter_form: PersonFilterForm) -> str:
    """The people list with the search and filters the bulk form carried along (not the page: rows may be gone)."""
    params = [(name, value) for name in filter_form.fields if name != "cursor" for value in request.POST.getlist(name)]
    url = reverse("contacts:person_list", kwargs={"tenant": request.tenant.slug})
    params = [(name, value) for name, value in params if value != ""]
    return f"{url}?{urlencode(params)}" if params else url


@tenant_view(roles=CONTACT_WRITERS | CONTACT_EXPORTERS)
@require_POST
def person_bulk(request: HttpRequest) -> HttpResponse:
    """Bulk actions of the people list: on the ticked rows or on everything the list's filter matches."""
    form = PersonBulkForm(request.POST, ids=request.POST.getlist("ids"))
    filter_form = PersonFilterForm(request.POST)
    filters = filter_form.cleaned_data if filter_form.is_valid() else None
    back = redirect(_list_url(request, filter_form))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return back
    action, scope = form.cleaned_data["action"], form.cleaned_data["scope"]
    if request.membership.role not in BULK_ROLES[action]:
        raise Http404("Not available for this role.")
    if scope == "filter":
        if filters is None:
            messages.error(request, _("The list's filter is not valid; nothing was changed."))
            return back
        filters = {k: v for k, v in filters.items() if k != "cursor"}
        people = selectors.person_filter(membership=request.membership, filters=filters)
    else:
        filters = {"ids": len(form.cleaned_data["ids"])}
        people = Person.objects.visible_to(request.membership).filter(pk__in=form.cleaned_data["ids"])
    if action in {"export_csv", "export_xlsx"}:
        return _people_file(request, people, filters, action.removeprefix("export_"), what="people (bulk)")
    if action == "delete" and not form.cleaned_data["confirm"]:
        context = {
            "count": people.count(),
            "sample": people.order_by("last_name_key", "pk")[:10],
            "post": request.POST,
            "limit": services.BULK_DELETE_LIMIT,
            "list_url": _list_url(request, filter_form),
        }
        return render(request, "contacts/person_bulk_delete.html", context)
    try:
        if action == "segment":
            from . import segment_services

            segment = get_object_or_404(Segment.objects.visible_to(request.membership), pk=form.cleaned_data["segment"])
            ids = list(people.values_list("pk", flat=True)[:10_001])
            done = segment_services.segment_members_add(segment=segment, by=request.membership, person_ids=ids)
            text = ngettext("%(count)s person added to %(name)s.", "%(count)s people added to %(name)s.", done)
            messages.success(request, text % {"count": done, "name": segment.name})
        elif action == "delete":
            done = services.people_delete(by=request.membership, people=people)
            messages.success(
                request, ngettext("%(count)s person deleted.", "%(count)s people deleted.", done) % {"count": done}
            )
        else:
            done = services.people_tag(
                by=request.membership, people=people, tag_name=form.cleaned_data["tag_name"], remove=action == "untag"
            )
            if action == "untag":
                text = ngettext("Tag removed from %(count)s person.", "Tag removed from %(count)s people.", done)
            else:
                text = ngettext("Tag added to %(count)s person.", "Tag added to %(count)s people.", done)
            messages.success(request, text % {"count": done})
    except DomainError as exc:
        messages.error(request, str(exc))
    return back


# --- organisations ------------------------------------------------------------------------------


@tenant_view(roles=CONTACT_READERS)
def organization_list(request: HttpRequest) -> HttpResponse:
    form = OrganizationFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    orgs = selectors.organization_filter(membership=request.membership, filters=filters)
    page = keyset_paginate(orgs, key="name_key", cursor=filters.get("cursor"), size=PAGE_SIZE)
    context = {
        "page": page,
        "form": form,
        "filters": filters,
        "query": filters.get("q", ""),
        "filtered": any(v for k, v in filters.items() if k != "cursor"),
        "employees": Organization.Employees.choices,
        "revenues": Organization.Revenue.choices,
        "legal_forms": Organization.LegalForm.choices,
        "tags": Tag.objects.visible_to(request.membership).filter(organizationtag__isnull=False).distinct(),
        "can_write": request.membership.role in CONTACT_WRITERS,
        "can_export": request.membership.role in CONTACT_EXPORTERS,
    }
    return render(request, partial_template(request, "contacts/organization_list.html", "organization-table"), context)


ORGANIZATION_EXPORT_COLUMNS = [
    ("name", gettext_lazy("Name")),
    ("legal_form", gettext_lazy("Legal form")),
    ("industry_code", gettext_lazy("Industry (WZ 2008)")),
    ("employees", gettext_lazy("Employees")),
    ("revenue", gettext_lazy("Annual revenue")),
    ("street", gettext_lazy("Street and number")),
    ("postcode", gettext_lazy("Postcode")),
    ("city", gettext_lazy("City")),
    ("state", gettext_lazy("State")),
    ("country", gettext_lazy("Country")),
    ("website", gettext_lazy("Website")),
    ("email", gettext_lazy("General e-mail")),
    ("phone", gettext_lazy("Switchboard")),
    ("vat_id", gettext_lazy("VAT id")),
    ("parent__name", gettext_lazy("Parent organisation")),
    ("external_id", gettext_lazy("External id")),
]


@tenant_view(roles=CONTACT_EXPORTERS)
def organization_export(request: HttpRequest) -> HttpResponse:
    """The organisation list (same filters) as CSV or XLSX in the user's language; audit-logged."""
    form = OrganizationFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        messages.error(request, _("The export filter is not valid; nothing was exported."))
        return redirect("contacts:organization_list", tenant=request.tenant.slug)
    filters = {k: v for k, v in (form.cleaned_data if request.GET else {}).items() if k != "cursor"}
    file_format = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    orgs = selectors.organization_filter(membership=request.membership, filters=filters).order_by("name_key", "pk")
    attributes = list(AttributeDefinition.objects.filter(tenant=request.tenant, record_type="organization"))
    fields = [name for name, _label in ORGANIZATION_EXPORT_COLUMNS]
    header = [str(label) for _name, label in ORGANIZATION_EXPORT_COLUMNS] + [d.label for d in attributes]
    count = orgs.count()
    employees, revenues = dict(Organization.Employees.choices), dict(Organization.Revenue.choices)
    legal_forms = dict(Organization.LegalForm.choices)

    def rows():
        for values in orgs.values_list(*fields, "attributes").iterator(chunk_size=2000):
            row = dict(zip(fields, values[:-1], strict=True))
            row["employees"] = str(employees.get(row["employees"], row["employees"]))
            row["revenue"] = str(revenues.get(row["revenue"], row["revenue"]))
            row["legal_form"] = str(legal_forms.get(row["legal_form"], row["legal_form"]))
            attrs = values[-1] or {}
            extra = [", ".join(v) if isinstance(v := attrs.get(d.key, ""), list) else v for d in attributes]
            yield [*row.values(), *extra]

    services.export_record(
        by=request.membership, what="organisations", rows=count, file_format=file_format, filters=filters
    )
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    filename = f"{request.tenant.slug}-organisations-{stamp}.{file_format}"
    sheet = str(_("Organisations"))
    return file_response(header, rows(), file_format=file_format, filename=filename, sheet=sheet)


@tenant_view(roles=CONTACT_WRITERS)
def organization_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_create(
                by=request.membership, data=form.data_values(), attributes=form.attribute_values()
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": org})
            return redirect("contacts:organization_detail", tenant=request.tenant.slug, pk=org.pk)
    return render(request, "contacts/organization_form.html", {"form": form, "organization": None})


@tenant_view(roles=CONTACT_READERS)
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(
        Organization.objects.visible_to(request.membership)
        .select_related("parent")
        .prefetch_related(Prefetch("children", queryset=Organization.objects.order_by("name_key"))),
        pk=pk,
    )
    people = org.people.order_by("last_name_key", "pk")[:200]
    context = {
        "organization": org,
        "people": people,
        "flags": [FLAG_LABELS.get(flag, flag) for flag in org.quality_flags],
        "attributes": selectors.attribute_display(org.tenant_id, "organization", org.attributes),
        "can_write": request.membership.role in CONTACT_WRITERS,
    }
    return render(request, "contacts/organization_detail.html", context)


@tenant_view(roles=CONTACT_WRITERS)
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(Organization.objects.visible_to(request.membership), pk=pk)
    form = OrganizationForm(request.POST or None, instance=org, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            org.refresh_from_db()
            services.organization_update(
                organization=org, by=request.membership, data=form.data_values(), attributes=form.attribute_values()
            )
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("contacts:organization_detail", tenant=request.tenant.slug, pk=org.pk)
    return render(request, "contacts/organization_form.html", {"form": form, "organization": org})


@tenant_view(roles=CONTACT_WRITERS)
@require_POST
def organization_delete(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_object_or_404(Organization.objects.visible_to(request.membership), pk=pk)
    services.organization_delete(organization=org, by=request.membership)
    messages.success(request, _("%(name)s deleted; its people stay.") % {"name": org})
    return redirect("contacts:organization_list", tenant=request.tenant.slug)


# --- attributes --------------------------------------------------------------------------------------


@tenant_view(roles=MEMBER_ADMINS)
def attribute_list(request: HttpRequest) -> HttpResponse:
    form = AttributeDefinitionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "choices"}
        try:
            definition = services.attribute_define(by=request.membership, choices=form.choice_list(), **data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Attribute %(label)s added.") % {"label": definition.label})
            return redirect("contacts:attribute_list", tenant=request.tenant.slug)
    definitions = AttributeDefinition.objects.visible_to(request.membership)
    return render(request, "contacts/attribute_list.html", {"form": form, "definitions": definitions})


@tenant_view(roles=MEMBER_ADMINS)
@require_POST
def attribute_delete(request: HttpRequest, pk: int) -> HttpResponse:
    definition = get_object_or_404(AttributeDefinition.objects.visible_to(request.membership), pk=pk)
    services.attribute_delete(definition=definition, by=request.membership)
    messages.success(request, _("Attribute %(label)s removed.") % {"label": definition.label})
    return redirect("contacts:attribute_list", tenant=request.tenant.slug)


# --- suppressions --------------------------------------------------------------------------------


@tenant_view(roles=CONTACT_ADMINS)
def suppression_list(request: HttpRequest) -> HttpResponse:
    form = SuppressionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.suppression_add(by=request.membership, **form.cleaned_data)
        except DomainError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Blocked for marketing."))
            return redirect("contacts:suppression_list", tenant=request.tenant.slug)
    entries = (
        Suppression.objects.visible_to(request.membership).select_related("created_by__user").order_by("-created_at")
    )
    page = keyset_paginate(entries, key="-pk", cursor=request.GET.get("cursor"), size=PAGE_SIZE)
    return render(request, "contacts/suppression_list.html", {"form": form, "page": page})
