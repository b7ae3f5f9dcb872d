"""Headers, cookies, CSRF and safe GETs on every route (issue 18 item 7; S-17 in
``../shared/research/security-reliability.md``).

Every route of the URL map is requested, its URL arguments filled from a seeded cast (a route
neither crawled nor in ``NOT_CRAWLED`` fails the suite), under the production security
settings (read from ``manage.py`` started with ``INSIGNIA_ENV=production``, once its
``check --deploy --fail-level WARNING`` has passed) and over https:

- every answer has a Content-Security-Policy with ``frame-ancestors 'none'`` (the pages an LMS
  frames: the explicit list), every HTML answer one whose ``script-src`` is ``'self'`` alone
  (no inline script, no eval), ``X-Content-Type-Options: nosniff``, a Referrer-Policy and HSTS
  of at least a year with includeSubDomains;
- every cookie set is HttpOnly, SameSite=Lax (None only for the LTI launch's, which a
  cross-site POST must carry) and Secure, Django's own (session, CSRF, language) ``__Host-``;
- a GET writes no row (PostgreSQL's count of the rows this transaction inserted, updated and
  deleted, per table), except the deliberate exceptions (``GET_WRITES``);
- a POST (and PUT, PATCH, DELETE where an API view takes them) with no CSRF token, or with
  another browser's, is refused with 403 everywhere except the deliberately exempt views
  (``CSRF_EXEMPT``).

Run with ``-s`` to see the figures. About 720 lines: one file holds the seeded world (every
object a URL of the 400 routes names), the walk of the URL map, and the commented lists of
deliberate exceptions, so that a new route cannot go unchecked.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView

from accounts.models import User
from badges.models import AwardNotification, StatusList
from badges.notifications import links
from earners import services as earner_services
from frameworks.equivalence import services as equivalence_services
from frameworks.models import CompetencyFramework, EquivalenceStatement, QualificationsFramework
from integrations.oauth import services as oauth_services
from issuers import services as issuer_services
from issuers.models import Invitation, Role
from lti.models import Launch, Platform
from signon import saml
from signon.models import IdentityProvider, Protocol
from tests.badges.helpers import award, make_published
from tests.base import PASSWORD, Cast, make_cast, png_bytes
from tests.earners.helpers import make_learner
from tests.frameworks.helpers import reference
from tests.idp.saml_idp import SamlIdP
from tests.issuers import test_tenant_isolation as isolation
from tests.signon.saml.conftest import saml_idp  # noqa: F401 - fixture
from tests.test_settings import PRODUCTION_ENV, _manage
from verification import services as verification_services

pytestmark = pytest.mark.django_db

LEARNER_EMAIL = "lee.learner@example.com"
HSTS_MIN = 31_536_000
ORIGIN = "https://testserver"  # the test client's own origin, over https

# Routes not crawled, each with its reason. Nothing else may be missing from the crawl.
NOT_CRAWLED: dict[str, str] = {}

# Routes whose crawl answers 404 (any other 404 means this file gave it a wrong argument).
NOT_FOUND: dict[str, str] = {
    "manage:accept_invitation": "an invitation's token is only ever e-mailed (hash kept)",
    "lti:register": "a registration link's token is only ever shown once (hash kept)",
    "manage:account_app_disconnect": "the owner never approved this client (a 404 by design)",
    "pathway_clr": "a completion has a CLR only once its pathway credential is signed",
    "api_placement": "the crawled badge is not placed in a framework",
    "signon:saml_sls": "a single-logout request or answer is needed",
    "signon:oidc_login": "no OpenID Connect provider: its discovery would need a server",
    "signon:oidc_callback": "no OpenID Connect provider",
    "ob3api:unknown": "the OB 3.0 API's answer to an unknown path",
    "api_not_found": "the API's answer to an unknown path",
    "admin/(?P<url>.*)$": "the admin's answer to an unknown path",
    "admin:view_on_site": "an institution has no page of its own to view on site",
    "wallets:credential_offer": "a pre-authorized code is only ever shown once (hash kept)",
    "wallets:lcw_exchange": "an exchange id is only ever shown once to the learner (hash kept)",
}

# Framed on purpose (``@xframe_options_exempt``): an LMS opens these inside its own page.
FRAMED = {"lti:login", "lti:launch", "lti:finish", "lti:register"}

# Views that take a POST without a CSRF token, on purpose: each is called by another site or
# program, never by a form of ours in a signed-in browser, or proves itself another way.
CSRF_EXEMPT: dict[str, str] = {
    "signon:saml_acs": "the identity provider posts the signed SAML answer from its own site",
    "signon:saml_finish": "a single-use key bound to the browser's signon cookie",
    "lti:login": "the LMS starts the OIDC login (GET or POST) from its own site",
    "lti:launch": "the LMS posts the signed launch (id_token) from its own site",
    "lti:finish": "a single-use launch key bound to the browser's LTI cookie",
    "oauth2_provider:token": "OAuth token endpoint: client authentication, no session",
    "oauth2_provider:revoke-token": "OAuth revocation endpoint: client authentication",
    "oauth2_provider:introspect": "OAuth introspection endpoint: client authentication",
    # API views that read no cookie at all (no SessionAuthentication; checked below): a
    # forged request from another site acts as nobody.
    "api_verify": "the public verify API: anyone may verify, signed in or not",
    "ob3api:discovery": "the OB 3.0 API's public discovery document",
    "ob3api:register": "OAuth dynamic client registration (RFC 7591): anonymous by design",
    "ob3api:credentials": "a wallet's bearer token only",
    "ob3api:profile": "a wallet's bearer token only",
    "ob3api:unknown": "the OB 3.0 API's answer to an unknown path",
    # OID4VCI 1.0: a wallet app posts with no cookie; a pre-authorized code, a bearer token
    # or a single-use nonce request proves it, and no session is read.
    "wallets:token": "OID4VCI token endpoint: the pre-authorized code, no session",
    "wallets:nonce": "OID4VCI nonce endpoint: a single-use c_nonce for anyone",
    "wallets:credential": "OID4VCI credential endpoint: a wallet's bearer token only",
    "wallets:lcw_exchange": "the wallet posts; the exchange id and DIDAuth prove it, no cookie",
}

# GETs that write, on purpose: the route, and the only tables it may write. The first six are
# docs/architecture.md's ("GET requests change no records").
_VIEW_COUNTED = {"earners_viewevent"}  # earners.services.record_view
GET_WRITES: dict[str, set[str]] = {
    "signon:saml_metadata": {"signon_serviceproviderkey"},  # the SAML key, made when first asked
    "lti:jwks": {"lti_toolkey"},  # the LTI tool key, made when first asked
    "credential": _VIEW_COUNTED,  # a badge page view is counted for the learner
    "credential_json": _VIEW_COUNTED,
    "credential_jwt": _VIEW_COUNTED,  # the same credential as a VC-JWT, counted as the JSON
    "earners:shared": _VIEW_COUNTED,  # ... and a shared collection's
    "claim_opened": {"badges_awardnotification"},  # the e-mail's pixel stamps "opened"
    "share_linkedin": {"analytics_shareclick"},  # a LinkedIn button's press, then LinkedIn
    "status_list": {"badges_statuslist"},  # re-signed when older than its last change
    # Not listed there yet: the link in the e-mail confirms the address it was sent to; a
    # sign-in started by a link or an LMS's GET keeps its state for the answer to match.
    "earners:verify_email": {"earners_learneremail"},
    "signon:saml_login": {"signon_pendingsignin"},
    "lti:login": {"lti_loginstate", "lti_toolkey"},  # the tool key too, if not made yet
}
# An API token's "last used" (badges.tokens.services.record_token_use) is the seventh; the
# crawl signs in with sessions, never with an ``ins_`` token.

# Tables any request may write: the session framework's own row, not a record of ours.
BOOKKEEPING = {"django_session"}


@dataclass
class World:
    """The seeded cast, and what each URL argument names (by name, or by route)."""

    cast: Cast
    invitation: Invitation
    learner: User
    params: dict[str, Any]
    routes: dict[str, dict[str, Any]]
    queries: dict[str, dict[str, str]]


def _seed(idp: SamlIdP) -> World:
    reference()
    cast = make_cast()
    owner = cast.owner
    owner.is_staff = owner.is_superuser = True
    owner.save(update_fields=["is_staff", "is_superuser"])
    IdentityProvider.objects.create(
        institution=cast.institution,
        protocol=Protocol.SAML,
        saml_metadata_xml=idp.metadata_xml,
        saml_entity_id=saml.idp_summary(idp.metadata_xml).entity_id,
    )
    # An authenticator for the admin's pages of one (not the owner's: the admin would ask it).
    TOTPDevice.objects.create(user=cast.viewer, name="Viewer's phone")
    invitation = issuer_services.invite_member(
        actor=owner, institution=cast.institution, email="pending@poly.example", role=Role.VIEWER
    )
    version = make_published(owner, cast.issuer, slug="crawled", image=png_bytes())
    issued = award(owner, version, email=LEARNER_EMAIL, name="Lee Learner")
    learner = make_learner(LEARNER_EMAIL)
    unconfirmed = earner_services.add_email(user=learner, email="lee.second@example.com")
    collection = earner_services.create_collection(user=learner, name="Crawl", awards=[issued])
    profile = earner_services.set_profile(user=learner, public=True, display_name="Lee")
    statement = EquivalenceStatement.objects.get(pk=isolation._statement(cast))
    equivalence_services.publish_statement(actor=owner, statement=statement)
    isolation._custom_framework(cast)
    framework = CompetencyFramework.objects.get(owner=cast.institution, source="custom")
    notification = AwardNotification.objects.get(award=issued)
    status_list = StatusList.objects.filter(issuer=cast.issuer).first()
    assert status_list is not None
    receipt = verification_services.create_receipt(
        report_json={"verdict": "valid", "credential_id": str(issued.pk)}, digest="0" * 64
    )
    staff_token, _key = oauth_services.create_staff_token(user=owner, name="Crawl script")
    platform = Platform.objects.get(pk=isolation._lti_platform(cast))
    launch = Launch.objects.create(
        key=uuid.uuid4().hex,
        platform=platform,
        deployment_id="victim-deployment",
        message_type="LtiResourceLinkRequest",
        subject="crawl-user",
        claims={},
        browser_hash="0" * 64,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    params: dict[str, Any] = {
        "institution": cast.institution.slug,
        "slug": cast.issuer.slug,
        "award_id": issued.pk,
        "achievement_id": version.achievement_id,
        "achievement": version.achievement_id,
        "number": version.number,
        "image_id": version.image_id,
        "status_list_id": status_list.pk,
        "receipt_id": receipt.pk,
        "code": QualificationsFramework.objects.order_by("code").values_list("code", flat=True)[0],
        "completion": isolation._completion(cast),
        "statement": statement.pk,
        "framework": framework.identifier,
        "item": framework.items.get().identifier,
        "collection_id": collection.pk,
        "key": launch.key,
        "batch_id": isolation._batch(cast),
        "pathway_id": isolation._pathway(cast),
        "endpoint_id": isolation._endpoint(cast),
        "delivery_id": isolation._delivery(cast),
        "rest": "no-such-thing",
        "exchange_id": "not-an-exchange",
    }
    routes: dict[str, dict[str, Any]] = {
        "claim": {"token": links.claim_token(issued)},
        "claim_opened": {"token": links.open_token(notification)},
        "earners:claim_accept": {"token": links.claim_token(issued)},
        "wallets:claim_offer": {"token": links.claim_token(issued)},
        "wallets:credential_offer": {"code": "not-an-offer"},
        "share_linkedin": {"award_id": issued.pk, "target": "post"},
        "earners:verify_email": {"token": earner_services.verification_token(unconfirmed)},
        "earners:shared": {"token": collection.token},
        "earners:transcript": {"token": collection.token},
        "earners:public_profile": {"slug": profile.slug},
        "lti:register": {"token": "not-a-registration-token"},
        "manage:accept_invitation": {"token": "not-an-invitation-token"},
        "manage:password_reset_confirm": {
            "uidb64": urlsafe_base64_encode(force_bytes(owner.pk)),
            "token": default_token_generator.make_token(owner),
        },
        "manage:account_token_revoke": {"token": staff_token.pk},
        "manage:account_app_disconnect": {"client": isolation._api_client(cast)},
        "endorsement_credential": {"endorsement_id": isolation._endorsement(cast)},
    }
    queries = {
        # The LMS's third-party initiated login (LTI 1.3 §5.1.1), as Moodle sends it.
        "lti:login": {
            "iss": platform.issuer,
            "client_id": platform.client_id,
            "login_hint": "crawl-user",
            "lti_deployment_id": "victim-deployment",
            "target_link_uri": f"{ORIGIN}/lti/{cast.institution.slug}/launch/",
        }
    }
    return World(cast, invitation, learner, params, routes, queries)


@pytest.fixture
def world(saml_idp: SamlIdP) -> World:  # noqa: F811 - the fixture imported above
    return _seed(saml_idp)


# --------------------------------------------------------------------------------------------
# The URL map
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # "namespace:name", or the route's pattern when it has no name
    pattern: str
    params: tuple[str, ...]
    view: Any


def _join(first: str, second: str) -> str:
    """As Django joins the patterns of a match's ``route``."""
    return second if not first else first + second.removeprefix("^")


