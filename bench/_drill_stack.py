"""The app as deployed, on loopback, for drills: see ``bench/drill_verify_abuse.py``.

:func:`start` creates a fresh PostgreSQL database, migrates it with production settings
(``bench/_drill_settings.py``), collects static files into a temporary folder, awards one badge,
starts ``bench/_remote_host.py`` serving that badge's credential as ``http://remote.test/…`` and
gunicorn as ``docker-compose.yml`` runs it, and writes the request files ``bench/load.py``
reads (:data:`Stack.targets`).

:func:`serve` is the gunicorn part alone, for a database that is already there
(``bench/public_load.py`` on the one ``bench/seed_scale.py`` grew).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/insignia_bench_s19"
REMOTE = "remote.test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fresh_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        name = sql.Identifier(parts.path.lstrip("/"))
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))


def drill_env(
    *, port: int, remote_port: int, workdir: Path, proxies: int, verify_limit: int
) -> dict[str, str]:
    """Production settings as docker-compose.yml sets them, on loopback."""
    kek = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return {
        "INSIGNIA_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "bench._drill_settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "INSIGNIA_KEY_ENCRYPTION_KEY": kek,
        "INSIGNIA_BASE_URL": f"https://127.0.0.1:{port}",
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        "CACHE_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1"),
        "CELERY_BROKER_URL": "memory://",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "INSIGNIA_TRUSTED_PROXIES": str(proxies),
        "INSIGNIA_VERIFY_RATE_LIMIT": str(verify_limit),
        "LOG_LEVEL": "WARNING",
        "BENCH_FETCH_ALLOWLIST": json.dumps({REMOTE: f"127.0.0.1:{remote_port}"}),
        "BENCH_STATIC_ROOT": str(workdir / "static"),
        "BENCH_CACHE_PREFIX": f"s19-{os.getpid()}-{secrets.token_hex(4)}",
    }


def setup(env: dict[str, str]) -> tuple[str, str, str]:
    """Migrate, collect static files, award one badge: its credential JSON, its award id and
    the name of the CSRF cookie (``__Host-`` prefixed in production)."""
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from tests.badges.helpers import award, make_published
    from tests.base import make_cast

    cast = make_cast()
    given = award(cast.awarder, make_published(cast.owner, cast.issuer))
    connections.close_all()
    return given.credential_json, str(given.pk), str(settings.CSRF_COOKIE_NAME)


def http_get(port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    """GET on loopback as through the TLS-terminating proxy."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _jsonl(path: Path, targets: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(target) for target in targets))
    return path


def write_targets(workdir: Path, app: str, png: bytes, csrf_cookie: str) -> dict[str, Path]:
    """Request files for bench/load.py: ``abuser`` (verify-by-URL and upload, API and page),
    ``legit`` (verify-by-URL and upload, API) and ``probe`` (a verification that costs
    nothing, so that only the rate limit decides what is answered)."""
    origin = app.replace("http://", "https://")
    json_type = {"Content-Type": "application/json"}
    api_url = {
        "name": "api-url",
        "method": "POST",
        "url": f"{app}/api/v1/verify",
        "headers": json_type,
        "body": json.dumps({"url": f"http://{REMOTE}/credentials/1.json"}),
    }
    image = workdir / "image.json"
    image.write_text(json.dumps({"image": base64.b64encode(png).decode()}))
    api_upload = {
        "name": "api-upload",
        "method": "POST",
        "url": f"{app}/api/v1/verify",
        "headers": json_type,
        "body_file": str(image),
    }
    page_url = {
        "name": "page-url",
        "method": "GET",
        "url": f"{app}/verify?url={quote(f'http://{REMOTE}/credentials/2.json', safe='')}",
    }
    token = secrets.token_hex(16)  # a CSRF secret the client chose: cookie and field agree
    boundary = f"s19{secrets.token_hex(8)}"
    form = workdir / "upload.multipart"
    form.write_bytes(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"'
            f'\r\n\r\n{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="badge.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + png
        + f"\r\n--{boundary}--\r\n".encode()
    )
    page_upload = {
        "name": "page-upload",
        "method": "POST",
        "url": f"{app}/verify",
        "headers": {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Cookie": f"{csrf_cookie}={token}",
            "Origin": origin,
            "Referer": f"{origin}/verify",
        },
        "body_file": str(form),
    }
    probe = {
        "name": "api-probe",
        "method": "POST",
        "url": f"{app}/api/v1/verify",
        "headers": json_type,
        "body": json.dumps({"credential": {"type": ["Nothing"]}}),
    }
    return {
        "abuser": _jsonl(workdir / "abuser.jsonl", [api_url, api_upload, page_url, page_upload]),
        "legit": _jsonl(workdir / "legit.jsonl", [api_url, api_upload]),
        "probe": _jsonl(workdir / "probe.jsonl", [probe]),
    }


