"""The online matcher (leadwerk.contacts.matching.person_match) against 1,000,000 people: p50/p95/p99 per lookup.

    uv run python bench/match/run.py [--n 1000000] [--lookups 5000]

A mix of lookups as the write paths make them: an existing e-mail, an existing phone number (with
the person's last name), a near-duplicate (name slip, same postcode, no e-mail or phone), and a
brand-new person. Values are normalised first, as every write path does before calling the matcher.
Writes bench/match/RESULTS.md (use --no-write for a trial run).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import REPO, django_setup, git_revision, machine, now, percentile
from datagen import BENCH_DIR, build_people_db, near_duplicate, people

TARGET_MS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=5000, help="timed lookups per kind")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    db = build_people_db(BENCH_DIR / f"people-{args.n}.sqlite3", args.n, seed=1)
    django_setup(db)
    from django.db import connection

    from leadwerk.contacts.matching import person_match
    from leadwerk.contacts.normalize import normalize_email, normalize_phone

    rng = random.Random(7)  # noqa: S311  (benchmark sampling)
    picks = sorted(rng.sample(range(args.n), min(args.n, args.lookups * 3)))
    existing = []
    wanted = iter(picks)
    target = next(wanted)
    for index, row in enumerate(people(args.n, seed=1)):
        if index == target:
            existing.append(row)
            target = next(wanted, None)
            if target is None:
                break
    rng.shuffle(existing)

    def lookup(row: dict) -> dict:
        return {
            "email": normalize_email(row["email"]).value,
            "phone": normalize_phone(row["phone"]).value,
            "mobile": normalize_phone(row["mobile"]).value,
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "postcode": row["postcode"],
            "street": row["street"],
        }

    with_email = [r for r in existing if r["email"]][: args.lookups]
    with_phone = [r for r in existing if r["phone"]][: args.lookups]
    dups = []
    for r in existing[: args.lookups]:
        dup = near_duplicate(r, rng)
        dup["email"] = dup["phone"] = dup["mobile"] = ""  # only the name and the postcode can find it
        dups.append(dup)
    fresh = list(people(args.lookups, seed=99, start=args.n + 10_000_000))
    kinds = {
        "existing e-mail": [lookup(r) for r in with_email],
        "existing phone": [{**lookup(r), "email": ""} for r in with_phone],
        "near-duplicate name + postcode": [lookup(r) for r in dups],
        "brand-new person": [lookup(r) for r in fresh],
    }
    results = []
    for name, values in kinds.items():
        for v in values[:50]:  # warm-up
            person_match(tenant_id=db.tenant_id, **v)
        times, found = [], 0
        for v in values:
            started = time.perf_counter()
            match = person_match(tenant_id=db.tenant_id, **v)
            times.append((time.perf_counter() - started) * 1000)
            found += match is not None
        figures = {q: percentile(times, q) for q in (50, 95, 99)}
        results.append((name, figures, found, len(values)))
        print(
            f"{name:32} p50 {figures[50]:6.2f} ms  p95 {figures[95]:6.2f} ms  p99 {figures[99]:6.2f} ms  "
            f"found {found}/{len(values)}",
            flush=True,
        )
    connection.close()
    if not args.no_write:
        write_results(args, db, results)


def write_results(args, db, results) -> None:
    command = "uv run python bench/match/run.py" + "".join(f" {a}" for a in sys.argv[1:] if a != "--no-write")
    lines = [
        "# bench/match — last results",
        "",
        f"- Date: {now()}, revision {git_revision()}",
        f"- Machine: {machine()}",
        f"- Command: `{command}`",
        f"- Database: {db.n:,} people, SQLite ({db.path.relative_to(REPO)})",
        "- Method: `person_match()` called in process, values normalised beforehand (not timed); 50 warm-up "
        "lookups per kind, then every lookup timed.",
        "",
        f"| lookup | n | p50 ms | p95 ms | p99 ms | found | target p95 ≤ {TARGET_MS} ms |",
        "|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for name, figures, found, count in results:
        met = "yes" if figures[95] <= TARGET_MS else "**no**"
        lines.append(
            f"| {name} | {count} | {figures[50]:.2f} | {figures[95]:.2f} | {figures[99]:.2f} | {found} | {met} |"
        )
    (Path(__file__).parent / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print("wrote bench/match/RESULTS.md")


if __name__ == "__main__":
    main()
