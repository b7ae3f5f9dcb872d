"""A launch from the course platform, start to finish.

1. **Login** (:func:`begin_login`): the platform sends the browser to our login initiation URL;
   we check the platform is registered here, remember a fresh ``state`` and ``nonce`` with a
   hash of a browser cookie (:class:`lti.models.LoginState`), and send the browser back to the
   platform's authorisation URL.
2. **Launch** (:func:`receive`): the platform POSTs its signed ``id_token`` to our launch URL.
   pylti1p3 checks format, registration (``iss`` and ``aud``), signature against the
   platform's keyset, deployment and the message's required claims (``lti.tool``); here the
   ``state`` must be one we issued for that platform, not expired, not used, and the token's
   ``nonce`` the one we sent with it. The state is then used up: the same launch posted
   again is refused. The verified claims become a :class:`lti.models.Launch`.
3. **Finish** (:func:`finish`): that POST came from the platform's site, so it may carry none
   of our cookies. The launch page sends the browser on to a same-site request, where the
   browser cookie must be the one that started the login (a launch cannot be carried to
   another browser) and the person is signed in.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any, Final

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from badges.tokens.selectors import token_hash
from issuers.models import Institution
from lti.models import Launch, LoginState
from lti.tool import LTI, InstitutionToolConf, LaunchRefused, ToolLaunch, ToolLogin

BROWSER_COOKIE: Final = "insignia_lti"
LOGIN_LIFETIME: Final = timedelta(minutes=10)
LAUNCH_LIFETIME: Final = timedelta(hours=2)

DEEP_LINKING = "LtiDeepLinkingRequest"
RESOURCE_LINK = "LtiResourceLinkRequest"

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

#: Context and institution roles that make a launch a staff launch (instructors, teaching
#: assistants, content developers, administrators); anyone else is a learner.
STAFF_ROLES: Final = (
    "#Instructor",
    "#Administrator",
    "#ContentDeveloper",
    "#TeachingAssistant",
    "membership/Instructor#TeachingAssistant",
    "institution/person#Faculty",
)


def begin_login(
    request: HttpRequest, institution: Institution, redirect_uri: str
) -> tuple[str, str]:
    """Answer a third-party initiated login. Returns the platform authentication URL to
    redirect to, and the browser cookie value to set."""
    conf = InstitutionToolConf(institution)
    url, state, nonce = ToolLogin(request, conf).authentication_url(redirect_uri)
    if conf.platform is None:  # pylti1p3 found a registration, so this is set
        raise LaunchRefused(_("This course platform is not registered here."), status=404)
    cookie = request.COOKIES.get(BROWSER_COOKIE) or secrets.token_urlsafe(32)
    LoginState.objects.filter(expires_at__lt=timezone.now() - LOGIN_LIFETIME).delete()
    LoginState.objects.create(
        state=state,
        nonce=nonce,
        platform=conf.platform,
        browser_hash=token_hash(cookie),
        expires_at=timezone.now() + LOGIN_LIFETIME,
    )
    return url, cookie


def receive(request: HttpRequest, institution: Institution) -> Launch:
    """Verify a launch POST and keep it (see the module docstring). Raises
    :class:`LaunchRefused` with a message for the person."""
    conf = InstitutionToolConf(institution)
    message = ToolLaunch(request, conf)
    state = request.POST.get("state", "")
    login = LoginState.objects.filter(state=state).select_related("platform").first()
    expired = _(
        "This launch has expired or was already used. Open the badge again from your course."
    )
    if login is None or login.used_at is not None:
        raise LaunchRefused(expired, reason="unknown or used state")
    if login.expires_at < timezone.now():
        raise LaunchRefused(expired, reason="login state expired")
    message.validate()
    body = message.body()
    if message.platform.pk != login.platform_id:
        raise LaunchRefused(
            _("This launch answers a sign-in started for another course platform."),
            reason="platform differs from the login's",
        )
    if not secrets.compare_digest(str(body.get("nonce", "")), login.nonce):
        raise LaunchRefused(expired, reason="nonce does not match the login's")
    if not isinstance(body.get("exp"), int | float):
        raise LaunchRefused(
            _("The launch message has no expiry time."), reason="no exp in the id_token"
        )
    with transaction.atomic():
        used = LoginState.objects.filter(pk=login.pk, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        if used != 1:  # the same launch, posted twice at once
            raise LaunchRefused(expired, reason="state used concurrently")
        Launch.objects.filter(expires_at__lt=timezone.now()).delete()
        return Launch.objects.create(
            key=secrets.token_urlsafe(32),
            platform=message.platform,
            deployment_id=str(body.get(LTI + "deployment_id", "")),
            message_type=str(body.get(LTI + "message_type", "")),
            subject=str(body.get("sub", "")),
            claims=body,
            browser_hash=login.browser_hash,
            expires_at=timezone.now() + LAUNCH_LIFETIME,
        )


def launch_for(request: HttpRequest, institution: Institution, key: str) -> Launch:
    """The verified launch ``key`` of ``institution``'s platforms, for the browser that
    started it; refused otherwise."""
    launch = (
        Launch.objects.select_related("platform__institution")
        .filter(key=key, platform__institution=institution, expires_at__gte=timezone.now())
        .first()
    )
    if launch is None:
        raise LaunchRefused(
            _("This launch has expired. Open the badge again from your course."),
            reason="unknown or expired launch",
            status=404,
        )
    cookie = request.COOKIES.get(BROWSER_COOKIE, "")
    if not cookie or not secrets.compare_digest(token_hash(cookie), launch.browser_hash):
        raise LaunchRefused(
            _(
                "This launch was started in another browser, or your browser blocked "
                "Insignia's cookie. Open the badge again from your course (if your LMS shows "
                "Insignia inside its page, choose to open it in a new window)."
            ),
            reason="browser cookie missing or different",
            status=403,
        )
    return launch


# --------------------------------------------------------------------------------------------
# Reading a launch's claims
# --------------------------------------------------------------------------------------------


def roles(claims: dict[str, Any]) -> list[str]:
    value = claims.get(LTI + "roles", [])
    return [str(role) for role in value] if isinstance(value, list) else []


def is_staff(claims: dict[str, Any]) -> bool:
    """An instructor, teaching assistant, content developer or administrator. When the
    launch carries course (membership) roles, only those count: an institution-wide
    administrator who takes a course as a student is a learner there."""
    found = roles(claims)
    context = [role for role in found if "/membership" in role]
    return any(role.endswith(STAFF_ROLES) for role in (context or found))


def context(claims: dict[str, Any]) -> dict[str, Any]:
    value = claims.get(LTI + "context")
    return value if isinstance(value, dict) else {}


def custom(claims: dict[str, Any]) -> dict[str, Any]:
    value = claims.get(LTI + "custom")
    return value if isinstance(value, dict) else {}


def resource_link(claims: dict[str, Any]) -> dict[str, Any]:
    value = claims.get(LTI + "resource_link")
    return value if isinstance(value, dict) else {}


def ags(claims: dict[str, Any]) -> dict[str, Any]:
    value = claims.get(AGS)
    return value if isinstance(value, dict) else {}


def nrps(claims: dict[str, Any]) -> dict[str, Any]:
    value = claims.get(NRPS)
    return value if isinstance(value, dict) else {}


def deep_linking(claims: dict[str, Any]) -> dict[str, Any]:
    value = claims.get(DL_SETTINGS)
    return value if isinstance(value, dict) else {}


def sourced_id(claims: dict[str, Any]) -> str:
    lis = claims.get(LTI + "lis")
    value = lis.get("person_sourcedid", "") if isinstance(lis, dict) else ""
    return str(value or "").strip()[:256]


def return_url(claims: dict[str, Any]) -> str:
    presentation = claims.get(LTI + "launch_presentation")
    value = presentation.get("return_url", "") if isinstance(presentation, dict) else ""
    return str(value) if str(value).startswith(("https://", "http://")) else ""
