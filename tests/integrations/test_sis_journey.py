"""A student information system integrates as its developer would write it, against the live
server: a real OAuth 2.0 client (Authlib) gets a client-credentials token limited to one
issuer, registers a webhook receiver, pages through that issuer's awards, awards a learner
with an ``Idempotency-Key``, hears ``award.issued``, then ``award.claimed`` once the learner
accepts the badge from the e-mail, revokes it and hears ``award.revoked``. Every message is
checked by the reference Standard Webhooks library; a token for a sibling issuer reaches
nothing of this one."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.core import mail
from django.core.cache import cache
from oauth2_provider.models import Application
from pytest_django.fixtures import Settings as SettingsWrapper
from pytest_django.live_server_helper import LiveServer

from badges.models import Award
from integrations.oauth import services as oauth_services
from issuers.models import AuditAction, AuditEvent
from tests.badges.helpers import award, make_published
from tests.base import make_cast, make_issuer
from tests.webhooks.receiver import Received, Receiver

SCOPES = "awards:read awards:write awards:revoke webhooks:manage"


@pytest.fixture
def base(live_server: LiveServer, settings: SettingsWrapper, transactional_db: None) -> str:
    settings.INSIGNIA_BASE_URL = live_server.url
    cache.clear()
    return str(live_server.url)


@pytest.fixture
def receiver(settings: SettingsWrapper) -> Iterator[Receiver]:
    found = Receiver()
    found.start()
    settings.INSIGNIA_FETCH_ALLOWLIST = {"sis.test": found.address}
    yield found
    found.stop()


def _wait_for(receiver: Receiver, event_type: str, award_id: str) -> Received:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in receiver.of_type(event_type):
            if message.json["data"].get("award_id") == award_id:
                return message
        time.sleep(0.05)
    seen = [(r.json["type"], r.json["data"].get("award_id")) for r in receiver.received]
    raise AssertionError(f"no {event_type} for {award_id}; received {seen}")


def _session(base: str, client_id: str, secret: str, scope: str) -> OAuth2Session:
    session = OAuth2Session(client_id, secret, scope=scope)
    session.fetch_token(f"{base}/oauth/token/", grant_type="client_credentials")
    return session


def _all_pages(session: OAuth2Session, url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    pages = 0
    following: str | None = url
    while following:
        answer = session.get(following)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found += body["results"]
        following = body["next"]
        pages += 1
    assert pages >= 3  # five earlier awards, two a page
    return found


def test_a_student_records_system_awards_hears_and_revokes(base: str, receiver: Receiver) -> None:
    cast = make_cast()
    sibling = make_issuer(cast.institution, "poly-business", cast.owner)
    version = make_published(cast.editor, cast.issuer)
    make_published(cast.owner, sibling, slug="marketing")
    earlier = [award(cast.awarder, version, email=f"past{n}@example.com") for n in range(5)]
    client, secret = oauth_services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name="Student records",
        grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        scopes=SCOPES.split(),
        issuers=[cast.issuer],
    )
    sis = _session(base, client.application.client_id, secret, SCOPES)

    # The integrator registers where events go; the signing secret is in this answer only.
    made = sis.post(
        f"{base}/api/v1/institutions/{cast.institution.slug}/webhooks",
        json={"url": "https://sis.test/insignia", "issuers": [cast.issuer.slug]},
    )
    assert made.status_code == 201, made.text
    receiver.secrets = [made.json()["secret"]]

    # Sync: every award of the issuer, two a page.
    listed = _all_pages(sis, f"{base}/api/v1/awards?issuer={cast.issuer.slug}&limit=2")
    assert sorted(a["email"] for a in listed) == sorted(a.recipient_email for a in earlier)

    # Award one learner; the retried request (same key) awards nothing more.
    url = f"{base}/api/v1/achievements/{version.achievement_id}/awards"
    body = {"email": "Mere.Tane@example.com", "name": "Mere Tane"}
    headers = {"Idempotency-Key": "sis-enrolment-20261234"}
    first = sis.post(url, json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = sis.post(url, json=body, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert Award.objects.filter(recipient_email="mere.tane@example.com").count() == 1
    award_id = first.json()["awards"][0]["id"]
    logged = AuditEvent.objects.get(action=AuditAction.AWARD_ISSUED, data__award=award_id)
    assert logged.actor is None and logged.data["client"] == "oauth: Student records"

    issued = _wait_for(receiver, "award.issued", award_id)
    assert issued.json["data"]["recipient_email"] == "mere.tane@example.com"

    # The learner follows the e-mail's link and accepts the badge.
    letter = next(m for m in mail.outbox if "mere.tane@example.com" in m.to)
    link = re.search(r"https?://\S+/claim/\S+", str(letter.body))
    assert link is not None, letter.body
    learner = requests.Session()
    page = learner.get(link.group(0))
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    accepted = learner.post(
        link.group(0),
        data={"csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": link.group(0)},
    )
    assert accepted.status_code == 200, accepted.status_code
    claimed = _wait_for(receiver, "award.claimed", award_id)

    # Revoked through the API: the receiver hears it.
    revoked = sis.post(f"{base}/api/v1/awards/{award_id}/revoke", json={"reason": "Withdrew"})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["state"] == "revoked"
    gone = _wait_for(receiver, "award.revoked", award_id)

    messages = [issued, claimed, gone]
    assert all(m.verified for m in receiver.received), [m.problem for m in receiver.received]
    assert len({m.id for m in messages}) == 3  # one stable webhook-id per event

    # A token for the sibling issuer reaches nothing of this one.
    other, other_secret = oauth_services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name="Business school LMS",
        grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        scopes=SCOPES.split(),
        issuers=[sibling],
    )
    stranger = _session(base, other.application.client_id, other_secret, SCOPES)
    assert stranger.get(f"{base}/api/v1/awards/{award_id}").status_code == 404
    assert stranger.post(url, json={"email": "x@example.com"}).status_code == 404
    assert stranger.get(f"{base}/api/v1/awards").json()["results"] == []