def _walk(
    entries: list[Any], prefix: str, namespace: str, params: tuple[str, ...]
) -> Iterator[Route]:
    for entry in entries:
        pattern = _join(prefix, str(entry.pattern))
        found = params + tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner = ":".join(part for part in (namespace, entry.namespace or "") if part)
            yield from _walk(entry.url_patterns, pattern, inner, found)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield Route(name or pattern, pattern, found, entry.callback)


def url_map() -> dict[str, Route]:
    return {route.key: route for route in _walk(get_resolver().url_patterns, "", "", ())}


def route_of(url: str) -> str:
    match = resolve(url.split("?")[0])
    return match.view_name if match.url_name else match.route


def _admin_urls(world: World) -> list[str]:
    """Every admin page: the site's own, and each registered model's list, add form, and
    change, history, delete and shortcut pages of its first row (or of a missing one)."""
    institution_type = ContentType.objects.get_for_model(world.cast.institution)
    urls = [
        reverse(f"admin:{name}")
        for name in ("index", "login", "logout", "password_change", "password_change_done")
    ]
    urls += [
        reverse("admin:autocomplete"),
        reverse("admin:jsi18n"),
        reverse("admin:view_on_site", args=[institution_type.pk, world.cast.institution.pk]),
        "/admin/no-such-page/",
    ]
    labels = set()
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        labels.add(model._meta.app_label)
        first = model._default_manager.order_by("pk").first()
        pk = first.pk if first is not None else 0
        listing = reverse(f"{info}_changelist")
        urls += [listing, reverse(f"{info}_add"), f"{listing}{pk}/"]
        urls += [reverse(f"{info}_{view}", args=[pk]) for view in ("change", "history", "delete")]
    urls += [reverse("admin:app_list", kwargs={"app_label": label}) for label in sorted(labels)]
    # A model admin's own pages (a user's password, an authenticator's QR code): of its first row.
    reached = {route_of(url) for url in urls}
    for route in url_map().values():
        owner = getattr(getattr(route.view, "__wrapped__", None), "__self__", None)
        if route.key.startswith("admin:") and route.key not in reached and owner is not None:
            first = owner.model._default_manager.order_by("pk").first()
            urls.append(reverse(route.key, args=[first.pk if first is not None else 0]))
    return urls


