"""One budget for every verification, whatever the entry point.

Poison graphs get "too complex to check", a slow host behind several endorsements gets "took
too long to check" once the whole verification's deadline passes, and the caps on fetches
and endorsements hold. Never "valid", never a 500. Verdicts are asserted, never timings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings

from earners.models import ImportedBadge
from frameworks.recognition.selectors import COULD_NOT_CHECK
from tests.earners.helpers import make_learner
from tests.verification import helpers
from tests.verification.conftest import allow
from tests.verification.servers import FakeWeb, Route
from verification import budget, pipeline
from verification import cache as vcache
from verification.report import Report, Verdict

KEY = Ed25519PrivateKey.generate()
EVIDENCE = {"type": ["Evidence"], "name": "Portfolio", "narrative": "The same evidence."}


def _poison(count: int = 6000) -> dict[str, Any]:
    """The outside test's credential: signed, then 6,000 identical evidence items added."""
    credential = helpers.did_key_credential(KEY)
    credential["evidence"] = [dict(EVIDENCE) for _ in range(count)]
    return credential


def _clique(size: int = 10) -> dict[str, Any]:
    credential = helpers.did_key_credential(KEY)
    nodes: list[dict[str, Any]] = [{"id": f"_:b{i}"} for i in range(size)]
    for i, node in enumerate(nodes):
        node["https://example.org/vocab#rel"] = [{"id": f"_:b{j}"} for j in range(size) if j != i]
    credential["@context"] = [*credential["@context"], {"@vocab": "https://example.org/vocab#"}]
    credential["evidence"] = [{"type": ["Evidence"], "https://example.org/vocab#n": nodes}]
    return credential


def _nested(depth: int) -> dict[str, Any]:
    credential = helpers.did_key_credential(KEY)
    node: dict[str, Any] = {"name": "x"}
    for _ in range(depth):
        node = {"name": "x", "next": node}
    credential["@context"] = [*credential["@context"], {"@vocab": "https://example.org/vocab#"}]
    credential["evidence"] = [{"type": ["Evidence"], "next": node}]
    return credential


def _verify(document: dict[str, Any]) -> Report:
    return pipeline.verify(pipeline.VerifyRequest(text=json.dumps(document)))


# ---- poison graphs: "too complex to check" ---------------------------------------------------


def test_the_6000_identical_blank_nodes_of_the_report_are_too_complex() -> None:
    text = json.dumps(_poison())
    assert 400_000 < len(text) < 600_000  # 467 KB in the report
    report = pipeline.verify(pipeline.VerifyRequest(text=text))
    assert report.verdict is Verdict.TOO_COMPLEX
    proof = report.check("proof")
    assert proof is not None and proof.code == "too_complex"
    assert report.headline.startswith("Too complex to check")


@pytest.mark.parametrize(
    "document",
    [_clique(), _nested(40)],
    ids=["blank-node-clique", "deep-nesting"],
)
def test_poison_graphs_are_too_complex(document: dict[str, Any]) -> None:
    assert _verify(document).verdict is Verdict.TOO_COMPLEX


def test_nesting_beyond_the_input_cap_is_refused_as_bad_input() -> None:
    report = _verify(_nested(200))
    assert report.verdict is Verdict.BAD_INPUT
    assert report.checks[0].code == "too_deep"


def test_a_poison_endorsement_makes_the_badge_too_complex() -> None:
    # An embedded endorsement is part of what the badge's own signature covers.
    document = helpers.did_key_credential(KEY)
    document["endorsement"] = [_clique()]
    assert _verify(document).verdict is Verdict.TOO_COMPLEX


# ---- the whole-verification deadline: "took too long to check" -------------------------------


