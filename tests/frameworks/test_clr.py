"""``openbadges.clr``: the CLR 2.0 ``ClrCredential`` builder, without Django."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openbadges import clr, dataintegrity, ob3

ISSUER = ob3.Profile(id="did:web:college.example:issuers:data", name="Data School")
METHOD = "did:web:college.example:issuers:data#key-1"
NOW = datetime(2026, 11, 25, tzinfo=UTC)
PART = ob3.Achievement(
    id="https://college.example/achievements/1/v/1",
    name="Data Cleaning",
    description="Cleans data.",
    criteria_narrative="Pass.",
    achievement_type="MicroCredential",
    credits_available=15,
)
WHOLE = ob3.Achievement(
    id="https://college.example/achievements/2/v/1",
    name="Data Certificate",
    description="All three.",
    criteria_narrative="Hold all three.",
    achievement_type="Certificate",
)


def _clr(key: Ed25519PrivateKey) -> dict[str, object]:
    part = dataintegrity.sign(
        ob3.build_credential(
            id="https://college.example/credentials/1",
            issuer=ISSUER,
            achievement=PART,
            recipient=ob3.Recipient("learner@example.com"),
            valid_from=NOW,
        ),
        private_key=key,
        verification_method=METHOD,
        created=NOW,
    )
    return clr.build_clr(
        id="https://college.example/pathways/completions/1.json",
        issuer=ISSUER,
        name="Data Certificate",
        recipient=ob3.Recipient("learner@example.com"),
        valid_from=NOW,
        credentials=[part],
        achievements=[WHOLE, PART],
        associations=[clr.Association("isChildOf", PART.id, WHOLE.id)],
    )


def test_a_signed_clr_verifies_and_any_change_to_an_embedded_credential_breaks_it() -> None:
    key = Ed25519PrivateKey.generate()
    signed = dataintegrity.sign(_clr(key), private_key=key, verification_method=METHOD, created=NOW)

    assert dataintegrity.verify(signed, public_key=key.public_key(), verification_method=METHOD)
    subject = signed["credentialSubject"]
    assert subject["association"] == [
        {
            "type": "Association",
            "associationType": "isChildOf",
            "sourceId": PART.id,
            "targetId": WHOLE.id,
        }
    ]
    subject["verifiableCredential"][0]["credentialSubject"]["achievement"]["creditsAvailable"] = 40
    assert not dataintegrity.verify(signed, public_key=key.public_key(), verification_method=METHOD)


def test_the_clr_uses_the_clr_context_between_vc_and_ob() -> None:
    built = _clr(Ed25519PrivateKey.generate())
    assert built["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert built["type"] == ["VerifiableCredential", "ClrCredential"]
    assert "partial" not in built


def test_an_unknown_association_type_and_an_empty_clr_are_refused() -> None:
    with pytest.raises(ValueError, match="associationType"):
        clr.association_json(clr.Association("isFriendOf", PART.id, WHOLE.id))
    with pytest.raises(ValueError, match="at least one"):
        clr.build_clr(
            id="https://college.example/x",
            issuer=ISSUER,
            name="x",
            recipient=ob3.Recipient("a@example.com"),
            valid_from=NOW,
            credentials=[],
        )
