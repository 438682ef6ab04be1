"""SQLite as the default database: WAL, IMMEDIATE transactions and a busy timeout let web and worker write at once."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")

WRITER = """
import django, sys
django.setup()
from django.db import transaction
from leadwerk.accounts.models import Tenant, Team
tenant = Tenant.objects.get(slug="load")
for i in range(150):
    with transaction.atomic():
        team = Team.objects.create(tenant=tenant, name=f"{sys.argv[1]}-{i}")
        Team.objects.filter(pk=team.pk).update(description="x")
print("ok")
"""


def test_connections_use_wal(db):
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
    # The in-memory test database cannot use WAL; a file database does (see the next test).
    assert mode in ("wal", "memory")


def test_two_processes_write_at_once_without_locking_errors(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADWERK_", "DATABASE_URL", "REDIS_URL"))}
    env |= {"LEADWERK_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "leadwerk.settings"}
    cli = [sys.executable, "-m", "leadwerk.cli"]
    subprocess.run([*cli, "migrate", "-v0"], env=env, check=True, timeout=120)
    subprocess.run(
        [*cli, "createtenant", "--name", "Load", "--slug", "load", "--admin", "a@load.test"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, name], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for name in ("web", "worker")
    ]
    results = [w.communicate(timeout=120) for w in writers]
    for (out, err), writer in zip(results, writers, strict=True):
        assert writer.returncode == 0, err
        assert out.strip() == "ok"
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from leadwerk.accounts.models import Team; "
            "from django.db import connection; c = connection.cursor(); c.execute('PRAGMA journal_mode'); "
            "print(Team.objects.count(), c.fetchone()[0])",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert check.stdout.split() == ["300", "wal"]


def test_statistics_are_exact_not_sampled(tenant):
    """Sampled statistics rated tenant_id as selective as a postcode (bench/import: 46 rows/s)."""
    from leadwerk.contacts.models import Person
    from leadwerk.core.apps import sqlite_analyze

    Person.objects.bulk_create(
        Person(tenant=tenant, last_name=f"Name{i}", last_name_key=f"name{i}", postcode=f"{80000 + i % 50}")
        for i in range(2500)
    )
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")  # as an earlier version left it on the connection
    sqlite_analyze()
    with connection.cursor() as cursor:
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE idx = 'person_postcode_name'")
        rows, per_tenant, per_postcode, *_ = map(int, cursor.fetchone()[0].split())
    assert (rows, per_tenant, per_postcode) == (2500, 2500, 50)


def _file_database(tmp_path):
    """A second connection of the SQLite backend, to a WAL file database (the test database is in memory)."""
    from leadwerk.core.sqlite.base import DatabaseWrapper

    return DatabaseWrapper({**connection.settings_dict, "NAME": str(tmp_path / "work.sqlite3")}, alias="work")


def _autocheckpoint(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return cursor.fetchone()[0]


def test_background_checkpoints_copy_the_log_while_the_job_goes_on(db, tmp_path):
    """An import's commits no longer copy the WAL into the database themselves; a thread does (bench/import)."""
    from leadwerk.core.sqlite.checkpoint import background_checkpoints

    wrapper = _file_database(tmp_path)
    path = tmp_path / "work.sqlite3"
    with wrapper.cursor() as cursor:
        cursor.execute("CREATE TABLE chunk (payload BLOB)")
    before = path.stat().st_size
    with background_checkpoints(wrapper) as checkpoints:
        assert checkpoints is not None
        assert _autocheckpoint(wrapper) == 0  # COMMIT alone does not copy the log any more
        for _chunk in range(5):
            with wrapper.cursor() as cursor:
                cursor.executemany("INSERT INTO chunk VALUES (?)", [(os.urandom(4000),) for _ in range(100)])
            checkpoints.committed()
        assert checkpoints.wait_idle()
        assert checkpoints.checkpoints >= 1
        # The rows reached the database file itself, not only the log.
        assert path.stat().st_size >= before + 5 * 100 * 4000
    assert _autocheckpoint(wrapper) == 1000  # the connection's own checkpoints are back
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM chunk")
        assert cursor.fetchone()[0] == 500
    wrapper.close()


