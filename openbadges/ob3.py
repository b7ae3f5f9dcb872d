"""Open Badges 3.0 ``OpenBadgeCredential`` builder (DESIGN.md §5, research §0-§1).

Plain typed data in, a JSON-ready ``dict`` out. The output follows the strict 1EdTech JSON
binding: ``type`` arrays except on ``Image``/``IdentityObject``/``credentialStatus``, one
``credentialStatus`` object, embedded issuer ``Profile``, and no ``null`` values or empty arrays
("Null values and empty arrays MUST be omitted", OB 3.0 serialization.md). Structural checks of
any OB 3.0 credential live in :mod:`openbadges.ob3check`.

About 500 lines: the builder and the recipient's ``IdentityObject`` (hashing and matching an
e-mail address, a student number or a sign-in name) belong together, as the standard has them.
The EU micro-credential elements OB 3.0 has no property for are in
:mod:`openbadges.microcredential`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from openbadges.microcredential import MICROCREDENTIAL_CONTEXT as MICROCREDENTIAL_CONTEXT
from openbadges.microcredential import MicroCredentialRecord as MicroCredentialRecord
from openbadges.microcredential import microcredential_json

VC_CONTEXT_V2: Final = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT: Final = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
#: research §1.1: exactly these two, in this order.
CREDENTIAL_CONTEXT: Final = (VC_CONTEXT_V2, OB_CONTEXT)
DATETIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"

JsonObject = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Input data
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Image:
    """OB 3.0 ``Image`` (§1.6): an https or data: URL of a PNG/SVG, optional caption."""

    id: str
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """The issuer ``Profile`` embedded in the credential (§1.3); ``id`` is its did:web."""

    id: str
    name: str
    url: str | None = None
    email: str | None = None
    image: Image | None = None
    description: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Alignment:
    """OB 3.0 ``Alignment`` (§1.5): a framework level or competency the achievement maps to."""

    target_name: str
    target_url: str
    target_code: str | None = None
    target_description: str | None = None
    target_framework: str | None = None
    target_type: str | None = None


@dataclass(frozen=True, slots=True)
class ResultDescription:
    """OB 3.0 ``ResultDescription`` (§1.5)."""

    id: str
    name: str
    result_type: str
    allowed_value: Sequence[str] = ()
    required_value: str | None = None
    value_min: str | None = None
    value_max: str | None = None


@dataclass(frozen=True, slots=True)
class Achievement:
    """OB 3.0 ``Achievement`` (§1.5); ``id`` is the URL of the achievement *version*."""

    id: str
    name: str
    description: str
    criteria_narrative: str
    version: str | None = None
    criteria_id: str | None = None
    image: Image | None = None
    achievement_type: str | None = None
    tags: Sequence[str] = ()
    in_language: str | None = None
    alignments: Sequence[Alignment] = ()
    credits_available: float | None = None
    result_descriptions: Sequence[ResultDescription] = ()
    human_code: str | None = None
    field_of_study: str | None = None
    specialization: str | None = None
    microcredential: MicroCredentialRecord | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """OB 3.0 ``Evidence`` (§1.6). Prefer an https/urn ``id`` over a large data: URI."""

    id: str | None = None
    narrative: str | None = None
    name: str | None = None
    description: str | None = None
    genre: str | None = None
    audience: str | None = None


@dataclass(frozen=True, slots=True)
class Result:
    """OB 3.0 ``Result`` (§B.2.14): the learner's ``value`` for one ``ResultDescription`` of
    the achievement, named by that description's ``id``."""

    result_description: str
    value: str


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """A W3C ``BitstringStatusListEntry`` (Bitstring Status List §2.1, research §4.1)."""

    status_list_credential: str
    status_list_index: int
    status_purpose: str = "revocation"


@dataclass(frozen=True, slots=True)
class Recipient:
    """The learner: an e-mail address, an institutional identifier (``identifier_type`` one
    of :data:`IDENTIFIER_TYPES`), or both; each hashed with the same per-award salt
    (research §0.5)."""

    email: str = ""
    salt: str = field(default_factory=lambda: new_salt())
    did: str | None = None
    identifier_type: str = ""
    identifier: str = ""


# --------------------------------------------------------------------------------------------
# Recipient identity (OB 3.0 IdentityObject, §1.4)
# --------------------------------------------------------------------------------------------


def new_salt() -> str:
    """A fresh salt for one award: 128 random bits as 32 hex characters (DESIGN.md §5)."""
    return secrets.token_hex(16)


def normalize_email(email: str) -> str:
    """Trim surrounding whitespace and lower-case an address before hashing (research §9.12)."""
    return email.strip().lower()


