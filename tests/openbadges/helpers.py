"""Shared builders for the openbadges tests (plain helpers, no Django)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openbadges import ob3
from openbadges.multikey import private_key_from_bytes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ISSUER_DID = "did:web:badges.example.edu:issuers:acme"
VERIFICATION_METHOD = ISSUER_DID + "#key-1"
NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def vector() -> dict[str, Any]:
    vector: dict[str, Any] = load_fixture("ob3-testvector.json")
    return vector


def vector_private_key() -> Ed25519PrivateKey:
    return private_key_from_bytes(bytes.fromhex(load_fixture("test-key.json")["seedHex"]))


def make_issuer(**overrides: Any) -> ob3.Profile:
    fields: dict[str, Any] = {
        "id": ISSUER_DID,
        "name": "Acme University",
        "url": "https://badges.example.edu/issuers/acme",
        "email": "badges@acme.example.edu",
        "image": ob3.Image("https://badges.example.edu/media/acme.png"),
    }
    return ob3.Profile(**{**fields, **overrides})


def make_achievement(**overrides: Any) -> ob3.Achievement:
    fields: dict[str, Any] = {
        "id": "https://badges.example.edu/achievements/5a4c0e52/v/3",
        "version": "3",
        "name": "Data Literacy 101",
        "description": "Reads, cleans and explains a data set.",
        "criteria_narrative": "Pass the **final assessment** with at least 70%.",
        "image": ob3.Image("https://badges.example.edu/media/data-literacy.png", caption="Badge"),
        "achievement_type": "MicroCredential",
        "tags": ("data", "statistics"),
        "in_language": "en",
        "alignments": (
            ob3.Alignment(
                target_name="NZQCF level 5",
                target_url="https://www.nzqa.govt.nz/qualifications-standards/level-5",
                target_framework="NZQCF",
                target_code="L5",
            ),
        ),
        "credits_available": 5,
    }
    return ob3.Achievement(**{**fields, **overrides})


def make_credential(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "urn:uuid:3f1c2a44-9b7e-4c1e-8f52-0a6d7c1e2b90",
        "issuer": make_issuer(),
        "achievement": make_achievement(),
        "recipient": ob3.Recipient("learner@example.com", salt="5f0c8e2b9d1a4c6e8f0a2b4c6d8e0f12"),
        "valid_from": NOW,
        "valid_until": NOW + timedelta(days=730),
        "awarded_date": NOW,
        "description": "Awarded to learners who completed Data Literacy 101.",
        "evidence": (ob3.Evidence(id="https://badges.example.edu/evidence/77", name="Report"),),
        "narrative": "Completed the capstone project.",
        "credential_status": ob3.StatusEntry("https://badges.example.edu/status/3", 94567),
    }
    return ob3.build_credential(**{**fields, **overrides})
