"""Single logout: signing out of Insignia signs the person out at the identity provider too
(a signed LogoutRequest), and signing out at the identity provider signs them out here."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tests.base import Cast
from tests.signon.saml.helpers import Campus, sign_in, signed_in

pytestmark = pytest.mark.django_db

SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_signing_out_here_signs_out_at_the_identity_provider(campus: Campus) -> None:
    client = Client()
    sign_in(client, campus, "learner1")
    page = client.get(reverse("earners:backpack")).content.decode()
    assert f'action="{campus.url("saml_logout")}"' in page  # the header's sign-out button

    response = client.post(campus.url("saml_logout"))
    assert not signed_in(client)
    assert response.status_code == 302
    to_idp = response["Location"]
    assert to_idp.startswith(f"{campus.idp.base_url}/slo?")
    assert {"SAMLRequest", "SigAlg", "Signature"} <= set(parse_qs(urlsplit(to_idp).query))

    status, back, _body = campus.idp.visit(to_idp)  # the IdP checks our signature
    assert status == 302, _body
    asked = campus.idp.logout_requests[-1]
    name_id, session_index = campus.idp.sessions[(campus.entity_id, "learner1")]
    assert asked.name_id.text == name_id.text
    assert [i.text for i in asked.session_index] == [session_index]

    done = client.get(_local(back), follow=True)
    assert done.redirect_chain[0][0] == reverse("manage:login")
    assert "signed out of Insignia and of your institution" in done.content.decode()


def test_signing_out_at_the_identity_provider_signs_out_here(campus: Campus) -> None:
    client = Client()
    sign_in(client, campus, "learner1")
    response = client.get(_local(campus.idp.logout_request_url(campus.entity_id, "learner1")))

    assert not signed_in(client)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{campus.idp.base_url}/slo?")
    status, _location, body = campus.idp.visit(response["Location"])
    assert (status, body) == (200, "Signed out at the IdP too.")
    assert campus.idp.logout_answers[-1].status.status_code.value == SUCCESS


def test_a_logout_for_someone_else_leaves_this_session_alone(campus: Campus) -> None:
    learner, staff = Client(), Client()
    sign_in(learner, campus, "learner1")
    sign_in(staff, campus, "staff1")
    response = learner.get(_local(campus.idp.logout_request_url(campus.entity_id, "staff1")))

    assert response.status_code == 302  # answered, as the standard asks
    assert signed_in(learner)


def test_an_unsigned_logout_request_is_refused(campus: Campus) -> None:
    client = Client()
    sign_in(client, campus, "learner1")
    signed = urlsplit(campus.idp.logout_request_url(campus.entity_id, "learner1"))
    fields = parse_qs(signed.query)
    unsigned = urlencode({"SAMLRequest": fields["SAMLRequest"][0]})
    response = client.get(f"{signed.path}?{unsigned}")

    assert response.status_code == 403
    assert "could not be verified" in response.content.decode()
    assert signed_in(client)


def test_a_logout_answer_to_a_request_we_never_sent_is_refused(campus: Campus) -> None:
    first = Client()
    sign_in(first, campus, "learner1")
    answer = campus.idp.visit(first.post(campus.url("saml_logout"))["Location"])[1]
    other = Client()
    response = other.get(_local(answer))
    assert response.status_code == 400


def test_a_password_session_signs_out_as_before(cast: Cast, campus: Campus) -> None:
    client = Client()
    client.force_login(cast.awarder)
    page = client.get(reverse("manage:home"), follow=True).content.decode()
    assert f'action="{reverse("manage:logout")}"' in page

    response = client.post(campus.url("saml_logout"))
    assert response["Location"] == reverse("manage:login")
    assert not signed_in(client)
