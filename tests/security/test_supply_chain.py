"""Supply-chain gates (issue 18, S-29): the installed dependencies meet the versions that fixed
the advisories we depend on, python-jose is nowhere, no installed package matches a record of
the committed PyPA advisory-database subset, and the SBOM lists what is installed.

``scripts/supply_chain.py`` runs these with bandit and semgrep; run this with ``-s`` to see the
figures."""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent.parent
SKIP_DIRS = {".venv", "var", "node_modules", ".semgrep", ".git", "__pycache__"}


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


gates = _load("supply_chain")
advisories = _load("advisories")


def test_installed_dependencies_meet_the_security_floors() -> None:
    installed = gates.installed()
    print(f"\nfloors: {len(gates.FLOORS)} checked, {len(gates.below_floor(installed))} below")
    assert gates.below_floor(installed) == []


def test_a_version_below_its_floor_is_named_with_its_advisory() -> None:
    installed = {**gates.installed(), "django": "5.2.13"}
    del installed["pyld"]
    assert gates.below_floor(installed) == [
        f"django 5.2.13 < 5.2.14 ({gates.FLOORS['django'][1]})",
        f"pyld not installed < 3.3.0 ({gates.FLOORS['pyld'][1]})",
    ]


def test_the_pins_in_pyproject_meet_the_floors() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    pins = {}
    for line in project["dependencies"]:
        requirement = Requirement(line)
        (spec,) = requirement.specifier
        pins[canonicalize_name(requirement.name)] = spec.version
    low = {
        name: pins.get(name)
        for name, (floor, _reason) in gates.FLOORS.items()
        if name not in pins or Version(pins[name]) < Version(floor)
    }
    assert low == {}


def _jose_imports() -> tuple[int, list[str]]:
    """How many project Python files were read, and those that import ``jose``."""
    files = [
        path
        for path in ROOT.rglob("*.py")
        if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts)
    ]
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if any(name == "jose" or name.startswith("jose.") for name in names):
                found.append(str(path.relative_to(ROOT)))
    return len(files), found


def test_python_jose_is_neither_installed_nor_imported() -> None:
    with pytest.raises(metadata.PackageNotFoundError):
        metadata.distribution("python-jose")
    assert importlib.util.find_spec("jose") is None
    scanned, importing = _jose_imports()
    print(f"\npython-jose: not installed; {len(importing)} imports in {scanned} files")
    assert scanned > 300
    assert importing == []


# --------------------------------------------------------------------------------------------
# The advisory check
# --------------------------------------------------------------------------------------------


def test_no_installed_package_matches_an_advisory() -> None:
    records, manifest = advisories.load()
    report = advisories.check(advisories.installed(), records, manifest)
    print(
        f"\nadvisories: {report.dependencies} dependencies checked, {report.advisories} "
        f"advisories considered, {len(report.matched)} matched "
        f"(database {manifest['commit'][:12]} of {manifest['commit_date'][:10]})"
    )
    assert [(m.package, m.version, m.advisory) for m in report.matched] == []
    assert report.uncovered == []


def test_a_vulnerable_django_fails_the_check_and_names_the_advisory() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "advisories.py"), "--pretend", "Django==4.2.0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    # CVE-2024-42005: SQL injection in QuerySet.values() on JSONField, fixed in 4.2.15
    assert "django 4.2.0: PYSEC-2024-70 (CVE-2024-42005); fixed in 5.0.8, 4.2.15" in done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["matched"] >= 10


def _record(affected: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"id": "PYSEC-TEST-1", "aliases": ["CVE-TEST-1"], "affected": affected, **extra}


def _pkg(name: str = "PyJWT", ecosystem: str = "PyPI") -> dict[str, str]:
    return {"name": name, "ecosystem": ecosystem}


def _range(*events: dict[str, str]) -> dict[str, Any]:
    return {"type": "ECOSYSTEM", "events": list(events)}


