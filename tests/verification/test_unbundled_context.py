"""A credential using a JSON-LD context this verifier does not bundle (DCC's
``https://w3id.org/dcc/v1``) cannot be checked here — the verifier fetches no context it does
not hold — so the honest verdict is "could not be fully checked", never "not valid"
(issue 18, interop defect b)."""

from __future__ import annotations

import json

import pytest

from tests.badges.helpers import award, make_published
from tests.base import make_cast
from verification import pipeline
from verification.report import COULD_NOT_CHECK, Status, Verdict

pytestmark = pytest.mark.django_db

DCC = "https://w3id.org/dcc/v1"


def test_a_credential_with_an_unbundled_context_is_not_called_invalid() -> None:
    cast = make_cast()
    given = award(cast.awarder, make_published(cast.editor, cast.issuer))
    credential = json.loads(given.credential_json)
    credential["@context"] = [*credential["@context"], DCC]

    report = pipeline.verify(pipeline.VerifyRequest(text=json.dumps(credential)))

    assert report.verdict is Verdict.UNKNOWN
    assert report.verdict in COULD_NOT_CHECK
    (proof,) = [c for c in report.checks if c.id == "proof"]
    assert (proof.status, proof.code) == (Status.UNKNOWN, "unknown_context")
    assert DCC in proof.detail
    assert "could not be checked" in str(proof.message)


def test_the_same_credential_with_its_own_contexts_is_valid() -> None:
    cast = make_cast()
    given = award(cast.awarder, make_published(cast.editor, cast.issuer))

    report = pipeline.verify(pipeline.VerifyRequest(text=given.credential_json))

    assert report.verdict is Verdict.VALID
