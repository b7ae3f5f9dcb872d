"""Write ``var/dev.env``: the development defaults ``make run`` and ``manage.py`` share.

Secrets are generated once and kept, so the demo database's encrypted issuer keys stay
readable across runs; ``PORT`` and ``INSIGNIA_BASE_URL`` follow the port ``make run`` serves on
unless ``INSIGNIA_BASE_URL`` is set in the environment.
Run: ``python -m insignia.devenv [PORT]``.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

VAR_DIR = Path(__file__).resolve().parent.parent / "var"
DEV_ENV = VAR_DIR / "dev.env"


def _read(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep and not key.startswith("#"):
                values[key.strip()] = value.strip()
    return values


def write_dev_env(port: int) -> dict[str, str]:
    """Create or update ``var/dev.env`` and return its values."""
    VAR_DIR.mkdir(exist_ok=True)
    values = _read(DEV_ENV)
    values.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    values.setdefault(
        "INSIGNIA_KEY_ENCRYPTION_KEY",
        base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="),
    )
    values["PORT"] = str(port)
    values["INSIGNIA_BASE_URL"] = os.environ.get("INSIGNIA_BASE_URL", f"http://127.0.0.1:{port}")
    lines = ["# Development defaults written by `make run` (python -m insignia.devenv)."]
    lines += [f"{key}={value}" for key, value in sorted(values.items())]
    DEV_ENV.write_text("\n".join(lines) + "\n", encoding="utf-8")
    DEV_ENV.chmod(0o600)
    return values


if __name__ == "__main__":
    write_dev_env(int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("PORT", "8000")))
