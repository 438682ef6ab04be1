"""One routing decision with 1,000 rules and 300 team members: p50/p95/p99 per decision.

    uv run python bench/routing/run.py [--rules 1000] [--members 300] [--decisions 500] [--rounds 5]

Builds (once, cached in var/bench/routing.sqlite3; rebuilt when the migrations change) a tenant with 30 teams
of 10 members (some with a weekly capacity, some absent today, some not taking leads), 1,000 ordered rules
(postcode territories, interest/grade/channel rules, person targets, a fallback last) and 30,000 open leads
already assigned (so "fewest open" and weekly capacity count real rows). Then measures:

1. the decision alone: ``routing.route_decide(lead)`` — rules stamp query, compiled rules (cached), the lead's
   facts, walking the rules, and the target's member, absence, capacity and open-lead queries; no writes;
2. the decision with the write: ``routing.lead_route(lead)`` on fresh unassigned leads — lock, decide,
   assignment, events, status change, in its own transaction (what capture pays at its end);
3. compiling 1,000 rules after an edit (cold cache), for reference.

Median of the rounds' percentiles. Writes bench/routing/RESULTS.md (use --no-write for a trial run).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import REPO, django_setup, git_revision, machine, now, percentile
from datagen import BENCH_DIR, BenchDB, _build_lock, _migration_state, _run, bench_env

TARGET_MS = 2.0
TEAMS = 30
LEADS_ASSIGNED = 30_000
LEADS_FRESH = 6_000


def timed(fn, *, runs: int, rounds: int, warmup: int) -> dict[str, dict[str, float]]:
    """p50/p95/p99 in ms per round, median over rounds, by the wall clock and by this process's CPU time
    (the CPU figure leaves out waiting for a core, which on a shared, overloaded machine dominates)."""
    import statistics
    import time

    for _ in range(warmup):
        fn()
    out: dict[str, list[dict[str, float]]] = {"wall": [], "cpu": []}
    for _ in range(rounds):
        wall, cpu = [], []
        for _ in range(runs):
            w, c = time.perf_counter(), time.process_time()
            fn()
            cpu.append((time.process_time() - c) * 1000)
            wall.append((time.perf_counter() - w) * 1000)
        for name, values in (("wall", wall), ("cpu", cpu)):
            out[name].append({q: percentile(values, int(q[1:])) for q in ("p50", "p95", "p99")})
    return {name: {q: statistics.median(r[q] for r in rs) for q in ("p50", "p95", "p99")} for name, rs in out.items()}


def build(path: Path, rules: int, members: int) -> dict:
    meta_path = path.with_name(path.name + ".meta.json")
    wanted = {"rules": rules, "members": members, "migrations": _migration_state(), "version": 2}
    with _build_lock(path):
        if path.exists() and meta_path.exists():
            meta = json.loads(meta_path.read_text())
            if {k: meta.get(k) for k in wanted} == wanted:
                return meta
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        _run(["uv", "run", "leadwerk", "migrate", "--no-input"], bench_env(path))
        meta = {**wanted, **_populate(path, rules, members)}
        meta_path.write_text(json.dumps(meta))
        return meta


def _populate(path: Path, rule_count: int, member_count: int) -> dict:
    here = str(Path(__file__).parent)
    code = f"import sys; sys.path.insert(0, {here!r}); import run; run._fill({rule_count}, {member_count})"
    out = _run(["uv", "run", "leadwerk", "shell", "-c", code], bench_env(path))
    return json.loads(out.strip().splitlines()[-1])


def _fill(rule_count: int, member_count: int) -> None:
    """Runs inside ``leadwerk shell`` on the benchmark database."""
    import datetime as dt

    from django.db import transaction
    from django.utils import timezone

    from leadwerk.accounts.models import Membership, Team, Tenant, User
    from leadwerk.contacts.models import Person
    from leadwerk.leads.models import Absence, InterestCategory, Lead, LeadProfile, RoutingRule

    rng = random.Random(4)  # noqa: S311  (benchmark data)
    with transaction.atomic():
        tenant = Tenant.objects.create(name="Routing Bench GmbH", slug="routing-bench")
        admin_user = User.objects.create_user(email="admin@routing.bench", password="bench-password-1")  # noqa: S106
        admin = Membership.objects.create(tenant=tenant, user=admin_user, role="admin")
        teams = [Team.objects.create(tenant=tenant, name=f"Team {i:02d}") for i in range(TEAMS)]
        users = User.objects.bulk_create(
            [User(email=f"m{i}@routing.bench", full_name=f"Member {i}") for i in range(member_count)]
        )
        members = Membership.objects.bulk_create(
            [
                Membership(tenant=tenant, user=u, role="sales" if i % 5 else "agent", team=teams[i % TEAMS])
                for i, u in enumerate(users)
            ]
        )
        today = timezone.localdate()
        LeadProfile.objects.bulk_create(
            [
                LeadProfile(
                    tenant=tenant,
                    membership=m,
                    weekly_capacity=rng.choice([None, 20, 40, 80]),
                    takes_leads=rng.random() > 0.05,
                )
                for m in members
            ]
        )
        Absence.objects.bulk_create(
            [
                Absence(
                    tenant=tenant,
                    membership=m,
                    starts_on=today - dt.timedelta(days=1),
                    ends_on=today + dt.timedelta(days=rng.randint(0, 10)),
                )
                for m in rng.sample(members, 30)
            ]
        )
        interests = [
            InterestCategory.objects.create(tenant=tenant, name=k, key=k)
            for k in ("e-suv", "kompakt", "transporter", "flotte", "service")
        ]
        rules = []
        territory = rule_count - 60  # postcode territories of ~100 postcodes each, then special rules, fallback
        width = max(1, 99_000 // territory)
        for i in range(territory):
            low = 1000 + i * width
            conditions = [
                {
                    "field": "person.postcode",
                    "op": "between",
                    "value": [f"{low:05d}", f"{min(99999, low + width - 1):05d}"],
                }
            ]
            if i % 7 == 0:
                conditions.append({"field": "lead.interest", "op": "in", "value": ["e-suv", "flotte"]})
            team = teams[i % TEAMS]
            rules.append(
                RoutingRule(
                    tenant=tenant,
                    name=f"Gebiet {i}",
                    position=60 + i,
                    conditions=conditions,
                    target="team",
                    target_team=team,
                    strategy="fewest_open" if i % 2 else "round_robin",
                )
            )
        for i in range(59):
            kind = i % 3
            if kind == 0:
                conditions = [
                    {"field": "lead.grade", "op": "eq", "value": "A"},
                    {"field": "organization.employees", "op": "in", "value": ["250-999", "1000+"]},
                ]
            elif kind == 1:
                conditions = [
                    {"field": "lead.channel", "op": "eq", "value": "event"},
                    {"field": "lead.source", "op": "contains", "value": f"messe {i}"},
                ]
            else:
                conditions = [{"field": "person.attr.region", "op": "eq", "value": f"r{i}"}]
            rules.append(
                RoutingRule(
                    tenant=tenant,
                    name=f"Spezial {i}",
                    position=i,
                    conditions=conditions,
                    target="user",
                    target_member=members[i],
                )
            )
        rules.append(
            RoutingRule(
                tenant=tenant,
                name="Rest",
                position=rule_count + 100,
                conditions=[],
                target="team",
                target_team=teams[0],
                strategy="fewest_open",
            )
        )
        RoutingRule.objects.bulk_create(rules)
        people = Person.objects.bulk_create(
            [
                Person(
                    tenant=tenant, last_name=f"P{i}", last_name_key=f"p{i}", postcode=f"{rng.randint(1000, 99999):05d}"
                )
                for i in range(LEADS_ASSIGNED + LEADS_FRESH)
            ]
        )
        moment = timezone.now()
        monday = moment - dt.timedelta(days=moment.weekday())
        leads = []
        for i, person in enumerate(people):
            assigned = i < LEADS_ASSIGNED
            owner = rng.choice(members) if assigned else None
            leads.append(
                Lead(
                    tenant=tenant,
                    person=person,
                    interest=rng.choice(interests),
                    channel=rng.choice(["web_form", "api", "event"]),
                    grade=rng.choice("ABCD"),
                    status=rng.choice(["routed", "accepted", "in_progress"]) if assigned else "new",
                    captured_at=moment,
                    owner=owner,
                    team=owner.team if owner else None,
                    assigned_at=(monday + dt.timedelta(hours=rng.randint(0, 100))) if assigned else None,
                )
            )
        Lead.objects.bulk_create(leads, batch_size=2000)
    print(json.dumps({"tenant_id": tenant.pk, "admin_id": admin.pk}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--decisions", type=int, default=500, help="timed decisions per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    path = BENCH_DIR / "routing.sqlite3"
    meta = build(path, args.rules, args.members)
    django_setup(BenchDB(path=path, tenant_id=meta["tenant_id"], membership_id=meta["admin_id"], truth_path=None))

    import time

    from django.db import connection, transaction

    from leadwerk.accounts.models import Tenant
    from leadwerk.leads import routing
    from leadwerk.leads.models import Lead, LeadEvent, RoutingRule

    tenant = Tenant.objects.get(pk=meta["tenant_id"])
    rng = random.Random(9)  # noqa: S311  (benchmark sampling)
    pool = list(
        Lead.objects.filter(tenant=tenant).select_related("person", "organization", "interest").order_by("?")[:2000]
    )

    def decide() -> None:
        lead = pool[rng.randrange(len(pool))]
        routing.route_decide(lead, tenant_tz=tenant.timezone)

    routing.compiled_rules(tenant.pk)  # warm the cache as a running worker has it
    decision = timed(decide, runs=args.decisions, rounds=args.rounds, warmup=100)
    placed = sum(1 for lead in pool[:300] if routing.route_decide(lead, tenant_tz=tenant.timezone).rule is not None)

    # Compile after an edit (cold cache), for reference.
    compile_times = []
    for _ in range(5):
        routing._cache.clear()
        started = time.perf_counter()
        routing.compiled_rules(tenant.pk)
        compile_times.append((time.perf_counter() - started) * 1000)

    # With the write: route fresh unassigned leads, each in its own transaction (then undo them afterwards).
    fresh = iter(
        Lead.objects.filter(tenant=tenant, owner__isnull=True, team__isnull=True, status="new")
        .select_related("person", "organization", "interest")
        .order_by("pk")
    )
    routed_ids: list[int] = []

    def route() -> None:
        lead = next(fresh)
        with transaction.atomic():
            routing.lead_route(lead)
        routed_ids.append(lead.pk)

    write_runs = min(args.decisions, (LEADS_FRESH - 100) // (args.rounds + 1))
    with_write = timed(route, runs=write_runs, rounds=args.rounds, warmup=50)
    Lead.objects.filter(pk__in=routed_ids).update(
        owner=None, team=None, status="new", assigned_at=None, routing_rule=None, stage_entered_at={}, version=1
    )
    LeadEvent.objects.filter(lead_id__in=routed_ids).delete()
    connection.close()

    rows = [
        ("decision only (route_decide)", args.decisions, decision),
        ("decision + write (lead_route)", write_runs, with_write),
    ]
    rules_n = RoutingRule.objects.filter(tenant=tenant).count()
    lines = [
        "# bench/routing — last results",
        "",
        f"- Date: {now()}, revision {git_revision()}",
        f"- Machine: {machine()}",
        f"- Command: `uv run python bench/routing/run.py --rules {args.rules} --members {args.members}"
        f" --decisions {args.decisions} --rounds {args.rounds}`",
        f"- Data: {rules_n} rules ({args.rules - 60} postcode territories over 30 teams, 59 person rules on grade/size,"
        f" channel/source or a person attribute, a fallback), {args.members} members (capacities, 30 absent,"
        f" ~5 % not taking leads), {LEADS_ASSIGNED:,} open assigned leads this week; SQLite ({path.relative_to(REPO)})",
        f"- Method: {args.rounds} rounds; p50/p95/p99 per round over the timed calls, median over the rounds;"
        " rules cache warm (as in a running worker). Of 300 sampled leads "
        f"{placed} were placed by a rule (the rest by the fallback or nobody).",
        "",
        f"| measure | clock | calls/round | p50 ms | p95 ms | p99 ms | target p95 ≤ {TARGET_MS:g} ms |",
        "|---|---|---:|---:|---:|---:|:---:|",
    ]
    for name, n, both in rows:
        for clock in ("wall", "cpu"):
            r = both[clock]
            ok = "yes" if r["p95"] <= TARGET_MS else "**no**"
            lines.append(f"| {name} | {clock} | {n} | {r['p50']:.2f} | {r['p95']:.2f} | {r['p99']:.2f} | {ok} |")
    compile_times.sort()
    lines += [
        "",
        f"Compiling all {rules_n} rules after an edit (cold cache): median {compile_times[2]:.1f} ms, once per edit and"
        " process. The write figure is the target only for the decision; it includes the lead row lock, the"
        " assignment, two events and the status change.",
    ]
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    lines.append("")
    lines.append(f"Load average at the end of the run: {' / '.join(load)} on {os.cpu_count()} cores.")
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        (Path(__file__).parent / "RESULTS.md").write_text(text)


if __name__ == "__main__":
    main()
