"""Credentials from issuers that are not on this platform, signed in the test."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openbadges import dataintegrity, multikey, ob3

SIGNED_AT = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
LEARNER = "learner@example.org"
SALT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def unsigned(issuer_id: str, **changes: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": list(ob3.CREDENTIAL_CONTEXT),
        "id": "urn:uuid:8a1f1c3e-2c7e-4a43-9a55-0f3c8e0f3a11",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id, "type": ["Profile"], "name": "Example University"},
        "validFrom": "2024-01-01T00:00:00Z",
        "name": "Welding Level 2",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [ob3.email_identity(LEARNER, SALT)],
            "achievement": {
                "id": "https://university.example/achievements/welding-2",
                "type": ["Achievement"],
                "name": "Welding Level 2",
                "description": "Welds steel plate to standard.",
                "criteria": {"narrative": "Pass the practical."},
                "achievementType": "MicroCredential",
                "creditsAvailable": 5,
            },
        },
    }
    credential.update(changes)
    return credential


def sign(credential: dict[str, Any], key: Ed25519PrivateKey, method: str) -> dict[str, Any]:
    return dataintegrity.sign(
        credential, private_key=key, verification_method=method, created=SIGNED_AT
    )


def did_key_credential(key: Ed25519PrivateKey | None = None, **changes: Any) -> dict[str, Any]:
    key = key or Ed25519PrivateKey.generate()
    did = multikey.did_key(key.public_key())
    return sign(
        unsigned(did, **changes), key, multikey.did_key_verification_method(key.public_key())
    )


def did_document(did: str, key: Ed25519PrivateKey, fragment: str = "key-1") -> dict[str, Any]:
    from openbadges import didweb

    return didweb.did_document(did, [didweb.VerificationKey(fragment, key.public_key())])


def tampered(credential: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["achievement"]["name"] = "Welding Level 5"
    return changed
