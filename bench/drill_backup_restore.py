"""Backup and restore drill (research S-28): ``pg_dump -Fc`` of a database of signed awards,
restored into a fresh PostgreSQL cluster, checked there with and without the key-encryption
key (KEK).

    .venv/bin/python bench/drill_backup_restore.py [--awards 2000] [--sample 1000] [--keep]

Run as root (or ``postgres``) on a machine with Debian's ``postgresql-common``.

1. The source: a throw-away database on the usual server (``BENCH_DATABASE_URL``, default
   ``postgres://postgres@127.0.0.1:5432/insignia_drill_backup``), dropped, created, migrated.
   The drill's KEK is made at random and kept in a key-store file of its own (mode 0600) in the
   work folder: the separate store. The database holds issuers' keys only sealed under it.
2. Seeded through the real services: ``--awards`` awards by bulk uploads (10,000 rows at most
   each) for two issuers of two institutions, the first issuer's key rotated halfway (so
   credentials of a retired key are in the backup), 2 % revoked and 1 % suspended, SAML and
   LTI keys made; every status list is served once (signed) and its bits recorded.
3. ``pg_dump -Fc`` of the source, timed.
4. A fresh cluster (``pg_createcluster`` on a free port, ``bench/_pg_cluster.py``), a new
   database and ``pg_restore`` into it, timed.
5. A new process on the restored database, the KEK read from the key store: ``--sample``
   random credentials (all if fewer) verified with the verification pipeline (keys from the
   restored database), each verdict compared with the award's status at the source; every
   status list's bits compared with the source, from the awards and decoded from the served
   list credential (its proof checked with the restored key); one new award issued.
6. The same process with the KEK missing, then wrong: no stored key opens, an award is refused
   with nothing stored, a changed status list is not re-signed (503), and verification still
   works (it needs public keys only). Then a production start without the KEK: refused.

Prints one JSON object per line: ``backup.machine``, ``backup.seed``, ``backup.dump``,
``backup.restore``, ``backup.restored`` (with the KEK), ``backup.without_kek`` (missing,
wrong), ``backup.production_start`` and ``backup.result``. Exit status 1 if a credential does not
verify as at the source, a status bit differs, or anything opens or signs without the KEK. The
new cluster and the work folder are removed at the end unless ``--keep``.

About 490 lines: one drill told in order (seed, dump, restore, the restored copy's checks with
and without the KEK), kept in one file so an operator can read what was proved.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _pg_cluster  # noqa: E402 - needs the project root on the path
from bench.bulk_drill import _csv, _fresh_database, _machine  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/insignia_drill_backup"
BASE_URL = "http://127.0.0.1:8000"  # the origin in every credential: the same after a restore
MAX_ROWS = 10_000


def _emit(name: str, **fields: Any) -> None:
    print(json.dumps({"bench": f"backup.{name}", **fields}, ensure_ascii=False), flush=True)


def _env(url: str, kek: str) -> dict[str, str]:
    return {
        **os.environ,
        "INSIGNIA_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "insignia.settings",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "INSIGNIA_KEY_ENCRYPTION_KEY": kek,
        "INSIGNIA_BASE_URL": BASE_URL,
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "BULK_BACKGROUND_THREAD": "false",
        "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


def _pg_args(url: str) -> list[str]:
    parts = urlsplit(url)
    return [
        "--host",
        parts.hostname or "127.0.0.1",
        "--port",
        str(parts.port or 5432),
        "--username",
        parts.username or "postgres",
    ]


def _list_bits() -> dict[str, dict[str, Any]]:
    """Each status list: the SHA-256 of its bits now and how many are set."""
    from badges.models import StatusList
    from badges.statuslists.selectors import bitstring

    found = {}
    for status_list in StatusList.objects.order_by("pk"):
        bits = bytes(bitstring(status_list))
        found[str(status_list.pk)] = {
            "purpose": status_list.purpose,
            "sha256": hashlib.sha256(bits).hexdigest(),
            "set": sum(bin(byte).count("1") for byte in bits),
        }
    return found


# --------------------------------------------------------------------------------------------
# The source
# --------------------------------------------------------------------------------------------


def _upload(actor: Any, version: Any, count: int, tag: str) -> None:
    """``count`` awards of ``version`` by bulk uploads of 10,000 rows at most, issued here."""
    from awarding.bulk import services as bulk_services

    for part, first in enumerate(range(0, count, MAX_ROWS)):
        data = _csv(min(MAX_ROWS, count - first)).replace(b"learner", f"{tag}{part}-".encode())
        batch = bulk_services.create_batch(
            actor=actor, version=version, file_name=f"{tag}.csv", data=data, notify=False
        )
        bulk_services.start_batch(actor=actor, batch=batch)  # tasks run in this process


def seed(awards: int, sample: int) -> dict[str, Any]:
    """Awards, a rotation, revocations, SAML and LTI keys, signed status lists; returns what
    the restored copy must show."""
    from django.test import Client

    from awarding.revocation import services as revocation
    from badges.models import Award, AwardStatus, StatusList
    from issuers import services as issuer_services
    from lti import keys as lti_keys
    from signon import saml
    from tests.badges.helpers import make_published
    from tests.base import make_cast

    cast = make_cast()
    mine = make_published(cast.owner, cast.issuer)
    theirs = make_published(cast.outsider, cast.other_issuer, slug="their-badge")
    others = awards // 10  # a tenth from another institution's issuer
    half = (awards - others) // 2
    _upload(cast.owner, mine, half, "a")
    issuer_services.rotate_issuer_key(actor=cast.owner, issuer=cast.issuer)  # key-1 retired
    _upload(cast.owner, mine, awards - others - half, "b")
    _upload(cast.outsider, theirs, others, "c")
    pks = list(Award.objects.order_by("pk").values_list("pk", flat=True))
    rng = random.Random(28)  # noqa: S311 - not crypto
    chosen = rng.sample(pks, max(1, len(pks) * 3 // 100))
    for n, award in enumerate(Award.objects.filter(pk__in=chosen)):
        change = revocation.revoke_award if n % 3 else revocation.suspend_award
        change(actor=None, award=award, reason="Backup drill.")
    saml.active_key(cast.institution)
    lti_keys.active_key(cast.institution)
    client = Client()
    for status_list in StatusList.objects.all():
        assert client.get(f"/status/{status_list.pk}").status_code == 200
    picked = pks if len(pks) <= sample else rng.sample(pks, sample)
    statuses = dict(Award.objects.filter(pk__in=picked).values_list("pk", "status"))
    counts = {s: list(statuses.values()).count(s) for s in AwardStatus.values}
    return {
        "awards": len(pks),
        "sample": {str(pk): str(status) for pk, status in statuses.items()},
        "sample_statuses": counts,
        "lists": _list_bits(),
    }


# --------------------------------------------------------------------------------------------
# The restored copy (a process of its own)
# --------------------------------------------------------------------------------------------

EXPECTED_VERDICT = {"active": "valid", "revoked": "revoked", "suspended": "suspended"}


def _verify(sample: dict[str, str]) -> tuple[int, list[str]]:
    """Verify each award's stored credential with the pipeline; (as at the source, problems)."""
    from badges.models import Award
    from verification import pipeline

    ok, problems = 0, []
    texts = dict(Award.objects.filter(pk__in=list(sample)).values_list("pk", "credential_json"))
    for pk, status in sample.items():
        text = texts.get(uuid.UUID(pk))
        if text is None:
            problems.append(f"{pk}: missing")
            continue
        report = pipeline.verify(pipeline.VerifyRequest(text=text))
        if str(report.verdict) == EXPECTED_VERDICT[status]:
            ok += 1
        else:
            problems.append(f"{pk}: {report.verdict} (was {status})")
    return ok, problems[:10]