MANIFEST = {"commit": "0" * 40, "database_packages": ["pyjwt"], "covered_packages": ["pyjwt"]}


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ("1.7.1", True),  # in the first interval, from the beginning
        ("2.4.0", False),  # fixed
        ("2.9.9", False),  # between the intervals
        ("2.10.0", True),  # the second interval opens
        ("2.12.1", True),  # last_affected is included
        ("2.13.0", False),  # after last_affected
        ("2.13.0rc1", False),
        ("2.11.0rc1", True),  # a pre-release inside an interval
    ],
)
def test_ecosystem_ranges_are_evaluated_as_the_osv_schema_says(
    version: str, affected: bool
) -> None:
    record = _record(
        [
            {
                "package": _pkg(),
                "ranges": [
                    _range({"introduced": "0"}, {"fixed": "2.4.0"}),
                    _range({"introduced": "2.10.0"}, {"last_affected": "2.12.1"}),
                    {"type": "GIT", "events": [{"introduced": "0"}, {"fixed": "abc123"}]},
                ],
            }
        ]
    )
    report = advisories.check({"pyjwt": version}, [record], MANIFEST)
    assert [m.advisory for m in report.matched] == (["PYSEC-TEST-1"] if affected else [])


def test_listed_versions_match_and_other_packages_ecosystems_and_withdrawn_records_do_not() -> None:
    listed = _record([{"package": _pkg("pyjwt"), "versions": ["2.8.0"]}])
    withdrawn = _record(
        [{"package": _pkg(), "ranges": [_range({"introduced": "0"})]}], withdrawn="2024-01-01"
    )
    other_package = _record([{"package": _pkg("jwt"), "ranges": [_range({"introduced": "0"})]}])
    other_ecosystem = _record(
        [{"package": _pkg(ecosystem="npm"), "ranges": [_range({"introduced": "0"})]}]
    )
    report = advisories.check(
        {"pyjwt": "2.8.0"}, [listed, withdrawn, other_package, other_ecosystem], MANIFEST
    )
    assert (report.dependencies, report.advisories) == (1, 1)
    assert [(m.package, m.version, m.advisory) for m in report.matched] == [
        ("pyjwt", "2.8.0", "PYSEC-TEST-1")
    ]
    assert not report.ok


def test_a_package_the_subset_does_not_cover_fails_the_check() -> None:
    manifest = {**MANIFEST, "database_packages": ["pyjwt", "django"]}
    report = advisories.check({"pyjwt": "2.15.1", "django": "5.2.19"}, [], manifest)
    assert report.uncovered == ["django"]
    assert not report.ok


def test_the_committed_subset_names_its_source_and_holds_only_our_packages() -> None:
    records, manifest = advisories.load()
    assert manifest["source"] == "https://github.com/pypa/advisory-database"
    assert len(manifest["commit"]) == 40
    assert manifest["records"] == len(records)
    named = {
        canonicalize_name(entry["package"]["name"])
        for record in records
        for entry in record["affected"]
    }
    assert named <= set(manifest["covered_packages"])
    assert "django" in named


# --------------------------------------------------------------------------------------------
# SBOM
# --------------------------------------------------------------------------------------------


def test_the_sbom_lists_every_installed_distribution_at_its_version(tmp_path: Path) -> None:
    target = tmp_path / "sbom.json"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "cyclonedx-py"),
            "environment",
            "--pyproject",
            str(ROOT / "pyproject.toml"),
            "--no-validate",
            "-o",
            str(target),
            sys.executable,
        ],
        check=True,
        capture_output=True,
    )
    bom = json.loads(target.read_text("utf-8"))
    installed = gates.installed()
    result = gates.check_sbom(bom, installed)
    print(f"\nsbom: {result['components']} components, {result['missing_or_wrong']} missing")
    assert result["ok"], result
    django = next(c for c in bom["components"] if c["name"] == "Django")
    assert django["purl"] == f"pkg:pypi/django@{installed['django']}"

    bom["components"] = [c for c in bom["components"] if c["name"] != "Django"]
    assert not gates.check_sbom(bom, installed)["ok"]
