"""OID4VCI 1.0 pre-authorized code flow: every refusal a wallet or an attacker can meet, and
the credential a wallet receives (bound to its key, same status, signed, the award untouched).

The holder here is tests/wallets/helpers.py (PyJWT proofs); tests/wallets/test_oid4vci_wallet.py
runs an independent npm client against a live server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import mail
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from awarding.revocation import services as revocation_services
from badges.models import Award
from badges.notifications import links
from openbadges import vcjwt
from tests.badges.helpers import award, make_published, verify_served
from tests.base import Cast
from tests.earners.helpers import make_learner
from tests.wallets import helpers
from tests.wallets.helpers import JWT, LDP, Holder
from verification import pipeline
from wallets.models import Delivery, ProofNonce, WalletOffer

pytestmark = pytest.mark.django_db

BASE = "http://127.0.0.1:8000"
Capture = Callable[..., Any]


@pytest.fixture(autouse=True)
def _base_url() -> Any:
    with override_settings(INSIGNIA_BASE_URL=BASE):
        yield


@pytest.fixture
def mine(cast: Cast) -> Award:
    version = make_published(cast.editor, cast.issuer)
    return award(cast.awarder, version, email="lee@example.com")


def _offer(client: Client, the_award: Award, capture: Capture) -> tuple[str, str]:
    """Sign in as the learner, create an offer; the pre-authorized code and the mailed code."""
    learner = User.objects.filter(email="lee@example.com").first()
    client.force_login(learner or make_learner("lee@example.com"))
    with capture(execute=True):
        page = client.post(f"/backpack/badges/{the_award.pk}/wallet/").content.decode()
    _uri, code = helpers.offer_from_page(page)
    return code, helpers.mailed_tx_code()


def _access_token(client: Client, the_award: Award, capture: Capture) -> str:
    code, tx_code = _offer(client, the_award, capture)
    answer = helpers.token(client, code, tx_code)
    assert answer.status_code == 200, answer.content
    return str(answer.json()["access_token"])


def _refusal(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]


# --- metadata ---------------------------------------------------------------------------


def test_the_issuer_metadata_offers_both_formats_and_names_its_authorization_server(
    client: Client,
) -> None:
    found = client.get("/.well-known/openid-credential-issuer").json()
    assert found["credential_issuer"] == BASE
    assert found["credential_endpoint"] == f"{BASE}/oid4vci/credential"
    assert found["nonce_endpoint"] == f"{BASE}/oid4vci/nonce"
    configurations = found["credential_configurations_supported"]
    assert {c["format"] for c in configurations.values()} == {"ldp_vc", "jwt_vc_json"}
    ldp = configurations[LDP]
    assert ldp["credential_signing_alg_values_supported"] == ["eddsa-rdfc-2022"]
    assert "OpenBadgeCredential" in ldp["credential_definition"]["type"]
    assert ldp["cryptographic_binding_methods_supported"] == ["did:key", "jwk"]
    assert ldp["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == [
        "EdDSA",
        "ES256",
    ]
    assert {d["locale"] for d in found["display"]} == {"en-US", "zh-CN"}
    assert "徽章" in json.dumps(found, ensure_ascii=False)
    server = client.get("/.well-known/oauth-authorization-server/oid4vci").json()
    assert found["authorization_servers"] == [server["issuer"]]
    assert server["token_endpoint"] == f"{BASE}/oid4vci/token"
    assert server["pre-authorized_grant_anonymous_access_supported"] is True


# --- the learner's page -----------------------------------------------------------------


def test_a_get_of_the_offer_page_creates_no_offer(client: Client, mine: Award) -> None:
    client.force_login(make_learner("lee@example.com"))
    page = client.get(f"/backpack/badges/{mine.pk}/wallet/").content.decode()
    assert "Create a wallet offer" in page and "openid-credential-offer://" not in page
    assert not WalletOffer.objects.exists()


def test_the_offer_page_shows_a_qr_and_deep_link_and_mails_the_code_not_the_offer(
    client: Client, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    client.force_login(make_learner("lee@example.com"))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(f"/backpack/badges/{mine.pk}/wallet/").content.decode()
    uri, code = helpers.offer_from_page(page)
    assert "<svg" in page and "l…@example.com" in page
    tx_code = helpers.mailed_tx_code()
    assert tx_code not in page  # the code travels only by e-mail
    sent: Any = mail.outbox[-1]
    assert code not in sent.body and code not in str(sent.alternatives[0][0])
    offer = client.get(uri.removeprefix(BASE)).json()
    grant = offer["grants"][helpers.PRE_AUTH]
    assert grant["pre-authorized_code"] == code
    assert grant["tx_code"]["length"] == 6 and grant["tx_code"]["input_mode"] == "numeric"
    stored = WalletOffer.objects.get(channel="oid4vci")
    assert code not in (stored.code_hash, stored.tx_code_hash)  # only hashes are kept


def test_another_learner_cannot_open_or_create_an_offer_for_my_badge(
    client: Client, mine: Award
) -> None:
    client.force_login(make_learner("someone@example.com"))
    assert client.get(f"/backpack/badges/{mine.pk}/wallet/").status_code == 404
    assert client.post(f"/backpack/badges/{mine.pk}/wallet/").status_code == 404
    assert not WalletOffer.objects.exists()


def test_the_claim_link_opens_the_offer_page_without_an_account(
    client: Client, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    token = links.claim_token(mine)
    claim_page = client.get(f"/claim/{token}").content.decode()
    assert f"/claim/{token}/wallet/" in claim_page
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(f"/claim/{token}/wallet/").content.decode()
    helpers.offer_from_page(page)
    assert client.get("/claim/forged-token/wallet/").status_code == 404


def test_the_award_email_links_to_the_wallet_page_but_carries_no_offer(
    cast: Cast, django_capture_on_commit_callbacks: Capture
) -> None:
    version = make_published(cast.editor, cast.issuer)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        issued = award(cast.awarder, version, email="lee@example.com")
    sent: list[Any] = [m for m in mail.outbox if "lee@example.com" in m.to]
    assert sent, "no award e-mail"
    wallet_link = f"/claim/{links.claim_token(issued)}/wallet/"
    assert wallet_link in sent[0].body and wallet_link in sent[0].alternatives[0][0]
    assert "openid-credential-offer" not in sent[0].body
    assert not WalletOffer.objects.exists()


def test_a_revoked_badge_gets_no_offer(cast: Cast, client: Client, mine: Award) -> None:
    revocation_services.revoke_award(actor=cast.editor, award=mine, reason="Error")
    client.force_login(make_learner("lee@example.com"))
    page = client.post(f"/backpack/badges/{mine.pk}/wallet/").content.decode()
    assert "revoked" in page and "openid-credential-offer://" not in page
    assert not WalletOffer.objects.exists()


# --- the token endpoint -----------------------------------------------------------------


def test_a_second_redemption_of_the_same_offer_is_refused(
    client: Client, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    code, tx_code = _offer(client, mine, django_capture_on_commit_callbacks)
    assert helpers.token(client, code, tx_code).status_code == 200
    again = helpers.token(client, code, tx_code)
    assert _refusal(again) == (400, "invalid_grant")
    assert "already been used" in again.json()["error_description"]


def test_an_expired_offer_is_refused(
    client: Client, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    code, tx_code = _offer(client, mine, django_capture_on_commit_callbacks)
    WalletOffer.objects.filter(channel="oid4vci").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    answer = helpers.token(client, code, tx_code)
    assert _refusal(answer) == (400, "invalid_grant")
    assert "expired" in answer.json()["error_description"]


def test_an_unknown_code_and_another_grant_type_are_refused(client: Client) -> None:
    assert _refusal(helpers.token(client, "made-up", "123456")) == (400, "invalid_grant")
    other = client.post("/oid4vci/token", {"grant_type": "client_credentials"})
    assert _refusal(other) == (400, "unsupported_grant_type")


def test_a_wrong_or_missing_transaction_code_is_refused_and_a_few_lock_the_offer(
    client: Client, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    code, tx_code = _offer(client, mine, django_capture_on_commit_callbacks)
    wrong = "000000" if tx_code != "000000" else "111111"
    assert _refusal(helpers.token(client, code, None)) == (400, "invalid_request")
    for _ in range(3):
        assert _refusal(helpers.token(client, code, wrong)) == (400, "invalid_grant")
    locked = helpers.token(client, code, tx_code)  # the right code, too late
    assert _refusal(locked) == (400, "invalid_grant")
    assert "locked" in locked.json()["error_description"]
    assert WalletOffer.objects.get(channel="oid4vci").tx_code_attempts == 3


# --- the credential endpoint ------------------------------------------------------------


def test_a_wallet_receives_its_badge_bound_to_its_did_with_the_same_status(
    client: Client, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    original = mine.credential_json
    access = _access_token(client, mine, django_capture_on_commit_callbacks)
    holder = Holder()
    proof = holder.proof(nonce=helpers.nonce(client), aud=BASE)
    answer = helpers.credential(client, access, helpers.request_body(proof))
    assert answer.status_code == 200, answer.content
    assert answer["Cache-Control"] == "no-store"
    copy = answer.json()["credentials"][0]["credential"]
    assert copy["credentialSubject"]["id"] == holder.did
    assert copy["credentialStatus"] == mine.credential["credentialStatus"]
    assert copy["issuer"] == mine.credential["issuer"]
    assert (
        copy["credentialSubject"]["achievement"]
        == mine.credential["credentialSubject"]["achievement"]
    )
    assert copy["id"].startswith("urn:uuid:") and copy["id"] != mine.credential["id"]
    assert verify_served(client, copy).verified
    report = pipeline.verify(pipeline.VerifyRequest(text=json.dumps(copy)))
    assert report.verdict == "valid", report
    mine.refresh_from_db()
    assert mine.credential_json == original  # the award itself is untouched
    delivery = Delivery.objects.get()
    assert (delivery.holder_id, delivery.format, delivery.channel) == (
        holder.did,
        "ldp_vc",
        "oid4vci",
    )
    assert json.loads(delivery.credential) == copy
    # ... and the learner sees it on the page.
    page = client.get(f"/backpack/badges/{mine.pk}/wallet/").content.decode()
    assert holder.did[:40] in page
    # Revoking the award makes the copy fail in our verifier too (the shared status bit),
    # and it says "revoked" with the reason, as for the award itself: the bit the copy
    # carries is the suspension bit, which a revocation also sets.
    revocation_services.revoke_award(actor=None, award=mine, reason="Issued in error")
    after = pipeline.verify(pipeline.VerifyRequest(text=json.dumps(copy)))
    assert after.verdict == "revoked"
    status = after.check("status")
    assert status is not None
    assert status.code == "revoked" and "Issued in error" in status.message


def test_a_wallet_with_a_p256_jwk_receives_a_vc_jwt(
    client: Client, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    access = _access_token(client, mine, django_capture_on_commit_callbacks)
    holder = Holder(curve="p256")
    proof = holder.proof(nonce=helpers.nonce(client), aud=BASE)
    answer = helpers.credential(client, access, helpers.request_body(proof, JWT))
    assert answer.status_code == 200, answer.content
    token = answer.json()["credentials"][0]["credential"]
    decoded = vcjwt.decode(token)
    assert decoded.header["typ"] == "vc+jwt" and decoded.header["alg"] == "EdDSA"
    assert decoded.credential["credentialSubject"]["id"].startswith("did:jwk:")
    assert decoded.credential["credentialStatus"] == mine.credential["credentialStatus"]
    report = pipeline.verify(pipeline.VerifyRequest(text=token))
    assert report.verdict == "valid", report


def test_a_second_credential_request_on_the_same_offer_is_refused(
    client: Client, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    access = _access_token(client, mine, django_capture_on_commit_callbacks)
    holder = Holder()
    first = helpers.credential(
        client, access, helpers.request_body(holder.proof(nonce=helpers.nonce(client), aud=BASE))
    )
    assert first.status_code == 200
    again = helpers.credential(
        client, access, helpers.request_body(holder.proof(nonce=helpers.nonce(client), aud=BASE))
    )
    assert _refusal(again) == (400, "credential_request_denied")
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(
    ("make_proof", "error"),
    [
        pytest.param(
            lambda h, n: h.proof(nonce=n, aud=BASE, signer=Ed25519PrivateKey.generate()),
            "invalid_proof",
            id="signed-by-another-key",
        ),
        pytest.param(
            lambda h, n: h.proof(nonce=n, aud="https://other-issuer.example"),
            "invalid_proof",
            id="wrong-aud",
        ),
        pytest.param(lambda h, n: h.proof(nonce=None, aud=BASE), "invalid_nonce", id="no-nonce"),
        pytest.param(
            lambda h, n: h.proof(nonce="made-up", aud=BASE), "invalid_nonce", id="unknown-nonce"
        ),
        pytest.param(
            lambda h, n: h.proof(nonce=n, aud=BASE, iat=time.time() - 3600),
            "invalid_proof",
            id="stale-iat",
        ),
        pytest.param(
            lambda h, n: h.proof(nonce=n, aud=BASE, iat=time.time() + 3600),
            "invalid_proof",
            id="future-iat",
        ),
        pytest.param(
            lambda h, n: h.proof(nonce=n, aud=BASE, typ="JWT"), "invalid_proof", id="wrong-typ"
        ),
        pytest.param(
            lambda h, n: h.proof(nonce=n, aud=BASE, extra_header={"jku": "http://evil/jwks"}),
            "invalid_proof",
            id="jku-header",
        ),
        pytest.param(
            lambda h, n: h.proof(
                nonce=n, aud=BASE, extra_header={"kid": "did:web:evil.example#key-1"}
            ),
            "invalid_proof",
            id="not-did-key",
        ),
        pytest.param(
            lambda h, n: h.proof(
                nonce=n, aud=BASE, use_jwk=True, extra_header={"kid": "did:key:z6Mk"}
            ),
            "invalid_proof",
            id="kid-and-jwk",
        ),
        pytest.param(
            lambda h, n: jwt.encode(
                {"aud": BASE, "nonce": n, "iat": int(time.time())},
                "an-hmac-key-that-is-at-least-32-bytes",
                algorithm="HS256",
                headers={"typ": "openid4vci-proof+jwt"},
            ),
            "invalid_proof",
            id="hmac",
        ),
    ],
)
def test_a_bad_key_proof_is_refused_and_delivers_nothing(
    client: Client,
    mine: Award,
    django_capture_on_commit_callbacks: Capture,
    make_proof: Callable[[Holder, str], str],
    error: str,
) -> None:
    access = _access_token(client, mine, django_capture_on_commit_callbacks)
    answer = helpers.credential(
        client, access, helpers.request_body(make_proof(Holder(), helpers.nonce(client)))
    )
    assert _refusal(answer) == (400, error), answer.content
    assert not Delivery.objects.exists()
    # Nothing was lost: the same offer still delivers with a good proof.
    good = Holder().proof(nonce=helpers.nonce(client), aud=BASE)
    assert helpers.credential(client, access, helpers.request_body(good)).status_code == 200


def test_a_replayed_nonce_is_refused(
    client: Client, cast: Cast, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    nonce = helpers.nonce(client)
    access = _access_token(client, mine, django_capture_on_commit_callbacks)
    holder = Holder()
    proof = holder.proof(nonce=nonce, aud=BASE)
    assert helpers.credential(client, access, helpers.request_body(proof)).status_code == 200
    # A second badge of the same learner: the captured proof (and its nonce) is replayed.
    second = award(cast.awarder, mine.achievement_version, email="lee@example.com", name="Lee")
    other_access = _access_token(client, second, django_capture_on_commit_callbacks)
    replay = helpers.credential(client, other_access, helpers.request_body(proof))
    assert _refusal(replay) == (400, "invalid_nonce")


def test_an_expired_nonce_is_refused(
    client: Client, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    access = _access_token(client, mine, django_capture_on_commit_callbacks)
    nonce = helpers.nonce(client)
    ProofNonce.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = helpers.credential(
        client, access, helpers.request_body(Holder().proof(nonce=nonce, aud=BASE))
    )
    assert _refusal(answer) == (400, "invalid_nonce")


def test_a_request_without_proofs_or_for_an_unknown_format_is_refused(
    client: Client, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    access = _access_token(client, mine, django_capture_on_commit_callbacks)
    missing = helpers.credential(client, access, {"credential_configuration_id": LDP})
    assert _refusal(missing) == (400, "invalid_proof")
    proof = Holder().proof(nonce=helpers.nonce(client), aud=BASE)
    unknown = helpers.credential(client, access, helpers.request_body(proof, "mso_mdoc_badge"))
    assert _refusal(unknown) == (400, "unknown_credential_configuration")
    not_json = client.post(
        "/oid4vci/credential",
        "nope",
        content_type="application/json",
        headers={"Authorization": f"Bearer {access}"},
    )
    assert _refusal(not_json) == (400, "invalid_credential_request")
    assert not Delivery.objects.exists()


def test_a_missing_unknown_or_expired_access_token_is_refused(
    client: Client, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    body = helpers.request_body(Holder().proof(nonce=helpers.nonce(client), aud=BASE))
    missing = client.post("/oid4vci/credential", json.dumps(body), content_type="application/json")
    assert _refusal(missing) == (401, "invalid_token")
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert _refusal(helpers.credential(client, "made-up", body)) == (401, "invalid_token")
    access = _access_token(client, mine, django_capture_on_commit_callbacks)
    WalletOffer.objects.filter(channel="oid4vci").update(
        access_token_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert _refusal(helpers.credential(client, access, body)) == (401, "invalid_token")


def test_a_badge_revoked_after_the_offer_is_not_delivered(
    client: Client, cast: Cast, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    access = _access_token(client, mine, django_capture_on_commit_callbacks)
    revocation_services.revoke_award(actor=cast.editor, award=mine, reason="Error")
    proof = Holder().proof(nonce=helpers.nonce(client), aud=BASE)
    answer = helpers.credential(client, access, helpers.request_body(proof))
    assert _refusal(answer) == (400, "credential_request_denied")
    assert not Delivery.objects.exists()


def test_the_ldp_copy_fails_when_tampered(
    client: Client, mine: Award, django_capture_on_commit_callbacks: Capture
) -> None:
    access = _access_token(client, mine, django_capture_on_commit_callbacks)
    holder = Holder()
    proof = holder.proof(nonce=helpers.nonce(client), aud=BASE)
    copy = helpers.credential(client, access, helpers.request_body(proof)).json()["credentials"][0][
        "credential"
    ]
    copy["credentialSubject"]["id"] = Holder().did  # moved to another wallet
    assert not verify_served(client, copy).verified


def test_the_offer_page_reads_the_same_queries_for_one_delivery_or_many(
    client: Client, mine: Award
) -> None:
    client.force_login(make_learner("lee@example.com"))
    holder = Holder()

    def deliveries(count: int) -> None:
        Delivery.objects.bulk_create(
            Delivery(
                award=mine,
                channel="oid4vci",
                format="ldp_vc",
                holder_id=holder.did,
                credential="{}",
            )
            for _ in range(count)
        )

    deliveries(1)
    client.get(f"/backpack/badges/{mine.pk}/wallet/")  # warm: the session, the role cache
    with CaptureQueriesContext(connection) as one:
        page = client.get(f"/backpack/badges/{mine.pk}/wallet/").content.decode()
    assert page.count(holder.did[:40]) == 1
    deliveries(9)
    with CaptureQueriesContext(connection) as ten:
        page = client.get(f"/backpack/badges/{mine.pk}/wallet/").content.decode()
    assert page.count(holder.did[:40]) == 10
    assert len(ten.captured_queries) == len(one.captured_queries)
