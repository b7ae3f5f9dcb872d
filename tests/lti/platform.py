"""Helpers for tests against the test LMS (``tests/lms``, built on ``lti1p3platform``): register
Insignia as a tool of an institution in both places, and walk a launch as a browser would
(``requests``, following the auto-submitting forms)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from typing import Any

import requests
from django.urls import reverse

from badges.models import AchievementVersion
from issuers.models import Institution
from lti.models import Deployment, LmsAccount, Platform
from tests.badges.helpers import make_published
from tests.base import Cast, make_cast
from tests.lms.server import Lms

FORM = re.compile(r"<form[^>]*action=['\"]([^'\"]+)['\"][^>]*>(.*?)</form>", re.S | re.I)
HIDDEN = re.compile(
    r"<input[^>]*type=['\"]hidden['\"][^>]*name=['\"]([^'\"]+)['\"][^>]*value=['\"]([^'\"]*)['\"]",
    re.I,
)


@dataclass
class Registered:
    lms: Lms
    platform: Platform
    client_id: str
    deployment_id: str


def tool_urls(origin: str, institution: Institution) -> dict[str, str]:
    slug = institution.slug
    return {
        "oidc_login_url": origin + reverse("lti:login", args=[slug]),
        "launch_url": origin + reverse("lti:launch", args=[slug]),
        "jwks_url": origin + reverse("lti:jwks", args=[slug]),
    }


def register(lms: Lms, institution: Institution, origin: str, name: str = "Moodle") -> Registered:
    """Insignia registered in the LMS and the LMS registered in Insignia, by hand (what an
    LMS administrator and an owner do in the two consoles)."""
    answer = lms.register_tool(
        name=f"Insignia {institution.slug}", **tool_urls(origin, institution)
    )
    platform = Platform.objects.create(
        institution=institution,
        name=name,
        issuer=answer["issuer"],
        client_id=answer["client_id"],
        auth_login_url=answer["auth_url"],
        auth_token_url=answer["token_url"],
        key_set_url=answer["jwks_url"],
    )
    Deployment.objects.create(platform=platform, deployment_id=answer["deployment_id"])
    return Registered(lms, platform, answer["client_id"], answer["deployment_id"])


def connected_poly(lms: Lms, origin: str, slug: str) -> tuple[Cast, AchievementVersion, Registered]:
    """Poly Technic with a published micro-credential, registered with ``lms``; Ina (the
    LMS's instructor) is Poly's awarder and has connected her LMS account. Call it with
    ``INSIGNIA_BASE_URL`` set to ``origin``."""
    cast = make_cast()
    version = make_published(cast.owner, cast.issuer, slug=slug)
    registered = register(lms, cast.institution, origin)
    LmsAccount.objects.create(platform=registered.platform, subject="instructor", user=cast.awarder)
    return cast, version, registered


def form_of(html: str) -> tuple[str, dict[str, str]]:
    found = FORM.search(html)
    assert found, html[:2000]
    fields = {name: unescape(value) for name, value in HIDDEN.findall(found.group(2))}
    return unescape(found.group(1)), fields


def to_tool(session: requests.Session, url: str) -> tuple[str, dict[str, str]]:
    """Open an LMS launch URL; follow the login redirects to the platform's auto-submitting
    form. Returns that form's target (our launch URL) and fields (id_token, state)."""
    answer = session.get(url, allow_redirects=True, timeout=20)
    assert answer.status_code == 200, answer.text[:2000]
    return form_of(answer.text)


def post_launch(
    session: requests.Session, action: str, fields: dict[str, str]
) -> requests.Response:
    return session.post(action, data=fields, allow_redirects=False, timeout=20)


def launch(session: requests.Session, url: str) -> requests.Response:
    """A whole launch: LMS → login → LMS → launch → continue → the page the person lands on."""
    action, fields = to_tool(session, url)
    answer = post_launch(session, action, fields)
    assert answer.status_code == 200, answer.text[:2000]
    target, _fields = form_of(answer.text)
    origin = re.match(r"https?://[^/]+", action)
    assert origin
    return session.post(origin.group(0) + target, allow_redirects=True, timeout=20)


def csrf(session: requests.Session, html: str) -> dict[str, Any]:
    found = re.search(r"name=['\"]csrfmiddlewaretoken['\"] value=['\"]([^'\"]+)", html)
    assert found, html[:2000]
    return {"csrfmiddlewaretoken": found.group(1)}
