"""Open Badges 2.0 hosted and signed assertions (research §4.2, §5; S-08).

Hosted: the assertion is fetched again at its own ``id`` (the hosted copy is the truth; a
pasted copy is only a pointer), its BadgeClass and Issuer are fetched, and the assertion and
BadgeClass must be within the issuer's verification scope. Signed: the JWS is verified with
the ``creator`` key, which must be listed in the issuer's ``publicKey`` and owned by the issuer;
the issuer's ``revocationList`` is consulted. Every fetch goes through the safe fetcher.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from openbadges import ob2verify, ob3
from verification import checks, fetcher
from verification.report import Check, Report, Status


class _Gone(Exception):
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document


def _get(url: Any) -> dict[str, Any]:
    if not isinstance(url, str):
        raise ValueError("no URL")
    response = fetcher.fetch(url)
    if response.status == 410:
        try:
            body = json.loads(response.body)
        except ValueError:
            body = {}
        raise _Gone(body if isinstance(body, dict) else {})
    if response.status != 200:
        raise fetcher.FetchError(f"HTTP {response.status} from {url}")
    document = json.loads(response.body)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    return document


def _node(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return _get(value)


def _revoked(report: Report, reason: str) -> None:
    message = _("Revoked by the issuer.")
    if reason:
        message += " " + _("Reason: %(reason)s") % {"reason": reason}
    report.add(Check("status", Status.FAIL, "revoked", message))


def _unknown(report: Report, error: Exception) -> None:
    report.add(
        Check(
            "proof",
            Status.UNKNOWN,
            "fetch_failed",
            _("The issuer's documents could not be retrieved, so the badge could not be checked."),
            str(error)[:200],
        )
    )


def claims(
    assertion: dict[str, Any], badge: dict[str, Any], issuer: dict[str, Any]
) -> dict[str, Any]:
    from urllib.parse import urlsplit

    return {
        "name": str(badge.get("name", "")),
        "issuer": {
            "id": str(issuer.get("id", "")),
            "name": str(issuer.get("name", "")),
            "url": str(issuer.get("url", "")),
            "domain": urlsplit(str(issuer.get("id", ""))).netloc,
            "domain_verified": False,
        },
        "achievement": {
            "id": str(badge.get("id", "")),
            "name": str(badge.get("name", "")),
            "description": str(badge.get("description", "")),
            "criteria": str((badge.get("criteria") or {}).get("narrative", ""))
            if isinstance(badge.get("criteria"), dict)
            else "",
            "tags": [t for t in badge.get("tags", []) if isinstance(t, str)]
            if isinstance(badge.get("tags"), list)
            else [],
        },
        "skills": [
            {"name": str(a.get("targetName", "")), "url": str(a.get("targetUrl", ""))}
            for a in (badge.get("alignment") or [])
            if isinstance(a, dict)
        ],
        "evidence": [],
        "valid_from": str(assertion.get("issuedOn", "")),
        "valid_until": str(assertion.get("expires", "") or ""),
    }


def verify(
    report: Report, assertion: dict[str, Any], email: str, *, jws: str = "", now: datetime
) -> None:
    """All checks of an OB 2.0 assertion (``jws`` when it came signed)."""
    kind = "signed" if jws else ob2verify.verification_type(assertion)
    report.format = f"ob2-{kind or 'hosted'}"
    kinds = ob2verify.types_of(assertion)
    if not jws and "Assertion" not in kinds and kinds & {"BadgeClass", "Issuer", "Profile"}:
        report.add(
            Check(
                "format",
                Status.FAIL,
                "not_a_badge",
                _(
                    "This describes a badge or an issuer, not a badge awarded to someone. "
                    "Give the awarded badge (its link, JSON or image) instead."
                ),
                ", ".join(sorted(kinds)),
            )
        )
        return
    if kind == "signed" and not jws:
        report.add(
            Check(
                "proof",
                Status.UNKNOWN,
                "signature_missing",
                _(
                    "This is a signed badge: give the signed token (or the baked image), "
                    "not its JSON."
                ),
            )
        )
        return
    try:
        if kind == "hosted" or not kind:
            # The hosted copy at the assertion's id is the source of truth.
            assertion = _get(assertion.get("id"))
        badge = _node(assertion.get("badge"))
        issuer = _node(badge.get("issuer"))
    except _Gone as gone:
        _revoked(report, str(gone.document.get("revocationReason", "")))
        return
    except (fetcher.FetchError, ValueError) as error:
        _unknown(report, error)
        return
    report.credential = assertion
    report.claims = claims(assertion, badge, issuer)
    problems = ob2verify.structure_problems(assertion, badge, issuer)
    if problems:
        report.add(
            Check(
                "structure",
                Status.FAIL,
                "structure",
                _("The credential is not a well-formed Open Badge: %(problem)s")
                % {"problem": problems[0]},
                "; ".join(problems),
            )
        )
    else:
        report.add(
            Check("structure", Status.PASS, "ok", _("Well-formed Open Badges 2.0 assertion."))
        )
    if kind == "signed":
        _signed(report, assertion, issuer, jws)
    else:
        _hosted(report, assertion, badge, issuer)
    date = ob2verify.date_problem(assertion, now)
    messages = {
        "bad_date": _("The badge's dates are malformed."),
        "not_yet_valid": _("The badge is dated in the future."),
        "expired": _("The badge expired on %(date)s.") % {"date": assertion.get("expires")},
    }
    if date:
        report.add(Check("validity", Status.FAIL, date, messages[date]))
    else:
        report.add(Check("validity", Status.PASS, "ok", _("Within its validity period.")))
    if assertion.get("revoked") is True:
        _revoked(report, str(assertion.get("revocationReason", "")))
    elif report.check("status") is None:
        report.add(
            Check(
                "status",
                Status.PASS,
                "not_revoked",
                _("Not revoked: the issuer still publishes this badge."),
            )
        )
    report.add(_recipient(assertion.get("recipient"), email))


def _hosted(
    report: Report, assertion: dict[str, Any], badge: dict[str, Any], issuer: dict[str, Any]
) -> None:
    report.add(
        Check(
            "proof",
            Status.PASS,
            "hosted",
            _("The issuer's website serves this badge (Open Badges 2.0 hosted verification)."),
        )
    )
    assertion_id, badge_id = str(assertion.get("id", "")), str(badge.get("id", ""))
    if not ob2verify.in_scope(assertion_id, issuer) or not ob2verify.in_scope(
        badge_id, issuer, starts_with=False
    ):
        report.add(
            Check(
                "issuer_key",
                Status.FAIL,
                "out_of_scope",
                _("The badge is hosted on a website the issuer does not vouch for."),
                f"{assertion_id} / {badge_id}",
            )
        )
        return
    report.add(
        Check("issuer_key", Status.PASS, "in_scope", _("Hosted on the issuer's own website."))
    )


def _signed(report: Report, assertion: dict[str, Any], issuer: dict[str, Any], jws: str) -> None:
    node = assertion.get("verification", assertion.get("verify"))
    creator = node.get("creator") if isinstance(node, dict) else None
    listed = issuer.get("publicKey")
    listed = listed if isinstance(listed, list) else [listed]
    listed_ids = {k.get("id") if isinstance(k, dict) else k for k in listed}
    if not isinstance(creator, str) or creator not in listed_ids:
        report.add(
            Check(
                "issuer_key",
                Status.FAIL,
                "not_issuer_key",
                _("The signing key is not one of the issuer's keys."),
                str(creator),
            )
        )
        report.add(Check("proof", Status.SKIP, "key_unavailable", _("Not checked.")))
        return
    try:
        key = _get(creator)
    except (fetcher.FetchError, ValueError, _Gone) as error:
        _unknown(report, error)
        return
    if key.get("owner") != issuer.get("id") or key.get("id") != creator:
        report.add(
            Check(
                "issuer_key",
                Status.FAIL,
                "not_issuer_key",
                _("The key document says it is controlled by someone other than the issuer."),
            )
        )
        return
    report.add(
        Check("issuer_key", Status.PASS, "listed", _("Signed with a key the issuer publishes."))
    )
    try:
        ob2verify.verify_signed(jws, str(key.get("publicKeyPem", "")))
    except ob2verify.Ob2Error as error:
        code = "tampered" if error.code == "bad_signature" else error.code
        message = (
            _("The signature does not match: the content was changed after it was signed.")
            if code == "tampered"
            else _("The signature is malformed.")
        )
        report.add(Check("proof", Status.FAIL, code, message, str(error)))
        return
    report.add(
        Check(
            "proof",
            Status.PASS,
            "ok",
            _("The issuer's signature is intact: nothing was changed after signing."),
        )
    )
    revocation_url = issuer.get("revocationList")
    if revocation_url is None:
        return
    try:
        listing = _get(revocation_url)
    except (fetcher.FetchError, ValueError, _Gone) as error:
        report.add(
            Check(
                "status",
                Status.UNKNOWN,
                "STATUS_RETRIEVAL_ERROR",
                _("The issuer's revocation list could not be retrieved, so revocation is unknown."),
                str(error)[:200],
            )
        )
        return
    revoked, reason = ob2verify.revocation_entry(listing, assertion)
    if revoked:
        _revoked(report, reason)
    else:
        report.add(
            Check(
                "status", Status.PASS, "not_revoked", _("Not revoked (issuer's revocation list).")
            )
        )


def _recipient(recipient: Any, typed: str) -> Check:
    """The typed e-mail (or, for an assertion made to an institutional identifier, the typed
    student number or sign-in name) hashed with the assertion's salt."""
    if not typed.strip():
        return Check(
            "recipient",
            Status.SKIP,
            "not_asked",
            _(
                "No e-mail address or student number given: anyone holding a copy of this "
                "badge would see the same result."
            ),
        )
    if ob2verify.recipient_matches(typed, recipient):
        return Check(
            "recipient", Status.PASS, "match", _("Issued to the e-mail address you entered.")
        )
    kind = ob3.identifier_kind(recipient.get("type")) if isinstance(recipient, dict) else None
    if kind is not None and isinstance(recipient, dict):
        identity = {
            "identityType": kind,
            "hashed": recipient.get("hashed"),
            "identityHash": recipient.get("identity"),
            "salt": recipient.get("salt"),
        }
        if ob3.identifier_matches(typed, identity):
            return checks.identifier_matched(kind)
    return checks.not_recipient(typed)