def _slow(seconds: float, document: dict[str, Any]) -> Callable[[BaseHTTPRequestHandler], None]:
    body = json.dumps(document).encode()

    def run(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            return

    return run


def _endorsed_by_a_slow_host(web: FakeWeb, settings: Settings, count: int = 4) -> dict[str, Any]:
    """A did:key credential with ``count`` endorsements whose did:web keys answer slowly."""
    endorsements = []
    for i in range(count):
        did = f"did:web:slow.example:e:{i}"
        key = Ed25519PrivateKey.generate()
        web.add(
            f"https://slow.example/e/{i}/did.json",
            Route(stream=_slow(0.4, helpers.did_document(did, key))),
        )
        endorsements.append(helpers.sign(helpers.unsigned(did), key, f"{did}#key-1"))
    allow(settings, web, "slow.example")
    return helpers.did_key_credential(KEY, endorsement=endorsements)


def test_slow_endorsements_verify_within_the_default_deadline(
    web: FakeWeb, settings: Settings
) -> None:
    report = _verify(_endorsed_by_a_slow_host(web, settings))
    assert report.verdict is Verdict.VALID
    endorsements = report.check("endorsements")
    assert endorsements is not None and endorsements.code == "ok"


def test_a_slow_host_with_several_endorsements_hits_the_whole_verification_deadline(
    web: FakeWeb, settings: Settings
) -> None:
    settings.INSIGNIA_VERIFY_DEADLINE = 0.5  # each fetch alone is well within its own 10 s
    report = _verify(_endorsed_by_a_slow_host(web, settings))
    assert report.verdict is Verdict.TOO_SLOW
    assert not report.is_valid
    limit = report.check("budget")
    assert limit is not None and limit.code == "too_slow"
    assert report.headline.startswith("Took too long to check")


def test_fetches_after_the_deadline_are_refused_without_connecting(
    web: FakeWeb, settings: Settings
) -> None:
    settings.INSIGNIA_VERIFY_DEADLINE = 0.5
    document = _endorsed_by_a_slow_host(web, settings, count=6)
    _verify(document)
    # Not every endorsement's key was asked for: the budget refused the rest.
    assert len([r for r in web.requests if r[0] == "slow.example"]) < 6


# ---- caps on fetches and endorsements --------------------------------------------------------


def _endorsed_by_did_web(web: FakeWeb, settings: Settings, count: int) -> dict[str, Any]:
    endorsements = []
    for i in range(count):
        did = f"did:web:fast.example:e:{i}"
        key = Ed25519PrivateKey.generate()
        web.json(f"https://fast.example/e/{i}/did.json", helpers.did_document(did, key))
        endorsements.append(helpers.sign(helpers.unsigned(did), key, f"{did}#key-1"))
    allow(settings, web, "fast.example")
    return helpers.did_key_credential(KEY, endorsement=endorsements)


def test_the_fetch_cap_gives_too_complex(web: FakeWeb, settings: Settings) -> None:
    document = _endorsed_by_did_web(web, settings, count=4)
    assert _verify(document).verdict is Verdict.VALID
    settings.INSIGNIA_VERIFY_MAX_FETCHES = 2
    # Cold again: the key documents fetched above are kept (verification.cache), and a
    # verification that fetches nothing spends none of the cap.
    cache.clear()
    vcache.clear_local()
    report = _verify(document)
    assert report.verdict is Verdict.TOO_COMPLEX
    limit = report.check("budget")
    assert limit is not None and limit.detail == "fetches"


def test_the_endorsement_cap_gives_too_complex(settings: Settings) -> None:
    endorsements = [helpers.did_key_credential() for _ in range(3)]
    document = helpers.did_key_credential(KEY, endorsement=endorsements)
    assert _verify(document).verdict is Verdict.VALID
    settings.INSIGNIA_VERIFY_MAX_ENDORSEMENTS = 2
    report = _verify(document)
    assert report.verdict is Verdict.TOO_COMPLEX
    endorsements_check = report.check("endorsements")
    assert endorsements_check is not None and endorsements_check.code == "too_many"


def test_the_budget_is_only_active_during_a_verification() -> None:
    assert budget.current() is None
    assert budget.fetch_allowance(10.0) == 10.0
    with budget.verification() as outer, budget.verification() as inner:
        assert inner is outer  # a verification inside another shares its budget
    assert budget.current() is None


# ---- every entry point -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_and_the_api_answer_too_complex_not_500(client: Client) -> None:
    text = json.dumps(_poison())
    page = client.post("/verify", {"text": text})
    assert page.status_code == 200
    assert 'data-verdict="too_complex"' in page.content.decode()
    api = client.post("/api/v1/verify", {"credential": text}, content_type="application/json")
    assert api.status_code == 200
    assert api.json()["verdict"] == "too_complex"
    assert api.json()["valid"] is False


@pytest.mark.django_db
def test_the_api_answers_too_slow(client: Client, web: FakeWeb, settings: Settings) -> None:
    settings.INSIGNIA_VERIFY_DEADLINE = 0.5
    document = _endorsed_by_a_slow_host(web, settings)
    api = client.post("/api/v1/verify", {"credential": document}, content_type="application/json")
    assert api.status_code == 200
    assert api.json()["verdict"] == "too_slow"


def test_the_cli_reports_too_complex(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "poison.json"
    path.write_text(json.dumps(_clique()))
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify", str(path), "--json")
    assert exit_info.value.code == 1
    assert '"verdict": "too_complex"' in capsys.readouterr().out


@pytest.mark.django_db
def test_a_backpack_import_keeps_the_too_complex_verdict(client: Client) -> None:
    client.force_login(make_learner(helpers.LEARNER))  # the badge's own learner (not refused)
    response = client.post("/backpack/imports/", {"text": json.dumps(_poison())})
    assert response.status_code == 302
    assert ImportedBadge.objects.get().verdict == "too_complex"


def test_a_recheck_that_ran_out_of_budget_flags_nothing() -> None:
    # Re-checks of recognition evidence flag a decision only on a real verdict.
    assert {"unknown", "too_complex", "too_slow"} <= COULD_NOT_CHECK
