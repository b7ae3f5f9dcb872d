"""Reads of the Open Badges API: the learner's credentials a page at a time, their Profile, and
the wallets they connected.

A learner's credentials are the awards made to their confirmed addresses (the signed text as
issued) and the Open Badges 3.0 credentials they imported or a wallet added (as given: JSON, or
a VC-JWT's compact JWS). Imports that are not OB 3.0 credentials with VC 2.0 contexts (OB 2.0,
CLR, the VC 1.1 form, endorsements) are left out: the API's ``GetOpenBadgeCredentialsResponse``
holds ``AchievementCredential``\\ s only; so are imports the verifier found forged or malformed.
They are ordered by when they reached the backpack, oldest first, so a page does not shift
when a new badge arrives; ``since`` keeps those that arrived after it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet, Value
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from accounts.models import User
from badges.models import Award
from earners import selectors as earner_selectors
from earners.imports import selectors as import_selectors
from earners.models import ImportedBadge, ImportSource
from ob3api.models import WalletConsent
from openbadges import baking
from verification.extract import JWS_PATTERN
from verification.report import Verdict

LISTED_FORMATS: Final = ("ob3", "vc-jwt")
NOT_GENUINE: Final = (str(Verdict.TAMPERED), str(Verdict.INVALID), str(Verdict.BAD_INPUT))
PROFILE_NAMESPACE: Final = uuid.UUID("6b0e9e0a-3f6e-4c51-9a7c-0b3e53c1a9d2")
OB3_PROFILE_CONTEXT: Final = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


@dataclass
class CredentialPage:
    """One page of a learner's credentials, split as ``GetOpenBadgeCredentialsResponse`` wants:
    JSON credentials in ``credential``, VC-JWTs in ``compact_jws``."""

    total: int
    credential: list[dict[str, Any]] = field(default_factory=list)
    compact_jws: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"credential": self.credential, "compactJwsString": self.compact_jws}


def _awards(user: User, since: dt.datetime | None) -> QuerySet[Award]:
    found = earner_selectors.backpack(user).order_by()
    return found.filter(created_at__gt=since) if since is not None else found


def _imports(user: User, since: dt.datetime | None) -> QuerySet[ImportedBadge]:
    found = (
        import_selectors.imports_of(user)
        .filter(format__in=LISTED_FORMATS)
        .exclude(verdict__in=NOT_GENUINE)
        .order_by()
    )
    return found.filter(created_at__gt=since) if since is not None else found


def _add(page: CredentialPage, text: str) -> None:
    text = text.strip()
    if text.startswith("{"):
        page.credential.append(json.loads(text))
    elif JWS_PATTERN.match(text):
        page.compact_jws.append(text)


def _import_text(imported: ImportedBadge) -> str:
    if imported.source != ImportSource.IMAGE:
        return imported.text
    extracted = baking.extract(bytes(imported.upload or b""))  # verified when imported
    return extracted.payload if extracted is not None else ""


def credentials_of(
    user: User, *, offset: int, limit: int, since: dt.datetime | None = None
) -> CredentialPage:
    """The learner's credentials ``offset`` to ``offset + limit``: at most six queries,
    however many there are."""
    awards, imports = _awards(user, since), _imports(user, since)
    rows = (
        awards.annotate(kind=Value("award"))
        .values_list("kind", "pk", "created_at")
        .union(imports.annotate(kind=Value("import")).values_list("kind", "pk", "created_at"))
        .order_by("created_at", "pk")[offset : offset + limit]
    )
    picked = list(rows)
    page = CredentialPage(total=awards.count() + imports.count())
    award_texts = dict(
        Award.objects.filter(pk__in=[pk for kind, pk, _at in picked if kind == "award"])
        .values_list("pk", "credential_json")
        .iterator()
    )
    imported = ImportedBadge.objects.in_bulk([pk for kind, pk, _at in picked if kind == "import"])
    for kind, pk, _at in picked:
        if kind == "award":
            _add(page, award_texts[pk])
        else:
            _add(page, _import_text(imported[pk]))
    return page


def profile_id(user: User) -> str:
    """The learner's Profile ``id``: a stable URN that says nothing about them."""
    name = f"{settings.INSIGNIA_BASE_URL}/learners/{user.pk}"
    return f"urn:uuid:{uuid.uuid5(PROFILE_NAMESPACE, name)}"


def profile_of(user: User) -> dict[str, Any]:
    """The learner as an OB 3.0 ``Profile``: their name, sign-in address, other confirmed
    addresses as ``otherIdentifier``, and their public profile page if they publish one."""
    settings_row = earner_selectors.profile_of(user)
    profile: dict[str, Any] = {
        "@context": [OB3_PROFILE_CONTEXT],
        "id": profile_id(user),
        "type": ["Profile"],
    }
    name = user.name or settings_row.display_name
    if name:
        profile["name"] = name
    profile["email"] = user.email
    others = [e for e in earner_selectors.verified_emails(user) if e != user.email]
    if others:
        profile["otherIdentifier"] = [
            {"type": "IdentifierEntry", "identifier": e, "identifierType": "emailAddress"}
            for e in sorted(others)
        ]
    if settings_row.pk is not None and settings_row.public:
        profile["url"] = settings.INSIGNIA_BASE_URL + reverse(
            "earners:public_profile", args=[settings_row.slug]
        )
    return profile


def consents_of(user: User) -> QuerySet[WalletConsent]:
    """The wallets the learner approved, each marked ``has_access`` while it holds a token
    that still works."""
    now = timezone.now()
    live_refresh = RefreshToken.objects.filter(
        user=user, application=OuterRef("client__application"), revoked__isnull=True
    )
    live_access = AccessToken.objects.filter(
        user=user, application=OuterRef("client__application"), expires__gt=now
    )
    return (
        WalletConsent.objects.filter(user=user)
        .select_related("client__application")
        .annotate(has_access=Exists(live_refresh) | Exists(live_access))
    )


def consent_for(user: User, consent_id: str) -> WalletConsent | None:
    """The learner's own consent ``consent_id``; None for anyone else's or a malformed id."""
    if not consent_id.isdigit():
        return None
    return consents_of(user).filter(pk=int(consent_id)).first()
