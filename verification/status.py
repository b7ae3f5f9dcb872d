"""Revocation and suspension (research/open-badges-spec.md §4, security-reliability.md §1.5).

- this platform's awards: the live state from the database (``badges.state.award_state``);
- ``BitstringStatusListEntry``: the list credential is fetched, its own proof verified with a
  key of the **same issuer**, its purpose matched, then the bit read with
  ``openbadges.statuslist`` under a decompression cap (2^26 bits);
- ``1EdTechRevocationList``: the list is fetched and the credential id looked up
  (``revokedCredential``, also ``revokedCredentials``).

Any failure to fetch or check is ``unknown`` — never "not revoked".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final

from django.utils.translation import gettext as _

from badges.models import Award
from badges.state import State, award_state
from openbadges import statuslist
from verification import checks, fetcher
from verification.report import Check, Status

STATUS_LIST_MAX_BYTES: Final = 2**26 // 8  # 8 MiB of bits (vc-bitstring-status-list #208)
STATUS_LIST_MIN_BITS: Final = 131_072


def _unknown(code: str, message: str, detail: str = "") -> Check:
    return Check("status", Status.UNKNOWN, code, message, detail)


def own_award(award: Award, *, now: datetime) -> Check:
    state = award_state(award, now=now)
    if state.state is State.REVOKED:
        message = _("Revoked by the issuer.")
        if state.reason:
            message += " " + _("Reason: %(reason)s") % {"reason": state.reason}
        return Check("status", Status.FAIL, "revoked", message)
    if state.state is State.SUSPENDED:
        message = _("Suspended by the issuer.")
        if state.reason:
            message += " " + _("Reason: %(reason)s") % {"reason": state.reason}
        return Check("status", Status.FAIL, "suspended", message)
    return Check(
        "status",
        Status.PASS,
        "not_revoked",
        _("Not revoked or suspended (checked in the issuer's records on this platform)."),
    )


def _fetch_json(url: Any) -> dict[str, Any]:
    if not isinstance(url, str) or not url:
        raise ValueError("no URL")
    response = fetcher.fetch(url)
    if response.status != 200:
        raise fetcher.FetchError(f"HTTP {response.status}")
    document = json.loads(response.body)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document


def bitstring(document: dict[str, Any], entry: dict[str, Any], *, now: datetime) -> Check:
    purpose = entry.get("statusPurpose", "revocation")
    try:
        listing = _fetch_json(entry.get("statusListCredential"))
    except (fetcher.FetchError, ValueError) as error:
        return _unknown(
            "STATUS_RETRIEVAL_ERROR",
            _("The issuer's status list could not be retrieved, so revocation is unknown."),
            str(error)[:200],
        )
    if checks.issuer_id(listing) != checks.issuer_id(document):
        return _unknown(
            "STATUS_VERIFICATION_ERROR",
            _("The status list was not published by this badge's issuer."),
        )
    outcome = checks.proof_and_key(listing, now=now)
    if outcome.proof.status is not Status.PASS or outcome.key.status is not Status.PASS:
        return _unknown(
            "STATUS_VERIFICATION_ERROR",
            _("The issuer's status list is not properly signed, so revocation is unknown."),
            outcome.proof.detail or outcome.key.detail,
        )
    subject = listing.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    if subject.get("statusPurpose") != purpose:
        return _unknown(
            "STATUS_VERIFICATION_ERROR", _("The status list is for a different purpose.")
        )
    index_text = entry.get("statusListIndex")
    if not isinstance(index_text, str | int) or not str(index_text).isdigit():
        return _unknown("RANGE_ERROR", _("The badge's status position is malformed."))
    try:
        bits = statuslist.decode(
            str(subject.get("encodedList", "")), max_bytes=STATUS_LIST_MAX_BYTES
        )
    except statuslist.StatusListLengthError:
        return _unknown("STATUS_LIST_LENGTH_ERROR", _("The issuer's status list is too short."))
    except Exception as error:
        return _unknown(
            "STATUS_LIST_DECODE_ERROR",
            _("The issuer's status list could not be read safely."),
            f"{type(error).__name__}: {error}"[:200],
        )
    if len(bits) * 8 < STATUS_LIST_MIN_BITS:
        return _unknown("STATUS_LIST_LENGTH_ERROR", _("The issuer's status list is too short."))
    index = int(index_text)
    if index >= len(bits) * 8:
        return _unknown("RANGE_ERROR", _("The badge's status position is outside the list."))
    if statuslist.is_set(bits, index):
        if purpose == "suspension":
            return Check("status", Status.FAIL, "suspended", _("Suspended by the issuer."))
        return Check("status", Status.FAIL, "revoked", _("Revoked by the issuer."))
    if purpose == "suspension":
        return Check("status", Status.PASS, "not_suspended", _("Not suspended."))
    return Check("status", Status.PASS, "not_revoked", _("Not revoked (issuer's status list)."))


def revocation_list(document: dict[str, Any], entry: dict[str, Any]) -> Check:
    """1EdTech Revocation List Status Method (VCRL 1.0)."""
    try:
        listing = _fetch_json(entry.get("id"))
    except (fetcher.FetchError, ValueError) as error:
        return _unknown(
            "STATUS_RETRIEVAL_ERROR",
            _("The issuer's revocation list could not be retrieved, so revocation is unknown."),
            str(error)[:200],
        )
    if listing.get("issuer") not in (None, checks.issuer_id(document)):
        return _unknown(
            "STATUS_VERIFICATION_ERROR",
            _("The revocation list was not published by this badge's issuer."),
        )
    revoked = listing.get("revokedCredential", listing.get("revokedCredentials", []))
    revoked = revoked if isinstance(revoked, list) else [revoked]
    for item in revoked:
        entry_id = item.get("id") if isinstance(item, dict) else item
        if entry_id == document.get("id") and not (
            isinstance(item, dict) and item.get("revoked") is False
        ):
            reason = item.get("revocationReason", "") if isinstance(item, dict) else ""
            message = _("Revoked by the issuer.")
            if reason:
                message += " " + _("Reason: %(reason)s") % {"reason": reason}
            return Check("status", Status.FAIL, "revoked", message)
    return Check("status", Status.PASS, "not_revoked", _("Not revoked (issuer's revocation list)."))


def check(document: dict[str, Any], *, award: Award | None, now: datetime) -> Check:
    if award is not None:
        return own_award(award, now=now)
    entries = document.get("credentialStatus")
    if entries is None:
        return Check(
            "status",
            Status.SKIP,
            "no_status",
            _("The issuer publishes no revocation status for this badge."),
        )
    entries = entries if isinstance(entries, list) else [entries]
    results: list[Check] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kind = entry.get("type")
        if kind == "BitstringStatusListEntry":
            results.append(bitstring(document, entry, now=now))
        elif kind == "1EdTechRevocationList":
            results.append(revocation_list(document, entry))
        else:
            results.append(
                _unknown(
                    "status_unsupported",
                    _("The badge uses a revocation method this verifier cannot check."),
                    str(kind),
                )
            )
    for wanted in (Status.FAIL, Status.UNKNOWN):
        for result in results:
            if result.status is wanted:
                return result
    return results[0] if results else _unknown("status_unsupported", _("Malformed status entry."))