def _served_lists(expected: dict[str, dict[str, Any]]) -> tuple[int, int, list[str]]:
    """Each status list as served: its proof checked with the restored issuer key and its
    bits compared with the source; (lists with identical bits, proofs valid, problems)."""
    from django.test import Client

    from issuers.models import SigningKey
    from openbadges import dataintegrity, multikey, statuslist

    client = Client()
    same = valid = 0
    problems = []
    for pk, wanted in expected.items():
        response = client.get(f"/status/{pk}")
        if response.status_code != 200:
            problems.append(f"{pk}: HTTP {response.status_code}")
            continue
        listing = json.loads(response.content)
        method = listing["proof"][0]["verificationMethod"]
        slug, key_id = method.rsplit(":", 1)[1].split("#")
        key = SigningKey.objects.get(issuer__slug=slug, key_id=key_id)
        public = multikey.public_key_from_bytes(
            multikey.decode_public_multibase(key.public_key_multibase)
        )
        valid += bool(dataintegrity.verify(listing, public_key=public, verification_method=method))
        bits = statuslist.decode(listing["credentialSubject"]["encodedList"])
        same += hashlib.sha256(bits).hexdigest() == wanted["sha256"]
    return same, valid, problems


def _sealed_keys_opened() -> dict[str, int]:
    """How many stored private keys open (issuer keys one by one; SAML and LTI keys are
    opened when their rows are read)."""
    from issuers import keys
    from issuers.models import SigningKey
    from lti.models import ToolKey
    from signon.models import ServiceProviderKey

    opened = {"issuer": 0, "issuer_refused": 0, "saml": 0, "lti": 0, "saml_lti_refused": 0}
    for key in SigningKey.objects.all():
        try:
            keys.private_key(key)
        except keys.SigningUnavailable:
            opened["issuer_refused"] += 1
        else:
            opened["issuer"] += 1
    for model, name in ((ServiceProviderKey, "saml"), (ToolKey, "lti")):
        try:
            opened[name] += sum(bool(row.private_key_pem) for row in model.objects.all())
        except keys.SigningUnavailable:
            opened["saml_lti_refused"] += 1
    return opened


