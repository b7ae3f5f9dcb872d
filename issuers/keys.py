"""Issuer signing keys: generation, encryption at rest, rotation, withdrawal, did:web.

Each issuer signs with one active Ed25519 key (DESIGN.md §5). The 32-byte private seed is
stored only as ``version ‖ nonce ‖ AES-GCM(seed)`` under the key-encryption key (KEK) from
``settings.INSIGNIA_KEY_ENCRYPTION_KEY`` (base64url, 32 bytes). The associated data names the
issuer and the key id, so a ciphertext moved to another row fails to decrypt. Without a KEK
nothing is signed (fail closed, DESIGN.md §9). No function here logs or returns key material.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from issuers.models import AuditEvent, Issuer, KeyStatus, Role, SigningKey
from issuers.permissions import require_role
from openbadges import dataintegrity, didweb, multikey

_FORMAT_V1: Final = b"\x01"
_NONCE_BYTES: Final = 12


class SigningUnavailable(Exception):
    """Nothing can be signed: the KEK is missing or wrong, or a stored key is unreadable.

    Its message is meant for staff and operators and never contains key material.
    """


def _kek() -> bytes:
    value: str | None = getattr(settings, "INSIGNIA_KEY_ENCRYPTION_KEY", None)
    if not value:
        raise SigningUnavailable(
            _(
                "Signing is switched off: the key-encryption key "
                "(INSIGNIA_KEY_ENCRYPTION_KEY) is not configured. Nothing was issued."
            )
        )
    try:
        key = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise SigningUnavailable(
            _("Signing is switched off: INSIGNIA_KEY_ENCRYPTION_KEY is not 32 bytes of base64url.")
        )
    return key


def _associated_data(issuer_id: int, key_id: str) -> bytes:
    return f"insignia:signing-key:v1:issuer={issuer_id}:key={key_id}".encode()


def encrypt_seed(seed: bytes, *, issuer_id: int, key_id: str) -> bytes:
    """Encrypt an Ed25519 seed for the row (``issuer_id``, ``key_id``) under the KEK."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(_kek()).encrypt(nonce, seed, _associated_data(issuer_id, key_id))
    return _FORMAT_V1 + nonce + sealed


def private_key(key: SigningKey) -> Ed25519PrivateKey:
    """Decrypt ``key``'s private half; raises :class:`SigningUnavailable` if that fails."""
    blob = bytes(key.encrypted_private_key)
    kek = _kek()
    if blob[:1] != _FORMAT_V1:
        raise SigningUnavailable(_("A stored signing key has an unknown format."))
    nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        seed = AESGCM(kek).decrypt(nonce, sealed, _associated_data(key.issuer_id, key.key_id))
    except InvalidTag:
        raise SigningUnavailable(
            _(
                "The signing key %(key)s cannot be decrypted: the key-encryption key is wrong "
                "or the stored key does not belong to this issuer."
            )
            % {"key": key.key_id}
        ) from None
    found = multikey.private_key_from_bytes(seed)
    if multikey.public_multibase(found.public_key()) != key.public_key_multibase:
        raise SigningUnavailable(_("A stored signing key does not match its public key."))
    return found


def issuer_did(issuer: Issuer) -> str:
    """``did:web:<host>[%3A<port>]:issuers:<slug>`` from ``INSIGNIA_BASE_URL`` (DESIGN.md §5)."""
    return didweb.did_web(settings.INSIGNIA_BASE_URL, "issuers", issuer.slug)


def verification_method(key: SigningKey) -> str:
    """The absolute verification method id of ``key``: ``<issuer did>#key-N``."""
    return f"{issuer_did(key.issuer)}#{key.key_id}"


def published_keys(issuer: Issuer) -> QuerySet[SigningKey]:
    """Keys in the DID document: the active one and retired ones, never withdrawn ones."""
    return SigningKey.objects.filter(
        issuer=issuer, status__in=[KeyStatus.ACTIVE, KeyStatus.RETIRED]
    ).order_by("created_at", "pk")


def did_document(issuer: Issuer) -> dict[str, Any]:
    """The issuer's DID document: Multikey methods with absolute ids, ``assertionMethod``
    an array of absolute strings, every ``controller`` equal to the issuer's DID."""
    keys = [
        didweb.VerificationKey(
            key.key_id, multikey.decode_public_multibase(key.public_key_multibase)
        )
        for key in published_keys(issuer)
    ]
    return didweb.did_document(issuer_did(issuer), keys)


