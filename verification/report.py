"""The verification report: one list of checks, a verdict, and what the badge claims.

The same report is rendered as HTML on ``/verify``, returned by ``POST /api/v1/verify``,
printed by ``manage.py verify`` and stored (without any e-mail) in a receipt. Every check has a
status and one plain sentence in the reader's language:

``pass`` · ``fail`` · ``warning`` · ``unknown`` (could not check) · ``skipped`` (not asked for
or not applicable). A check that could not run is ``unknown`` and makes the verdict
"could not be fully checked", never "valid" (DESIGN.md §6).

About 425 lines: the report, its verdict and every sentence a receipt keeps stay together.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.utils import translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy

from badges.models import AchievementType
from issuers.models import Issuer


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
    "issuer_identity": gettext_lazy("Issuer identity"),
    "validity": gettext_lazy("Validity dates"),
    "status": gettext_lazy("Revocation and suspension"),
    "recipient": gettext_lazy("Recipient"),
    "endorsements": gettext_lazy("Endorsements"),
    "contents": gettext_lazy("Credentials inside"),
    "budget": gettext_lazy("Verification limits"),
    "superseded": gettext_lazy("Re-issue"),
}

#: What each status is called next to a check's title.
STATUS_WORDS = {
    Status.PASS: gettext_lazy("passed"),
    Status.FAIL: gettext_lazy("failed"),
    Status.WARN: gettext_lazy("warning"),
    Status.UNKNOWN: gettext_lazy("could not check"),
    Status.SKIP: gettext_lazy("not checked"),
}

#: The sentence of a check outcome by (check id, code), for a receipt, which keeps only the
#: codes: the same sentences as the verify page, without the details (dates, problems).
OUTCOMES = {
    ("input", ""): gettext_lazy("Nothing to verify: we could not find a badge in what you gave."),
    ("structure", "ok"): gettext_lazy("Well-formed Open Badges 3.0 credential."),
    ("structure", "older_format"): gettext_lazy(
        "An older form of Open Badges 3.0 (Verifiable Credentials 1.1)."
    ),
    ("structure", "structure"): gettext_lazy("The credential is not a well-formed Open Badge."),
    ("proof", "ok"): gettext_lazy(
        "The issuer's signature is intact: nothing was changed after signing."
    ),
    ("proof", "legacy_suite"): gettext_lazy(
        "The issuer's signature is intact: nothing was changed after signing."
    ),
    ("proof", "hosted"): gettext_lazy(
        "The issuer's website serves this badge (Open Badges 2.0 hosted verification)."
    ),
    ("proof", "tampered"): gettext_lazy(
        "The signature does not match: the content was changed after it was signed."
    ),
    ("proof", "bad_proof"): gettext_lazy("The signature is malformed."),
    ("proof", "key_unavailable"): gettext_lazy(
        "The signature could not be checked without the issuer's key."
    ),
    ("issuer_key", "platform"): gettext_lazy("Signed with a key the issuer publishes."),
    ("issuer_key", "listed"): gettext_lazy("Signed with a key the issuer publishes."),
    ("issuer_key", "in_scope"): gettext_lazy("Hosted on the issuer's own website."),
    ("issuer_key", "not_issuer_key"): gettext_lazy(
        "The signing key is not one of the issuer's keys."
    ),
    ("issuer_identity", "listed"): gettext_lazy("Listed in a trusted registry."),
    ("issuer_identity", "not_listed"): gettext_lazy("Not listed in any trusted registry."),
    ("validity", "ok"): gettext_lazy("Within its validity period."),
    ("validity", "expired"): gettext_lazy("The badge has expired."),
    ("validity", "not_yet_valid"): gettext_lazy("The badge is not valid yet."),
    ("validity", "bad_date"): gettext_lazy("The badge's dates are malformed."),
    ("status", "not_revoked"): gettext_lazy("Not revoked or suspended."),
    ("status", "not_suspended"): gettext_lazy("Not suspended."),
    ("status", "revoked"): gettext_lazy("Revoked by the issuer."),
    ("status", "suspended"): gettext_lazy("Suspended by the issuer."),
    ("status", "no_status"): gettext_lazy(
        "The issuer publishes no revocation status for this badge."
    ),
    ("recipient", "not_asked"): gettext_lazy(
        "No e-mail address or student number was given, so the recipient was not compared."
    ),
    ("recipient", "match"): gettext_lazy("Issued to the recipient that was entered."),
    ("recipient", "no_match"): gettext_lazy(
        "Not this recipient: the badge was not issued to the recipient that was entered."
    ),
    ("endorsements", "none"): gettext_lazy("No endorsements."),
    ("endorsements", "ok"): gettext_lazy("All endorsements verified."),
    ("endorsements", "withdrawn"): gettext_lazy("An endorsement was withdrawn by its endorser."),
    ("superseded", "superseded"): gettext_lazy(
        "Superseded by a re-issue: the issuer has issued a newer copy of this badge."
    ),
}

#: OB 3.0 ``achievementType`` terms (OB 3.0 §B.3.1) that ``badges`` does not offer to issuers.
MORE_TYPES = {
    "ApprenticeshipCertificate": gettext_lazy("Apprenticeship certificate"),
    "AssociateDegree": gettext_lazy("Associate degree"),
    "BachelorDegree": gettext_lazy("Bachelor's degree"),
    "DoctoralDegree": gettext_lazy("Doctoral degree"),
    "GeneralEducationDevelopment": gettext_lazy("General education development (GED)"),
    "JourneymanCertificate": gettext_lazy("Journeyman certificate"),
    "MasterCertificate": gettext_lazy("Master certificate"),
    "MasterDegree": gettext_lazy("Master's degree"),
    "ProfessionalDoctorate": gettext_lazy("Professional doctorate"),
    "QualityAssuranceCredential": gettext_lazy("Quality assurance credential"),
    "ResearchDoctorate": gettext_lazy("Research doctorate"),
    "SecondarySchoolDiploma": gettext_lazy("Secondary school diploma"),
}


def type_label(value: Any) -> str:
    """A human label for an ``achievementType``: ``MicroCredential`` is "Micro-credential"
    (微证书); an ``ext:`` term or an unknown one is split into words."""
    if not isinstance(value, str) or not value:
        return ""
    if value in AchievementType.values:
        return str(AchievementType(value).label)
    if value in MORE_TYPES:
        return str(MORE_TYPES[value])
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", value.removeprefix("ext:")).strip()
    return words[:1].upper() + words[1:].lower()


def when(value: Any) -> str:
    """A date and time as people read it, one unambiguous form per language, in UTC:
    ``2026-12-02 17:54 UTC`` or ``2026年12月2日 17:54 UTC``; a date alone without the time.
    Text that is not a date is returned as it is."""
    moment: datetime | date | None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = parse_datetime(text) or parse_date(text)
        except ValueError:
            moment = None
        if moment is None:
            return value
    else:
        return "" if value is None else str(value)
    chinese = (translation.get_language() or "en").lower().startswith("zh")
    if not isinstance(moment, datetime):
        if chinese:
            return f"{moment.year}年{moment.month}月{moment.day}日"
        return moment.isoformat()
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if chinese:
        return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M} UTC"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


@dataclass
class Check:
    """One check: ``id`` (see :data:`CHECK_TITLES`), status, a stable ``code`` and a sentence."""

    id: str
    status: Status
    code: str
    message: str
    detail: str = ""
    #: The endorsements check only: the names of the endorsers whose endorsement verified.
    endorsed_by: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return str(CHECK_TITLES.get(self.id, self.id))

    @property
    def status_word(self) -> str:
        return str(STATUS_WORDS.get(self.status, self.status))

    @classmethod
    def from_receipt(cls, data: dict[str, Any]) -> Check:
        """A check as a receipt stores it (id, status, code), with its sentence in the
        reader's language."""
        check_id, code = str(data.get("id", "")), str(data.get("code", ""))
        try:
            status = Status(str(data.get("status", "")))
        except ValueError:
            status = Status.UNKNOWN
        outcome = OUTCOMES.get((check_id, code)) or OUTCOMES.get((check_id, ""))
        return cls(check_id, status, code, str(outcome) if outcome is not None else "")

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "status": str(self.status),
            "code": self.code,
            "message": self.message,
        }
        if self.detail:
            data["detail"] = self.detail
        if self.endorsed_by:
            data["endorsed_by"] = list(self.endorsed_by)
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
    #: What the trusted registries say about the issuer (``verification.registries.Lookup``
    #: as JSON), when they were consulted.
    registries: dict[str, Any] | None = None
    #: The issuer of one of our own awards this report proved (``own``), loaded with it, so
    #: this platform's registry entry needs no query. Not part of any JSON.
    own_issuer: Issuer | None = None

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    @property
    def checked_at_text(self) -> str:
        return when(self.checked_at)

    @property
    def type_text(self) -> str:
        achievement = self.claims.get("achievement")
        return type_label(achievement.get("type")) if isinstance(achievement, dict) else ""

    @property
    def valid_from_text(self) -> str:
        return when(self.claims.get("valid_from"))

    @property
    def valid_until_text(self) -> str:
        return when(self.claims.get("valid_until"))

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
        if self.registries is not None:
            data["issuer_registries"] = self.registries
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
