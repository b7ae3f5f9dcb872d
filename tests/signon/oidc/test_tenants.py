"""One institution's OpenID provider signs people into that institution only: a sign-in
started for one institution cannot be finished at another's address, and the memberships
and identifiers a sign-in creates are the provider's institution's."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from accounts.models import User
from earners.models import InstitutionalIdentity
from issuers.models import Membership
from signon.models import ExternalAccount
from tests.base import Cast
from tests.signon.oidc.helpers import at_provider, connect, sign_in, start
from tests.signon.oidc.op import OpenIDProvider

pytestmark = pytest.mark.django_db


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_a_sign_in_for_one_institution_cannot_be_finished_at_another(
    cast: Cast, op: OpenIDProvider
) -> None:
    connect(op, cast.institution)
    connect(op, cast.other_institution)
    browser = Client()
    back = at_provider(start(browser, cast.institution), "staff1")
    rival_callback = reverse("signon:oidc_callback", args=[cast.other_institution.slug])

    refused = browser.get(f"{rival_callback}?{urlsplit(back).query}")

    assert refused.status_code == 400
    assert SESSION_KEY not in browser.session
    assert not User.objects.filter(email="staff1@uni.test").exists()

    # The sign-in still belongs to its own institution, and only makes a member there.
    finished = browser.get(back)
    user = User.objects.get(email="staff1@uni.test")
    assert finished["Location"] == reverse("manage:dashboard", args=["poly"])
    assert list(Membership.objects.filter(user=user).values_list("institution", flat=True)) == [
        cast.institution.pk
    ]


def test_a_code_for_one_institution_is_worthless_with_anothers_state(
    cast: Cast, op: OpenIDProvider
) -> None:
    connect(op, cast.institution)
    connect(op, cast.other_institution)
    browser = Client()
    poly_back = at_provider(start(browser, cast.institution), "staff1")
    rival_state = _query(start(browser, cast.other_institution))["state"]
    rival_callback = reverse("signon:oidc_callback", args=[cast.other_institution.slug])
    query = _query(poly_back) | {"state": rival_state}

    response = browser.get(f"{rival_callback}?{urlencode(query)}")

    # The provider will not give the rival institution's client a token for poly's code.
    assert response.status_code == 400
    assert SESSION_KEY not in browser.session
    assert (
        not Membership.objects.filter(institution=cast.other_institution)
        .exclude(user=cast.outsider)
        .exists()
    )


def test_an_account_made_through_one_institution_is_not_found_through_another(
    cast: Cast, op: OpenIDProvider
) -> None:
    connect(op, cast.institution)
    connect(op, cast.other_institution)
    sign_in(Client(), cast.institution, "learner1")
    browser = Client()

    response = sign_in(browser, cast.other_institution, "learner1")

    # The rival's provider vouches for the same address, but an address alone never
    # finds an account: the person must link it themselves.
    assert response.status_code == 403
    assert "already uses learner1@uni.test" in response.content.decode()
    assert SESSION_KEY not in browser.session
    user = User.objects.get(email="learner1@uni.test")
    assert {a.provider.institution_id for a in ExternalAccount.objects.filter(user=user)} == {
        cast.institution.pk
    }
    assert set(
        InstitutionalIdentity.objects.filter(user=user).values_list("institution", flat=True)
    ) == {cast.institution.pk}
