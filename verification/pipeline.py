"""One verification pipeline for the page, the API and ``manage.py verify`` (DESIGN.md §6).

input → :mod:`extract` → detect format → checks (:mod:`checks`, :mod:`status`) → report,
all under one budget (:mod:`budget`). The module is about 560 lines: every format's order of
checks stays in this one place, so every entry point runs the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from django.utils import timezone
from django.utils.translation import gettext as _

from badges.models import Award
from issuers.keys import issuer_did
from openbadges import vcjwt
from verification import (
    annex,
    budget,
    checks,
    extract,
    jwtcheck,
    ob2check,
    own,
    registries,
    status,
)
from verification.report import COULD_NOT_CHECK, Check, Report, Status, Verdict, bad_input

OB3_TYPES = {"OpenBadgeCredential", "AchievementCredential"}
OB2_CONTEXT = "https://w3id.org/openbadges/v2"


@dataclass
class VerifyRequest:
    """What a person gave: one of ``url``, ``text`` or ``upload``, plus an optional e-mail.

    ``trust_stored`` (on by default): a credential that is exactly the stored signed text
    of one of our awards is not canonicalized and its signature not recomputed
    (:func:`verification.own.stored_award`); off, every credential takes the full
    cryptographic path (tests compare the two, the benchmark times both). ``award`` and
    ``parsed`` are what :func:`runs_cheap` already found for ``text`` (the award, and the
    JSON as :func:`extract.from_text` parses it), so neither is done twice.
    """

    url: str = ""
    text: str = ""
    upload: bytes | None = None
    filename: str = ""
    email: str = ""
    trust_stored: bool = True
    award: Award | None = None
    parsed: dict[str, Any] | None = None


def _types(document: dict[str, Any]) -> set[str]:
    value = document.get("type", [])
    return {str(v) for v in (value if isinstance(value, list) else [value])}


def _contexts(document: dict[str, Any]) -> list[str]:
    value = document.get("@context", [])
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def detect_format(payload: extract.Payload) -> str:
    if payload.jws:
        return "vc-jwt"
    document = payload.document or {}
    contexts, types = _contexts(document), _types(document)
    if OB2_CONTEXT in contexts or "Assertion" in types:
        return "ob2-hosted"
    if "ClrCredential" in types:
        return "clr2"
    if "EndorsementCredential" in types:
        return "ob3-endorsement"
    if types & OB3_TYPES:
        return "ob3-vc1.1" if checks.VC_V1_CONTEXT in contexts else "ob3"
    if "VerifiableCredential" in types:
        return "vc"
    return "unknown"


FORMAT_LABELS = {
    "ob3": "Open Badges 3.0",
    "ob3-vc1.1": "Open Badges 3.0 (VC 1.1)",
    "ob3-endorsement": "Open Badges 3.0 EndorsementCredential",
    "vc-jwt": "Open Badges 3.0 VC-JWT",
    "ob2-hosted": "Open Badges 2.0",
    "clr2": "CLR 2.0",
    "vc": "Verifiable Credential",
    "unknown": "",
}


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _text(value.get("narrative") or value.get("name") or value.get("id") or "")
    return ""


def _domain(identifier: str) -> str:
    if identifier.startswith("did:web:"):
        return unquote(identifier.removeprefix("did:web:").split(":", 1)[0])
    if identifier.startswith(("https://", "http://")):
        return urlsplit(identifier).netloc
    return ""


def claims(document: dict[str, Any], key_how: str = "") -> dict[str, Any]:
    """What the badge says about itself, for a reader to judge its value.

    Only the issuer's identity is *verified*; ``issuer.domain_verified`` says whether its
    domain was proven by where its key was found.
    """
    issuer = document.get("issuer")
    issuer = issuer if isinstance(issuer, dict) else {"id": issuer}
    subject = document.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, dict) else {}
    issuer_id = str(issuer.get("id") or "")
    alignments = achievement.get("alignment", [])
    skills = [
        {
            "name": _text(a.get("targetName")),
            "url": str(a.get("targetUrl", "")),
            "framework": _text(a.get("targetFramework")),
        }
        for a in (alignments if isinstance(alignments, list) else [])
        if isinstance(a, dict)
    ]
    evidence = document.get("evidence", [])
    results = subject.get("result", [])
    data: dict[str, Any] = {
        "name": _text(document.get("name")) or _text(achievement.get("name")),
        "issuer": {
            "id": issuer_id,
            "name": _text(issuer.get("name")),
            "url": str(issuer.get("url", "")) if isinstance(issuer.get("url"), str) else "",
            "domain": _domain(issuer_id),
            "domain_verified": key_how in ("did:web", "https", "platform"),
        },
        "achievement": {
            "id": str(achievement.get("id", "")),
            "name": _text(achievement.get("name")),
            "description": _text(achievement.get("description")),
            "type": _text(achievement.get("achievementType")),
            "criteria": _text(achievement.get("criteria")),
            "credits": achievement.get("creditsAvailable"),
            "field_of_study": _text(achievement.get("fieldOfStudy")),
            "level": _text(achievement.get("educationalLevel") or achievement.get("level")),
            "version": _text(achievement.get("version")),
            "language": _text(achievement.get("inLanguage")),
            "tags": [t for t in achievement.get("tag", []) if isinstance(t, str)]
            if isinstance(achievement.get("tag"), list)
            else [],
        },
        "skills": skills,
        "evidence": [
            {
                "id": str(e.get("id", "")),
                "name": _text(e.get("name")),
                "narrative": _text(e.get("narrative")),
            }
            for e in (evidence if isinstance(evidence, list) else [])
            if isinstance(e, dict)
        ],
        "results": [
            {"value": _text(r.get("value")), "status": _text(r.get("status"))}
            for r in (results if isinstance(results, list) else [])
            if isinstance(r, dict)
        ],
        "recipient_name": _text(subject.get("name")),
        "credits_earned": _number_or_none(subject.get("creditsEarned")),
        "narrative": _text(subject.get("narrative")),
        "valid_from": _text(document.get("validFrom") or document.get("issuanceDate")),
        "valid_until": _text(document.get("validUntil") or document.get("expirationDate")),
        "awarded": _text(document.get("awardedDate")),
        # the EU micro-credential elements, under Insignia's context (verification.annex)
        "microcredential": annex.claims_of(document),
    }
    return data


def _number_or_none(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _candidate(document: dict[str, Any], payload: extract.Payload) -> Award | None:
    """The award this credential's ``id`` names, if it names one of ours (one query)."""
    return payload.award or own.award_for_url(str(document.get("id", "")))


