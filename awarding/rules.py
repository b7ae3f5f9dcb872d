"""The rules an award request must meet, written once for every door: the console form, the
CSV upload (its dry run and its chunks), the API, a re-issue and a pathway award.

Each rule raises ``ValidationError`` keyed by the field it is about, so the form, the
upload's row report and the API's error list all say the same thing. Dates typed as a day
mean the end of that day in the deployment's time zone (``TIME_ZONE``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _

from badges.credentials import language_of
from badges.models import AchievementVersion, Award, IdentifierType
from badges.services import EvidenceItem, NewAward
from common.text import check_badge_texts
from frameworks.catalogue import export
from frameworks.models import Placement
from openbadges.ob3 import normalize_email, normalize_identifier


@dataclass(frozen=True)
class AwardRequest:
    """One award of a version to one learner, as the awarder (form, CSV row, API) gives it.

    The learner is named by ``email``, by an institutional identifier (``identifier_type``
    one of ``badges.models.IdentifierType`` and ``identifier``), or by both.
    ``awarded_date`` and ``reissued_from`` are for a re-issue: the new credential keeps the
    first award's ``awardedDate`` and links to it.
    """

    email: str = ""
    identifier_type: str = ""
    identifier: str = ""
    name: str = ""
    evidence: tuple[EvidenceItem, ...] = ()
    narrative: str = ""
    valid_until: datetime | None = None
    result: str = ""
    language: str = ""
    awarded_date: datetime | None = None
    reissued_from: Award | None = None
    credits_earned: Decimal | None = None


def local_zone() -> ZoneInfo:
    """The deployment's time zone, in which typed days begin and end."""
    return ZoneInfo(settings.TIME_ZONE)


def start_of_day(day: date) -> datetime:
    """The first instant of ``day`` in the deployment's time zone."""
    return datetime.combine(day, time.min, tzinfo=local_zone())


def end_of_day(day: date) -> datetime:
    """The last second of ``day`` in the deployment's time zone: a badge "valid until
    30 June" is valid all of 30 June where it is issued, whether that date was typed in the
    form, written in a CSV or XLSX cell, or sent to the API without a time."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=local_zone())


def expiry_of(value: date | datetime) -> datetime:
    """An expiry as given: a day (or a spreadsheet date at midnight) is the end of that day;
    a moment without a zone is in the deployment's zone."""
    if isinstance(value, datetime):
        if value.tzinfo is None and value.time() == time.min:
            return end_of_day(value.date())
        return value if value.tzinfo is not None else value.replace(tzinfo=local_zone())
    return end_of_day(value)


def check_expiry(valid_until: datetime, now: datetime) -> None:
    if valid_until <= now:
        raise ValidationError({"valid_until": _("The expiry date must be in the future.")})


def valid_until_of(
    version: AchievementVersion, valid_from: datetime, given: datetime | None
) -> datetime | None:
    """When the credential expires: the date given, else the version's validity period."""
    if given is not None:
        check_expiry(given, valid_from)
        return given
    if version.validity_days:
        return valid_from + timedelta(days=version.validity_days)
    return None


def check_email(email: str) -> str:
    """The address normalised; refused when empty or not an e-mail address."""
    normalised = normalize_email(email)
    if not normalised:
        raise ValidationError({"email": _("Enter the learner's e-mail address.")})
    try:
        validate_email(normalised)
    except ValidationError:
        raise ValidationError(
            {"email": _("“%(value)s” is not an e-mail address.") % {"value": email.strip()}}
        ) from None
    return normalised


#: The longest identifier kept (``Award.recipient_identifier``).
IDENTIFIER_MAX_LENGTH = 256


def check_identifier(identifier_type: str, identifier: str) -> str:
    """The identifier normalized (``openbadges.ob3.normalize_identifier``); refused when its
    type is not one of ``IdentifierType``, or when it is empty, longer than 256 characters or
    holds control characters."""
    if identifier_type not in IdentifierType.values:
        raise ValidationError(
            {
                "identifier_type": _(
                    "Choose whether the identifier is a student number or a sign-in name."
                )
            }
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in identifier.strip()):
        raise ValidationError(
            {"identifier": _("The identifier contains control characters; type it again.")}
        )
    normalized = normalize_identifier(identifier_type, identifier)
    if not normalized:
        raise ValidationError({"identifier": _("Enter the identifier.")})
    if len(normalized) > IDENTIFIER_MAX_LENGTH:
        raise ValidationError(
            {
                "identifier": _("The identifier is longer than %(n)s characters.")
                % {"n": IDENTIFIER_MAX_LENGTH}
            }
        )
    return normalized


