"""Signing in through the institution's SAML identity provider, started at Insignia: an
account made just in time, the identifiers the institution vouched for, the staff role the
owner mapped, and where the person lands."""

from __future__ import annotations

import base64

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from earners.models import InstitutionalIdentity
from issuers.models import Membership, Role
from signon import services
from signon.models import ExternalAccount
from tests.base import Cast
from tests.idp.saml_idp import read_form
from tests.signon.saml.helpers import (
    Campus,
    request_id_of,
    sign_in,
    signed_in,
    start_sign_in,
)

pytestmark = pytest.mark.django_db


def test_a_learner_gets_an_account_with_the_student_number_and_sign_in_name_attached(
    campus: Campus,
) -> None:
    client = Client()
    landed = sign_in(client, campus, "learner1")

    assert landed == reverse("earners:backpack")
    user = User.objects.get(email="learner1@uni.test")
    assert user.name == "Lee Learner"
    assert signed_in(client) and client.session["_auth_user_id"] == str(user.pk)
    identities = InstitutionalIdentity.objects.filter(user=user)
    assert {(i.identity_type, i.value, i.institution_id) for i in identities} == {
        ("studentId", "20261234", campus.provider.institution.pk),
        ("sourcedId", "learner1@uni.test", campus.provider.institution.pk),
    }
    assert all(i.verified_via == "SAML" for i in identities)
    assert not Membership.objects.filter(user=user).exists()
    # What single logout will need is in the session.
    via = client.session[services.SESSION_KEY]
    assert via["provider"] == str(campus.provider.pk)
    assert "persistent" in via["saml"]["name_id"] and via["saml"]["session_index"]


def test_staff_get_the_role_the_owner_mapped_from_their_affiliation_and_land_in_the_console(
    cast: Cast, campus: Campus
) -> None:
    # A rule naming the owner role is ignored: no identity provider makes anyone an owner.
    campus.provider.role_rules = [
        {"value": "staff", "role": "awarder"},
        {"value": "member", "role": "owner"},
    ]
    campus.provider.save()
    client = Client()
    landed = sign_in(client, campus, "staff1")

    assert landed == reverse("manage:dashboard", args=[cast.institution.slug])
    user = User.objects.get(email="staff1@uni.test")
    membership = Membership.objects.get(user=user)
    assert (membership.institution, membership.role) == (cast.institution, Role.AWARDER)
    assert client.get(landed).status_code == 200


def test_signing_in_again_finds_the_same_account_and_honours_the_page_asked_for(
    campus: Campus,
) -> None:
    sign_in(Client(), campus, "learner1")
    again = Client()
    landed = sign_in(again, campus, "learner1", next_url="/backpack/emails/")

    assert landed == "/backpack/emails/"
    assert User.objects.filter(email="learner1@uni.test").count() == 1
    assert ExternalAccount.objects.filter(provider=campus.provider).count() == 1


def test_an_offsite_next_address_is_ignored(campus: Campus) -> None:
    landed = sign_in(Client(), campus, "learner1", next_url="https://evil.example/")
    assert landed == reverse("earners:backpack")


def test_an_owner_can_map_attributes_by_their_oid(campus: Campus) -> None:
    campus.provider.attr_student_id = "urn:oid:1.3.6.1.4.1.25178.1.2.14"
    campus.provider.attr_email = "urn:oid:0.9.2342.19200300.100.1.3"
    campus.provider.save()
    sign_in(Client(), campus, "learner1")

    user = User.objects.get(email="learner1@uni.test")
    assert InstitutionalIdentity.objects.filter(
        user=user, identity_type="studentId", value="20261234"
    ).exists()


def test_the_browser_cookie_is_http_only_lax_and_short_lived(campus: Campus) -> None:
    client = Client()
    response = client.get(campus.url("saml_login"))
    cookie = response.cookies[services.BROWSER_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 15 * 60
    assert not cookie["secure"]  # plain http in tests; set over https


def test_an_encrypted_assertion_is_decrypted_with_the_institutions_key(campus: Campus) -> None:
    client = Client()
    request_id = request_id_of(start_sign_in(client, campus))
    sealed = campus.idp.response(
        campus.entity_id, "learner1", in_response_to=request_id, encrypt=True
    )
    assert b"EncryptedAssertion" in base64.b64decode(sealed)
    response = client.post(campus.url("saml_acs"), {"SAMLResponse": sealed})
    assert response.status_code == 200, response.content.decode()
    finish = read_form(response.content)
    assert client.post(finish.action, finish.fields).status_code == 302
    assert InstitutionalIdentity.objects.filter(value="20261234").exists()


def test_each_institution_signs_people_into_itself_only(
    cast: Cast, campus: Campus, rival_campus: Campus
) -> None:
    # The same identity provider serves both; each institution is its own service provider.
    landed = sign_in(Client(), rival_campus, "staff1")

    assert landed == reverse("manage:dashboard", args=[cast.other_institution.slug])
    staff = User.objects.get(email="staff1@uni.test")
    assert [(m.institution, m.role) for m in Membership.objects.filter(user=staff)] == [
        (cast.other_institution, Role.AWARDER)
    ]
    assert {i.institution for i in InstitutionalIdentity.objects.filter(user=staff)} == {
        cast.other_institution
    }
    assert ExternalAccount.objects.get(user=staff).provider == rival_campus.provider
