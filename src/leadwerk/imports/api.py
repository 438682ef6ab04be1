"""Import jobs over the API: upload (with mapping and options at once, or later), status, rejected rows, undo.

The same services as the screens; another tenant's job or a role without import rights answers 404.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from leadwerk.core.exceptions import ValidationFailed
from leadwerk.core.exports import file_response

from . import services
from .models import ImportJob, ImportTemplate

router = Router(tags=["imports"])


class ImportOut(Schema):
    id: int
    target: str
    status: str
    file_name: str
    headers: list[str]
    total_rows: int
    rows_done: int
    progress: int
    mapping: dict[str, str]
    mode: str
    key: str
    all_or_nothing: bool
    options: dict[str, Any]
    counts: dict[str, int]
    validation: dict[str, Any]
    message: str
    undo_report: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportOptions(Schema):
    target: str = Field("person", description="person, or lead (lead files, with history)")
    options: dict[str, bool] | None = Field(
        None, description="The target's options; lead: history, create_reasons, keep_columns"
    )
    mapping: dict[str, str] | None = Field(None, description="Column header → target field; omitted: suggested")
    mode: str = Field("update", description="update (by key) or insert (insert only)")
    key: str = Field("email", description="email or external_id")
    all_or_nothing: bool = False
    run: bool = Field(False, description="Start at once (otherwise: PUT mapping, then POST run)")


class MappingIn(Schema):
    mapping: dict[str, str]
    mode: str = "update"
    key: str = "email"
    all_or_nothing: bool = False
    options: dict[str, bool] | None = None


class TemplateIn(Schema):
    name: str
    headers: list[str]
    mapping: dict[str, str]
    target: str = "person"
    options: dict[str, Any] = {}


class TemplateOut(Schema):
    id: int
    name: str
    target: str
    headers: list[str]
    mapping: dict[str, str]
    options: dict[str, Any]


def _job(request: HttpRequest, job_id: int) -> ImportJob:
    return get_object_or_404(ImportJob.objects.visible_to(request.membership), pk=job_id)


@router.post("/imports", response={201: ImportOut}, summary="Upload a CSV or XLSX file (multipart), optionally run it")
def import_create(request: HttpRequest, file: File[UploadedFile], options: Form[str] = "{}"):
    try:
        opts = ImportOptions.model_validate(json.loads(options or "{}"))
    except (ValueError, TypeError) as exc:
        raise ValidationFailed("options must be a JSON object with mapping, mode, key, all_or_nothing, run.",
                               field="options") from exc  # fmt: skip
    services_membership = request.membership
    job = services.import_upload(
        by=services_membership, upload=file, name=file.name or "import.csv", target=opts.target
    )
    configure = opts.mapping is not None or opts.options is not None or opts.mode != "update" or opts.key != "email"
    if configure or opts.run or opts.all_or_nothing:
        services.import_configure(
            job=job,
            by=services_membership,
            mapping=opts.mapping if opts.mapping is not None else job.mapping,
            mode=opts.mode,
            key=opts.key,
            all_or_nothing=opts.all_or_nothing,
            options=opts.options,
        )
    if opts.run:
        services.import_start(job=job, by=services_membership)
    job.refresh_from_db()
    return Status(201, job)


@router.get("/imports", response=list[ImportOut], summary="Import jobs, newest first")
def import_list(request: HttpRequest, limit: int = 50, offset: int = 0):
    limit = max(1, min(limit, 200))
    return list(ImportJob.objects.visible_to(request.membership)[offset : offset + limit])


@router.get("/imports/{job_id}", response=ImportOut, summary="Status, progress and counts of an import")
def import_detail(request: HttpRequest, job_id: int):
    return _job(request, job_id)


@router.put("/imports/{job_id}/mapping", response=ImportOut, summary="Set the column mapping and options")
def import_mapping(request: HttpRequest, job_id: int, payload: MappingIn):
    job = _job(request, job_id)
    return services.import_configure(job=job, by=request.membership, **payload.model_dump())


@router.post("/imports/{job_id}/validate", response=dict[str, Any], summary="Dry run over the first rows")
def import_validate(request: HttpRequest, job_id: int):
    return services.import_validate(job=_job(request, job_id), by=request.membership)


@router.post("/imports/{job_id}/run", response={202: ImportOut}, summary="Start the import in the background")
def import_run(request: HttpRequest, job_id: int):
    job = services.import_start(job=_job(request, job_id), by=request.membership)
    job.refresh_from_db()
    return Status(202, job)


@router.post("/imports/{job_id}/cancel", response=ImportOut, summary="Stop after the current chunk")
def import_cancel(request: HttpRequest, job_id: int):
    return services.import_cancel(job=_job(request, job_id), by=request.membership)


@router.post("/imports/{job_id}/resume", response={202: ImportOut}, summary="Continue after the last committed chunk")
def import_resume(request: HttpRequest, job_id: int):
    job = services.import_resume(job=_job(request, job_id), by=request.membership)
    job.refresh_from_db()
    return Status(202, job)


@router.post("/imports/{job_id}/undo", response={202: ImportOut}, summary="Undo the whole import batch")
def import_undo(request: HttpRequest, job_id: int):
    job = services.import_undo(job=_job(request, job_id), by=request.membership)
    job.refresh_from_db()
    return Status(202, job)


@router.get("/imports/{job_id}/rejected", summary="The rejected rows as CSV: original columns plus line and reason")
def import_rejected(request: HttpRequest, job_id: int):
    job = _job(request, job_id)
    header, rows = services.rejected_rows(job)
    return file_response(header, rows, file_format="csv", filename=f"import-{job.pk}-rejected.csv")


@router.get("/import-templates", response=list[TemplateOut], summary="Saved column mappings")
def template_list(request: HttpRequest):
    return list(ImportTemplate.objects.visible_to(request.membership))


@router.post("/import-templates", response={201: TemplateOut}, summary="Save a column mapping under a name")
def template_create(request: HttpRequest, payload: TemplateIn):
    return Status(201, services.template_save(by=request.membership, **payload.model_dump()))