def check_recipient(email: str, identifier_type: str, identifier: str) -> tuple[str, str, str]:
    """Who the award is made to: ``(email, identifier_type, identifier)`` normalized, the
    unused ones "". An e-mail address, an identifier, or both; refused with neither."""
    given_identifier = bool(identifier.strip() or identifier_type)
    if not email.strip() and not given_identifier:
        raise ValidationError(
            {
                "email": _(
                    "Enter the learner's e-mail address, a student number or sign-in name, or both."
                )
            }
        )
    checked_email = check_email(email) if email.strip() else ""
    if not given_identifier:
        return checked_email, "", ""
    return checked_email, identifier_type, check_identifier(identifier_type, identifier)


def check_evidence_url(url: str) -> None:
    """An evidence id must be an absolute http(s) IRI (JSON-LD safe mode refuses others)."""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(
            {"evidence": _("Evidence links must start with https:// or http://.")}
        ) from None


def clean_evidence(items: Sequence[EvidenceItem]) -> tuple[EvidenceItem, ...]:
    """The evidence items that say something, their links checked."""
    kept = tuple(
        EvidenceItem(url=item.url.strip(), narrative=item.narrative)
        for item in items
        if item.url.strip() or item.narrative.strip()
    )
    for item in kept:
        if item.url:
            check_evidence_url(item.url)
    return kept


def check_result(version: AchievementVersion, result: str) -> None:
    """The learner's result must be one of the version's first result description's values."""
    if not version.result_descriptions:
        raise ValidationError({"result": _("This micro-credential records no result.")})
    allowed = [str(v) for v in (version.result_descriptions[0].get("allowed_values") or [])]
    if allowed and result not in allowed:
        raise ValidationError(
            {"result": _("Use one of: %(values)s.") % {"values": ", ".join(allowed)}}
        )


def credit_value(placement: Placement | None) -> float | None:
    """The version's credit value (``creditsAvailable``), if its placement gives one."""
    return export.credits_available(placement)


def credits_earned_value(earned: Decimal | None, available: float | None) -> float | None:
    """``creditsEarned`` for the credential: None when not given or equal to the credit value;
    refused when the version has no credit value or it is outside 0 … the credit value."""
    if earned is None:
        return None
    if available is None:
        raise ValidationError(
            {"credits_earned": _("This micro-credential has no credit value to earn part of.")}
        )
    if not earned.is_finite() or earned < 0 or earned > Decimal(str(available)):
        raise ValidationError(
            {
                "credits_earned": _("Credits earned must be between 0 and %(credits)s.")
                % {"credits": f"{available:g}"}
            }
        )
    if earned != earned.quantize(Decimal("0.01")):
        raise ValidationError(
            {"credits_earned": _("Give credits earned with at most two decimals.")}
        )
    return None if earned == Decimal(str(available)) else float(earned)


def language_for(given: str, available: Sequence[str]) -> str:
    """The credential's language: the one asked for, else the version's first; refused when
    the version has no complete text in it."""
    language = language_of(given) if given else (available[0] if available else "")
    if language not in available:
        raise ValidationError(
            {"language": _("This version has no complete text in that language.")}
        )
    return language


def check_request(
    request: AwardRequest,
    *,
    version: AchievementVersion,
    languages: Sequence[str],
    now: datetime,
    credits_available: float | None,
) -> NewAward:
    """Every rule for one request (``languages``: those the version has complete text in);
    the award as plain values, or ``ValidationError``."""
    check_badge_texts(
        {
            "name": request.name,
            "narrative": request.narrative,
            "evidence": [(item.url, item.narrative) for item in request.evidence],
            "result": request.result,
        }
    )
    if request.result:
        check_result(version, request.result)
    email, identifier_type, identifier = check_recipient(
        request.email, request.identifier_type, request.identifier
    )
    return NewAward(
        email=email,
        identifier_type=identifier_type,
        identifier=identifier,
        language=language_for(request.language, languages),
        name=request.name,
        valid_until=valid_until_of(version, now, request.valid_until),
        evidence=clean_evidence(request.evidence),
        narrative=request.narrative,
        result=request.result,
        credits_earned=credits_earned_value(request.credits_earned, credits_available),
        awarded_date=request.awarded_date,
        reissued_from=request.reissued_from,
    )
