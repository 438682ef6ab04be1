"""bench/intake: concurrent clients capture leads through the API of a real `leadwerk serve` (issue #4).

    uv run python bench/intake/run.py                          # SQLite, 1M people + 1M leads
    uv run python bench/intake/run.py --db postgres            # the same data in PostgreSQL (leadwerk_bench_intake)
    uv run python bench/intake/run.py --people 20000 --leads 20000 --rounds 2 --seconds 5   # quicker
    uv run --with pyinstrument python bench/intake/run.py --profile 300   # profile capture → var/bench/intake/

Steps: the cached leads database (bench/datagen.py ``build_leads_db``: 1M people, 1M leads with their
events and follow-ups, teams, interests) is copied for the run (PostgreSQL: loaded once into a template
database, cloned per run). A setup script adds what capture runs through — scoring rules and settings,
routing rules to teams (round robin, fewest open leads) with lead profiles, a business calendar and SLA
policies — and an API token of the tenant admin. Then ``leadwerk serve`` (granian) starts on the copy and a
load client process (bench/intake/load.py, keep-alive ``http.client`` threads) drives it in alternating phases:

- **capture**: ``POST /api/v1/leads``, realistic web-form payloads, ~30 % existing people by e-mail (so the
  matcher takes both paths, and some join an open lead of the same interest), 1 in 10 sent again with the
  same ``Idempotency-Key`` by another client while the first is in flight;
- **bare**: ``POST /bench/bare`` — the issue's ceiling: a bare endpoint that validates a small JSON body and
  inserts one row (bench/intake/bare, loaded only by the bench's server through its own settings module);
- **activity**: ``POST /api/v1/leads/{id}/activities`` with a small note — the product endpoint earlier runs
  used as the ceiling (token check, lead visibility, the activity, its event and the lead's re-scoring);
- **trivial**: ``GET /api/v1/me``, the cheapest authenticated endpoint.

Reported: medians over the rounds of leads/s, p50/p99 latency, requests/s of the ceiling and the trivial
endpoint, and the ratio capture ÷ ceiling; errors; and after the run, checked in the database: no duplicate
lead for a retried key, one idempotency record per key, every 201 a distinct new lead.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from common import git_revision, machine, now, percentile  # noqa: E402
from datagen import BENCH_DIR, INTERESTS, build_leads_db, people  # noqa: E402

PG_DB = "leadwerk_bench_intake"
PG_BASE = "leadwerk_bench_intake_base"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"

# What capture runs through, added to the copy before the server starts (models only: no service of the
# scoring or routing helpers is needed to store configuration, and the rules are the same on every run).
SETUP_SCRIPT = r"""
import json, sys, datetime as dt
from django.db import transaction
from leadwerk.accounts.models import Membership, Team
from leadwerk.accounts.services import token_create
from leadwerk.leads import models as m

