"""The verification report: one list of checks, a verdict, and what the badge claims.

The same report is rendered as HTML on ``/verify``, returned by ``POST /api/v1/verify``,
printed by ``manage.py verify`` and stored (without any e-mail) in a receipt. Every check has a
status and one plain sentence in the reader's language:

``pass`` · ``fail`` · ``warning`` · ``unknown`` (could not check) · ``skipped`` (not asked for
or not applicable). A check that could not run is ``unknown`` and makes the verdict
"could not be fully checked", never "valid" (DESIGN.md §6).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy


class Status(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - a check status, not a password
    FAIL = "fail"
    WARN = "warning"
    UNKNOWN = "unknown"
    SKIP = "skipped"


class Verdict(enum.StrEnum):
    """The one answer a reader wants, most severe first when several apply."""

    VALID = "valid"
    TAMPERED = "tampered"
    INVALID = "invalid"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    NOT_RECIPIENT = "not_recipient"
    UNKNOWN = "unknown"
    TOO_COMPLEX = "too_complex"
    TOO_SLOW = "too_slow"
    BAD_INPUT = "bad_input"


#: Verdicts that say the badge could not be checked, not that it is bad (DESIGN.md §6).
COULD_NOT_CHECK = frozenset({Verdict.UNKNOWN, Verdict.TOO_COMPLEX, Verdict.TOO_SLOW})


CHECK_TITLES = {
    "input": gettext_lazy("Input"),
    "format": gettext_lazy("Format"),
    "structure": gettext_lazy("Structure"),
    "proof": gettext_lazy("Signature"),
    "issuer_key": gettext_lazy("Key belongs to the issuer"),
    "validity": gettext_lazy("Validity dates"),
    "status": gettext_lazy("Revocation and suspension"),
    "recipient": gettext_lazy("Recipient"),
    "endorsements": gettext_lazy("Endorsements"),
    "contents": gettext_lazy("Credentials inside"),
    "budget": gettext_lazy("Verification limits"),
}


@dataclass
class Check:
    """One check: ``id`` (see :data:`CHECK_TITLES`), status, a stable ``code`` and a sentence."""

    id: str
    status: Status
    code: str
    message: str
    detail: str = ""

    @property
    def title(self) -> str:
        return str(CHECK_TITLES.get(self.id, self.id))

    def as_json(self) -> dict[str, str]:
        data = {
            "id": self.id,
            "title": self.title,
            "status": str(self.status),
            "code": self.code,
            "message": self.message,
        }
        if self.detail:
            data["detail"] = self.detail
        return data


@dataclass
class Report:
    """Everything a reader is told about one verification."""

    checked_at: datetime
    input_kind: str
    format: str = ""
    source_url: str = ""
    checks: list[Check] = field(default_factory=list)
    claims: dict[str, Any] = field(default_factory=dict)
    own: dict[str, Any] | None = None
    credential: dict[str, Any] | None = None
    recipient_checked: bool = False

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.checks)

    @property
    def claims_confirmed(self) -> bool:
        """Did the issuer's signature check out? Only then are its claims worth showing."""
        proof = self.check("proof")
        return proof is not None and proof.status is Status.PASS

    @property
    def is_valid(self) -> bool:
        return self.verdict is Verdict.VALID

    @property
    def headline(self) -> str:
        verdict = self.verdict
        recipient = self.check("recipient")
        if verdict is Verdict.NOT_RECIPIENT and recipient and recipient.detail == "identifier":
            return str(NOT_RECIPIENT_IDENTIFIER)
        return str(HEADLINES[verdict])

    def as_json(self) -> dict[str, Any]:
        """The API/CLI/receipt form. Contains no e-mail address, only whether one matched."""
        data: dict[str, Any] = {
            "verdict": str(self.verdict),
            "valid": self.is_valid,
            "headline": self.headline,
            "format": self.format,
            "input": self.input_kind,
            "checked_at": self.checked_at.isoformat().replace("+00:00", "Z"),
            "checks": [c.as_json() for c in self.checks],
            "claims": self.claims,
        }
        if self.source_url:
            data["source_url"] = self.source_url
        if self.credential is not None and isinstance(self.credential.get("id"), str):
            data["credential_id"] = self.credential["id"]
        if self.own is not None:
            data["platform"] = self.own
        return data


