"""The badge page's share links for other pages that show an award (the learner's own badge
page in the backpack): the same LinkedIn links as the public page, built in one place
(``sharing.meta``)."""

from __future__ import annotations

from django import template

from badges.models import Award
from sharing import meta

register = template.Library()


@register.simple_tag
def linkedin_add_url(award: Award) -> str:
    """LinkedIn's pre-filled "Add licence or certification" form for ``award``."""
    return meta.linkedin_add_to_profile_url(award)


@register.simple_tag
def linkedin_share_url(award: Award) -> str:
    """LinkedIn's share dialog for ``award``'s public page."""
    return meta.linkedin_share_url(meta.badge_page_url(award))


@register.simple_tag
def badge_page_url(award: Award) -> str:
    """The absolute address of ``award``'s public page."""
    return meta.badge_page_url(award)
