"""OB 3.0 builder output (DESIGN.md §5), structural checks and e-mail hashing rules."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbadges import ob3
from openbadges.ob3check import check_credential
from tests.openbadges.helpers import ISSUER_DID, NOW, make_achievement, make_credential


def _walk(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [node, *(v for value in node.values() for v in _walk(value))]
    if isinstance(node, list):
        return [node, *(v for value in node for v in _walk(value))]
    return [node]


def test_the_credential_has_the_profiles_exact_shape() -> None:
    credential = make_credential()
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"] == {
        "id": ISSUER_DID,
        "type": ["Profile"],
        "name": "Acme University",
        "url": "https://badges.example.edu/issuers/acme",
        "email": "badges@acme.example.edu",
        "image": {"id": "https://badges.example.edu/media/acme.png", "type": "Image"},
    }
    assert credential["validFrom"] == "2026-03-04T05:06:07Z"
    assert credential["validUntil"] == "2028-03-03T05:06:07Z"
    assert credential["awardedDate"] == "2026-03-04T05:06:07Z"
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert "id" not in subject
    achievement = subject["achievement"]
    assert achievement["id"].endswith("/v/3")
    assert achievement["version"] == "3"
    assert achievement["type"] == ["Achievement"]
    assert achievement["criteria"] == {
        "narrative": "Pass the **final assessment** with at least 70%."
    }
    assert achievement["alignment"][0]["type"] == ["Alignment"]
    assert achievement["creditsAvailable"] == 5
    assert credential["evidence"] == [
        {"id": "https://badges.example.edu/evidence/77", "type": ["Evidence"], "name": "Report"}
    ]
    assert credential["credentialStatus"] == {
        "id": "https://badges.example.edu/status/3#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://badges.example.edu/status/3",
    }


def test_the_recipient_is_a_salted_hash_and_never_plaintext() -> None:
    credential = make_credential(
        recipient=ob3.Recipient("  Learner@Example.COM ", salt="5f0c8e2b9d1a4c6e8f0a2b4c6d8e0f12")
    )
    identity = credential["credentialSubject"]["identifier"]
    assert identity == [
        {
            "type": "IdentityObject",
            "identityType": "emailAddress",
            "hashed": True,
            "identityHash": ob3.identity_hash(
                "learner@example.com", "5f0c8e2b9d1a4c6e8f0a2b4c6d8e0f12"
            ),
            "salt": "5f0c8e2b9d1a4c6e8f0a2b4c6d8e0f12",
        }
    ]
    assert "learner@example.com" not in repr(credential).lower()


def test_each_award_gets_its_own_128_bit_salt() -> None:
    first, second = ob3.Recipient("a@example.com"), ob3.Recipient("a@example.com")
    assert first.salt != second.salt
    assert len(bytes.fromhex(first.salt)) == 16


def test_identity_hash_matches_the_spec_examples() -> None:
    assert ob3.identity_hash("a@example.com", "Kosher") == (
        "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
    )


def test_a_typed_email_matches_after_trimming_and_lowercasing() -> None:
    identity = ob3.email_identity("learner@example.com", "salt")
    assert ob3.email_matches(" Learner@Example.com ", identity)
    assert not ob3.email_matches("learner@example.org", identity)


def test_a_match_ignores_hex_case_and_understands_unhashed_identities() -> None:
    identity = {
        "type": "IdentityObject",
        "identityType": "emailAddress",
        "hashed": True,
        "identityHash": "sha256$B5809D8A92F8858436D7E6B87C12EBC0AE1EAC4BAECC2C0B913AEE2C922EF399",
        "salt": "Kosher",
    }
    assert ob3.email_matches("a@example.com", identity)
    plain = {**identity, "hashed": False, "identityHash": "a@example.com"}
    assert ob3.email_matches("A@example.com", plain)
    assert not ob3.email_matches("a@example.com", {**identity, "identityType": "name"})


def test_it_omits_every_optional_field_that_is_not_given() -> None:
    credential = ob3.build_credential(
        id="urn:uuid:00000000-0000-4000-8000-000000000000",
        issuer=ob3.Profile(id=ISSUER_DID, name="Acme"),
        achievement=ob3.Achievement(
            id="https://x.example/a/v/1", name="A", description="B", criteria_narrative="C"
        ),
        recipient=ob3.Recipient("x@example.com", salt="s"),
        valid_from=NOW,
    )
    assert set(credential) == {
        "@context", "id", "type", "name", "issuer", "validFrom", "credentialSubject"
    }  # fmt: skip
    assert set(credential["credentialSubject"]["achievement"]) == {
        "id", "type", "name", "description", "criteria"
    }  # fmt: skip
    assert check_credential(credential) == []


def test_it_refuses_naive_dates_and_an_inverted_validity_window() -> None:
    with pytest.raises(ValueError, match="timezone"):
        make_credential(valid_from=datetime(2026, 1, 1), valid_until=None)  # noqa: DTZ001
    with pytest.raises(ValueError, match="validUntil"):
        make_credential(valid_until=NOW - timedelta(seconds=1))


optional_text = st.none() | st.text(min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    description=optional_text,
    narrative=optional_text,
    tags=st.lists(st.text(min_size=1, max_size=8), max_size=3),
    evidence=st.lists(
        st.builds(ob3.Evidence, narrative=optional_text, name=optional_text), max_size=3
    ),
    credits=st.none() | st.floats(min_value=0, max_value=120, allow_nan=False),
)
def test_builder_output_has_no_nulls_or_empty_arrays_and_passes_the_checks(
    description: str | None,
    narrative: str | None,
    tags: list[str],
    evidence: list[ob3.Evidence],
    credits: float | None,
) -> None:
    credential = make_credential(
        description=description,
        narrative=narrative,
        evidence=tuple(evidence),
        achievement=make_achievement(tags=tuple(tags), credits_available=credits),
    )
    values = _walk(credential)
    assert None not in values
    assert [] not in values
    assert check_credential(credential) == []


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda c: c["@context"].reverse(), "@context[0]"),
        (lambda c: c.update(type="OpenBadgeCredential"), "$.type must be an array"),
        (lambda c: c["issuer"].update(type="Profile"), "$.issuer.type"),
        (lambda c: c["credentialSubject"].pop("identifier"), "needs an id or at least one"),
        (lambda c: c["credentialSubject"]["achievement"].pop("criteria"), "criteria is required"),
        (lambda c: c["credentialSubject"]["achievement"]["image"].update(type=["Image"]), "Image"),
        (lambda c: c.update(credentialStatus=[c["credentialStatus"]]), "one object"),
        (lambda c: c.update(validFrom="2026-01-01T00:00:00"), "validFrom"),
        (lambda c: c.update(evidence=[]), "empty arrays"),
        (lambda c: c.update(description=None), "null"),
        (lambda c: c["credentialSubject"]["identifier"][0].update(email="x"), "not allowed"),
        (lambda c: c["credentialSubject"]["achievement"].update(inLanguage="english"), "BCP 47"),
        (lambda c: c.update(proof={"type": "DataIntegrityProof"}), "$.proof must be an array"),
    ],
)
def test_the_structural_checks_catch_what_the_strict_schema_rejects(
    mutate: Any, problem: str
) -> None:
    credential = copy.deepcopy(make_credential())
    mutate(credential)
    problems = check_credential(credential)
    assert any(problem in p for p in problems), problems


def test_a_non_ascii_address_is_compared_not_a_crash() -> None:
    """``hmac.compare_digest`` refuses non-ASCII ``str``: found by the fuzz pass (a 500)."""
    plain = {"type": "IdentityObject", "identityType": "emailAddress", "hashed": False}
    assert ob3.email_matches("李华@例子.中国", {**plain, "identityHash": "李华@例子.中国"})
    assert not ob3.email_matches("李华@例子.中国", {**plain, "identityHash": "ada@example.com"})
    assert not ob3.email_matches("ada@example.com", {**plain, "identityHash": "李华@例子.中国"})
