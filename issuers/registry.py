"""This platform's issuers as a known-issuer registry in the Digital Credentials Consortium's
format (the "dcc-legacy" registries that DCC's Learner Credential Wallet and VerifierPlus read
through ``@digitalcredentials/issuer-registry-client``)::

    {"meta": {"created": "…", "updated": "…"},
     "registry": {"did:web:<host>:issuers:<slug>": {"name": "…", "location": "…", "url": "…"}}}

Every issuer whose DID document lists a key (an active or retired one: an issuer whose keys
are all withdrawn signs nothing that verifies) is listed, under its English name, its web
page and, when its institution names a country, that country. Served at
``/registry/issuers.json``; ``/registry/known-registries.json`` is the entry a wallet or
verifier operator adds to its list of known registries. The verifier reads the same entries
from the database (:func:`entry_for`), never over HTTP.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db.models import Max, Min, Q, QuerySet
from django.urls import reverse

from issuers.keys import issuer_did
from issuers.models import Issuer, KeyStatus
from openbadges import didweb

#: The registry format of DCC's legacy registries, as the registry client names it.
FORMAT = "dcc-legacy"


def listed_issuers() -> QuerySet[Issuer]:
    """Issuers with a key their DID document lists, oldest first."""
    return (
        Issuer.objects.filter(
            signing_keys__status__in=(KeyStatus.ACTIVE, KeyStatus.RETIRED),
        )
        .distinct()
        .select_related("institution")
        .order_by("created_at", "pk")
    )


def entry(issuer: Issuer) -> dict[str, str]:
    """One registry entry: ``name``, ``location`` (only when known) and ``url``."""
    found: dict[str, str] = {"name": issuer.name_en}
    country = issuer.institution.country
    if country:
        found["location"] = str(country.name)
    found["url"] = issuer.url
    return found


def _stamp(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else ""


def published() -> dict[str, Any]:
    """The whole registry document. ``meta.updated`` moves when an issuer is added or a key
    is made, retired or withdrawn (what changes who is listed)."""
    issuers = list(listed_issuers())
    times = Issuer.objects.filter(pk__in=[i.pk for i in issuers]).aggregate(
        created=Min("created_at"),
        issuer=Max("created_at"),
        key=Max("signing_keys__created_at"),
        retired=Max("signing_keys__retired_at", filter=Q(signing_keys__retired_at__isnull=False)),
        withdrawn=Max(
            "signing_keys__withdrawn_at", filter=Q(signing_keys__withdrawn_at__isnull=False)
        ),
    )
    changes = [t for k, t in times.items() if k != "created" and t is not None]
    return {
        "meta": {
            "created": _stamp(times["created"]),
            "updated": _stamp(max(changes) if changes else None),
        },
        "registry": {issuer_did(issuer): entry(issuer) for issuer in issuers},
    }


def registry_url() -> str:
    return settings.INSIGNIA_BASE_URL + reverse("issuer_registry")


def known_registry_entry() -> dict[str, str]:
    """What a wallet or verifier adds to its known registries to consult ours (the shape of
    DCC's ``known-did-registries.json``)."""
    return {
        "name": settings.INSIGNIA_REGISTRY_NAME,
        "type": FORMAT,
        "url": registry_url(),
        "governanceUrl": settings.INSIGNIA_BASE_URL + "/",
    }


def _own_slug(identifier: str) -> str | None:
    """The issuer slug ``identifier`` names on this platform: our did:web for an issuer, or
    its profile, OB 2.0 profile or DID document URL; ``None`` for anything else."""
    ours = didweb.did_web(settings.INSIGNIA_BASE_URL, "issuers") + ":"
    if identifier.startswith("did:"):
        did = identifier.split("#", 1)[0]
        if not did.startswith(ours):
            return None
        slug = unquote(did.removeprefix(ours))
        return slug if slug and ":" not in slug else None
    base = urlsplit(settings.INSIGNIA_BASE_URL)
    try:
        parts = urlsplit(identifier)
    except ValueError:
        return None
    if (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return None
    segments = [s for s in parts.path.split("/") if s]
    if segments[:1] == ["ob2"]:
        segments = segments[1:]
    if len(segments) in (2, 3) and segments[0] == "issuers":
        if len(segments) == 3 and segments[2] != "did.json":
            return None
        return segments[1]
    return None


def entry_for(identifier: str) -> dict[str, str] | None:
    """Our registry's entry for the issuer ``identifier`` names, if it is listed (one query)."""
    slug = _own_slug(identifier)
    if slug is None:
        return None
    found = listed_issuers().filter(slug=slug).first()
    return entry(found) if found is not None else None
