"""Check the installed Python packages against a committed subset of the PyPA advisory
database, offline.

pip-audit asks a web service; where it cannot reach it, it prints "No known vulnerabilities
found" all the same (a false green). This reads ``security/advisories/osv.json`` instead: the
OSV records of the PyPA advisory database (https://github.com/pypa/advisory-database) for the
packages installed when it was refreshed, with the database's commit and date in
``security/advisories/manifest.json``.

    .venv/bin/python scripts/advisories.py                          # one JSON line; 1 on a match
    .venv/bin/python scripts/advisories.py --pretend django==4.2.0  # as if that were installed
    .venv/bin/python scripts/advisories.py refresh PATH             # rewrite the subset

``PATH`` is a checkout of the database or its git directory (a bare clone). A version is
affected when an OSV record lists it in ``versions`` or an ``ECOSYSTEM`` range holds it
(OSV schema, "Evaluation"); ``GIT`` ranges are left out, as every record here also has an
``ECOSYSTEM`` range. Withdrawn records are left out.

An installed package the database knows but the subset does not cover (added since the
last refresh) fails the check too: the subset cannot vouch for it until it is refreshed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "security" / "advisories"
Record = dict[str, Any]


@dataclass(frozen=True)
class Match:
    package: str
    version: str
    advisory: str
    aliases: tuple[str, ...]
    fixed: tuple[str, ...]


@dataclass
class Report:
    dependencies: int = 0
    advisories: int = 0
    matched: list[Match] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.matched and not self.uncovered


def installed() -> dict[str, str]:
    """Every distribution importable from this interpreter: canonical name → version."""
    return {
        str(canonicalize_name(dist.metadata["Name"])): dist.version
        for dist in metadata.distributions()
        if dist.metadata["Name"]
    }


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _in_range(version: Version, events: Iterable[Mapping[str, str]]) -> bool:
    """The OSV evaluation of one ECOSYSTEM range: walk its events in version order; an
    ``introduced`` at or below the version opens it, a ``fixed`` at or below (or a
    ``last_affected`` below) closes it."""
    keyed: list[tuple[Version, str]] = []
    for event in events:
        for kind, text in event.items():
            if kind == "introduced" and text == "0":
                keyed.append((Version("0"), kind))
            elif kind in ("introduced", "fixed", "last_affected"):
                at = _version(text)
                if at is not None:
                    keyed.append((at, kind))
    affected = False
    for at, kind in sorted(keyed, key=lambda pair: pair[0]):
        if kind == "introduced" and version >= at:
            affected = True
        elif (kind == "fixed" and version >= at) or (kind == "last_affected" and version > at):
            affected = False
    return affected


def affects(record: Record, package: str, version: str) -> bool:
    """Whether the OSV ``record`` says ``package`` (canonical name) at ``version`` is
    affected."""
    parsed = _version(version)
    for entry in _entries(record, package):
        listed = entry.get("versions") or []
        if version in listed or (parsed is not None and parsed in _versions(listed)):
            return True
        for span in entry.get("ranges") or []:
            events = span.get("events") or []
            if span.get("type") == "ECOSYSTEM" and parsed is not None and _in_range(parsed, events):
                return True
    return False


def _versions(texts: Iterable[str]) -> set[Version]:
    return {v for v in (_version(text) for text in texts) if v is not None}


def _entries(record: Record, package: str) -> Iterator[Record]:
    for entry in record.get("affected") or []:
        named = entry.get("package") or {}
        if named.get("ecosystem") == "PyPI" and canonicalize_name(named.get("name", "")) == package:
            yield entry


def _fixed(record: Record, package: str) -> tuple[str, ...]:
    return tuple(
        event["fixed"]
        for entry in _entries(record, package)
        for span in entry.get("ranges") or []
        if span.get("type") == "ECOSYSTEM"
        for event in span.get("events") or []
        if "fixed" in event
    )


def check(packages: Mapping[str, str], records: list[Record], manifest: Record) -> Report:
    """Match ``packages`` (canonical name → version) against ``records``."""
    report = Report(dependencies=len(packages))
    known = set(manifest["database_packages"])
    covered = set(manifest["covered_packages"])
    report.uncovered = sorted(name for name in packages if name in known - covered)
    for record in records:
        if record.get("withdrawn"):
            continue
        named = [name for name in packages if any(True for _ in _entries(record, name))]
        if not named:
            continue
        report.advisories += 1
        for name in named:
            if affects(record, name, packages[name]):
                report.matched.append(
                    Match(
                        name,
                        packages[name],
                        str(record["id"]),
                        tuple(record.get("aliases") or ()),
                        _fixed(record, name),
                    )
                )
    return report


def load(folder: Path = DATA) -> tuple[list[Record], Record]:
    records: list[Record] = json.loads((folder / "osv.json").read_text("utf-8"))
    manifest: Record = json.loads((folder / "manifest.json").read_text("utf-8"))
    return records, manifest


# --------------------------------------------------------------------------------------------
# Refresh
# --------------------------------------------------------------------------------------------


class _Source:
    """The database as a checkout (``vulns/`` inside) or a git directory (its HEAD)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.checkout = (path / "vulns").is_dir()

    def _git(self, *args: str) -> str:
        command = ["git", f"--git-dir={self.path}", *args]
        if self.checkout:
            command = ["git", "-C", str(self.path), *args]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout

    def revision(self) -> tuple[str, str]:
        commit, date = self._git("log", "-1", "--format=%H %cI").split()
        return commit, date

    def folders(self) -> list[str]:
        if self.checkout:
            return sorted(p.name for p in (self.path / "vulns").iterdir() if p.is_dir())
        return self._git("ls-tree", "--name-only", "HEAD", "vulns/").replace("vulns/", "").split()

    def records(self, folder: str) -> Iterator[str]:
        if self.checkout:
            for path in sorted((self.path / "vulns" / folder).glob("*.yaml")):
                yield path.read_text("utf-8")
            return
        for name in self._git("ls-tree", "--name-only", "HEAD", f"vulns/{folder}/").split():
            yield self._git("show", f"HEAD:{name}")


