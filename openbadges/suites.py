"""Other Ed25519 Data Integrity cryptosuites that issuers use, for *verifying* only.

Insignia signs with ``eddsa-rdfc-2022`` (``openbadges.dataintegrity``). Other issuers also use:

- ``eddsa-jcs-2022`` (W3C vc-di-eddsa §3.4): like eddsa-rdfc-2022 but the document and the proof
  configuration are canonicalized with the JSON Canonicalization Scheme (RFC 8785) instead of
  RDFC-1.0; ``hashData = SHA-256(JCS(proofConfig)) ‖ SHA-256(JCS(document))``;
- ``eddsa-2022`` (the pre-standard name, vc-di-eddsa 2022 drafts): the same RDFC algorithm as
  eddsa-rdfc-2022 under an older cryptosuite string; the 1EdTech validator accepts it with a
  warning, and so do we.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from openbadges import jsonld
from openbadges.multikey import MultikeyError, multibase_decode

JCS_SUITE: Final = "eddsa-jcs-2022"
LEGACY_SUITE: Final = "eddsa-2022"


class SuiteError(ValueError):
    """A proof of these suites that does not verify; ``str()`` says why."""


def _jcs_number(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise SuiteError("JCS cannot represent NaN or infinity")
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        text = f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0')}"
    return text


def jcs(value: Any) -> str:
    """RFC 8785 JSON Canonicalization Scheme: sorted keys (UTF-16 order), no whitespace,
    ECMAScript number formatting, minimal string escaping."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _jcs_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(jcs(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: key.encode("utf-16-be"))
        return "{" + ",".join(f"{jcs(k)}:{jcs(value[k])}" for k in keys) + "}"
    raise SuiteError(f"JCS cannot represent {type(value).__name__}")


def _signature(proof: dict[str, Any]) -> bytes:
    value = proof.get("proofValue")
    if not isinstance(value, str):
        raise SuiteError("proof has no proofValue")
    try:
        signature = multibase_decode(value)
    except MultikeyError as error:
        raise SuiteError(f"proofValue: {error}") from None
    if len(signature) != 64:
        raise SuiteError("proofValue is not a 64-byte Ed25519 signature")
    return signature


def _parts(
    document: dict[str, Any], proof: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    if proof.get("proofPurpose") != "assertionMethod":
        raise SuiteError("proofPurpose must be assertionMethod")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in config and config["@context"] != unsecured.get("@context"):
        raise SuiteError("proof @context does not match the document @context")
    config["@context"] = unsecured.get("@context")
    return unsecured, config


def verify_jcs(
    document: dict[str, Any], proof: dict[str, Any], public_key: Ed25519PublicKey
) -> None:
    """Verify one ``eddsa-jcs-2022`` proof (vc-di-eddsa §3.4.2); raise :class:`SuiteError`."""
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != JCS_SUITE:
        raise SuiteError("not an eddsa-jcs-2022 proof")
    unsecured, config = _parts(document, proof)
    data = (
        hashlib.sha256(jcs(config).encode("utf-8")).digest()
        + hashlib.sha256(jcs(unsecured).encode("utf-8")).digest()
    )
    try:
        public_key.verify(_signature(proof), data)
    except InvalidSignature:
        raise SuiteError("invalid signature") from None


ED25519_2020: Final = "Ed25519Signature2020"


def verify_ed25519_2020(
    document: dict[str, Any], proof: dict[str, Any], public_key: Ed25519PublicKey
) -> None:
    """Verify one ``Ed25519Signature2020`` proof (W3C CCG vc-di-ed25519-2020 §4).

    The same hashing as eddsa-rdfc-2022: SHA-256 of the RDFC-1.0 canonical proof options (with
    the document's ``@context``) followed by SHA-256 of the canonical document without proof;
    the signature is the multibase (base58btc) ``proofValue``.
    """
    if proof.get("type") != ED25519_2020 or "cryptosuite" in proof:
        raise SuiteError("not an Ed25519Signature2020 proof")
    unsecured, config = _parts(document, proof)
    data = (
        hashlib.sha256(jsonld.canonicalize(config).encode("utf-8")).digest()
        + hashlib.sha256(jsonld.canonicalize(unsecured).encode("utf-8")).digest()
    )
    try:
        public_key.verify(_signature(proof), data)
    except InvalidSignature:
        raise SuiteError("invalid signature") from None


def verify_legacy_rdfc(
    document: dict[str, Any], proof: dict[str, Any], public_key: Ed25519PublicKey
) -> None:
    """Verify one legacy ``eddsa-2022`` proof: the eddsa-rdfc-2022 algorithm (RDFC-1.0)."""
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != LEGACY_SUITE:
        raise SuiteError("not an eddsa-2022 proof")
    unsecured, config = _parts(document, proof)
    data = (
        hashlib.sha256(jsonld.canonicalize(config).encode("utf-8")).digest()
        + hashlib.sha256(jsonld.canonicalize(unsecured).encode("utf-8")).digest()
    )
    try:
        public_key.verify(_signature(proof), data)
    except InvalidSignature:
        raise SuiteError("invalid signature") from None


def sign_jcs(
    document: dict[str, Any], proof_options: dict[str, Any], private_key: Any
) -> dict[str, Any]:
    """Add an ``eddsa-jcs-2022`` proof (for tests and interop fixtures; Insignia issues RDFC)."""
    from openbadges.multikey import multibase_encode

    options = {**proof_options, "type": "DataIntegrityProof", "cryptosuite": JCS_SUITE}
    unsecured, config = _parts(document, options)
    data = (
        hashlib.sha256(jcs(config).encode("utf-8")).digest()
        + hashlib.sha256(jcs(unsecured).encode("utf-8")).digest()
    )
    proof = {**options, "proofValue": multibase_encode(private_key.sign(data))}
    return {**document, "proof": [proof]}