def identity_hash(value: str, salt: str) -> str:
    """``IdentityHash``: ``"sha256$" + hex(SHA-256(UTF-8(value + salt)))`` (OB 3.0 §B.1.13)."""
    return "sha256$" + hashlib.sha256((value + salt).encode("utf-8")).hexdigest()


def email_identity(email: str, salt: str) -> JsonObject:
    """The hashed ``IdentityObject`` for an e-mail (normalized first); no plaintext e-mail."""
    return {
        "type": "IdentityObject",
        "identityType": "emailAddress",
        "hashed": True,
        "identityHash": identity_hash(normalize_email(email), salt),
        "salt": salt,
    }


#: The institutional identifiers an award can be made to: a student number, or the
#: institution's sign-in name for a person (eduPersonPrincipalName or SAML ``subject-id``,
#: e.g. ``jdoe@uni.ac.nz``).
IDENTIFIER_TYPES: Final = ("studentId", "sourcedId")

#: The ``identityType`` each is written with in a credential. OB 3.0's ``IdentifierTypeEnum``
#: (§B.3) has ``sourcedId`` but no term for a student number, and is extensible only by terms
#: with the ``ext:`` prefix (1EdTech's strict JSON schema refuses anything else), so a
#: student number is ``ext:studentId``.
IDENTITY_TYPES: Final = {"studentId": "ext:studentId", "sourcedId": "sourcedId"}


def identifier_kind(identity_type: object) -> str | None:
    """Which of :data:`IDENTIFIER_TYPES` an ``IdentityObject``'s ``identityType`` is, if any
    (the bare ``studentId`` of issuers that skip the prefix too)."""
    for kind, written in IDENTITY_TYPES.items():
        if identity_type in (kind, written):
            return kind
    return None


def normalize_identifier(identity_type: str, value: str) -> str:
    """An identifier as it is hashed and matched: surrounding and inner spaces removed; a
    scoped sign-in name (``sourcedId``) lower-cased, as e-mail addresses are. A student
    number keeps its case (``A0123`` and ``a0123`` may be two students)."""
    cleaned = "".join(value.split())
    return cleaned.lower() if identity_type == "sourcedId" else cleaned


def identifier_identity(identity_type: str, value: str, salt: str) -> JsonObject:
    """The hashed ``IdentityObject`` for an institutional identifier (normalized first)."""
    if identity_type not in IDENTIFIER_TYPES:
        raise ValueError(f"not an institutional identifier type: {identity_type!r}")
    return {
        "type": "IdentityObject",
        "identityType": IDENTITY_TYPES[identity_type],
        "hashed": True,
        "identityHash": identity_hash(normalize_identifier(identity_type, value), salt),
        "salt": salt,
    }


def identifier_matches(typed: str, identity: JsonObject) -> bool:
    """Does a typed student number or sign-in name match an ``IdentityObject`` of an
    institutional identifier type (:func:`identifier_kind`)? Tries what was typed and its
    normalized form."""
    kind = identifier_kind(identity.get("identityType"))
    if kind is None:
        return False
    stored = identity.get("identityHash")
    if not isinstance(stored, str):
        return False
    candidates = {typed.strip(), normalize_identifier(kind, typed)}
    if identity.get("hashed") is not True:
        return any(_same(c, stored) for c in candidates)
    algorithm, _, digest = stored.partition("$")
    salt = identity.get("salt") or ""
    if algorithm.lower() != "sha256" or not digest or not isinstance(salt, str):
        return False
    return any(
        _same(hashlib.sha256((c + salt).encode("utf-8")).hexdigest(), digest.lower())
        for c in candidates
    )


def _same(typed: str, stored: str) -> bool:
    """Constant-time equality of two texts. ``hmac.compare_digest`` refuses ``str`` holding
    anything but ASCII (a typed 李华@例子.中国 was a 500), so it compares their UTF-8 bytes."""
    return hmac.compare_digest(
        typed.encode("utf-8", "surrogatepass"), stored.encode("utf-8", "surrogatepass")
    )


def recipient_identities(recipient: Recipient) -> list[JsonObject]:
    """The recipient's hashed ``IdentityObject`` values for ``credentialSubject.identifier``:
    the e-mail's first if there is one, then the institutional identifier's. Raises
    ``ValueError`` for a recipient with neither."""
    identities = []
    if recipient.email.strip():
        identities.append(email_identity(recipient.email, recipient.salt))
    if recipient.identifier_type or recipient.identifier:
        if not normalize_identifier(recipient.identifier_type, recipient.identifier):
            raise ValueError("an identifier type needs an identifier")
        identities.append(
            identifier_identity(recipient.identifier_type, recipient.identifier, recipient.salt)
        )
    if not identities:
        raise ValueError("a recipient needs an e-mail address or an identifier")
    return identities


