"""Background jobs run through the real huey storage: SqliteHuey by default, RedisHuey with REDIS_URL."""

from __future__ import annotations

import pytest
from django.conf import settings
from huey.contrib.djhuey import HUEY

from leadwerk.accounts import tasks


@pytest.fixture
def queued_mode():
    """Switch off immediate mode so the job really goes into the queue and a consumer step runs it."""
    HUEY.immediate = False
    HUEY.flush()
    yield HUEY
    HUEY.flush()
    HUEY.immediate = True


def test_backend_matches_configuration():
    expected = "RedisHuey" if settings.REDIS_URL else "SqliteHuey"
    assert type(HUEY).__name__ == expected
    assert HUEY.storage.__class__.__name__ != "MemoryStorage"


# A real consumer closes stale DB connections around each job, so these tests commit for real.
# available_apps makes the flush afterwards TRUNCATE … CASCADE (auditlog's unused default table has FKs).
real_db = pytest.mark.django_db(transaction=True, available_apps=settings.INSTALLED_APPS)


@real_db
def test_task_goes_through_the_queue_and_reports_its_result(tenant, queued_mode):
    result = tasks.ping.enqueue(tenant_id=tenant.pk, value="hello")
    assert queued_mode.pending_count() == 1
    # One step of a consumer: take the job from the queue and run it.
    job = queued_mode.dequeue()
    queued_mode.execute(job)
    assert queued_mode.pending_count() == 0
    result.refresh()
    assert result.status.name == "SUCCESSFUL"
    assert result.return_value == {"tenant": tenant.slug, "value": "hello"}


@real_db
def test_failed_task_records_its_error(queued_mode):
    result = tasks.ping.enqueue(tenant_id=999999, value="x")
    job = queued_mode.dequeue()
    queued_mode.execute(job)  # huey logs the failure; the job does not crash the consumer
    result.refresh()
    assert result.status.name == "FAILED"
    assert "DoesNotExist" in result.errors[0].exception_class_path


def test_jobs_are_enqueued_on_commit_and_run_at_once_in_tests(tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.ping.enqueue(tenant_id=tenant.pk, value="now")
        assert result.status.name == "READY"  # nothing runs before the transaction commits
    result.refresh()
    assert result.status.name == "SUCCESSFUL"
    assert result.return_value["value"] == "now"


def test_periodic_job_is_registered():
    names = {task.__name__ for task in HUEY._registry._periodic_tasks}
    assert any("sessions_clear_expired" in name for name in names)
