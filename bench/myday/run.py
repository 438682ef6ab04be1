"""My day, the notification bell and the notifications page at many leads: p50/p95 server time.

    uv run python bench/myday/run.py [--n 1000000] [--notifications 200000] [--runs 40] [--rounds 3] [--dir var/bench]

Reuses the leads benchmark database (bench/datagen.py ``build_leads_db``: follow-ups and SLA deadlines for every
sales user, relative to the build time). Inside one transaction that is rolled back at the end (the cached
database stays as it was), it adds ``--notifications`` notifications spread over all members (a tenth unread)
and moves a share of the sales user's follow-ups to around now, so every bucket of My day has rows. Then it
times, with the Django test client through the whole middleware stack and template rendering, as a sales user:
My day (page and API), the bell partial, a page with the bell in its header, the notifications list (page and
API). Writes bench/myday/RESULTS.md (use --no-write for a trial run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import REPO, django_setup, git_revision, machine, measure, now
from datagen import BENCH_DIR, build_leads_db

TARGET_MS = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="leads (and people) in the database")
    parser.add_argument("--notifications", type=int, default=200_000, help="notifications over all members")
    parser.add_argument("--runs", type=int, default=40, help="timed requests per case and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median of their percentiles is reported")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=BENCH_DIR, help="where the cached databases live")
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()

    started = time.perf_counter()
    db = build_leads_db(args.dir / f"leads-{args.n}.sqlite3", args.n, people_n=args.n)
    print(f"database ready in {time.perf_counter() - started:.1f} s: {db.path}", flush=True)
    django_setup(db)

    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone

    from leadwerk.accounts.models import Membership
    from leadwerk.leads import myday
    from leadwerk.leads.models import FollowUp, Lead, Notification

    seller = Membership.objects.select_related("user", "tenant").get(pk=db.sales_ids[0])
    slug = seller.tenant.slug
    client = Client()
    client.force_login(seller.user)
    results, facts = [], {}
    with transaction.atomic():
        stamp = timezone.now()
        members = list(Membership.objects.filter(tenant_id=db.tenant_id).values_list("pk", flat=True))
        lead_ids = list(Lead.objects.filter(tenant_id=db.tenant_id).order_by("-pk").values_list("pk", flat=True)[:5000])
        rows = [
            Notification(
                tenant_id=db.tenant_id,
                recipient_id=members[i % len(members)],
                kind=Notification.Kind.ASSIGNMENT,
                lead_id=lead_ids[i % len(lead_ids)],
                text=f"New lead for you: Benchmark {i}",
                read_at=None if i % 10 == 0 else stamp,
            )
            for i in range(args.notifications)
        ]
        Notification.objects.bulk_create(rows, batch_size=5000)
        # Every bucket gets rows: spread 60 of the seller's open follow-ups from 2 days ago to 8 days ahead.
        own = list(myday.open_follow_ups(seller).values_list("pk", flat=True)[:60])
        for i, pk in enumerate(own):
            FollowUp.objects.filter(pk=pk).update(due_at=stamp + dt.timedelta(hours=-48 + i * 4))
        day = myday.my_day(seller)
        facts = {
            "follow-ups of the seller (open)": myday.open_follow_ups(seller).count(),
            "leads of the seller or their team": Lead.objects.visible_to(seller).count(),
            "buckets (overdue/today/upcoming/hot/SLA)": "/".join(
                f"{len(b)}{'+' if b.more else ''}"
                for b in (day.overdue, day.due_today, day.upcoming, day.hot_leads, day.sla_leads)
            ),
            "notifications of the seller (unread)": (
                f"{Notification.objects.filter(recipient=seller).count():,} "
                f"({Notification.objects.filter(recipient=seller, read_at__isnull=True).count():,})"
            ),
        }
        print(facts, flush=True)
        cases = [
            ("My day (page)", f"/{slug}/leads/my-day/", {}),
            ("My day (API)", "/api/v1/my-day", {"X-Tenant": slug}),
            ("bell partial", f"/{slug}/notifications/bell/", {}),
            ("notifications, unread (page)", f"/{slug}/notifications/", {}),
            ("notifications, all (page)", f"/{slug}/notifications/?show=all", {}),
            ("notifications (API)", "/api/v1/notifications", {"X-Tenant": slug}),
        ]
        for name, url, headers in cases:

            def request(url=url, headers=headers) -> None:
                response = client.get(url, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {response.status_code}")

            figures = measure(request, runs=args.runs, rounds=args.rounds, warmup=args.warmup)
            results.append((name, figures))
            print(f"{name:32} p50 {figures['p50']:7.1f} ms  p95 {figures['p95']:7.1f} ms  (target {TARGET_MS})")
        transaction.set_rollback(True)
    connection.close()
    if not args.no_write:
        write_results(args, db, results, facts)


def write_results(args, db, results, facts: dict) -> None:
    command = "uv run python bench/myday/run.py" + "".join(f" {a}" for a in sys.argv[1:] if a != "--no-write")
    lines = [
        "# bench/myday — last results",
        "",
        f"- Date: {now()}, revision {git_revision()}",
        f"- Machine: {machine()}; load average during the run {os.getloadavg()[0]:.1f} (other jobs on the cores)",
        f"- Command: `{command}`",
        f"- Database: {db.n:,} leads of {db.people:,} people, SQLite "
        f"({db.path.relative_to(REPO) if db.path.is_relative_to(REPO) else db.path}), plus "
        f"{args.notifications:,} notifications over all members (a tenth unread), rolled back afterwards",
        *(f"- {key}: {value}" for key, value in facts.items()),
        f"- Method: Django test client, logged-in sales user of the first team, full middleware and template "
        f"rendering; {args.warmup} warm-up requests, then {args.rounds} rounds of {args.runs} requests per case; "
        "the median of the rounds' percentiles.",
        "",
        "| case | p50 ms | p95 ms | target p95 ms | met |",
        "|---|---:|---:|---:|:---:|",
    ]
    for name, figures in results:
        met = "yes" if figures["p95"] <= TARGET_MS else "**no**"
        lines.append(f"| {name} | {figures['p50']:.1f} | {figures['p95']:.1f} | {TARGET_MS} | {met} |")
    (Path(__file__).parent / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print("wrote bench/myday/RESULTS.md")


if __name__ == "__main__":
    main()
