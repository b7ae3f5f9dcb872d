"""The JSON request-body parser of our DRF views.

DRF's own turns only ``ValueError`` into a 400; Python's ``json`` raises ``RecursionError``
on deeply nested input (``[[[[…``), which became a 500, and JSON just under the recursion
limit parsed but broke whatever walked it next. This parser refuses both as a ``ParseError``
(a 400 in the view's own error format): nesting deeper than ``INSIGNIA_JSON_MAX_DEPTH``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` (parsed JSON) nests containers more than ``limit`` deep; iterative,
    so it cannot itself run out of stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return True
        children = item.values() if isinstance(item, Mapping) else item
        stack.extend((v, level + 1) for v in children if isinstance(v, (dict, list)))
    return False


class JSONParser(parsers.JSONParser):
    """``rest_framework.parsers.JSONParser`` that answers too deep nesting with a 400."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = settings.INSIGNIA_JSON_MAX_DEPTH
        too_deep = ParseError(f"JSON parse error - nested more than {limit} levels deep.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if isinstance(data, (dict, list)) and json_depth_exceeds(data, limit):
            raise too_deep
        return data