def _parse(text: str) -> Record:
    """One record from the database's YAML; refused if a version was read as a number (an
    unquoted 1.10 would become 1.1) or is not a PEP 440 version (it could not be compared)."""
    import yaml  # PyYAML: only the refresh reads the database's YAML

    record: Record = yaml.safe_load(text)
    for entry in record.get("affected") or []:
        texts = list(entry.get("versions") or []) + [
            text
            for span in entry.get("ranges") or []
            if span.get("type") == "ECOSYSTEM"
            for event in span.get("events") or []
            for text in event.values()
        ]
        if not all(isinstance(text, str) and _version(text) for text in texts):
            raise ValueError(f"{record['id']}: a version packaging cannot read")
    return record


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"{type(value).__name__} in an advisory record")


def refresh(source: Path, folder: Path = DATA) -> Record:
    """Rewrite ``folder`` with the records of ``source`` for the installed packages."""
    database = _Source(source)
    commit, date = database.revision()
    names = installed()
    folders = {str(canonicalize_name(name)): name for name in database.folders()}
    records = [
        _parse(text)
        for name in sorted(set(names) & set(folders))
        for text in database.records(folders[name])
    ]
    manifest = {
        "source": "https://github.com/pypa/advisory-database",
        "commit": commit,
        "commit_date": date,
        "refreshed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "records": len(records),
        "covered_packages": sorted(names),
        "database_packages": sorted(folders),
    }
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(sorted(records, key=lambda r: str(r["id"])), indent=1, default=_iso)
    (folder / "osv.json").write_text(text + "\n", "utf-8")
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", "utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", choices=["check", "refresh"], default="check")
    parser.add_argument("source", nargs="?", type=Path, help="refresh: the database")
    parser.add_argument("--pretend", action="append", default=[], metavar="NAME==VERSION")
    args = parser.parse_args(argv)
    if args.command == "refresh":
        if args.source is None:
            parser.error("refresh needs the database's checkout or git directory")
        manifest = refresh(args.source)
        print(f"{manifest['records']} records for {len(manifest['covered_packages'])} packages")
        return 0
    packages = installed()
    for pin in args.pretend:
        name, _, version = pin.partition("==")
        packages[canonicalize_name(name)] = version
    records, manifest = load()
    report = check(packages, records, manifest)
    for match in report.matched:
        print(
            f"{match.package} {match.version}: {match.advisory} ({', '.join(match.aliases)}); "
            f"fixed in {', '.join(match.fixed) or 'no release'}",
            file=sys.stderr,
        )
    if report.uncovered:
        print(
            f"not in the subset (run `scripts/advisories.py refresh`): {report.uncovered}",
            file=sys.stderr,
        )
    line = {
        "gate": "advisories",
        "ok": report.ok,
        "dependencies": report.dependencies,
        "advisories": report.advisories,
        "matched": len(report.matched),
        "uncovered": len(report.uncovered),
        "database_commit": manifest["commit"][:12],
        "database_date": manifest["commit_date"][:10],
    }
    print(json.dumps(line))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
