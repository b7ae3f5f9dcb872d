"""Check a wallet's DIDAuth presentation: the holder proves it controls a ``did:key``.

The Learner Credential Wallet answers a VC-API ``DIDAuthentication`` query (W3C CCG
Verifiable Presentation Request §3.2 "DID Authentication") with a Verifiable Presentation
that carries no credentials, names the wallet's DID as ``holder`` and is signed by that DID's
key with the exchange's ``challenge`` and ``domain`` (W3C VC Data Integrity 1.0 §2.1 proof
options; ``proofPurpose`` ``authentication``). It signs with ``Ed25519Signature2020`` (W3C CCG
vc-di-ed25519-2020 §4); ``eddsa-rdfc-2022`` (vc-di-eddsa §3.3) is accepted too. Both hash the
same way: ``SHA-256(RDFC-1.0 proof options with the document's @context) ‖ SHA-256(RDFC-1.0
presentation without proof)``, and the signature is the base58btc ``proofValue``.

Only ``did:key`` (Ed25519, ``z6Mk…``) is resolved: the key is in the DID itself, so nothing
is ever fetched for a presentation. Every refusal is a :class:`DidAuthError` whose ``code``
is stable for machines and whose message says what to fix.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from django.utils.translation import gettext as _

from openbadges import dataintegrity, jsonld
from openbadges.multikey import (
    MultikeyError,
    multibase_decode,
    public_key_from_bytes,
    public_key_from_did_key,
)

ED25519_2020: Final = "Ed25519Signature2020"
DATA_INTEGRITY: Final = "DataIntegrityProof"
EDDSA_RDFC: Final = "eddsa-rdfc-2022"
AUTHENTICATION: Final = "authentication"
_JSONLD_ERRORS: Final = (
    jsonld.SafeModeError,
    jsonld.ContextError,
    jsonld.CanonicalizationError,
    jsonld.CanonicalizationLimitError,
)


class DidAuthError(ValueError):
    """A presentation that does not authenticate its holder; ``code`` names the check."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Authenticated:
    """A checked presentation: the holder's DID and the proof suite it signed with."""

    holder: str
    suite: str


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _one_proof(presentation: dict[str, Any]) -> dict[str, Any]:
    proof = presentation.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    if not isinstance(proof, dict):
        raise DidAuthError(
            "no_proof", _("The presentation must carry exactly one proof signed by the holder.")
        )
    return proof


def _verify_data(presentation: dict[str, Any], proof: dict[str, Any]) -> bytes:
    """The 64 bytes both suites sign (proof options hash first, then the document hash)."""
    unsecured = {key: value for key, value in presentation.items() if key != "proof"}
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    if "@context" in options and options["@context"] != unsecured.get("@context"):
        raise DidAuthError(
            "bad_signature", _("The proof's @context differs from the presentation's.")
        )
    options["@context"] = unsecured.get("@context")
    if proof.get("type") == DATA_INTEGRITY:
        return dataintegrity.hash_data(unsecured, options)
    return (
        hashlib.sha256(jsonld.canonicalize(options).encode("utf-8")).digest()
        + hashlib.sha256(jsonld.canonicalize(unsecured).encode("utf-8")).digest()
    )


def _holder_key(verification_method: Any) -> tuple[str, bytes]:
    if not isinstance(verification_method, str) or not verification_method.startswith(
        "did:key:z6Mk"
    ):
        raise DidAuthError(
            "unsupported_did",
            _("The proof must be signed by an Ed25519 did:key (did:key:z6Mk…)."),
        )
    did, _hash, fragment = verification_method.partition("#")
    if not fragment:
        raise DidAuthError(
            "unsupported_did", _("The proof's verificationMethod needs its key fragment.")
        )
    try:
        return did, public_key_from_did_key(verification_method)
    except MultikeyError as error:
        raise DidAuthError(
            "unsupported_did", _("The holder's did:key is malformed: %(error)s") % {"error": error}
        ) from None


def check_presentation(presentation: Any, *, challenge: str, domain: str) -> Authenticated:
    """Check a DIDAuth ``presentation`` for ``challenge`` and ``domain``; return its holder.

    Checks in order: the shape (a ``VerifiablePresentation`` with no credentials), one proof of
    a supported suite with ``proofPurpose`` ``authentication``, the ``challenge``, the
    ``domain``, the signature against the ``did:key`` of ``verificationMethod``, and that
    ``holder`` is that same DID. Raises :class:`DidAuthError` at the first failure.
    """
    if not isinstance(presentation, dict):
        raise DidAuthError("malformed", _("The presentation must be a JSON object."))
    if "VerifiablePresentation" not in _types(presentation.get("type")):
        raise DidAuthError(
            "malformed", _("The presentation's type must include VerifiablePresentation.")
        )
    if presentation.get("verifiableCredential"):
        raise DidAuthError(
            "malformed",
            _("A DIDAuth presentation carries no credentials; send one without them."),
        )
    proof = _one_proof(presentation)
    if proof.get("type") == ED25519_2020 and "cryptosuite" not in proof:
        suite = ED25519_2020
    elif proof.get("type") == DATA_INTEGRITY and proof.get("cryptosuite") == EDDSA_RDFC:
        suite = EDDSA_RDFC
    else:
        raise DidAuthError(
            "unsupported_suite",
            _("The proof must be an Ed25519Signature2020 or an eddsa-rdfc-2022 proof."),
        )
    if proof.get("proofPurpose") != AUTHENTICATION:
        raise DidAuthError("wrong_purpose", _("The proof's proofPurpose must be authentication."))
    if proof.get("challenge") != challenge:
        raise DidAuthError(
            "wrong_challenge",
            _("The proof's challenge is not the one this exchange asked for."),
        )
    proof_domain = proof.get("domain")
    domains = proof_domain if isinstance(proof_domain, list) else [proof_domain]
    if domain not in domains:
        raise DidAuthError(
            "wrong_domain",
            _("The proof's domain is not this site (%(domain)s).") % {"domain": domain},
        )
    did, public = _holder_key(proof.get("verificationMethod"))
    value = proof.get("proofValue")
    try:
        signature = multibase_decode(value) if isinstance(value, str) else b""
    except MultikeyError:
        signature = b""
    if len(signature) != 64:
        raise DidAuthError(
            "bad_signature", _("The proof's proofValue is not an Ed25519 signature.")
        )
    try:
        data = _verify_data(presentation, proof)
    except _JSONLD_ERRORS as error:
        raise DidAuthError(
            "malformed",
            _("The presentation is not valid JSON-LD for its contexts: %(error)s")
            % {"error": error},
        ) from None
    except dataintegrity.ProofError as error:
        raise DidAuthError("bad_signature", str(error)) from None
    try:
        public_key_from_bytes(public).verify(signature, data)
    except InvalidSignature:
        raise DidAuthError(
            "bad_signature", _("The presentation's signature does not verify.")
        ) from None
    holder = presentation.get("holder")
    if isinstance(holder, dict):  # VC Data Model 2.0 §4.13 allows {"id": …} too
        holder = holder.get("id")
    if holder != did:
        raise DidAuthError(
            "holder_mismatch",
            _("The presentation's holder is not the DID whose key signed it."),
        )
    return Authenticated(holder=did, suite=suite)
