"""From our models to the plain data ``openbadges.ob3`` builds credentials from (DESIGN.md §5),
and back: the names a stored credential states.

Every identifier is absolute, on ``INSIGNIA_BASE_URL``. A credential is issued in one
language: the OB 3.0.3 context defines no language maps, so ``inLanguage`` names it. What a
version's framework placement adds (alignments, credit value) is given as plain
:class:`FrameworkFacts`, computed above this app by ``frameworks.catalogue.export``.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation

from badges.models import AchievementVersion, Award, Language
from issuers.keys import issuer_did
from issuers.models import Issuer
from openbadges import ob3
from openbadges.microcredential import MicroCredentialRecord


def absolute(path: str) -> str:
    """``path`` on the public origin."""
    return settings.INSIGNIA_BASE_URL + path


def version_url(version: AchievementVersion) -> str:
    """The version's URL: the ``id`` of the OB 3.0 ``Achievement`` a credential embeds."""
    return absolute(reverse("achievement_version", args=[version.achievement_id, version.number]))


def credential_url(award_id: object) -> str:
    """The credential's ``id``: ``/credentials/<uuid>`` on the public origin."""
    if not isinstance(award_id, uuid.UUID):
        award_id = uuid.UUID(str(award_id))
    before, after = _credential_path(get_script_prefix(), get_urlconf())
    return absolute(f"{before}{award_id}{after}")


@functools.lru_cache(maxsize=16)
def _credential_path(script_prefix: str, urlconf: str | None) -> tuple[str, str]:
    # reverse() walks the URL patterns on every call; a bulk chunk needs 100 of these URLs.
    # The two arguments are the cache key: what reverse() reads besides the name.
    placeholder = uuid.UUID(int=0)
    path = reverse("credential", args=[placeholder], urlconf=urlconf)
    before, _found, after = path.partition(str(placeholder))
    return before, after


def image_url(image_id: object) -> str:
    return absolute(reverse("image", args=[image_id]))


def badge_image_path(version: AchievementVersion) -> str:
    """Where a page shows the version's badge image: the uploaded one, or the image generated
    for versions without one."""
    if version.image_id:
        return reverse("image", args=[version.image_id])
    return reverse("achievement_image", args=[version.achievement_id, version.number])


def language_of(language: str) -> str:
    """Normalise a language code to ``en`` or ``zh-Hans``."""
    return Language.ZH_HANS if language.lower().startswith("zh") else Language.EN


def reader_language(version: AchievementVersion) -> str:
    """The language to show ``version`` in: the reader's, if the version has complete text
    in it, else the version's first."""
    wanted = language_of(translation.get_language() or "en")
    available = version.languages()
    return wanted if wanted in available or not available else available[0]


def _text(obj: Any, field: str, language: str) -> str:
    suffix = "zh" if language == Language.ZH_HANS else "en"
    return str(getattr(obj, f"{field}_{suffix}", "") or getattr(obj, f"{field}_en", ""))


def issuer_profile(issuer: Issuer, language: str) -> ob3.Profile:
    """The issuer ``Profile`` embedded in credentials; ``id`` is its did:web."""
    return ob3.Profile(
        id=issuer_did(issuer),
        name=_text(issuer, "name", language),
        url=issuer.url or None,
        email=issuer.email or None,
        description=_text(issuer, "description", language) or None,
        image=ob3.Image(image_url(issuer.image_id)) if issuer.image_id else None,
    )


def profile_document(issuer: Issuer, language: str) -> dict[str, Any]:
    """The JSON-LD ``Profile`` served at ``/issuers/<slug>`` (OB 3.0 §B.2.6)."""
    return {
        "@context": list(ob3.CREDENTIAL_CONTEXT),
        **ob3.profile_json(issuer_profile(issuer, language)),
    }


def result_description_id(version_id: str, index: int) -> str:
    """The ``id`` of the version's ``index``-th ``ResultDescription`` (from 1), given the
    version's URL."""
    return f"{version_id}#result-{index}"


def result_descriptions(version: AchievementVersion, language: str) -> list[ob3.ResultDescription]:
    base = version_url(version)
    described = []
    for index, item in enumerate(version.result_descriptions, start=1):
        name = item.get("name_zh" if language == Language.ZH_HANS else "name_en") or item.get(
            "name_en", ""
        )
        described.append(
            ob3.ResultDescription(
                id=result_description_id(base, index),
                name=str(name),
                result_type=str(item.get("result_type", "Result")),
                allowed_value=tuple(str(v) for v in item.get("allowed_values", [])),
            )
        )
    return described


@dataclass(frozen=True)
class FrameworkFacts:
    """What a version's framework placement adds to its OB 3.0 ``Achievement``, as plain
    values: level and competency ``alignment``, ``creditsAvailable`` and a sentence naming
    level, credits (with their unit) and hours for the description, and the EU
    micro-credential elements OB 3.0 has no property for."""

    alignments: tuple[ob3.Alignment, ...] = ()
    credits_available: float | None = None
    description_note: str = ""
    #: The EU Annex I elements OB 3.0 has no property for (``openbadges.microcredential``).
    microcredential: MicroCredentialRecord | None = None


def achievement(
    version: AchievementVersion, language: str, facts: FrameworkFacts
) -> ob3.Achievement:
    """The OB 3.0 ``Achievement`` of ``version`` in ``language``, pinned to the version."""
    description = version.text("description", language)
    if facts.description_note:
        description = f"{description}\n\n{facts.description_note}"
    return ob3.Achievement(
        id=version_url(version),
        version=str(version.number),
        name=version.text("name", language),
        description=description,
        criteria_narrative=version.text("criteria", language),
        image=ob3.Image(image_url(version.image_id)) if version.image_id else None,
        achievement_type=version.achievement_type,
        tags=tuple(str(tag) for tag in version.tags),
        in_language=language,
        result_descriptions=tuple(result_descriptions(version, language)),
        alignments=facts.alignments,
        credits_available=facts.credits_available,
        microcredential=facts.microcredential,
    )


def achievement_document(version: AchievementVersion, described: ob3.Achievement) -> dict[str, Any]:
    """The JSON-LD ``Achievement`` served at the version's URL, with its ``creator``."""
    document: dict[str, Any] = {
        "@context": ob3.credential_context(described),
        **ob3.achievement_json(described),
    }
    language = described.in_language or Language.EN
    document["creator"] = ob3.profile_json(issuer_profile(version.achievement.issuer, language))
    return document


def credential_name(award: Award) -> str:
    """The achievement's name as the stored credential states it (its language)."""
    document = award.credential
    stated = document.get("credentialSubject", {}).get("achievement", {})
    return str(stated.get("name") or document.get("name") or award.achievement_version.name)


def issuer_name(award: Award) -> str:
    """The issuer's name as the stored credential states it."""
    return str(award.credential.get("issuer", {}).get("name") or award.issuer.name)
