"""The signed links in an award e-mail: the claim link (the award's id) and the "opened"
pixel (the notification's id). Signed, so nothing is looked up to forge one."""

from __future__ import annotations

import uuid

from django.core import signing

from badges.models import Award, AwardNotification

_CLAIM_SALT = "insignia.badges.claim"
_OPEN_SALT = "insignia.badges.opened"


def claim_token(award: Award) -> str:
    """The token in the claim link: the award's id, signed (no database lookup to forge)."""
    return signing.Signer(salt=_CLAIM_SALT).sign(str(award.pk))


def award_for_token(token: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(signing.Signer(salt=_CLAIM_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def open_token(notification: AwardNotification) -> str:
    return signing.Signer(salt=_OPEN_SALT).sign(str(notification.pk))


def notification_for_token(token: str) -> int | None:
    try:
        return int(signing.Signer(salt=_OPEN_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
