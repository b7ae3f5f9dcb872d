"""Typed readers for settings that come from the environment.

Each reader fails loudly (``ImproperlyConfigured``) on a value it cannot read, instead of
guessing: a typo in production configuration must stop the process, not change behaviour.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    """Reads variables from ``environ`` first, then from ``defaults`` (e.g. ``var/dev.env``)."""

    def __init__(
        self,
        environ: Mapping[builtins.str, builtins.str],
        defaults: Mapping[builtins.str, builtins.str] | None = None,
    ) -> None:
        self._environ = environ
        self._defaults = defaults or {}

    def raw(self, name: builtins.str) -> builtins.str | None:
        if name in self._environ:
            return self._environ[name]
        return self._defaults.get(name)

    def str(self, name: builtins.str, default: builtins.str | None = None) -> builtins.str:
        value = self.raw(name)
        if value is None or value == "":
            if default is None:
                raise ImproperlyConfigured(f"The environment variable {name} is required.")
            return default
        return value

    def optional_str(self, name: builtins.str) -> builtins.str | None:
        value = self.raw(name)
        return value if value else None

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
        )

    def int(self, name: builtins.str, default: builtins.int) -> builtins.int:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return default
        try:
            return builtins.int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None

    def list(
        self, name: builtins.str, default: builtins.list[builtins.str] | None = None
    ) -> builtins.list[builtins.str]:
        value = self.raw(name)
        if value is None:
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(
        self, name: builtins.str, choices: tuple[builtins.str, ...], default: builtins.str
    ) -> builtins.str:
        value = self.str(name, default)
        if value not in choices:
            raise ImproperlyConfigured(f"{name}={value!r} must be one of {', '.join(choices)}.")
        return value


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a ``KEY=VALUE`` file (comments with ``#``); a missing file reads as empty."""
    if not path.exists():
        return {}
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if not sep:
            raise ImproperlyConfigured(f"{path}:{number}: expected KEY=VALUE, got {stripped!r}.")
        values[key.strip()] = value.strip()
    return values


def environ() -> Mapping[str, str]:
    """The process environment (a seam for tests)."""
    return os.environ