HEADLINES = {
    Verdict.VALID: gettext_lazy("Valid: this badge is genuine and in good standing."),
    Verdict.TAMPERED: gettext_lazy(
        "Not valid: the content was changed after the issuer signed it."
    ),
    Verdict.INVALID: gettext_lazy("Not valid: this badge failed verification."),
    Verdict.REVOKED: gettext_lazy("Revoked: the issuer has withdrawn this badge."),
    Verdict.SUSPENDED: gettext_lazy("Suspended: the issuer has put this badge on hold."),
    Verdict.EXPIRED: gettext_lazy("Expired: this badge is genuine but no longer valid."),
    Verdict.NOT_YET_VALID: gettext_lazy("Not yet valid: this badge's start date is in the future."),
    Verdict.NOT_RECIPIENT: gettext_lazy(
        "Not this recipient: the badge is genuine but was not issued to that e-mail address."
    ),
    Verdict.UNKNOWN: gettext_lazy(
        "Could not be fully checked: some checks could not run, so this badge is not "
        "confirmed as valid."
    ),
    Verdict.TOO_COMPLEX: gettext_lazy(
        "Too complex to check: this badge needs more work to verify than this verifier "
        "allows, so it is not confirmed as valid."
    ),
    Verdict.TOO_SLOW: gettext_lazy(
        "Took too long to check: the sites this badge relies on did not answer in time, so it "
        "is not confirmed as valid."
    ),
    Verdict.BAD_INPUT: gettext_lazy(
        "Nothing to verify: we could not find a badge in what you gave."
    ),
}


#: The "not this recipient" headline when a student number or sign-in name was typed.
NOT_RECIPIENT_IDENTIFIER = gettext_lazy(
    "Not this recipient: the badge is genuine but was not issued to that student number or "
    "sign-in name."
)


def verdict_of(checks: list[Check]) -> Verdict:
    """The verdict from the checks; unknowns never turn into "valid"."""
    by_id: dict[str, list[Check]] = {}
    for check in checks:
        by_id.setdefault(check.id, []).append(check)

    def failed(check_id: str, code: str | None = None) -> bool:
        return any(
            c.status is Status.FAIL and (code is None or c.code == code)
            for c in by_id.get(check_id, [])
        )

    if failed("input") or failed("format"):
        return Verdict.BAD_INPUT
    # Over the verification's budget (verification.budget), what was not checked could hide
    # anything, and what failed may have failed only because it was cut short.
    over = {c.code for c in by_id.get("budget", []) if c.status is not Status.PASS}
    if "too_slow" in over:
        return Verdict.TOO_SLOW
    if "too_complex" in over or failed("proof", "too_complex"):
        return Verdict.TOO_COMPLEX
    if failed("proof", "tampered"):
        return Verdict.TAMPERED
    if failed("structure") or failed("proof") or failed("issuer_key"):
        return Verdict.INVALID
    if failed("status", "revoked"):
        return Verdict.REVOKED
    if failed("status", "suspended"):
        return Verdict.SUSPENDED
    if failed("status"):
        return Verdict.INVALID
    if failed("validity", "expired"):
        return Verdict.EXPIRED
    if failed("validity", "not_yet_valid"):
        return Verdict.NOT_YET_VALID
    if failed("validity"):
        return Verdict.INVALID
    if failed("recipient"):
        return Verdict.NOT_RECIPIENT
    if failed("endorsements") or failed("contents"):
        return Verdict.INVALID
    if any(c.status is Status.UNKNOWN for c in checks):
        return Verdict.UNKNOWN
    required = {"proof", "issuer_key", "validity", "status"}
    passed = {c.id for c in checks if c.status in (Status.PASS, Status.WARN, Status.SKIP)}
    if not required <= passed or not any(
        c.id == "proof" and c.status is Status.PASS for c in checks
    ):
        return Verdict.UNKNOWN
    return Verdict.VALID


def bad_input(report: Report, code: str, message: str, detail: str = "") -> Report:
    report.add(Check("input", Status.FAIL, code, message, detail))
    return report
