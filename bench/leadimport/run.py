"""bench/leadimport: a lead history file (Salesforce/Odoo-like, German spreadsheet) through the lead import.

    uv run python bench/leadimport/run.py                # 5,000 rows, 3 runs
    uv run python bench/leadimport/run.py --n 20000 --runs 1

A fresh SQLite database under var/bench/ (migrated once, reused). Each run uses a new tenant with one
interest and one owner and imports the same generated file in history mode (won, lost with reason, open;
German dates and amounts; owner by e-mail): parse, person matching and writes, lead and event writes with
historical times, change history. Then the same file again (every row "unchanged"). Figures: rows/s of the
first import and of the re-run, median of the runs; written to RESULTS.md next to this file.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
DB = REPO / "var" / "bench" / "leadimport.db"


def csv_text(n: int, owner: str, seed: int = 1) -> bytes:
    rng = random.Random(seed)  # noqa: S311 (benchmark data)
    first = ["Jonas", "Mia", "Paul", "Anna", "Lukas", "Lea", "Felix", "Emma", "Jürgen", "Sören", "Özlem", "Karl"]
    last = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann"]
    statuses = ["Gewonnen", "Verloren", "In Bearbeitung", "Neu", "Qualifiziert", "Disqualifiziert"]
    reasons = {"Verloren": ["Zu teuer", "Kein Budget", "Wettbewerber"], "Disqualifiziert": ["Kein Bedarf"]}
    lines = [
        "Vorname;Nachname;E-Mail;PLZ;Phase;Erstellt am;Abschlussdatum;Betrag;Besitzer;Verlustgrund;Quelle;Interesse"
    ]
    for i in range(n):
        status = rng.choice(statuses)
        day = rng.randint(1, 28)
        month = rng.randint(1, 9)
        close = f"{day:02d}.{month + 2:02d}.2024" if status in ("Gewonnen", "Verloren", "Disqualifiziert") else ""
        reason = rng.choice(reasons[status]) if status in reasons else ""
        amount = f"{rng.randint(5, 90)}.{rng.choice(['000', '500'])},00"
        lines.append(
            f"{rng.choice(first)};{rng.choice(last)};lead{i}@example.de;{rng.randint(10000, 99999)};{status};"
            f"{day:02d}.{month:02d}.2024;{close};{amount};{owner};{reason};"
            f"{rng.choice(['Messe', 'Website', 'Telefon'])};e-suv"
        )
    return ("\n".join(lines) + "\n").encode("cp1252")


def setup() -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadwerk.settings")
    os.environ.setdefault("LEADWERK_LOG_LEVEL", "WARNING")
    DB.parent.mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def one_run(index: int, data: bytes, n: int) -> tuple[float, float, dict]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from leadwerk.accounts.models import Membership, Tenant, User
    from leadwerk.accounts.roles import Role
    from leadwerk.imports import services
    from leadwerk.imports.models import ImportJob
    from leadwerk.leads.models import InterestCategory

    stamp = f"{int(time.time())}{index}"
    tenant = Tenant.objects.create(name=f"Bench {stamp}", slug=f"bench-{stamp}")
    admin = User.objects.create_user(email=f"admin-{stamp}@bench.test", password="x")  # noqa: S106
    by = Membership.objects.create(tenant=tenant, user=admin, role=Role.ADMIN)
    owner = User.objects.get_or_create(email="owner@bench.test")[0]
    Membership.objects.create(tenant=tenant, user=owner, role=Role.SALES)
    InterestCategory.objects.create(tenant=tenant, name="Elektro-SUV", key="e-suv")
    by = Membership.objects.select_related("tenant", "user").get(pk=by.pk)
    timings = []
    counts = {}
    for _attempt in range(2):
        job = services.import_upload(by=by, upload=SimpleUploadedFile("h.csv", data), name="h.csv", target="lead")
        services.import_configure(
            job=job, by=by, mapping=job.mapping, options={"history": True, "create_reasons": True}
        )
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
        started = time.perf_counter()
        job = services.import_process(job.pk)
        timings.append(n / (time.perf_counter() - started))
        counts = job.counts
    return timings[0], timings[1], counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    setup()
    data = csv_text(args.n, "owner@bench.test")
    first, again = [], []
    for index in range(args.runs):
        rate, rerun, counts = one_run(index, data, args.n)
        first.append(rate)
        again.append(rerun)
        print(f"run {index + 1}: {rate:.0f} rows/s, re-run {rerun:.0f} rows/s, last counts {counts}", flush=True)
    result = (
        f"# bench/leadimport — last results\n\n"
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, SQLite, {os.cpu_count()} cores (shared), "
        f"{args.n} rows × {args.runs} runs, `uv run python bench/leadimport/run.py --n {args.n} --runs {args.runs}`\n\n"
        f"| | median | runs |\n|---|---|---|\n"
        f"| history import (new people, leads, events) | {statistics.median(first):.0f} rows/s | "
        f"{', '.join(f'{r:.0f}' for r in first)} |\n"
        f"| the same file again (all unchanged) | {statistics.median(again):.0f} rows/s | "
        f"{', '.join(f'{r:.0f}' for r in again)} |\n"
    )
    (Path(__file__).parent / "RESULTS.md").write_text(result)
    print(result)


if __name__ == "__main__":
    main()
