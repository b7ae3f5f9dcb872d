"""Hostile JSON for the verify API: a real signed credential, mutated the way an attacker would.

:func:`hostile_credential` starts from a signed credential and applies one to four edits:
a node replaced or deleted, a key added (JSON-LD keywords among them), a bogus ``@context``,
a mutated proof, the document wrapped or retyped. Values include what ``json`` cannot write
from Python objects, as :class:`Raw` text spliced in by :func:`dumps`: nesting 100,000 deep,
numbers of 5,000 digits, ``1e999``, ``NaN``, duplicate keys, escaped lone surrogates.
:func:`hostile_jws` does the same to a VC-JWT's header or payload; :data:`OB2_ASSERTION` is
an Open Badges 2.0 base.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from openbadges import ob3

Draw = st.DrawFn


@dataclass(frozen=True)
class Raw:
    """JSON text written as it is (what no Python value serialises to)."""

    text: str

    def __repr__(self) -> str:
        return f"Raw({self.text[:60]!r}{'…' if len(self.text) > 60 else ''})"


def dumps(value: Any) -> str:
    """``value`` as JSON text, each :class:`Raw` spliced in verbatim."""
    raws: list[str] = []

    def walk(item: Any) -> Any:
        if isinstance(item, Raw):
            raws.append(item.text)
            return f"\x00raw{len(raws) - 1}\x00"
        if isinstance(item, dict):
            return {key: walk(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [walk(inner) for inner in item]
        return item

    text = json.dumps(walk(value))
    for index, raw in enumerate(raws):
        text = text.replace(f'"\\u0000raw{index}\\u0000"', raw, 1)
    return text


_RAW = [
    "1" * 5000,
    "-" + "9" * 400,
    "1e999",
    "-1e999",
    "1E-400",
    "-0",
    "0." + "0" * 400 + "1",
    "123456789012345678901234567890",
    "NaN",
    "Infinity",
    "-Infinity",
    "[" * 100 + "]" * 100,
    "[" * 1000 + "]" * 1000,
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 60 + "1" + "}" * 60,
    '{"a":' * 2000 + "1" + "}" * 2000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    '{"id":1,"id":2}',
    '{"@context":"https://www.w3.org/ns/credentials/v2","@context":{}}',
    '"\\ud800"',
    '"\\udfff\\ud800x"',
    '"\\u0000"',
    '"a\\u0000b\\u001f"',
    '"\\uffff\\ufffe"',
]

_STRINGS = [
    "",
    " ",
    "\u202e\u2066evil",
    "\u200b\ufeff",
    "e\u0301" * 500,
    "😀" * 1000,
    "A" * 100_000,
    "did:key:z6Mk",
    "did:key:" + "z" * 5000,
    "did:web:127.0.0.1%3A9",
    "did:web:localhost:issuers:x",
    "did:jwk:e30",
    "did:example:123",
    "http://127.0.0.1:9/",
    "http://169.254.169.254/latest/meta-data/",
    "https://[::1]/",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "data:application/json,{}",
    "urn:uuid:00000000-0000-0000-0000-000000000000",
    "_:b0",
    "@id",
    "@type",
    "@graph",
    "2024-02-30T25:61:61Z",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "+275760-09-13T00:00:00Z",
    "sha256$" + "0" * 64,
]

_KEYS = [
    "@context",
    "@id",
    "@type",
    "@graph",
    "@included",
    "@reverse",
    "@nest",
    "@list",
    "@set",
    "@value",
    "@language",
    "@vocab",
    "@base",
    "@import",
    "@protected",
    "@json",
    "id",
    "type",
    "proof",
    "issuer",
    "credentialStatus",
    "endorsement",
    "verifiableCredential",
    "refreshService",
    "termsOfUse",
    "evidence",
    "validUntil",
    "expirationDate",
    "unknownProperty",
    "",
]

_CONTEXTS = [
    "https://evil.example/context.jsonld",
    "http://127.0.0.1:9/context",
    "",
    "file:///etc/passwd",
    "https://w3id.org/openbadges/v2",
    "https://www.w3.org/2018/credentials/v1",
    {"@vocab": "https://evil.example/#"},
    {"@import": "https://evil.example/context"},
    {"@version": 1.1, "@protected": False, "name": "@id"},
    {"@version": 2.0},
    {"@base": "https://evil.example/"},
    {"proof": {"@id": "https://w3id.org/security#proof", "@type": "@id"}},
    {"type": "@type", "id": "@id", "@protected": True},
    {"x": {"@id": "https://evil.example/x", "@context": {"@vocab": "https://evil.example/"}}},
    1,
    None,
    [],
]


def _value_strategy() -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
        # odd characters, lone surrogates among them (``st.text`` never yields those)
        st.lists(st.characters(categories=["Cs", "Co", "Cn", "Cc", "Zs", "Mn"]), max_size=8).map(
            "".join
        ),
        st.sampled_from(_STRINGS),
        st.sampled_from(_RAW).map(Raw),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.one_of(st.sampled_from(_KEYS), st.text(max_size=8)), inner, max_size=4
            ),
        ),
        max_leaves=12,
    )


VALUES = _value_strategy()


def _slots(document: Any) -> list[tuple[Any, Any]]:
    """Every (container, key-or-index) in ``document``, breadth first."""
    slots: list[tuple[Any, Any]] = []
    queue = [document]
    while queue:
        item = queue.pop(0)
        if isinstance(item, dict):
            for key, value in item.items():
                slots.append((item, key))
                queue.append(value)
        elif isinstance(item, list):
            for index, value in enumerate(item):
                slots.append((item, index))
                queue.append(value)
    return slots


def _proof_edit(draw: Draw, document: dict[str, Any]) -> None:
    proofs = document.get("proof")
    proof = proofs[0] if isinstance(proofs, list) and proofs else {}
    if not isinstance(proof, dict):
        proof = {}
    kind = draw(st.sampled_from(["field", "drop_field", "drop", "shape", "twice", "nested"]))
    if kind == "field":
        field = draw(
            st.sampled_from(
                [
                    "cryptosuite",
                    "proofValue",
                    "verificationMethod",
                    "created",
                    "proofPurpose",
                    "type",
                ]
            )
        )
        proof[field] = draw(
            st.one_of(
                VALUES,
                st.sampled_from(
                    [
                        "eddsa-jcs-2022",
                        "ecdsa-rdfc-2019",
                        "bbs-2023",
                        "Ed25519Signature2020",
                        "z",
                        "z" + "1" * 10_000,
                        "u" + "A" * 86,
                        "authentication",
                        "capabilityInvocation",
                    ]
                ),
            )
        )
    elif kind == "drop_field" and proof:
        proof.pop(draw(st.sampled_from(sorted(proof))))
    elif kind == "drop":
        document.pop("proof", None)
        return
    elif kind == "shape":
        document["proof"] = draw(st.sampled_from([proof, [], [[proof]], "proof", None, [proof, 1]]))
        return
    elif kind == "twice":
        other = copy.deepcopy(proof)
        other["proofValue"] = "z" + "2" * 87
        document["proof"] = [proof, other] if draw(st.booleans()) else [other, proof]
        return
    else:
        proof["proof"] = copy.deepcopy(proof)
        proof["previousProof"] = draw(st.sampled_from(["urn:x", ["urn:x"] * 50, "_:b0"]))
    document["proof"] = [proof] if draw(st.booleans()) else proof


def _context_edit(draw: Draw, document: dict[str, Any]) -> None:
    contexts = document.get("@context")
    contexts = list(contexts) if isinstance(contexts, list) else list(ob3.CREDENTIAL_CONTEXT)
    kind = draw(st.sampled_from(["insert", "replace", "drop", "whole", "reorder"]))
    bogus = draw(st.sampled_from(_CONTEXTS))
    if kind == "insert":
        contexts.insert(draw(st.integers(0, len(contexts))), bogus)
    elif kind == "replace" and contexts:
        contexts[draw(st.integers(0, len(contexts) - 1))] = bogus
    elif kind == "drop" and contexts:
        contexts.pop(draw(st.integers(0, len(contexts) - 1)))
    elif kind == "reorder":
        contexts.reverse()
    else:
        document["@context"] = bogus
        return
    document["@context"] = contexts


def _edit(draw: Draw, document: Any) -> Any:
    kind = draw(
        st.sampled_from(
            [
                "replace",
                "delete",
                "insert",
                "context",
                "proof",
                "wrap",
                "retype",
                "root",
                "surrogate",
            ]
        )
    )
    if kind == "root":
        return draw(VALUES)
    if not isinstance(document, dict):
        return document
    slots = _slots(document)
    if kind in ("replace", "delete") and slots:
        container, key = slots[draw(st.integers(0, len(slots) - 1))]
        if kind == "replace":
            container[key] = draw(VALUES)
        else:
            del container[key]
    elif kind == "surrogate":  # a lone surrogate in a text value: JSON can say "\ud800"
        texts = [(c, k) for c, k in slots if isinstance(c[k], str)]
        if texts:
            container, key = texts[draw(st.integers(0, len(texts) - 1))]
            container[key] += draw(st.sampled_from(["\ud800", "\udfff", "\udbff"]))
    elif kind == "insert":
        targets = [document] + [c[k] for c, k in slots if isinstance(c[k], dict)]
        target = targets[draw(st.integers(0, len(targets) - 1))]
        target[draw(st.one_of(st.sampled_from(_KEYS), st.text(max_size=12)))] = draw(VALUES)
    elif kind == "context":
        _context_edit(draw, document)
    elif kind == "proof":
        _proof_edit(draw, document)
    elif kind == "wrap":
        document = {
            "@context": list(ob3.CREDENTIAL_CONTEXT),
            "type": draw(
                st.sampled_from(
                    [
                        ["VerifiableCredential", "ClrCredential"],
                        ["VerifiablePresentation"],
                        ["VerifiableCredential", "EndorsementCredential"],
                    ]
                )
            ),
            draw(st.sampled_from(["verifiableCredential", "credentialSubject", "endorsement"])): (
                [document] * draw(st.integers(1, 6))
            ),
        }
    else:
        document["type"] = draw(
            st.sampled_from(
                [
                    ["VerifiableCredential", "EndorsementCredential"],
                    ["VerifiableCredential", "ClrCredential"],
                    ["VerifiableCredential", "BitstringStatusListCredential"],
                    "Assertion",
                    ["OpenBadgeCredential"],
                    [],
                ]
            )
        )
    return document


@st.composite
def hostile_credential(draw: Draw, base: dict[str, Any]) -> Any:
    """``base`` (a signed credential) with one to four hostile edits."""
    document: Any = base
    for _ in range(draw(st.integers(1, 4))):
        # A copy each time: a value drawn from a constant (a bogus context object) may be
        # edited by the next edit, and the constant must stay as it is for the next example.
        document = _edit(draw, copy.deepcopy(document))
    return document


def _b64url(text: str) -> str:
    raw = text.encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@st.composite
def hostile_jws(draw: Draw, token: str) -> str:
    """``token`` (a signed VC-JWT) with its header or payload edited, or its signature or
    shape damaged."""
    head, body, signature = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    part = draw(st.sampled_from(["header", "payload", "signature", "shape"]))
    if part == "header":
        head = _b64url(dumps(draw(hostile_credential(header))))
    elif part == "payload":
        body = _b64url(dumps(draw(hostile_credential(payload))))
    elif part == "signature":
        signature = _b64url(draw(st.sampled_from(["", "x", "\x00" * 64])))
    else:
        return draw(
            st.sampled_from(
                [f"{head}.{body}", f"{head}.{body}.{signature}.x", f"{head}..{signature}", ".."]
            )
        )
    return f"{head}.{body}.{signature}"


#: An OB 2.0 hosted assertion (fetching it is refused offline, reading it is the point).
OB2_ASSERTION: dict[str, Any] = {
    "@context": "https://w3id.org/openbadges/v2",
    "type": "Assertion",
    "id": "https://issuer.example/assertions/1",
    "recipient": {"type": "email", "hashed": False, "identity": "learner@example.com"},
    "badge": {
        "type": "BadgeClass",
        "id": "https://issuer.example/badges/1",
        "name": "Welding",
        "description": "Welds.",
        "image": "https://issuer.example/badges/1.png",
        "criteria": {"narrative": "Weld."},
        "issuer": {
            "type": "Profile",
            "id": "https://issuer.example/issuer",
            "name": "Issuer",
            "url": "https://issuer.example/",
            "email": "badges@issuer.example",
        },
    },
    "verification": {"type": "hosted"},
    "issuedOn": "2024-01-01T00:00:00Z",
}
