"""Lead inbox, pipeline board and lead page at 1,000,000 leads (and the 1M people they belong to): p50/p95 server time.

    uv run python bench/inbox/run.py [--n 1000000] [--runs 40] [--rounds 3] [--only board] [--dir var/bench]

Builds (or reuses) the leads benchmark database (bench/datagen.py ``build_leads_db``), starts Django in this
process against it, logs in a manager (sees every lead) and a sales user (own and team leads) with the test
client and times each request through the whole middleware stack and template rendering.
Writes bench/inbox/RESULTS.md (use --no-write for a trial run).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import REPO, django_setup, git_revision, machine, measure, now, percentile
from datagen import BENCH_DIR, build_leads_db

TARGET_MS = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="leads (and people) in the database")
    parser.add_argument("--runs", type=int, default=40, help="timed requests per case and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median of their percentiles is reported")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=BENCH_DIR, help="where the cached databases live")
    parser.add_argument(
        "--history",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="every step's event per lead (6 rows/lead; slower build) instead of captured + current status",
    )
    parser.add_argument("--only", default="", help="run only cases whose name contains this text")
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()

    started = time.perf_counter()
    db = build_leads_db(args.dir / f"leads-{args.n}.sqlite3", args.n, people_n=args.n, history=args.history)
    print(f"database ready in {time.perf_counter() - started:.1f} s: {db.path}", flush=True)
    django_setup(db)

    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from leadwerk.accounts.models import Membership
    from leadwerk.core.paging import _encode
    from leadwerk.leads import states
    from leadwerk.leads.forms import InboxFilterForm
    from leadwerk.leads.models import Lead

    manager = Membership.objects.select_related("user", "tenant").get(pk=db.manager_id)
    seller = Membership.objects.select_related("user").get(pk=db.sales_ids[0])
    slug = manager.tenant.slug
    as_manager, as_seller = Client(), Client()
    as_manager.force_login(manager.user)
    as_seller.force_login(seller.user)

    leads = Lead.objects.filter(tenant_id=db.tenant_id)
    max_id = leads.order_by("-pk").values_list("pk", flat=True).first()
    rng = random.Random(42)  # noqa: S311  (benchmark sampling)
    detail_ids = list(leads.filter(pk__in=rng.sample(range(1, max_id + 1), 400)).values_list("pk", flat=True))
    open_leads = leads.filter(status__in=states.OPEN)
    # A deep page: the cursor of a lead half-way down the open leads, newest first and by score.
    middle = open_leads.order_by("-pk").values_list("pk", flat=True)[open_leads.count() // 2]
    score_middle = open_leads.order_by("-score", "-pk").values_list("score", "pk")[open_leads.count() // 2]

    inbox, board = f"/{slug}/leads/", f"/{slug}/leads/board/"
    cases: list[tuple[str, Client, list[str]]] = [
        ("inbox: all (manager), newest", as_manager, [f"{inbox}?view=all"]),
        ("inbox: all, by score", as_manager, [f"{inbox}?view=all&sort=score"]),
        ("inbox: unassigned", as_manager, [f"{inbox}?view=unassigned"]),
        ("inbox: overdue follow-ups", as_manager, [f"{inbox}?view=overdue"]),
        ("inbox: mine (sales), newest", as_seller, [f"{inbox}?view=mine"]),
        ("inbox: mine, by score", as_seller, [f"{inbox}?view=mine&sort=score"]),
        ("inbox: team (sales), newest", as_seller, [f"{inbox}?view=team"]),
        ("inbox: team, by score", as_seller, [f"{inbox}?view=team&sort=score"]),
        ("inbox: all, grade A, by score", as_manager, [f"{inbox}?view=all&grade=A&sort=score"]),
        ("inbox: all, status won", as_manager, [f"{inbox}?view=all&status=won"]),
        ("inbox: deep page, newest", as_manager, [f"{inbox}?view=all&cursor={_encode([None, middle])}"]),
        (
            "inbox: deep page, by score",
            as_manager,
            [f"{inbox}?view=all&sort=score&cursor={_encode(list(score_middle))}"],
        ),
    ]
    if ("sla", "sla") in InboxFilterForm.base_fields["sort"].choices:
        cases += [
            ("inbox: all, by SLA deadline", as_manager, [f"{inbox}?view=all&sort=sla"]),
            ("inbox: mine, by SLA deadline", as_seller, [f"{inbox}?view=mine&sort=sla"]),
        ]
    if "sla" in InboxFilterForm.base_fields:
        cases.append(("inbox: all, SLA overdue", as_manager, [f"{inbox}?view=all&sla=overdue"]))
    cases += [
        ("board: all (manager)", as_manager, [f"{board}?view=all"]),
        ("board: all, interest e-suv", as_manager, [f"{board}?view=all&interest=e-suv"]),
        ("board: mine (sales)", as_seller, [f"{board}?view=mine"]),
        ("board: team (sales)", as_seller, [f"{board}?view=team"]),
        ("lead page", as_manager, [f"{inbox}{pk}/" for pk in detail_ids]),
    ]
    if args.only:
        cases = [c for c in cases if args.only in c[0]]

    results = []
    for name, client, urls in cases:
        position = [0]
        cpu: list[float] = []

        def request(client=client, urls=urls, position=position, cpu=cpu) -> None:
            url = urls[position[0] % len(urls)]
            position[0] += 1
            started = time.process_time()
            response = client.get(url)
            cpu.append((time.process_time() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")

        figures = measure(request, runs=args.runs, rounds=args.rounds, warmup=args.warmup)
        timed = cpu[args.warmup :]
        figures["cpu50"], figures["cpu95"] = percentile(timed, 50), percentile(timed, 95)
        results.append((name, figures))
        print(
            f"{name:36} p50 {figures['p50']:7.1f} ms  p95 {figures['p95']:7.1f} ms  "
            f"(CPU p50 {figures['cpu50']:6.1f}, p95 {figures['cpu95']:6.1f}; target {TARGET_MS})",
            flush=True,
        )
    counts = dict(leads.values_list("status").annotate(n=Count("pk")).order_by())
    connection.close()
    if not args.no_write:
        write_results(args, db, results, counts)


def load() -> str:
    import os

    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores, nice {os.nice(0)}"


def write_results(args, db, results, counts: dict) -> None:
    command = "uv run python bench/inbox/run.py" + "".join(f" {a}" for a in sys.argv[1:] if a != "--no-write")
    mix = ", ".join(f"{status} {count:,}" for status, count in sorted(counts.items(), key=lambda kv: -kv[1]))
    lines = [
        "# bench/inbox — last results",
        "",
        f"- Date: {now()}, revision {git_revision()}",
        f"- Machine: {machine()}",
        f"- Command: `{command}`",
        f"- Database: {db.n:,} leads of {db.people:,} people, 5 teams of 6 sales users, 4 agents, SQLite "
        f"({db.path.relative_to(REPO) if db.path.is_relative_to(REPO) else db.path})",
        f"- Status mix: {mix}",
        f"- Method: Django test client, logged-in manager (all leads) or sales user (own and team), full middleware "
        f"and template rendering; {args.warmup} warm-up requests, then {args.rounds} rounds of {args.runs} "
        "requests per case; the median of the rounds' percentiles. The lead page cycles through 400 random leads.",
        "",
        f"- Load: {load()}. Wall time is what a user waits on this machine; CPU time (this process, per request) "
        "is what the request costs a free core, the better guide on a shared, overloaded machine.",
        "",
        "| case | p50 ms | p95 ms | CPU p50 ms | CPU p95 ms | target p95 ms | met (wall / CPU) |",
        "|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for name, f in results:
        met = "/".join("yes" if f[key] <= TARGET_MS else "**no**" for key in ("p95", "cpu95"))
        lines.append(
            f"| {name} | {f['p50']:.1f} | {f['p95']:.1f} | {f['cpu50']:.1f} | {f['cpu95']:.1f} | {TARGET_MS} | {met} |"
        )
    results_md = Path(__file__).parent / "RESULTS.md"
    text = "\n".join(lines) + "\n"
    old = results_md.read_text() if results_md.exists() else ""
    if "\n## Findings" in old:  # the hand-written reading of the figures stays (update it by hand)
        text += old[old.index("\n## Findings") :]
    results_md.write_text(text)
    print("wrote bench/inbox/RESULTS.md")


if __name__ == "__main__":
    main()
