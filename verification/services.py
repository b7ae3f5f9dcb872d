"""Writes of the verification app: the platform key and signed receipts."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import jwt
from django.conf import settings
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from issuers import keys
from issuers.models import SigningKey
from openbadges import didweb, multikey
from verification.models import OwnVerification, PlatformKey, Receipt
from verification.report import Report

log = logging.getLogger(__name__)

RECEIPT_TYPE = "InsigniaVerificationReceipt"


def platform_did() -> str:
    """``did:web:<our host>``, whose document is served at ``/.well-known/did.json``."""
    return didweb.did_web(settings.INSIGNIA_BASE_URL)


def _binding(key_id: str) -> str:
    return f"platform:{key_id}"


@transaction.atomic
def active_platform_key() -> PlatformKey:
    """The platform's active receipt key, created on first use (fails closed without a KEK)."""
    found = PlatformKey.objects.select_for_update().filter(active=True).first()
    if found is not None:
        return found
    key_id = f"receipt-{PlatformKey.objects.count() + 1}"
    seed, public = multikey.generate_ed25519()
    return PlatformKey.objects.create(
        key_id=key_id,
        public_key_multibase=multikey.public_multibase(public),
        encrypted_private_key=keys.encrypt_seed(seed, issuer_id=0, key_id=_binding(key_id)),
        active=True,
    )


def _private_key(key: PlatformKey) -> Any:
    # The issuer-key helper decrypts any blob bound to (issuer 0, "platform:<id>"); the
    # unsaved SigningKey only carries those fields.
    carrier = SigningKey(
        issuer_id=0,
        key_id=_binding(key.key_id),
        public_key_multibase=key.public_key_multibase,
        encrypted_private_key=bytes(key.encrypted_private_key),
    )
    return keys.private_key(carrier)


def did_document() -> dict[str, Any]:
    did = platform_did()
    verification_keys = [
        didweb.VerificationKey(
            key.key_id, multikey.decode_public_multibase(key.public_key_multibase)
        )
        for key in PlatformKey.objects.all()
    ]
    return didweb.did_document(did, verification_keys)


def credential_digest(credential: dict[str, Any] | None) -> str:
    if credential is None:
        return ""
    text = json.dumps(credential, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def receipt_body(report_json: dict[str, Any], digest: str) -> dict[str, Any]:
    """What a receipt states: the credential checked, each check's outcome, when. No e-mail."""
    claims = report_json.get("claims", {})
    body = {
        "type": RECEIPT_TYPE,
        "verifier": platform_did(),
        "checked_at": report_json.get("checked_at"),
        "verdict": report_json.get("verdict"),
        "format": report_json.get("format"),
        "credential": {
            "id": (report_json.get("credential_id") or ""),
            "digest": digest,
            "name": claims.get("name", ""),
            "issuer": claims.get("issuer", {}).get("id", ""),
            "issuer_name": claims.get("issuer", {}).get("name", ""),
        },
        "checks": [
            {"id": c["id"], "status": c["status"], "code": c["code"]}
            for c in report_json.get("checks", [])
        ],
        "platform": report_json.get("platform"),
    }
    if report_json.get("issuer_registries") is not None:
        # Which trusted registries listed the issuer (verification.registries), by name.
        body["issuer_registries"] = report_json["issuer_registries"]
    return body


@transaction.atomic
def create_receipt(*, report_json: dict[str, Any], digest: str) -> Receipt:
    """Sign and store a receipt of ``report_json`` (the output of ``Report.as_json``)."""
    key = active_platform_key()
    receipt = Receipt(
        verdict=str(report_json.get("verdict", "")),
        credential_id=str(report_json.get("credential_id") or "")[:500],
        key=key,
    )
    body = receipt_body(report_json, digest)
    body["id"] = settings.INSIGNIA_BASE_URL + reverse("verification_receipt", args=[receipt.id])
    kid = f"{platform_did()}#{key.key_id}"
    receipt.document = body
    receipt.jws = jwt.encode(
        body, _private_key(key), algorithm="EdDSA", headers={"kid": kid, "typ": "JWT"}
    )
    receipt.save()
    return receipt


def count_own_verification(report: Report, channel: str) -> None:
    """One row when ``report`` proved one of our own awards (``report.own``): the learner's
    "who viewed" and the console's analytics count it. A plain INSERT in the caller's
    autocommit; a failure to count never fails the verification."""
    award_id = (report.own or {}).get("award_id")
    if not award_id:
        return
    try:
        with transaction.atomic():
            OwnVerification.objects.create(
                award_id=award_id, day=timezone.localdate(), channel=channel
            )
    except DatabaseError:
        log.warning("could not count a verification", exc_info=True)