def email_matches(typed_email: str, identity: JsonObject) -> bool:
    """Does a typed e-mail match an ``emailAddress`` IdentityObject? (OB 3.0 verification §1.4)

    Tries exactly what was typed and its normalized form; hex case is ignored; ``sha256`` and
    legacy ``md5`` hashes and ``hashed: false`` plaintext are understood.
    """
    if identity.get("identityType") != "emailAddress":
        return False
    stored = identity.get("identityHash")
    if not isinstance(stored, str):
        return False
    candidates = {typed_email, normalize_email(typed_email)}
    if identity.get("hashed") is not True:
        return any(_same(c, stored) for c in candidates) or (normalize_email(stored) in candidates)
    algorithm, _, digest = stored.partition("$")
    if algorithm.lower() not in ("sha256", "md5") or not digest:
        return False
    salt = identity.get("salt") or ""
    if not isinstance(salt, str):
        return False
    for candidate in candidates:
        computed = hashlib.new(algorithm.lower(), (candidate + salt).encode("utf-8")).hexdigest()
        if _same(computed, digest.lower()):
            return True
    return False


# --------------------------------------------------------------------------------------------
# Builder
# --------------------------------------------------------------------------------------------


def format_datetime(value: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ssZ`` in UTC (OB DateTimeZ); naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("credential dates must be timezone-aware")
    return value.astimezone(UTC).strftime(DATETIME_FORMAT)


def _compact(obj: JsonObject) -> JsonObject:
    # serialization.md: "Null values and empty arrays MUST be omitted".
    return {k: v for k, v in obj.items() if v is not None and v != [] and v != ()}


def _number(value: float) -> int | float:
    # JSON numbers; 5.0 credits serialize as 5, matching what a JSON round trip yields.
    return int(value) if float(value).is_integer() else float(value)


def image_json(image: Image) -> JsonObject:
    """``Image`` object; its ``type`` is the string ``"Image"`` (research §0.3)."""
    return _compact({"id": image.id, "type": "Image", "caption": image.caption})


def profile_json(profile: Profile) -> JsonObject:
    """Embedded issuer ``Profile`` with ``type: ["Profile"]`` (research §0.4)."""
    return _compact(
        {
            "id": profile.id,
            "type": ["Profile"],
            "name": profile.name,
            "url": profile.url,
            "email": profile.email,
            "phone": profile.phone,
            "description": profile.description,
            "image": image_json(profile.image) if profile.image else None,
        }
    )


def alignment_json(alignment: Alignment) -> JsonObject:
    """``Alignment`` object (``type: ["Alignment"]``)."""
    return _compact(
        {
            "type": ["Alignment"],
            "targetName": alignment.target_name,
            "targetUrl": alignment.target_url,
            "targetCode": alignment.target_code,
            "targetDescription": alignment.target_description,
            "targetFramework": alignment.target_framework,
            "targetType": alignment.target_type,
        }
    )


def result_description_json(description: ResultDescription) -> JsonObject:
    """``ResultDescription`` object (``type: ["ResultDescription"]``)."""
    return _compact(
        {
            "id": description.id,
            "type": ["ResultDescription"],
            "name": description.name,
            "resultType": description.result_type,
            "allowedValue": list(description.allowed_value),
            "requiredValue": description.required_value,
            "valueMin": description.value_min,
            "valueMax": description.value_max,
        }
    )


def credential_context(achievement: Achievement) -> list[str]:
    """The ``@context`` of a document embedding ``achievement``: OB 3.0's, then Insignia's
    micro-credential context if the achievement carries Annex I elements."""
    extra = [MICROCREDENTIAL_CONTEXT] if achievement.microcredential else []
    return [*CREDENTIAL_CONTEXT, *extra]


def achievement_json(achievement: Achievement) -> JsonObject:
    """``Achievement`` object pinned to a version (DESIGN.md §5), with its Annex I elements
    (:func:`microcredential_json`) last."""
    criteria = _compact(
        {"id": achievement.criteria_id, "narrative": achievement.criteria_narrative}
    )
    credits = achievement.credits_available
    record = achievement.microcredential
    annex = microcredential_json(record) if record is not None else {}
    return _compact(
        {
            "id": achievement.id,
            "type": ["Achievement"],
            "version": achievement.version,
            "name": achievement.name,
            "description": achievement.description,
            "criteria": criteria,
            "image": image_json(achievement.image) if achievement.image else None,
            "achievementType": achievement.achievement_type,
            "humanCode": achievement.human_code,
            "fieldOfStudy": achievement.field_of_study,
            "specialization": achievement.specialization,
            "creditsAvailable": _number(credits) if credits is not None else None,
            "inLanguage": achievement.in_language,
            "tag": list(achievement.tags),
            "alignment": [alignment_json(a) for a in achievement.alignments],
            "resultDescription": [
                result_description_json(r) for r in achievement.result_descriptions
            ],
            **annex,
        }
    )


def evidence_json(evidence: Evidence) -> JsonObject:
    """``Evidence`` object (``type: ["Evidence"]``)."""
    return _compact(
        {
            "id": evidence.id,
            "type": ["Evidence"],
            "name": evidence.name,
            "narrative": evidence.narrative,
            "description": evidence.description,
            "genre": evidence.genre,
            "audience": evidence.audience,
        }
    )


def status_json(entry: StatusEntry) -> JsonObject:
    """``BitstringStatusListEntry``; the index is a base-10 string, ``id`` = list URL#index."""
    if entry.status_list_index < 0:
        raise ValueError("statusListIndex must be >= 0")
    index = str(entry.status_list_index)
    return {
        "id": f"{entry.status_list_credential}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": entry.status_purpose,
        "statusListIndex": index,
        "statusListCredential": entry.status_list_credential,
    }


def result_json(result: Result) -> JsonObject:
    """An OB 3.0 ``Result`` object."""
    return {
        "type": ["Result"],
        "resultDescription": result.result_description,
        "value": result.value,
    }


def build_credential(
    *,
    id: str,
    issuer: Profile,
    achievement: Achievement,
    recipient: Recipient,
    valid_from: datetime,
    valid_until: datetime | None = None,
    awarded_date: datetime | None = None,
    name: str | None = None,
    description: str | None = None,
    image: Image | None = None,
    evidence: Sequence[Evidence] = (),
    narrative: str | None = None,
    credential_status: StatusEntry | None = None,
    credits_earned: float | None = None,
    results: Sequence[Result] = (),
    achievement_endorsements: Sequence[JsonObject] = (),
    issuer_endorsements: Sequence[JsonObject] = (),
) -> JsonObject:
    """Build an unsigned OB 3.0 ``OpenBadgeCredential`` exactly as DESIGN.md §5 describes.

    ``credits_earned`` is ``AchievementSubject.creditsEarned``: give it only when the learner
    earned other than the achievement's ``creditsAvailable`` (partial credit). ``results`` are
    the learner's ``AchievementSubject.result`` values.

    ``name`` defaults to the achievement's name. The recipient is identified by a salted
    SHA-256 of the normalized e-mail and/or institutional identifier, one ``IdentityObject``
    each (plus ``credentialSubject.id`` only if ``recipient.did`` is a proven DID). Sign the
    result with :func:`openbadges.dataintegrity.sign`.

    ``achievement_endorsements`` and ``issuer_endorsements`` are signed
    ``EndorsementCredential`` objects, embedded whole in ``achievement.endorsement`` and
    ``issuer.endorsement`` (OB 3.0 §B.2.1, §B.2.6).
    """
    if valid_until is not None and valid_until <= valid_from:
        raise ValueError("validUntil must be after validFrom")
    subject = _compact(
        {
            "id": recipient.did,
            "type": ["AchievementSubject"],
            "identifier": recipient_identities(recipient),
            "achievement": achievement_json(achievement),
            "narrative": narrative,
            "creditsEarned": _number(credits_earned) if credits_earned is not None else None,
            "result": [result_json(r) for r in results],
        }
    )
    if achievement_endorsements:
        subject["achievement"]["endorsement"] = list(achievement_endorsements)
    issuer_json = profile_json(issuer)
    if issuer_endorsements:
        issuer_json["endorsement"] = list(issuer_endorsements)
    return _compact(
        {
            "@context": credential_context(achievement),
            "id": id,
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "name": name if name is not None else achievement.name,
            "description": description,
            "image": image_json(image) if image else None,
            "issuer": issuer_json,
            "validFrom": format_datetime(valid_from),
            "validUntil": format_datetime(valid_until) if valid_until else None,
            "awardedDate": format_datetime(awarded_date) if awarded_date else None,
            "credentialSubject": subject,
            "evidence": [evidence_json(e) for e in evidence],
            "credentialStatus": status_json(credential_status) if credential_status else None,
        }
    )
