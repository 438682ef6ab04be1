"""Profile API captures in-process (bench/intake/run.py --profile N): Django's test client, one thread, pyinstrument.

Reads {"token", "payloads", "out"} as JSON on stdin; the database comes from DATABASE_URL as for the server.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    spec = json.loads(sys.stdin.read())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadwerk.settings")
    import django

    django.setup()
    from django.test import Client
    from pyinstrument import Profiler

    client = Client(HTTP_AUTHORIZATION=f"Bearer {spec['token']}")
    payloads = spec["payloads"]

    def post(item: dict) -> None:
        response = client.post(
            "/api/v1/leads", data=item["body"], content_type="application/json", HTTP_IDEMPOTENCY_KEY=item["key"]
        )
        if response.status_code not in (200, 201):
            raise SystemExit(f"{response.status_code}: {response.content[:500]!r}")

    for item in payloads[:20]:  # warm-up: imports, caches, connections
        post(item)
    # Queries per capture, by statement shape (numbers and strings folded), over the next captures.
    import collections
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counted = payloads[20:60]
    payloads = payloads[:20] + payloads[60:]
    shapes: collections.Counter = collections.Counter()
    with CaptureQueriesContext(connection) as ctx:
        for item in counted:
            post(item)
    for query in ctx.captured_queries:
        sql = re.sub(r'"s\d+_x\d+"', '"s?"', query["sql"])  # savepoint names, else each its own shape
        sql = re.sub(r"'[^']*'", "?", sql)
        sql = re.sub(r"\b\d+(\.\d+)?\b", "?", sql)
        shapes[sql[:160]] += 1
    per = len(ctx.captured_queries) / max(1, len(counted))
    query_report = [f"{per:.1f} queries per capture over {len(counted)} captures; by shape (count per capture):"]
    query_report += [f"{n / len(counted):6.2f}  {sql}" for sql, n in shapes.most_common(60)]
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    profiler.start()
    for item in payloads[20:]:
        post(item)
    profiler.stop()
    elapsed = time.perf_counter() - started
    n = max(1, len(payloads) - 20)
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    with open(spec["out"], "w", encoding="utf-8") as out:
        out.write(f"{n} captures in {elapsed:.2f} s ({elapsed / n * 1000:.1f} ms each, profiler on)\n\n")
        out.write("\n".join(query_report) + "\n\n" + text)
    print(f"{n} captures, {elapsed / n * 1000:.1f} ms each; {per:.1f} queries each", file=sys.stderr)


if __name__ == "__main__":
    main()
