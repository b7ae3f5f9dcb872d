"""Markdown for criteria and descriptions, rendered to sanitized HTML for public pages."""

from __future__ import annotations

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "a",
    "code",
    "pre",
    "blockquote",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
}


def render(text: str) -> SafeString:
    """Markdown to HTML, then an allow-list sanitizer: raw HTML and scripts never get through."""
    html = md.markdown(text, output_format="html")
    cleaned = nh3.clean(
        html, tags=ALLOWED_TAGS, attributes={"a": {"href"}}, link_rel="nofollow noopener"
    )
    return mark_safe(cleaned)  # nosec B308 B703  # nosemgrep: mark-safe  # noqa: S308 - sanitized by nh3 just above
