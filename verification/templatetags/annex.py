"""``{% annex_rows data as rows %}``: a credential's EU micro-credential elements as labelled
lines in the active language (``verification.annex.rows``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from verification import annex

register = template.Library()


@register.simple_tag
def annex_rows(data: Mapping[str, Any] | None) -> list[annex.Row]:
    return annex.rows(data)
