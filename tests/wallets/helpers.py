"""A minimal holder for the OID4VCI refusal tests: its own Ed25519 or P-256 key, proofs
built with PyJWT, and the three protocol calls through Django's test client. (The end-to-end
test uses an independent npm client library instead: tests/wallets/oid4vci/.)"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import mail
from django.test import Client

from openbadges import multikey

PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
LDP = "OpenBadgeCredential_ldp_vc"
JWT = "OpenBadgeCredential_jwt_vc_json"


@dataclass
class Holder:
    """A wallet's key: ``did:key`` (Ed25519) by default, or a bare P-256 JWK."""

    curve: str = "ed25519"
    key: Any = field(init=False)

    def __post_init__(self) -> None:
        self.key = (
            Ed25519PrivateKey.generate()
            if self.curve == "ed25519"
            else ec.generate_private_key(ec.SECP256R1())
        )

    @property
    def did(self) -> str:
        return multikey.did_key(self.key.public_key())

    def proof(
        self,
        *,
        nonce: str | None,
        aud: str,
        iat: float | None = None,
        typ: str = "openid4vci-proof+jwt",
        extra_header: dict[str, Any] | None = None,
        use_jwk: bool | None = None,
        signer: Any = None,
    ) -> str:
        header: dict[str, Any] = {"typ": typ}
        if use_jwk or (use_jwk is None and self.curve != "ed25519"):
            algorithm = (
                jwt.algorithms.ECAlgorithm
                if self.curve != "ed25519"
                else jwt.algorithms.OKPAlgorithm
            )
            header["jwk"] = json.loads(algorithm.to_jwk(self.key.public_key()))
        else:
            header["kid"] = multikey.did_key_verification_method(self.key.public_key())
        header.update(extra_header or {})
        payload: dict[str, Any] = {"aud": aud, "iat": int(iat if iat is not None else time.time())}
        if nonce is not None:
            payload["nonce"] = nonce
        alg = "EdDSA" if self.curve == "ed25519" else "ES256"
        return jwt.encode(payload, signer or self.key, algorithm=alg, headers=header)


def offer_from_page(page: str) -> tuple[str, str]:
    """The credential_offer_uri and pre-authorized code of the offer on the learner's page."""
    link = re.search(r'href="(openid-credential-offer://[^"]+)"', page)
    assert link is not None, "no deep link on the page"
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    offer_uri = unquote(query["credential_offer_uri"][0])
    return offer_uri, offer_uri.rsplit("/", 1)[1]


def mailed_tx_code() -> str:
    """The transaction code in the last e-mail sent."""
    found = re.search(r"^\s+(\d{6})\s*$", str(mail.outbox[-1].body), re.M)
    assert found is not None, mail.outbox[-1].body
    return found.group(1)


def token(client: Client, code: str, tx_code: str | None) -> Any:
    data = {"grant_type": PRE_AUTH, "pre-authorized_code": code}
    if tx_code is not None:
        data["tx_code"] = tx_code
    return client.post("/oid4vci/token", data)


def nonce(client: Client) -> str:
    return str(client.post("/oid4vci/nonce").json()["c_nonce"])


def credential(client: Client, access_token: str, body: dict[str, Any]) -> Any:
    return client.post(
        "/oid4vci/credential",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {access_token}"},
    )


def request_body(proof: str, configuration: str = LDP) -> dict[str, Any]:
    return {"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}