spec = json.loads(sys.stdin.read())
tenant_id = spec["tenant_id"]
admin = Membership.objects.select_related("tenant").get(pk=spec["admin"])
with transaction.atomic():
    if not m.ScoringSettings.objects.filter(tenant_id=tenant_id).exists():
        m.ScoringSettings.objects.create(tenant_id=tenant_id)
        rules = [
            ("Web form", "lead.channel", "eq", "web_form", 10, None, None),
            ("Fleet interest", "lead.interest", "in", ["flotte", "leasing"], 15, None, None),
            ("Budget given", "lead.budget", "gte", 20000, 15, None, None),
            ("Decision maker", "lead.authority", "eq", True, 10, None, None),
            ("Buys now", "lead.timeline", "eq", "now", 15, None, None),
            ("Within 3 months", "lead.timeline", "eq", "quarter", 8, None, None),
            ("Has company", "person.organization", "set", None, 10, None, None),
            ("Managing director", "person.position", "prefix", "Geschäftsführ", 10, None, None),
            ("Bavaria", "person.postcode", "prefix", "8", 5, None, None),
            ("Large company", "organization.employees", "in", ["250-499", "500-999", "1000+"], 10, None, None),
            ("Freemail", "person.email", "contains", "gmx.", -5, None, None),
            ("Each response", "engagement.response", "count", None, 5, 20, 30),
            ("Each activity", "engagement.activity", "count", None, 3, 15, 30),
        ]
        for pos, (name, field, op, value, points, cap, half) in enumerate(rules):
            m.ScoringRule.objects.create(
                tenant_id=tenant_id, name=name, field=field, operator=op, value=value, points=points,
                max_points=cap, half_life_days=half, position=pos,
            )
        teams = list(Team.objects.filter(tenant_id=tenant_id).order_by("pk"))
        for member in Membership.objects.filter(tenant_id=tenant_id, role__in=["sales", "agent"]):
            m.LeadProfile.objects.get_or_create(
                tenant_id=tenant_id, membership=member, defaults={"weekly_capacity": 400, "email_on_assignment": False}
            )
        ranges = [("0", "2"), ("3", "5"), ("6", "7"), ("8", "9")]
        pos = 0
        for (lo, hi), team in zip(ranges, teams, strict=False):
            m.RoutingRule.objects.create(
                tenant_id=tenant_id, name=f"PLZ {lo}–{hi}: {team.name}", position=pos,
                conditions=[{"field": "person.postcode", "op": "between", "value": [lo + "0000", hi + "9999"]}],
                target="team", target_team=team, strategy="round_robin" if pos % 2 else "fewest_open",
            )
            pos += 1
        m.RoutingRule.objects.create(
            tenant_id=tenant_id, name="Fleets: Key Accounts", position=0,
            conditions=[{"field": "lead.interest", "op": "in", "value": ["flotte"]}],
            target="team", target_team=teams[-1], strategy="round_robin",
        )
        m.RoutingRule.objects.create(
            tenant_id=tenant_id, name="Fallback", position=99, conditions=[], target="team", target_team=teams[0],
            strategy="round_robin",
        )
        m.BusinessCalendar.objects.create(tenant_id=tenant_id, state="BY", workdays=[0, 1, 2, 3, 4])
        for grade, minutes in (("A", 60), ("B", 240), ("C", 480), ("", 960)):
            m.SlaPolicy.objects.create(
                tenant_id=tenant_id, name=f"First contact {grade or 'all'}", grade=grade, metric="first_contact",
                business_minutes=minutes, remind_before_minutes=30,
            )
        m.SlaPolicy.objects.create(tenant_id=tenant_id, name="Accept", metric="accept", business_minutes=240)
    _token, raw = token_create(membership=admin, name="bench intake")
open_ids = list(
    m.Lead.objects.filter(tenant_id=tenant_id, status__in=["accepted", "in_progress"])
    .order_by("-pk").values_list("pk", flat=True)[:2000]
)
last = m.Lead.objects.filter(tenant_id=tenant_id).order_by("-pk").values_list("pk", flat=True).first() or 0
from django.db import connection
with connection.cursor() as cursor:  # the bare ceiling's table (bench/intake/bare/urls.py)
    cursor.execute("DROP TABLE IF EXISTS bench_bare")
    key = "integer PRIMARY KEY AUTOINCREMENT" if connection.vendor == "sqlite" else "bigserial PRIMARY KEY"
    cursor.execute(f"CREATE TABLE bench_bare (id {key}, note varchar(200) NOT NULL, at varchar(40) NOT NULL)")
print(json.dumps({"token": raw, "note_lead_ids": open_ids, "last_lead_id": last}))
"""

# After the run: what the database says about the captured leads.
CHECK_SCRIPT = r"""
import json, sys
from django.db.models import Count
from leadwerk.leads.models import IdempotencyRecord, Lead, LeadEvent

