"""A wallet connects to a learner's backpack through the Open Badges 3.0 API, end to end on a
live server: it reads the discovery document, registers itself (RFC 7591), the learner signs
in and allows it (PKCE S256), it reads the learner's badges a page at a time, adds badges from
other issuers, reads and updates the profile, refreshes and revokes its tokens, and the learner
disconnects it in the backpack. Every answer is checked against 1EdTech's OpenAPI document."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from accounts.models import User
from badges.models import Award
from earners.models import ImportedBadge
from ob3api.models import WalletConsent
from openbadges import multikey
from tests.badges.helpers import award, make_published
from tests.base import make_cast
from tests.earners.helpers import make_learner
from tests.ob3api.conftest import BAKED, baked_credential, simple_credential
from tests.ob3api.helpers import Browser, Spec, Wallet, form_with, register_wallet
from tests.verification import helpers as other_issuers
from tests.verification.servers import FakeWeb

pytestmark = pytest.mark.usefixtures("transactional_db")

LEE = "lee@example.com"


def _badges_for(*emails: str) -> list[Award]:
    """Three micro-credentials of one institution, each awarded to every address given."""
    cast = make_cast()
    awarded = []
    for slug in ("data-literacy", "welding", "first-aid"):
        version = make_published(cast.owner, cast.issuer, slug=slug)
        awarded += [award(cast.owner, version, email=email, name="Lee") for email in emails]
    return awarded


def _all_pages(wallet: Wallet, limit: int) -> tuple[list[dict[str, Any]], list[requests.Response]]:
    """Walk the ``Link: rel="next"`` chain from the first page."""
    pages = [wallet.get("/credentials", limit=limit)]
    while "next" in pages[-1].links:
        pages.append(wallet.spec.check(wallet.session.get(pages[-1].links["next"]["url"])))
    return [c for page in pages for c in page.json()["credential"]], pages


def test_a_wallet_reads_the_learners_badges_a_page_at_a_time(base: str, spec: Spec) -> None:
    learner = make_learner(LEE, "lee.work@example.com")
    awarded = _badges_for(LEE, "lee.work@example.com")
    wallet = register_wallet(base, spec)
    wallet.session.scope = f"{wallet.session.scope} offline_access"  # as the spec's examples
    token = wallet.connect(Browser(base, LEE))
    assert token["token_type"].lower() == "bearer"
    assert set(token["scope"].split()) == set(wallet.registration["scope"].split())

    first = wallet.get("/credentials", limit=2)
    assert first.status_code == 200
    assert first.headers["X-Total-Count"] == "6"
    assert set(first.links) == {"next", "last", "first"}  # no prev on the first page
    assert "offset=2" in first.links["next"]["url"]
    assert "offset=4" in first.links["last"]["url"]
    assert len(first.json()["credential"]) == 2

    seen, pages = _all_pages(wallet, limit=2)
    assert len(pages) == 3
    assert {"prev", "first", "last"} <= set(pages[-1].links)
    assert "next" not in pages[-1].links
    assert sorted(c["id"] for c in seen) == sorted(a.credential["id"] for a in awarded)
    # Exactly as issued: the signed credential, proof and all.
    by_id = {a.credential["id"]: a.credential for a in awarded}
    assert all(c == by_id[c["id"]] for c in seen)
    assert learner.pk  # the learner signed in as themself, not as staff


def test_since_keeps_only_badges_that_arrived_later(base: str, spec: Spec) -> None:
    make_learner(LEE)
    older = _badges_for(LEE)
    Award.objects.filter(pk__in=[a.pk for a in older[:2]]).update(
        created_at=timezone.now() - dt.timedelta(days=10)
    )
    wallet = register_wallet(base, spec)
    wallet.connect(Browser(base, LEE))
    since = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    recent = wallet.get("/credentials", since=since)
    assert recent.headers["X-Total-Count"] == "1"
    assert [c["id"] for c in recent.json()["credential"]] == [older[2].credential["id"]]
    assert "since=" in recent.links["first"]["url"]
    refused = wallet.get("/credentials", since="last tuesday")
    assert refused.status_code == 400
    minor = refused.json()["imsx_codeMinor"]["imsx_codeMinorField"][0]
    assert minor["imsx_codeMinorFieldValue"] == "invalid_query_parameter"


def _vc_jwt(key: Ed25519PrivateKey, credential_id: str) -> str:
    """A VC-JWT (OB 3.0 §8.2) from an issuer identified by a did:key."""
    did = multikey.did_key(key.public_key())
    credential = other_issuers.unsigned(did, id=credential_id)
    claims = {**credential, "iss": did, "jti": credential_id, "nbf": 1704067200}
    method = multikey.did_key_verification_method(key.public_key())
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": method, "typ": "JWT"})


def test_a_wallet_adds_badges_from_other_issuers_and_a_forgery_is_refused(
    base: str, spec: Spec, example_issuer: FakeWeb
) -> None:
    make_learner(LEE)
    wallet = register_wallet(base, spec)
    wallet.connect(Browser(base, LEE))

    simple = simple_credential()
    created = wallet.post_json("/credentials", simple)
    assert created.status_code == 201
    assert created.json() == simple
    again = wallet.post_json("/credentials", simple)
    assert again.status_code == 200  # the same issuer and id: replaced, not added
    assert ImportedBadge.objects.count() == 1

    forged = copy.deepcopy(simple)
    forged["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
    refused = wallet.post_json("/credentials", forged)
    assert refused.status_code == 400
    assert "changed after the issuer signed it" in refused.json()["imsx_description"]

    token = _vc_jwt(Ed25519PrivateKey.generate(), "urn:uuid:0b1c6f2e-7d4e-4a51-9a0f-2f7c3b9e8d11")
    as_jws = wallet.post_text("/credentials", token)
    assert as_jws.status_code == 201
    assert as_jws.headers["Content-Type"].startswith("text/plain")
    assert as_jws.text == token
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert wallet.post_text("/credentials", tampered).status_code == 400

    listed = wallet.get("/credentials").json()
    assert listed["credential"] == [simple]
    assert listed["compactJwsString"] == [token]
    # The learner sees them in the backpack too, with the verifier's verdict.
    page = Browser(base, LEE).open(f"{base}/backpack/").text
    assert "Teamwork Badge" in page and 'data-import-verdict="valid"' in page


def test_a_badge_the_learner_imported_as_a_baked_image_is_listed_as_its_credential(
    base: str, spec: Spec, example_issuer: FakeWeb
) -> None:
    make_learner(LEE)
    browser = Browser(base, LEE)
    imports = browser.open(f"{base}/backpack/imports/")
    with BAKED.open("rb") as image:
        done = browser.session.post(
            imports.url,
            data={"csrfmiddlewaretoken": form_with(imports.text, "url")["csrfmiddlewaretoken"]},
            files={"file": ("simple-json.png", image, "image/png")},
            headers={"Referer": imports.url},
            allow_redirects=False,
        )
    assert done.status_code == 302
    assert ImportedBadge.objects.get().source == "image"
    wallet = register_wallet(base, spec)
    wallet.connect(browser)

    listed = wallet.get("/credentials")
    assert listed.headers["X-Total-Count"] == "1"
    assert listed.json()["credential"] == [baked_credential()]


def test_an_equal_credential_with_an_older_valid_from_does_not_replace_the_newer(
    base: str, spec: Spec
) -> None:
    make_learner(LEE)
    wallet = register_wallet(base, spec)
    wallet.connect(Browser(base, LEE))
    key = Ed25519PrivateKey.generate()
    same_id = "urn:uuid:7f3d0c9a-2b1e-4c8d-9e6f-5a4b3c2d1e0f"
    newer = other_issuers.did_key_credential(key, id=same_id, validFrom="2025-06-01T00:00:00Z")
    older = other_issuers.did_key_credential(key, id=same_id, validFrom="2024-01-01T00:00:00Z")

    assert wallet.post_json("/credentials", newer).status_code == 201
    assert wallet.post_json("/credentials", older).status_code == 200
    assert wallet.get("/credentials").json()["credential"] == [newer]


def test_a_wallet_reads_and_updates_the_learners_profile(base: str, spec: Spec) -> None:
    learner = make_learner(LEE, "lee.work@example.com", name="Lee Learner")
    wallet = register_wallet(base, spec)
    wallet.connect(Browser(base, LEE))

    profile = wallet.get("/profile").json()
    assert profile["type"] == ["Profile"]
    assert profile["name"] == "Lee Learner"
    assert profile["email"] == LEE
    assert profile["otherIdentifier"] == [
        {
            "type": "IdentifierEntry",
            "identifier": "lee.work@example.com",
            "identifierType": "emailAddress",
        }
    ]

    changed = wallet.put_json("/profile", {**profile, "name": "Lee Li", "phone": "555-0100"})
    assert changed.status_code == 200
    assert changed.json()["name"] == "Lee Li"
    assert "phone" not in changed.json()  # not kept: the answer shows what is
    learner.refresh_from_db()
    assert learner.name == "Lee Li"

    stolen = wallet.put_json("/profile", {**profile, "email": "mallory@example.com"})
    assert stolen.status_code == 400
    assert wallet.put_json("/profile", {**profile, "id": "urn:uuid:other"}).status_code == 400
    learner.refresh_from_db()
    assert (learner.email, learner.name) == (LEE, "Lee Li")


def test_refresh_revocation_and_disconnecting_end_a_wallets_access(base: str, spec: Spec) -> None:
    make_learner(LEE)
    _badges_for(LEE)
    wallet = register_wallet(base, spec)
    browser = Browser(base, LEE)
    first = wallet.connect(browser)

    renewed = wallet.session.refresh_token(wallet.flows["refreshUrl"])
    assert renewed["access_token"] != first["access_token"]
    assert wallet.get("/credentials").status_code == 200
    stale = requests.get(
        f"{wallet.api}/credentials",
        headers={"Authorization": f"Bearer {first['access_token']}"},
        timeout=10,
    )
    assert spec.check(stale).status_code == 401

    # The learner disconnects the wallet in the backpack: its tokens stop working at once.
    apps = browser.open(f"{base}/backpack/apps/")
    assert 'data-connected-app="Pocket Wallet"' in apps.text
    assert "Read the badges in your backpack" in apps.text
    done = browser.session.post(
        apps.url,
        data=form_with(apps.text, "consent"),
        headers={"Referer": apps.url},
        allow_redirects=False,
    )
    assert done.status_code == 302
    assert not WalletConsent.objects.exists()
    assert 'data-connected-app="Pocket Wallet"' not in browser.open(f"{base}/backpack/apps/").text
    assert wallet.get("/credentials").status_code == 401
    refresh = requests.post(
        wallet.flows["tokenUrl"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": wallet.session.token["refresh_token"],
        },
        auth=(wallet.registration["client_id"], wallet.registration["client_secret"]),
        timeout=10,
    )
    assert refresh.status_code == 400
    assert refresh.json()["error"] == "invalid_grant"

    # Connected again, the wallet revokes its own token (RFC 7009): refused from then on.
    again = wallet.connect(browser)
    assert wallet.get("/credentials").status_code == 200
    wallet.session.revoke_token(
        f"{base}/oauth/revoke/", token=again["access_token"], token_type_hint="access_token"
    )
    answer = wallet.get("/credentials")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_learner_who_denies_sends_the_wallet_away_without_a_code(base: str, spec: Spec) -> None:
    make_learner(LEE)
    wallet = register_wallet(base, spec)
    browser = Browser(base, LEE)
    consent = browser.open(wallet.authorization_url())
    assert "Pocket Wallet" in consent.text
    assert "Add badges to your backpack" in consent.text

    back = browser.answer(consent, allow=False)
    assert back.status_code == 302
    assert "error=access_denied" in back.headers["Location"]
    assert "code=" not in back.headers["Location"]
    assert not WalletConsent.objects.filter(user=User.objects.get(email=LEE)).exists()
