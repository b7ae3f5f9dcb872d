"""How a badge leaves the site: LinkedIn links, Open Graph / Twitter cards, embed code.

Everything here is built from the award's stored, signed credential (what a verifier sees)
plus the issuer's branding, so a shared link looks the same wherever it lands. Crawlers
(LinkedInBot, Twitterbot, WeChat, Slack) read the ``og:*``/``twitter:*`` tags without running
JavaScript; the preview image is a generated 1200x627 PNG (``badges.preview``).
research/peer-platforms.md notes 27-29: LinkedIn's "Add to profile" form is pre-filled from
``https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&…``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from badges.credentials import absolute, credential_name, issuer_name
from badges.models import AchievementVersion, Award
from earners.selectors import effective_preference
from issuers.models import Issuer

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"
LINKEDIN_SHARE = "https://www.linkedin.com/sharing/share-offsite/"
PREVIEW_WIDTH = 1200
PREVIEW_HEIGHT = 627


def badge_page_url(award: Award) -> str:
    return absolute(reverse("credential", args=[award.pk]))


def recipient_display_name(award: Award) -> str:
    """The learner's name as the issuer recorded it, shown on public surfaces.

    The single place for the name, with one rule for claimed and unclaimed badges: shown
    only once the learner chose to show it (``earners.AwardPreference.show_name``, asked
    when they claim it and in their privacy settings); until then, and for an award issued
    without a name, none. The e-mail address never appears anywhere public.
    """
    preference = effective_preference(award)
    shown = preference is not None and preference.show_name
    return award.recipient_name.strip() if shown else ""


def linkedin_add_to_profile_url(award: Award) -> str:
    """LinkedIn's pre-filled "Add licence or certification" form.

    ``organizationId`` (an issuer setting) makes LinkedIn show the issuer's page and logo;
    without it ``organizationName`` names the issuer in text. ``certUrl`` is the badge page,
    which links to the verifier, and ``certId`` the credential's id.
    """
    issued: datetime = award.valid_from
    params: dict[str, str | int] = {
        "startTask": "CERTIFICATION_NAME",
        "name": credential_name(award),
    }
    if award.issuer.linkedin_organization_id:
        params["organizationId"] = award.issuer.linkedin_organization_id
    else:
        params["organizationName"] = issuer_name(award)
    params["issueYear"] = issued.year
    params["issueMonth"] = issued.month
    if award.valid_until is not None:
        params["expirationYear"] = award.valid_until.year
        params["expirationMonth"] = award.valid_until.month
    params["certUrl"] = badge_page_url(award)
    params["certId"] = str(award.pk)
    return f"{LINKEDIN_ADD}?{urlencode(params)}"


def linkedin_share_url(page_url: str) -> str:
    """LinkedIn's feed share dialog for ``page_url`` (LinkedIn reads the page's og: tags)."""
    return f"{LINKEDIN_SHARE}?{urlencode({'url': page_url})}"


@dataclass(frozen=True)
class ShareMeta:
    """The Open Graph / Twitter card of one page; rendered by ``badges/_share_meta.html``."""

    title: str
    description: str
    url: str
    image: str
    image_alt: str
    locale: str
    type: str = "website"
    image_width: int = PREVIEW_WIDTH
    image_height: int = PREVIEW_HEIGHT


def _locale(language: str) -> str:
    return "zh_CN" if language.lower().startswith("zh") else "en_GB"


def _shorten(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def award_description(name: str, issuer: str, recipient: str) -> str:
    """The share card's description of an award (``recipient``: the name shown, or "")."""
    if recipient:
        description = _("%(recipient)s earned “%(badge)s” from %(issuer)s.") % {
            "recipient": recipient,
            "badge": name,
            "issuer": issuer,
        }
    else:
        description = _("“%(badge)s”, issued by %(issuer)s.") % {"badge": name, "issuer": issuer}
    return _shorten(description + " " + _("A signed Open Badge anyone can verify."))


def award_share_meta(
    *, award_id: object, name: str, issuer: str, description: str, language: str
) -> ShareMeta:
    return ShareMeta(
        title=name,
        description=description,
        url=absolute(reverse("credential", args=[award_id])),
        image=absolute(reverse("credential_preview", args=[award_id])),
        image_alt=_("Badge card: %(badge)s, issued by %(issuer)s")
        % {"badge": name, "issuer": issuer},
        locale=_locale(language),
        type="article",
    )


def award_meta(award: Award) -> ShareMeta:
    name = credential_name(award)
    issuer = issuer_name(award)
    return award_share_meta(
        award_id=award.pk,
        name=name,
        issuer=issuer,
        description=award_description(name, issuer, recipient_display_name(award)),
        language=award.language,
    )


def achievement_meta(version: AchievementVersion, *, name: str, description: str) -> ShareMeta:
    issuer = version.achievement.issuer.name
    return ShareMeta(
        title=name,
        description=_shorten(description or name),
        url=absolute(reverse("achievement", args=[version.achievement_id])),
        image=absolute(reverse("achievement_preview", args=[version.achievement_id])),
        image_alt=_("Badge card: %(badge)s, issued by %(issuer)s")
        % {"badge": name, "issuer": issuer},
        locale=_locale(version.languages()[0] if version.languages() else "en"),
    )


def issuer_meta(issuer: Issuer) -> ShareMeta:
    description = issuer.description or _("Micro-credentials issued by %(issuer)s.") % {
        "issuer": issuer.name
    }
    return ShareMeta(
        title=issuer.name,
        description=_shorten(description),
        url=absolute(reverse("issuer_profile", args=[issuer.slug])),
        image=absolute(reverse("issuer_preview", args=[issuer.slug])),
        image_alt=_("%(issuer)s on Insignia") % {"issuer": issuer.name},
        locale=_locale(translation.get_language() or "en"),
    )


def embed_snippet(award: Award) -> str:
    """HTML a learner pastes into their own page: the badge image linked to its page."""
    return embed_snippet_for(award.pk, name=credential_name(award), issuer=issuer_name(award))


def embed_snippet_for(award_id: object, *, name: str, issuer: str) -> str:
    page = absolute(reverse("credential", args=[award_id])) + "?src=embed"  # an embed view
    image = absolute(reverse("credential_baked_png", args=[award_id]))
    alt = _("%(badge)s, issued by %(issuer)s") % {"badge": name, "issuer": issuer}
    return (
        f'<a href="{escape(page)}" title="{escape(_("Verify this badge"))}">'
        f'<img src="{escape(image)}" alt="{escape(alt)}" width="160" height="160"></a>'
    )
