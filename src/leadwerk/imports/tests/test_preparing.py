"""A large file's rows prepared in a second process give what the one-process import gives."""

from __future__ import annotations

import pytest

from leadwerk.contacts.models import Person
from leadwerk.imports import parsing, preparing, services
from leadwerk.imports.models import ImportJob, ImportRejection

from .helpers import crash_in_third_chunk_then_resume, run, tasks_run, upload

pytestmark = pytest.mark.django_db

FILE = (
    "Vorname;Nachname;E-Mail;Telefon;PLZ;Firma\n"
    "Anna;Berg;anna@example.de;030 1234567;10115;Acme GmbH\n"
    "Bernd;Kranz;bernd@example;0171 1234567;80331;\n"
    ";;;;;\n"
    "Anna;Berg;ANNA@example.de;;10115;Acme GmbH\n"
    "Carla;;carla@example.de;;10115;\n"
    "Dirk;Sommer;dirk@example.de;+49 40 123456;20095;Beta AG\n"
    "Dirk;Sommer;;;20095;Beta AG\n"
)
PEOPLE_FIELDS = ("first_name", "last_name", "email", "phone", "postcode", "quality_flags", "organization__name")


@pytest.fixture
def second_process(settings, monkeypatch):
    """Every file is prepared in the second process; records whether it was."""
    settings.IMPORT_PROCESSES = 2
    settings.IMPORT_CHUNK_ROWS = 2
    monkeypatch.setattr(preparing, "PARALLEL_MIN_ROWS", 1)
    used = []
    real = preparing.prepared_chunks

    def spy(*args, **kwargs):
        used.append(kwargs["offset"])
        yield from real(*args, **kwargs)

    monkeypatch.setattr(preparing, "prepared_chunks", spy)
    return used


def _outcome(job):
    people = sorted(Person.objects.filter(tenant_id=job.tenant_id).values_list(*PEOPLE_FIELDS))
    rejections = list(job.rejections.order_by("row_number").values_list("row_number", "column", "message"))
    return job.status, job.rows_done, job.counts, rejections, people


def test_second_process_gives_the_same_import(marketing, settings, second_process):
    settings.IMPORT_PROCESSES = 1
    serial = _outcome(run(marketing, FILE))
    assert not second_process
    Person.objects.all().delete()
    ImportJob.objects.all().delete()

    settings.IMPORT_PROCESSES = 2
    parallel = _outcome(run(marketing, FILE))
    assert second_process == [0]
    assert parallel == serial
    status, rows_done, counts, rejections, people = parallel
    assert status == ImportJob.Status.DONE and rows_done == 7
    assert counts == {"created": 3, "unchanged": 2, "rejected": 1, "quality": 1}  # the repeated Anna and Dirk
    assert rejections == [(6, "Nachname", "Enter the last name.")]
    assert ("Bernd", "Kranz", "bernd@example", "+491711234567", "80331", ["email_invalid"], None) in people


def test_crash_then_resume_in_the_second_process_imports_each_row_once(marketing, monkeypatch, second_process):
    after_crash, job = crash_in_third_chunk_then_resume(marketing, monkeypatch)
    assert after_crash == (ImportJob.Status.FAILED, 4, 4)
    assert second_process == [0, 4]  # the resumed run's child starts after the committed chunks
    assert job.status == ImportJob.Status.DONE and job.counts == {"created": 7}
    assert sorted(Person.objects.values_list("email", flat=True)) == [f"p{i}@example.de" for i in range(7)]


def test_an_error_in_the_second_process_fails_the_import_and_writes_nothing(marketing, second_process):
    job = upload(marketing, FILE)
    services.import_configure(job=job, by=marketing, mapping=job.mapping)
    parsing.stored_path(job.stored_file).unlink()  # the child cannot read the file
    with tasks_run():  # the task fails; the job says why
        services.import_start(job=job, by=marketing)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and job.rows_done == 0
    assert "Preparing rows failed" in job.message
    assert not Person.objects.exists() and not ImportRejection.objects.exists()


def test_the_worker_builds_its_fuzzy_blocks_while_the_second_process_starts(marketing, monkeypatch, second_process):
    from leadwerk.imports.targets.person import PersonLoader

    calls = []
    real_warm_up, real_load = PersonLoader.warm_up, PersonLoader.load

    def warm_up(self):
        real_warm_up(self)
        calls.append(("warm_up", self.index is not None))

    def load(self, prepared, *, write):
        calls.append(("load", self.index is not None))
        return real_load(self, prepared, write=write)

    monkeypatch.setattr(PersonLoader, "warm_up", warm_up)
    monkeypatch.setattr(PersonLoader, "load", load)
    job = run(marketing, FILE)
    assert job.status == ImportJob.Status.DONE and second_process == [0]
    # Built once, before the first chunk was loaded (7 rows against no people: the blocks pay).
    assert calls[0] == ("warm_up", True)
    assert [name for name, _built in calls].count("warm_up") == 1
    assert all(built for _name, built in calls[1:])
    assert len(calls) == 1 + 4  # chunks of two rows


def test_the_fuzzy_blocks_stay_out_of_the_collector_during_the_import_only(marketing, monkeypatch, second_process):
    """Built with collections paused and frozen (core.heap): 6.2 → 1.0 s of collections at 100,000 rows."""
    import gc

    from leadwerk.imports.targets.person import PersonLoader

    seen = []
    real_load = PersonLoader.load

    def load(self, prepared, *, write):
        seen.append(gc.get_freeze_count() > 0 and gc.isenabled())
        return real_load(self, prepared, write=write)

    monkeypatch.setattr(PersonLoader, "load", load)
    gc.unfreeze()
    job = run(marketing, FILE)
    assert job.status == ImportJob.Status.DONE and second_process == [0]
    assert seen == [True] * 4  # frozen while loading, the collector on for the chunks' own garbage
    assert gc.get_freeze_count() == 0 and gc.isenabled()  # given back when the import ended
