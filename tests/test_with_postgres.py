"""`make test` never falls back to SQLite: with no PostgreSQL at all it says so and fails."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "with_postgres.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("with_postgres", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_postgresql_it_names_the_install_command_and_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _load()
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(script, "find_bindir", lambda: None)
    assert script.main(["true"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "apt-get install postgresql" in err


def test_with_database_url_it_runs_the_command_against_that_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = _load()
    monkeypatch.setenv("DATABASE_URL", "postgres://example@127.0.0.1:1/none")
    assert script.main(["false"]) == 1
    assert script.main(["true"]) == 0
