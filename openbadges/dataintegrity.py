"""Data Integrity ``eddsa-rdfc-2022`` proofs (W3C vc-di-eddsa §3.3, OB 3.0 ``integrity.md``).

Sign (vc-di-eddsa §3.3.1 Add Proof, §3.3.4-3.3.6):

1. ``proofConfig`` = proof options + the document's ``@context``; canonicalize (RDFC-1.0).
2. canonicalize the unsecured document (RDFC-1.0).
3. ``hashData = SHA-256(canonical proofConfig) ‖ SHA-256(canonical document)`` — proof first.
4. ``proofValue = "z" + base58btc(Ed25519(hashData))``.

Verify (§3.3.2) rebuilds the same bytes from the secured document.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from openbadges import jsonld, rdftemplate
from openbadges.multikey import MultikeyError, multibase_decode, multibase_encode

PROOF_TYPE: Final = "DataIntegrityProof"
CRYPTOSUITE: Final = "eddsa-rdfc-2022"
PROOF_PURPOSE: Final = "assertionMethod"
#: xsd:dateTime as DESIGN.md §5 wants it for ``created``: UTC, second precision, ``Z``.
CREATED_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"
_XSD_DATETIME: Final = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"
)

JsonObject = dict[str, Any]


class ProofError(ValueError):
    """The document or proof options cannot be signed / verified as eddsa-rdfc-2022."""


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Outcome of :func:`verify`; truthy when a proof verified."""

    verified: bool
    error: str | None = None
    proof: JsonObject | None = None

    def __bool__(self) -> bool:
        return self.verified


def format_created(created: datetime) -> str:
    """Format ``created`` as ``YYYY-MM-DDThh:mm:ssZ`` (UTC); naive datetimes are refused."""
    if created.tzinfo is None or created.utcoffset() is None:
        raise ProofError("created must be a timezone-aware datetime")
    return created.astimezone(UTC).strftime(CREATED_FORMAT)