def _try_to_award() -> str:
    """Award one more badge; 'signed' or why not."""
    from awarding import services
    from badges.models import AchievementVersion, Award
    from issuers import keys

    version = AchievementVersion.objects.filter(achievement__slug="data-literacy").first()
    assert version is not None
    before = Award.objects.count()
    try:
        services.award_badge(
            actor=None, version=version, email="after.restore@example.com", name="After Restore"
        )
    except keys.SigningUnavailable as error:
        assert Award.objects.count() == before
        return f"refused: {error}"
    return "signed"


def restored(expect_path: Path) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from awarding.revocation import services as revocation
    from badges.models import Award, AwardStatus, StatusEntry

    expect = json.loads(expect_path.read_text())
    started = time.monotonic()
    ok, problems = _verify(expect["sample"])
    verify_seconds = time.monotonic() - started
    bits_same = sum(
        _list_bits().get(pk, {}).get("sha256") == wanted["sha256"]
        for pk, wanted in expect["lists"].items()
    )
    served_same, served_valid, served_problems = _served_lists(expect["lists"])
    opened = _sealed_keys_opened()
    new_award = _try_to_award()
    sample = len(expect["sample"])
    _emit(
        "restored",
        kek="from the key store",
        verified=f"{ok}/{sample}",
        verified_pct=round(100 * ok / sample, 2),
        verify_seconds=round(verify_seconds, 1),
        verify_problems=problems,
        status_lists=len(expect["lists"]),
        status_bits_identical=bits_same == len(expect["lists"]),
        lists_bits_identical_from_awards=bits_same,
        lists_bits_identical_as_served=served_same,
        lists_proof_valid_as_served=served_valid,
        list_problems=served_problems,
        keys_opened=opened,
        new_award=new_award,
    )
    good = (
        ok == sample
        and bits_same == served_same == served_valid == len(expect["lists"])
        and opened["issuer_refused"] == opened["saml_lti_refused"] == 0
        and new_award == "signed"
    )

    kek = settings.INSIGNIA_KEY_ENCRYPTION_KEY
    wrong = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    target = Award.objects.filter(status=AwardStatus.ACTIVE).first()
    assert target is not None
    for label, value in (("missing", None), ("wrong", wrong)):
        settings.INSIGNIA_KEY_ENCRYPTION_KEY = value
        opened = _sealed_keys_opened()
        refused = _try_to_award()
        revocation.suspend_award(actor=None, award=target, reason="KEK drill.")
        entry = StatusEntry.objects.filter(award=target, status_list__purpose="suspension").first()
        assert entry is not None
        resign = Client().get(f"/status/{entry.status_list_id}").status_code
        revocation.reinstate_award(actor=None, award=target, reason="KEK drill.")
        few = dict(list(expect["sample"].items())[:20])
        still, _problems = _verify(few)
        _emit(
            "without_kek",
            kek=label,
            keys_opened=opened,
            award=refused,
            changed_status_list_http=resign,
            verified_without_kek=f"{still}/{len(few)}",
        )
        good = good and (
            opened["issuer"] == opened["saml"] == opened["lti"] == 0
            and refused.startswith("refused")
            and resign == 503
            and still == len(few)
        )
    settings.INSIGNIA_KEY_ENCRYPTION_KEY = kek
    return 0 if good else 1


