from __future__ import annotations

from contextlib import contextmanager

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from leadwerk.imports import services
from leadwerk.imports.models import ImportJob


def upload(by, text: str | bytes, name: str = "people.csv", encoding: str = "utf-8") -> ImportJob:
    data = text if isinstance(text, bytes) else text.encode(encoding)
    return services.import_upload(by=by, upload=SimpleUploadedFile(name, data), name=name)


def run(by, text: str | bytes, *, mode: str = "update", key: str = "email", mapping=None, **kwargs) -> ImportJob:
    """Upload, configure with the suggested mapping, start; tasks run at once in tests."""
    job = upload(by, text, **kwargs)
    services.import_configure(job=job, by=by, mapping=mapping or job.mapping, mode=mode, key=key)
    with tasks_run():
        services.import_start(job=job, by=by)
    job.refresh_from_db()
    return job


@contextmanager
def tasks_run():
    """Run the tasks enqueued on commit at the end of the block (tests never commit their transaction)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield


def crash_in_third_chunk_then_resume(by, monkeypatch) -> tuple[tuple[str, int, int], ImportJob]:
    """Seven people in chunks of two (the caller sets the chunk size); the third chunk's write fails, then
    the import is resumed. Returns (status, rows done, people) after the crash, and the job at the end."""
    from django.db import IntegrityError
    from django.db.backends.utils import CursorWrapper

    from leadwerk.contacts.models import Person

    lines = ["Vorname;Nachname;E-Mail"] + [f"P{i};Name{i};p{i}@example.de" for i in range(7)]
    job = upload(by, "\n".join(lines) + "\n")
    services.import_configure(job=job, by=by, mapping=job.mapping)
    real = CursorWrapper.executemany
    calls = {"n": 0}

    def crash_in_third_chunk(self, sql, params):
        if "imports_importchange" in sql:
            calls["n"] += 1
            if calls["n"] == 3:
                raise IntegrityError("simulated crash")
        return real(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "executemany", crash_in_third_chunk)
    with tasks_run():
        services.import_start(job=job, by=by)
    job.refresh_from_db()
    after_crash = (job.status, job.rows_done, Person.objects.count())
    monkeypatch.setattr(CursorWrapper, "executemany", real)
    with tasks_run():
        services.import_resume(job=job, by=by)
    job.refresh_from_db()
    return after_crash, job
