"""A PostgreSQL cluster of a drill's own, so a drill can restart or restore into a server no
one else uses (``bench/drill_backup_restore.py``, ``bench/drill_pg_restart.py``).

Made with Debian's ``postgresql-common`` (``pg_createcluster``, ``pg_ctlcluster``,
``pg_dropcluster``; run as root or as ``postgres``): the newest installed major version, a free
loopback port, ``trust`` authentication, never started at boot, dropped when the drill ends.
The cluster ``main`` on 5432 is never touched.
"""

from __future__ import annotations

import glob
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench._celery_drill import free_port

COMMON = "/usr/bin"  # postgresql-common's pg_createcluster, pg_ctlcluster, pg_dropcluster


@dataclass(frozen=True)
class Cluster:
    version: str
    name: str
    port: int

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def ctl(self, action: str, *options: str) -> None:
        """``pg_ctlcluster <version> <name> <action> [options]`` (start, stop, restart)."""
        _run([f"{COMMON}/pg_ctlcluster", self.version, self.name, action, *options])

    def bin(self, program: str) -> str:
        """A client program of the cluster's own version (``pg_dump``, ``pg_restore``)."""
        return program_path(program, self.version)

    def wait_ready(self, timeout: float = 60) -> float:
        """Seconds until the server accepts connections again."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            done = subprocess.run(  # noqa: S603 - the installed pg_isready, fixed arguments
                [self.bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                check=False,
            )
            if done.returncode == 0:
                return time.monotonic() - started
            time.sleep(0.05)
        raise AssertionError(f"cluster {self.name} did not come back in {timeout} s")

    def drop(self) -> None:
        subprocess.run(  # noqa: S603 - postgresql-common, fixed arguments
            [f"{COMMON}/pg_dropcluster", self.version, self.name, "--stop"],
            check=False,
            capture_output=True,
        )

    def log(self) -> Path:
        return Path(f"/var/log/postgresql/postgresql-{self.version}-{self.name}.log")


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {done.stderr.strip() or done.stdout.strip()}")


def program_path(program: str, version: str | None = None) -> str:
    """A PostgreSQL program of ``version`` (default: the newest installed)."""
    return f"/usr/lib/postgresql/{version or newest_version()}/bin/{program}"


def newest_version() -> str:
    versions = [Path(p).parent.parent.name for p in glob.glob("/usr/lib/postgresql/*/bin/postgres")]
    if not versions or not Path(f"{COMMON}/pg_createcluster").exists():
        raise SystemExit(
            "These drills need PostgreSQL with Debian's postgresql-common (pg_createcluster)."
        )
    return max(versions, key=lambda v: [int(part) for part in v.split(".") if part.isdigit()])


def create(prefix: str) -> Cluster:
    """A new, started cluster named ``<prefix>_<pid>`` on a free port."""
    cluster = Cluster(newest_version(), f"{prefix}_{os.getpid()}", free_port())
    _run(
        [
            f"{COMMON}/pg_createcluster",
            cluster.version,
            cluster.name,
            "--port",
            str(cluster.port),
            "--start-conf",
            "manual",
            "--start",
            "--",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
        ]
    )
    cluster.wait_ready()
    return cluster
