"""Multikey / multibase / did:key encodings against the 1EdTech test key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openbadges import multikey
from tests.openbadges.helpers import load_fixture, vector_private_key

KEY = load_fixture("test-key.json")
SECRET_MULTIBASE = (
    "zrv2bqTbNwCTsRrHFcJCPjVAduh4Ezcnoq1A3ZxH1GWTNkxipLVuaAoMFmze2gFN9oNXfJjufxSHWVZzsJiUsMHFMcx"
)


def test_it_encodes_the_vector_public_key_as_multibase_and_did_key() -> None:
    public = multikey.public_bytes(vector_private_key().public_key())
    assert public.hex() == KEY["publicKeyHex"]
    assert multikey.public_multibase(public) == KEY["publicKeyMultibase"]
    assert multikey.did_key(public) == KEY["did"]
    assert multikey.did_key_verification_method(public) == KEY["verificationMethod"]


def test_it_decodes_the_vector_secret_key_multibase() -> None:
    seed = bytes.fromhex(KEY["seedHex"])
    # The vector publishes the 64-byte (seed + public key) form; we emit the 32-byte form.
    assert multikey.decode_secret_multibase(SECRET_MULTIBASE) == seed
    assert multikey.decode_secret_multibase(multikey.secret_multibase(seed)) == seed
    assert multikey.secret_multibase(seed).startswith("z3u2")


def test_it_reads_the_key_back_out_of_a_did_key() -> None:
    assert multikey.public_key_from_did_key(KEY["verificationMethod"]).hex() == KEY["publicKeyHex"]
    with pytest.raises(multikey.MultikeyError):
        multikey.public_key_from_did_key(KEY["did"] + "#z6MkOther")


def test_it_refuses_a_non_ed25519_or_non_base58_multibase() -> None:
    with pytest.raises(multikey.MultikeyError):
        multikey.decode_public_multibase("u7QE")  # base64url multibase
    with pytest.raises(multikey.MultikeyError):
        multikey.decode_public_multibase("z0OIl")  # characters outside base58btc
    with pytest.raises(multikey.MultikeyError):
        multikey.decode_public_multibase(SECRET_MULTIBASE)  # a secret key, wrong codec


def test_generated_keys_are_fresh_and_usable() -> None:
    seed_a, public_a = multikey.generate_ed25519()
    seed_b, _ = multikey.generate_ed25519()
    assert seed_a != seed_b
    key = multikey.private_key_from_bytes(seed_a)
    assert multikey.public_bytes(key.public_key()) == public_a
    assert multikey.public_multibase(public_a).startswith("z6Mk")


@given(st.binary(max_size=80))
def test_base58btc_round_trips_including_leading_zero_bytes(data: bytes) -> None:
    assert multikey.base58btc_decode(multikey.base58btc_encode(data)) == data
