"""The tool's signing keys, one set per institution, and their rotation.

LTI 1.3 tools sign with RS256 (1EdTech Security Framework §6), so these are RSA 2048 keys.
The institution's keyset (``/lti/<institution>/jwks.json``) lists the active key, the next
one as soon as it exists, and retired keys for :data:`RETIRED_LISTED` after they stop
signing: a platform that cached the keyset a day ago still checks today's signatures, and a
platform that fetched it today already knows tomorrow's key.

:func:`rotate` runs daily (Celery beat, and ``manage.py rotate_lti_keys``): a key older than
:data:`KEY_LIFETIME` gets a successor published, which takes over :data:`PUBLISH_AHEAD`
later.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import transaction
from django.utils import timezone
from jwcrypto.jwk import JWK

from issuers.models import Institution
from lti.models import KeyState, ToolKey

KEY_LIFETIME: Final = timedelta(days=180)
PUBLISH_AHEAD: Final = timedelta(days=7)
RETIRED_LISTED: Final = timedelta(days=7)


def public_jwk(public_key_pem: str) -> dict[str, Any]:
    """The public key as a JWK with the ``kid`` pylti1p3 puts in our JWT headers (the RFC 7638
    thumbprint), ``alg`` RS256 and ``use`` sig."""
    key = JWK.from_pem(public_key_pem.encode("ascii"))
    found: dict[str, Any] = json.loads(key.export_public())
    found["kid"] = key.thumbprint()
    found["alg"] = "RS256"
    found["use"] = "sig"
    return found


def _new_key(institution: Institution, state: KeyState) -> ToolKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    now = timezone.now()
    return ToolKey.objects.create(
        institution=institution,
        kid=public_jwk(public_pem)["kid"],
        private_key_pem=private_pem,
        public_key_pem=public_pem,
        state=state,
        activated_at=now if state == KeyState.ACTIVE else None,
    )


@transaction.atomic
def active_key(institution: Institution) -> ToolKey:
    """The key the tool signs with for ``institution``, made on first use."""
    Institution.objects.select_for_update().filter(pk=institution.pk).first()
    key = ToolKey.objects.filter(institution=institution, state=KeyState.ACTIVE).first()
    return key if key is not None else _new_key(institution, KeyState.ACTIVE)


def keyset(institution: Institution) -> dict[str, list[dict[str, Any]]]:
    """The institution's public keyset: active, next and recently retired keys. Reads only
    the public halves, so it is served even when the key-encryption key is not at hand (a key
    made on first use needs it: :class:`~issuers.keys.SigningUnavailable` then)."""
    if not ToolKey.objects.filter(institution=institution, state=KeyState.ACTIVE).exists():
        with transaction.atomic():
            active_key(institution)
    since = timezone.now() - RETIRED_LISTED
    keys = ToolKey.objects.filter(institution=institution).exclude(
        state=KeyState.RETIRED, retired_at__lt=since
    )
    pems = keys.order_by("created_at").values_list("public_key_pem", flat=True)
    return {"keys": [public_jwk(pem) for pem in pems]}


@transaction.atomic
def rotate(institution: Institution, *, now: Any = None) -> str:
    """One rotation step for ``institution``; what it did (for the command's output)."""
    now = now or timezone.now()
    Institution.objects.select_for_update().filter(pk=institution.pk).first()
    active = ToolKey.objects.filter(institution=institution, state=KeyState.ACTIVE).first()
    if active is None:
        _new_key(institution, KeyState.ACTIVE)
        return "created"
    upcoming = ToolKey.objects.filter(institution=institution, state=KeyState.NEXT).first()
    if upcoming is not None:
        if upcoming.created_at + PUBLISH_AHEAD <= now:
            active.state, active.retired_at = KeyState.RETIRED, now
            active.save(update_fields=["state", "retired_at"])
            upcoming.state, upcoming.activated_at = KeyState.ACTIVE, now
            upcoming.save(update_fields=["state", "activated_at"])
            return "switched"
        return "waiting"
    if (active.activated_at or active.created_at) + KEY_LIFETIME <= now:
        _new_key(institution, KeyState.NEXT)
        return "published"
    return "current"


def rotate_all() -> dict[str, str]:
    """:func:`rotate` for every institution that has a tool key."""
    done: dict[str, str] = {}
    for institution in Institution.objects.filter(lti_keys__isnull=False).distinct():
        done[institution.slug] = rotate(institution)
    return done
