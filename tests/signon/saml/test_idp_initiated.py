"""Sign-ins started at the identity provider (its portal's "Insignia" tile): accepted when the
owner allows them, and then for this institution only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.signon.saml.helpers import Campus, post_answer, signed_in

pytestmark = pytest.mark.django_db


def test_a_sign_in_started_at_the_portal_signs_the_learner_in(campus: Campus) -> None:
    client = Client()
    answer = campus.idp.start_unsolicited(campus.entity_id, "learner1", "/backpack/emails/")
    finish = post_answer(client, answer)
    assert finish is not None
    response = client.post(finish.action, finish.fields)

    assert response.status_code == 302
    assert response["Location"] == "/backpack/emails/"  # the portal's RelayState, same-site
    assert signed_in(client)
    assert User.objects.filter(email="learner1@uni.test").exists()


def test_staff_starting_at_the_portal_land_in_the_console(campus: Campus) -> None:
    client = Client()
    finish = post_answer(client, campus.idp.start_unsolicited(campus.entity_id, "staff1"))
    assert finish is not None
    response = client.post(finish.action, finish.fields)
    assert response["Location"] == reverse(
        "manage:dashboard", args=[campus.provider.institution.slug]
    )


def test_portal_sign_ins_are_refused_when_the_owner_turned_them_off(campus: Campus) -> None:
    campus.provider.saml_allow_idp_initiated = False
    campus.provider.save()
    client = Client()
    answer = campus.idp.start_unsolicited(campus.entity_id, "learner1")
    response = client.post(reverse("signon:saml_acs", args=[campus.slug]), answer.fields)

    assert response.status_code == 403
    assert "only sign-ins started at Insignia" in response.content.decode()
    assert not signed_in(client)
    assert not User.objects.filter(email="learner1@uni.test").exists()
