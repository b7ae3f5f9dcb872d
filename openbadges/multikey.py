"""Ed25519 keys as Multikey (multibase base58btc) and did:key.

Sources: W3C Controlled Identifiers 1.0 §2.2.2 "Multikey" (also vc-di-eddsa §2.1.1), the
multicodec table (``ed25519-pub`` = 0xed, ``ed25519-priv`` = 0x1300) and the did:key method
(research/open-badges-spec.md §2.1 "Keys (Multikey)").
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

BASE58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX: Final = {char: index for index, char in enumerate(BASE58_ALPHABET)}

#: multicodec varint prefixes: ed25519-pub (0xed) and ed25519-priv (0x1300).
ED25519_PUB_PREFIX: Final = b"\xed\x01"
ED25519_PRIV_PREFIX: Final = b"\x80\x26"
MULTIKEY_CONTEXT: Final = "https://w3id.org/security/multikey/v1"


class MultikeyError(ValueError):
    """A multibase / Multikey / did:key value is malformed or not an Ed25519 key."""


def base58btc_encode(data: bytes) -> str:
    """Encode bytes with the Bitcoin base58 alphabet (leading zero bytes become ``1``)."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(BASE58_ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """Decode Bitcoin base58; raises :class:`MultikeyError` on a character outside the alphabet."""
    number = 0
    for char in text:
        index = _BASE58_INDEX.get(char)
        if index is None:
            raise MultikeyError(f"invalid base58btc character {char!r}")
        number = number * 58 + index
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_encode(data: bytes) -> str:
    """Multibase base58btc: ``"z"`` + base58btc(data) (used for ``proofValue`` and keys)."""
    return "z" + base58btc_encode(data)


def multibase_decode(value: str) -> bytes:
    """Decode a multibase base58btc (``z…``) string; other multibase encodings are refused."""
    if not value.startswith("z"):
        raise MultikeyError("expected multibase base58btc (a value starting with 'z')")
    return base58btc_decode(value[1:])


def generate_ed25519() -> tuple[bytes, bytes]:
    """Generate an Ed25519 key pair; return ``(32-byte private seed, 32-byte public key)``."""
    private_key = Ed25519PrivateKey.generate()
    return private_bytes(private_key), public_bytes(private_key.public_key())


def private_key_from_bytes(seed: bytes) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from its 32-byte seed (RFC 8032 §5.1.5)."""
    if len(seed) != 32:
        raise MultikeyError("an Ed25519 private key seed is 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_from_bytes(public: bytes) -> Ed25519PublicKey:
    """Load an Ed25519 public key from its 32 raw bytes."""
    if len(public) != 32:
        raise MultikeyError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(public)


def private_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """Return the 32-byte seed of an Ed25519 private key."""
    return private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def public_bytes(public_key: Ed25519PublicKey) -> bytes:
    """Return the 32 raw bytes of an Ed25519 public key."""
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_multibase(public: bytes | Ed25519PublicKey) -> str:
    """``publicKeyMultibase`` of an Ed25519 key: ``z`` + base58btc(0xed01 ‖ key), ``z6Mk…``."""
    raw = public if isinstance(public, bytes) else public_bytes(public)
    if len(raw) != 32:
        raise MultikeyError("an Ed25519 public key is 32 bytes")
    return multibase_encode(ED25519_PUB_PREFIX + raw)


def decode_public_multibase(value: str) -> bytes:
    """Return the 32-byte Ed25519 public key of a ``publicKeyMultibase`` value."""
    data = multibase_decode(value)
    if not data.startswith(ED25519_PUB_PREFIX) or len(data) != 34:
        raise MultikeyError("not an Ed25519 publicKeyMultibase (multicodec 0xed01, 32 bytes)")
    return data[2:]


def secret_multibase(seed: bytes) -> str:
    """``secretKeyMultibase`` of an Ed25519 seed: ``z`` + base58btc(0x8026 ‖ seed)."""
    if len(seed) != 32:
        raise MultikeyError("an Ed25519 private key seed is 32 bytes")
    return multibase_encode(ED25519_PRIV_PREFIX + seed)


def decode_secret_multibase(value: str) -> bytes:
    """Return the 32-byte seed of an Ed25519 ``secretKeyMultibase`` value.

    Accepts the Multikey form (0x8026 ‖ 32-byte seed) and the older 64-byte form
    (0x8026 ‖ seed ‖ public key) used by the 1EdTech vector, whose public half must match.
    """
    data = multibase_decode(value)
    if not data.startswith(ED25519_PRIV_PREFIX) or len(data) not in (34, 66):
        raise MultikeyError("not an Ed25519 secretKeyMultibase (multicodec 0x1300)")
    seed = data[2:34]
    if len(data) == 66 and public_bytes(private_key_from_bytes(seed).public_key()) != data[34:]:
        raise MultikeyError("secretKeyMultibase: public half does not match the seed")
    return seed


def multikey_document(
    verification_method: str, controller: str, public: bytes | Ed25519PublicKey
) -> dict[str, str]:
    """A ``Multikey`` verification method (no ``@context``; add it when served on its own).

    ``type`` is ``Multikey`` — not the ``DataIntegrityProof`` the OB spec text says by mistake
    (research §2.1, §9.4).
    """
    return {
        "id": verification_method,
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": public_multibase(public),
    }


def did_key(public: bytes | Ed25519PublicKey) -> str:
    """The ``did:key`` of an Ed25519 public key: ``did:key:z6Mk…``."""
    return "did:key:" + public_multibase(public)


def did_key_verification_method(public: bytes | Ed25519PublicKey) -> str:
    """The verification method id of a did:key, ``did:key:z6Mk…#z6Mk…``.

    The fragment is required by the Digital Bazaar verifiers (research §2.2).
    """
    multibase = public_multibase(public)
    return f"did:key:{multibase}#{multibase}"


def public_key_from_did_key(did_url: str) -> bytes:
    """Return the Ed25519 public key encoded in a did:key (with or without its fragment).

    If a fragment is present it must repeat the key, as did:key's own document defines it.
    """
    if not did_url.startswith("did:key:"):
        raise MultikeyError("not a did:key")
    did, _, fragment = did_url.partition("#")
    multibase = did.removeprefix("did:key:")
    if fragment and fragment != multibase:
        raise MultikeyError("did:key fragment does not match the key")
    return decode_public_multibase(multibase)
