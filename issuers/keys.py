"""Issuer signing keys: encryption at rest, signing, did:web (the writes that create, rotate
and withdraw keys are in ``issuers.services``).

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
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from issuers.models import Issuer, KeyStatus, SigningKey
from openbadges import dataintegrity, didweb, multikey, vcjwt

_FORMAT_V1: Final = b"\x01"
_NONCE_BYTES: Final = 12


class SigningUnavailable(Exception):
    """Nothing can be signed: the KEK is missing or wrong, or a stored key is unreadable.

    Its message is meant for staff and operators and never contains key material.
    """


def check_kek() -> None:
    """Raise :class:`SigningUnavailable` unless the key-encryption key is configured."""
    _kek()


def _kek() -> bytes:
    value = settings.INSIGNIA_KEY_ENCRYPTION_KEY
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


_SEALED_PREFIX: Final = "sealed1:"


def seal_text(text: str, *, purpose: str) -> str:
    """``text`` encrypted under the KEK (AES-GCM, bound to ``purpose``), as stored text. For
    secrets the platform must use again (a webhook endpoint's signing secret), so that a
    database dump or backup alone does not reveal them."""
    nonce = os.urandom(_NONCE_BYTES)
    aad = f"insignia:{purpose}:v1".encode()
    sealed = AESGCM(_kek()).encrypt(nonce, text.encode(), aad)
    return _SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def open_text(value: str, *, purpose: str) -> str:
    """The clear text of :func:`seal_text`'s ``value``; a value that was never sealed is
    returned as it is. Raises :class:`SigningUnavailable` if it cannot be decrypted."""
    if not value.startswith(_SEALED_PREFIX):
        return value
    try:
        blob = base64.urlsafe_b64decode(value[len(_SEALED_PREFIX) :])
        aad = f"insignia:{purpose}:v1".encode()
        return AESGCM(_kek()).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], aad).decode()
    except (InvalidTag, binascii.Error, ValueError):
        raise SigningUnavailable(
            _("A stored secret cannot be decrypted: the key-encryption key is wrong.")
        ) from None


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
    return didweb.did_document(issuer_did(issuer), keys, jwk=True)


def jwt_kid(key: SigningKey) -> str:
    """The ``kid`` of the VC-JWTs ``key`` signs: its ``JsonWebKey`` method in the DID document."""
    return didweb.jwk_method_id(verification_method(key))


def sign_jwt(credential: dict[str, Any], *, key: SigningKey) -> str:
    """``credential`` (its ``proof`` left out) secured as a VC-JWT with ``key``, the issuer's
    active key; raises :class:`SigningUnavailable` when the key cannot be used."""
    if key.status != KeyStatus.ACTIVE:
        raise SigningUnavailable(_("Only the issuer's active key signs new credentials."))
    return vcjwt.sign_credential(credential, private_key=private_key(key), kid=jwt_kid(key))


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
