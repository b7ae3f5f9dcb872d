"""Learner Credential Wallet delivery: the VC-API exchange, driven by a real client.

The wallet side is ``tests/wallets/lcw/wallet.mjs``: Digital Bazaar's ``@digitalbazaar/vc``
with ``Ed25519Signature2020`` (what the LCW signs with) or ``eddsa-rdfc-2022``, a fresh
did:key, the exchange's challenge and domain. It runs against the live test server, and the
credential it receives is verified by Digital Bazaar's verifier (``tests/interop/verify.mjs``),
status list included. Every refusal is tried with presentations that library signed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from awarding.revocation import services as revocation_services
from badges.models import Award
from tests.badges.helpers import award, make_published
from tests.base import Cast, make_cast
from tests.interop.test_project_credentials import run_verifier
from tests.wallets.lcw.client import run_wallet
from wallets import services, vcapi
from wallets.binding import NotDeliverable
from wallets.models import Channel, Delivery, WalletOffer

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def live(live_server: LiveServer) -> Iterator[str]:
    """The live server's URL, which is also this site's public origin for the test."""
    with override_settings(INSIGNIA_BASE_URL=live_server.url):
        yield live_server.url


@pytest.fixture
def cast() -> Cast:
    return make_cast()


@pytest.fixture
def badge(cast: Cast) -> Award:
    return award(cast.awarder, make_published(cast.editor, cast.issuer))


def post(url: str, body: Any) -> tuple[int, dict[str, Any]]:
    """POST JSON over HTTP to the live server, as a wallet would."""
    request = urllib.request.Request(  # noqa: S310 - a loopback test server
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def new_exchange(badge: Award) -> tuple[WalletOffer, str]:
    created = services.create_lcw_offer(award=badge, actor=None)
    return created.offer, vcapi.exchange_url(created.exchange_id)


@pytest.mark.parametrize(
    ("suite", "vc_version"),
    [("ed25519-2020", "1"), ("eddsa-rdfc-2022", "2")],
)
def test_the_wallet_receives_its_badge_bound_to_its_did_and_a_replay_is_refused(
    live: str, badge: Award, tmp_path: Path, suite: str, vc_version: str
) -> None:
    offer, url = new_exchange(badge)
    received, presentation = tmp_path / "credential.json", tmp_path / "vp.json"
    original = badge.credential_json

    run = run_wallet(
        url,
        *("--suite", suite, "--vc-version", vc_version),
        *("--out", str(received), "--presentation-out", str(presentation)),
    )

    assert run.returncode == 0, (run.line, run.stderr)
    assert run.line["status"] == 200
    holder = run.line["holder"]
    credential = json.loads(received.read_text())
    assert credential["credentialSubject"]["id"] == holder
    assert credential["credentialStatus"] == json.loads(original)["credentialStatus"]
    returncode, lines = run_verifier(live, received)
    assert (returncode, lines[0]["verified"], lines[0]["status"]) == (0, True, "valid"), lines
    delivery = Delivery.objects.get(offer=offer)
    assert (delivery.channel, delivery.format, delivery.holder_id) == ("lcw", "ldp_vc", holder)
    assert json.loads(delivery.credential) == credential
    badge.refresh_from_db()
    assert badge.credential_json == original  # the award itself is untouched

    # The same presentation again, then the whole exchange again: both refused.
    replay = post(url, {"verifiablePresentation": json.loads(presentation.read_text())})
    again = run_wallet(url)
    assert replay == (409, replay[1]) and replay[1]["error"] == "exchange_used"
    assert (again.returncode, again.line["status"]) == (1, 409)
    assert again.line["request"]["error"] == "exchange_used"
    assert Delivery.objects.filter(award=badge).count() == 1


def test_revoking_the_award_fails_the_wallets_copy_too(
    live: str, cast: Cast, badge: Award, tmp_path: Path
) -> None:
    _, url = new_exchange(badge)
    received = tmp_path / "credential.json"
    assert run_wallet(url, "--out", str(received)).returncode == 0

    revocation_services.revoke_award(actor=cast.owner, award=badge, reason="Awarded in error")
    returncode, lines = run_verifier(live, received)

    assert (returncode, lines[0]["verified"]) == (1, False), lines


def test_each_wrong_presentation_is_refused_and_loses_nothing(
    live: str, badge: Award, tmp_path: Path
) -> None:
    offer, url = new_exchange(badge)
    variants_file = tmp_path / "variants.json"
    run = run_wallet(url, "--variants-out", str(variants_file))
    assert run.returncode == 0, run.stderr
    variants = json.loads(variants_file.read_text())

    answers = {
        name: post(url, {"verifiablePresentation": variants[name]})
        for name in (
            "wrongChallenge",
            "wrongDomain",
            "tampered",
            "holderMismatch",
            "assertionPurpose",
        )
    }
    offer.refresh_from_db()
    nothing_delivered = (offer.used_at, Delivery.objects.count())
    # The good one, bare: DCC's older "direct" flow posts the presentation itself.
    good = post(url, variants["good"])

    assert {name: (status, body["error"]) for name, (status, body) in answers.items()} == {
        "wrongChallenge": (403, "wrong_challenge"),
        "wrongDomain": (403, "wrong_domain"),
        "tampered": (403, "bad_signature"),
        "holderMismatch": (403, "holder_mismatch"),
        "assertionPurpose": (403, "wrong_purpose"),
    }
    assert all(body["message"] for _, body in answers.values())
    assert nothing_delivered == (None, 0)
    assert good[0] == 200
    assert (
        good[1]["verifiablePresentation"]["verifiableCredential"][0]["credentialSubject"]["id"]
        == variants["good"]["holder"]
    )


def test_a_presentation_for_another_exchange_is_refused(
    live: str, badge: Award, tmp_path: Path
) -> None:
    """A presentation made for one exchange (its challenge) does not open another."""
    _, first = new_exchange(badge)
    second_offer, second = new_exchange(badge)
    variants_file = tmp_path / "variants.json"
    assert run_wallet(first, "--variants-out", str(variants_file)).returncode == 0
    made_for_first = json.loads(variants_file.read_text())["good"]
    post(second, {})

    status, body = post(second, {"verifiablePresentation": made_for_first})

    assert (status, body["error"]) == (403, "wrong_challenge")
    assert not Delivery.objects.filter(offer=second_offer).exists()


def test_an_expired_exchange_is_refused(badge: Award) -> None:
    offer, url = new_exchange(badge)
    WalletOffer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    path = urlsplit(url).path

    started = Client().post(path, "{}", content_type="application/json")
    presented = Client().post(
        path,
        json.dumps({"verifiablePresentation": {"type": ["VerifiablePresentation"]}}),
        content_type="application/json",
    )

    assert (started.status_code, started.json()["error"]) == (410, "exchange_expired")
    assert (presented.status_code, presented.json()["error"]) == (410, "exchange_expired")
    assert "expired" in started.json()["message"]


def test_a_revoked_award_is_refused_before_any_exchange(cast: Cast, badge: Award) -> None:
    revocation_services.revoke_award(actor=cast.owner, award=badge, reason="Fraud")
    badge.refresh_from_db()

    with pytest.raises(NotDeliverable):
        services.create_lcw_offer(award=badge, actor=None)


def test_an_award_revoked_during_the_exchange_is_not_delivered(
    live: str, cast: Cast, badge: Award, tmp_path: Path
) -> None:
    offer, url = new_exchange(badge)
    variants_file = tmp_path / "variants.json"
    assert run_wallet(url, "--variants-out", str(variants_file)).returncode == 0
    revocation_services.suspend_award(actor=cast.owner, award=badge, reason="Under review")

    status, body = post(
        url, {"verifiablePresentation": json.loads(variants_file.read_text())["good"]}
    )

    assert (status, body["error"]) == (403, "not_deliverable")
    assert "suspended" in body["message"]
    offer.refresh_from_db()
    assert offer.used_at is None and not Delivery.objects.exists()


def test_the_first_post_asks_for_didauth_with_the_challenge_and_this_sites_domain(
    badge: Award,
) -> None:
    offer, url = new_exchange(badge)

    response = Client().post(urlsplit(url).path, "{}", content_type="application/json")

    request = response.json()["verifiablePresentationRequest"]
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert [q["type"] for q in request["query"]] == ["DIDAuthentication"]
    assert request["challenge"] == offer.challenge and len(offer.challenge) >= 32
    assert request["domain"] == services.lcw_domain()
    assert settings.INSIGNIA_BASE_URL.startswith(request["domain"])
    assert request["interact"]["service"][0]["serviceEndpoint"] == url
    offer.refresh_from_db()
    assert offer.redeemed_at is not None and offer.used_at is None


def test_unknown_exchanges_and_malformed_bodies_get_clear_json_errors(badge: Award) -> None:
    offer, url = new_exchange(badge)
    path = urlsplit(url).path
    client = Client()

    unknown = client.post("/lcw/exchanges/nope", "{}", content_type="application/json")
    not_json = client.post(path, "not json", content_type="application/json")
    array = client.post(path, "[]", content_type="application/json")
    with_credentials = client.post(
        path,
        json.dumps(
            {
                "verifiablePresentation": {
                    "type": ["VerifiablePresentation"],
                    "verifiableCredential": [{"id": "urn:x"}],
                }
            }
        ),
        content_type="application/json",
    )
    unsigned = client.post(
        path,
        json.dumps({"verifiablePresentation": {"type": ["VerifiablePresentation"]}}),
        content_type="application/json",
    )
    too_large = client.post(
        path, json.dumps({"padding": "x" * 70_000}), content_type="application/json"
    )

    assert (unknown.status_code, unknown.json()["error"]) == (404, "unknown_exchange")
    assert (not_json.status_code, not_json.json()["error"]) == (400, "malformed")
    assert (array.status_code, array.json()["error"]) == (400, "malformed")
    assert (with_credentials.status_code, with_credentials.json()["error"]) == (400, "malformed")
    assert (unsigned.status_code, unsigned.json()["error"]) == (403, "no_proof")
    assert (too_large.status_code, too_large.json()["error"]) == (413, "too_large")
    offer.refresh_from_db()
    assert offer.used_at is None and not Delivery.objects.exists()


def test_get_answers_the_interaction_protocols_and_writes_nothing(badge: Award) -> None:
    offer, url = new_exchange(badge)

    response = Client().get(urlsplit(url).path + "?iuv=1")

    assert response.json() == {"protocols": {"vcapi": url}}
    offer.refresh_from_db()
    assert offer.redeemed_at is None


def test_the_lcw_links_carry_the_exchange_url_for_the_app(badge: Award) -> None:
    created = services.create_lcw_offer(award=badge, actor=None)

    links = vcapi.lcw_links(created.offer, created.exchange_id)

    universal = urlsplit(links.wallet_url)
    request = json.loads(parse_qs(universal.query)["request"][0])
    assert (universal.scheme, universal.netloc, universal.path) == (
        "https",
        "lcw.app",
        "/request.html",
    )
    assert request == {
        "credentialRequestOrigin": services.lcw_domain(),
        "protocols": {"vcapi": vcapi.exchange_url(created.exchange_id)},
    }
    assert links.deep_link == "dccrequest://request?" + universal.query
    assert links.qr_svg.startswith("<svg") and "<text" not in links.qr_svg
    assert created.offer.channel == Channel.LCW
    assert created.offer.code_hash == services.digest(created.exchange_id)
    assert created.exchange_id not in json.dumps(
        list(WalletOffer.objects.values_list("code_hash", "challenge"))
    )


def test_when_the_issuer_cannot_sign_the_wallet_can_try_again(
    live: str, badge: Award, tmp_path: Path
) -> None:
    offer, url = new_exchange(badge)
    variants_file = tmp_path / "variants.json"
    assert run_wallet(url, "--variants-out", str(variants_file)).returncode == 0
    good = {"verifiablePresentation": json.loads(variants_file.read_text())["good"]}

    with override_settings(INSIGNIA_KEY_ENCRYPTION_KEY=None):
        failed = post(url, good)
    offer.refresh_from_db()
    used_after_failure = offer.used_at
    retried = post(url, good)

    assert (failed[0], failed[1]["error"]) == (503, "signing_unavailable")
    assert used_after_failure is None
    assert retried[0] == 200