spec = json.loads(sys.stdin.read())
new = Lead.objects.filter(tenant_id=spec["tenant_id"], pk__gt=spec["last_lead_id"])
dupes = (
    new.values("person_id", "interest_id").annotate(n=Count("id")).filter(n__gt=1).count()
)
records = IdempotencyRecord.objects.filter(tenant_id=spec["tenant_id"], key__startswith=spec["prefix"])
print(json.dumps({
    "new_leads": new.count(),
    "person_interest_duplicates": dupes,
    "idempotency_records": records.count(),
    "records_per_key_max": (
        records.values("key").annotate(n=Count("id")).order_by("-n").values_list("n", flat=True).first() or 0
    ),
    "created_events": LeadEvent.objects.filter(lead__in=new, kind="created").count(),
    "scored": new.exclude(scored_at=None).count(),
    "routed": new.exclude(team=None).count(),
    "sla_due": new.exclude(sla_due_at=None).count(),
}))
"""


# --- data --------------------------------------------------------------------------------------------


def _sqlite_copy(src: Path, dst: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    source = sqlite3.connect(src)
    target = sqlite3.connect(dst)
    source.backup(target)
    target.close()
    source.close()
    return dst


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=database_url, LEADWERK_DATA_DIR=str(data_dir), LEADWERK_LOG_LEVEL="WARNING")
    env.pop("REDIS_URL", None)
    return env


def _leadwerk(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    result = subprocess.run(  # noqa: S603
        ["uv", "run", "--no-sync", "leadwerk", *args],  # noqa: S607
        env=env, cwd=REPO, input=stdin, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        raise RuntimeError(f"leadwerk {args[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def _shell(script: str, env: dict[str, str], spec: dict) -> dict:
    out = _leadwerk(["shell", "-c", script], env, stdin=json.dumps(spec))
    return json.loads(out.strip().splitlines()[-1])


def _pg_load(source: Path, work: Path) -> float:
    """Load the SQLite benchmark database into the PostgreSQL template database (cached by its meta)."""
    import psycopg

    meta_path = work / "pg.meta.json"
    stamp = {"source": str(source), "mtime": source.stat().st_mtime, "migrations": _migrations()}
    if meta_path.exists() and json.loads(meta_path.read_text()) == stamp:
        return 0.0
    started = time.perf_counter()
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        for name in (PG_DB, PG_BASE):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PG_BASE}"')
    _leadwerk(["migrate", "--no-input"], _env(f"{PG_SERVER}/{PG_BASE}", work))
    lite = sqlite3.connect(source)
    with psycopg.connect(f"{PG_SERVER}/{PG_BASE}") as pg:
        pg.execute("SET session_replication_role = replica")  # no FK triggers while loading
        pg.execute("SET TIME ZONE 'UTC'")
        pg.execute("SET maintenance_work_mem = '512MB'")
        tables = [
            r[0]
            for r in pg.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'django_migrations'"
            )
        ]
        lite_tables = {r[0] for r in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        pg.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
        for table in tables:
            if table not in lite_tables or not lite.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone():  # noqa: S608
                continue
            pg_cols = {
                r[0]: r[1]
                for r in pg.execute(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s", (table,)
                )
            }
            cols = [r[1] for r in lite.execute(f'PRAGMA table_info("{table}")') if r[1] in pg_cols]
            bools = {i for i, c in enumerate(cols) if pg_cols[c] == "boolean"}
            # Secondary indexes are dropped for the load and built again after: much faster for 1M+ rows.
            indexes = pg.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                (table,),
            ).fetchall()
            for name, _sql in indexes:
                pg.execute(f'DROP INDEX "{name}"')
            quoted = ", ".join(f'"{c}"' for c in cols)
            rows = lite.execute(f'SELECT {quoted} FROM "{table}"')  # noqa: S608
            with pg.cursor().copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    if bools:
                        row = tuple(bool(v) if i in bools and v is not None else v for i, v in enumerate(row))
                    copy.write_row(row)
            for _name, sql in indexes:
                pg.execute(sql)
            if "id" in pg_cols:
                pg.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "  # noqa: S608
                    f'(SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"), false)'
                )
        pg.commit()
    with psycopg.connect(f"{PG_SERVER}/{PG_BASE}", autocommit=True) as pg:
        pg.execute("VACUUM ANALYZE")
    lite.close()
    meta_path.write_text(json.dumps(stamp))
    return time.perf_counter() - started


def _pg_clone() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PG_DB}" TEMPLATE "{PG_BASE}"')


def _migrations() -> list[str]:
    return sorted(str(p.relative_to(REPO)) for p in (REPO / "src" / "leadwerk").glob("*/migrations/0*.py"))


# --- payloads ----------------------------------------------------------------------------------------

_SOURCES = ("Website Kontaktformular", "Probefahrt-Aktion", "Google Ads", "Newsletter November", "Messe IAA 2026")
_MESSAGES = (
    "Bitte um Rückruf wegen eines Angebots.",
    "Wir planen die Erneuerung unserer Flotte (12 Fahrzeuge) im nächsten Quartal.",
    "Interesse an einer Probefahrt am Wochenende.",
    "Was kostet das Leasing für 36 Monate?",
    "",
)


def make_plan(source: Path, tenant_id: int, *, n: int, existing_share: float, retry_rate: float, seed: int,
              prefix: str) -> list[dict]:  # fmt: skip
    """``n`` capture payloads: a share of existing people by e-mail, the rest new people; every tenth retried."""
    rng = random.Random(seed)  # noqa: S311  (benchmark data)
    db = sqlite3.connect(source)
    lo, hi = db.execute("SELECT MIN(id), MAX(id) FROM contacts_person WHERE tenant_id = ?", (tenant_id,)).fetchone()
    wanted = int(n * existing_share)
    existing: list[dict] = []
    columns = "salutation, first_name, last_name, email, phone, postcode, city"
    while len(existing) < wanted:
        ids = rng.sample(range(lo, hi + 1), min(hi - lo + 1, (wanted - len(existing)) * 2))
        marks = ",".join("?" * len(ids))
        for row in db.execute(
            f"SELECT {columns} FROM contacts_person WHERE email <> '' AND id IN ({marks})",  # noqa: S608
            ids,
        ):
            existing.append(dict(zip(columns.split(", "), row, strict=True)))
    db.close()
    existing = existing[:wanted]
    fresh = people(n - wanted, seed=seed + 100, start=5_000_000 + seed * 100_000)
    interests = [key for key, _name, weight in INTERESTS for _ in range(weight)]
    plan = []
    for i in range(n):
        if existing and rng.random() < existing_share:
            person = existing.pop()
            if rng.random() < 0.2:
                person["email"] = person["email"].upper()  # typed differently; the normalised address matches
            person = {k: v for k, v in person.items() if k in ("salutation", "first_name", "last_name", "email")}
        else:
            row = next(fresh, None)
            if row is None:
                person = existing.pop()
            else:
                person = {
                    k: row[k]
                    for k in ("salutation", "first_name", "last_name", "email", "phone", "street", "postcode", "city")
                    if row[k]
                }
        body = {
            "person": person,
            "channel": "web_form",
            "interest": interests[int(rng.random() * len(interests))],
            "source": _SOURCES[int(rng.random() * len(_SOURCES))],
            "source_details": {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": f"herbst-{i % 7}"},
            "message": _MESSAGES[int(rng.random() * len(_MESSAGES))],
        }
        if rng.random() < 0.4:
            body["timeline"] = ("now", "quarter", "year", "later")[int(rng.random() * 4)]
        if rng.random() < 0.25:
            body["budget"] = str(5_000 + int(rng.random() * 95) * 1_000)
        if rng.random() < 0.3:
            body["authority"] = rng.random() < 0.5
        plan.append({"key": f"{prefix}-{i}", "body": body, "retry": rng.random() < retry_rate})
    return plan


# --- server and load ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _executable(name: str) -> str:
    """A script of the project's environment (also when this runs under ``uv run --with …``)."""
    local = REPO / ".venv" / "bin" / name
    return str(local) if local.exists() else shutil.which(name) or name


