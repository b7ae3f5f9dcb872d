"""did:web identifiers and documents (W3C CCG did:web method, §3.1 Create, §3.2 Read).

``did:web:<host>[%3A<port>]:<path>:<segments>`` ⇄ ``https://<host>[:<port>]/<path>/did.json``;
without path segments the document lives at ``/.well-known/did.json``. DESIGN.md §5: each
issuer is ``did:web:<host>:issuers:<slug>``, served at ``/issuers/<slug>/did.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from openbadges.multikey import MULTIKEY_CONTEXT, multikey_document
from openbadges.vcjwt import ed25519_jwk

DID_CONTEXT: Final = "https://www.w3.org/ns/did/v1"
# The fragment of a key's JsonWebKey method: ``key-1`` → ``key-1-jwk`` (one key, two methods).
JWK_SUFFIX: Final = "-jwk"


class DidWebError(ValueError):
    """A base URL or DID that cannot be expressed as / read as a did:web."""


def _encode_segment(segment: str) -> str:
    if not segment or segment in (".", ".."):
        raise DidWebError(f"invalid did:web path segment {segment!r}")
    # Every character outside unreserved is percent-encoded, ':' included (it separates
    # segments in the DID).
    return quote(segment, safe="-._~")


def did_web(base_url: str, *segments: str) -> str:
    """Return the did:web for ``base_url`` (scheme, host, optional port and path) + segments.

    ``did_web("http://127.0.0.1:8000", "issuers", "acme")`` is
    ``did:web:127.0.0.1%3A8000:issuers:acme``. The scheme is not part of the DID (did:web
    resolves over https; a loopback http origin is for development only).
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DidWebError(f"base URL must be http(s)://host[:port][/path]: {base_url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise DidWebError(f"base URL must not carry a query, fragment or credentials: {base_url!r}")
    host = parts.hostname.lower()
    if ":" in host:
        raise DidWebError("did:web cannot express an IPv6 literal host")
    if parts.port is not None:
        host += f"%3A{parts.port}"
    path = [unquote(p) for p in parts.path.split("/") if p]
    return "did:web:" + ":".join([host, *(_encode_segment(s) for s in [*path, *segments])])


def did_web_document_url(did_url: str, *, scheme: str = "https") -> str:
    """Map a did:web (or a DID URL with a fragment) to the URL of its DID document.

    ``scheme`` stays ``https`` except for a development server on a loopback address.
    """
    if scheme not in ("https", "http"):
        raise DidWebError("did:web resolves over https (http only for loopback development)")
    did = did_url.partition("#")[0]
    if not did.startswith("did:web:"):
        raise DidWebError(f"not a did:web: {did_url!r}")
    host, *path = did.removeprefix("did:web:").split(":")
    host = unquote(host)
    if not host or "/" in host or any(not p for p in path):
        raise DidWebError(f"malformed did:web: {did_url!r}")
    if path:
        return f"{scheme}://{host}/" + "/".join(path) + "/did.json"
    return f"{scheme}://{host}/.well-known/did.json"


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """One Ed25519 key of a DID document; ``fragment`` like ``key-1``.

    Retired keys stay listed (with ``assertion=True``) so that credentials they signed still
    verify; a compromised key is listed with ``assertion=False`` or dropped.
    """

    fragment: str
    public_key: bytes | Ed25519PublicKey
    assertion: bool = True


def jwk_method_id(method_id: str) -> str:
    """The id of the ``JsonWebKey`` method of the key whose Multikey method is ``method_id``."""
    return method_id + JWK_SUFFIX


def did_document(did: str, keys: Sequence[VerificationKey], *, jwk: bool = False) -> dict[str, Any]:
    """Build the DID document of an issuer: Multikey methods with absolute ids.

    ``assertionMethod`` is an array of absolute id strings, which both the 1EdTech validator and
    the Digital Bazaar verifiers require (research §2.2); each key's controller is ``did``, which
    must equal the credential's ``issuer.id`` (DESIGN.md §5).

    With ``jwk``, each key is listed a second time, after all the Multikey methods, as a
    ``JsonWebKey`` method with ``publicKeyJwk`` (fragment ``<key>-jwk``), also under
    ``assertionMethod``: the ``kid`` of the issuer's VC-JWTs. JOSE verifiers read a JWK, and
    a method may not carry the same key twice (``publicKeyMultibase`` and ``publicKeyJwk``,
    DID Core §5.2.1), so the key gets a method of each kind. Data Integrity proofs keep
    naming the Multikey method.
    """
    methods: list[dict[str, Any]] = [
        multikey_document(f"{did}#{key.fragment}", did, key.public_key) for key in keys
    ]
    if jwk:
        methods += [
            {
                "id": jwk_method_id(f"{did}#{key.fragment}"),
                "type": "JsonWebKey",
                "controller": did,
                "publicKeyJwk": ed25519_jwk(key.public_key),
            }
            for key in keys
        ]
    document: dict[str, Any] = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
    }
    assertion = [f"{did}#{key.fragment}" for key in keys if key.assertion]
    if jwk:
        assertion += [jwk_method_id(f"{did}#{key.fragment}") for key in keys if key.assertion]
    if assertion:
        document["assertionMethod"] = assertion
    return document
