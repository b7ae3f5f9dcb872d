"""Find the public key of a proof's ``verificationMethod`` and prove the issuer controls it.

VC Data Integrity §4 "Retrieve Verification Method" and §"Verification Relationship
Validation"; OB 3.0 impl guide "key provenance"; research/open-badges-spec.md §2.2 and
security-reliability.md §1.3. The rules, whatever the identifier form:

1. the method's controller **equals** ``issuer.id``;
2. the key comes from a document the issuer controls (its DID document or its https
   controller document), where the method is listed under ``assertionMethod``;
3. a key written in a URL fragment (``<issuer.id>#z6Mk…``) is accepted only when the
   issuer's own document lists that exact method id under ``assertionMethod`` — never from
   the fragment alone (that is the key-substitution hole of the 1EdTech validator);
4. ``did:key`` is its own document: accepted only when the issuer *is* that did:key;
5. the method is a verification method's URL, never a bare DID: a DID (``did:key:z6Mk…``
   without ``#…``) names a DID document, not a key, and VC Data Integrity §4 requires the
   dereferenced resource to be a verification method (Digital Bazaar's verifier refuses it,
   though the 1EdTech corpus's ``simple-did-key-method.json`` uses it).

Keys of this platform's issuers come from the database, without HTTP.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.utils.translation import gettext as _

from issuers.keys import verification_method
from issuers.models import Issuer, KeyStatus, SigningKey
from openbadges import didweb, multikey
from verification import cache as vcache
from verification import fetcher


class KeyProblem(Exception):
    """The key could not be bound to the issuer. ``unknown`` when we could not *check*
    (network) rather than found a mismatch."""

    def __init__(self, code: str, message: str, *, unknown: bool = False, detail: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.unknown = unknown
        self.detail = detail
        # Set when the method is bound to the issuer but its key is not Ed25519: VC-JWT may
        # still use it (RS256, ES256), Data Integrity may not.
        self.method: dict[str, Any] | None = None


@dataclass(frozen=True)
class ResolvedKey:
    public_key: Ed25519PublicKey
    method_id: str
    controller: str
    how: str  # "platform", "did:key", "did:web", "https"
    issuer: Issuer | None = None
    signing_key: SigningKey | None = None


def own_did_prefix() -> str:
    """``did:web:<our host>:issuers:`` — the issuers whose keys we read from the database."""
    return didweb.did_web(settings.INSIGNIA_BASE_URL) + ":issuers:"


def is_own_origin(url: str) -> bool:
    base = urlsplit(settings.INSIGNIA_BASE_URL)
    try:
        parts = urlsplit(url)
        return parts.scheme == base.scheme and parts.netloc.lower() == base.netloc.lower()
    except ValueError:
        return False


def _own_key(method_id: str, known: SigningKey | None = None) -> ResolvedKey:
    """A key of one of our issuers, read from the database now (so a withdrawn key fails at
    once). ``known``: the key the caller already loaded with its issuer (the signing key of
    the award whose stored text is being verified); used when ``method_id`` names exactly
    it, which is what the two lookups below would find (slugs and (issuer, key id) are
    unique), so the same checks run without the round trips."""
    did, _sep, fragment = method_id.partition("#")
    # ``key-1-jwk`` is key-1's JsonWebKey method (``openbadges.didweb.did_document``), the
    # ``kid`` of our VC-JWTs: the same key, listed twice.
    fragment = fragment.removesuffix(didweb.JWK_SUFFIX)
    if known is not None and f"{did}#{fragment}" == verification_method(known):
        key: SigningKey | None = known
    else:
        slug = did.removeprefix(own_did_prefix())
        issuer = Issuer.objects.filter(slug=slug).first()
        if issuer is None:
            raise KeyProblem(
                "unknown_issuer", _("This platform has no issuer with that identifier.")
            )
        key = SigningKey.objects.filter(issuer=issuer, key_id=fragment).first()
        if key is not None:
            key.issuer = issuer
    if key is None:
        raise KeyProblem("unknown_key", _("The issuer has no key with that identifier."))
    if key.status == KeyStatus.WITHDRAWN:
        raise KeyProblem(
            "key_withdrawn",
            _("The issuer withdrew the key that signed this badge, so it is no longer trusted."),
        )
    public = multikey.public_key_from_bytes(
        multikey.decode_public_multibase(key.public_key_multibase)
    )
    return ResolvedKey(public, method_id, did, "platform", key.issuer, key)


def _fetch_failed(detail: str) -> KeyProblem:
    return KeyProblem(
        "key_fetch_failed",
        _("The issuer's key document could not be retrieved, so the key could not be checked."),
        unknown=True,
        detail=detail,
    )


def _json(url: str) -> dict[str, Any]:
    """The key document at ``url``, from :mod:`verification.cache` while its host allows."""
    kept = None if is_own_origin(url) else vcache.get("key", url)
    if isinstance(kept, vcache.Failure):
        raise _fetch_failed(kept.detail)
    if isinstance(kept, dict):
        return kept
    try:
        response = fetcher.fetch(url)
    except (fetcher.OverBudget, fetcher.FetchTimeout, fetcher.BlockedURL) as error:
        # This verification's own budget, or a deadline it cut short: not the host's fault,
        # so not remembered against it. A refusal of the address is decided afresh each
        # time (it costs no connection, and the name may point elsewhere by now).
        raise _fetch_failed(f"{error.code}: {url}") from None
    except fetcher.FetchError as error:
        _remember_failure(url, f"{error.code}: {url}")
        raise _fetch_failed(f"{error.code}: {url}") from None
    if response.status != 200:
        _remember_failure(url, f"HTTP {response.status}: {url}")
        raise _fetch_failed(f"HTTP {response.status}: {url}")
    try:
        document = json.loads(response.body)
    except (ValueError, RecursionError):
        document = None
    if not isinstance(document, dict):
        raise KeyProblem("key_document_invalid", _("The issuer's key document is not valid JSON."))
    if not is_own_origin(url):
        vcache.put("key", url, document, vcache.key_seconds(response.headers))
    return document


def _remember_failure(url: str, detail: str) -> None:
    if not is_own_origin(url):
        vcache.put("key", url, vcache.Failure("key_fetch_failed", detail), vcache.NEGATIVE_SECONDS)


def _absolute(value: str, base: str) -> str:
    return base + value if value.startswith("#") else value


def _listed_as_assertion(document: dict[str, Any], method_id: str, base: str) -> bool:
    listed = document.get("assertionMethod", [])
    listed = listed if isinstance(listed, list) else [listed]
    for item in listed:
        ref = item.get("id") if isinstance(item, dict) else item
        if isinstance(ref, str) and _absolute(ref, base) == method_id:
            return True
    return False


def _embedded_method(document: dict[str, Any], method_id: str, base: str) -> dict[str, Any] | None:
    for key in ("verificationMethod", "assertionMethod"):
        items = document.get(key, [])
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, dict) and _absolute(str(item.get("id", "")), base) == method_id:
                return item
    return None


def _public_key_of(method: dict[str, Any]) -> Ed25519PublicKey:
    """Ed25519 key of a ``Multikey`` / ``Ed25519VerificationKey2020`` / JWK method."""
    try:
        if isinstance(method.get("publicKeyMultibase"), str):
            raw = multikey.decode_public_multibase(method["publicKeyMultibase"])
            return multikey.public_key_from_bytes(raw)
        jwk = method.get("publicKeyJwk")
        if isinstance(jwk, dict) and jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            import base64

            x = str(jwk.get("x", ""))
            return multikey.public_key_from_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
    except (multikey.MultikeyError, ValueError) as error:
        raise KeyProblem(
            "key_invalid", _("The issuer's key is not a valid Ed25519 key."), detail=str(error)
        ) from None
    raise KeyProblem("key_invalid", _("The issuer's key is not an Ed25519 key we can use."))


def _bound_key(method: dict[str, Any]) -> Ed25519PublicKey:
    """The Ed25519 key of a method already shown to be the issuer's (see KeyProblem.method)."""
    try:
        return _public_key_of(method)
    except KeyProblem as problem:
        problem.method = method
        raise