def _own_award(document: dict[str, Any], candidate: Award | None) -> Award | None:
    """The award if this credential is one of ours *and* signed by that award's issuer."""
    if candidate is None or checks.issuer_id(document) != issuer_did(candidate.issuer):
        return None
    return candidate


def verify_ob3(
    report: Report,
    document: dict[str, Any],
    payload: extract.Payload,
    email: str,
    jws: vcjwt.Decoded | None = None,
    *,
    trust_stored: bool = True,
) -> None:
    """Every check of an OB 3.0 credential; ``jws`` when it came as a VC-JWT.

    When the credential is exactly the signed text of one of our awards (and
    ``trust_stored``), the database is the reference for its signature
    (:func:`checks.proof_and_key`, ``stored_key``); every check still runs and the report is
    the one the full path gives.
    """
    now = report.checked_at
    if checks.VC_V1_CONTEXT in _contexts(document):
        report.add(
            Check(
                "structure",
                Status.WARN,
                "older_format",
                _("An older form of Open Badges 3.0 (Verifiable Credentials 1.1)."),
            )
        )
    elif report.format == "ob3-endorsement" or "EndorsementCredential" in _types(document):
        report.add(checks.endorsement_structure(document))
    else:
        report.add(checks.structure(document))
    # The endorsement cap is checked before the proof: a credential carrying a thousand
    # endorsements would otherwise cost seconds of canonicalization for a verdict that is
    # "too complex to check" anyway.
    spending = budget.current()
    if spending is not None and not spending.allow_endorsements(_endorsement_count(document)):
        too_many = _("Not checked: there are more endorsements than this verifier checks.")
        report.add(Check("proof", Status.UNKNOWN, "not_checked", too_many))
        report.add(Check("endorsements", Status.UNKNOWN, "too_many", too_many))
        report.claims = claims(document, "")
        return
    key_how = ""
    candidate = _candidate(document, payload)
    stored = (
        own.stored_award(document, candidate)
        if jws is None and trust_stored and candidate is not None
        else None
    )
    if jws is None:
        outcome = checks.proof_and_key(
            document, now=now, stored_key=stored.signing_key if stored is not None else None
        )
        report.add(outcome.proof)
        report.add(outcome.key)
        key_how = outcome.resolved.how if outcome.resolved else ""
    else:
        for check in jwtcheck.proof_and_key(jws, checks.issuer_id(document), now=now):
            report.add(check)
        key = report.check("issuer_key")
        key_how = "https" if key is not None and key.status is Status.PASS else ""
    proof = report.check("proof")
    proven = proof is not None and proof.status is Status.PASS
    validity = checks.validity(document, now=now)
    expires = jws.payload.get("exp") if jws is not None else None
    if (
        validity.status is Status.PASS
        and isinstance(expires, int | float)
        and datetime.fromtimestamp(expires, tz=UTC) <= now
    ):
        validity = Check("validity", Status.FAIL, "expired", _("The badge's token has expired."))
    report.add(validity)
    award = _own_award(document, candidate) if proven else None
    if award is not None:
        report.own = own.platform_facts(award)
        report.own_issuer = award.issuer
        own.note_superseded(report, award)
    if proven:
        report.add(status.check(document, award=award, now=now))
    else:
        # The status of a credential whose signature failed says nothing; don't fetch it.
        report.add(
            Check(
                "status",
                Status.SKIP,
                "not_checked",
                _("Not checked, because the signature could not be confirmed."),
            )
        )
    report.add(checks.recipient(document, email))
    report.recipient_checked = bool(email.strip())
    report.add(
        checks.endorsements(
            document, now=now, status_of=lambda item: status.check(item, award=None, now=now)
        )
    )
    report.claims = claims(document, key_how)