@dataclass
class Stack:
    """The running app, its remote test host and the files the clients read."""

    workdir: Path
    port: int
    remote_port: int
    server: subprocess.Popen[bytes]
    remote: subprocess.Popen[str] | None
    targets: dict[str, Path] = field(default_factory=dict)

    @property
    def log(self) -> Path:
        return self.workdir / "gunicorn.log"

    def fetches(self) -> list[list[float]]:
        """``[start, end]`` of every fetch the remote host answered (epoch seconds)."""
        status, body = http_get(self.remote_port, "/__events")
        assert status == 200
        events: list[list[float]] = json.loads(body)
        return events

    def log_errors(self) -> dict[str, int]:
        text = self.log.read_text(errors="replace")
        return {
            "tracebacks": text.count("Traceback (most recent call last)"),
            "internal_server_error": text.count("Internal Server Error"),
            "worker_timeouts": text.count("WORKER TIMEOUT"),
        }

    def rss_mb(self) -> float:
        """Resident memory of gunicorn's master and workers, MiB (Linux /proc)."""
        pid, total = self.server.pid, 0
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            for each in [str(pid), *children]:
                for line in Path(f"/proc/{each}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            return 0.0
        return round(total / 1024, 1)

    def stop(self) -> None:
        self.server.terminate()
        if self.remote is not None:
            self.remote.terminate()
        try:
            self.server.wait(15)
        except subprocess.TimeoutExpired:  # still working off a backlog: no graceful end
            self.server.kill()
            self.server.wait(5)
        if self.remote is not None:
            self.remote.wait(5)

    def drain(self, limit: float = 180.0) -> float:
        """Wait until the server answers ``/healthz`` within half a second again (a load
        above its capacity leaves a backlog of requests their clients gave up on); returns
        the seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            begun = time.monotonic()
            try:
                status = http_get(self.port, "/healthz")[0]
            except OSError:
                status = 0
            if status == 200 and time.monotonic() - begun < 0.5:
                break
            time.sleep(1)
        return round(time.monotonic() - started, 1)


def gunicorn(
    *, workdir: Path, port: int, env: dict[str, str], workers: int, threads: int
) -> subprocess.Popen[bytes]:
    """gunicorn as ``docker-compose.yml`` runs it (gthread), on loopback, logging to
    ``workdir/gunicorn.log``."""
    command = [sys.executable, "-m", "gunicorn", "insignia.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--worker-class", "gthread", "--threads", str(threads), "--log-level", "warning"]
    with (workdir / "gunicorn.log").open("wb") as log:
        return subprocess.Popen(  # noqa: S603 - our own gunicorn, as docker-compose.yml runs it
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def serve(*, env: dict[str, str], workers: int, threads: int) -> Stack:
    """Collect static files and start gunicorn with ``env`` (production settings, see
    :func:`drill_env`) on a database that is already migrated; returns once it answers."""
    workdir = Path(tempfile.mkdtemp(prefix="insignia-serve-"))
    port = free_port()
    env = {**env, "BENCH_STATIC_ROOT": str(workdir / "static")}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
    )
    server = gunicorn(workdir=workdir, port=port, env=env, workers=workers, threads=threads)
    stack = Stack(workdir, port, 0, server, None)
    try:
        _wait_up(port, server)
    except BaseException:
        stack.stop()
        raise
    return stack


def _wait_up(port: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(150):
        if server.poll() is not None:
            raise SystemExit("gunicorn exited; see its log")
        try:
            if http_get(port, "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz")


def start(
    *, proxies: int, verify_limit: int, workers: int, threads: int, remote_delay: float
) -> Stack:
    """Set up a fresh database and start the remote test host and gunicorn."""
    workdir = Path(tempfile.mkdtemp(prefix="insignia-s19-"))
    port, remote_port = free_port(), free_port()
    env = drill_env(
        port=port,
        remote_port=remote_port,
        workdir=workdir,
        proxies=proxies,
        verify_limit=verify_limit,
    )
    fresh_database(env["DATABASE_URL"])
    credential_json, award_id, csrf_cookie = setup(env)
    (workdir / "credential.json").write_text(credential_json)
    helper = ROOT / "bench" / "_remote_host.py"
    served = workdir / "credential.json"
    remote_command = [sys.executable, str(helper), "--port", str(remote_port), "--file"]
    remote_command += [str(served), "--delay", str(remote_delay)]
    remote = subprocess.Popen(  # noqa: S603 - our own helper, fixed arguments
        remote_command,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert remote.stdout is not None and remote.stdout.readline().strip() == "ready"
    server = gunicorn(workdir=workdir, port=port, env=env, workers=workers, threads=threads)
    stack = Stack(workdir, port, remote_port, server, remote)
    try:
        _wait_up(port, server)
        status, png = http_get(port, f"/credentials/{award_id}.png")
        if status != 200:
            raise SystemExit(f"baked badge: HTTP {status}")
        stack.targets = write_targets(workdir, f"http://127.0.0.1:{port}", png, csrf_cookie)
    except BaseException:
        stack.stop()
        raise
    return stack