def start_server(env: dict[str, str], port: int, workers: int, threads: int, log: Path) -> subprocess.Popen:
    handle = open(log, "w")  # noqa: SIM115
    server = subprocess.Popen(  # noqa: S603
        [_executable("leadwerk"), "serve", "--port", str(port), "--workers", str(workers),
         "--threads", str(threads)],
        env=env, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.time() + 90
    while time.time() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"leadwerk serve exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise RuntimeError(f"leadwerk serve did not answer:\n{log.read_text()[-3000:]}")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def load(port: int, token: str, mode: str, plan: Path | None, *, seconds: float, clients: int,
         offset: int = 0) -> dict:  # fmt: skip
    args = [sys.executable, str(HERE / "load.py"), "--port", str(port), "--token", token, "--mode", mode,
            "--seconds", str(seconds), "--clients", str(clients), "--offset", str(offset)]  # fmt: skip
    if plan is not None:
        args += ["--plan", str(plan)]
    result = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode:
        raise RuntimeError(f"load client failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)


def summarise(phase: dict) -> dict:
    lat = phase["latencies_ms"]
    total = phase["requests"] + phase["retries"]
    return {
        "rps": total / phase["wall_s"],
        "leads_per_s": (phase["created"] + phase["added"]) / phase["wall_s"],
        "p50": percentile(lat, 50),
        "p99": percentile(lat, 99),
        "requests": total,
        "errors": phase["errors"],
    }


# --- the run -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="bench/intake: concurrent lead capture through the API")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per endpoint before the rounds")
    parser.add_argument("--workers", type=int, default=2, help="granian worker processes")
    parser.add_argument("--threads", type=int, default=8, help="blocking threads per worker")
    parser.add_argument("--existing", type=float, default=0.3, help="share of payloads for existing people")
    parser.add_argument("--retry-rate", type=float, default=0.1)
    parser.add_argument("--plan-size", type=int, default=0, help="capture payloads to prepare (default: enough)")
    parser.add_argument("--work-dir", default=str(BENCH_DIR / "intake"))
    parser.add_argument("--profile", type=int, default=0, help="profile N captures in-process instead (pyinstrument)")
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"), help="'-' to not write results")
    args = parser.parse_args(argv)

    work = Path(args.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    source = build_leads_db(work / f"leads-{args.leads}.sqlite3", args.leads, people_n=args.people)
    built_s = time.perf_counter() - t0
    run_dir = work / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()
    pg_load_s = 0.0
    if args.db == "sqlite":
        database_url = f"sqlite:///{_sqlite_copy(source.path, run_dir / 'intake.sqlite3')}"
    else:
        pg_load_s = _pg_load(source.path, work)
        _pg_clone()
        database_url = f"{PG_SERVER}/{PG_DB}"
    env = _env(database_url, run_dir)
    _leadwerk(["migrate", "--no-input"], env)
    setup = _shell(SETUP_SCRIPT, env, {"tenant_id": source.tenant_id, "admin": source.admin_id})
    print(f"data ready ({built_s:.0f} s build/cache, {pg_load_s:.0f} s PostgreSQL load)", file=sys.stderr)

    prefix = f"intake-{int(time.time())}"
    plan_size = args.plan_size or int(max(2_000, 400 * args.seconds * (args.rounds + 1)))
    payloads = make_plan(source.path, source.tenant_id, n=plan_size, existing_share=args.existing,
                         retry_rate=args.retry_rate, seed=11, prefix=prefix)  # fmt: skip
    plan_path = run_dir / "plan.json"
    plan_path.write_text(json.dumps({"payloads": payloads, "lead_ids": setup["note_lead_ids"]}))

    if args.profile:
        return _profile(env, setup["token"], payloads[: args.profile], work)

    port = _free_port()
    # The product plus the bench-only bare endpoint (bench/intake/bare): the ceiling, same server.
    server_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE / "bare"), env.get("PYTHONPATH", "")])),
    }
    server = start_server(server_env, port, args.workers, args.threads, run_dir / "server.log")
    rounds: list[dict] = []
    answers: list = []
    offset = 0
    try:
        if args.warmup:
            load(port, setup["token"], "me", None, seconds=args.warmup / 2, clients=args.clients)
            load(port, setup["token"], "note", plan_path, seconds=args.warmup, clients=args.clients)
            load(port, setup["token"], "bare", None, seconds=args.warmup / 2, clients=args.clients)
            warm = load(port, setup["token"], "capture", plan_path, seconds=args.warmup, clients=args.clients)
            offset = warm["next_offset"]
            answers += warm["answers"]
        for r in range(args.rounds):
            phases = {}
            order = ("note", "capture") if r % 2 == 0 else ("capture", "note")
            for mode in order:
                result = load(port, setup["token"], mode, plan_path, seconds=args.seconds, clients=args.clients,
                              offset=offset if mode == "capture" else r * 100_000)  # fmt: skip
                if mode == "capture":
                    offset = result["next_offset"]
                    answers += result["answers"]
                phases[mode] = summarise(result)
                phases[mode]["error_samples"] = result["error_samples"]
            trivial = load(port, setup["token"], "me", None, seconds=args.seconds / 2, clients=args.clients)
            phases["me"] = summarise(trivial)
            bare = load(port, setup["token"], "bare", None, seconds=args.seconds / 2, clients=args.clients)
            phases["bare"] = summarise(bare)
            phases["bare"]["error_samples"] = bare["error_samples"]
            rounds.append(phases)
            c, n_ = phases["capture"], phases["note"]
            print(
                f"round {r + 1}: capture {c['leads_per_s']:.0f} leads/s p50 {c['p50']:.0f} p99 {c['p99']:.0f} ms "
                f"err {c['errors']} | ceiling {n_['rps']:.0f} req/s p99 {n_['p99']:.0f} ms | "
                f"/me {phases['me']['rps']:.0f} req/s | bare insert {phases['bare']['rps']:.0f} req/s "
                f"err {phases['bare']['errors']}",
                file=sys.stderr,
            )
    finally:
        stop_server(server)

    # Idempotency: every answer for one key names the same lead; then the database's view.
    by_key: dict[str, set[int]] = {}
    for key, _status, lead_id in answers:
        by_key.setdefault(key, set()).add(lead_id)
    keys_with_two_leads = sum(1 for ids in by_key.values() if len(ids) > 1)
    created_ids = {lead_id for _key, status, lead_id in answers if status == 201}
    check = _shell(CHECK_SCRIPT, env, {"tenant_id": source.tenant_id, "last_lead_id": setup["last_lead_id"],
                                       "prefix": prefix})  # fmt: skip
    retried = sum(1 for p in payloads[:offset] if p["retry"])
    result = {
        "db": args.db,
        "people": args.people,
        "leads": args.leads,
        "clients": args.clients,
        "workers": args.workers,
        "threads": args.threads,
        "rounds": rounds,
        "median": {
            "capture_leads_per_s": statistics.median(r["capture"]["leads_per_s"] for r in rounds),
            "capture_rps": statistics.median(r["capture"]["rps"] for r in rounds),
            "capture_p50": statistics.median(r["capture"]["p50"] for r in rounds),
            "capture_p99": statistics.median(r["capture"]["p99"] for r in rounds),
            "ceiling_rps": statistics.median(r["note"]["rps"] for r in rounds),
            "ceiling_p99": statistics.median(r["note"]["p99"] for r in rounds),
            "me_rps": statistics.median(r["me"]["rps"] for r in rounds),
            "bare_rps": statistics.median(r["bare"]["rps"] for r in rounds),
            "bare_p99": statistics.median(r["bare"]["p99"] for r in rounds),
        },
        "errors": sum(r[m]["errors"] for r in rounds for m in r),
        "keys_sent": len(by_key),
        "retried_keys": retried,
        "keys_with_two_leads": keys_with_two_leads,
        "created_answers": len(created_ids),
        "check": check,
        # A retried key that made a second lead shows up in one of these three.
        "duplicates": (
            keys_with_two_leads + max(0, check["records_per_key_max"] - 1) + abs(check["new_leads"] - len(created_ids))
        ),
    }
    result["load"] = os.getloadavg()[0]
    med = result["median"]
    med["ratio"] = med["capture_rps"] / med["ceiling_rps"] if med["ceiling_rps"] else 0.0
    med["bare_ratio"] = med["capture_rps"] / med["bare_rps"] if med["bare_rps"] else 0.0
    print(json.dumps({k: v for k, v in result.items() if k != "rounds"}, indent=1), file=sys.stderr)
    (work / f"last-{args.db}.json").write_text(json.dumps(result, indent=1))
    if args.results != "-":
        write_results(Path(args.results), result)
    shutil.rmtree(run_dir, ignore_errors=True)
    if args.db == "postgres":
        import psycopg

        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
    return result


