"""Personal staff tokens (issue 14): a staff member creates one on their own page (the key is
shown once), it acts as them with their roles (``Authorization: Token …``), they revoke it
(401 at once); nobody else sees or revokes it. ``manage.py create_staff_token`` prints a
working key. Issuer tokens share the OAuth scope vocabulary."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from badges.tokens.scopes import TOKEN_SCOPES
from integrations.models import StaffToken
from integrations.oauth import services
from integrations.oauth.scopes import INSTITUTION_SCOPES
from issuers.models import AuditEvent
from tests.badges.helpers import make_published
from tests.base import Cast, make_user

pytestmark = pytest.mark.django_db

KEY = re.compile(r"ist_[A-Za-z0-9_-]{40,}")
PAGE = "/manage/account/tokens/"


def _award(key: str, achievement_id: object, email: str = "ada@example.com") -> Any:
    return Client().post(
        f"/api/v1/achievements/{achievement_id}/awards",
        {"email": email, "name": "Ada"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )


def _create(client: Client, user: Any, name: str = "Grading script") -> tuple[Any, str]:
    client.force_login(user)
    response = client.post(reverse("manage:account_tokens"), {"name": name})
    assert response.status_code == 200, response.content.decode()
    keys = set(KEY.findall(response.content.decode()))
    assert len(keys) == 1, keys
    return response, keys.pop()


def test_issuer_tokens_and_oauth_clients_share_one_scope_vocabulary() -> None:
    assert list(TOKEN_SCOPES) == list(INSTITUTION_SCOPES)
    assert [str(text) for text in TOKEN_SCOPES.values()] == [
        str(text) for text in INSTITUTION_SCOPES.values()
    ]


def test_a_staff_member_creates_a_token_shown_once_that_acts_with_their_role(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    assert reverse("manage:account_tokens") == PAGE

    response, key = _create(client, cast.awarder)

    body = response.content.decode()
    assert "shown only this once" in body
    assert f"Authorization: Token {key}" in body
    assert "no-store" in response["Cache-Control"]
    awarded = _award(key, version.achievement_id)
    assert awarded.status_code == 201, awarded.content
    issued = AuditEvent.objects.get(action="award.issued")
    assert issued.actor == cast.awarder  # the token acts as the person
    again = client.get(PAGE).content.decode()
    assert "Grading script" in again
    assert key not in again
    assert KEY.search(again) is None
    token = StaffToken.objects.get(user=cast.awarder)
    assert token.key_hash != key
    assert token.last_used_at is not None
    created = AuditEvent.objects.get(action="staff_token.created")
    assert (created.institution, created.actor) == (cast.institution, cast.awarder)


def test_a_viewers_token_cannot_award(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    _response, key = _create(client, cast.viewer)
    assert _award(key, version.achievement_id).status_code == 403


def test_a_revoked_staff_token_is_refused_at_once(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    _response, key = _create(client, cast.owner)
    assert _award(key, version.achievement_id).status_code == 201
    token = StaffToken.objects.get(user=cast.owner)
    url = reverse("manage:account_token_revoke", args=[token.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.content.decode()
    assert StaffToken.objects.get().revoked_at is None
    revoked = client.post(url, follow=True)

    assert "is revoked" in revoked.content.decode()
    assert _award(key, version.achievement_id, "bo@example.com").status_code == 401
    assert AuditEvent.objects.filter(action="staff_token.revoked").count() == 1
    assert url not in client.get(PAGE).content.decode()


def test_nobody_else_sees_or_revokes_a_persons_token(client: Client, cast: Cast) -> None:
    token, _key = services.create_staff_token(user=cast.owner, name="Owner's secret script")
    url = reverse("manage:account_token_revoke", args=[token.pk])

    for person in (cast.outsider, cast.editor):
        client.force_login(person)
        page = client.get(PAGE)
        assert page.status_code == 200
        assert "Owner's secret script" not in page.content.decode()
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert StaffToken.objects.get().revoked_at is None


def test_a_token_needs_a_name(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    response = client.post(PAGE, {"name": "  "})
    assert response.status_code == 400
    assert KEY.search(response.content.decode()) is None
    assert not StaffToken.objects.exists()


def test_a_learner_account_cannot_make_a_staff_token(client: Client, db: None) -> None:
    learner = make_user("learner@example.com")
    client.force_login(learner)

    page = client.get(PAGE)
    assert page.status_code == 200
    assert 'name="name"' not in page.content.decode()
    assert client.post(PAGE, {"name": "Mine"}).status_code == 403
    assert not StaffToken.objects.exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(client: Client, db: None) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("manage:login"))


def test_the_console_links_to_your_api_access(client: Client, cast: Cast) -> None:
    client.force_login(cast.viewer)
    body = client.get(reverse("manage:dashboard", args=[cast.institution.slug])).content.decode()
    assert f'href="{PAGE}"' in body


def test_the_command_prints_a_working_key_once(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    out, err = io.StringIO(), io.StringIO()

    call_command("create_staff_token", "Owner@Poly.example", name="CI", stdout=out, stderr=err)

    key = out.getvalue().strip()
    assert KEY.fullmatch(key)
    assert "only this once" in err.getvalue()
    assert key not in err.getvalue()
    assert StaffToken.objects.get().name == "CI"
    assert _award(key, version.achievement_id).status_code == 201


def test_the_command_refuses_an_unknown_address(db: None) -> None:
    with pytest.raises(CommandError, match="No account"):
        call_command("create_staff_token", "nobody@example.com", stdout=io.StringIO())
    assert not StaffToken.objects.exists()
