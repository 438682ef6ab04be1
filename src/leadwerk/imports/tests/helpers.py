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
