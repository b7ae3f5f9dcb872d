"""Credentials of this platform's own issuers: found in the database, never over HTTP.

A credential id ``<INSIGNIA_BASE_URL>/credentials/<uuid>`` is an :class:`badges.models.Award`;
its live state (expired, revoked, suspended) comes from :func:`badges.state.award_state`, and
the version it pins is compared with the achievement's current version.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from badges import selectors
from badges.models import Award
from badges.state import award_state
from verification.keyresolve import is_own_origin


def award_for_url(url: str) -> Award | None:
    """The award behind one of our credential URLs (``/credentials/<id>`` or ``.json``)."""
    if not isinstance(url, str) or not is_own_origin(url):
        return None
    from urllib.parse import urlsplit

    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    if match.url_name not in ("credential", "credential_json"):
        return None
    award_id = match.kwargs.get("award_id")
    if not isinstance(award_id, uuid.UUID):
        return None
    return (
        Award.objects.select_related("issuer", "achievement_version__achievement")
        .filter(pk=award_id)
        .first()
    )


def platform_facts(award: Award) -> dict[str, Any]:
    """What only the platform knows: version issued under vs current, live state."""
    version = award.achievement_version
    latest = selectors.published_versions(version.achievement).order_by("-number").first()
    current = latest.number if latest is not None else version.number
    state = award_state(award)
    if current == version.number:
        note = _("Issued under version %(n)s, which is the current version.") % {
            "n": version.number
        }
    else:
        note = _("Issued under version %(n)s; the current version is %(m)s.") % {
            "n": version.number,
            "m": current,
        }
    return {
        "award_id": str(award.pk),
        "issuer": award.issuer.slug,
        "issued_version": version.number,
        "current_version": current,
        "version_note": note,
        "state": str(state.state),
        "state_reason": state.reason,
    }
