"""People list, search, organisations list and segment counts at 1,000,000 people: p50/p95 server time.

    uv run python bench/lists/run.py [--n 1000000] [--runs 50] [--rounds 3] [--pragma cache_size=-65536]

Builds (or reuses) the benchmark database under var/bench/, starts Django in this process against it,
logs in the tenant's marketing user with the test client and times each request through the whole
middleware stack and template rendering. Every run of a case uses a different search term, picked
from the database, so no run profits from the previous one's result rows.
Writes bench/lists/RESULTS.md (use --no-write for a trial run).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import REPO, django_setup, git_revision, machine, measure, now
from datagen import BENCH_DIR, build_people_db

LIST_TARGET_MS = 100
SEGMENT_TARGET_MS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="people in the database")
    parser.add_argument("--runs", type=int, default=50, help="timed requests per case and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median of their percentiles is reported")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--pragma", action="append", default=[], help="extra SQLite PRAGMA per connection")
    parser.add_argument("--only", default="", help="run only cases whose name contains this text")
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()

    started = time.perf_counter()
    db = build_people_db(BENCH_DIR / f"people-{args.n}.sqlite3", args.n, seed=1)
    print(f"database ready in {time.perf_counter() - started:.1f} s: {db.path}", flush=True)
    django_setup(db, pragmas=args.pragma)

    from django.db import connection
    from django.test import Client

    from leadwerk.accounts.models import Membership
    from leadwerk.contacts.models import Organization, Person

    membership = Membership.objects.select_related("user", "tenant").get(pk=db.marketing_membership_id)
    slug = membership.tenant.slug
    client = Client()
    client.force_login(membership.user)

    people = Person.objects.filter(tenant_id=db.tenant_id)
    rng = random.Random(42)  # noqa: S311  (benchmark sampling)
    max_id = people.order_by("-pk").values_list("pk", flat=True).first()
    sample_ids = rng.sample(range(1, max_id + 1), 400)
    sample = list(
        people.filter(pk__in=sample_ids).values(
            "first_name", "last_name", "email", "phone", "postcode", "city", "organization__name", "last_name_key"
        )
    )
    rng.shuffle(sample)
    middle = people.order_by("last_name_key", "pk").values_list("last_name_key", "pk")[args.n * 6 // 10]

    def national(e164: str) -> str:
        # As a user types it from a business card: "089 1234567".
        digits = e164[3:]
        cut = 2 if digits[:2] in ("30", "40", "69", "89") else 3 if digits[:1] == "1" else 4
        return f"0{digits[:cut]} {digits[cut:]}"

    from leadwerk.core.paging import _encode

    terms = {
        "search e-mail": [p["email"] for p in sample if p["email"]],
        "search full name": [f"{p['first_name']} {p['last_name']}" for p in sample],
        "search last name": [p["last_name"] for p in sample],
        "search postcode": [p["postcode"] for p in sample],
        "search phone": [national(p["phone"]) for p in sample if p["phone"]],
        "search city": [p["city"] for p in sample],
        "search company": [p["organization__name"] for p in sample if p["organization__name"]],
    }
    base = f"/{slug}/people/"
    cases: list[tuple[str, list[str], int]] = [
        ("people list, first page", [base], LIST_TARGET_MS),
        ("people list, deep keyset page", [f"{base}?cursor={_encode(list(middle))}"], LIST_TARGET_MS),
        ("people list, sorted newest first", [f"{base}?sort=newest"], LIST_TARGET_MS),
        ("people list, newest, deep page", [f"{base}?sort=newest&cursor={_encode([None, max_id // 3])}"], 100),
    ]
    from urllib.parse import urlencode

    for name, values in terms.items():
        cases.append((name, [f"{base}?{urlencode({'q': v})}" for v in values], LIST_TARGET_MS))
    org_names = list(
        Organization.objects.filter(tenant_id=db.tenant_id).order_by("?").values_list("name", flat=True)[:100]
    )
    cases += [
        ("organisations list, first page", [f"/{slug}/organizations/"], LIST_TARGET_MS),
        (
            "organisations search by name",
            [f"/{slug}/organizations/?{urlencode({'q': n})}" for n in org_names],
            LIST_TARGET_MS,
        ),
    ]
    if args.only:
        cases = [c for c in cases if args.only in c[0]]

    results = []
    for name, urls, target in cases:
        position = [0]

        def request(urls=urls, position=position) -> None:
            url = urls[position[0] % len(urls)]
            position[0] += 1
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url}: HTTP {response.status_code}")

        figures = measure(request, runs=args.runs, rounds=args.rounds, warmup=args.warmup)
        results.append((name, figures, target, len(urls)))
        print(f"{name:40} p50 {figures['p50']:7.1f} ms  p95 {figures['p95']:7.1f} ms  (target {target})", flush=True)

    segment_results, segment_note = segment_counts(db, membership, args)
    results += segment_results
    connection.close()
    if not args.no_write:
        write_results(args, db, results, segment_note)


def segment_counts(db, membership, args) -> tuple[list, str]:
    """Three typical segments through the segments module's own count function, if it is there."""
    try:
        from leadwerk.contacts import segments
    except ImportError:
        return [], "TODO: `leadwerk.contacts.segments` does not exist yet; segment counts not measured."
    count = getattr(segments, "segment_counts", None)
    if count is None:
        return [], "TODO: no `segment_counts` in `leadwerk.contacts.segments`; segment counts not measured."
    definitions = SEGMENTS
    results = []
    for name, definition, channel in definitions:
        figures = measure(
            lambda definition=definition, channel=channel: _count(segments, count, membership, definition, channel),
            runs=max(10, args.runs // 2),
            rounds=args.rounds,
            warmup=2,
        )
        results.append((name, figures, SEGMENT_TARGET_MS, 1))
        print(f"{name:40} p50 {figures['p50']:7.1f} ms  p95 {figures['p95']:7.1f} ms  (target 300)", flush=True)
    return results, ""


# (name, definition, channel)
SEGMENTS = [
    (
        "segment: Bavaria, e-mail marketable",
        {"op": "and", "children": [{"field": "postcode", "operator": "between", "value": ["80000", "97999"]}]},
        "email",
    ),
    (
        "segment: managers in NRW or tag Messe",
        {
            "op": "and",
            "children": [
                {"field": "department", "operator": "eq", "value": "Geschäftsleitung"},
                {
                    "op": "or",
                    "children": [
                        {"field": "postcode", "operator": "between", "value": ["40000", "53999"]},
                        {"field": "tags", "operator": "has_any", "value": ["Messe 2026"]},
                    ],
                },
            ],
        },
        "post",
    ),
    (
        "segment: all people, phone",
        {"op": "and", "children": []},
        "phone",
    ),
]


def _count(segments, count, membership, definition, channel):
    return count(membership=membership, definition=definition, channel=channel)


def write_results(args, db, results, segment_note: str) -> None:
    command = "uv run python bench/lists/run.py" + "".join(f" {a}" for a in sys.argv[1:] if a not in ("--no-write",))
    lines = [
        "# bench/lists — last results",
        "",
        f"- Date: {now()}, revision {git_revision()}",
        f"- Machine: {machine()}",
        f"- Command: `{command}`",
        f"- Database: {db.n:,} people, 20,000 organisations, SQLite ({db.path.relative_to(REPO)})",
        f"- Method: Django test client, logged-in marketing user, full middleware and template rendering; "
        f"{args.warmup} warm-up requests, then {args.rounds} rounds of {args.runs} requests per case, each with "
        "another search term; the median of the rounds' percentiles.",
        "",
        "| case | p50 ms | p95 ms | target p95 ms | met |",
        "|---|---:|---:|---:|:---:|",
    ]
    for name, figures, target, _variants in results:
        met = "yes" if figures["p95"] <= target else "**no**"
        lines.append(f"| {name} | {figures['p50']:.1f} | {figures['p95']:.1f} | {target} | {met} |")
    if segment_note:
        lines += ["", segment_note]
    if args.pragma:
        lines += ["", f"Extra PRAGMAs for this run: {', '.join(args.pragma)}"]
    (Path(__file__).parent / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print("wrote bench/lists/RESULTS.md")


if __name__ == "__main__":
    main()