def _profile(env: dict[str, str], token: str, payloads: list[dict], work: Path) -> dict:
    """Capture ``payloads`` in-process with Django's test client under pyinstrument (no server, one thread)."""
    script = HERE / "profile_capture.py"
    out = work / "intake-profile.txt"
    spec = {"token": token, "payloads": payloads, "out": str(out)}
    (work / "run" / "profile-spec.json").write_text(json.dumps(spec))  # to profile again: script < this file
    subprocess.run(  # noqa: S603
        [sys.executable, str(script)], env=env, cwd=REPO, input=json.dumps(spec), text=True, check=True
    )
    print(f"profile written to {out}", file=sys.stderr)
    return {"profile": str(out)}


def _n(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def write_results(path: Path, result: dict) -> None:
    med = result["median"]
    label = "SQLite" if result["db"] == "sqlite" else "PostgreSQL"
    section = [
        f"## {label} — {now()}, commit {git_revision()}",
        "",
        f"Command: `uv run python bench/intake/run.py --db {result['db']} --people {result['people']} "
        f"--leads {result['leads']} --clients {result['clients']}` "
        f"({len(result['rounds'])} rounds, {result['workers']} granian workers × {result['threads']} threads). "
        f"Machine: {machine()}; load average {result['load']:.1f} at the end of the run.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| capture (`POST /api/v1/leads`): leads/s | **{_n(med['capture_leads_per_s'])}** "
        f"({_n(med['capture_rps'])} requests/s with retries) | — |",
        f"| capture p50 / p99 | {med['capture_p50']:.0f} / **{med['capture_p99']:.0f} ms** | p99 ≤ 250 ms |",
        f"| the product's activity endpoint (`POST /api/v1/leads/{{id}}/activities`): requests/s | "
        f"{_n(med['ceiling_rps'])} "
        f"(p99 {med['ceiling_p99']:.0f} ms) | — |",
        f"| the issue's ceiling: bare endpoint, JSON body checked, one row inserted (`POST /bench/bare`, bench "
        f"only): requests/s | {_n(med['bare_rps'])} (p99 {med['bare_p99']:.0f} ms) | — |",
        f"| capture ÷ bare endpoint (the issue's measure) | **{med['bare_ratio']:.2f}** | ≥ 0.5 |",
        f"| capture ÷ the product's activity endpoint (the measure of earlier runs) | {med['ratio']:.2f} | — |",
        f"| trivial authenticated `GET /api/v1/me`: requests/s | {_n(med['me_rps'])} | — |",
        f"| errors | {result['errors']} | 0 |",
        f"| duplicate leads from {result['retried_keys']} retried keys ({result['keys_sent']} keys) | "
        f"{result['duplicates']} | 0 |",
        f"| two new leads for one person and interest (concurrent captures of the same person) | "
        f"{result['check']['person_interest_duplicates']} | — |",
        "",
        "Per round (capture leads/s, p50/p99 ms | activity req/s | /me req/s | bare req/s): "
        + "; ".join(
            f"{_n(r['capture']['leads_per_s'])}, {r['capture']['p50']:.0f}/{r['capture']['p99']:.0f} | "
            f"{_n(r['note']['rps'])} | {_n(r['me']['rps'])} | {_n(r['bare']['rps'])}"
            for r in result["rounds"]
        )
        + ".",
        "",
        f"Database after the run: {json.dumps(result['check'])}.",
        "",
    ]
    text = path.read_text() if path.exists() else "# bench/intake — last results\n\n"
    marker = f"## {label} — "
    parts = text.split("\n## ")
    kept = [parts[0].rstrip("\n") + "\n"] + [
        "## " + p.rstrip("\n") + "\n" for p in parts[1:] if not ("## " + p).startswith(marker)
    ]
    path.write_text("\n".join([*kept, "\n".join(section)]).replace("\n\n\n", "\n\n"))


if __name__ == "__main__":
    main()
