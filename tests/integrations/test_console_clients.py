"""The console page of an institution's API clients (issue 14): an owner registers a client,
its secret is shown once and works at the token endpoint, the list shows what it may do, and a
revoked client's tokens are refused at once. Owners only; other institutions get 404."""

from __future__ import annotations

import base64
import html
import re
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from oauth2_provider.models import AccessToken, Application

from integrations.models import ApiClient
from integrations.oauth import services
from issuers.models import AuditEvent
from tests.badges.helpers import make_published
from tests.base import Cast, make_issuer

pytestmark = pytest.mark.django_db

SECRET = re.compile(r'id="new-client-secret" type="text" value="([^"]+)"')
CLIENT_ID = re.compile(r'id="new-client-id" type="text" value="([^"]+)"')


def _page(cast: Cast) -> str:
    return reverse("manage:api_clients", args=[cast.institution.slug])


def _revoke_url(cast: Cast, client: ApiClient) -> str:
    return reverse(
        "manage:api_client_revoke", args=[cast.institution.slug, client.application.client_id]
    )


def _register(client: Client, cast: Cast, **fields: Any) -> tuple[Any, str, str]:
    client.force_login(cast.owner)
    data = {
        "name": "Student records",
        "grant_type": "client-credentials",
        "scopes": ["awards:read", "awards:write"],
        **fields,
    }
    response = client.post(_page(cast), data)
    assert response.status_code == 200, response.content.decode()
    body = response.content.decode()
    secret = SECRET.search(body)
    client_id = CLIENT_ID.search(body)
    assert secret is not None
    assert client_id is not None
    return response, client_id.group(1), html.unescape(secret.group(1))


def _token(client_id: str, secret: str, scope: str = "awards:write") -> tuple[int, Any]:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = Client().post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    return response.status_code, response.json()


