"""bench/import: a 1M-row German contact CSV into a database that already holds 1M people, end to end.

    uv run python bench/import/run.py                 # 1,000,000 rows into 1,000,000 people
    uv run python bench/import/run.py --n 100000      # quicker
    uv run --with pyinstrument python bench/import/run.py --profile      # pyinstrument profile of the import (dev tool)

Steps: the cached 1M-people database (bench/datagen.py) is copied twice; the import CSV is generated
(cached). Child process 1 runs the real import service on copy 1: upload (the file is stored and
converted), mapping, start, then the worker's body (parse, normalise, validate, match, write, change
history, audit) — measured rows/s and its peak memory (ru_maxrss). Child process 2 is the ceiling: a bare
``sqlite3`` ``executemany`` of the very rows the import created (read back from copy 1) into copy 2's
contacts_person table with all its indexes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

from datagen import BENCH_DIR, BenchDB, build_people_db, write_import_csv  # noqa: E402


def _copy(src: Path, dst: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    import sqlite3

    # A consistent copy even if the source is in WAL mode with pending frames.
    source = sqlite3.connect(src)
    target = sqlite3.connect(dst)
    source.backup(target)
    target.close()
    source.close()
    return dst


def child_import(args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(BENCH))
    from common import django_setup

    db = BenchDB(Path(args.db), args.tenant, args.membership, None)
    os.environ["LEADWERK_IMPORT_CHUNK_ROWS"] = str(args.chunk)
    django_setup(db)
    from django.core.files import File
    from django.db import connection

    from leadwerk.accounts.models import Membership
    from leadwerk.contacts.models import Person
    from leadwerk.imports import services
    from leadwerk.imports.models import ImportJob

    by = Membership.objects.select_related("tenant", "user").get(pk=args.membership)
    timing: list[str] = []  # the worker's own log line: where the import's time went

    class Keep(logging.Handler):
        def emit(self, record):
            timing.append(record.getMessage())

    services.log.addHandler(Keep(logging.INFO))
    services.log.setLevel(logging.INFO)
    before_max = Person.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    import gc

    gc_time = [0.0, 0, None]

    def gc_clock(phase, info):
        if phase == "start":
            gc_time[2] = time.perf_counter()
        elif gc_time[2] is not None:
            gc_time[0] += time.perf_counter() - gc_time[2]
            gc_time[1] += info["generation"] == 2

    gc.callbacks.append(gc_clock)
    started = time.perf_counter()
    with open(args.csv, "rb") as handle:
        job = services.import_upload(by=by, upload=File(handle, name="import.csv"), name="import.csv")
    uploaded = time.perf_counter()
    services.import_configure(job=job, by=by, mapping=job.mapping, mode="update", key="email")
    services.import_start(job=job, by=by)  # enqueues on commit; nobody consumes the bench's queue
    job = services.import_process(job.pk, chunk_rows=args.chunk)
    finished = time.perf_counter()
    if profiler is not None:
        profiler.stop()
        out = Path(args.profile_out)
        out.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    job = ImportJob.objects.get(pk=job.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM contacts_person WHERE tenant_id = %s", [args.tenant])
        people = cursor.fetchone()[0]
    return {
        "status": job.status,
        "rows": job.total_rows,
        "counts": job.counts,
        "seconds": round(finished - started, 2),
        "upload_seconds": round(uploaded - started, 2),
        "rows_per_s": round(job.total_rows / (finished - started)),
        "people_after": people,
        "created_from_id": before_max + 1,
        "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        # The preparing second process (imports/preparing.py), ended by now: its peak counts as well.
        "maxrss_preparing_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "timing": timing[-1] if timing else "",
        "gc_seconds": round(gc_time[0], 2),
        "gc_full": gc_time[1],
        "cpu_self": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 1),
        "cpu_children": round(sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2]), 1),
    }


def child_ceiling(args: argparse.Namespace) -> dict:
    """Bare sqlite3: the rows the import created (read from its copy, untimed) inserted into a fresh copy."""
    import sqlite3

    source = sqlite3.connect(args.source_db)
    columns = [row[1] for row in source.execute("PRAGMA table_info(contacts_person)") if row[1] != "id"]
    rows = source.execute(
        f"SELECT {', '.join(columns)} FROM contacts_person WHERE id >= ?",  # noqa: S608 (bench)
        [args.created_from_id],
    ).fetchall()
    source.close()
    target = sqlite3.connect(args.db, isolation_level=None)
    target.execute("PRAGMA journal_mode=WAL")
    target.execute("PRAGMA synchronous=NORMAL")
    checkpointer = None
    if args.checkpoints == "background":  # as the import does it (core.sqlite.checkpoint)
        from leadwerk.core.sqlite.checkpoint import WalCheckpointer

        target.execute("PRAGMA wal_autocheckpoint=0")
        checkpointer = WalCheckpointer(args.db)
    sql = f"INSERT INTO contacts_person ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"  # noqa: S608
    started = time.perf_counter()
    for start in range(0, len(rows), args.chunk):
        target.execute("BEGIN IMMEDIATE")
        target.executemany(sql, rows[start : start + args.chunk])
        target.execute("COMMIT")
        if checkpointer is not None:
            checkpointer.committed()
    seconds = time.perf_counter() - started
    if checkpointer is not None:
        checkpointer.close()  # its last checkpoint is not timed: the import's is not either
    target.close()
    return {
        "rows": len(rows),
        "checkpoints": args.checkpoints,
        "seconds": round(seconds, 2),
        "rows_per_s": round(len(rows) / seconds),
    }


def _child(kind: str, extra: list[str]) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, *extra]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        raise RuntimeError(f"{kind} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000, help="rows in the import file")
    parser.add_argument("--existing", type=int, default=1_000_000, help="people already in the database")
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-out", default=str(BENCH_DIR / "import-profile.txt"))
    parser.add_argument("--child", choices=["import", "ceiling"])
    parser.add_argument("--db")
    parser.add_argument("--source-db")
    parser.add_argument("--csv")
    parser.add_argument("--tenant", type=int)
    parser.add_argument("--membership", type=int)
    parser.add_argument("--created-from-id", type=int)
    parser.add_argument("--checkpoints", choices=["sqlite", "background"], default="sqlite")
    args = parser.parse_args()

    if args.child == "import":
        print(json.dumps(child_import(args)))
        return
    if args.child == "ceiling":
        print(json.dumps(child_ceiling(args)))
        return

    t = time.perf_counter()
    db = build_people_db(BENCH_DIR / f"people-{args.existing}.sqlite3", args.existing, seed=1)
    csv_path = BENCH_DIR / f"import-{args.n}-of-{args.existing}.csv"
    if not csv_path.exists():
        tmp = csv_path.with_suffix(".tmp")
        write_import_csv(tmp, args.n, existing_n=args.existing, duplicate_rate=0.05)
        tmp.rename(csv_path)
    print(f"data ready in {time.perf_counter() - t:.0f} s: {db.path.name}, {csv_path.name}", flush=True)
    run_db = _copy(db.path, BENCH_DIR / "import-run.sqlite3")
    common = ["--tenant", str(db.tenant_id), "--membership", str(db.marketing_membership_id or db.membership_id)]
    extra = ["--db", str(run_db), "--csv", str(csv_path), "--chunk", str(args.chunk), *common]
    if args.profile:
        extra += ["--profile", "--profile-out", args.profile_out]
    result = _child("import", extra)
    print(json.dumps(result, indent=1), flush=True)
    # The ceiling both ways: SQLite's own checkpoints inside COMMIT, and checkpoints in a thread as the import
    # makes them (each on a fresh copy); the faster counts.
    ceilings = []
    for mode in ("sqlite", "background"):
        ceiling_db = _copy(db.path, BENCH_DIR / "import-ceiling.sqlite3")
        extra = ["--db", str(ceiling_db), "--source-db", str(run_db), "--checkpoints", mode]
        extra += ["--created-from-id", str(result["created_from_id"]), "--chunk", str(args.chunk), *common]
        ceilings.append(_child("ceiling", extra))
        print(json.dumps(ceilings[-1], indent=1), flush=True)
    ceiling = max(ceilings, key=lambda c: c["rows_per_s"])
    share = result["rows_per_s"] / ceiling["rows_per_s"] if ceiling["rows_per_s"] else 0
    memory = result["maxrss_mb"] + result.get("maxrss_preparing_mb", 0)
    print(
        f"\nend to end: {result['rows_per_s']:,} rows/s over {result['rows']:,} rows in {result['seconds']} s; "
        f"peak memory {result['maxrss_mb']} MB + {result.get('maxrss_preparing_mb', 0)} MB (preparing process)\n"
        f"ceiling (bare executemany of the {ceiling['rows']:,} created rows, checkpoints: {ceiling['checkpoints']}): "
        f"{ceiling['rows_per_s']:,} rows/s → import = {share:.2f} × ceiling\n"
        f"targets: ≥ 10,000 rows/s {'met' if result['rows_per_s'] >= 10_000 else 'MISSED'}, "
        f"≥ 0.5 × ceiling {'met' if share >= 0.5 else 'MISSED'}, "
        f"≤ 1,536 MB together {'met' if memory <= 1536 else 'MISSED'}"
    )
    for path in (run_db, BENCH_DIR / "import-ceiling.sqlite3"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(BENCH_DIR / "imports", ignore_errors=True)  # the stored upload


if __name__ == "__main__":
    main()
