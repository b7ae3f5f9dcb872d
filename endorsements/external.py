"""What is endorsed when it is named by URL: the OB 3.0 issuer ``Profile`` or ``Achievement``
at that address, fetched with the safe fetcher (``verification.fetcher``: public addresses
only, size and time limits). A read with no transaction: it runs before the endorsement is
signed (``endorsements.services.endorse``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from endorsements.models import SubjectKind
from openbadges import endorsement
from openbadges.baking import xml_illegal
from verification import fetcher
from verification.keyresolve import is_own_origin

# An absolute IRI (RFC 3987) with none of the characters JSON-LD refuses in one: what our
# signed ``credentialSubject.id`` may be.
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]{1,2000}$")


@dataclass(frozen=True)
class ExternalSubject:
    """An issuer profile or achievement elsewhere, as fetched: its ``id``, name and kind."""

    url: str
    subject_id: str
    name: str
    kind: SubjectKind


def fetch_subject(url: str) -> ExternalSubject:
    """The OB 3.0 issuer profile or achievement at ``url``; ``ValidationError`` (on the
    ``url`` field) with a plain reason otherwise: an internal or reserved address, this
    platform's own address, no answer, or a document that is not one."""
    url = url.strip()
    if is_own_origin(url):
        raise ValidationError(
            {"url": _("This address is on this platform: choose it from the search instead.")}
        )
    try:
        response = fetcher.fetch(url)
    except fetcher.BlockedURL:
        raise ValidationError(
            {
                "url": _(
                    "This address is internal or reserved: only issuers and achievements on "
                    "the public web can be endorsed by URL."
                )
            }
        ) from None
    except fetcher.FetchError as error:
        raise ValidationError(
            {"url": _("That address could not be retrieved (%(why)s).") % {"why": str(error)[:120]}}
        ) from None
    if response.status != 200:
        raise ValidationError(
            {
                "url": _("That address answered with an error (HTTP %(status)s).")
                % {"status": response.status}
            }
        )
    try:
        document = json.loads(response.body)
    except (UnicodeDecodeError, ValueError):
        document = None
    kind = endorsement.endorsable_kind(document) if isinstance(document, dict) else None
    if kind is None or not isinstance(document, dict) or not _IRI.match(str(document["id"])):
        raise ValidationError(
            {
                "url": _(
                    "That address does not serve an Open Badges 3.0 issuer profile or "
                    "achievement (JSON-LD with the OB 3.0 context, type Profile or Achievement)."
                )
            }
        )
    name = document.get("name")
    name = name if isinstance(name, str) and name.strip() else str(document["id"])
    return ExternalSubject(
        url=url,
        subject_id=str(document["id"]),
        # Its name goes into our signed credential (and badges baked into SVG): only what
        # XML can carry (``common.text``).
        name="".join(char for char in name if xml_illegal(char) is None).strip()[:300],
        kind=SubjectKind.ISSUER if kind == "Profile" else SubjectKind.ACHIEVEMENT,
    )