def _kwargs(world: World, route: Route) -> dict[str, Any] | None:
    """The route's URL arguments (console routes: as the tenant-isolation test fills them),
    or None if this file cannot fill them."""
    if route.key in world.routes:
        return world.routes[route.key]
    name = route.key.removeprefix("manage:")
    if route.key.startswith("manage:") and name in isolation.SCOPED:
        kwargs: dict[str, Any] = isolation.SCOPED[name](
            world.cast, world.cast.institution.slug, world.invitation
        )
        return kwargs
    if all(param in world.params for param in route.params):
        return {param: world.params[param] for param in route.params}
    return None


def crawl_urls(world: World) -> list[str]:
    """A URL for every route of the URL map (the admin's: ``_admin_urls``)."""
    urls, unknown = _admin_urls(world), []
    for route in url_map().values():
        if route.pattern.startswith("admin/") or route.key in NOT_CRAWLED:
            continue
        kwargs = _kwargs(world, route)
        if kwargs is None:
            unknown.append(route.key)
            continue
        query = world.queries.get(route.key)
        urls.append(reverse(route.key, kwargs=kwargs) + (f"?{urlencode(query)}" if query else ""))
    assert unknown == [], f"Give these routes URL arguments, or list them in NOT_CRAWLED: {unknown}"
    missing = set(url_map()) - {route_of(url) for url in urls} - set(NOT_CRAWLED)
    assert missing == set(), f"Routes the crawl does not reach: {sorted(missing)}"
    return urls


