"""The EU micro-credential (Annex I) record under Insignia's context: defined, signed, read
back, verified by the Digital Bazaar stack in safe mode, schema-valid; the templated signing
path gives pyld's canonical bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbadges import dataintegrity, jsonld, microcredential, ob3
from tests.interop.test_node_interop import DidWebIssuer, issuer, run_verifier  # noqa: F401
from tests.ob3api.helpers import strict_errors
from tests.openbadges.helpers import NOW, make_achievement, make_credential, make_issuer
from tests.openbadges.test_rdftemplate import awkward_text, fast, plain, templated

RECORD = microcredential.MicroCredentialRecord(
    learning_outcomes=("Cleans a data set", "Explains a chart to a manager"),
    notional_hours=150,
    credit_values=(
        microcredential.CreditValue("ects", "ECTS credits", 6),
        microcredential.CreditValue("nzqcf", "credits", 7.5),
    ),
    levels=("EQF 5",),
    assessment_type="portfolio",
    assessment_supervision="supervised_online_id",
    participation="online",
    quality_assurance="Internal QA by the faculty board; EQAR-registered agency",
    prerequisites="Secondary school mathematics",
    stackability="stackable",
)
ZH_RECORD = microcredential.MicroCredentialRecord(
    learning_outcomes=("清理数据集", "向经理解释图表"),
    notional_hours=37.5,
    credit_values=(microcredential.CreditValue("ects", "ECTS 学分", 1.5),),
    levels=("EQF 5",),
    assessment_type="testing",
    assessment_supervision="unsupervised_no_id",
    participation="blended",
    quality_assurance="学院内部质量保证",
    prerequisites="无",
    stackability="standalone",
)


def _credential(record: microcredential.MicroCredentialRecord | None, **kw: Any) -> Any:
    return make_credential(achievement=make_achievement(microcredential=record, **kw))


def test_every_element_is_in_the_achievement_under_our_context() -> None:
    credential = _credential(RECORD)
    assert credential["@context"] == [*ob3.CREDENTIAL_CONTEXT, ob3.MICROCREDENTIAL_CONTEXT]
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["learningOutcomes"] == ["Cleans a data set", "Explains a chart to a manager"]
    assert achievement["notionalHours"] == 150
    assert achievement["creditValue"] == [
        {"creditSystem": "ects", "creditUnit": "ECTS credits", "creditAmount": 6},
        {"creditSystem": "nzqcf", "creditUnit": "credits", "creditAmount": 7.5},
    ]
    assert achievement["qualificationLevel"] == ["EQF 5"]
    assert achievement["assessmentType"] == "portfolio"
    assert achievement["assessmentSupervision"] == "supervised_online_id"
    assert achievement["participation"] == "online"
    assert achievement["qualityAssurance"].startswith("Internal QA")
    assert achievement["prerequisites"] == "Secondary school mathematics"
    assert achievement["stackability"] == "stackable"
    assert microcredential.read(credential) == RECORD


def test_without_elements_the_credential_is_as_before() -> None:
    for record in (None, microcredential.MicroCredentialRecord()):
        credential = _credential(record)
        assert credential["@context"] == list(ob3.CREDENTIAL_CONTEXT)
        achievement = credential["credentialSubject"]["achievement"]
        assert not {"learningOutcomes", "notionalHours", "assessmentType"} & set(achievement)
        assert microcredential.read(credential) is None


def test_only_given_elements_are_written() -> None:
    record = microcredential.MicroCredentialRecord(participation="onsite")
    achievement = _credential(record)["credentialSubject"]["achievement"]
    assert achievement["participation"] == "onsite"
    for key in ("learningOutcomes", "notionalHours", "creditValue", "prerequisites"):
        assert key not in achievement


def test_the_keys_are_not_read_without_the_context() -> None:
    credential = _credential(RECORD)
    credential["@context"] = list(ob3.CREDENTIAL_CONTEXT)
    assert microcredential.read(credential) is None


def test_every_term_is_defined_so_safe_mode_signs_and_canonicalisation_keeps_it() -> None:
    credential = _credential(ZH_RECORD)
    nquads = jsonld.canonicalize(credential)
    for term in ("learningOutcomes", "notionalHours", "creditAmount", "assessmentSupervision"):
        assert f"<https://w3id.org/insignia/microcredential#{term}>" in nquads
    assert '"清理数据集"' in nquads
    # without our context the same keys are undefined terms: safe mode refuses to sign them
    bare = json.loads(json.dumps(credential))
    bare["@context"] = list(ob3.CREDENTIAL_CONTEXT)
    with pytest.raises(Exception, match=r"(?i)safe mode|undefined|dropped|relative"):
        jsonld.canonicalize(bare)


def test_the_bundled_context_is_pinned_and_is_what_the_platform_serves() -> None:
    document = jsonld.load_context(ob3.MICROCREDENTIAL_CONTEXT)
    defined = set(document["@context"]) - {"@protected"}
    written = set(microcredential.microcredential_json(RECORD))
    assert written <= defined
    assert {"creditSystem", "creditUnit", "creditAmount"} == set(
        document["@context"]["creditValue"]["@context"]
    ) - {"@protected"}


@pytest.mark.parametrize("record", [RECORD, ZH_RECORD])
def test_the_strict_1edtech_schema_accepts_it(
    record: microcredential.MicroCredentialRecord,
) -> None:
    assert strict_errors(_credential(record), "achievementcredential.json") == []


def test_digital_bazaar_verifies_it_in_safe_mode_and_a_change_fails(
    issuer: DidWebIssuer,  # noqa: F811
    tmp_path: Path,
) -> None:
    paths = []
    for name, record in (("en", RECORD), ("zh", ZH_RECORD)):
        unsigned = make_credential(
            issuer=make_issuer(id=issuer.did),
            achievement=make_achievement(microcredential=record),
        )
        signed = dataintegrity.sign(
            unsigned,
            private_key=issuer.key,
            verification_method=f"{issuer.did}#key-1",
            created=NOW,
        )
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(signed, ensure_ascii=False), "utf-8")
        paths.append(path)
    tampered = json.loads(paths[0].read_text("utf-8"))
    tampered["credentialSubject"]["achievement"]["assessmentSupervision"] = "supervised_no_id"
    (tmp_path / "tampered.json").write_text(json.dumps(tampered), "utf-8")
    paths.append(tmp_path / "tampered.json")
    returncode, lines = run_verifier(*paths)
    assert [line["verified"] for line in lines] == [True, True, False], lines
    assert returncode == 1


def test_digital_bazaar_refuses_the_elements_without_our_context(
    issuer: DidWebIssuer,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Why the context is needed: the same keys without it are undefined terms, which the
    Digital Bazaar verifier refuses in safe mode (before it even checks the signature)."""
    signed = dataintegrity.sign(
        make_credential(
            issuer=make_issuer(id=issuer.did), achievement=make_achievement(microcredential=RECORD)
        ),
        private_key=issuer.key,
        verification_method=f"{issuer.did}#key-1",
        created=NOW,
    )
    signed["@context"] = list(ob3.CREDENTIAL_CONTEXT)
    (tmp_path / "bare.json").write_text(json.dumps(signed), "utf-8")
    returncode, lines = run_verifier(tmp_path / "bare.json")
    assert lines[0]["verified"] is False
    assert "safe mode" in lines[0]["error"].lower()
    assert returncode == 1


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    outcomes=st.lists(awkward_text, max_size=3),
    hours=st.one_of(st.none(), st.integers(1, 2000), st.floats(0.5, 500, allow_nan=False)),
    quality=awkward_text,
    prerequisites=awkward_text,
    code=st.sampled_from(["", *microcredential.PARTICIPATION, "xmk:1", "https://x.example/a"]),
    amount=st.one_of(st.integers(1, 60), st.floats(0.5, 60, allow_nan=False)),
)
def test_templated_signing_is_byte_identical_to_pyld(
    outcomes: list[str],
    hours: float | None,
    quality: str,
    prerequisites: str,
    code: str,
    amount: float,
) -> None:
    record = microcredential.MicroCredentialRecord(
        learning_outcomes=tuple(outcomes),
        notional_hours=hours,
        credit_values=(microcredential.CreditValue("ects", quality or "ECTS", amount),),
        quality_assurance=quality,
        prerequisites=prerequisites,
        participation=code,
        assessment_supervision=code,
        levels=("EQF 5", prerequisites),
    )
    credential = _credential(record)
    expected = plain(credential)
    assert templated(credential) == expected
    assert templated(credential) == expected
    assert fast(credential) == expected
