"""bench/dedup: the batch duplicate finder over a generated marketing database with planted duplicates.

    uv run python bench/dedup/run.py                 # 1,000,000 people, 5 % planted near-duplicates
    uv run python bench/dedup/run.py --n 100000      # quicker, for development

Builds (or reuses) the SQLite database with ``bench/datagen.py``, then runs the real finder in-process —
``leadwerk.contacts.dedup.dedup_run_execute``: load from the database, splink on DuckDB, store the
candidates — and compares the stored pairs with the planted truth.

Precision counts a stored pair as right when both records belong to the same planted person (an original
and its near-duplicate, or two near-duplicates of one original); recall is over the planted
(original, duplicate) pairs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.datagen import BENCH_DIR, bench_env, build_people_db  # noqa: E402


def _truth(path: Path) -> tuple[set[tuple[int, int]], dict[int, int]]:
    pairs: set[tuple[int, int]] = set()
    cluster: dict[int, int] = {}
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            a, b = int(row["person_id"]), int(row["duplicate_id"])
            pairs.add((min(a, b), max(a, b)))
            root = cluster.get(a, a)
            cluster[a] = root
            cluster[b] = root
    return pairs, cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=0.05, help="share of planted near-duplicates")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=None, help="default: the finder's default")
    args = parser.parse_args()

    started = time.perf_counter()
    db = build_people_db(
        BENCH_DIR / f"dedup-{args.n}-{args.rate}.sqlite3", args.n, seed=args.seed, duplicate_rate=args.rate
    )
    build_seconds = time.perf_counter() - started
    os.environ.update(bench_env(db.path))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadwerk.settings")
    import django

    django.setup()
    from leadwerk.contacts.dedup import DEFAULT_THRESHOLD, dedup_run_execute
    from leadwerk.contacts.models import DedupRun, DuplicateCandidate

    threshold = args.threshold or DEFAULT_THRESHOLD
    # Every run starts from an empty queue, so "store" writes all pairs (the worst case).
    DuplicateCandidate.objects.filter(tenant_id=db.tenant_id).delete()
    DedupRun.objects.filter(tenant_id=db.tenant_id).delete()
    run = DedupRun.objects.create(tenant_id=db.tenant_id, started_by_id=db.membership_id, threshold=threshold)

    t0 = time.perf_counter()
    run = dedup_run_execute(tenant_id=db.tenant_id, run_id=run.pk)
    total = time.perf_counter() - t0

    truth, cluster = _truth(db.truth_path)
    found = list(
        DuplicateCandidate.objects.filter(tenant_id=db.tenant_id, source="batch").values_list(
            "person_a_id", "person_b_id", "score"
        )
    )
    by_threshold = {}
    for cut in sorted({threshold, 0.9, 0.95, 0.99, 0.999}):
        if cut < threshold:
            continue
        pairs = {(a, b) for a, b, score in found if score >= cut}
        right = sum(1 for a, b in pairs if a in cluster and cluster.get(a) == cluster.get(b))
        by_threshold[cut] = {
            "pairs": len(pairs),
            "precision": round(right / len(pairs), 4) if pairs else None,
            "recall": round(len(pairs & truth) / len(truth), 4) if truth else None,
        }
    result = {
        "people": run.people_count,
        "planted_pairs": len(truth),
        "threshold": threshold,
        "status": run.status,
        "seconds_total": round(total, 1),
        "seconds_by_phase": run.timings,
        "pairs_stored": run.pairs_found,
        "at_threshold": by_threshold[threshold],
        "by_threshold": by_threshold,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "build_or_reuse_db_seconds": round(build_seconds, 1),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
