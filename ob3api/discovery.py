"""The Service Description Document (OB 3.0 §6.3, ``getServiceDescription``).

The spec asks for "a profiled version of the OpenAPI 3.0 (JSON) file provided with this
specification": we serve 1EdTech's own document (``openapi/ob_v3p0_oas.json``, their
generator's build) with our ``info``, ``servers`` and the ``OAuth2ACG`` security scheme filled
in: where a wallet registers (RFC 7591), where the learner authorises it, where it gets and
refreshes tokens, and the four scopes with our descriptions.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation

from integrations.oauth import scopes

OPENAPI_DOCUMENT: Final = Path(__file__).resolve().parent / "openapi" / "ob_v3p0_oas.json"
BASE_PATH: Final = "/ims/ob/v3p0"


@cache
def _spec_document() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(OPENAPI_DOCUMENT.read_text(encoding="utf-8"))
    return data


def absolute(path: str) -> str:
    """``path`` on the platform's public origin (``INSIGNIA_BASE_URL``)."""
    return settings.INSIGNIA_BASE_URL + path


def _scope_descriptions() -> dict[str, str]:
    # A document for machines: always in English, whatever the caller's Accept-Language.
    with translation.override("en"):
        return {name: str(text) for name, text in scopes.WALLET_SCOPES.items()}


def service_description() -> dict[str, Any]:
    """The SDD: 1EdTech's OpenAPI document, profiled for this platform."""
    document = copy.deepcopy(_spec_document())
    about = absolute(reverse("ob3api:about"))
    document["info"] = {
        **document["info"],
        "title": "Insignia Open Badges API",
        "description": "Open Badges 3.0 API of this Insignia platform: a learner's badges and "
        "profile, for the wallets and backpacks they connect.",
        "termsOfService": f"{about}#terms",
        "x-imssf-privacyPolicyUrl": f"{about}#privacy",
        "x-imssf-image": absolute(static("favicon.svg")),
        "version": "3.0",
    }
    document["info"].pop("contact", None)
    document["servers"] = [{"url": absolute(BASE_PATH), "description": "This platform"}]
    token = absolute(reverse("oauth2_provider:token"))
    document["components"]["securitySchemes"] = {
        "OAuth2ACG": {
            "type": "oauth2",
            "description": "OAuth 2.0 Authorization Code Grant with PKCE (S256); the learner "
            "approves each app.",
            "x-imssf-registrationUrl": absolute(reverse("ob3api:register")),
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": absolute(reverse("ob3api:authorize")),
                    "tokenUrl": token,
                    "refreshUrl": token,
                    "scopes": _scope_descriptions(),
                }
            },
        }
    }
    return document
