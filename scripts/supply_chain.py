"""The static and supply-chain gates (issue 18, S-29): one JSON line per gate, exit 1 on any
finding.

    .venv/bin/python scripts/supply_chain.py

1. ``bandit``: the product code (``.bandit.yml``); medium or high findings not justified on
   their line with ``# nosec B<id>``.
2. ``semgrep``: Insignia's own rules (``.semgrep/insignia.yml``), offline; first their planted
   cases (``semgrep --test``), then the tree. semgrep lives in its own environment
   (``var/tools/semgrep``, or ``$SEMGREP``): its pins would move ours.
3. ``floors``: installed versions at or above the ones that fixed advisories we depend on, and
   python-jose absent.
4. ``advisories``: ``scripts/advisories.py`` (the committed PyPA advisory-database subset).
5. ``sbom``: a CycloneDX SBOM of the environment in ``var/sbom.json``, checked to list every
   installed distribution at its version.

Gates 1 and 2 run side by side (they take most of the time).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SBOM = ROOT / "var" / "sbom.json"
Gate = dict[str, Any]

#: Lowest acceptable installed version of a dependency, and the advisory that set it.
FLOORS: dict[str, tuple[str, str]] = {
    "django": ("5.2.14", "CVE-2026-33034, CVE-2026-5766: ASGI uploads bypass the memory limits"),
    "pillow": ("12.2.0", "CVE-2026-40192: FITS gzip decompression bomb"),
    "pyjwt": ("2.13.0", "CVE-2026-48526 (GHSA-xgmm-8j9v-c9wx): a JWK accepted as an HMAC secret"),
    "pyld": ("3.3.0", "FrozenDocumentLoader (pyld PR #250): no network context loading"),
}
#: Never installed: jws.verify(..., algorithms=None) checks no algorithm (CVE-2024-33663 and
#: python-jose issue #414); PyJWT and joserfc do what we need.
FORBIDDEN = ("python-jose",)
#: What the SBOM must name, beside every installed distribution.
SBOM_REQUIRED = ("django", "pillow", "pyjwt", "pyld", "cryptography", "djangorestframework")


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def _fail(lines: list[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def bandit() -> Gate:
    done = _run([str(BIN / "bandit"), "-c", ".bandit.yml", "-r", ".", "-q", "-f", "json"])
    report = json.loads(done.stdout)
    totals = report["metrics"]["_totals"]
    serious = [r for r in report["results"] if r["issue_severity"] in ("MEDIUM", "HIGH")]
    _fail([f"bandit {r['test_id']} {r['filename']}:{r['line_number']}" for r in serious])
    return {
        "ok": not serious and not report["errors"],
        "files": len(report["metrics"]) - 1,
        "lines": totals["loc"],
        "medium_high": len(serious),
        "low": int(totals["SEVERITY.LOW"]),
        "justified": int(totals["skipped_tests"]),
        "errors": len(report["errors"]),
    }


def _semgrep_binary() -> str | None:
    for candidate in (
        os.environ.get("SEMGREP"),
        str(ROOT / "var" / "tools" / "semgrep" / "bin" / "semgrep"),
        shutil.which("semgrep"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def semgrep() -> Gate:
    binary = _semgrep_binary()
    if binary is None:
        _fail(["semgrep is not installed: `make semgrep` (var/tools/semgrep), or set SEMGREP"])
        return {"ok": False, "error": "semgrep not installed"}
    offline = ["--metrics=off", "--disable-version-check"]
    rules = ROOT / ".semgrep" / "insignia.yml"
    planted = 0
    for target in sorted((ROOT / ".semgrep").glob("insignia.*")):
        if target.suffix in (".yml", ".yaml"):
            continue
        tested = _run([binary, "--test", "--config", str(rules), str(target), *offline])
        if tested.returncode != 0:
            _fail([f"semgrep rule tests failed on {target.name}:", tested.stdout[-2000:]])
            return {"ok": False, "rule_tests_failed": target.name}
        planted += target.read_text("utf-8").count("ruleid:")
    done = _run([binary, "scan", "--config", ".semgrep/", *offline, "--quiet", "--json"])
    report = json.loads(done.stdout)
    findings = report["results"]
    _fail(
        [
            f"semgrep {f['check_id'].rsplit('.', 1)[-1]} {f['path']}:{f['start']['line']}"
            for f in findings
        ]
    )
    return {
        "ok": not findings and not report["errors"],
        "rules": rules.read_text("utf-8").count("\n  - id: "),
        "planted_cases_found": planted,
        "files": len(report["paths"]["scanned"]),
        "findings": len(findings),
        "errors": len(report["errors"]),
    }


def installed() -> dict[str, str]:
    return {
        str(canonicalize_name(d.metadata["Name"])): d.version
        for d in metadata.distributions()
        if d.metadata["Name"]
    }


def below_floor(packages: dict[str, str]) -> list[str]:
    """The floors ``packages`` (canonical name → version) do not meet, or miss altogether."""
    return [
        f"{name} {packages.get(name, 'not installed')} < {floor} ({reason})"
        for name, (floor, reason) in FLOORS.items()
        if name not in packages or Version(packages[name]) < Version(floor)
    ]


def floors() -> Gate:
    packages = installed()
    low = below_floor(packages)
    present = [name for name in FORBIDDEN if name in packages]
    _fail([f"below the floor: {line}" for line in low] + [f"forbidden: {n}" for n in present])
    return {
        "ok": not low and not present,
        "floors": len(FLOORS),
        "below": len(low),
        "forbidden_installed": len(present),
    }


def advisories() -> Gate:
    done = _run([sys.executable, str(ROOT / "scripts" / "advisories.py")])
    _fail([line for line in done.stderr.splitlines() if line])
    line: Gate = json.loads(done.stdout.strip().splitlines()[-1])
    line.pop("gate", None)
    line["ok"] = done.returncode == 0 and line["ok"]
    return line


def sbom() -> Gate:
    SBOM.parent.mkdir(exist_ok=True)
    # The CycloneDX schema check of cyclonedx-py takes ~50 s here; the structure this gate
    # relies on is checked below instead.
    done = _run(
        [
            str(BIN / "cyclonedx-py"),
            "environment",
            "--pyproject",
            "pyproject.toml",
            "--output-reproducible",
            "--no-validate",
            "-o",
            str(SBOM),
            sys.executable,
        ]
    )
    if done.returncode != 0:
        _fail([done.stderr[-2000:]])
        return {"ok": False, "error": "cyclonedx-py failed"}
    return check_sbom(json.loads(SBOM.read_text("utf-8")), installed())


def check_sbom(bom: dict[str, Any], packages: dict[str, str]) -> Gate:
    """Whether ``bom`` lists every one of ``packages`` at its version, with a PyPI purl."""
    listed = {
        str(canonicalize_name(c["name"])): c.get("version")
        for c in bom.get("components", [])
        if str(c.get("purl", "")).startswith("pkg:pypi/")
    }
    root = canonicalize_name(bom.get("metadata", {}).get("component", {}).get("name", ""))
    wrong = sorted(
        name for name, version in packages.items() if name != root and listed.get(name) != version
    )
    missing = [name for name in SBOM_REQUIRED if name not in listed]
    _fail([f"sbom: {name} not listed at {packages[name]}" for name in wrong])
    return {
        "ok": bom.get("bomFormat") == "CycloneDX" and not wrong and not missing,
        "spec": bom.get("specVersion"),
        "components": len(listed),
        "missing_or_wrong": len(wrong) + len(missing),
        "file": str(SBOM.relative_to(ROOT)),
    }


def _timed(gate: Callable[[], Gate]) -> Gate:
    started = time.monotonic()
    result = gate()
    return {**result, "seconds": round(time.monotonic() - started, 1)}


def main() -> int:
    started = time.monotonic()
    gates: list[tuple[str, Callable[[], Gate]]] = [
        ("bandit", bandit),
        ("semgrep", semgrep),
        ("floors", floors),
        ("advisories", advisories),
        ("sbom", sbom),
    ]
    ok = True
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [(name, pool.submit(_timed, gate)) for name, gate in gates]
        for name, future in futures:
            result = future.result()
            ok = ok and bool(result["ok"])
            print(json.dumps({"gate": name, **result}), flush=True)
    seconds = round(time.monotonic() - started, 1)
    print(json.dumps({"gate": "supply-chain", "ok": ok, "seconds": seconds}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
