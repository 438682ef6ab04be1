"""Import jobs, their row-level change history (for undo and audit), rejected rows and mapping templates."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from leadwerk.core.models import TenantModel

from .querysets import ImportQuerySet


class ImportTemplate(TenantModel):
    """A saved column mapping; offered again when a file with the same headers is uploaded."""

    name = models.CharField(_("name"), max_length=80)
    target = models.CharField(_("target"), max_length=20, default="person")
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)  # column header -> target field
    options = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey("accounts.Membership", null=True, on_delete=models.SET_NULL, related_name="+")

    objects = ImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("import template")
        verbose_name_plural = _("import templates")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "target", "name"], name="importtemplate_unique_name")]

    def __str__(self) -> str:
        return self.name


class ImportJob(TenantModel):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Stopped")  # resumable; the value stays for existing rows
        UNDOING = "undoing", _("Undoing")
        UNDONE = "undone", _("Undone")

    class Mode(models.TextChoices):
        UPDATE = "update", _("Update existing records by key")
        INSERT = "insert", _("Insert only")

    class Key(models.TextChoices):
        EMAIL = "email", _("E-mail")
        EXTERNAL_ID = "external_id", _("External id")

    target = models.CharField(_("target"), max_length=20, default="person")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.UPLOADED)
    created_by = models.ForeignKey(
        "accounts.Membership", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    file_name = models.CharField(_("file"), max_length=200)
    file_size = models.PositiveBigIntegerField(default=0)
    # The upload converted to UTF-8 CSV (path relative to settings.IMPORT_DIR); removed with the job.
    stored_file = models.CharField(max_length=200)
    source_format = models.CharField(max_length=8)  # csv or xlsx
    source_encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, default=",")
    headers = models.JSONField(default=list)
    total_rows = models.PositiveIntegerField(default=0)
    mapping = models.JSONField(default=dict, blank=True)  # column header -> target field
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.UPDATE)
    key = models.CharField(_("key"), max_length=12, choices=Key.choices, default=Key.EMAIL)
    all_or_nothing = models.BooleanField(_("all or nothing"), default=False)
    # Target-specific options, e.g. the lead target's {"history": bool, "create_reasons": bool, "keep_columns": bool}.
    options = models.JSONField(default=dict, blank=True)
    validation = models.JSONField(default=dict, blank=True)  # the dry run's summary
    # Data rows whose chunk is committed; a resumed job continues after them.
    rows_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    cancel_requested = models.BooleanField(default=False)
    message = models.CharField(max_length=500, blank=True)
    # The language of whoever started (or resumed) the job: the worker writes rejection reasons in it.
    language = models.CharField(max_length=10, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undo_report = models.JSONField(default=dict, blank=True)

    objects = ImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="importjob_tenant_created")]

    def __str__(self) -> str:
        return self.file_name

    @property
    def progress(self) -> int:
        """Per cent of the data rows committed."""
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, round(100 * self.rows_done / self.total_rows))

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING, self.Status.UNDOING)


class ImportChange(models.Model):
    """One record the import touched: the compact row-level history behind undo and the audit trail.

    ``previous`` holds the changed fields' values before the import (updates and merges only);
    ``stamp`` is the ``updated_at`` the import wrote, so undo can tell whether someone changed the
    record since.
    """

    class Action(models.TextChoices):
        CREATED = "c", _("created")
        UPDATED = "u", _("updated")
        MERGED = "m", _("merged")
        # The lead target also records the leads it wrote (record_id is then a lead's id).
        LEAD_CREATED = "l", _("lead created")
        LEAD_RESPONSE = "r", _("response added to a lead")

    # One row per record an import writes, so no index beyond (job, record): it serves the job's cascade
    # and undo; a separate tenant or job index would cost every imported row two more index writes.
    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="changes", db_index=False)
    record_id = models.BigIntegerField()
    action = models.CharField(max_length=1, choices=Action.choices)
    previous = models.JSONField(null=True)
    stamp = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["job", "record_id"], name="importchange_job_record")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.record_id}"


class ImportRejection(models.Model):
    """A row that was not imported, with the original cells and the reason."""

    tenant = models.ForeignKey("accounts.Tenant", on_delete=models.PROTECT, related_name="+")
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rejections")
    row_number = models.PositiveIntegerField()  # 1 = the first data row under the header
    column = models.CharField(max_length=200, blank=True)
    message = models.CharField(max_length=300)
    values = models.JSONField(default=list)

    class Meta:
        ordering = ["row_number"]
        indexes = [models.Index(fields=["job", "row_number"], name="importrejection_job_row")]

    def __str__(self) -> str:
        return f"{self.row_number}: {self.message}"