def proof_config(document: JsonObject, proof_options: JsonObject) -> JsonObject:
    """Return the proof configuration: proof options + the document's ``@context`` (§3.3.5).

    Raises :class:`ProofError` if ``type``/``cryptosuite`` are not ours or ``created`` is not
    an xsd:dateTime.
    """
    if proof_options.get("type") != PROOF_TYPE or proof_options.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(f"proof must be a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    created = proof_options.get("created")
    if created is not None and (
        not isinstance(created, str) or _XSD_DATETIME.match(created) is None
    ):
        raise ProofError(f"proof created is not an xsd:dateTime: {created!r}")
    if "@context" not in document:
        raise ProofError("document has no @context")
    config = {key: value for key, value in proof_options.items() if key != "proofValue"}
    config["@context"] = document["@context"]
    return config


def hash_data(
    unsecured_document: JsonObject, config: JsonObject, *, templated: bool = False
) -> bytes:
    """``SHA-256(canonical proofConfig) ‖ SHA-256(canonical document)`` — 64 bytes (§3.3.4).

    The proof configuration hash comes first; swapping the two is a classic interop bug.
    ``templated`` serves both JSON-LD to RDF steps from a template of their shape
    (:mod:`openbadges.rdftemplate`, same bytes); signing uses it, verification never does.
    A proof configuration always has the same shape, so its template is built once.
    """
    text = json.dumps(config, sort_keys=True, ensure_ascii=False)
    if len(text) > _CACHED_CONFIG_CHARS:
        config_hash = _hash_config(config, templated=templated)
    else:
        config_hash = _config_hash(text, templated)
    canonical = (rdftemplate.canonicalize if templated else jsonld.canonicalize)(unsecured_document)
    document_hash = hashlib.sha256(canonical.encode("utf-8"))
    return config_hash + document_hash.digest()


#: Proof configurations up to this size (ours are ~600 characters) have their hash cached.
_CACHED_CONFIG_CHARS: Final = 4096


def _hash_config(config: JsonObject, *, templated: bool) -> bytes:
    if templated:
        canonical = rdftemplate.canonicalize(config, proof_config=True)
    else:
        canonical = jsonld.canonicalize(config)
    return hashlib.sha256(canonical.encode("utf-8")).digest()


@functools.lru_cache(maxsize=256)
def _config_hash(config_text: str, templated: bool) -> bytes:
    # The proof configuration is the same for every credential an issuer's key signs in one
    # second (a bulk chunk), so its canonical hash is computed once per distinct text.
    return _hash_config(json.loads(config_text), templated=templated)


def _unsecured(document: JsonObject) -> JsonObject:
    return {key: value for key, value in document.items() if key != "proof"}


def sign(
    document: JsonObject,
    *,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime,
) -> JsonObject:
    """Return a copy of ``document`` with an ``eddsa-rdfc-2022`` proof added.

    ``proof`` is emitted as an array (the strict OB 3.0 JSON schema requires it, research §8);
    proofs already present are kept and the new one is appended. ``document`` is not modified.
    Raises :class:`openbadges.jsonld.SafeModeError` if the document contains a term its
    contexts do not define.
    """
    options: JsonObject = {
        "type": PROOF_TYPE,
        "created": format_created(created),
        "verificationMethod": verification_method,
        "cryptosuite": CRYPTOSUITE,
        "proofPurpose": PROOF_PURPOSE,
    }
    unsecured = _unsecured(document)
    signature = private_key.sign(
        hash_data(unsecured, proof_config(unsecured, options), templated=True)
    )
    proof = {**options, "proofValue": multibase_encode(signature)}
    secured: JsonObject = jsonld.copy_json(document)
    existing = secured.get("proof")
    if existing is None:
        existing = []
    elif not isinstance(existing, list):
        existing = [existing]
    secured["proof"] = [*existing, proof]
    return secured


def _proofs(document: JsonObject) -> list[JsonObject]:
    proof = document.get("proof")
    if isinstance(proof, dict):
        return [proof]
    if isinstance(proof, list):
        return [p for p in proof if isinstance(p, dict)]
    return []


def verify_proof(document: JsonObject, proof: JsonObject, public_key: Ed25519PublicKey) -> None:
    """Verify one proof of ``document`` (§3.3.2); raise :class:`ProofError` if it fails."""
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        raise ProofError("proofPurpose must be assertionMethod")
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str):
        raise ProofError("proof has no proofValue")
    try:
        signature = multibase_decode(proof_value)
    except MultikeyError as error:
        raise ProofError(f"proofValue: {error}") from error
    if len(signature) != 64:
        raise ProofError("proofValue is not a 64-byte Ed25519 signature")
    unsecured = _unsecured(document)
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    if "@context" in options:
        # §3.3.2 step 2: a proof's own @context must be a prefix of the document's.
        proof_context = options.pop("@context")
        proof_context = proof_context if isinstance(proof_context, list) else [proof_context]
        document_context = unsecured.get("@context")
        document_context = (
            document_context if isinstance(document_context, list) else [document_context]
        )
        if document_context[: len(proof_context)] != proof_context:
            raise ProofError("proof @context does not match the document @context")
        unsecured["@context"] = proof_context
    try:
        public_key.verify(signature, hash_data(unsecured, proof_config(unsecured, options)))
    except InvalidSignature as error:
        raise ProofError("invalid signature") from error


def verify(
    document: JsonObject,
    *,
    public_key: Ed25519PublicKey,
    verification_method: str | None = None,
) -> VerificationResult:
    """Verify the ``eddsa-rdfc-2022`` proof(s) of ``document`` with ``public_key``.

    Key resolution is the caller's job: resolve the proof's ``verificationMethod`` (and check
    its controller is ``issuer.id``) before calling. With ``verification_method`` only proofs
    naming it are tried. Verified if one proof verifies; never raises for a bad document.
    """
    candidates = [
        p
        for p in _proofs(document)
        if p.get("type") == PROOF_TYPE
        and p.get("cryptosuite") == CRYPTOSUITE
        and (verification_method is None or p.get("verificationMethod") == verification_method)
    ]
    if not candidates:
        return VerificationResult(False, "no eddsa-rdfc-2022 DataIntegrityProof found")
    errors: list[str] = []
    for proof in candidates:
        try:
            verify_proof(document, proof, public_key)
        except (ProofError, jsonld.CanonicalizationError) as error:
            errors.append(str(error))
            continue
        except (jsonld.SafeModeError, jsonld.ContextError) as error:
            errors.append(f"{type(error).__name__}: {error}")
            continue
        return VerificationResult(True, None, proof)
    return VerificationResult(False, "; ".join(errors))
