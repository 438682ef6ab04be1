"""Shared by the benchmark scripts: Django on a benchmark database, timing statistics, machine description."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from datagen import BenchDB, bench_env  # noqa: E402


def django_setup(db: BenchDB, *, pragmas: list[str] | None = None) -> None:
    """Configure and start Django in this process against the benchmark database (before any model import).

    ``pragmas`` are extra SQLite PRAGMA statements run on every new connection, after the app's own,
    to measure a setting before proposing it for core/apps.py.
    """
    os.environ.update({k: v for k, v in bench_env(db.path).items() if k in ("DATABASE_URL", "LEADWERK_DATA_DIR")})
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadwerk.settings")
    os.environ.setdefault("LEADWERK_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from leadwerk.core.apps import sqlite_analyze

    sqlite_analyze()  # what migrate, every import and the worker's hourly job do on a real installation
    if pragmas:
        from django.db.backends.signals import connection_created

        def _extra(sender, connection, **kwargs) -> None:
            if connection.vendor == "sqlite":
                with connection.cursor() as cursor:
                    for pragma in pragmas:
                        cursor.execute(f"PRAGMA {pragma}")

        connection_created.connect(_extra, weak=False, dispatch_uid="bench_extra_pragmas")


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100), linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(fn: Callable[[], object], *, runs: int, rounds: int, warmup: int) -> dict[str, float]:
    """p50/p95/p99 in ms: per round over ``runs`` calls, then the median over the rounds."""
    import time

    for _ in range(warmup):
        fn()
    per_round: list[dict[str, float]] = []
    for _ in range(rounds):
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
        per_round.append({"p50": percentile(times, 50), "p95": percentile(times, 95), "p99": percentile(times, 99)})
    return {key: statistics.median(r[key] for r in per_round) for key in ("p50", "p95", "p99")}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import sqlite3

    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def git_revision() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
