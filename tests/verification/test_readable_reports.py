"""What an employer reads on /verify and on a receipt: people's dates and type names,
translated check lists, and a warning on a badge that was re-issued (D7b, D18, D30)."""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone, translation

import common.ratelimit
from awarding import services as awarding_services
from badges.models import AchievementType, Award
from earners.identity.services import decide_identity_change, request_identity_change
from earners.models import AwardPreference, Visibility
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.earners.helpers import make_learner
from verification.report import MORE_TYPES, type_label, when

pytestmark = pytest.mark.django_db

ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
SPEC_TYPES = [*AchievementType.values, *MORE_TYPES]  # OB 3.0 §B.3.1, every term


@pytest.fixture(autouse=True)
def one_rate_limit_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common.ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))


@pytest.fixture
def demo(cast: Cast) -> Award:
    version = make_published(cast.owner, cast.issuer)
    until = timezone.now() + dt.timedelta(days=400)
    return award(cast.awarder, version, valid_until=until)


def _result(client: Client, given: Award, language: str = "en") -> str:
    response = client.get("/verify", {"url": given.credential["id"]}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_the_result_shows_dates_and_the_type_in_words(client: Client, demo: Award) -> None:
    page = _result(client, demo)

    assert "<dd>Micro-credential</dd>" in page
    assert "MicroCredential" not in page
    assert not ISO.search(page)
    until = demo.valid_until.astimezone(dt.UTC) if demo.valid_until else None
    assert until is not None and f"{until:%Y-%m-%d %H:%M} UTC" in page


def test_the_chinese_result_has_chinese_dates_and_type(client: Client, demo: Award) -> None:
    page = _result(client, demo, "zh-hans")

    assert "<dd>微证书</dd>" in page
    assert not ISO.search(page)
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2} UTC", page)


@pytest.mark.parametrize("term", SPEC_TYPES)
def test_every_achievement_type_has_a_label_in_words(term: str) -> None:
    label = type_label(term)
    assert label
    assert not re.search(r"[a-z][A-Z]", label)  # "Micro-credential", not "MicroCredential"


def test_dates_have_one_form_per_language() -> None:
    moment = "2026-12-02T17:54:44Z"
    with translation.override("en"):
        assert when(moment) == "2026-12-02 17:54 UTC"
    with translation.override("zh-hans"):
        assert when(moment) == "2026年12月2日 17:54 UTC"
    assert when("not a date") == "not a date"


def _receipt_page(client: Client, given: Award, language: str) -> str:
    response = client.post(
        "/verify", {"text": given.credential_json}, HTTP_ACCEPT_LANGUAGE=language
    )
    saved = client.post("/verify/receipts", {"token": response.context["token"]})
    assert saved.status_code == 302
    page = client.get(saved["Location"], HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 200
    return page.content.decode()


def test_a_receipt_lists_the_checks_in_words_not_codes(client: Client, demo: Award) -> None:
    page = _receipt_page(client, demo, "en")
    listed = page[page.index('<ul class="checks">') : page.index("</ul>", page.index("checks"))]
    checks = re.sub(r"<[^>]+>", " ", listed)  # the text people see

    assert "Key belongs to the issuer" in checks
    assert "Revocation and suspension" in checks
    assert "passed" in checks and "Not revoked or suspended." in checks
    for code in ("not_revoked", "not_asked", "issuer_key", ">ok<", ">pass<"):
        assert code not in checks
    assert 'class="check-mark"' in listed  # the mark keeps the status out of the title
    assert re.search(r"<dd>\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC</dd>", page)  # checked at


def test_a_receipt_in_chinese_is_in_chinese(client: Client, demo: Award) -> None:
    page = _receipt_page(client, demo, "zh-hans")

    assert "签名" in page and "通过" in page
    assert re.search(r"<dd>\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2} UTC</dd>", page)


def test_a_receipt_prints_its_id_and_permalink(client: Client, demo: Award) -> None:
    page = _receipt_page(client, demo, "en")

    receipt_id = re.search(r"/verify/receipts/([0-9a-f-]{36})", page)
    assert receipt_id is not None
    assert f"<code>{receipt_id.group(1)}</code>" in page
    assert f'">http://testserver/verify/receipts/{receipt_id.group(1)}</a>' in page or (
        f"/verify/receipts/{receipt_id.group(1)}</a>" in page
    )


def _reissue(cast: Cast, original: Award) -> Award:
    return awarding_services.award_badge(
        actor=cast.awarder,
        version=original.achievement_version,
        email="new@example.com",
        name=original.recipient_name,
        awarded_date=original.awarded_at,
        reissued_from=original,
        notify=False,
    )


def test_a_superseded_badge_says_so_without_a_link_to_a_private_reissue(
    client: Client, cast: Cast, demo: Award
) -> None:
    current = _reissue(cast, demo)
    AwardPreference.objects.create(award=current, visibility=Visibility.LINK)

    page = _result(client, demo)

    assert 'data-verdict="valid"' in page  # still genuine
    assert "Superseded by a re-issue on" in page
    assert str(current.pk) not in page
    body = client.post(
        "/api/v1/verify", {"credential": demo.credential}, content_type="application/json"
    ).json()
    superseded = [c for c in body["checks"] if c["id"] == "superseded"]
    assert superseded and superseded[0]["status"] == "warning"
    assert "current_url" not in body["platform"]["superseded"]


def test_a_superseded_badge_links_to_a_public_reissue(
    client: Client, cast: Cast, demo: Award
) -> None:
    current = _reissue(cast, demo)
    AwardPreference.objects.create(award=current, visibility=Visibility.PUBLIC)

    page = _result(client, demo)

    assert "Superseded by a re-issue on" in page
    assert f'/credentials/{current.pk}">' in page


def test_the_current_badge_has_no_warning(client: Client, cast: Cast, demo: Award) -> None:
    current = _reissue(cast, demo)

    page = _result(client, current)

    assert "Superseded" not in page


def test_an_approved_identity_change_marks_the_original_superseded(
    client: Client, cast: Cast
) -> None:
    original = award(
        cast.awarder, make_published(cast.editor, cast.issuer), email="lee@old.example"
    )
    learner = make_learner("lee@old.example", "lee@new.example")
    change = request_identity_change(user=learner, award=original, new_email="lee@new.example")
    decide_identity_change(
        actor=cast.awarder, institution=cast.institution, change=change, approve=True
    )

    page = _result(client, original)

    assert 'data-verdict="valid"' in page
    assert "Superseded by a re-issue on" in page
    assert "Ask the holder for the current badge." in page  # the re-issue is private