def _fragment_key(method_id: str) -> Ed25519PublicKey | None:
    fragment = method_id.partition("#")[2]
    if not fragment.startswith("z6Mk"):
        return None
    try:
        return multikey.public_key_from_bytes(multikey.decode_public_multibase(fragment))
    except multikey.MultikeyError:
        return None


def _from_controller_document(
    method_id: str, issuer_id: str, document_url: str, how: str
) -> ResolvedKey:
    document = _json(document_url)
    if document.get("id") != issuer_id:
        raise KeyProblem(
            "controller_mismatch",
            _("The document found at the issuer's address belongs to someone else."),
            detail=f"id {document.get('id')!r} != issuer {issuer_id!r}",
        )
    if not _listed_as_assertion(document, method_id, issuer_id):
        raise KeyProblem(
            "not_assertion_method",
            _("The issuer does not list this key as one it signs badges with."),
            detail=method_id,
        )
    method = _embedded_method(document, method_id, issuer_id)
    if method is not None:
        controller = method.get("controller", issuer_id)
        if controller != issuer_id:
            raise KeyProblem(
                "controller_mismatch",
                _("The key is controlled by someone other than the issuer."),
                detail=f"controller {controller!r}",
            )
        return ResolvedKey(_bound_key(method), method_id, issuer_id, how)
    # The issuer's own document lists this exact id, and the id spells the key: bound.
    public = _fragment_key(method_id)
    if public is not None:
        return ResolvedKey(public, method_id, issuer_id, how)
    if "#" not in method_id and method_id.startswith("https://"):
        method_document = _json(method_id)
        if method_document.get("controller") != issuer_id or method_document.get("id") != method_id:
            raise KeyProblem(
                "controller_mismatch",
                _("The key document says it is controlled by someone other than the issuer."),
            )
        return ResolvedKey(_bound_key(method_document), method_id, issuer_id, how)
    raise KeyProblem("key_not_found", _("The issuer's document does not contain this key."))