def _award(key: str, achievement_id: object, email: str = "ada@example.com") -> Any:
    return Client().post(
        f"/api/v1/achievements/{achievement_id}/awards",
        {"email": email, "name": "Ada"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_an_owner_registers_a_client_whose_secret_is_shown_once_and_gets_a_token(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)

    response, client_id, secret = _register(client, cast, issuers=[cast.issuer.pk])

    body = response.content.decode()
    assert "shown only this once" in body
    assert "no-store" in response["Cache-Control"]
    # The examples are ready to paste: this server's token endpoint, the id and the secret.
    assert f"curl -X POST {settings.INSIGNIA_BASE_URL}/oauth/token/" in body
    assert html.escape(f'-u "{client_id}:{secret}"') in body
    assert "grant_type=client_credentials" in body
    assert f"{settings.INSIGNIA_BASE_URL}/api/v1/awards" in body
    status, answer = _token(client_id, secret)
    assert status == 200, answer
    assert answer["scope"] == "awards:write"
    assert _award(answer["access_token"], version.achievement_id).status_code == 201
    # Listed afterwards, by name, with its id, scopes and issuer; the secret is not shown again.
    again = client.get(_page(cast)).content.decode()
    assert "Student records" in again
    assert client_id in again
    assert "awards:read" in again
    assert "Poly Engineering" in again
    assert secret not in again
    assert SECRET.search(again) is None
    stored = ApiClient.objects.get(application__client_id=client_id)
    assert stored.institution == cast.institution
    assert stored.scopes == "awards:read awards:write"
    assert list(stored.issuers.all()) == [cast.issuer]
    assert stored.created_by == cast.owner
    event = AuditEvent.objects.get(action="api_client.created")
    assert event.actor == cast.owner
    assert event.data["client_id"] == client_id


def _tables_containing(text: str) -> list[str]:
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            name = connection.ops.quote_name(table)
            query = f"SELECT 1 FROM {name} t WHERE t::text LIKE %s LIMIT 1"  # noqa: S608 - a table name from introspection
            cursor.execute(query, [f"%{text}%"])
            if cursor.fetchone():
                found.append(table)
    return found


def test_the_secret_is_never_stored_in_clear(client: Client, cast: Cast) -> None:
    _response, _client_id, secret = _register(client, cast)

    assert _tables_containing("Student records")  # the search finds what is stored
    assert _tables_containing(secret) == []


def test_the_list_shows_when_a_client_last_got_a_token(client: Client, cast: Cast) -> None:
    _response, client_id, secret = _register(client, cast)
    assert "Never" in client.get(_page(cast)).content.decode()

    assert _token(client_id, secret)[0] == 200

    token = AccessToken.objects.get()
    listed = client.get(_page(cast)).content.decode()
    assert "Never" not in listed
    assert str(token.created.year) in listed


def test_a_revoked_clients_token_is_refused_at_once(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    _response, client_id, secret = _register(client, cast)
    key = _token(client_id, secret)[1]["access_token"]
    assert _award(key, version.achievement_id).status_code == 201
    found = ApiClient.objects.get(application__client_id=client_id)

    confirm = client.get(_revoke_url(cast, found))
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.content.decode()
    assert ApiClient.objects.get(pk=found.pk).revoked_at is None  # GET only asks
    revoked = client.post(_revoke_url(cast, found), follow=True)

    assert revoked.status_code == 200
    assert "is revoked" in revoked.content.decode()
    assert _award(key, version.achievement_id, "bo@example.com").status_code == 401
    assert _token(client_id, secret)[0] == 401
    assert AuditEvent.objects.filter(action="api_client.revoked", actor=cast.owner).count() == 1
    listed = client.get(_page(cast)).content.decode()
    assert "Revoked" in listed
    assert _revoke_url(cast, found) not in listed


def test_an_app_acting_for_colleagues_needs_a_valid_redirect_uri(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.owner)
    base = {"name": "Grading app", "grant_type": "authorization-code", "scopes": ["awards:read"]}

    missing = client.post(_page(cast), base)
    fragment = client.post(_page(cast), {**base, "redirect_uris": "https://app.example/cb#x"})
    relative = client.post(_page(cast), {**base, "redirect_uris": "/callback"})
    script = client.post(_page(cast), {**base, "redirect_uris": "javascript:alert(1)"})

    assert "needs at least one redirect URI" in missing.content.decode()
    assert "may not have one" in fragment.content.decode()
    assert "is not a full web address" in relative.content.decode()
    assert "is not a full web address" in script.content.decode()
    for response in (missing, fragment, relative, script):
        assert response.status_code == 400
        assert SECRET.search(response.content.decode()) is None
    assert not Application.objects.exists()

    response, client_id, _secret = _register(
        client,
        cast,
        **{**base, "redirect_uris": "https://app.example/callback\nhttps://app.example/cb2"},
    )
    application = Application.objects.get(client_id=client_id)
    assert application.authorization_grant_type == "authorization-code"
    assert application.redirect_uris == "https://app.example/callback https://app.example/cb2"
    body = response.content.decode()
    assert "/oauth/authorize/?response_type=code" in body
    assert "code_challenge_method=S256" in body
    assert "grant_type=authorization_code" in body


def test_a_client_needs_a_name_and_a_scope_and_only_known_scopes(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.owner)

    nameless = client.post(_page(cast), {"name": " ", "grant_type": "client-credentials"})
    unknown = client.post(
        _page(cast),
        {"name": "SIS", "grant_type": "client-credentials", "scopes": ["admin:everything"]},
    )
    scopeless = client.post(_page(cast), {"name": "SIS", "grant_type": "client-credentials"})

    assert nameless.status_code == unknown.status_code == scopeless.status_code == 400
    assert "Choose at least one scope." in scopeless.content.decode()
    assert "admin:everything" in unknown.content.decode()  # Django names the bad choice
    assert not ApiClient.objects.exists()


def test_a_system_client_ignores_redirect_uris(client: Client, cast: Cast) -> None:
    _response, client_id, _secret = _register(
        client, cast, redirect_uris="https://ignored.example/cb"
    )
    assert Application.objects.get(client_id=client_id).redirect_uris == ""


def test_an_issuer_of_another_institution_cannot_be_named(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    response = client.post(
        _page(cast),
        {
            "name": "SIS",
            "grant_type": "client-credentials",
            "scopes": ["awards:read"],
            "issuers": [cast.other_issuer.pk],
        },
    )
    assert response.status_code == 400
    assert not ApiClient.objects.exists()


def test_the_form_offers_the_institutions_issuers_only(client: Client, cast: Cast) -> None:
    make_issuer(cast.institution, "poly-business", cast.owner)
    client.force_login(cast.owner)
    body = client.get(_page(cast)).content.decode()
    assert "poly-business" in body
    assert "rival-arts" not in body
    assert "Read awards, their state, bulk uploads and claims" in body  # scope descriptions


@pytest.mark.parametrize("persona", ["editor", "awarder", "viewer"])
def test_staff_who_are_not_owners_get_403(client: Client, cast: Cast, persona: str) -> None:
    found, _secret = services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name="SIS",
        grant_type="client-credentials",
        scopes=["awards:read"],
    )
    client.force_login(getattr(cast, persona))

    assert client.get(_page(cast)).status_code == 403
    assert client.post(_page(cast), {"name": "Mine"}).status_code == 403
    assert client.get(_revoke_url(cast, found)).status_code == 403
    assert client.post(_revoke_url(cast, found)).status_code == 403
    assert ApiClient.objects.count() == 1
    assert ApiClient.objects.get().revoked_at is None


def test_an_owner_of_another_institution_gets_404(client: Client, cast: Cast) -> None:
    found, _secret = services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name="Victim SIS",
        grant_type="client-credentials",
        scopes=["awards:read"],
    )
    client.force_login(cast.outsider)
    own = cast.other_institution.slug
    urls = [
        _page(cast),
        _revoke_url(cast, found),
        reverse("manage:api_client_revoke", args=[own, found.application.client_id]),
    ]
    for url in urls:
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 404, url
            assert "Victim SIS" not in response.content.decode()
    assert ApiClient.objects.get().revoked_at is None
    # Their own page lists none of the victim's clients.
    assert (
        "Victim SIS" not in client.get(reverse("manage:api_clients", args=[own])).content.decode()
    )


def test_the_issuer_list_links_owners_to_the_clients_page(client: Client, cast: Cast) -> None:
    issuers = reverse("manage:issuers", args=[cast.institution.slug])
    client.force_login(cast.owner)
    assert _page(cast) in client.get(issuers).content.decode()
    client.force_login(cast.awarder)
    assert _page(cast) not in client.get(issuers).content.decode()


def test_the_page_reads_the_same_for_one_or_many_clients(client: Client, cast: Cast) -> None:
    def register(name: str) -> None:
        services.register_client(
            actor=cast.owner,
            institution=cast.institution,
            name=name,
            grant_type="client-credentials",
            scopes=["awards:read"],
            issuers=[cast.issuer],
        )

    register("One")
    client.force_login(cast.owner)
    client.get(_page(cast))
    with CaptureQueriesContext(connection) as one:
        client.get(_page(cast))
    for i in range(5):
        register(f"More {i}")
    with CaptureQueriesContext(connection) as many:
        body = client.get(_page(cast)).content.decode()

    assert "More 4" in body
    assert len(many) == len(one)
