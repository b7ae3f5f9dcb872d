"""Revocation and suspension (research/open-badges-spec.md §4, security-reliability.md §1.5).

- this platform's awards: the live state from the database (``badges.state.award_state``);
- ``BitstringStatusListEntry``: the list credential is fetched, its own proof verified with a
  key of the **same issuer**, its purpose matched, then the bit read with
  ``openbadges.statuslist`` under a decompression cap (2^26 bits);
- ``1EdTechRevocationList``: the list is fetched and the credential id looked up
  (``revokedCredential``, also ``revokedCredentials``).

Any failure to fetch or check is ``unknown`` — never "not revoked".

A remote list is kept (:mod:`verification.cache`) for its ``ttl`` and ``max-age`` once its
proof checked out, so the credentials of one issuer share one download and one check of the
list's signature; a list that failed its check is never kept. The lists of our own issuers
are not fetched at all for our awards, and otherwise answered in process.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext as _

from badges.models import Award, StatusEntry
from badges.state import State, award_state
from issuers.keys import issuer_did
from openbadges import statuslist
from verification import cache as vcache
from verification import checks, fetcher
from verification.keyresolve import is_own_origin
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


def _fetch_json(url: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON object at ``url`` and the answer's headers."""
    if not isinstance(url, str) or not url:
        raise ValueError("no URL")
    response = fetcher.fetch(url)
    if response.status != 200:
        raise fetcher.FetchError(f"HTTP {response.status}")
    document = json.loads(response.body)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document, response.headers


def _kept(kind: str, url: Any) -> Any:
    """What :mod:`verification.cache` holds for a remote ``url``, else ``None``."""
    if not isinstance(url, str) or not url or is_own_origin(url):
        return None
    return vcache.get(kind, url)


def _fetch_kept(kind: str, url: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """``(document, headers)`` fetched now; raises as :func:`_fetch_json`, also when the
    host's failure is remembered (for a few seconds, :data:`cache.NEGATIVE_SECONDS`)."""
    kept = _kept(kind, url)
    if isinstance(kept, vcache.Failure):
        raise fetcher.FetchError(kept.detail)
    try:
        return _fetch_json(url)
    except (fetcher.OverBudget, fetcher.FetchTimeout, fetcher.BlockedURL):
        raise  # our budget or deadline, or a refusal decided afresh each time (keyresolve)
    except (fetcher.FetchError, ValueError) as error:
        if isinstance(url, str) and url and not is_own_origin(url):
            failure = vcache.Failure("STATUS_RETRIEVAL_ERROR", str(error)[:200])
            vcache.put(kind, url, failure, vcache.NEGATIVE_SECONDS)
        raise


def _retrieval_failed(error: Exception) -> Check:
    return _unknown(
        "STATUS_RETRIEVAL_ERROR",
        _("The issuer's status list could not be retrieved, so revocation is unknown."),
        str(error)[:200],
    )


def bitstring(document: dict[str, Any], entry: dict[str, Any], *, now: datetime) -> Check:
    purpose = entry.get("statusPurpose", "revocation")
    url = entry.get("statusListCredential")
    kept = _kept("status", url)
    listing = kept if isinstance(kept, dict) else None
    if listing is None:
        try:
            listing, headers = _fetch_kept("status", url)
        except (fetcher.FetchError, ValueError) as error:
            return _retrieval_failed(error)
    if checks.issuer_id(listing) != checks.issuer_id(document):
        return _unknown(
            "STATUS_VERIFICATION_ERROR",
            _("The status list was not published by this badge's issuer."),
        )
    subject = listing.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    if kept is None:
        # Checked on every download; a list kept in the cache passed this check when it was
        # kept, and only then (never across a failed check of the list's own signature).
        # A list is judged as of when it was fetched: one signed while this verification
        # ran (a list re-signed on request, as ours are) is not "dated in the future".
        outcome = checks.proof_and_key(listing, now=max(now, timezone.now()))
        if outcome.proof.status is not Status.PASS or outcome.key.status is not Status.PASS:
            return _unknown(
                "STATUS_VERIFICATION_ERROR",
                _("The issuer's status list is not properly signed, so revocation is unknown."),
                outcome.proof.detail or outcome.key.detail,
            )
        if isinstance(url, str) and not is_own_origin(url):
            vcache.put("status", url, listing, vcache.status_seconds(headers, subject.get("ttl")))
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
    url = entry.get("id")
    kept = _kept("revocation", url)
    listing = kept if isinstance(kept, dict) else None
    if listing is None:
        try:
            listing, headers = _fetch_kept("revocation", url)
        except (fetcher.FetchError, ValueError) as error:
            return _unknown(
                "STATUS_RETRIEVAL_ERROR",
                _("The issuer's revocation list could not be retrieved, so revocation is unknown."),
                str(error)[:200],
            )
        if isinstance(url, str) and not is_own_origin(url):
            # Not signed: kept for what its host allows (``max-age``), no ``ttl`` of its own.
            vcache.put("revocation", url, listing, vcache.status_seconds(headers, None))
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


def _award_at(document: dict[str, Any], entry: Any) -> Award | None:
    """The award of ours whose status entry ``entry`` is, for a copy of it that is not the
    stored text (one bound to a wallet, say): the issuer's records then say why its bit is
    set (a revoked award also sets the suspension bit it carries). ``None`` for any entry
    of another origin, or another issuer's."""
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        return None
    url, index = entry.get("statusListCredential"), str(entry.get("statusListIndex", ""))
    if not isinstance(url, str) or not is_own_origin(url) or not index.isdigit():
        return None
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    if match.url_name != "status_list":
        return None
    found = (
        StatusEntry.objects.select_related("award__issuer")
        .filter(
            status_list_id=match.kwargs["status_list_id"], index=int(index), award__isnull=False
        )
        .first()
    )
    if found is None or found.award is None:
        return None
    if issuer_did(found.award.issuer) != checks.issuer_id(document):
        return None
    return found.award


def check(document: dict[str, Any], *, award: Award | None, now: datetime) -> Check:
    if award is not None:
        return own_award(award, now=now)
    entries = document.get("credentialStatus")
    carried = entries[0] if isinstance(entries, list) and len(entries) == 1 else entries
    if (ours := _award_at(document, carried)) is not None:
        return own_award(ours, now=now)
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
