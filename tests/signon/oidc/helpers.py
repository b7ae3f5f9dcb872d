"""Institutions connected to the test OpenID provider, and a person signing in through it
with the Django test client (our side) and ``requests`` (the provider's login page)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import trans_real

from issuers.models import Institution
from signon import oidc
from signon.models import IdentityProvider, Protocol
from tests.signon.oidc.op import OpenIDProvider, sign_in_at_provider

TESTSERVER = "http://testserver/"
STAFF_RULES = [{"value": "staff", "role": "awarder"}]


def callback_url(institution: Institution, origin: str = TESTSERVER) -> str:
    return origin.rstrip("/") + reverse("signon:oidc_callback", args=[institution.slug])


def connect(
    op: OpenIDProvider,
    institution: Institution,
    *,
    role_rules: list[dict[str, str]] | None = None,
    origin: str = TESTSERVER,
    client: dict[str, Any] | None = None,
    **fields: Any,
) -> IdentityProvider:
    """``institution``'s OpenID Connect sign-in through ``op``, with a client registered at
    the provider for this institution's callback URL, discovered as the console would."""
    client_id, client_secret = op.register(callback_url(institution, origin), **(client or {}))
    return IdentityProvider.objects.create(
        institution=institution,
        protocol=Protocol.OIDC,
        label="University sign-in",
        oidc_issuer=op.issuer,
        oidc_client_id=client_id,
        oidc_client_secret=client_secret,
        oidc_discovery=oidc.discover(op.issuer),
        oidc_discovered_at=timezone.now(),
        role_rules=STAFF_RULES if role_rules is None else role_rules,
        **fields,
    )


def start(browser: Client, institution: Institution, next_url: str = "") -> str:
    """Press "sign in" on our side: the provider URL the browser is sent to."""
    query = {"next": next_url} if next_url else {}
    response = browser.get(reverse("signon:oidc_login", args=[institution.slug]), query)
    assert response.status_code == 302, response.content[:500]
    return str(response["Location"])


def at_provider(authorization_url: str, login: str, *, cancel: bool = False) -> str:
    """Sign in at the provider: the callback URL it sends the browser back to."""
    return sign_in_at_provider(authorization_url, login, redirect_prefix=TESTSERVER, cancel=cancel)


def sign_in(browser: Client, institution: Institution, login: str, next_url: str = "") -> Any:
    """The whole round trip; the callback's response."""
    back = at_provider(start(browser, institution, next_url), login)
    return browser.get(back)


@contextmanager
def new_chinese_strings() -> Iterator[None]:
    """The zh-Hans strings written for new pages (``var/translations-*.json``: this
    feature's and its neighbours') until they are merged into ``locale/``; then the compiled
    catalogue has them and this adds nothing. The process's translations are rebuilt after."""
    catalogue = trans_real.translation("zh-hans")._catalog  # type: ignore[attr-defined]
    for path in sorted((Path(settings.BASE_DIR) / "var").glob("translations-*.json")):
        for msgid, msgstr in json.loads(path.read_text(encoding="utf-8")).items():
            if msgid not in catalogue:
                catalogue[msgid] = msgstr
    try:
        yield
    finally:
        trans_real._translations = {}  # type: ignore[attr-defined]  # rebuilt from the .mo
        trans_real._default = None  # type: ignore[attr-defined]
        translation.activate("en")
