"""An award's credential secured as a VC-JWT (``openbadges.vcjwt.sign_credential``).

The stored award stays as it was signed (Data Integrity, DESIGN.md §4); the VC-JWT is made
from it on request: its ``proof`` left out, signed with the issuer's active key (``kid`` that
key's ``JsonWebKey`` method in the DID document). EdDSA is deterministic, so for one stored
text and one key the token is always the same bytes: it is kept in the cache under a key
naming both, and a rotated key makes (and caches) a new one. Read-only: nothing is written,
so the public GETs that serve it change no records.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from badges.models import Award
from common.http import cached_body
from issuers import keys
from issuers.models import KeyStatus, SigningKey


@dataclass(frozen=True)
class Stored:
    """What serving an award's credential needs, read with one query."""

    award_id: uuid.UUID
    text: str
    securing: str  # the issuer's choice, ``issuers.models.Securing``
    key_pk: int | None  # the issuer's active key


def stored(award_id: uuid.UUID) -> Stored | None:
    """The award's signed text, its issuer's securing choice and active key; ``None`` if
    there is no such award."""
    active = SigningKey.objects.filter(issuer=OuterRef("issuer_id"), status=KeyStatus.ACTIVE)
    row = (
        Award.objects.filter(pk=award_id)
        .annotate(key_pk=Subquery(active.values("pk")[:1]))
        .values_list("credential_json", "issuer__securing", "key_pk")
        .first()
    )
    if row is None:
        return None
    text, securing, key_pk = row
    return Stored(award_id, text, securing, key_pk)


def credential_jwt(found: Stored) -> bytes:
    """The award's credential as a compact JWS (ASCII bytes), from the cache when it was made
    before with the same key. Raises ``issuers.keys.SigningUnavailable`` when the issuer has
    no active key or the key cannot be decrypted."""
    key_pk = found.key_pk
    if key_pk is None:
        raise keys.SigningUnavailable("the issuer has no active signing key")
    digest = hashlib.blake2b(found.text.encode("utf-8"), digest_size=16).hexdigest()
    cache_key = f"vcjwt:{found.award_id}:{key_pk}:{digest}"

    def sign() -> bytes:
        key = SigningKey.objects.select_related("issuer").get(pk=key_pk)
        return keys.sign_jwt(json.loads(found.text), key=key).encode("ascii")

    return cached_body(cache_key, sign)


def award_jwt(award: Award) -> str:
    """``award``'s credential as a VC-JWT (see :func:`credential_jwt`)."""
    found = stored(award.pk)
    if found is None:
        raise keys.SigningUnavailable("the award no longer exists")
    return credential_jwt(found).decode("ascii")
