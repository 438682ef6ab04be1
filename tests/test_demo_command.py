"""`leadwerk demo` end to end, as a newcomer runs it: database, demo data, web + worker, clean stop."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(data_dir: Path) -> dict[str, str]:
    # A development installation of its own: no test settings, no shared database or Redis.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("LEADWERK_", "DATABASE_URL", "REDIS_URL", "DJANGO_"))
    }
    # A tenth of the demo's size: the same code paths (the predictive model still has enough closed leads).
    return env | {"LEADWERK_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", "LEADWERK_DEMO_PERCENT": "10"}


def _run_demo(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "leadwerk.cli", "demo", *args], env=env, capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback only)
            return response.status == 200
    except OSError:
        return False


def _csrf(jar: http.cookiejar.CookieJar) -> str:
    return next(cookie.value for cookie in jar if cookie.name == "csrftoken")


def test_demo_is_idempotent_serves_web_and_worker_and_stops_cleanly(tmp_path):
    env = _env(tmp_path)
    first = _run_demo(["--no-serve"], env)
    assert "admin@nordstern.example" in first and "leadwerk-demo" in first
    assert _run_demo(["--no-serve"], env) == first  # a second run changes nothing

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "leadwerk.cli", "demo", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(lambda: _up(f"{base}/healthz"), 60, "the web server")
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{base}/accounts/login/", timeout=10)
        body = urllib.parse.urlencode(
            {"login": "admin@nordstern.example", "password": "leadwerk-demo", "csrfmiddlewaretoken": _csrf(jar)}
        ).encode()
        page = opener.open(f"{base}/accounts/login/", data=body, timeout=10)
        assert page.url.endswith("/nordstern/"), page.url
        # An invitation is mailed by the worker (console mail backend in the demo).
        body = urllib.parse.urlencode(
            {"email": "new.colleague@nordstern.example", "role": "sales", "csrfmiddlewaretoken": _csrf(jar)}
        ).encode()
        page = opener.open(f"{base}/nordstern/members/invite/", data=body, timeout=10)
        assert page.url.endswith("/nordstern/members/")
        _wait_for(
            lambda: "new.colleague@nordstern.example" in log.read_text() and "invitations/" in log.read_text(),
            60,
            "the worker to send the invitation",
        )
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            pytest.fail("demo did not stop within 30 s of Ctrl-C")
    assert "Stopped web and worker." in log.read_text()
    assert not _up(f"{base}/healthz")
    assert re.search(r"Subject: .*Nordstern", log.read_text())
