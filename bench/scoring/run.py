"""bench/scoring: rule recompute of 1,000,000 leads (target ≤ 60 s), and predictive training (bench/scoring/train.py).

    uv run python bench/scoring/run.py                      # all parts
    uv run python bench/scoring/run.py --part recompute     # 1,000,000 leads, median of 3 runs
    uv run python bench/scoring/run.py --part recompute --n 20000 --runs 1 --no-write
    uv run python bench/scoring/run.py --part train         # runs bench/scoring/train.py (its own options)

recompute: the leads database of ``bench/datagen.py`` (``build_leads_db``: 1M people, 1M leads, cached under
var/bench) is copied to ``var/bench/scoring/`` and given what engagement and qualification rules read —
about 1.5 activities per lead (calls, e-mails, meetings, responses, notes with outcomes, spread over the lead's
life), timeline, decision maker and budget on part of the leads — deterministically from ``--seed``. The demo
rule set (``leadwerk.demo.scoring``: 13 rules on lead, organisation, person and engagement with caps and
half-lives) is installed. Each timed run first resets every score (not timed) and then runs the real
``leadwerk.leads.scoring.score_recompute`` in-process: every lead changes, so it reads all leads and their
activities, writes all of them and one score event each — the worst case. A last run with nothing to change
(the nightly job on a quiet night) is timed once. Writes RESULTS.md next to this file (not with --no-write).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench.common import django_setup, git_revision, machine, now  # noqa: E402
from bench.datagen import BENCH_DIR, build_leads_db  # noqa: E402

TARGET_SECONDS = 60.0
SCORING_DATA_VERSION = 1
KINDS = ["call"] * 45 + ["email"] * 20 + ["meeting"] * 8 + ["response"] * 20 + ["note"] * 7
OUTCOMES = ["reached"] * 35 + ["not_reached"] * 35 + ["callback"] * 10 + ["interested"] * 10 + ["not_interested"] * 10


def scoring_db(n: int, *, seed: int, people: int = 1_000_000, source: Path | None = None):
    """The scoring copy of the leads database, with activities and qualification (cached by parameters)."""
    if source is not None:  # an existing build_leads_db database (with its .meta.json), e.g. another bench's
        from bench.datagen import _leads_db

        leads = _leads_db(source, json.loads(source.with_name(source.name + ".meta.json").read_text()))
        n, people = leads.n, leads.people
    elif people == 1_000_000:
        leads = build_leads_db(BENCH_DIR / f"leads-{n}.sqlite3", n, seed=seed)
    else:  # a smaller trial: its own files, so the shared 1M cache is not rebuilt for other parameters
        leads = build_leads_db(BENCH_DIR / "scoring" / f"leads-{n}-{people}.sqlite3", n, people_n=people, seed=seed)
    suffix = "" if people == 1_000_000 else f"-{people}"
    target = BENCH_DIR / "scoring" / f"scoring-{n}{suffix}.sqlite3"
    meta_path = target.with_name(target.name + ".meta.json")
    params = {"n": n, "seed": seed, "version": SCORING_DATA_VERSION, "leads_built_at": leads.built_at}
    if target.exists() and meta_path.exists() and json.loads(meta_path.read_text()).get("params") == params:
        return leads, target
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in (target, meta_path, Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    source = sqlite3.connect(leads.path)
    source.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    source.close()
    shutil.copyfile(leads.path, target)
    counts = _engagement_write(target, leads.tenant_id, seed=seed)
    meta_path.write_text(json.dumps({"params": params, **counts, "seconds": round(time.perf_counter() - started, 1)}))
    return leads, target


def _engagement_write(path: Path, tenant_id: int, *, seed: int) -> dict:
    rng = random.Random(seed * 104729 + 11)  # noqa: S311  (benchmark data)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    built = datetime.now().replace(microsecond=0)
    stamp = "%Y-%m-%d %H:%M:%S.%f"
    rows = db.execute(
        "SELECT id, captured_at, owner_id FROM leads_lead WHERE tenant_id = ? ORDER BY id", (tenant_id,)
    ).fetchall()
    activity_sql = (
        "INSERT INTO leads_activity (tenant_id, created_at, updated_at, lead_id, kind, outcome, duration_minutes, "
        "note, at, by_id) VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?)"
    )
    qual_sql = "UPDATE leads_lead SET timeline = ?, authority = ?, budget = ? WHERE id = ?"
    timelines = ["now", "quarter", "year", "later", "", ""]
    activities: list[tuple] = []
    quals: list[tuple] = []
    total = 0
    db.execute("BEGIN")
    for lead_id, captured, owner in rows:
        captured_at = datetime.fromisoformat(captured).replace(tzinfo=None)
        span = max(60.0, (built - captured_at).total_seconds())
        for _ in range(rng.choice((0, 0, 1, 1, 2, 2, 3, 4))):
            kind = rng.choice(KINDS)
            outcome = rng.choice(OUTCOMES) if kind in ("call", "meeting", "note") else ""
            at = (captured_at + timedelta(seconds=rng.random() * span)).strftime(stamp)
            minutes = rng.randint(2, 45) if kind in ("call", "meeting") else None
            activities.append((tenant_id, at, at, lead_id, kind, outcome, minutes, at, owner))
        if rng.random() < 0.6:
            budget = rng.choice((None, 5000, 15000, 30000, 60000, 120000))
            quals.append((rng.choice(timelines), rng.choice((None, True, False)), budget, lead_id))
        if len(activities) >= 50_000:
            db.executemany(activity_sql, activities)
            total += len(activities)
            activities.clear()
    db.executemany(activity_sql, activities)
    total += len(activities)
    db.executemany(qual_sql, quals)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()
    return {"activities": total, "qualified": len(quals)}


def _reset(tenant_id: int) -> None:
    """Every lead back to unscored, score events gone: the next run changes every lead (not timed)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE leads_lead SET score = 0, grade = '', score_points = '[]', scored_at = NULL WHERE tenant_id = %s",
            [tenant_id],
        )
        cursor.execute("DELETE FROM leads_leadevent WHERE tenant_id = %s AND kind = 'score'", [tenant_id])


