"""Screens of the import: jobs list and upload, mapping with preview and dry run, progress, result, undo."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadwerk.accounts.decorators import tenant_view
from leadwerk.contacts.roles import CONTACT_WRITERS
from leadwerk.core.exceptions import DomainError
from leadwerk.core.exports import file_response
from leadwerk.core.htmx import partial_template

from . import services
from .forms import MappingForm, UploadForm
from .models import ImportJob, ImportTemplate
from .targets import get_target

REJECTIONS_SHOWN = 50


def _job(request: HttpRequest, pk: int) -> ImportJob:
    return get_object_or_404(ImportJob.objects.visible_to(request.membership).select_related("created_by__user"), pk=pk)


@tenant_view(roles=CONTACT_WRITERS)
def import_list(request: HttpRequest) -> HttpResponse:
    return render(request, "imports/import_list.html", _list_context(request, UploadForm()))


def _list_context(request: HttpRequest, form: UploadForm) -> dict:
    jobs = list(ImportJob.objects.visible_to(request.membership).select_related("created_by__user")[:100])
    for job in jobs:
        job.count_rows = [(label, value) for label, value in _count_rows(job) if value]
    return {
        "jobs": jobs,
        "form": form,
        "templates": ImportTemplate.objects.visible_to(request.membership),
        "max_mb": settings.IMPORT_MAX_BYTES // (1024 * 1024),
    }


@tenant_view(roles=CONTACT_WRITERS)
@require_POST
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_upload(
                by=request.membership, upload=upload, name=upload.name, target=form.cleaned_data["target"] or "person"
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in ("file", "target") else None, exc.message)
        else:
            return redirect("imports:detail", tenant=request.tenant.slug, pk=job.pk)
    context = _list_context(request, form)
    return render(request, "imports/import_list.html", context, status=422)


def _mapping_context(request: HttpRequest, job: ImportJob, form: MappingForm | None = None) -> dict:
    fields = get_target(job.target).fields(job.tenant_id)
    form = form or MappingForm(job=job, fields=fields)
    preview = services.import_preview(job=job, rows=5)
    return {
        "job": job,
        "form": form,
        "columns": [
            (header, form[name], [row[index] if index < len(row) else "" for row in preview])
            for index, (header, name) in enumerate(form.columns)
        ],
    }


@tenant_view(roles=CONTACT_WRITERS)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.status == ImportJob.Status.UPLOADED:
        return render(request, "imports/import_mapping.html", _mapping_context(request, job))
    rejections = list(job.rejections.all()[: REJECTIONS_SHOWN + 1])
    context = {
        "job": job,
        "rejections": rejections[:REJECTIONS_SHOWN],
        "rejections_more": len(rejections) > REJECTIONS_SHOWN,
        "rejections_total": max(job.counts.get("rejected", 0), len(rejections)),
        "counts": _count_rows(job),
    }
    return render(request, partial_template(request, "imports/import_detail.html", "live"), context)


# Counters only a lead import has (shown for other imports only if not 0, as is "existing" outside insert-only).
LEAD_COUNTS = {"responses", "people_created", "reasons_created"}


def _count_rows(job: ImportJob) -> list[tuple[str, int]]:
    labels = [
        ("created", _("created")),
        ("responses", _("added as response to an open lead")),
        ("people_created", _("people created")),
        ("reasons_created", _("reasons created")),
        ("updated", _("updated")),
        ("merged", _("merged into existing duplicates")),
        ("flagged", _("flagged as probable duplicates")),
        ("quality", _("with a value to check, kept as given")),
        ("unchanged", _("unchanged")),
        ("existing", _("already there (insert only)")),
        ("rejected", _("rejected")),
    ]
    counts = {**job.counts, "quality": _quality(job.counts)}
    relevant = {key for key, _label in labels}
    if job.target != "lead":
        relevant -= LEAD_COUNTS
    if job.mode != "insert":
        relevant.discard("existing")
    return [(label, counts.get(key, 0)) for key, label in labels if key in relevant or counts.get(key)]


def _quality(counts: dict[str, int]) -> int:
    """Rows written with a value that could not be normalised (a lead import counts them on its people)."""
    return counts.get("quality", 0) + counts.get("people_quality", 0)


@tenant_view(roles=CONTACT_WRITERS)
@require_POST
def import_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    job = _job(request, pk)
    by = request.membership
    if action in ("validate", "start", "template"):
        return _mapping_post(request, job, action)
    handlers = {
        "cancel": (services.import_cancel, _("The import stops after the current chunk.")),
        "resume": (services.import_resume, _("The import continues after the last saved chunk.")),
        "undo": (services.import_undo, _("The import is being undone.")),
    }
    if action == "delete":
        try:
            services.import_delete(job=job, by=by)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("imports:detail", tenant=request.tenant.slug, pk=job.pk)
        messages.success(request, _("Import deleted."))
        return redirect("imports:list", tenant=request.tenant.slug)
    if action not in handlers:
        raise Http404
    handler, done = handlers[action]
    try:
        handler(job=job, by=by)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("imports:detail", tenant=request.tenant.slug, pk=job.pk)


def _mapping_post(request: HttpRequest, job: ImportJob, action: str) -> HttpResponse:
    fields = get_target(job.target).fields(job.tenant_id)
    form = MappingForm(request.POST, job=job, fields=fields)
    if job.status != ImportJob.Status.UPLOADED:
        messages.error(request, _("This import has already started."))
        return redirect("imports:detail", tenant=request.tenant.slug, pk=job.pk)
    context_extra = {}
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.import_configure(
                job=job,
                by=request.membership,
                mapping=form.mapping(),
                mode=data["mode"],
                key=data["key"],
                all_or_nothing=data["all_or_nothing"],
                options=form.options(),
            )
            if action == "template" or data.get("template_name"):
                if not data.get("template_name"):
                    raise DomainError(_("Give the template a name."), field="template_name")
                services.template_save(
                    by=request.membership,
                    name=data["template_name"],
                    headers=job.headers,
                    mapping=job.mapping,
                    target=job.target,
                    options={
                        "mode": job.mode,
                        "key": job.key,
                        "all_or_nothing": job.all_or_nothing,
                        "target_options": job.options,
                    },
                )
                messages.success(request, _("Template “%(name)s” saved.") % {"name": data["template_name"]})
            if action == "validate":
                summary = services.import_validate(job=job, by=request.membership)
                context_extra = {"summary": summary, "summary_rows": _summary_rows(summary["counts"])}
            elif action == "start":
                services.import_start(job=job, by=request.membership)
                return redirect("imports:detail", tenant=request.tenant.slug, pk=job.pk)
        except DomainError as exc:
            form.add_error(form.field_for(exc.field), exc.message)
    context = _mapping_context(request, job, form) | context_extra
    return render(request, "imports/import_mapping.html", context, status=200 if form.is_valid() else 422)


def _summary_rows(counts: dict[str, int]) -> list[tuple[str, int]]:
    lead_rows = [
        (_("would be added as response to an open lead"), counts.get("responses", 0)),
        (_("people would be created"), counts.get("people_created", 0)),
    ]
    return [
        (_("would be created"), counts.get("created", 0)),
        *[(label, value) for label, value in lead_rows if value],
        (_("of them flagged as probable duplicates"), counts.get("flagged", 0)),
        (_("would be updated or completed"), counts.get("updated", 0) + counts.get("merged", 0)),
        (_("with a value to check, kept as given"), _quality(counts)),
        (_("unchanged or already there"), counts.get("unchanged", 0) + counts.get("existing", 0)),
        (_("would be rejected"), counts.get("rejected", 0)),
    ]


@tenant_view(roles=CONTACT_WRITERS)
def import_rejected(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    header, rows = services.rejected_rows(job)
    return file_response(header, rows, file_format="csv", filename=f"import-{job.pk}-rejected.csv")