# --------------------------------------------------------------------------------------------
# Production settings, personas, the crawl
# --------------------------------------------------------------------------------------------

_PRODUCTION_PROBE = """
import json
from django.conf import settings
from django.core.management import call_command
call_command("check", deploy=True, fail_level="WARNING")
names = [n for n in dir(settings) if n.startswith(("SECURE_", "INSIGNIA_CSP", "INSIGNIA_LMS"))]
names += [n for n in dir(settings) if "_COOKIE_" in n] + ["X_FRAME_OPTIONS"]
print(json.dumps({n: getattr(settings, n) for n in names}))
"""


@pytest.fixture(scope="module")
def production() -> dict[str, Any]:
    """The security settings of ``INSIGNIA_ENV=production``, read once ``check --deploy
    --fail-level WARNING`` has passed with them (it raises otherwise), and its report."""
    result = _manage("shell", "--no-imports", "-c", _PRODUCTION_PROBE, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    *report, last = result.stdout.strip().splitlines()
    values: dict[str, Any] = json.loads(last)
    if values.get("SECURE_PROXY_SSL_HEADER"):
        values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return {"settings": values, "report": "\n".join(report)}


@pytest.fixture
def under_production(world: World, production: dict[str, Any]) -> Iterator[World]:
    """The seeded world, served with the production security settings."""
    with override_settings(**production["settings"]):
        yield world


PERSONAS = ("anonymous", "staff", "learner")
# Sign-in and sign-up pages are crawled as they are met: signed out.
SIGNED_OUT = {f"manage:{name}" for name in isolation.PUBLIC - {"home"}} | {
    "earners:login",
    "earners:signup",
    "earners:signup_sent",
}


def persona_of(key: str, url: str) -> str:
    """Console, admin and API: the institution's owner (also the site's superuser); the
    backpack: a learner; public pages: an anonymous visitor."""
    if key in SIGNED_OUT:
        return "anonymous"
    if key.startswith(("earners:", "ob3api:connected_apps", "ob3api:about")):
        return "learner"
    if key.startswith(("manage:", "admin:")) or url.startswith(("/admin/", "/api/")):
        return "staff"
    return "anonymous"


def clients(world: World, *, enforce_csrf_checks: bool = False) -> dict[str, Client]:
    made = {
        name: Client(raise_request_exception=False, enforce_csrf_checks=enforce_csrf_checks)
        for name in PERSONAS
    }
    made["staff"].force_login(world.cast.owner)
    made["learner"].force_login(world.learner)
    return made


def writes() -> Counter[str]:
    """Rows inserted, updated or deleted in this transaction so far, by table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables"
        )
        return Counter(dict(cursor.fetchall()))


@dataclass
class Answer:
    key: str
    url: str
    persona: str
    response: HttpResponseBase
    written: set[str]


def crawl(world: World) -> list[Answer]:
    """GET every URL over https as its persona, noting the tables each GET wrote."""
    by_persona = clients(world)
    answers = []
    for url in crawl_urls(world):
        key = route_of(url)
        persona = persona_of(key, url)
        before = writes()
        response = by_persona[persona].get(url, secure=True)
        written = set(writes() - before) - BOOKKEEPING
        answers.append(Answer(key, url, persona, response, written))
    return answers


# --------------------------------------------------------------------------------------------
# What each answer must have
# --------------------------------------------------------------------------------------------


def _directives(value: str, separator: str) -> dict[str, str]:
    """``a b; c=d`` as ``{"a": "b", "c": "d"}`` (names lower-cased)."""
    found = {}
    for part in value.split(";"):
        name, _sep, rest = part.strip().partition(separator)
        if name:
            found[name.lower()] = rest.strip()
    return found


def script_flaws(rules: dict[str, str]) -> list[str]:
    """What lets a page run a script not served as a file by this server (issue 20 item 7)."""
    sources = rules.get("script-src", "").split()
    flaws = [] if sources == ["'self'"] else [f"CSP script-src {' '.join(sources)!r}"]
    if "'self'" not in rules.get("default-src", "").split():
        flaws.append(f"CSP default-src {rules.get('default-src')!r}")
    return flaws


def header_flaws(key: str, response: HttpResponseBase) -> list[str]:
    flaws = []
    rules = _directives(response.get("Content-Security-Policy", ""), " ")
    framing = settings.INSIGNIA_LMS_FRAME_ANCESTORS if key in FRAMED else "'none'"
    if rules.get("frame-ancestors") != framing:
        flaws.append(f"CSP frame-ancestors {rules.get('frame-ancestors')!r}")
    if response.get("Content-Type", "").startswith("text/html"):
        flaws += script_flaws(rules)
    if response.get("X-Content-Type-Options") != "nosniff":
        flaws.append("no nosniff")
    if not response.get("Referrer-Policy"):
        flaws.append("no Referrer-Policy")
    hsts = _directives(response.get("Strict-Transport-Security", ""), "=")
    if not hsts.get("max-age", "").isdigit() or int(hsts["max-age"]) < HSTS_MIN:
        flaws.append(f"HSTS {response.get('Strict-Transport-Security')!r}")
    elif "includesubdomains" not in hsts:
        flaws.append("HSTS without includeSubDomains")
    return flaws


# Cookies a cross-site request must carry: SameSite=None (with Secure). The LTI launch is a
# cross-site POST from the LMS, inside its frame (lti.views._set_browser_cookie).
CROSS_SITE_COOKIES = {"insignia_lti"}


def cookie_flaws(response: HttpResponseBase) -> dict[str, list[str]]:
    """Each cookie the answer sets (not one it deletes), and what is wrong with it."""
    django_names = {
        settings.SESSION_COOKIE_NAME,
        settings.CSRF_COOKIE_NAME,
        settings.LANGUAGE_COOKIE_NAME,
    }
    found = {}
    for name, morsel in response.cookies.items():
        if not morsel.value and str(morsel["max-age"]) == "0":
            continue  # a deletion
        flaws = [flag for flag in ("secure", "httponly") if not morsel[flag]]
        samesite = "None" if name in CROSS_SITE_COOKIES else "Lax"
        if morsel["samesite"] != samesite:
            flaws.append(f"SameSite={morsel['samesite'] or '(none)'}")
        if name in django_names and not (
            name.startswith("__Host-") and morsel["path"] == "/" and not morsel["domain"]
        ):
            flaws.append("not __Host-")
        found[name] = flaws
    return found


def _signing_in(world: World) -> list[Any]:
    """The answers that set the session and language cookies: a real sign-in, a language
    chosen."""
    browser = Client(raise_request_exception=False)
    form = browser.get(reverse("manage:login"), secure=True)
    signed_in = browser.post(
        reverse("manage:login"),
        {"username": world.cast.owner.email, "password": PASSWORD},
        secure=True,
    )
    assert settings.SESSION_COOKIE_NAME in signed_in.cookies, signed_in.status_code
    chosen = browser.post(reverse("set_language"), {"language": "zh-hans"}, secure=True)
    assert settings.LANGUAGE_COOKIE_NAME in chosen.cookies, chosen.status_code
    return [form, signed_in, chosen]


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------


def test_the_lists_of_exceptions_name_real_routes() -> None:
    routes = set(url_map())
    for listed in (NOT_CRAWLED, NOT_FOUND, FRAMED, CSRF_EXEMPT, GET_WRITES):
        assert set(listed) <= routes, set(listed) - routes


# The admin's forms warn that Django 6 will assume https for URL fields: not this test's matter.
@pytest.mark.filterwarnings("ignore::django.utils.deprecation.RemovedInDjango60Warning")
def test_every_answer_has_the_headers_safe_cookies_and_no_get_writes(
    under_production: World,
) -> None:
    world = under_production
    answers = crawl(world)
    signing_in = _signing_in(world)
    responses = [(a.key, a.url, a.response) for a in answers]
    responses += [(route_of(r.request["PATH_INFO"]), r.request["PATH_INFO"], r) for r in signing_in]

    headers = [f"{url}: {', '.join(f)}" for key, url, r in responses if (f := header_flaws(key, r))]
    cookies: dict[str, set[str]] = {}
    for _key, _url, response in responses:
        for name, flaws in cookie_flaws(response).items():
            cookies.setdefault(name, set()).update(flaws)
    stray = {
        a.url: sorted(extra) for a in answers if (extra := a.written - GET_WRITES.get(a.key, set()))
    }
    broken = [
        f"{a.response.status_code} {a.url}"
        for a in answers
        if a.response.status_code >= 500
        or (a.response.status_code == 404 and a.key not in NOT_FOUND)
    ]
    html = sum(a.response.get("Content-Type", "").startswith("text/html") for a in answers)
    statuses = Counter(a.response.status_code for a in answers)
    print(
        f"\ncrawled {len({a.key for a in answers})} routes, {len(answers)} URLs ({html} HTML), "
        f"answers {dict(sorted(statuses.items()))}; {len(NOT_CRAWLED)} routes not crawled"
        f"\nmissing or weak headers: {len(headers)} of {len(responses)} answers (the crawl's, "
        f"a sign-in's, a language chosen)"
        f"\ncookies: {', '.join(f'{n} ({len(f)} flaws)' for n, f in sorted(cookies.items()))}"
        f"\nGETs that wrote a record: {len(stray)} of {len(answers)} outside the "
        f"{len(GET_WRITES)} deliberate exceptions "
        f"({len({a.key for a in answers if a.written})} of them wrote in this crawl)"
    )
    assert broken == [], broken
    assert headers == [], headers
    assert {name: sorted(flaws) for name, flaws in cookies.items() if flaws} == {}
    assert {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME} <= set(cookies)
    assert {"insignia_lti", "insignia_signon"} <= set(cookies)  # LTI and SAML logins crawled
    assert stray == {}, stray


def _csrf_pair() -> tuple[str, str]:
    """A browser's CSRF cookie, and the token its pages carry."""
    request = RequestFactory().get("/")
    token = get_token(request)
    return request.META["CSRF_COOKIE"], token


def _api_view(url: str) -> type[APIView] | None:
    view = getattr(resolve(url.split("?")[0]).func, "cls", None)
    return view if isinstance(view, type) and issubclass(view, APIView) else None


def _is_api(url: str) -> bool:
    return _api_view(url) is not None


def _unsafe_methods(url: str) -> list[str]:
    """POST everywhere; PUT, PATCH and DELETE too where an API view takes them."""
    view = _api_view(url)
    extra = [m for m in ("put", "patch", "delete") if hasattr(view, m)] if view else []
    return ["post", *extra]


def _refused_for_csrf(response: HttpResponseBase) -> bool:
    return response.status_code == 403 and b"csrf" in getattr(response, "content", b"").lower()


def test_no_unsafe_request_passes_without_its_csrf_token(under_production: World) -> None:
    world = under_production
    by_persona = clients(world, enforce_csrf_checks=True)
    own: dict[str, str] = {}
    for name, client in by_persona.items():
        client.cookies[settings.CSRF_COOKIE_NAME], own[name] = _csrf_pair()
    _other_cookie, foreign = _csrf_pair()  # another browser's token

    def send(persona: str, method: str, url: str, token: str | None) -> HttpResponseBase:
        # A form's token for pages; the header for the API (whose JSON parsers would refuse
        # a form's body before its CSRF check).
        api = _is_api(url)
        data = urlencode({"csrfmiddlewaretoken": token}) if token and not api else ""
        headers = {"Origin": ORIGIN, **({"X-CSRFToken": token} if token and api else {})}
        return by_persona[persona].generic(
            method.upper(),
            url,
            data,
            content_type="application/x-www-form-urlencoded",
            secure=True,
            headers=headers,
        )

    sent, bypasses, exempt = 0, [], set()
    for url in crawl_urls(world):
        key = route_of(url)
        if key in CSRF_EXEMPT:
            exempt.add(key)
            view = _api_view(url)
            if view is not None:  # an exempt API view must not read the session cookie
                assert not any(
                    issubclass(auth, SessionAuthentication) for auth in view.authentication_classes
                ), key
            continue
        # Signed in everywhere: a session is what a forged request would ride on.
        persona = persona_of(key, url)
        persona = "staff" if persona == "anonymous" else persona
        for method in _unsafe_methods(url):
            for token in (None, foreign):
                sent += 1
                response = send(persona, method, url, token)
                if not _refused_for_csrf(response):
                    which = "no token" if token is None else "a foreign token"
                    bypasses.append(f"{method.upper()} {url} with {which}: {response.status_code}")

    # The same browsers with their own token are let through (the check is the token's).
    controls = {
        "staff": ["/i18n/setlang/", "/verify", "/manage/poly/settings/", "/api/v1/awards"],
        "learner": ["/backpack/collections/", "/backpack/profile/"],
    }
    refused = [
        url
        for persona, urls in controls.items()
        for url in urls
        if _refused_for_csrf(send(persona, "post", url, own[persona]))
    ]
    print(
        f"\nCSRF bypasses: {len(bypasses)} of {sent} unsafe requests (no token or another "
        f"browser's) to {len(crawl_urls(world)) - len(exempt)} URLs; {len(exempt)} routes "
        f"exempt on purpose; own token refused on {len(refused)} of "
        f"{sum(map(len, controls.values()))} controls"
    )
    assert bypasses == [], "\n".join(bypasses)
    assert exempt == set(CSRF_EXEMPT)
    assert refused == []


def test_the_deploy_check_is_clean_and_production_cookies_are_strict(
    production: dict[str, Any],
) -> None:
    values = production["settings"]
    print(f"\ndeploy check (production settings, --fail-level WARNING): {production['report']}")
    assert "no issues" in production["report"]
    assert values["SECURE_HSTS_SECONDS"] >= HSTS_MIN and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert values["SECURE_SSL_REDIRECT"]
    for cookie in ("SESSION", "CSRF", "LANGUAGE"):
        assert values[f"{cookie}_COOKIE_NAME"].startswith("__Host-"), cookie
        assert values[f"{cookie}_COOKIE_SECURE"] and values[f"{cookie}_COOKIE_HTTPONLY"], cookie
        assert values[f"{cookie}_COOKIE_SAMESITE"] == "Lax", cookie
    # `make run` serves plain http on 127.0.0.1 (development, like this test run, is not
    # production): a Secure or __Host- cookie would never come back to it.
    for cookie in ("SESSION", "CSRF", "LANGUAGE"):
        assert not getattr(settings, f"{cookie}_COOKIE_SECURE"), cookie
        assert not getattr(settings, f"{cookie}_COOKIE_NAME").startswith("__Host-"), cookie
