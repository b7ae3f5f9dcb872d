"""Run a command (the test suite) with DATABASE_URL pointing at PostgreSQL.

If DATABASE_URL is set, it is used as is. Otherwise a throwaway server is created from the
installed PostgreSQL binaries in a temporary directory, listening on a Unix socket only, and
removed afterwards. With no PostgreSQL installed, this says so in one line and fails: the
suite never falls back to SQLite.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

INSTALL_HINT = (
    "make test needs PostgreSQL, and none is installed: install it "
    "(Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql@16) "
    "or set DATABASE_URL=postgres://user@host:5432/dbname to a running server."
)


def find_bindir() -> Path | None:
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")
        + glob.glob("/usr/local/opt/postgresql*/bin/pg_ctl")
        + glob.glob("/opt/homebrew/opt/postgresql*/bin/pg_ctl"),
        key=lambda path: [int(part) for part in path.split("/") if part.isdigit()] or [0],
    )
    return Path(candidates[-1]).parent if candidates else None


def main(command: list[str]) -> int:
    if os.environ.get("DATABASE_URL"):
        return subprocess.call(command)
    bindir = find_bindir()
    if bindir is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    # PostgreSQL refuses to run as root; run the throwaway server as the `postgres` user.
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            owner = pwd.getpwnam("nobody")
        as_user = ["runuser", "-u", owner.pw_name, "--"]
    tmp = Path(tempfile.mkdtemp(prefix="insignia-pg-"))
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    if owner is not None:
        for path in (tmp, sock):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    pg_ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data)]
    print(f"Starting a throwaway PostgreSQL from {bindir} in {tmp}", file=sys.stderr)
    try:
        subprocess.run(
            [
                *as_user,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "insignia",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [
                *pg_ctl,
                "-w",
                "-l",
                str(tmp / "server.log"),
                "-o",
                f"-c listen_addresses='' -c unix_socket_directories='{sock}' -c fsync=off"
                " -c max_connections=50",
                "start",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        env = {**os.environ, "DATABASE_URL": f"postgres://insignia@/postgres?host={sock}"}
        return subprocess.call(command, env=env)
    finally:
        subprocess.run(
            [*pg_ctl, "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
