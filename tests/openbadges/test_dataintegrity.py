"""eddsa-rdfc-2022 sign/verify against the 1EdTech vector, round trips and forgeries."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from openbadges import dataintegrity, jsonld, ob3
from openbadges.multikey import (
    generate_ed25519,
    multibase_decode,
    private_key_from_bytes,
    public_key_from_bytes,
)
from tests.openbadges.helpers import (
    NOW,
    VERIFICATION_METHOD,
    make_achievement,
    make_credential,
    vector,
    vector_private_key,
)

VECTOR_CREATED = datetime(2010, 1, 1, 19, 23, 24, tzinfo=UTC)


def sign_vector() -> dict[str, Any]:
    tv = vector()
    return dataintegrity.sign(
        tv["credential"],
        private_key=vector_private_key(),
        verification_method=tv["proofOptions"]["verificationMethod"],
        created=VECTOR_CREATED,
    )


def test_it_reproduces_the_1edtech_document_and_proof_hashes() -> None:
    tv = vector()
    config = dataintegrity.proof_config(tv["credential"], tv["proofOptions"])
    document_hash = hashlib.sha256(jsonld.canonicalize(tv["credential"]).encode()).hexdigest()
    proof_hash = hashlib.sha256(jsonld.canonicalize(config).encode()).hexdigest()
    assert document_hash == tv["expected"]["documentHashHex"]
    assert proof_hash == tv["expected"]["proofHashHex"]


def test_it_reproduces_the_1edtech_proof_value_byte_for_byte() -> None:
    signed = sign_vector()
    proof = signed["proof"][0]
    expected = {**vector()["proofOptions"], "proofValue": vector()["expected"]["proofValue"]}
    assert proof == expected


def test_hash_data_is_proof_config_hash_then_document_hash() -> None:
    tv = vector()
    data = dataintegrity.hash_data(
        tv["credential"], dataintegrity.proof_config(tv["credential"], tv["proofOptions"])
    )
    expected = tv["expected"]
    assert data.hex() == expected["proofHashHex"] + expected["documentHashHex"]
    # The reversed order must not verify: the vector's signature covers proof-first bytes.
    signature_bytes = multibase_decode(expected["proofValue"])
    swapped = bytes.fromhex(expected["documentHashHex"] + expected["proofHashHex"])
    public_key = vector_private_key().public_key()
    public_key.verify(signature_bytes, data)
    with pytest.raises(InvalidSignature):
        public_key.verify(signature_bytes, swapped)


def test_proof_config_carries_the_documents_context() -> None:
    tv = vector()
    config = dataintegrity.proof_config(tv["credential"], tv["proofOptions"])
    assert config["@context"] == tv["credential"]["@context"]
    assert "proofValue" not in config


def test_it_formats_created_as_utc_seconds_with_z() -> None:
    tz = timezone(timedelta(hours=8))
    created = datetime(2026, 5, 6, 15, 4, 5, 999_999, tzinfo=tz)
    signed = dataintegrity.sign(
        make_credential(),
        private_key=vector_private_key(),
        verification_method=VERIFICATION_METHOD,
        created=created,
    )
    assert signed["proof"][0]["created"] == "2026-05-06T07:04:05Z"


def test_it_refuses_a_naive_created() -> None:
    with pytest.raises(dataintegrity.ProofError):
        dataintegrity.sign(
            make_credential(),
            private_key=vector_private_key(),
            verification_method=VERIFICATION_METHOD,
            created=datetime(2026, 1, 1),  # noqa: DTZ001 - the point of the test
        )


def test_it_does_not_modify_the_document_it_signs() -> None:
    credential = make_credential()
    before = copy.deepcopy(credential)
    dataintegrity.sign(
        credential,
        private_key=vector_private_key(),
        verification_method=VERIFICATION_METHOD,
        created=NOW,
    )
    assert credential == before


def test_it_verifies_the_1edtech_vector_and_rejects_another_key() -> None:
    signed = sign_vector()
    assert dataintegrity.verify(signed, public_key=vector_private_key().public_key())
    _, other_public = generate_ed25519()
    result = dataintegrity.verify(signed, public_key=public_key_from_bytes(other_public))
    assert not result.verified
    assert result.error == "invalid signature"


def test_it_verifies_a_single_object_proof_as_the_vector_publishes_it() -> None:
    signed = sign_vector()
    signed["proof"] = signed["proof"][0]
    assert dataintegrity.verify(signed, public_key=vector_private_key().public_key())


def test_it_rejects_a_proof_whose_purpose_is_not_assertion_method() -> None:
    signed = sign_vector()
    signed["proof"][0]["proofPurpose"] = "authentication"
    assert not dataintegrity.verify(signed, public_key=vector_private_key().public_key())


def test_it_rejects_a_credential_with_an_undefined_term_added_after_signing() -> None:
    signed = sign_vector()
    signed["credentialSubject"]["grade"] = "A+"
    result = dataintegrity.verify(signed, public_key=vector_private_key().public_key())
    assert not result.verified
    assert "SafeModeError" in (result.error or "")


# ---- property tests: round trip and forgeries ----------------------------------------------

edge_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=24
)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.binary(min_size=32, max_size=32),
    name=edge_text,
    narrative=edge_text,
    tags=st.lists(edge_text, max_size=3),
)
def test_sign_then_verify_round_trips(
    seed: bytes, name: str, narrative: str, tags: list[str]
) -> None:
    key = private_key_from_bytes(seed)
    credential = make_credential(
        achievement=make_achievement(name=name, tags=tuple(tags)), narrative=narrative
    )
    signed = dataintegrity.sign(
        credential, private_key=key, verification_method=VERIFICATION_METHOD, created=NOW
    )
    assert dataintegrity.verify(signed, public_key=key.public_key())


SIGNED = dataintegrity.sign(
    make_credential(),
    private_key=vector_private_key(),
    verification_method=VERIFICATION_METHOD,
    created=NOW,
)
SIGNED_BYTES = json.dumps(SIGNED, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(position=st.integers(0, len(SIGNED_BYTES) - 1), byte=st.integers(0, 255))
def test_any_one_byte_change_is_rejected(position: int, byte: int) -> None:
    assume(SIGNED_BYTES[position] != byte)
    mutated = bytearray(SIGNED_BYTES)
    mutated[position] = byte
    try:
        document = json.loads(mutated.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        assume(False)
    assume(isinstance(document, dict) and document != SIGNED)
    assert not dataintegrity.verify(document, public_key=vector_private_key().public_key())


def _string_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, str):
        return [path]
    if not isinstance(node, dict | list):
        return []
    items = node.items() if isinstance(node, dict) else enumerate(node)
    return [p for key, value in items for p in _string_paths(value, (*path, key))]


STRING_PATHS = _string_paths(SIGNED)


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(STRING_PATHS), suffix=st.text(min_size=1, max_size=3))
def test_any_one_field_change_is_rejected(path: tuple[Any, ...], suffix: str) -> None:
    document = copy.deepcopy(SIGNED)
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = parent[path[-1]] + suffix
    assert not dataintegrity.verify(document, public_key=vector_private_key().public_key())


def test_builder_output_signs_and_passes_with_every_optional_field_absent() -> None:
    credential = ob3.build_credential(
        id="https://badges.example.edu/credentials/1",
        issuer=ob3.Profile(id=VERIFICATION_METHOD.split("#")[0], name="Acme"),
        achievement=ob3.Achievement(
            id="https://badges.example.edu/achievements/1/v/1",
            name="A",
            description="B",
            criteria_narrative="C",
        ),
        recipient=ob3.Recipient("x@example.com"),
        valid_from=NOW,
    )
    key = vector_private_key()
    signed = dataintegrity.sign(
        credential, private_key=key, verification_method=VERIFICATION_METHOD, created=NOW
    )
    assert dataintegrity.verify(signed, public_key=key.public_key())
