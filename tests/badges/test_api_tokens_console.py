"""The console page of an issuer's API tokens (issue #8): an owner creates a token whose key
is shown once and works against the awarding API, revokes it (401 at once), and sees when it
was last used; nobody else may open the page."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from badges.models import Award, IssuerApiToken
from badges.tokens import selectors as token_selectors
from badges.tokens import services as token_services
from issuers.models import AuditEvent, Role
from tests.badges.helpers import make_published
from tests.base import Cast, add_member, make_user

pytestmark = pytest.mark.django_db

KEY = re.compile(r"ins_[A-Za-z0-9_-]{40,}")


def _page(cast: Cast) -> str:
    return reverse("manage:api_tokens", args=[cast.institution.slug, cast.issuer.slug])


def _revoke_url(cast: Cast, token: IssuerApiToken) -> str:
    return reverse(
        "manage:api_token_revoke", args=[cast.institution.slug, cast.issuer.slug, token.pk]
    )


def _create(
    client: Client,
    cast: Cast,
    name: str = "Moodle",
    scopes: tuple[str, ...] = ("awards:read", "awards:write"),
) -> tuple[Any, str]:
    client.force_login(cast.owner)
    response = client.post(_page(cast), {"name": name, "scopes": list(scopes)})
    assert response.status_code == 200, response.content
    keys = set(KEY.findall(response.content.decode()))
    assert len(keys) == 1, keys
    return response, keys.pop()


def _award(client: Client, achievement_id: object, key: str, idempotency: str) -> Any:
    return client.post(
        reverse("api_award_achievement", args=[achievement_id]),
        json.dumps({"email": "ada@example.com", "name": "Ada"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_IDEMPOTENCY_KEY=idempotency,
    )


def test_an_owner_creates_a_token_whose_key_is_shown_once_and_awards_through_the_api(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)

    response, key = _create(client, cast)

    body = response.content.decode()
    assert "shown only this once" in body
    assert 'data-copy="new-key-value"' in body
    assert f"Bearer {key}" in body  # the example call is ready to paste
    assert f"/api/v1/achievements/{version.achievement_id}/awards" in body
    assert "Idempotency-Key" in body
    assert "no-store" in response["Cache-Control"]
    api = Client()  # an outside system: no session
    awarded = _award(api, version.achievement_id, key, "first-award")
    assert awarded.status_code == 201, awarded.content
    assert Award.objects.filter(recipient_email="ada@example.com").count() == 1
    # Shown again: listed by name, but the key is nowhere on the page.
    again = client.get(_page(cast)).content.decode()
    assert "Moodle" in again
    assert key not in again
    assert KEY.search(again) is None


def _tables_containing(text: str) -> list[str]:
    """Every table of the database with a row whose text form contains ``text`` (PostgreSQL:
    a row cast to text holds all its columns, JSON included)."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            name = connection.ops.quote_name(table)
            query = f"SELECT 1 FROM {name} t WHERE t::text LIKE %s LIMIT 1"  # noqa: S608 - a table name from introspection
            cursor.execute(query, [f"%{text}%"])
            if cursor.fetchone():
                found.append(table)
    return found


def test_the_key_is_never_stored_in_clear(client: Client, cast: Cast) -> None:
    _response, key = _create(client, cast)

    token = IssuerApiToken.objects.get(issuer=cast.issuer)
    assert token.key_hash == token_selectors.token_hash(key) != key
    # Not in any table: tokens, audit log, sessions, messages…
    assert _tables_containing("Moodle")  # the search does find what is stored
    assert _tables_containing(key[4:]) == []