def resolve(method_id: Any, issuer_id: Any, *, known: SigningKey | None = None) -> ResolvedKey:
    """Resolve ``method_id`` for a credential issued by ``issuer_id``; raise :class:`KeyProblem`.

    ``known``: one of our keys already loaded with its issuer (see :func:`_own_key`)."""
    if not isinstance(method_id, str) or not method_id:
        raise KeyProblem("no_method", _("The signature does not say which key made it."))
    if not isinstance(issuer_id, str) or not issuer_id:
        raise KeyProblem("no_issuer", _("The badge does not say who issued it."))
    if method_id.startswith("did:") and "#" not in method_id:
        raise KeyProblem(
            "method_is_did",
            _(
                "The signature points to a DID, not to one of its keys: a signature must name "
                "the exact key that made it (an address ending in “#…”), so it cannot be "
                "accepted."
            ),
            detail=method_id,
        )
    controller = method_id.partition("#")[0]
    if controller != issuer_id and not method_id.startswith("did:key:"):
        raise KeyProblem(
            "controller_mismatch",
            _("The signing key is not one of the issuer's keys."),
            detail=f"{method_id} is not under {issuer_id}",
        )
    if method_id.startswith(own_did_prefix()):
        return _own_key(method_id, known)
    if method_id.startswith("did:key:"):
        if controller != issuer_id:
            raise KeyProblem(
                "controller_mismatch",
                _("The badge was signed with a did:key that is not the issuer's identifier."),
                detail=f"{controller} != {issuer_id}",
            )
        try:
            raw = multikey.public_key_from_did_key(method_id)
        except multikey.MultikeyError as error:
            raise KeyProblem(
                "key_invalid", _("The did:key is not a valid Ed25519 key."), detail=str(error)
            ) from None
        return ResolvedKey(multikey.public_key_from_bytes(raw), method_id, controller, "did:key")
    if method_id.startswith("did:web:"):
        try:
            url = didweb.did_web_document_url(controller)
        except didweb.DidWebError as error:
            raise KeyProblem(
                "key_invalid", _("The issuer's did:web identifier is malformed."), detail=str(error)
            ) from None
        return _from_controller_document(method_id, issuer_id, url, "did:web")
    if method_id.startswith(("https://", "http://")):
        return _from_controller_document(method_id, issuer_id, controller, "https")
    if method_id.startswith("did:"):
        raise KeyProblem(
            "unsupported_did_method",
            _("The key uses a DID method this verifier does not support."),
            detail=method_id,
        )
    raise KeyProblem(
        "bad_method", _("The signature names its key in a form we cannot use."), detail=method_id
    )
