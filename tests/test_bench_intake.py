"""bench/intake at toy scale: the harness starts a real `leadwerk serve`, drives capture, ceiling and trivial
phases with concurrent clients and retried Idempotency-Keys, and finds no errors and no duplicate lead.

It builds a small database (migrate + setup) and starts a server, so it takes tens of seconds: it runs when
LEADWERK_BENCH_SMOKE=1 is set (CI sets it in the benchmark job), and is skipped in the everyday suite.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    os.environ.get("LEADWERK_BENCH_SMOKE") != "1", reason="set LEADWERK_BENCH_SMOKE=1 to run the benchmark smoke test"
)


def _load_run():
    sys.path.insert(0, str(REPO / "bench"))
    spec = importlib.util.spec_from_file_location("bench_intake_run", REPO / "bench" / "intake" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_intake_harness_at_toy_scale(tmp_path):
    run = _load_run()
    results = tmp_path / "RESULTS.md"
    result = run.main(
        [
            "--people", "200", "--leads", "50", "--clients", "2", "--rounds", "1", "--seconds", "2",
            "--warmup", "0", "--workers", "1", "--threads", "2", "--retry-rate", "0.3", "--plan-size", "300",
            "--work-dir", str(REPO / "var" / "bench" / "intake-smoke"), "--results", str(results),
        ]
    )  # fmt: skip
    capture, ceiling, trivial, bare = (result["rounds"][0][k] for k in ("capture", "note", "me", "bare"))
    assert capture["requests"] > 0 and ceiling["requests"] > 0 and trivial["requests"] > 0 and bare["requests"] > 0
    assert result["errors"] == 0, [r[k]["error_samples"] for r in result["rounds"] for k in r]
    assert result["median"]["bare_ratio"] > 0
    # Retries happened, and none of them made a second lead.
    assert result["retried_keys"] > 0
    assert result["keys_with_two_leads"] == 0
    assert result["duplicates"] == 0
    check = result["check"]
    assert check["new_leads"] == result["created_answers"] > 0
    assert check["idempotency_records"] == result["keys_sent"]
    assert check["created_events"] == check["new_leads"]
    text = results.read_text()
    assert "## SQLite — " in text and "capture ÷ bare endpoint" in text
