"""Private key material never leaves the key store in clear (research S-27 a, b and e).

Issuers' Ed25519 keys (``issuers.keys``), institutions' SAML service-provider keys
(``signon``) and LTI tool keys (``lti``) are made by the real services and used: badges
awarded one at a time and from the console form, a bulk upload whose Celery task messages go
through the (in-memory) broker as they would go to Redis, an issuer key rotated, the SAML
metadata signed, the LTI keyset served; then pages are asked for with the key-encryption key
(KEK) missing and wrong. The private keys, unsealed here, give the needles: raw bytes, hex,
base64 and base64url at every byte alignment, multibase (the Ed25519 private Multikey, 0x8026),
base58, Python's bytes repr, RSA's private numbers, PEM and DER, the KEK itself, and any
``PRIVATE KEY-----`` line. The haystacks: a ``pg_dump`` (plain and uncompressed custom format)
of the test database, every log record at DEBUG (SQL and its parameters included) and the
debug report of each server error, every task message, page and e-mail, and what is left in
the temporary folder. A public JWK with ``"d"`` counts as a hit too.

Also: no two of 100+ issuers share a public key, no sealed value reuses an AES-GCM nonce, and
bulk issuing (the one path no other test starts without a KEK) fails closed.

Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import current_app
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core import mail
from django.db import connection, connections
from django.http import HttpResponse, HttpResponseBase
from django.test import Client
from django.views.debug import ExceptionReporter
from pytest_django.fixtures import Settings

from awarding.bulk import services as bulk_services
from awarding.bulk import tasks as bulk_tasks
from awarding.revocation import services as revocation
from badges.models import Award, BatchState, BulkRow, RowState, StatusList
from issuers import keys
from issuers import services as issuer_services
from issuers.models import SigningKey
from lti.models import ToolKey
from openbadges import multikey
from signon.models import ServiceProviderKey
from tests.badges.helpers import award, make_published
from tests.base import Cast, make_cast, make_issuer

WRONG_KEK = base64.urlsafe_b64encode(b"a-wrong-32-byte-key-for-the-test").decode().rstrip("=")
ROWS = "Email,Name\n" + "".join(f"bulk{n}@example.com,Bulk Learner {n}\n" for n in range(5))


# --------------------------------------------------------------------------------------------
# Needles
# --------------------------------------------------------------------------------------------


def _base64_cores(secret: bytes) -> set[str]:
    """The base64 and base64url text of ``secret`` wherever it sits in a longer blob: for each
    byte alignment, the characters that depend on ``secret`` alone."""
    cores = set()
    for shift in range(3):
        text = base64.b64encode(b"\0" * shift + secret).decode()
        core = text[4 * (1 if shift else 0) : 4 * ((shift + len(secret)) // 3)]
        cores |= {core, core.replace("+", "-").replace("/", "_")}
    return cores


def _encodings(secret: bytes) -> set[bytes]:
    texts = {
        secret.hex(),
        secret.hex().upper(),
        repr(secret)[2:-1],
        multikey.base58btc_encode(secret),
        *_base64_cores(secret),
    }
    return {secret, *(text.encode() for text in texts)}


def _int_bytes(number: int) -> bytes:
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def _needles(kek: str) -> set[bytes]:
    """Every form of every private key in the database, and of the KEK, to look for."""
    needles = {b"PRIVATE KEY-----", kek.encode()}
    needles |= _encodings(base64.urlsafe_b64decode(kek + "=" * (-len(kek) % 4)))
    for key in SigningKey.objects.all():
        seed = multikey.private_bytes(keys.private_key(key))
        needles |= _encodings(seed) | {multikey.secret_multibase(seed).encode()}
    pems = [k.private_key_pem for k in ServiceProviderKey.objects.all()]
    pems += [k.private_key_pem for k in ToolKey.objects.all()]
    for pem in pems:
        private = serialization.load_pem_private_key(pem.encode(), password=None)
        assert isinstance(private, rsa.RSAPrivateKey)
        n = private.private_numbers()
        for number in (n.d, n.p, n.q, n.dmp1, n.dmq1, n.iqmp):
            needles |= _encodings(_int_bytes(number))
        der = private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        needles |= {pem.encode(), der, base64.b64encode(der)}
    return needles


# --------------------------------------------------------------------------------------------
# Haystacks
# --------------------------------------------------------------------------------------------


def _pg_dump(*options: str) -> bytes:
    """``pg_dump`` of the test database, as a backup would take it."""
    database = connection.settings_dict
    command = ["pg_dump", "--no-owner", *options, "--dbname", database["NAME"]]
    for flag, name in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if database.get(name):
            command += [flag, str(database[name])]
    environment = {"PGPASSWORD": str(database.get("PASSWORD") or "")}
    done = subprocess.run(
        command, capture_output=True, check=True, env={**os.environ, **environment}
    )
    return done.stdout


def _log_text(records: list[logging.LogRecord]) -> bytes:
    """Every record as a handler would write it (tracebacks included), its arguments, and the
    debug report (``DEBUG=True`` page, ``mail_admins``) of each exception."""
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    parts = []
    logging.disable(logging.CRITICAL)  # rendering a report logs too; those are not the app's
    try:
        for record in records:
            parts += [formatter.format(record), repr(record.args), repr(record.__dict__)]
            if record.levelno >= logging.ERROR and record.exc_info and record.exc_info[1]:
                reporter = ExceptionReporter(None, *record.exc_info)
                parts += [reporter.get_traceback_html(), reporter.get_traceback_text()]
    finally:
        logging.disable(logging.NOTSET)
    return "\n".join(parts).encode()


def _content(response: HttpResponseBase) -> bytes:
    return bytes(response.content) if isinstance(response, HttpResponse) else b""


def _files(folder: Path) -> bytes:
    return b"\n".join(path.read_bytes() for path in folder.rglob("*") if path.is_file())


def _jwk_private_members(document: Any) -> int:
    """JWKs (objects with ``kty``) carrying a private member, anywhere in ``document``."""
    if isinstance(document, list):
        return sum(_jwk_private_members(item) for item in document)
    if not isinstance(document, dict):
        return 0
    own = int("kty" in document and bool({"d", "p", "q", "dp", "dq", "qi"} & document.keys()))
    return own + sum(_jwk_private_members(value) for value in document.values())


# --------------------------------------------------------------------------------------------
# The broker
# --------------------------------------------------------------------------------------------


@pytest.fixture
def broker() -> Iterator[list[bytes]]:
    """Tasks are published to the in-memory broker (serialised as for Redis) instead of run
    in place; :func:`_work` then runs them as a worker would. Yields the messages seen."""
    conf = current_app.conf
    eager = conf.task_always_eager
    conf.task_always_eager = False
    yield []
    conf.task_always_eager = eager


def _work(messages: list[bytes]) -> int:
    """Take every queued task message, keep its wire form and run it; until none is left."""
    ran = 0
    with current_app.connection_for_read() as conn:
        queue = conn.SimpleQueue(current_app.conf.task_default_queue, no_ack=True)
        try:
            while True:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    break
                raw = message.body
                body = raw if isinstance(raw, bytes) else str(raw).encode()
                envelope = {"headers": message.headers, "properties": message.properties}
                messages.append(json.dumps(envelope, default=str).encode() + b"\n" + body)
                args, kwargs, _embed = message.decode()
                current_app.tasks[message.headers["task"]].apply(args, kwargs, throw=True)
                ran += 1
        finally:
            queue.close()
    return ran


# --------------------------------------------------------------------------------------------
# (a) the scan
# --------------------------------------------------------------------------------------------


def _use_every_key(cast: Cast, client: Client, messages: list[bytes]) -> list[HttpResponseBase]:
    """Award, bulk-issue, rotate, serve keysets and metadata: every key made and used."""
    pages: list[HttpResponseBase] = []
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="single@example.com")
    client.force_login(cast.awarder)
    form = f"/manage/{cast.institution.slug}/achievements/{version.achievement_id}/award/"
    pages.append(client.post(form, {"email": "form@example.com", "language": "zh"}, follow=True))
    batch = bulk_services.create_batch(
        actor=cast.awarder, version=version, file_name="keys.csv", data=ROWS.encode()
    )
    bulk_services.start_batch(actor=cast.awarder, batch=batch)
    assert _work(messages) >= 2  # issue_batch, then the e-mails it queued
    assert BulkRow.objects.filter(batch=batch, award__isnull=False).count() == 5
    first = Award.objects.filter(bulk_row__batch=batch).first()
    assert first is not None
    revocation.revoke_award(actor=cast.owner, award=first, reason="Test of the lists.")
    issuer_services.rotate_issuer_key(actor=cast.owner, issuer=cast.issuer)
    given = award(cast.awarder, version, email="after.rotation@example.com")
    theirs = award(cast.outsider, make_published(cast.outsider, cast.other_issuer))
    _work(messages)
    anonymous = Client()
    for found in (given, theirs):
        pages.append(anonymous.get(f"/credentials/{found.pk}"))
        pages.append(anonymous.get(f"/credentials/{found.pk}.json"))
    for status_list in StatusList.objects.all():
        pages.append(anonymous.get(f"/status/{status_list.pk}"))
    for issuer in (cast.issuer, cast.other_issuer):
        pages.append(anonymous.get(f"/issuers/{issuer.slug}/did.json"))
    for institution in (cast.institution, cast.other_institution):
        pages.append(anonymous.get(f"/signon/{institution.slug}/saml/metadata/"))
        pages.append(anonymous.get(f"/lti/{institution.slug}/jwks.json"))
    return pages


def _without_the_kek(cast: Cast, client: Client, settings: Settings) -> list[HttpResponseBase]:
    """The pages people see while the KEK is missing, then wrong (server errors rendered as
    in production, and reported in the log)."""
    pages: list[HttpResponseBase] = []
    lenient = Client(raise_request_exception=False)
    version = make_published(cast.editor, cast.issuer, slug="no-kek")
    target = Award.objects.filter(issuer=cast.issuer, status="active").first()
    assert target is not None
    for kek in (None, WRONG_KEK):
        settings.INSIGNIA_KEY_ENCRYPTION_KEY = kek
        form = f"/manage/{cast.institution.slug}/achievements/{version.achievement_id}/award/"
        refused = client.post(form, {"email": "nokek@example.com", "language": "en"})
        assert refused.status_code == 503
        pages.append(refused)
        revocation.suspend_award(actor=cast.owner, award=target, reason="KEK drill.")
        for status_list in StatusList.objects.filter(issuer=cast.issuer):
            pages.append(lenient.get(f"/status/{status_list.pk}"))
        revocation.reinstate_award(actor=cast.owner, award=target, reason="KEK drill.")
        for institution in (cast.institution, cast.other_institution):
            pages.append(lenient.get(f"/signon/{institution.slug}/saml/metadata/"))
            pages.append(lenient.get(f"/lti/{institution.slug}/jwks.json"))
        pages.append(lenient.get("/credentials/00000000-0000-0000-0000-000000000000"))
    assert not Award.objects.filter(recipient_email="nokek@example.com").exists()
    return pages


@pytest.mark.django_db(transaction=True)
def test_no_private_key_material_in_dumps_logs_task_messages_or_pages(
    client: Client,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    broker: list[bytes],
) -> None:
    for name in (None, "django", "django.db.backends", "celery"):
        caplog.set_level(logging.DEBUG, logger=name)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))  # xmlsec1's key files land here
    # SQL and its parameters are logged (the wrapper itself: the proxy cannot undo a patch).
    monkeypatch.setattr(connections["default"], "force_debug_cursor", True)
    # A KEK of this run, as production reads one from its environment (the suite's default
    # is a constant in settings.py, which a debug report lists as it lists every setting).
    kek = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    settings.INSIGNIA_KEY_ENCRYPTION_KEY = kek
    cast = make_cast()

    pages = _use_every_key(cast, client, broker)
    pages += _without_the_kek(cast, client, settings)
    settings.INSIGNIA_KEY_ENCRYPTION_KEY = kek
    monkeypatch.undo()

    keys_found = {
        "issuer": SigningKey.objects.count(),
        "saml": ServiceProviderKey.objects.count(),
        "lti": ToolKey.objects.count(),
    }
    assert keys_found == {"issuer": 3, "saml": 2, "lti": 2}
    needles = _needles(kek)
    haystacks = {
        "pg_dump plain": _pg_dump("--format=plain"),
        "pg_dump -Fc -Z0": _pg_dump("--format=custom", "--compress=0"),
        "logs": _log_text(list(caplog.records)),
        "task messages": b"\n".join(broker),
        "pages": b"\n".join(_content(p) + repr(dict(p.headers)).encode() for p in pages),
        "e-mails": b"\n".join(m.message().as_bytes() for m in mail.outbox),
        "temporary files": _files(temporary),
    }
    assert broker and mail.outbox and len(caplog.records) > 100
    assert any(p.status_code >= 500 for p in pages)  # the error pages were rendered
    hits = sorted(
        (where, needle[:12])
        for needle in needles
        for where, text in haystacks.items()
        if needle in text
    )
    jwk_hits = sum(
        _jwk_private_members(json.loads(_content(p)))
        for p in pages
        if p.get("Content-Type", "").startswith("application/json")
    )
    scanned = sum(len(text) for text in haystacks.values())
    sizes = {where: len(text) for where, text in haystacks.items()}
    print(
        f"\nkey material hits: {len(hits) + jwk_hits} of {len(needles)} needles over "
        f"{scanned} bytes scanned ({keys_found}; {sizes}; {len(broker)} task messages, "
        f"{len(caplog.records)} log records, {len(pages)} pages)"
    )
    assert hits == []
    assert jwk_hits == 0


# --------------------------------------------------------------------------------------------
# (b) uniqueness, (e) fail closed
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_hundred_issuers_share_no_public_key_and_no_nonce(cast: Cast) -> None:
    for n in range(100):
        issuer = make_issuer(cast.institution, f"faculty-{n}", cast.owner)
        issuer_services.active_key(issuer)
    stored = list(SigningKey.objects.values_list("public_key_multibase", "encrypted_private_key"))
    public = [key for key, _blob in stored]
    nonces = [bytes(blob)[1:13] for _key, blob in stored]
    seeds = {multikey.private_bytes(keys.private_key(k)) for k in SigningKey.objects.all()}
    print(
        f"\n{len(public)} issuer keys: {len(public) - len(set(public))} duplicate public keys, "
        f"{len(seeds) and len(public) - len(seeds)} duplicate private keys, "
        f"{len(nonces) - len(set(nonces))} reused nonces"
    )
    assert len(public) >= 100
    assert len(set(public)) == len(public) == len(seeds)
    assert len(set(nonces)) == len(nonces)


@pytest.mark.django_db
@pytest.mark.parametrize("kek", [None, WRONG_KEK], ids=["missing", "wrong"])
def test_a_bulk_batch_signs_nothing_without_the_right_kek(
    cast: Cast, settings: Settings, kek: str | None
) -> None:
    """The batch was started (its key exists); the worker then runs with the KEK missing or
    wrong: the task fails, no award is stored, the rows wait; with the KEK back they issue."""
    version = make_published(cast.editor, cast.issuer)
    batch = bulk_services.create_batch(
        actor=cast.awarder, version=version, file_name="kek.csv", data=ROWS.encode()
    )
    bulk_services.start_batch(actor=cast.awarder, batch=batch)  # tasks run after commit: never
    right = settings.INSIGNIA_KEY_ENCRYPTION_KEY
    settings.INSIGNIA_KEY_ENCRYPTION_KEY = kek
    with pytest.raises(keys.SigningUnavailable):
        bulk_tasks.issue_batch(str(batch.pk))
    assert not Award.objects.exists()
    assert set(BulkRow.objects.filter(batch=batch).values_list("state", flat=True)) == {
        RowState.PENDING
    }
    batch.refresh_from_db()
    assert batch.state == BatchState.RUNNING
    settings.INSIGNIA_KEY_ENCRYPTION_KEY = right
    assert bulk_tasks.issue_batch(str(batch.pk)) == 5
    assert Award.objects.filter(bulk_row__batch=batch).count() == 5
