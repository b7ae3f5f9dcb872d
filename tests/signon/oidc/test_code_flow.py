"""Signing in through a real OpenID provider with the authorisation code flow and PKCE:
learners get an account with the identifiers their institution vouched for, staff get the
role the owner mapped, and a sign-in can only be finished once, in the browser that
started it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from joserfc.jwk import RSAKey
from pytest_django.fixtures import Settings

from accounts.models import User
from earners.models import InstitutionalIdentity
from issuers.models import Membership, Role
from signon import oidc
from signon.models import ExternalAccount, PendingSignIn
from tests.base import Cast
from tests.signon.oidc.helpers import at_provider, connect, new_chinese_strings, sign_in, start
from tests.signon.oidc.op import OpenIDProvider

pytestmark = pytest.mark.django_db


def _signed_in(browser: Client) -> bool:
    return SESSION_KEY in browser.session


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_the_authorisation_request_carries_state_nonce_and_a_pkce_challenge(
    cast: Cast, op: OpenIDProvider
) -> None:
    provider = connect(op, cast.institution)
    url = start(Client(), cast.institution)

    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(f"{op.issuer}/auth?")
    assert query["response_type"] == "code"
    assert query["client_id"] == provider.oidc_client_id
    assert query["redirect_uri"] == "http://testserver/signon/poly/oidc/callback/"
    assert query["scope"] == "openid email profile"
    assert query["code_challenge_method"] == "S256"
    assert "prompt" not in query
    pending = PendingSignIn.objects.get(key=query["state"])
    assert pending.nonce == query["nonce"] and len(pending.code_verifier) >= 43
    assert query["code_challenge"] != pending.code_verifier


def test_a_learner_signs_in_and_gets_the_identifiers_their_institution_vouched_for(
    cast: Cast, op: OpenIDProvider
) -> None:
    connect(op, cast.institution)
    browser = Client()

    response = sign_in(browser, cast.institution, "learner1")

    assert response.status_code == 302
    assert response["Location"] == reverse("earners:backpack")
    user = User.objects.get(email="learner1@uni.test")
    assert user.name == "Lee Learner"
    assert _signed_in(browser) and browser.session[SESSION_KEY] == str(user.pk)
    identities = {
        (i.identity_type, i.value, i.institution_id, i.verified_via)
        for i in InstitutionalIdentity.objects.filter(user=user)
    }
    assert identities == {
        ("studentId", "20261234", cast.institution.pk, "OpenID Connect"),
        ("sourcedId", "learner1@uni.test", cast.institution.pk, "OpenID Connect"),
    }
    assert not Membership.objects.filter(user=user).exists()
    assert ExternalAccount.objects.get(user=user).subject == "learner1"


def test_the_same_person_signing_in_again_gets_the_same_account(
    cast: Cast, op: OpenIDProvider
) -> None:
    connect(op, cast.institution)
    sign_in(Client(), cast.institution, "learner1")
    response = sign_in(Client(), cast.institution, "learner1")

    assert response.status_code == 302
    assert User.objects.filter(email="learner1@uni.test").count() == 1


def test_a_staff_member_gets_the_mapped_role_and_lands_in_the_console(
    cast: Cast, op: OpenIDProvider
) -> None:
    connect(op, cast.institution)
    browser = Client()

    response = sign_in(browser, cast.institution, "staff1")

    user = User.objects.get(email="staff1@uni.test")
    assert response["Location"] == reverse("manage:dashboard", args=["poly"])
    membership = Membership.objects.get(user=user)
    assert (membership.institution, membership.role) == (cast.institution, Role.AWARDER)
    assert _signed_in(browser)


def test_a_rule_naming_the_owner_role_never_makes_anyone_an_owner(
    cast: Cast, op: OpenIDProvider
) -> None:
    connect(op, cast.institution, role_rules=[{"value": "staff", "role": "owner"}])

    sign_in(Client(), cast.institution, "staff1")

    user = User.objects.get(email="staff1@uni.test")
    assert not Membership.objects.filter(user=user, role=Role.OWNER).exists()


def test_the_person_goes_back_where_they_were_going(cast: Cast, op: OpenIDProvider) -> None:
    connect(op, cast.institution)

    response = sign_in(Client(), cast.institution, "learner1", next_url="/backpack/account/")

    assert response["Location"] == "/backpack/account/"


def test_an_outside_next_address_is_ignored(cast: Cast, op: OpenIDProvider) -> None:
    connect(op, cast.institution)

    response = sign_in(Client(), cast.institution, "learner1", next_url="https://evil.example/")

    assert response["Location"] == reverse("earners:backpack")


def test_the_browser_cookie_ties_the_sign_in_to_this_browser(
    cast: Cast, op: OpenIDProvider
) -> None:
    connect(op, cast.institution)
    browser = Client()
    start(browser, cast.institution)

    cookie = browser.cookies["insignia_signon"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 900
    assert not cookie["secure"]  # plain http in tests; Secure when the request is


def test_a_callback_in_another_browser_is_refused(cast: Cast, op: OpenIDProvider) -> None:
    connect(op, cast.institution)
    back = at_provider(start(Client(), cast.institution), "learner1")
    other = Client()

    response = other.get(back)

    assert response.status_code == 400
    assert "started in another browser" in response.content.decode()
    assert not _signed_in(other)
    assert not User.objects.filter(email="learner1@uni.test").exists()


def test_a_sign_in_cannot_be_finished_twice(cast: Cast, op: OpenIDProvider) -> None:
    connect(op, cast.institution)
    browser = Client()
    back = at_provider(start(browser, cast.institution), "learner1")
    assert browser.get(back).status_code == 302
    browser.logout()

    again = browser.get(back)

    assert again.status_code == 400
    assert "expired or was already used" in again.content.decode()
    assert not _signed_in(browser)


def test_a_callback_with_another_state_is_refused(cast: Cast, op: OpenIDProvider) -> None:
    connect(op, cast.institution)
    browser = Client()
    back = at_provider(start(browser, cast.institution), "learner1")

    for state in ("made-up", ""):
        response = browser.get(_with_query(back, state=state))
        assert response.status_code == 400
    assert not _signed_in(browser)
    assert not User.objects.filter(email="learner1@uni.test").exists()


def test_an_answer_naming_another_issuer_is_refused(cast: Cast, op: OpenIDProvider) -> None:
    """RFC 9207: the provider names itself in its answer; a mixed-up answer is refused."""
    connect(op, cast.institution)
    browser = Client()
    back = at_provider(start(browser, cast.institution), "learner1")

    response = browser.get(_with_query(back, iss="https://idp.elsewhere.example"))

    assert response.status_code == 403
    assert not _signed_in(browser)


def test_cancelling_at_the_provider_says_so(cast: Cast, op: OpenIDProvider) -> None:
    connect(op, cast.institution)
    browser = Client()
    back = at_provider(start(browser, cast.institution), "learner1", cancel=True)
    assert "error=access_denied" in back

    response = browser.get(back)

    assert response.status_code == 403
    assert "The sign-in was cancelled at your institution" in response.content.decode()
    assert reverse("signon:oidc_login", args=["poly"]) in response.content.decode()
    assert not PendingSignIn.objects.exists()


def test_the_error_page_is_in_chinese_for_a_chinese_browser(cast: Cast, op: OpenIDProvider) -> None:
    connect(op, cast.institution)
    browser = Client(headers={"accept-language": "zh-CN"})
    back = at_provider(start(browser, cast.institution), "learner1", cancel=True)

    with new_chinese_strings():
        response = browser.get(back)

    assert response.status_code == 403
    assert "登录已在你所在机构处取消" in response.content.decode()


def test_client_secret_post_is_used_when_that_is_all_the_provider_offers(
    cast: Cast, op: OpenIDProvider
) -> None:
    provider = connect(
        op, cast.institution, client={"token_endpoint_auth_method": "client_secret_post"}
    )
    provider.oidc_discovery["token_endpoint_auth_methods_supported"] = ["client_secret_post"]
    provider.save()

    response = sign_in(Client(), cast.institution, "learner1")

    assert response["Location"] == reverse("earners:backpack")


def test_a_wrong_client_secret_is_refused(cast: Cast, op: OpenIDProvider) -> None:
    provider = connect(op, cast.institution)
    provider.oidc_client_secret = "not-the-secret"
    provider.save()
    browser = Client()

    response = sign_in(browser, cast.institution, "learner1")

    assert response.status_code == 400
    assert "did not accept this sign-in" in response.content.decode()
    assert not _signed_in(browser)
    assert not User.objects.filter(email="learner1@uni.test").exists()


@pytest.mark.parametrize(
    "algorithm",
    [
        "ES256",
        # RFC 9864 deprecates the name "EdDSA" (for "Ed25519"); providers still use it, so we
        # accept it and joserfc says so with a SecurityWarning.
        pytest.param("EdDSA", marks=pytest.mark.filterwarnings("ignore:EdDSA is deprecated")),
        "Ed25519",
    ],
)
def test_id_tokens_signed_with_other_accepted_algorithms_are_believed(
    cast: Cast, op: OpenIDProvider, algorithm: str
) -> None:
    connect(op, cast.institution, client={"id_token_signed_response_alg": algorithm})

    response = sign_in(Client(), cast.institution, "learner1")

    assert response["Location"] == reverse("earners:backpack")


def test_keys_the_provider_rotated_in_are_fetched_again(cast: Cast, op: OpenIDProvider) -> None:
    provider = connect(op, cast.institution)
    old = RSAKey.generate_key(2048, {"kid": "retired-key", "alg": "RS256", "use": "sig"})
    jwks_uri = provider.oidc_discovery["jwks_uri"]
    cache.set(oidc.jwks_cache_key(jwks_uri), {"keys": [old.as_dict()]}, 3600)

    response = sign_in(Client(), cast.institution, "learner1")

    assert response["Location"] == reverse("earners:backpack")
    kids = {key["kid"] for key in cache.get(oidc.jwks_cache_key(jwks_uri))["keys"]}
    assert "rsa-1" in kids and "retired-key" not in kids


def test_a_provider_that_cannot_be_reached_gets_a_clear_page(
    cast: Cast, op: OpenIDProvider, settings: Settings
) -> None:
    provider = connect(op, cast.institution)
    provider.oidc_discovery = {}
    provider.oidc_issuer = "https://idp.down.test"
    provider.save()
    settings.INSIGNIA_FETCH_ALLOWLIST = {"idp.down.test": "127.0.0.1:9"}  # nobody listens

    response = Client().get(reverse("signon:oidc_login", args=["poly"]))

    assert response.status_code == 502
    assert "cannot be reached right now" in response.content.decode()


def test_an_institution_without_openid_connect_says_so(cast: Cast) -> None:
    response = Client().get(reverse("signon:oidc_login", args=["poly"]))

    assert response.status_code == 404
    assert "does not offer sign-in through OpenID Connect" in response.content.decode()