def _endorsement_count(document: dict[str, Any]) -> int:
    """How many endorsements :func:`checks.endorsements` would verify (each costs fetches)."""
    subject = document.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    count = 0
    for holder in (document, achievement, document.get("issuer")):
        if not isinstance(holder, dict):
            continue
        for key in ("endorsement", "endorsementJwt"):
            items = holder.get(key, [])
            count += len(items) if isinstance(items, list) else 1
    return count


def verify_clr(
    report: Report, document: dict[str, Any], email: str, *, trust_stored: bool = True
) -> None:
    """CLR 2.0: the ClrCredential's own proof, then every credential inside it."""
    now = report.checked_at
    subject = document.get("credentialSubject")
    inner = subject.get("verifiableCredential", []) if isinstance(subject, dict) else []
    inner = [c for c in (inner if isinstance(inner, list) else [inner]) if isinstance(c, dict)]
    missing = checks.missing_clr_fields(document)
    if missing or not inner:
        problem = ", ".join(missing) or "credentialSubject.verifiableCredential"
        report.add(
            Check(
                "structure",
                Status.FAIL,
                "structure",
                _("The credential is not a well-formed Open Badge: %(problem)s")
                % {"problem": problem},
            )
        )
    else:
        report.add(Check("structure", Status.PASS, "ok", _("Well-formed CLR 2.0 credential.")))
    outcome = checks.proof_and_key(document, now=now)
    report.add(outcome.proof)
    report.add(outcome.key)
    report.add(checks.validity(document, now=now))
    report.add(status.check(document, award=None, now=now))
    verified = 0
    failed = 0
    too_complex = False
    for credential in inner:
        part = Report(checked_at=now, input_kind="clr", format="ob3")
        verify_ob3(
            part,
            credential,
            extract.Payload("json", document=credential),
            "",
            trust_stored=trust_stored,
        )
        if part.verdict is Verdict.VALID:
            verified += 1
        elif part.verdict not in COULD_NOT_CHECK:
            failed += 1
        too_complex = too_complex or part.verdict is Verdict.TOO_COMPLEX
    if too_complex:
        report.add(
            Check(
                "budget",
                Status.UNKNOWN,
                budget.TOO_COMPLEX,
                _("A credential inside is too complex to check safely."),
            )
        )
    counts = {"ok": verified, "n": len(inner)}
    if failed:
        report.add(
            Check(
                "contents",
                Status.FAIL,
                "inner_invalid",
                _("%(ok)s of %(n)s credentials inside are valid; the others are not.") % counts,
            )
        )
    elif verified < len(inner):
        report.add(
            Check(
                "contents",
                Status.UNKNOWN,
                "inner_unknown",
                _("%(ok)s of %(n)s credentials inside could be fully checked.") % counts,
            )
        )
    else:
        report.add(
            Check(
                "contents",
                Status.PASS,
                "ok",
                _("All %(n)s credentials inside are valid.") % counts,
            )
        )
    report.add(checks.recipient(document, email))
    report.claims = claims(document, outcome.resolved.how if outcome.resolved else "")
    report.claims["credentials"] = [
        claims(c)["name"] or claims(c)["achievement"]["name"] for c in inner
    ]