def production_start(url: str) -> dict[str, Any]:
    """``django.setup()`` as production would start, on the restored database, without a KEK."""
    env = {key: value for key, value in os.environ.items() if key != "INSIGNIA_KEY_ENCRYPTION_KEY"}
    env.update(
        {
            "INSIGNIA_ENV": "production",
            "DJANGO_SETTINGS_MODULE": "insignia.settings",
            "SECRET_KEY": base64.b64encode(os.urandom(32)).decode(),
            "INSIGNIA_BASE_URL": "https://badges.drill.example",
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    last = (done.stderr.strip().splitlines() or [""])[-1]
    return {"started": done.returncode == 0, "says": last[-200:]}


# --------------------------------------------------------------------------------------------
# The drill
# --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--awards", type=int, default=2_000)
    parser.add_argument("--sample", type=int, default=1_000)
    parser.add_argument("--keep", action="store_true", help="keep the cluster and work folder")
    parser.add_argument("--restored", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.restored:
        return restored(args.restored)

    source = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    workdir = Path(tempfile.mkdtemp(prefix="insignia-backup-drill-"))
    key_store = workdir / "kek"  # the separate store: never in the database or its dump
    kek = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    key_store.write_text(kek)
    key_store.chmod(0o600)
    _fresh_database(source)
    os.environ.update(_env(source, kek))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, skip_checks=True)
    _emit("machine", **_machine(), workdir=str(workdir))
    started = time.monotonic()
    expect = seed(args.awards, args.sample)
    _emit(
        "seed",
        awards=expect["awards"],
        sample=len(expect["sample"]),
        sample_statuses=expect["sample_statuses"],
        status_lists=len(expect["lists"]),
        bits_set=sum(v["set"] for v in expect["lists"].values()),
        seconds=round(time.monotonic() - started, 1),
    )
    expect_path = workdir / "expect.json"
    expect_path.write_text(json.dumps(expect))
    from django.db import connections

    connections.close_all()

    dump = workdir / "insignia.dump"
    name = urlsplit(source).path.lstrip("/")
    started = time.monotonic()
    subprocess.run(  # noqa: S603 - the PostgreSQL client, fixed arguments
        [_pg_cluster.program_path("pg_dump"), "-Fc", *_pg_args(source), "--file", str(dump), name],
        check=True,
    )
    dump_seconds = time.monotonic() - started
    _emit("dump", seconds=round(dump_seconds, 2), bytes=dump.stat().st_size, format="custom")

    started = time.monotonic()
    cluster = _pg_cluster.create("insignia_restore")
    create_seconds = time.monotonic() - started
    ok = False
    try:
        target = cluster.url("insignia_restored")
        subprocess.run(  # noqa: S603 - the PostgreSQL client, fixed arguments
            [cluster.bin("createdb"), *_pg_args(target), "insignia_restored"], check=True
        )
        started = time.monotonic()
        subprocess.run(  # noqa: S603 - the PostgreSQL client, fixed arguments
            [
                cluster.bin("pg_restore"),
                *_pg_args(target),
                "--no-owner",
                "--exit-on-error",
                "--dbname",
                "insignia_restored",
                str(dump),
            ],
            check=True,
        )
        restore_seconds = time.monotonic() - started
        _emit(
            "restore",
            seconds=round(restore_seconds, 2),
            cluster=f"{cluster.version}/{cluster.name} port {cluster.port} (new)",
            cluster_create_seconds=round(create_seconds, 1),
        )
        child = subprocess.run(  # noqa: S603 - this script, fixed arguments
            [sys.executable, __file__, "--restored", str(expect_path)],
            cwd=ROOT,
            env=_env(target, key_store.read_text()),
            check=False,
        )
        start = production_start(target)
        _emit("production_start", kek="missing", **start)
        ok = child.returncode == 0 and not start["started"]
        _emit(
            "result",
            awards=expect["awards"],
            dump_seconds=round(dump_seconds, 2),
            restore_seconds=round(restore_seconds, 2),
            dump_bytes=dump.stat().st_size,
            restored_checks_passed=child.returncode == 0,
            production_start_without_kek_refused=not start["started"],
            ok=ok,
        )
    finally:
        if not args.keep:
            cluster.drop()
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