def _new_key(issuer: Issuer) -> SigningKey:
    # Numbers are never reused, so a withdrawn key-2 can never be confused with a new one.
    number = SigningKey.objects.filter(issuer=issuer).count() + 1
    key_id = f"key-{number}"
    seed, public = multikey.generate_ed25519()
    return SigningKey.objects.create(
        issuer=issuer,
        key_id=key_id,
        public_key_multibase=multikey.public_multibase(public),
        encrypted_private_key=encrypt_seed(seed, issuer_id=issuer.pk, key_id=key_id),
        status=KeyStatus.ACTIVE,
    )


def _audit(issuer: Issuer, actor: User | None, action: str, key: SigningKey) -> None:
    AuditEvent.objects.create(
        institution_id=issuer.institution_id,
        actor=actor,
        action=action,
        target=f"{issuer.slug}#{key.key_id}",
        data={"public_key": key.public_key_multibase},
    )


@transaction.atomic
def active_key(issuer: Issuer) -> SigningKey:
    """The issuer's active key, created on first use (the KEK must be configured)."""
    _kek()
    # The common case reads without a lock, so parallel awards of one issuer never queue on
    # the issuer row; only creating the first key is serialised. A key rotated meanwhile still
    # verifies (a retired key stays in the DID document).
    key = SigningKey.objects.filter(issuer=issuer, status=KeyStatus.ACTIVE).first()
    if key is not None:
        return key
    Issuer.objects.select_for_update().filter(pk=issuer.pk).first()
    key = SigningKey.objects.filter(issuer=issuer, status=KeyStatus.ACTIVE).first()
    if key is None:
        key = _new_key(issuer)
        _audit(issuer, None, "key.created", key)
    return key


@transaction.atomic
def rotate_issuer_key(*, actor: User | None, issuer: Issuer) -> SigningKey:
    """Retire the issuer's active key and create a new one. Owners only (``actor=None`` is a
    platform operator at the command line). Credentials the old key signed keep verifying,
    because a retired key stays in the DID document."""
    if actor is not None:
        require_role(actor, issuer.institution, Role.OWNER, issuer)
    _kek()
    Issuer.objects.select_for_update().filter(pk=issuer.pk).first()
    SigningKey.objects.filter(issuer=issuer, status=KeyStatus.ACTIVE).update(
        status=KeyStatus.RETIRED, retired_at=timezone.now()
    )
    key = _new_key(issuer)
    _audit(issuer, actor, "key.rotated", key)
    return key


@transaction.atomic
def withdraw_signing_key(*, actor: User | None, key: SigningKey) -> SigningKey:
    """Remove ``key`` from the DID document for good, e.g. after a compromise. Owners only.

    Every credential it signed stops verifying. If it was the active key, the next award
    creates a new one.
    """
    issuer = key.issuer
    if actor is not None:
        require_role(actor, issuer.institution, Role.OWNER, issuer)
    key = SigningKey.objects.select_for_update().get(pk=key.pk)
    if key.status == KeyStatus.WITHDRAWN:
        raise ValidationError(_("This key has already been withdrawn."))
    now = timezone.now()
    key.status = KeyStatus.WITHDRAWN
    key.withdrawn_at = now
    key.retired_at = key.retired_at or now
    key.save(update_fields=["status", "withdrawn_at", "retired_at"])
    _audit(issuer, actor, "key.withdrawn", key)
    return key


def sign_credential(
    credential: dict[str, Any], *, key: SigningKey, created: datetime
) -> dict[str, Any]:
    """Sign ``credential`` with ``key`` (eddsa-rdfc-2022, ``verificationMethod`` its did:web
    id); raises :class:`SigningUnavailable` when the key cannot be used."""
    return signer(key)(credential, created)


def signer(key: SigningKey) -> Callable[[dict[str, Any], datetime], dict[str, Any]]:
    """A function that signs credentials with ``key``, decrypting it once (bulk issuing signs
    a whole chunk with one key). Raises :class:`SigningUnavailable` when the key cannot be
    used."""
    if key.status != KeyStatus.ACTIVE:
        raise SigningUnavailable(_("Only the issuer's active key signs new credentials."))
    secret = private_key(key)
    method = verification_method(key)

    def sign(credential: dict[str, Any], created: datetime) -> dict[str, Any]:
        return dataintegrity.sign(
            credential, private_key=secret, verification_method=method, created=created
        )

    return sign
