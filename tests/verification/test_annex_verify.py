"""The verify result shows the EU micro-credential elements read from the verified credential,
for this platform's credentials and for any issuer's that names Insignia's context, in
English and Chinese; an unverified credential's elements are not shown; the PDF certificate
carries them too."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from badges.models import Award
from earners import pdf
from openbadges import microcredential, ob3
from tests.badges.helpers import award
from tests.badges.test_annex_credential import full_micro
from tests.base import Cast
from tests.earners.helpers import make_learner
from tests.verification import helpers

pytestmark = pytest.mark.django_db


def _section(html: str) -> str:
    match = re.search(r"<section class=\"annex\".*?</section>", html, re.S)
    assert match, "no micro-credential section"
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))))


def _verify(client: Client, text: str, language: str = "en") -> str:
    response = client.post(reverse("verify"), {"text": text}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return str(response.content.decode())


def test_the_verify_result_shows_a_platform_micro_credentials_elements(
    cast: Cast, client: Client
) -> None:
    issued = award(cast.awarder, full_micro(cast))

    html = _verify(client, issued.credential_json)

    assert 'data-verdict="valid"' in html
    text = _section(html)
    assert "Workload 150 hours (6 ECTS credits)" in text
    assert "Level EQF 5" in text
    assert "Assessment Portfolio" in text
    assert "Participation Online" in text
    assert "Identity verification Yes: supervised online, identity checked" in text
    assert "Quality assurance Internal quality assurance (ESG Part 1)" in text
    assert "Prerequisites Secondary school mathematics" in text
    assert "Can be combined with Other credentials" in text
    assert "Cleans a data set." in text


def test_a_chinese_reader_gets_chinese_labels_on_the_verify_result(
    cast: Cast, client: Client
) -> None:
    issued = award(cast.awarder, full_micro(cast), email="li@example.com", language="zh-Hans")

    text = _section(_verify(client, issued.credential_json, "zh-Hans"))

    assert "学习量 150 小时（6 " in text
    assert "身份核验 已核验：线上监考并核验身份" in text
    assert "清理数据集。" in text


def _other_issuers(record: microcredential.MicroCredentialRecord) -> str:
    """A credential of an issuer not on this platform that uses our context."""
    import json

    achievement = {
        **helpers.unsigned("x")["credentialSubject"]["achievement"],
        **microcredential.microcredential_json(record),
    }
    key = Ed25519PrivateKey.generate()
    from openbadges import multikey

    did = multikey.did_key(key.public_key())
    document = helpers.unsigned(did)
    document["@context"] = [*ob3.CREDENTIAL_CONTEXT, ob3.MICROCREDENTIAL_CONTEXT]
    document["credentialSubject"]["achievement"] = achievement
    signed = helpers.sign(document, key, multikey.did_key_verification_method(key.public_key()))
    return json.dumps(signed)


def test_another_issuers_credential_with_our_context_shows_its_elements(client: Client) -> None:
    record = microcredential.MicroCredentialRecord(
        notional_hours=60,
        participation="work_based",
        assessment_supervision="unsupervised_no_id",
        stackability="standalone",
        assessment_type="a-code-we-do-not-know",
    )

    html = _verify(client, _other_issuers(record))

    assert 'data-verdict="valid"' in html
    text = _section(html)
    assert "Workload 60 hours" in text and "ECTS" not in text
    assert "Participation Work-based" in text
    assert "Identity verification None: the assessment was not supervised" in text
    assert "Can be combined with Nothing: it is a stand-alone credential" in text
    assert "Assessment a-code-we-do-not-know" in text  # shown as written
    assert "Prerequisites" not in text and "Level" not in text


def test_a_tampered_credentials_elements_are_not_shown(cast: Cast, client: Client) -> None:
    issued = award(cast.awarder, full_micro(cast))
    changed = issued.credential_json.replace("supervised_online_id", "supervised_onsite_id")

    html = _verify(client, changed)

    assert 'data-verdict="valid"' not in html
    assert 'class="annex"' not in html


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    # pypdf reads the CJK font's two-byte codes with a NUL before each character
    text = " ".join(page.extract_text() or "" for page in reader.pages).replace("\x00", "")
    return re.sub(r"\s+", " ", text)


def _certificate(client: Client, issued: Award, email: str) -> str:
    client.force_login(make_learner(email))
    response = client.get(f"/backpack/badges/{issued.pk}/certificate.pdf")
    assert response.status_code == 200
    return _pdf_text(response.content)


def test_the_pdf_certificate_lists_the_elements(cast: Cast, client: Client) -> None:
    issued = award(cast.awarder, full_micro(cast), email="lee@example.com")

    text = _certificate(client, issued, "lee@example.com")

    assert "Workload" in text and "150 hours (6 ECTS credits)" in text
    assert "Identity verification" in text
    assert "Yes: supervised online, identity checked" in text
    assert "Prerequisites" in text and "Secondary school mathematics" in text


def test_a_chinese_pdf_has_chinese_values_and_bilingual_labels(cast: Cast) -> None:
    issued = award(cast.awarder, full_micro(cast), email="li@example.com", language="zh-Hans")

    rows = dict(pdf.annex_facts(issued, issued.credential))

    assert rows["身份核验 · Identity verification"] == "已核验：线上监考并核验身份"
    assert rows["学习量 · Workload"].startswith("150 小时（6 ")
    assert rows["学习成果 · Learning outcomes"] == "• 清理数据集。\n• 向经理解释图表。"
    text = _pdf_text(pdf.certificate(issued))
    assert "身份核验 · Identity verification" in text
    assert "已核验：线上监考并核验身份" in text
