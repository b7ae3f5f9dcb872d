"""The checks of an OB 3.0 credential with Data Integrity proofs (research §1.8, §2.1).

Each function returns :class:`verification.report.Check` objects with a plain sentence; none
raises for a bad credential. Revocation lives in :mod:`verification.status`.

About 680 lines: one function per check of the report (structure, proof and key, issuer
identity, validity, recipient, endorsements), in the order the report lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from issuers.models import SigningKey
from openbadges import dataintegrity, endorsement, jsonld, ob3, ob3check, suites, vcjwt
from verification import jwtcheck, registries
from verification.keyresolve import KeyProblem, ResolvedKey, resolve
from verification.report import Check, Status, when

VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
SUPPORTED_SUITES = {
    ("DataIntegrityProof", "eddsa-rdfc-2022"),
    ("DataIntegrityProof", suites.JCS_SUITE),
    ("DataIntegrityProof", suites.LEGACY_SUITE),
    (suites.ED25519_2020, None),
}
# Array rules the JSON-LD-compaction-tolerant OB schema relaxes: a warning, not a failure.
_TOLERATED = ("$.proof must be an array",)
# A rule the 1EdTech JSON schema does not check; :func:`recipient` reports it, once.
_REPORTED_ELSEWHERE = (ob3check.SUBJECT_ID_RULE,)


def issuer_id(document: dict[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, dict) and isinstance(issuer.get("id"), str):
        return str(issuer["id"])
    return None


def proofs(document: dict[str, Any]) -> list[dict[str, Any]]:
    proof = document.get("proof")
    items = proof if isinstance(proof, list) else [proof] if proof is not None else []
    return [p for p in items if isinstance(p, dict)]


def _has_type(value: Any, wanted: str) -> bool:
    if not isinstance(value, dict):
        return False
    kind = value.get("type")
    return kind == wanted or (isinstance(kind, list) and wanted in kind)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def nested_type_problems(document: dict[str, Any]) -> list[str]:
    """Class types the strict schema requires below the top level (research §8) that
    ``ob3check`` leaves out: every Profile, Result, Alignment and IdentifierEntry."""
    problems: list[str] = []
    issuer = document.get("issuer")
    subject = document.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, dict) else {}
    profiles = {
        "$.issuer.parentOrg": issuer.get("parentOrg") if isinstance(issuer, dict) else None,
        "$.credentialSubject.source": subject.get("source"),
        "$.credentialSubject.achievement.creator": achievement.get("creator"),
    }
    for path, profile in profiles.items():
        if isinstance(profile, dict) and not _has_type(profile, "Profile"):
            problems.append(f"{path}.type must contain 'Profile'")
    for path, holder in (("$.issuer", issuer), ("$.credentialSubject.achievement", achievement)):
        for index, entry in enumerate(
            _listed(holder.get("otherIdentifier") if isinstance(holder, dict) else None)
        ):
            if not _has_type(entry, "IdentifierEntry"):
                problems.append(f"{path}.otherIdentifier[{index}].type must be 'IdentifierEntry'")
    for index, result in enumerate(_listed(subject.get("result"))):
        if not _has_type(result, "Result"):
            problems.append(f"$.credentialSubject.result[{index}].type must contain 'Result'")
        for inner, alignment in enumerate(
            _listed(result.get("alignment") if isinstance(result, dict) else None)
        ):
            if not _has_type(alignment, "Alignment"):
                path = f"$.credentialSubject.result[{index}].alignment[{inner}]"
                problems.append(f"{path}.type must contain 'Alignment'")
    for index, alignment in enumerate(_listed(achievement.get("alignment"))):
        if not _has_type(alignment, "Alignment"):
            problems.append(
                f"$.credentialSubject.achievement.alignment[{index}].type must contain 'Alignment'"
            )
    return problems


def structure(document: dict[str, Any]) -> Check:
    """OB 3.0 required fields and array rules (strict schema, research §8). The first
    problem is in the message, the next ones (up to ten in all) in the detail."""
    problems = [
        p
        for p in ob3check.check_credential(document) + nested_type_problems(document)
        if p not in _REPORTED_ELSEWHERE
    ]
    hard = [p for p in problems if p not in _TOLERATED]
    if hard:
        return Check(
            "structure",
            Status.FAIL,
            "structure",
            _("The credential is not a well-formed Open Badge: %(problem)s") % {"problem": hard[0]},
            "; ".join(hard[1:10]),
        )
    if problems:
        return Check(
            "structure",
            Status.WARN,
            "tolerated",
            _("Well-formed, with a minor deviation from the strict format: %(problem)s")
            % {"problem": problems[0]},
        )
    return Check("structure", Status.PASS, "ok", _("Well-formed Open Badges 3.0 credential."))


def endorsement_structure(document: dict[str, Any]) -> Check:
    """``EndorsementCredential``: required fields (research §8) and an EndorsementSubject."""
    required = ("@context", "type", "id", "name", "credentialSubject", "issuer", "validFrom")
    missing = [key for key in required if key not in document]
    subject = document.get("credentialSubject")
    if not missing and not (
        isinstance(subject, dict) and subject.get("id") and _has_type(subject, "EndorsementSubject")
    ):
        missing.append("credentialSubject (an EndorsementSubject with an id)")
    if missing:
        return Check(
            "structure",
            Status.FAIL,
            "structure",
            _("The endorsement is not well-formed: %(problem)s") % {"problem": ", ".join(missing)},
        )
    return Check("structure", Status.PASS, "ok", _("Well-formed Open Badges 3.0 endorsement."))


#: ``required`` of the CLR 2.0 ``ClrCredential`` JSON schema (``clr_v2p0_clrcredential_schema``).
CLR_REQUIRED = ("@context", "type", "id", "name", "credentialSubject", "issuer", "validFrom")


def missing_clr_fields(document: dict[str, Any]) -> list[str]:
    """The required ``ClrCredential`` properties ``document`` lacks.

    The CLR 2.0 schema is written for VC 2.0 (``validFrom``). CLR 2.0 credentials issued on
    VC 1.1 (its context among the ``@context`` entries, as the pipeline detects VC 1.1) carry
    the VC 1.1 name of the same property, ``issuanceDate``, which :func:`validity` reads.
    """
    contexts = document.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    start = "issuanceDate" if VC_V1_CONTEXT in contexts else "validFrom"
    required = tuple(start if key == "validFrom" else key for key in CLR_REQUIRED)
    return [key for key in required if key not in document]


def _parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return parsed


@dataclass
class ProofOutcome:
    proof: Check
    key: Check
    resolved: ResolvedKey | None = None


def _proof_failure(error: Exception) -> Check:
    if isinstance(error, jsonld.CanonicalizationLimitError):
        return Check(
            "proof", Status.FAIL, "too_complex", _("The credential is too complex to check safely.")
        )
    if isinstance(error, jsonld.UnknownContextError):
        # Not a verdict on the badge: this verifier fetches no contexts it does not bundle
        # (a remote context could change what was signed), so it cannot say either way.
        return Check(
            "proof",
            Status.UNKNOWN,
            "unknown_context",
            _(
                "The credential uses a vocabulary (JSON-LD context) this verifier does not "
                "have, so its signature could not be checked."
            ),
            str(error),
        )
    if isinstance(error, jsonld.SafeModeError):
        return Check(
            "proof",
            Status.FAIL,
            "undefined_terms",
            _("The credential contains properties its vocabulary does not define."),
            str(error)[:300],
        )
    if (
        isinstance(error, dataintegrity.ProofError | suites.SuiteError)
        and str(error) == "invalid signature"
    ):
        return Check(
            "proof",
            Status.FAIL,
            "tampered",
            _("The signature does not match: the content was changed after it was signed."),
        )
    return Check(
        "proof", Status.FAIL, "bad_proof", _("The signature is malformed."), str(error)[:300]
    )


def _suite_of(proof: dict[str, Any]) -> tuple[Any, Any]:
    """``(type, cryptosuite)`` of a proof; a list or an object in either field (the proof is
    JSON from anyone) is no suite we know, and cannot be looked up in a set."""
    kind, suite = proof.get("type"), proof.get("cryptosuite")
    if isinstance(kind, list | dict) or isinstance(suite, list | dict):
        return ("", "")
    return kind, suite


def proof_and_key(
    document: dict[str, Any], *, now: datetime, stored_key: SigningKey | None = None
) -> ProofOutcome:
    """Verify every Data Integrity proof we understand; each key must be the issuer's.

    ``stored_key``: ``document`` is exactly the signed text an award of ours stores
    (:func:`verification.own.stored_award`), signed with this key. The signature was checked
    when we signed that text, so the canonicalization and the signature arithmetic are
    skipped; every other step runs as for any credential (the key is looked up as it is
    now, a withdrawn key fails, the proof's date is checked), so the outcome is the same.
    """
    found = proofs(document)
    if not found:
        message = _("This badge carries no signature, so nothing proves who issued it.")
        return ProofOutcome(
            Check("proof", Status.FAIL, "no_proof", message),
            Check("issuer_key", Status.SKIP, "no_proof", _("No signature, so no key to check.")),
        )
    ours = [p for p in found if _suite_of(p) in SUPPORTED_SUITES]
    if not ours:
        kinds = ", ".join(sorted({f"{p.get('type')}/{p.get('cryptosuite')}" for p in found}))
        return ProofOutcome(
            Check(
                "proof",
                Status.UNKNOWN,
                "unsupported_proof",
                _("The signature uses a method this verifier cannot check yet."),
                kinds,
            ),
            Check("issuer_key", Status.UNKNOWN, "unsupported_proof", _("Not checked.")),
        )
    resolved: ResolvedKey | None = None
    for proof in ours:
        try:
            resolved = resolve(
                proof.get("verificationMethod"), issuer_id(document), known=stored_key
            )
        except KeyProblem as problem:
            status = Status.UNKNOWN if problem.unknown else Status.FAIL
            return ProofOutcome(
                Check(
                    "proof",
                    Status.UNKNOWN if problem.unknown else Status.SKIP,
                    "key_unavailable",
                    _("The signature could not be checked without the issuer's key."),
                ),
                Check("issuer_key", status, problem.code, problem.message, problem.detail),
            )
        created = _parse_date(proof.get("created"))
        if proof.get("created") is not None and created is None:
            return ProofOutcome(
                Check("proof", Status.FAIL, "bad_proof", _("The signature's date is malformed.")),
                _key_pass(resolved),
                resolved,
            )
        if created is not None and created > now:
            return ProofOutcome(
                Check(
                    "proof",
                    Status.FAIL,
                    "created_in_future",
                    _("The signature is dated in the future."),
                ),
                _key_pass(resolved),
                resolved,
            )
        if stored_key is not None:
            continue
        try:
            suite = proof.get("cryptosuite")
            if proof.get("type") == suites.ED25519_2020:
                suites.verify_ed25519_2020(document, proof, resolved.public_key)
            elif suite == suites.JCS_SUITE:
                suites.verify_jcs(document, proof, resolved.public_key)
            elif suite == suites.LEGACY_SUITE:
                suites.verify_legacy_rdfc(document, proof, resolved.public_key)
            else:
                dataintegrity.verify_proof(document, proof, resolved.public_key)
        except (dataintegrity.ProofError, jsonld.ContextError, ValueError) as error:
            return ProofOutcome(_proof_failure(error), _key_pass(resolved), resolved)
    assert resolved is not None  # noqa: S101 - ours is non-empty
    extra = len(found) - len(ours)
    message = _("The issuer's signature is intact: nothing was changed after signing.")
    detail = (
        _("%(n)s other proof(s) of an unknown type were ignored.") % {"n": extra} if extra else ""
    )
    if any(p.get("type") == suites.ED25519_2020 for p in ours):
        older = _("Signed with the older “Ed25519Signature2020” method; it checks out.")
        return ProofOutcome(
            Check("proof", Status.PASS, "legacy_suite", message, older),
            _key_pass(resolved),
            resolved,
        )
    if any(p.get("cryptosuite") == suites.LEGACY_SUITE for p in ours):
        legacy = _("Signed with the older “eddsa-2022” method; it checks out.")
        return ProofOutcome(
            Check("proof", Status.PASS, "legacy_suite", message, legacy),
            _key_pass(resolved),
            resolved,
        )
    return ProofOutcome(
        Check("proof", Status.PASS, "ok", message, detail), _key_pass(resolved), resolved
    )


def _key_pass(resolved: ResolvedKey) -> Check:
    messages = {
        "platform": _("Signed with a current key of this issuer, registered on this platform."),
        "did:key": _("Signed with the issuer's own did:key."),
        "did:web": _("Signed with a key the issuer publishes in its DID document."),
        "https": _("Signed with a key the issuer lists on its own website."),
    }
    return Check(
        "issuer_key", Status.PASS, resolved.how, messages[resolved.how], resolved.method_id
    )


def names(items: list[str]) -> str:
    """Names joined as the reader's language lists them ("A, B" / "A、B")."""
    return pgettext("list separator", ", ").join(items)


def sentences(parts: list[str]) -> str:
    """Sentences one after another: a space between them in English, none in Chinese."""
    text = parts[0] if parts else ""
    for part in parts[1:]:
        text = _("%(first)s %(second)s") % {"first": text, "second": part}
    return text


def registry_problem(code: str) -> str:
    """Why a registry could not be consulted, in words (``verification.registries`` codes)."""
    words = {
        registries.UNREACHABLE: _("could not be reached"),
        registries.TOO_LARGE: _("too large to read"),
        registries.MALFORMED: _("not in the registry format"),
        registries.BLOCKED: _("its address is on an internal network, which is not fetched"),
        registries.UNSUPPORTED: _("a kind of registry this verifier cannot read"),
        registries.BAD_SIGNATURE: _("its signature does not check out"),
        registries.EXPIRED: _("its signed statement has expired"),
    }
    return words.get(code, _("could not be reached"))


def issuer_identity(lookup: registries.Lookup) -> Check:
    """The issuer-identity check: the trusted registries that list the issuer (passed), or a
    warning that none does. Never a failure, and a registry that cannot be read is only named:
    the verdict is the same with or without registries."""
    notes: list[str] = []
    if lookup.problems:
        notes.append(
            _("Could not check: %(registries)s.")
            % {
                "registries": names(
                    [
                        _("%(registry)s (%(problem)s)")
                        % {"registry": p.registry, "problem": registry_problem(p.code)}
                        for p in lookup.problems
                    ]
                )
            }
        )
    if lookup.stale:
        notes.append(
            _("An older saved copy of %(registries)s was used, because it could not be reached.")
            % {"registries": names(lookup.stale)}
        )
    if lookup.listed:
        message = _("Listed in: %(registries)s.") % {"registries": names(lookup.listed_in)}
        return Check("issuer_identity", Status.PASS, "listed", sentences([message, *notes]))
    if lookup.problems:
        message = _("Not listed in any trusted registry that could be checked.")
    else:
        message = _(
            "Not listed in any trusted registry. This is a warning, not a failure: the "
            "signature can still be genuine, but no registry this verifier consults vouches "
            "for who the issuer is."
        )
    return Check("issuer_identity", Status.WARN, "not_listed", sentences([message, *notes]))


def issuer_identity_not_checked() -> Check:
    return Check(
        "issuer_identity",
        Status.SKIP,
        "not_checked",
        _("Not checked, because the signature could not be confirmed."),
    )


def validity(document: dict[str, Any], *, now: datetime) -> Check:
    """``validFrom``/``validUntil`` (VC 2.0) or ``issuanceDate``/``expirationDate`` (VC 1.1)."""
    start_key, end_key = ("validFrom", "validUntil")
    if "validFrom" not in document and "issuanceDate" in document:
        start_key, end_key = ("issuanceDate", "expirationDate")
    start, end = document.get(start_key), document.get(end_key)
    start_at, end_at = _parse_date(start), _parse_date(end)
    if (start is not None and start_at is None) or (end is not None and end_at is None):
        return Check("validity", Status.FAIL, "bad_date", _("The badge's dates are malformed."))
    if start_at is not None and start_at > now:
        return Check(
            "validity",
            Status.FAIL,
            "not_yet_valid",
            _("The badge only becomes valid on %(date)s.") % {"date": when(start)},
        )
    if end_at is not None and end_at <= now:
        return Check(
            "validity",
            Status.FAIL,
            "expired",
            _("The badge expired on %(date)s.") % {"date": when(end)},
        )
    if end_at is not None:
        return Check(
            "validity",
            Status.PASS,
            "ok",
            _("Within its validity period (valid until %(date)s).") % {"date": when(end)},
        )
    return Check("validity", Status.PASS, "ok", _("Valid from its issue date, with no expiry."))


def identifier_matched(kind: str) -> Check:
    """The passed recipient check for a typed identifier that matched an ``IdentityObject``
    of ``kind`` (``studentId`` or ``sourcedId``), saying which it was."""
    message = (
        _("Issued to the student number you entered.")
        if kind == "studentId"
        else _("Issued to the sign-in name you entered.")
    )
    return Check("recipient", Status.PASS, "match", message, kind)


def _identities(document: dict[str, Any]) -> list[dict[str, Any]]:
    subject = _subject(document)
    identities = subject.get("identifier", []) if isinstance(subject, dict) else []
    identities = identities if isinstance(identities, list) else [identities]
    return [i for i in identities if isinstance(i, dict)]


def _subject(document: dict[str, Any]) -> Any:
    subject = document.get("credentialSubject")
    return subject[0] if isinstance(subject, list) and subject else subject


def no_subject_id(*, asked: bool) -> Check:
    """The recipient check of a credential whose subject has neither ``id`` nor
    ``identifier``, on VC 1.1 and VC 2.0 alike.

    OB 3.0 (and CLR 2.0) say one MUST be given, but the 1EdTech JSON schema does not require
    either (``AchievementSubject.required`` is ``type`` and ``achievement``), so a
    schema-valid, genuinely signed badge can lack both. We follow the schema: a warning, not a
    failure; the signature, key, dates and status are judged as usual. When a recipient was
    asked about, the question cannot be answered: ``unknown``.
    """
    if asked:
        return Check(
            "recipient",
            Status.UNKNOWN,
            "no_subject_id",
            _(
                "The badge does not say who it was issued to (it has no recipient id or "
                "identifier), so it cannot be checked against what you entered."
            ),
        )
    return Check(
        "recipient",
        Status.WARN,
        "no_subject_id",
        _(
            "The badge does not say who it was issued to (it has no recipient id or "
            "identifier). Open Badges 3.0 asks for one, but its official schema does not "
            "enforce it, so this is only a warning: the issuer's signature can still be "
            "genuine, but nothing ties the badge to a particular person."
        ),
    )


def recipient(document: dict[str, Any], email: str) -> Check:
    """Hash what was typed (an e-mail address, a student number or a sign-in name) with the
    credential's salt and compare it with each ``IdentityObject`` of its kind (OB 3.0 §1.4);
    never store it. A match names what matched: the check's ``detail`` is the matched
    ``identityType`` when it is an institutional identifier. A subject named by neither
    ``id`` nor ``identifier`` is reported here, whatever the VC version (:func:`no_subject_id`)."""
    typed = email
    if not ob3check.has_subject_id(_subject(document)):
        return no_subject_id(asked=bool(typed.strip()))
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
    identities = _identities(document)
    emails = [i for i in identities if i.get("identityType") == "emailAddress"]
    institutional = [i for i in identities if ob3.identifier_kind(i.get("identityType"))]
    if not emails and not institutional:
        return Check(
            "recipient",
            Status.UNKNOWN,
            "no_email_identity",
            _(
                "The badge names its recipient neither by e-mail nor by student number or "
                "sign-in name, so the recipient cannot be checked."
            ),
        )
    if any(ob3.email_matches(typed, identity) for identity in emails):
        return Check(
            "recipient", Status.PASS, "match", _("Issued to the e-mail address you entered.")
        )
    for identity in institutional:
        if ob3.identifier_matches(typed, identity):
            return identifier_matched(str(ob3.identifier_kind(identity["identityType"])))
    return not_recipient(typed)


def not_recipient(typed: str) -> Check:
    """The failed recipient check, worded for what was typed: an address, or an identifier
    (``detail`` "identifier", which the report's headline follows)."""
    if "@" in typed:
        return Check(
            "recipient",
            Status.FAIL,
            "no_match",
            _("Not this recipient: the badge was not issued to the e-mail address you entered."),
        )
    return Check(
        "recipient",
        Status.FAIL,
        "no_match",
        _(
            "Not this recipient: the badge was not issued to the student number or sign-in "
            "name you entered."
        ),
        "identifier",
    )


def endorsements(
    document: dict[str, Any],
    *,
    now: datetime,
    status_of: Callable[[dict[str, Any]], Check] | None = None,
) -> Check:
    """Each ``EndorsementCredential`` is verified like a credential (research §1.8): embedded
    ones (``endorsement``) by their Data Integrity proof and, with ``status_of``, their
    ``credentialStatus`` (a withdrawn endorsement is reported), compact ones
    (``endorsementJwt``, OB 3.0 §B.1.x) as VC-JWTs. The check names the endorsers of those
    that verified (``endorsed_by``)."""
    embedded: list[Any] = []
    compact: list[Any] = []
    for holder in (document, _achievement(document), _issuer(document)):
        if not isinstance(holder, dict):
            continue
        for key, into in (("endorsement", embedded), ("endorsementJwt", compact)):
            items = holder.get(key, [])
            into += items if isinstance(items, list) else [items]
    total = len(embedded) + len(compact)
    if not total:
        return Check("endorsements", Status.SKIP, "none", _("No endorsements."))
    good: list[dict[str, Any]] = []
    withdrawn = 0
    for item in embedded:
        if not isinstance(item, dict):
            continue
        outcome = proof_and_key(item, now=now)
        if outcome.proof.status is not Status.PASS or outcome.key.status is not Status.PASS:
            continue
        if status_of is not None and item.get("credentialStatus") is not None:
            state = status_of(item)
            if state.status is Status.FAIL:
                withdrawn += 1
                continue
            if state.status is not Status.PASS:
                continue
        good.append(item)
    for token in compact:
        if not isinstance(token, str):
            continue
        try:
            decoded = vcjwt.decode(token)
        except vcjwt.VcJwtError:
            continue
        results = jwtcheck.proof_and_key(decoded, issuer_id(decoded.credential), now=now)
        if all(result.status is Status.PASS for result in results):
            good.append(decoded.credential)
    names = tuple(endorsement.endorser_names(good))
    verified = len(good)
    if verified == total:
        return Check(
            "endorsements",
            Status.PASS,
            "ok",
            _("%(n)s endorsement(s), all verified.") % {"n": verified},
            endorsed_by=names,
        )
    if verified + withdrawn == total:
        return Check(
            "endorsements",
            Status.WARN,
            "withdrawn",
            _("%(bad)s of %(n)s endorsement(s) withdrawn by the endorser; ignore what they claim.")
            % {"bad": withdrawn, "n": total},
            endorsed_by=names,
        )
    return Check(
        "endorsements",
        Status.WARN,
        "unverified",
        _("%(bad)s of %(n)s endorsement(s) could not be verified; ignore what they claim.")
        % {"bad": total - verified, "n": total},
        endorsed_by=names,
    )


def _achievement(document: dict[str, Any]) -> dict[str, Any]:
    subject = document.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    found = subject.get("achievement") if isinstance(subject, dict) else None
    return found if isinstance(found, dict) else {}


def _issuer(document: dict[str, Any]) -> dict[str, Any]:
    found = document.get("issuer")
    return found if isinstance(found, dict) else {}
