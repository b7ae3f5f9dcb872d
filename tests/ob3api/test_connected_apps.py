"""The backpack's "Connected apps" page: the wallets a learner allowed, with what and since
when, and "Disconnect"; another learner's approval cannot be touched. And the query budget of
a page of credentials."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from earners.models import ImportedBadge, ImportSource
from integrations.models import ApiClient
from integrations.oauth import scopes
from integrations.oauth import services as oauth_services
from ob3api import selectors, services
from ob3api.models import WalletConsent
from tests.badges.helpers import award, make_published
from tests.base import make_cast
from tests.earners.helpers import make_learner
from tests.ob3api.helpers import REDIRECT_URI, registration_request
from tests.verification import helpers as other_issuers

pytestmark = pytest.mark.django_db


def _wallet(name: str = "Pocket Wallet") -> ApiClient:
    request = registration_request(client_name=name)
    client, _secret = oauth_services.register_wallet(
        name=name,
        redirect_uris=[REDIRECT_URI],
        scopes=list(scopes.WALLET_SCOPES),
        metadata={k: request[k] for k in ("client_uri", "policy_uri", "tos_uri")},
    )
    return client


def test_the_page_lists_the_approved_wallets_in_plain_words(client: Client) -> None:
    lee = make_learner("lee@example.com")
    services.record_consent(user=lee, client=_wallet(), scopes=[scopes.OB_CREDENTIAL_READONLY])
    client.force_login(lee)

    page = client.get("/backpack/apps/").content.decode()
    assert 'data-connected-app="Pocket Wallet"' in page
    assert "Read the badges in your backpack" in page
    assert "Add badges to your backpack" not in page  # not approved
    assert "No access at the moment" in page  # it never exchanged its code
    backpack = client.get("/backpack/").content.decode()
    assert 'href="/backpack/apps/"' in backpack  # in the backpack's navigation


def test_approving_again_adds_scopes_to_the_same_row(db: None) -> None:
    lee = make_learner("lee@example.com")
    wallet = _wallet()
    services.record_consent(user=lee, client=wallet, scopes=[scopes.OB_CREDENTIAL_READONLY])
    services.record_consent(user=lee, client=wallet, scopes=[scopes.OB_PROFILE_READONLY])
    consent = WalletConsent.objects.get()
    assert set(consent.scope_list) == {scopes.OB_CREDENTIAL_READONLY, scopes.OB_PROFILE_READONLY}


def test_a_learner_cannot_disconnect_another_learners_wallet(client: Client) -> None:
    ann = make_learner("ann@example.com")
    theirs = services.record_consent(
        user=ann, client=_wallet(), scopes=[scopes.OB_CREDENTIAL_READONLY]
    )
    client.force_login(make_learner("bob@example.com"))

    assert "Pocket Wallet" not in client.get("/backpack/apps/").content.decode()
    answer = client.post("/backpack/apps/", {"consent": str(theirs.pk)})
    assert answer.status_code == 404
    assert WalletConsent.objects.filter(pk=theirs.pk).exists()


def test_signed_out_visitors_go_to_the_learner_sign_in(client: Client) -> None:
    answer = client.get("/backpack/apps/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/backpack/login/")


def test_a_page_of_credentials_costs_the_same_queries_however_many_there_are(
    django_assert_num_queries: Any,
) -> None:
    cast = make_cast()
    lee = make_learner("lee@example.com")
    ImportedBadge.objects.create(
        user=lee,
        source=ImportSource.JSON,
        text=json.dumps(other_issuers.did_key_credential()),
        format="ob3",
        verdict="valid",
        checked_at=timezone.now(),
    )
    version = make_published(cast.owner, cast.issuer)
    for n in range(2):
        award(cast.owner, version, email="lee@example.com", name=f"Lee {n}")
        with django_assert_num_queries(6):
            page = selectors.credentials_of(lee, offset=0, limit=10)
        assert page.total == len(page.credential) == n + 2
