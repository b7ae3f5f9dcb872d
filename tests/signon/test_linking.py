"""A learner who already has an Insignia account links their institution to it, through the
real SAML identity provider, and the badge awarded to their student number follows; someone
else signing in on the same computer does not land in their account."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from earners.models import InstitutionalIdentity
from earners.services import add_email
from signon.models import ExternalAccount
from tests.base import Cast, make_user
from tests.idp.saml_idp import SamlIdP
from tests.signon.saml.helpers import Campus, make_saml_provider, post_answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def campus(cast: Cast, saml_idp: SamlIdP) -> Campus:
    return Campus(make_saml_provider(cast.institution, saml_idp), saml_idp)


def _through_idp(client: Client, campus: Campus, username: str, query: dict[str, str]) -> str:
    start = client.get(campus.url("saml_login"), query)
    assert start.status_code == 302
    finish = post_answer(client, campus.idp.answer(str(start["Location"]), username))
    assert finish is not None
    done = client.post(finish.action, finish.fields)
    assert done.status_code == 302, done.content.decode()
    return str(done["Location"])


def test_a_learner_links_their_institution_from_the_addresses_page(
    client: Client, cast: Cast, campus: Campus
) -> None:
    learner = make_user("learner1@uni.test")  # the address the IdP sends: taken already
    client.force_login(learner)
    landed = _through_idp(
        client, campus, "learner1", {"link": "1", "next": reverse("earners:emails")}
    )
    assert landed == reverse("earners:emails")
    assert client.session["_auth_user_id"] == str(learner.pk)
    assert ExternalAccount.objects.get(provider=campus.provider).user == learner
    assert set(
        InstitutionalIdentity.objects.filter(user=learner).values_list("identity_type", "value")
    ) == {("studentId", "20261234"), ("sourcedId", "learner1@uni.test")}
    page = client.get(reverse("earners:emails")).content.decode()
    assert "20261234" in page and "by SAML sign-in" in page

    # Next time, signing in through the institution opens the same account.
    client.logout()
    _through_idp(client, campus, "learner1", {})
    assert client.session["_auth_user_id"] == str(learner.pk)


def test_someone_else_on_the_same_computer_does_not_land_in_the_signed_in_account(
    client: Client, cast: Cast, campus: Campus
) -> None:
    previous = make_user("still.here@example.org")
    add_email(user=previous, email="still.here@example.org")
    client.force_login(previous)
    _through_idp(client, campus, "staff1", {})  # no "link": a sign-in of its own
    assert client.session["_auth_user_id"] != str(previous.pk)
    assert not ExternalAccount.objects.filter(user=previous).exists()
    assert not InstitutionalIdentity.objects.filter(user=previous).exists()