def test_a_revoked_token_is_refused_by_the_api_at_once(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    _response, key = _create(client, cast)
    token = IssuerApiToken.objects.get(issuer=cast.issuer)
    api = Client()
    assert _award(api, version.achievement_id, key, "before").status_code == 201

    confirm = client.get(_revoke_url(cast, token))
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.content.decode()
    assert IssuerApiToken.objects.get(pk=token.pk).revoked_at is None  # GET only asks
    revoked = client.post(_revoke_url(cast, token), follow=True)

    assert revoked.status_code == 200
    assert "is revoked" in revoked.content.decode()
    refused = _award(api, version.achievement_id, key, "after")
    assert refused.status_code == 401
    assert Award.objects.count() == 1
    event = AuditEvent.objects.get(action="api_token.revoked")
    assert event.actor == cast.owner
    assert event.data["token"] == str(token.pk)
    assert AuditEvent.objects.filter(action="api_token.created", actor=cast.owner).count() == 1
    listed = client.get(_page(cast)).content.decode()
    assert "Revoked" in listed
    assert _revoke_url(cast, token) not in listed  # nothing left to revoke


def test_the_page_shows_when_a_token_was_last_used_writing_at_most_once_a_minute(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    _response, key = _create(client, cast)
    token = IssuerApiToken.objects.get(issuer=cast.issuer)
    assert token.last_used_at is None
    assert "Never" in client.get(_page(cast)).content.decode()
    api = Client()

    _award(api, version.achievement_id, key, "one")
    first = IssuerApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    assert timezone.now() - first < timedelta(seconds=30)
    _award(api, version.achievement_id, key, "two")
    assert IssuerApiToken.objects.get(pk=token.pk).last_used_at == first  # no second write
    earlier = timezone.now() - timedelta(minutes=5)
    IssuerApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    _award(api, version.achievement_id, key, "three")
    latest = IssuerApiToken.objects.get(pk=token.pk).last_used_at
    assert latest is not None
    assert latest > earlier + timedelta(minutes=4)
    assert "Never" not in client.get(_page(cast)).content.decode()


def test_record_token_use_skips_the_write_within_a_minute(cast: Cast) -> None:
    token, _key = token_services.create_api_token(actor=cast.owner, issuer=cast.issuer, name="x")
    now = timezone.now()

    assert token_services.record_token_use(token=token, now=now) is True
    assert token_services.record_token_use(token=token, now=now + timedelta(seconds=59)) is False
    stale = IssuerApiToken.objects.get(pk=token.pk)  # another request's copy, loaded earlier
    stale.last_used_at = None
    assert token_services.record_token_use(token=stale, now=now + timedelta(seconds=30)) is False
    assert token_services.record_token_use(token=token, now=now + timedelta(seconds=61)) is True


@pytest.mark.parametrize("persona", ["awarder", "editor", "viewer"])
def test_staff_who_are_not_owners_get_403(client: Client, cast: Cast, persona: str) -> None:
    token, _key = token_services.create_api_token(
        actor=cast.owner, issuer=cast.issuer, name="Student records"
    )
    client.force_login(getattr(cast, persona))

    assert client.get(_page(cast)).status_code == 403
    assert client.post(_page(cast), {"name": "Mine"}).status_code == 403
    assert client.get(_revoke_url(cast, token)).status_code == 403
    assert client.post(_revoke_url(cast, token)).status_code == 403
    assert IssuerApiToken.objects.filter(issuer=cast.issuer).count() == 1
    assert IssuerApiToken.objects.get(pk=token.pk).revoked_at is None


def test_an_owner_of_one_issuer_only_gets_403(client: Client, cast: Cast) -> None:
    # Tokens are an institution owner's matter (create_api_token asks for that role).
    issuer_owner = make_user("issuer-owner@poly.example")
    add_member(issuer_owner, cast.institution, Role.OWNER, cast.issuer)
    client.force_login(issuer_owner)

    assert client.get(_page(cast)).status_code == 403


def test_an_owner_of_another_institution_gets_404_and_learns_nothing(
    client: Client, cast: Cast
) -> None:
    token, _key = token_services.create_api_token(
        actor=cast.owner, issuer=cast.issuer, name="Victim LMS"
    )
    client.force_login(cast.outsider)
    # Through the victim's slug, and through the outsider's own slug with the victim's issuer.
    urls = [_page(cast), _revoke_url(cast, token)]
    own = cast.other_institution.slug
    urls += [
        reverse("manage:api_tokens", args=[own, cast.issuer.slug]),
        reverse("manage:api_token_revoke", args=[own, cast.issuer.slug, token.pk]),
        reverse("manage:api_token_revoke", args=[own, cast.other_issuer.slug, token.pk]),
    ]

    for url in urls:
        for response in (client.get(url), client.post(url, {"name": "Mine"})):
            assert response.status_code == 404, url
            assert "Victim LMS" not in response.content.decode()
    assert IssuerApiToken.objects.get(pk=token.pk).revoked_at is None
    assert not IssuerApiToken.objects.filter(issuer=cast.other_issuer).exists()


def test_a_token_needs_a_name(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)

    response = client.post(_page(cast), {"name": "  ", "scopes": ["awards:write"]})

    assert response.status_code == 400
    assert KEY.search(response.content.decode()) is None
    assert not IssuerApiToken.objects.exists()


def test_the_issuer_list_links_owners_to_the_token_page(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    assert (
        _page(cast)
        in client.get(reverse("manage:issuers", args=[cast.institution.slug])).content.decode()
    )
    client.force_login(cast.awarder)
    assert (
        _page(cast)
        not in client.get(reverse("manage:issuers", args=[cast.institution.slug])).content.decode()
    )


def test_the_page_is_in_chinese_for_a_chinese_browser(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)

    response = client.post(
        _page(cast),
        {"name": "教务系统", "scopes": ["awards:write"]},
        HTTP_ACCEPT_LANGUAGE="zh-Hans",
    )

    body = response.content.decode()
    assert "API 令牌" in body
    assert "教务系统" in body
    assert "shown only this once" not in body


def test_the_owner_chooses_the_tokens_scopes_and_the_list_shows_them(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    client.force_login(cast.owner)
    page = client.get(_page(cast)).content.decode()
    # The same scopes as OAuth clients, described; reading and awarding are ticked already.
    form = page[page.index("<h2>New token</h2>") :]
    assert "Revoke, suspend and reinstate awards" in form
    assert re.search(r'value="awards:read"[^>]*checked', form)
    assert re.search(r'value="awards:write"[^>]*checked', form)
    assert not re.search(r'value="awards:revoke"[^>]*checked', form)

    _response, key = _create(client, cast, "Reader", ("awards:read",))

    token = IssuerApiToken.objects.get(issuer=cast.issuer)
    assert token.scopes == "awards:read"
    assert _award(Client(), version.achievement_id, key, "read-only").status_code == 403
    listed = client.get(_page(cast)).content.decode()
    table = listed[listed.index("<table") : listed.index("</table>")]
    assert "awards:read" in table
    assert "awards:write" not in table
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.data["scopes"] == "awards:read"


def test_a_token_needs_at_least_one_known_scope(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)

    none = client.post(_page(cast), {"name": "Nothing"})
    unknown = client.post(_page(cast), {"name": "Root", "scopes": ["admin:everything"]})

    assert none.status_code == unknown.status_code == 400
    assert "Choose at least one scope." in none.content.decode()
    assert KEY.search(none.content.decode() + unknown.content.decode()) is None
    assert not IssuerApiToken.objects.exists()
    with pytest.raises(ValidationError):
        token_services.create_api_token(
            actor=cast.owner, issuer=cast.issuer, name="Root", scopes=["admin:everything"]
        )
    with pytest.raises(ValidationError):
        token_services.create_api_token(actor=cast.owner, issuer=cast.issuer, name="X", scopes=[])
    assert not IssuerApiToken.objects.exists()


def test_an_owner_may_give_a_token_the_webhooks_scope(client: Client, cast: Cast) -> None:
    _response, _key = _create(client, cast, "Hooks", ("webhooks:manage", "awards:read"))

    assert IssuerApiToken.objects.get().scopes == "awards:read webhooks:manage"
