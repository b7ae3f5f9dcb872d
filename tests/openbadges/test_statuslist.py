"""Bitstring Status List v1.0 encoding, bit order, bomb-proof decoding and list credentials."""

from __future__ import annotations

import base64
import gzip
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openbadges import dataintegrity, statuslist
from openbadges.statuslist import (
    MIN_ENTRIES,
    StatusListCredential,
    StatusListError,
    StatusListLengthError,
    StatusRangeError,
)
from tests.openbadges.helpers import ISSUER_DID, NOW, VERIFICATION_METHOD, vector_private_key

# Bitstring Status List v1.0, Example "BitstringStatusListCredential": an all-zero list of
# 131,072 entries as the spec prints it.
SPEC_EMPTY_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def test_the_spec_example_list_decodes_to_131072_clear_entries() -> None:
    bits = statuslist.decode(SPEC_EMPTY_LIST)

    assert len(bits) * 8 == MIN_ENTRIES
    assert not any(statuslist.is_set(bits, i) for i in (0, 1, 7, 8, 94567, MIN_ENTRIES - 1))


def test_index_zero_is_the_most_significant_bit_of_the_first_byte() -> None:
    """§3.1: "the first index ... is located at the left-most bit in the bitstring"."""
    bits = statuslist.new_bitstring()
    statuslist.set_bit(bits, 0)
    statuslist.set_bit(bits, 9)
    statuslist.set_bit(bits, MIN_ENTRIES - 1)

    assert bits[0] == 0b1000_0000
    assert bits[1] == 0b0100_0000
    assert bits[-1] == 0b0000_0001
    assert [i for i in range(16) if statuslist.is_set(bits, i)] == [0, 9]


def test_encoding_is_gzip_then_unpadded_base64url_with_multibase_u() -> None:
    bits = statuslist.new_bitstring()
    statuslist.set_bit(bits, 94567)

    encoded = statuslist.encode(bits)

    assert encoded.startswith("u")
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    body = encoded[1:]
    raw = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert raw == bytes(bits)
    assert statuslist.encode(bits) == encoded  # deterministic (GZIP mtime 0)


@given(st.sets(st.integers(min_value=0, max_value=MIN_ENTRIES - 1), max_size=50))
def test_any_set_of_entries_survives_encode_and_decode(indexes: set[int]) -> None:
    bits = statuslist.new_bitstring()
    for index in indexes:
        statuslist.set_bit(bits, index)

    decoded = statuslist.decode(statuslist.encode(bits))

    assert {i for i in indexes if statuslist.is_set(decoded, i)} == indexes
    assert sum(bin(b).count("1") for b in decoded) == len(indexes)


def test_clearing_a_bit_reinstates_only_that_entry() -> None:
    bits = statuslist.new_bitstring()
    statuslist.set_bit(bits, 41)
    statuslist.set_bit(bits, 42)
    statuslist.set_bit(bits, 41, False)

    assert not statuslist.is_set(bits, 41)
    assert statuslist.is_set(bits, 42)


def test_a_gzip_bomb_is_refused_without_expanding_it() -> None:
    # 1 GiB of zeros compresses to about 1 MiB; decoding must stop at the cap.
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    bomb = b"".join(compressor.compress(chunk) for _ in range(1024)) + compressor.flush()
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")

    with pytest.raises(StatusListError, match="expands beyond"):
        statuslist.decode(encoded, max_bytes=16 * 1024 * 1024)


def test_a_list_shorter_than_the_minimum_is_a_length_error() -> None:
    short = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(1024))).decode().rstrip("=")

    with pytest.raises(StatusListLengthError):
        statuslist.decode(short)
    with pytest.raises(StatusListLengthError):
        statuslist.encode(bytes(1024))


@pytest.mark.parametrize(
    "encoded",
    [
        "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",  # no multibase
        "zH4sIAAAAAAAAA",  # base58btc prefix
        "u!!!not-base64",
        "u" + base64.urlsafe_b64encode(b"not gzip at all").decode().rstrip("="),
        "u" + base64.urlsafe_b64encode(gzip.compress(bytes(16384))[:40]).decode().rstrip("="),
        "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA==",  # padded
    ],
)
def test_malformed_lists_are_refused(encoded: str) -> None:
    with pytest.raises(StatusListError):
        statuslist.decode(encoded)


def test_an_index_outside_the_list_is_a_range_error() -> None:
    bits = statuslist.new_bitstring()

    with pytest.raises(StatusRangeError):
        statuslist.is_set(bits, MIN_ENTRIES)
    with pytest.raises(StatusRangeError):
        statuslist.set_bit(bits, -1)


def _list_credential(purpose: str, revoked: tuple[int, ...]) -> dict[str, object]:
    bits = statuslist.new_bitstring()
    for index in revoked:
        statuslist.set_bit(bits, index)
    return statuslist.build_status_list_credential(
        StatusListCredential(
            id="https://badges.example.edu/status/1",
            issuer=ISSUER_DID,
            status_purpose=purpose,
            encoded_list=statuslist.encode(bits),
            valid_from=NOW,
            ttl_ms=60_000,
        )
    )


def _entry(index: int, purpose: str = "revocation") -> dict[str, object]:
    return {
        "id": f"https://badges.example.edu/status/1#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": "https://badges.example.edu/status/1",
    }


def test_the_list_credential_signs_and_verifies_in_json_ld_safe_mode() -> None:
    unsigned = _list_credential("revocation", (5,))
    key = vector_private_key()

    signed = dataintegrity.sign(
        unsigned, private_key=key, verification_method=VERIFICATION_METHOD, created=NOW
    )

    assert signed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert signed["credentialSubject"]["ttl"] == 60_000
    assert dataintegrity.verify(
        signed, public_key=key.public_key(), verification_method=VERIFICATION_METHOD
    )


def test_an_entry_reads_its_own_bit_in_its_list() -> None:
    revocations = _list_credential("revocation", (5,))

    assert statuslist.check_entry(_entry(5), revocations).is_set
    assert not statuslist.check_entry(_entry(6), revocations).is_set


def test_an_entry_is_not_read_against_a_list_of_another_purpose() -> None:
    suspensions = _list_credential("suspension", (5,))

    with pytest.raises(StatusListError, match="statusPurpose"):
        statuslist.check_entry(_entry(5, "revocation"), suspensions)


def test_an_entry_is_not_read_against_another_list() -> None:
    revocations = _list_credential("revocation", (5,))
    entry = {**_entry(5), "statusListCredential": "https://evil.example/status/1"}

    with pytest.raises(StatusListError, match="not the one"):
        statuslist.check_entry(entry, revocations)
