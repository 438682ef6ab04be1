"""The load client of bench/intake: keep-alive HTTP/1.1 clients in threads, in a process of its own.

    python bench/intake/load.py --port 8123 --token lw_… --mode capture --plan plan.json --seconds 10 --clients 12

Stdlib only (``http.client``), so it runs without the project's environment and costs little CPU per request.
Modes:

- ``capture``: ``POST /api/v1/leads`` with the plan's payloads, each with its own ``Idempotency-Key``; a payload
  marked ``retry`` is sent a second time with the same key by another client while (or right after) the first
  send is in flight — a client that gave up waiting and tried again.
- ``note``: ``POST /api/v1/leads/{id}/activities`` with a small note (the ceiling: validate a small JSON body,
  insert one row), spread over the plan's lead ids.
- ``me``: ``GET /api/v1/me`` (a trivial authenticated endpoint).

Prints one JSON object: requests, errors (with the first few bodies), wall seconds, latencies in ms, and for
capture every (key, status, lead id) answer so the caller can check that retries got the same lead.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import sys
import threading
import time


def run(args: argparse.Namespace) -> dict:
    plan = json.loads(open(args.plan, encoding="utf-8").read()) if args.plan else {}  # noqa: SIM115
    payloads = plan.get("payloads", [])
    lead_ids = plan.get("lead_ids", [])
    headers = {"Authorization": f"Bearer {args.token}", "Content-Type": "application/json", "Accept-Language": "en"}
    lock = threading.Lock()
    next_index = [args.offset]
    retries: collections.deque = collections.deque()
    latencies: list[float] = []
    answers: list[tuple[str, int, int | None]] = []
    errors: list[str] = []
    counts = collections.Counter()
    start_gate = threading.Event()
    deadline = [0.0]

    def take():
        """The next request: a pending retry first, else the next payload; None when the plan is used up."""
        with lock:
            if retries:
                return retries.popleft(), True
            i = next_index[0]
            if args.mode == "capture" and i >= len(payloads):
                return None, False
            next_index[0] = i + 1
        if args.mode == "capture":
            item = payloads[i]
            if item.get("retry"):
                retries.append(item)
            return item, False
        return i, False

    def client() -> None:
        conn = http.client.HTTPConnection(args.host, args.port, timeout=60)
        start_gate.wait()
        while time.perf_counter() < deadline[0]:
            item, is_retry = take()
            if item is None:
                break
            if args.mode == "capture":
                method, path = "POST", "/api/v1/leads"
                body = json.dumps(item["body"]).encode()
                extra = {"Idempotency-Key": item["key"]}
            elif args.mode == "bare":
                method, path = "POST", "/bench/bare"
                body, extra = json.dumps({"note": f"Rückruf vereinbart ({item})"}).encode(), {}
            elif args.mode == "note":
                method, path = "POST", f"/api/v1/leads/{lead_ids[item % len(lead_ids)]}/activities"
                body = json.dumps({"kind": "note", "note": f"Rückruf vereinbart ({item})"}).encode()
                extra = {}
            else:
                method, path, body, extra = "GET", "/api/v1/me", None, {}
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers={**headers, **extra})
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = http.client.HTTPConnection(args.host, args.port, timeout=60)
                status, data = 0, repr(exc).encode()
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                counts["retries" if is_retry else "requests"] += 1
                if status not in (200, 201):
                    counts["errors"] += 1
                    if len(errors) < 5:
                        errors.append(f"{status} {path}: {data[:300].decode(errors='replace')}")
                elif args.mode == "capture":
                    lead_id = json.loads(data)["lead"]["id"]
                    answers.append((item["key"], status, lead_id))
                    counts["created" if status == 201 else "added"] += 0 if is_retry else 1
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + args.seconds
    start_gate.set()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return {
        "mode": args.mode,
        "clients": args.clients,
        "wall_s": wall,
        "requests": counts["requests"],
        "retries": counts["retries"],
        "errors": counts["errors"],
        "created": counts["created"],
        "added": counts["added"],
        "next_offset": next_index[0],
        "error_samples": errors,
        "latencies_ms": latencies,
        "answers": answers,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--mode", choices=("capture", "note", "me", "bare"), required=True)
    parser.add_argument("--plan", help="JSON file: payloads (capture) or lead_ids (note)")
    parser.add_argument("--offset", type=int, default=0, help="first payload of the plan to send")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=12)
    args = parser.parse_args(argv)
    json.dump(run(args), sys.stdout)


if __name__ == "__main__":
    main()
