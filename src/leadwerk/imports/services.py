"""Every change an import makes: upload, mapping, dry run, run in chunks, cancel, resume, undo, templates.

The stages stay apart so another target can plug in (see targets/): parse (parsing.py) → map
(mapping.py) → validate, match and load (the target's loader, one chunk at a time).

Crash safety: each chunk is one transaction holding its rows, its change history, its rejected rows and
the job's new ``rows_done``. A crash or stop leaves whole chunks only; resuming continues after
``rows_done`` and so never imports a row twice.

Audit trail: one audit-log entry per job event (start, finish, cancel, failure, undo) with the counts,
plus the ``ImportChange`` table: one compact row per record created or changed (previous values for
changes). Per-row audit-log entries are deliberately not written; at a million rows they would
double the import's time and the audit table's size.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leadwerk.accounts.models import Membership
from leadwerk.accounts.services import member_language
from leadwerk.contacts.roles import CONTACT_WRITERS
from leadwerk.core import heap
from leadwerk.core.exceptions import Conflict, DomainError, NotFound, ValidationFailed
from leadwerk.core.sqlite.checkpoint import background_checkpoints

from . import parsing, preparing
from .mapping import mapping_check, suggest_mapping
from .models import ImportChange, ImportJob, ImportRejection, ImportTemplate
from .targets import ChunkResult, get_target

log = logging.getLogger(__name__)
S = ImportJob.Status
REJECTION_SAMPLE = 10


class NotAllowed(NotFound):
    """Another tenant's or an unprivileged role's import: as if it did not exist."""

    def __init__(self) -> None:
        super().__init__(_("Not found."))


def _require(by: Membership, obj=None) -> None:
    if not by.is_active or by.role not in CONTACT_WRITERS or (obj is not None and obj.tenant_id != by.tenant_id):
        raise NotAllowed()


def _audit(job: ImportJob, by: Membership | None, event: str, extra: dict | None = None) -> None:
    from leadwerk.accounts.models import AuditEntry
    from leadwerk.accounts.services import audit_note

    audit_note(
        tenant_id=job.tenant_id,
        by=by,
        model=ImportJob,
        object_pk=job.pk,
        text=f"Import {job.file_name}: {event}",
        action=AuditEntry.Action.CREATE if event == "start" else AuditEntry.Action.UPDATE,
        changes={"import": [None, event], **{k: [None, v] for k, v in (extra or {}).items()}},
        extra={"job": job.pk, "target": job.target},
    )


# --- upload and mapping ------------------------------------------------------------------------


def _template_for(tenant_id: int, target: str, headers: list[str]) -> ImportTemplate | None:
    for template in ImportTemplate.objects.filter(tenant_id=tenant_id, target=target).order_by("-updated_at"):
        if template.headers == headers:
            return template
    return None


@transaction.atomic
def import_upload(*, by: Membership, upload, name: str, target: str = "person") -> ImportJob:
    """Store the file (as UTF-8 CSV), read its header, and suggest a mapping (a saved template's if it fits)."""
    _require(by)
    try:
        spec = get_target(target)
    except KeyError:
        raise ValidationFailed(_("Choose what to import."), field="target") from None
    prepared = parsing.prepare_upload(upload, name=name)
    # A rolled-back upload must not leave its file behind.
    stored = parsing.stored_path(prepared.stored_file)
    job = ImportJob(
        tenant_id=by.tenant_id,
        target=spec.key,
        created_by=by,
        file_name=(name or "import.csv")[:200],
        file_size=getattr(upload, "size", 0) or 0,
        stored_file=prepared.stored_file,
        source_format=prepared.source_format,
        source_encoding=prepared.source_encoding,
        delimiter=prepared.delimiter,
        headers=prepared.headers,
        total_rows=prepared.total_rows,
    )
    template = _template_for(by.tenant_id, spec.key, prepared.headers)
    if template is not None:
        job.mapping = {h: template.mapping.get(h, "") for h in prepared.headers}
        job.mode = template.options.get("mode", job.mode)
        job.key = template.options.get("key", job.key)
        job.all_or_nothing = bool(template.options.get("all_or_nothing", False))
        job.options = dict(template.options.get("target_options") or _suggested_options(spec, job.mapping))
        job.validation = {"template": template.name}
    else:
        job.mapping = suggest_mapping(prepared.headers, spec.fields(by.tenant_id))
        job.options = _suggested_options(spec, job.mapping)
    try:
        job.save()
    except Exception:
        stored.unlink(missing_ok=True)
        raise
    return job


def _suggested_options(spec, mapping: dict[str, str]) -> dict:
    """A target's options as the suggested mapping implies them (lead history columns: history mode)."""
    if spec.options_check is None:
        return {}
    try:
        return spec.options_check(mapping, {})
    except ValidationFailed:
        return spec.options_check(mapping, {"history": True, "keep_columns": True})


def import_preview(*, job: ImportJob, rows: int = 10) -> list[list[str]]:
    return parsing.preview(parsing.stored_path(job.stored_file), job.delimiter, len(job.headers), rows)


@transaction.atomic
def import_configure(
    *,
    job: ImportJob,
    by: Membership,
    mapping: Mapping[str, str],
    mode: str = "update",
    key: str = "email",
    all_or_nothing: bool = False,
    options: Mapping[str, Any] | None = None,
) -> ImportJob:
    """Set the column mapping and options of an import that has not started (``options``: the target's)."""
    _require(by, job)
    if job.status != S.UPLOADED:
        raise Conflict(_("This import has already started."))
    spec = get_target(job.target)
    if mode not in ImportJob.Mode.values:
        raise ValidationFailed(_("Choose update or insert only."), field="mode")
    if key not in spec.keys:
        raise ValidationFailed(_("Choose e-mail or external id as key."), field="key")
    clean = mapping_check(job.headers, mapping, spec.fields(job.tenant_id))
    if mode == ImportJob.Mode.UPDATE and key not in clean.values():
        raise ValidationFailed(_("Map a column to the key field, or choose insert only."), field="key")
    if options is not None or spec.options_check is not None:
        given = dict(job.options if options is None else options)
        job.options = spec.options_check(clean, given) if spec.options_check is not None else {}
    job.mapping, job.mode, job.key, job.all_or_nothing = clean, mode, key, bool(all_or_nothing)
    job.validation = {}
    job.save(update_fields=["mapping", "mode", "key", "all_or_nothing", "options", "validation", "updated_at"])
    return job


def import_validate(*, job: ImportJob, by: Membership) -> dict[str, Any]:
    """The dry run: what the first rows (up to IMPORT_DRY_RUN_ROWS) would do. Nothing is written."""
    _require(by, job)
    spec = get_target(job.target)
    mapping_check(job.headers, job.mapping, spec.fields(job.tenant_id))
    loader = spec.loader(job, by)
    limit = settings.IMPORT_DRY_RUN_ROWS
    path = parsing.stored_path(job.stored_file)
    rows = next(parsing.read_chunks(path, job.delimiter, len(job.headers), offset=0, size=limit), [])
    with transaction.atomic():
        result = loader.process(rows, 2, write=False)
        transaction.set_rollback(True)  # belt and braces: a dry run never writes
    summary = {
        "rows_checked": len(rows),
        "total_rows": job.total_rows,
        "counts": result.counts,
        "rejections": [[number, column, message] for number, column, message, _cells in result.rejections][
            :REJECTION_SAMPLE
        ],
    }
    ImportJob.objects.filter(pk=job.pk).update(validation=summary)
    job.validation = summary
    return summary


# --- running -------------------------------------------------------------------------------------


@transaction.atomic
def import_start(*, job: ImportJob, by: Membership) -> ImportJob:
    """Queue the import as a background job."""
    _require(by, job)
    if job.status != S.UPLOADED:
        raise Conflict(_("This import has already started."))
    spec = get_target(job.target)
    mapping_check(job.headers, job.mapping, spec.fields(job.tenant_id))
    if spec.options_check is not None:
        spec.options_check(job.mapping, job.options)
    job.status = S.QUEUED
    job.language = translation.get_language() or ""
    job.save(update_fields=["status", "language", "updated_at"])
    _audit(job, by, "start", {"rows": job.total_rows, "mode": job.mode, "key": job.key})
    _enqueue_run(job)
    return job


def _enqueue_run(job: ImportJob) -> None:
    from .tasks import import_run

    job_id = job.pk
    transaction.on_commit(lambda: import_run.enqueue(job_id=job_id))


@transaction.atomic
def import_cancel(*, job: ImportJob, by: Membership) -> ImportJob:
    """Stop after the current chunk; a queued import stops at once."""
    _require(by, job)
    if job.status == S.QUEUED:
        job.status = S.CANCELLED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at", "updated_at"])
        _audit(job, by, "cancel", job.counts)
    elif job.status == S.RUNNING:
        ImportJob.objects.filter(pk=job.pk).update(cancel_requested=True)
        job.cancel_requested = True
    else:
        raise Conflict(_("This import is not running."))
    return job


@transaction.atomic
def import_resume(*, job: ImportJob, by: Membership) -> ImportJob:
    """Continue a stopped, failed or interrupted import after its last committed chunk."""
    _require(by, job)
    if job.status not in (S.FAILED, S.CANCELLED, S.RUNNING):
        raise Conflict(_("Only a stopped or failed import can be resumed."))
    job.status = S.QUEUED
    job.cancel_requested = False
    job.message = ""
    job.language = translation.get_language() or job.language
    job.save(update_fields=["status", "cancel_requested", "message", "language", "updated_at"])
    _audit(job, by, "resume", {"rows_done": job.rows_done})
    _enqueue_run(job)
    return job


def _merge_counts(total: dict, part: dict) -> dict:
    merged = dict(total)
    for key, value in part.items():
        merged[key] = merged.get(key, 0) + value
    return merged


def _store_rejections(job: ImportJob, result: ChunkResult) -> None:
    ImportRejection.objects.bulk_create(
        [
            ImportRejection(
                tenant_id=job.tenant_id,
                job=job,
                row_number=number,
                column=column[:200],
                message=message[:300],
                values=cells,
            )
            for number, column, message, cells in result.rejections
        ],
        batch_size=500,
    )


def _chunks(job: ImportJob, offset: int, size: int) -> Iterator[tuple[int, list[tuple]]]:
    path = parsing.stored_path(job.stored_file)
    first = offset
    for rows in parsing.read_chunks(path, job.delimiter, len(job.headers), offset=offset, size=size):
        yield first, rows
        first += len(rows)


def _timed_next(chunks: Iterator, clock: dict):
    mark = time.perf_counter()
    try:
        return next(chunks)
    except StopIteration:
        return None
    finally:
        clock["wait"] += time.perf_counter() - mark


def _chunk_steps(job: ImportJob, loader, size: int) -> Iterator[tuple[int, int, Callable[[], ChunkResult]]]:
    """(first row index, rows, the step that loads the chunk) from the last committed chunk on.

    A large file is prepared one chunk ahead in a second process (see preparing); otherwise each chunk
    is prepared and loaded in one step.
    """
    if preparing.wanted(loader, job.total_rows - job.rows_done):
        path = parsing.stored_path(job.stored_file)
        for first, count, prepared in preparing.prepared_chunks(
            loader, path, job.delimiter, len(job.headers), offset=job.rows_done, size=size
        ):
            yield first, count, partial(loader.load, prepared, write=True)
        return
    for first, rows in _chunks(job, job.rows_done, size):
        yield first, len(rows), partial(loader.process, rows, first + 2, write=True)  # +2: header, 1-based


def import_process(job_id: int, *, chunk_rows: int | None = None) -> ImportJob:
    """The worker's body: load the file chunk by chunk from the last committed one. Tasks call this."""
    job = ImportJob.objects.select_related("created_by__tenant", "created_by__user").get(pk=job_id)
    # Rejection reasons and messages are stored as text: in the language the import was started in (that of the
    # request; for jobs from before that was recorded, the member's).
    language = job.language or (member_language(job.created_by) if job.created_by else settings.LANGUAGE_CODE)
    with translation.override(language):
        return _import_process(job, chunk_rows)


def _import_process(job: ImportJob, chunk_rows: int | None) -> ImportJob:
    if job.status not in (S.QUEUED, S.RUNNING):
        return job
    by = job.created_by
    size = chunk_rows or settings.IMPORT_CHUNK_ROWS
    try:
        if by is None or not by.is_active or by.role not in CONTACT_WRITERS:
            raise Conflict(_("The member who started this import may no longer import."))
        ImportJob.objects.filter(pk=job.pk).update(status=S.RUNNING, started_at=job.started_at or timezone.now())
        job.status = S.RUNNING
        spec = get_target(job.target)
        loader = spec.loader(job, by)
        if job.all_or_nothing and job.rows_done == 0 and not _all_rows_valid(job, loader, size):
            return job
        chunks = _chunk_steps(job, loader, size)
        clock = {"wait": 0.0, "load": 0.0, "commit": 0.0, "rows": 0}  # seconds, for the log line at the end
        started = time.perf_counter()
        with background_checkpoints(connection) as checkpoints, heap.bulk_job():
            try:
                while (chunk := _timed_next(chunks, clock)) is not None:
                    first, count, step = chunk
                    with transaction.atomic():
                        mark = time.perf_counter()
                        result = step()
                        _store_rejections(job, result)
                        job.rows_done = first + count
                        job.counts = _merge_counts(job.counts, result.counts)
                        ImportJob.objects.filter(pk=job.pk).update(
                            rows_done=job.rows_done, counts=job.counts, updated_at=timezone.now()
                        )
                        committing = time.perf_counter()
                        clock["load"] += committing - mark
                    if checkpoints is not None:
                        checkpoints.committed()  # waits for the copy if the log grew too long: counted as commit
                    clock["commit"] += time.perf_counter() - committing
                    clock["rows"] += count
                    if ImportJob.objects.filter(pk=job.pk, cancel_requested=True).exists():
                        _finish(job, by, S.CANCELLED)
                        return job
            finally:
                chunks.close()  # stops a preparing process early on cancel or error
                log.info(
                    "import %s: %s rows in %.1f s; waiting for prepared rows %.1f s, matching and writing %.1f s, "
                    "committing %.1f s (%s of the commits waited for a WAL checkpoint)",
                    job.pk, clock["rows"], time.perf_counter() - started, clock["wait"], clock["load"], clock["commit"],
                    checkpoints.waits if checkpoints is not None else 0,
                )  # fmt: skip
        _finish(job, by, S.DONE)
    except Exception as exc:
        message = (
            exc.message
            if isinstance(exc, DomainError)
            else _("The import stopped with an error: %(error)s") % {"error": str(exc)[:300]}
        )
        ImportJob.objects.filter(pk=job.pk).update(status=S.FAILED, message=message[:500], updated_at=timezone.now())
        job.status, job.message = S.FAILED, message
        _audit(job, by, "failure", {"rows_done": job.rows_done, "error": message[:200]})
        log.exception("import %s failed after %s rows", job.pk, job.rows_done)
        raise
    return job


def _all_rows_valid(job: ImportJob, loader, size: int) -> bool:
    """All-or-nothing: check every row first (nothing written); one bad row and the import stops."""
    failed = False
    for first, rows in _chunks(job, 0, size):
        with transaction.atomic():
            result = loader.process(rows, first + 2, write=False)
            transaction.set_rollback(True)
        if result.rejections:
            failed = True
            _store_rejections(job, result)
    if failed:
        count = ImportRejection.objects.filter(job=job).count()
        job.counts = {"rejected": count}
        message = _("Nothing was imported: %(n)s rows are not valid (all or nothing).") % {"n": count}
        ImportJob.objects.filter(pk=job.pk).update(
            status=S.FAILED, counts=job.counts, message=message, finished_at=timezone.now()
        )
        job.status, job.message = S.FAILED, message
        _audit(job, job.created_by, "failure", job.counts)
    return not failed


def _finish(job: ImportJob, by: Membership, status: str) -> None:
    with transaction.atomic():
        now = timezone.now()
        ImportJob.objects.filter(pk=job.pk).update(status=status, finished_at=now, updated_at=now)
        job.status, job.finished_at = status, now
        _audit(job, by, "finish" if status == S.DONE else "cancel", job.counts)


# --- undo ----------------------------------------------------------------------------------------


@transaction.atomic
def import_undo(*, job: ImportJob, by: Membership) -> ImportJob:
    """Revert the whole batch in the background: created records deleted, changed ones restored."""
    _require(by, job)
    if job.status not in (S.DONE, S.CANCELLED, S.FAILED) or not job.changes.exists():
        raise Conflict(_("Only a finished or stopped import with changes can be undone."))
    job.status = S.UNDOING
    job.save(update_fields=["status", "updated_at"])
    _audit(job, by, "undo requested")
    from .tasks import import_undo_run

    job_id, by_id = job.pk, by.pk
    transaction.on_commit(lambda: import_undo_run.enqueue(job_id=job_id, by_id=by_id))
    return job


def import_undo_process(job_id: int, by_id: int) -> ImportJob:
    job = ImportJob.objects.get(pk=job_id)
    by = Membership.objects.select_related("tenant", "user").get(pk=by_id)
    if job.status != S.UNDOING:
        return job
    loader = get_target(job.target).loader(job, by)
    ids = list(job.changes.order_by("record_id").values_list("record_id", flat=True).distinct())
    totals: dict[str, Any] = {"deleted": 0, "restored": 0, "conflicts": []}
    for start in range(0, len(ids), 2000):
        batch = ids[start : start + 2000]
        with transaction.atomic():
            report = loader.undo(list(ImportChange.objects.filter(job=job, record_id__in=batch).order_by("pk")))
        totals["deleted"] += len(report["deleted"])
        totals["restored"] += len(report["restored"])
        totals["conflicts"] += report["conflicts"]
    with transaction.atomic():
        now = timezone.now()
        summary = {
            "deleted": totals["deleted"],
            "restored": totals["restored"],
            "conflicts": len(totals["conflicts"]),
            "conflict_sample": totals["conflicts"][:100],
        }
        ImportJob.objects.filter(pk=job.pk).update(status=S.UNDONE, undone_at=now, undo_report=summary, updated_at=now)
        job.status, job.undone_at, job.undo_report = S.UNDONE, now, summary
        _audit(job, by, "undo", {k: v for k, v in summary.items() if k != "conflict_sample"})
    return job


# --- templates, files, clean-up ------------------------------------------------------------------


@transaction.atomic
def template_save(
    *,
    by: Membership,
    name: str,
    headers: list[str],
    mapping: Mapping[str, str],
    target: str = "person",
    options: Mapping[str, Any] | None = None,
) -> ImportTemplate:
    """Save (or replace) a named mapping; it is applied to later files with the same headers."""
    _require(by)
    name = " ".join((name or "").split())[:80]
    if not name:
        raise ValidationFailed(_("Give the template a name."), field="name")
    spec = get_target(target)
    clean = mapping_check(headers, mapping, spec.fields(by.tenant_id))
    opts = {k: v for k, v in (options or {}).items() if k in ("mode", "key", "all_or_nothing", "target_options")}
    template, _created = ImportTemplate.objects.update_or_create(
        tenant_id=by.tenant_id,
        target=spec.key,
        name=name,
        defaults={"headers": list(headers), "mapping": clean, "options": opts, "created_by": by},
    )
    return template


@transaction.atomic
def template_delete(*, template: ImportTemplate, by: Membership) -> None:
    _require(by, template)
    template.delete()


def rejected_rows(job: ImportJob) -> tuple[list[str], Iterator[list]]:
    """The bad rows as they came, plus line, column and reason: header and rows for core.exports.file_response."""
    header = [*job.headers, _("Line"), _("Column"), _("Reason")]

    def rows():
        for rejection in job.rejections.order_by("row_number").iterator(chunk_size=2000):
            cells = list(rejection.values)[: len(job.headers)]
            cells += [""] * (len(job.headers) - len(cells))
            yield [*cells, rejection.row_number, rejection.column, rejection.message]

    return header, rows()


@transaction.atomic
def import_delete(*, job: ImportJob, by: Membership) -> None:
    """Remove the job, its file, its history and rejected rows (the people it imported stay)."""
    _require(by, job)
    if job.is_active:
        raise Conflict(_("Stop the import before deleting it."))
    _delete_job(job)


def _delete_job(job: ImportJob) -> None:
    path = parsing.stored_path(job.stored_file)
    job.delete()
    transaction.on_commit(lambda: path.unlink(missing_ok=True))


def imports_purge_expired(*, now=None) -> int:
    """Jobs older than IMPORT_KEEP_DAYS go with their file (the people they imported stay)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.IMPORT_KEEP_DAYS)
    count = 0
    for job in ImportJob.objects.filter(created_at__lt=cutoff).exclude(status__in=[S.QUEUED, S.RUNNING, S.UNDOING]):
        with transaction.atomic():
            _delete_job(job)
        count += 1
    return count
