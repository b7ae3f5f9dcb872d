"""Answers that must not sign anyone in: forged, expired, replayed, for another service or
institution, unsigned, finished in another browser, or with no stable identifier. Each is a
clear page with a 4xx status, and nobody is signed in and no account is made."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from accounts.models import User
from signon.models import ExternalAccount, PendingSignIn
from tests.signon.saml.helpers import (
    Campus,
    post_answer,
    request_id_of,
    signed_in,
    start_sign_in,
)

pytestmark = pytest.mark.django_db


def _post(
    client: Client, campus: Campus, saml_response: str, relay_state: str = ""
) -> Any:  # the test client's response
    return client.post(
        campus.url("saml_acs"), {"SAMLResponse": saml_response, "RelayState": relay_state}
    )


def assert_refused(response: Any, status: int, text: str, client: Client) -> None:
    assert response.status_code == status
    page = response.content.decode()
    assert "data-signon-error" in page and text in page, page
    assert not signed_in(client)
    assert not User.objects.filter(email__endswith="@uni.test").exists()
    assert not ExternalAccount.objects.exists()


def test_an_answer_signed_by_another_key_is_refused(campus: Campus) -> None:
    client = Client()
    request_id = request_id_of(start_sign_in(client, campus))
    forged = campus.idp.response(
        campus.entity_id, "learner1", in_response_to=request_id, signer="rogue"
    )
    assert_refused(_post(client, campus, forged), 403, "could not be verified", client)


def test_an_unsigned_answer_is_refused(campus: Campus) -> None:
    client = Client()
    request_id = request_id_of(start_sign_in(client, campus))
    unsigned = campus.idp.response(
        campus.entity_id, "learner1", in_response_to=request_id, signer=None
    )
    assert_refused(_post(client, campus, unsigned), 403, "could not be verified", client)


def test_an_expired_answer_is_refused(campus: Campus) -> None:
    client = Client()
    request_id = request_id_of(start_sign_in(client, campus))
    late = campus.idp.response(
        campus.entity_id, "learner1", in_response_to=request_id, expired=True
    )
    assert_refused(_post(client, campus, late), 403, "arrived too late", client)


def test_an_answer_for_another_service_is_refused(campus: Campus) -> None:
    client = Client()
    request_id = request_id_of(start_sign_in(client, campus))
    elsewhere = campus.idp.response(
        campus.entity_id,
        "learner1",
        in_response_to=request_id,
        audience="https://lms.uni.test/shibboleth",
    )
    assert_refused(_post(client, campus, elsewhere), 403, "meant for another service", client)


def test_an_answer_used_twice_is_refused_the_second_time(campus: Campus) -> None:
    client = Client()
    answer = campus.idp.answer(start_sign_in(client, campus), "learner1")
    finish = post_answer(client, answer)
    assert finish is not None
    # The same answer again (an attacker who captured it, or the back button): refused
    # before and after the first one finished.
    thief = Client()
    assert_refused(_post(thief, campus, answer.fields["SAMLResponse"]), 403, "already", thief)
    client.post(finish.action, finish.fields)
    again = Client()
    response = _post(again, campus, answer.fields["SAMLResponse"])
    assert response.status_code == 403
    assert not signed_in(again)
    assert User.objects.filter(email="learner1@uni.test").count() == 1


def test_an_answer_started_at_the_identity_provider_cannot_be_replayed(campus: Campus) -> None:
    answer = campus.idp.response(campus.entity_id, "learner1")
    first = Client()
    assert _post(first, campus, answer).status_code == 200
    second = Client()
    assert_refused(_post(second, campus, answer), 403, "already used", second)


def test_an_answer_for_one_institution_posted_to_another_is_refused(
    campus: Campus, rival_campus: Campus
) -> None:
    client = Client()
    at_idp = start_sign_in(client, campus)
    answer = campus.idp.answer(at_idp, "learner1")
    # Sent to the rival college's assertion consumer service instead of Poly's.
    response = _post(client, rival_campus, answer.fields["SAMLResponse"])
    assert_refused(response, 403, "expired or was already used", client)
    # Even as an unsolicited answer (no InResponseTo) it is not the rival's audience.
    unsolicited = campus.idp.response(campus.entity_id, "learner1")
    assert_refused(_post(client, rival_campus, unsolicited), 403, "another service", client)


def test_a_sign_in_started_in_one_browser_cannot_be_finished_in_another(
    campus: Campus,
) -> None:
    victim = Client()
    answer = campus.idp.answer(start_sign_in(victim, campus), "learner1")
    finish = post_answer(victim, answer)
    assert finish is not None
    attacker = Client()
    response = attacker.post(finish.action, finish.fields)
    assert_refused(response, 403, "started in another browser", attacker)
    # The browser that started it still can.
    assert PendingSignIn.objects.filter(key=finish.fields["key"]).exists()
    assert victim.post(finish.action, finish.fields).status_code == 302
    assert signed_in(victim) and not signed_in(attacker)


def test_a_transient_identifier_alone_is_refused_with_a_reason(campus: Campus) -> None:
    client = Client()
    answer = campus.idp.answer(start_sign_in(client, campus), "guest1")
    response = _post(client, campus, answer.fields["SAMLResponse"])
    assert_refused(response, 403, "only a temporary identifier", client)


def test_nothing_is_accepted_while_the_institution_has_sign_on_switched_off(
    campus: Campus,
) -> None:
    client = Client()
    answer = campus.idp.answer(start_sign_in(client, campus), "learner1")
    campus.provider.enabled = False
    campus.provider.save()
    response = _post(client, campus, answer.fields["SAMLResponse"])
    assert_refused(response, 403, "switched off", client)
    assert_refused(client.get(campus.url("saml_login")), 403, "switched off", client)


def test_an_answer_to_a_request_nobody_made_is_refused(campus: Campus) -> None:
    client = Client()
    made_up = campus.idp.response(campus.entity_id, "learner1", in_response_to="id-madeup")
    assert_refused(_post(client, campus, made_up), 403, "expired or was already used", client)


@pytest.mark.parametrize("posted", ["", "not base64 at all", "PGh0bWw+PC9odG1sPg=="])
def test_garbage_is_a_clear_page_not_a_server_error(campus: Campus, posted: str) -> None:
    client = Client()
    assert_refused(_post(client, campus, posted), 400, "cannot read", client)


def test_the_refusal_page_speaks_chinese(campus: Campus) -> None:
    client = Client(headers={"accept-language": "zh-hans"})
    forged = campus.idp.response(campus.entity_id, "learner1", signer="rogue")
    response = _post(client, campus, forged)
    assert response.status_code == 403
    with translation.override("zh-hans"):
        expected = translation.gettext("Sign-in did not work")
    assert expected in response.content.decode()


def test_settings_gone_stale_give_a_clear_page_not_a_server_error(campus: Campus) -> None:
    from saml2.md import entity_descriptor_from_string

    client = Client()
    answer = campus.idp.answer(start_sign_in(client, campus), "learner1")
    stale = entity_descriptor_from_string(campus.provider.saml_metadata_xml)
    stale.valid_until = "2020-01-01T00:00:00Z"  # the identity provider's metadata expired
    campus.provider.saml_metadata_xml = str(stale)
    campus.provider.save()

    assert_refused(client.get(campus.url("saml_login")), 503, "settings need attention", client)
    assert_refused(_post(client, campus, answer.fields["SAMLResponse"]), 503, "settings", client)