def verify_jws(report: Report, payload: extract.Payload, email: str) -> None:
    try:
        decoded = vcjwt.decode(payload.jws)
    except vcjwt.VcJwtError as error:
        report.add(
            Check(
                "proof",
                Status.FAIL,
                error.code,
                _("The signed token is not acceptable: %(reason)s") % {"reason": str(error)},
            )
        )
        return
    document = decoded.credential
    report.credential = document
    if OB2_CONTEXT in _contexts(document) or "Assertion" in _types(document):
        ob2check.verify(report, document, email, jws=payload.jws, now=report.checked_at)
        return
    verify_ob3(report, document, payload, email, jws=decoded)


def verify_ob2_hosted_gone(report: Report, document: dict[str, Any]) -> None:
    reason = _text(document.get("revocationReason"))
    message = _("Revoked by the issuer (the badge's address answers “gone”).")
    if reason:
        message += " " + _("Reason: %(reason)s") % {"reason": reason}
    report.add(Check("status", Status.FAIL, "revoked", message))


def runs_cheap(request: VerifyRequest) -> bool:
    """Whether verifying ``request`` will make no fetch and no canonicalization: pasted JSON
    that is exactly the stored signed text of one of our awards and carries no endorsements
    (each would be a credential of its own to check). Its cost is then bounded like a public
    badge page's (a parse and a few indexed reads), which is why
    :mod:`verification.ratelimit` runs it without holding an in-flight slot. Remembers the
    award on ``request``.
    """
    if not request.trust_stored or request.url or request.upload is not None:
        return False
    stripped = request.text.strip().lstrip("\ufeff")
    if not stripped.startswith("{"):
        return False
    try:
        document = extract.parse_json(stripped)
    except extract.InputProblem:
        return False
    payload = extract.Payload("json", document=document)
    if detect_format(payload) not in ("ob3", "ob3-vc1.1", "ob3-endorsement", "vc"):
        return False
    if _endorsement_count(document):
        return False
    request.award = own.stored_award(document)
    request.parsed = document if request.award is not None else None
    return request.award is not None


