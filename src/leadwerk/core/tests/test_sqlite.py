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
