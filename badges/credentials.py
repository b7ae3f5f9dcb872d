"""From our models to the plain data ``openbadges.ob3`` builds credentials from (DESIGN.md §5).

Every identifier is absolute, on ``INSIGNIA_BASE_URL``. A credential is issued in one
language: the OB 3.0.3 context defines no language maps, so ``inLanguage`` names it.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from badges.models import AchievementVersion, Language
from issuers.keys import issuer_did
from issuers.models import Issuer
from openbadges import ob3


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
    placeholder = uuid.UUID(int=0)
    before, _found, after = reverse("credential", args=[placeholder]).partition(str(placeholder))
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


def achievement(version: AchievementVersion, language: str) -> ob3.Achievement:
    """The OB 3.0 ``Achievement`` of ``version`` in ``language``, pinned to the version."""
    from frameworks.export import achievement_parts  # issue #7: levels, credits, skills

    placed = achievement_parts(version, language)
    description = version.text("description", language)
    if placed.description_note:
        description = f"{description}\n\n{placed.description_note}"
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
        alignments=placed.alignments,
        credits_available=placed.credits_available,
    )


def achievement_document(version: AchievementVersion, language: str) -> dict[str, Any]:
    """The JSON-LD ``Achievement`` served at the version's URL."""
    document: dict[str, Any] = {
        "@context": list(ob3.CREDENTIAL_CONTEXT),
        **ob3.achievement_json(achievement(version, language)),
    }
    document["creator"] = ob3.profile_json(issuer_profile(version.achievement.issuer, language))
    return document