def verify(request: VerifyRequest, *, now: datetime | None = None) -> Report:
    """Run every check on what a person gave. Never raises for bad input.

    The whole run has one budget (:mod:`verification.budget`): a deadline every fetch and
    canonicalization shares, and caps on fetches and endorsements. Going over it ends in the
    verdict "took too long to check" or "too complex to check", never "valid".
    """
    with budget.verification() as spending:
        report = _verify(request, now=now)
        issuer_identity(report)
        spending.finish()
    over = spending.check()
    if over is not None and all(c.code != over.code for c in report.checks if c.id == "budget"):
        report.add(over)
    return report


def issuer_identity(report: Report) -> None:
    """The issuer-identity check (:mod:`verification.registries`), right after the key check,
    whatever the format: which trusted registries list the issuer, once its signature and key
    checked out (before that, the issuer named could be anyone's claim). Nothing when no
    registry is configured or nothing was signed."""
    key = report.check("issuer_key")
    if key is None or not registries.configured():
        return
    issuer = report.claims.get("issuer")
    issuer_id = str(issuer.get("id") or "") if isinstance(issuer, dict) else ""
    if report.claims_confirmed and key.status is Status.PASS and issuer_id:
        lookup = registries.lookup(
            issuer_id, now=report.checked_at.timestamp(), ours=report.own_issuer
        )
        report.registries = lookup.as_json()
        check = checks.issuer_identity(lookup)
    else:
        check = checks.issuer_identity_not_checked()
    report.checks.insert(report.checks.index(key) + 1, check)


def _verify(request: VerifyRequest, *, now: datetime | None) -> Report:
    checked_at = now or timezone.now()
    kind = "url" if request.url else "upload" if request.upload is not None else "text"
    report = Report(checked_at=checked_at, input_kind=kind)
    try:
        if request.url:
            payload = extract.from_url(request.url)
        elif request.upload is not None:
            payload = extract.from_upload(request.upload, request.filename)
        elif request.parsed is not None:
            # runs_cheap parsed this text as from_text would (JSON: it starts with "{").
            payload = extract.Payload("json", document=request.parsed)
        else:
            payload = extract.from_text(request.text)
    except extract.InputProblem as problem:
        return bad_input(report, problem.code, problem.message, problem.detail)
    report.input_kind = payload.kind
    report.source_url = payload.source_url
    report.format = detect_format(payload)
    document = payload.document
    if payload.http_status == 410 and document is not None:
        report.format = "ob2-hosted"
        verify_ob2_hosted_gone(report, document)
        report.claims = claims(document)
        return report
    if report.format in ("ob3", "ob3-vc1.1", "ob3-endorsement", "vc") and document is not None:
        report.credential = document
        if request.award is not None and payload.award is None:
            payload.award = own.stored_award(document, request.award)
        verify_ob3(report, document, payload, request.email, trust_stored=request.trust_stored)
        return report
    if report.format == "vc-jwt":
        verify_jws(report, payload, request.email)
        return report
    if report.format == "clr2" and document is not None:
        report.credential = document
        verify_clr(report, document, request.email, trust_stored=request.trust_stored)
        return report
    if report.format == "ob2-hosted" and document is not None:
        ob2check.verify(report, document, request.email, now=report.checked_at)
        return report
    label = FORMAT_LABELS.get(report.format) or _("an unknown format")
    if report.format == "unknown":
        report.add(
            Check(
                "format",
                Status.FAIL,
                "unknown_format",
                _("This is not an Open Badge or a credential this verifier recognises."),
            )
        )
        return report
    report.add(
        Check(
            "format",
            Status.UNKNOWN,
            "format_unsupported",
            _("This is %(format)s, which this verifier cannot check yet.") % {"format": label},
        )
    )
    if document is not None:
        report.claims = claims(document)
    return report
