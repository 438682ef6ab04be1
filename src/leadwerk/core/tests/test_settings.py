"""Settings fail at start-up on bad values, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _load(env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LEADWERK_", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "EMAIL_"))
    }
    clean |= {"LEADWERK_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "leadwerk.settings"} | env
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"LEADWERK_ENV": "staging"}, "LEADWERK_ENV"),
        ({"LEADWERK_DEBUG": "maybe"}, "LEADWERK_DEBUG"),
        ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
        ({"LEADWERK_WORKER_THREADS": "zero"}, "LEADWERK_WORKER_THREADS"),
        ({"LEADWERK_ENV": "production", "LEADWERK_ALLOWED_HOSTS": "x.test"}, "SECRET_KEY"),
        ({"LEADWERK_ENV": "production", "LEADWERK_ALLOWED_HOSTS": "x.test", "SECRET_KEY": "k" * 50}, "EMAIL_HOST"),
        ({"LEADWERK_ENV": "production", "SECRET_KEY": "k" * 50}, "LEADWERK_ALLOWED_HOSTS"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(tmp_path, env, variable):
    result = _load(env, tmp_path)
    assert result.returncode != 0
    assert variable in result.stderr


def test_development_defaults_generate_and_keep_a_secret_key(tmp_path):
    assert _load({}, tmp_path).returncode == 0
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 50
    assert _load({}, tmp_path).returncode == 0
    assert (tmp_path / "secret_key").read_text() == key


def test_production_settings_pass_the_deploy_check(tmp_path):
    env = {
        "LEADWERK_ENV": "production",
        "SECRET_KEY": "a-production-secret-that-is-long-and-random-0123456789abcdef",
        "LEADWERK_ALLOWED_HOSTS": "leads.example.com",
        "EMAIL_HOST": "smtp.example.com",
    }
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LEADWERK_", "SECRET_KEY", "EMAIL_", "DJANGO_ALLOW_ASYNC_UNSAFE"))
    }
    clean |= {"LEADWERK_DATA_DIR": str(tmp_path)} | env
    result = subprocess.run(
        [sys.executable, "-m", "leadwerk.cli", "check", "--deploy", "--fail-level", "WARNING"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