def recompute(args) -> dict:
    leads, path = scoring_db(args.n, seed=args.seed, people=args.people, source=args.source)
    db = dataclasses.replace(leads, path=path)
    django_setup(db)
    from leadwerk.accounts.models import Tenant
    from leadwerk.demo.scoring import scoring_rules_install
    from leadwerk.leads.models import Activity, Lead
    from leadwerk.leads.scoring import score_recompute

    tenant = Tenant.objects.get(pk=leads.tenant_id)
    rules = scoring_rules_install(tenant)
    n_leads = Lead.objects.filter(tenant=tenant).count()
    n_activities = Activity.objects.filter(tenant=tenant).count()
    print(f"{n_leads:,} leads, {n_activities:,} activities, {len(rules)} rules", flush=True)
    runs = []
    for run in range(args.runs):
        _reset(tenant.pk)
        cpu = time.process_time()
        counts = score_recompute(tenant.pk, processes=args.processes)
        runs.append({**counts.as_dict(), "cpu": round(time.process_time() - cpu, 1)})
        cpu_s = runs[-1]["cpu"]
        print(f"run {run + 1}: {counts.seconds:.1f} s ({cpu_s:.1f} s CPU), {counts.changed:,} changed", flush=True)
    steady = score_recompute(tenant.pk, processes=args.processes).as_dict()
    print(f"nothing to change: {steady['seconds']:.1f} s, {steady['changed']:,} changed", flush=True)
    grades = _grades(tenant.pk)
    return {
        "leads": n_leads,
        "activities": n_activities,
        "rules": len(rules),
        "runs": runs,
        "median_seconds": round(statistics.median(r["seconds"] for r in runs), 1),
        "median_cpu": round(statistics.median(r["cpu"] for r in runs), 1),
        "load": os.getloadavg()[0],
        "steady": steady,
        "grades": grades,
        "processes": args.processes,
    }


def _grades(tenant_id: int) -> dict:
    from django.db.models import Count

    from leadwerk.leads.models import Lead

    rows = Lead.objects.filter(tenant_id=tenant_id).values("grade").annotate(n=Count("id")).order_by("grade")
    return {row["grade"] or "–": row["n"] for row in rows}


def write_results(result: dict, args) -> None:
    runs = ", ".join(f"{r['seconds']:.1f}" for r in result["runs"])
    ok = "meets" if result["median_seconds"] <= TARGET_SECONDS else "MISSES"
    rate = result["leads"] / result["median_seconds"] if result["median_seconds"] else 0
    grades = ", ".join(f"{g} {n:,}" for g, n in result["grades"].items())
    text = f"""# bench/scoring — results

## Rule recompute (`uv run python bench/scoring/run.py --part recompute`)

{now()} · {machine()} · `{git_revision()}`

{result["leads"]:,} leads, {result["activities"]:,} activities, {result["rules"]} rules (the demo set), SQLite.
Every run starts from unscored leads, so every lead is read, scored, written and gets a score event.

| | seconds |
|---|---|
| **median of {len(result["runs"])} runs** | **{result["median_seconds"]:.1f}** \
({ok} the target of ≤ {TARGET_SECONDS:.0f} s; {rate:,.0f} leads/s) |
| CPU seconds of the process (median) | {result["median_cpu"]:.1f} (load average at the end: {result["load"]:.1f}) |
| runs | {runs} |
| nothing to change (nightly run, quiet night) | {result["steady"]["seconds"]:.1f} |

Grades after the run: {grades}.

How: chunks of 20,000 lead ids, {result["processes"]} process(es) (`LEADWERK_SCORING_PROCESSES` / `--processes`);
per chunk, outside any transaction, one read of the columns the rules need (raw rows without Django's per-value
converters; joins to person and organisation only when a rule needs them) and one read of the chunk's
activities, the rules compiled once into closures and `score_points` built as JSON text from per-rule fragments;
then, in a short transaction of its own, one `executemany` UPDATE of the changed rows and one `executemany`
INSERT … SELECT of the score events, both guarded by the lead version read (an edit made meanwhile wins).
The run with nothing to change still rewrites the few leads whose decayed engagement points moved since the
previous run.
"""
    if args.no_write:
        print(text)
        return
    results = HERE / "RESULTS.md"
    if results.exists():
        old = results.read_text()
        marker = "\n## Predictive training"
        if marker in old:  # keep the training part's section (bench/scoring/train.py writes it)
            text += old[old.index(marker) :]
    results.write_text(text)
    print(f"wrote {results}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["recompute", "train", "all"], default="all")
    parser.add_argument("--n", type=int, default=1_000_000, help="leads (recompute)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--people", type=int, default=1_000_000, help="people under the leads (recompute)")
    parser.add_argument("--source", type=Path, help="use this leads database of build_leads_db (recompute)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=1, help="recompute processes (LEADWERK_SCORING_PROCESSES)")
    parser.add_argument("--no-write", action="store_true")
    args, rest = parser.parse_known_args()
    if args.part in ("recompute", "all"):
        result = recompute(args)
        write_results(result, args)
    if args.part in ("train", "all"):
        train = HERE / "train.py"
        if not train.exists():
            sys.exit("bench/scoring/train.py (the predictive training part) is not there yet")
        # Its own process: it sets Django up on its own database.
        subprocess.run([sys.executable, str(train), *rest], check=True)  # noqa: S603


if __name__ == "__main__":
    main()
