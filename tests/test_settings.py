"""Configuration from the environment: typed, loud on bad values, strict in production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from insignia.env import Env

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "INSIGNIA_ENV": "production",
    "SECRET_KEY": "x" * 60 + "-production-secret-for-the-deploy-check",
    "INSIGNIA_KEY_ENCRYPTION_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "INSIGNIA_BASE_URL": "https://badges.example.edu",
    "DATABASE_URL": "postgres://insignia@127.0.0.1:5432/insignia",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    prefixes = ("INSIGNIA_", "DATABASE_", "DJANGO_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("value", ["maybe", "2", "on-ish"])
def test_a_bad_boolean_stops_with_the_variable_named(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DEBUG="):
        Env({"DEBUG": value}).bool("DEBUG", False)


def test_typed_readers_read_good_values() -> None:
    env = Env({"A": "yes", "N": "42", "L": "a, b,,c"}, {"N": "7", "D": "from-file"})
    assert env.bool("A", False) is True
    assert env.int("N", 0) == 42
    assert env.list("L") == ["a", "b", "c"]
    assert env.str("D") == "from-file"
    with pytest.raises(ImproperlyConfigured, match="MISSING is required"):
        env.str("MISSING")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        Env({"N": "4x"}).int("N", 0)


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "INSIGNIA_KEY_ENCRYPTION_KEY", "INSIGNIA_BASE_URL", "DATABASE_URL"]
)
def test_production_refuses_to_start_without_its_secrets(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} is required" in result.stderr


def test_production_refuses_plain_http_and_debug() -> None:
    result = _manage(
        "check", env={**PRODUCTION_ENV, "INSIGNIA_BASE_URL": "http://badges.example.edu"}
    )
    assert "must use https" in result.stderr
    result = _manage("check", env={**PRODUCTION_ENV, "DEBUG": "1"})
    assert "DEBUG must be off" in result.stderr


def test_the_deploy_check_is_clean_with_production_settings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
