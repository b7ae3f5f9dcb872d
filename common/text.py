"""The one rule for text that ends up in a signed badge: every badge format must carry it.

A credential is also baked into an SVG, and XML 1.0 (§2.2 ``Char``) cannot hold C0 control
characters other than tab, LF and CR, U+FFFE, U+FFFF or lone surrogates, not even as a
character reference. Text with one is refused where it is typed or imported, with the
character named, before anything is signed: award requests (``awarding.rules``), achievement
text (``achievements.services``), what institutions and issuers say of themselves
(``issuers.models``, ``issuers.forms``), competency frameworks, their items and imports
(``frameworks.competencies``), pathway titles (``frameworks.pathways``) and reference levels
and credit units (``frameworks.models``). The character class is
``openbadges.baking.xml_illegal``'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from openbadges.baking import xml_illegal


def validate_badge_text(value: str) -> None:
    """Django validator: refuse ``value`` if it holds a character a badge cannot carry."""
    bad = xml_illegal(value)
    if bad is not None:
        raise ValidationError(
            _(
                "This text contains a character that cannot be put in a badge (U+%(code)s, "
                "an invisible control or non-character); delete it and type the text again."
            )
            % {"code": f"{ord(bad):04X}"},
            code="badge_text",
        )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def check_badge_texts(fields: Mapping[str, Any]) -> None:
    """:func:`validate_badge_text` on every string of each field (also inside lists and
    dicts, e.g. tags and result descriptions); ``ValidationError`` keyed by field name."""
    errors: dict[str, ValidationError] = {}
    for name, value in fields.items():
        for text in _strings(value):
            try:
                validate_badge_text(text)
            except ValidationError as error:
                errors[name] = error
                break
    if errors:
        raise ValidationError(errors)


def check_file_texts(places: Iterable[tuple[str, Iterable[str]]]) -> None:
    """For an imported file: refuse it at the first ``(name, texts)`` place holding a
    character a badge cannot carry, naming the place. The name is shown with such characters
    replaced by U+FFFD, so the message can be shown even for a lone surrogate."""
    for name, texts in places:
        bad = next((found for text in texts if (found := xml_illegal(text))), None)
        if bad is not None:
            shown = "".join("\ufffd" if xml_illegal(ch) else ch for ch in name[:80])
            raise ValidationError(
                _(
                    "“%(name)s” in this file contains a character that cannot be put in a badge "
                    "(U+%(code)s, an invisible control or non-character). Correct the file and "
                    "import it again."
                )
                % {"name": shown, "code": f"{ord(bad):04X}"},
                code="badge_text",
            )
