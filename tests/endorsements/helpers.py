"""Shared set-up: the rival college (another institution) endorses the polytechnic."""

from __future__ import annotations

from badges.models import AchievementVersion
from endorsements import services
from endorsements.models import Endorsement
from tests.base import Cast


def endorse_issuer(cast: Cast, comment: str = "Rigorous engineering courses.") -> Endorsement:
    """The rival college's issuer endorses the polytechnic's issuer, as its owner."""
    return services.endorse(
        actor=cast.outsider,
        endorser=cast.other_issuer,
        subject=services.Subject(issuer=cast.issuer),
        comment=comment,
        language="en",
    )


def endorse_achievement(
    cast: Cast, version: AchievementVersion, comment: str = "We accept it for credit."
) -> Endorsement:
    return services.endorse(
        actor=cast.outsider,
        endorser=cast.other_issuer,
        subject=services.Subject(achievement=version.achievement),
        comment=comment,
        language="en",
    )