def _chunks(wrapper, checkpoints, count: int, *, wal) -> list[int]:
    """``count`` commits of ≈ 400 KB each, with no work between them; the log file's size after each."""
    sizes = []
    for _chunk in range(count):
        with wrapper.cursor() as cursor:
            cursor.executemany("INSERT INTO chunk VALUES (?)", [(os.urandom(4000),) for _ in range(100)])
        checkpoints.committed()
        sizes.append(wal.stat().st_size)
    return sizes


def test_a_commit_waits_for_the_checkpoint_once_the_log_is_beyond_its_limit(db, tmp_path):
    """Checkpoints that fall behind the writer would let the log grow without end (11 GB in a 1M import)."""
    from leadwerk.core.sqlite.checkpoint import background_checkpoints

    wrapper = _file_database(tmp_path)
    wal = tmp_path / "work.sqlite3-wal"
    with wrapper.cursor() as cursor:
        cursor.execute("CREATE TABLE chunk (payload BLOB)")
    with background_checkpoints(wrapper) as checkpoints:
        checkpoints.log_limit = 100_000  # a quarter of one commit's log
        (first,) = _chunks(wrapper, checkpoints, 1, wal=wal)
        assert checkpoints.wait_idle()
        assert checkpoints.log_bytes > 400_000  # the first checkpoint found the whole commit in the log
        sizes = _chunks(wrapper, checkpoints, 6, wal=wal)
        # Each later commit waited until everything committed was copied, so the next one restarted the log
        # instead of appending to it: the file (never shortened) stays one commit long, not seven.
        assert checkpoints.waits == 6
        assert checkpoints.checkpoints >= 7
        assert max(sizes) < 1.5 * first
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM chunk")
        assert cursor.fetchone()[0] == 700
    wrapper.close()


def test_no_commit_waits_while_the_log_stays_under_its_limit(db, tmp_path):
    from leadwerk.core.sqlite.checkpoint import LOG_LIMIT_BYTES, background_checkpoints

    wrapper = _file_database(tmp_path)
    with wrapper.cursor() as cursor:
        cursor.execute("CREATE TABLE chunk (payload BLOB)")
    with background_checkpoints(wrapper) as checkpoints:
        assert checkpoints.log_limit == LOG_LIMIT_BYTES
        _chunks(wrapper, checkpoints, 6, wal=tmp_path / "work.sqlite3-wal")
        assert checkpoints.wait_idle()
        assert checkpoints.waits == 0
        assert 0 < checkpoints.log_bytes < LOG_LIMIT_BYTES
    wrapper.close()


def test_without_background_checkpoints_the_log_keeps_the_rows(db, tmp_path):
    """The counter-test of the one above: with automatic checkpoints off and no thread, the file stays small."""
    wrapper = _file_database(tmp_path)
    path = tmp_path / "work.sqlite3"
    with wrapper.cursor() as cursor:
        cursor.execute("CREATE TABLE chunk (payload BLOB)")
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        before = path.stat().st_size
        cursor.executemany("INSERT INTO chunk VALUES (?)", [(os.urandom(4000),) for _ in range(500)])
    assert path.stat().st_size < before + 100 * 4000
    wrapper.close()


def test_no_background_checkpoints_for_a_database_in_memory(db):
    from leadwerk.core.sqlite.checkpoint import background_checkpoints

    with background_checkpoints(connection) as checkpoints:
        assert checkpoints is None


def test_no_background_checkpoints_without_a_write_ahead_log(db, tmp_path):
    from leadwerk.core.sqlite.checkpoint import background_checkpoints

    wrapper = _file_database(tmp_path)
    with wrapper.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=DELETE")
    with background_checkpoints(wrapper) as checkpoints:
        assert checkpoints is None
        assert _autocheckpoint(wrapper) == 1000  # left as it was
    wrapper.close()
