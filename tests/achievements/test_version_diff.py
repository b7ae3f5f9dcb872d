"""The version history lists every change to what a credential says or is worth, computed
from what is published for each version (issue 20 item 4, defect D3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from achievements import diff
from achievements import services as achievement_services
from badges import selectors as badge_selectors
from badges.models import AchievementType, AchievementVersion, VersionStatus
from frameworks.catalogue.export import achievement_document
from frameworks.catalogue.selectors import placement_of
from frameworks.catalogue.services import PLACEMENT_FIELDS
from frameworks.models import (
    CompetencyAlignment,
    CompetencyItem,
    CreditValue,
    FrameworkLevel,
    LevelPlacement,
    Placement,
)
from issuers.models import Image
from tests.badges.helpers import make_achievement
from tests.base import Cast
from tests.frameworks.helpers import import_esco, level, place, system

pytestmark = pytest.mark.django_db


def _publish(actor: Any, version: AchievementVersion) -> AchievementVersion:
    return achievement_services.publish_version(actor=actor, version=version)


def test_d3_credits_3_to_10_and_a_new_esco_skill_are_both_listed(
    cast: Cast, client: Client
) -> None:
    """D3: v1 NZQCF level 5, 3 credits; v2 10 credits and the ESCO skill "Python", with a new
    description: the public history listed only "Description (English)"."""
    python = next(i for i in import_esco(cast.owner, cast.institution) if "Python" in i.label)
    achievement = achievement_services.create_achievement(
        actor=cast.editor,
        issuer=cast.issuer,
        slug="data-literacy",
        name_en="Data Literacy",
        description_en="Reads a data set.",
        criteria_en="Pass the test.",
    )
    first = badge_selectors.draft_of(achievement)
    assert first is not None
    place(
        cast.editor,
        first,
        levels=(("nzqcf", "5"),),
        credits=(("nzqcf-credit", "3"),),
        notional_hours=30,
    )
    _publish(cast.editor, first)
    second = achievement_services.save_draft(
        actor=cast.editor,
        achievement=achievement,
        name_en="Data Literacy",
        description_en="Reads and cleans a data set.",
        criteria_en="Pass the test.",
    )
    place(
        cast.editor,
        second,
        levels=(("nzqcf", "5"),),
        credits=(("nzqcf-credit", "10"),),
        notional_hours=30,
        competencies=[python],
    )
    _publish(cast.editor, second)

    found = diff.changes(first, second)
    by_label = {change.label: change for change in found}

    assert by_label["Credits"].before == "3 NZQCF credits"
    assert by_label["Credits"].after == "10 NZQCF credits"
    assert ("+", "Python (computer programming) (ESCO)") in by_label[
        "Levels, competencies and skills"
    ].lines or any(
        mark == "+" and "Python" in text
        for mark, text in by_label["Levels, competencies and skills"].lines
    )
    assert "Description (English)" in by_label
    page = client.get(reverse("achievement", args=[achievement.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "3 fields changed" in text
    assert "10 NZQCF credits" in text and "3 NZQCF credits" in text
    assert "Python (computer programming)" in text


def test_no_change_gives_an_empty_diff_and_labels_never_show_a_raw_key(cast: Cast) -> None:
    achievement = achievement_services.create_achievement(
        actor=cast.editor,
        issuer=cast.issuer,
        slug="same",
        name_en="Same",
        description_en="Same.",
        criteria_en="Same.",
        validity_days=30,
    )
    first = badge_selectors.draft_of(achievement)
    assert first is not None
    _publish(cast.editor, first)
    second = achievement_services.save_draft(actor=cast.editor, achievement=achievement)

    assert diff.changes(first, second) == []
    for key in diff.LABELS:
        assert diff.label(key) != key
    assert diff.label("fieldOfStudy") == "Field of study"
    assert diff.label("achievementType", "zh-Hans") == "Type (Chinese)"


# --------------------------------------------------------------------------------------------
# Property: any change to anything published shows up; nothing changed, nothing shown
# --------------------------------------------------------------------------------------------

WORDS = st.text(alphabet="ab 数据\n", max_size=6)
LINES = st.lists(st.sampled_from(["Reads data.", "读取数据。", "Cleans data."]), max_size=2).map(
    "\n".join
)

CONTENT = {
    "name_en": st.sampled_from(["Data", "Data Literacy", ""]),
    "name_zh": st.sampled_from(["数据", "数据素养", ""]),
    "description_en": WORDS,
    "description_zh": WORDS,
    "criteria_en": WORDS,
    "criteria_zh": WORDS,
    "evidence_required_en": WORDS,
    "evidence_required_zh": WORDS,
    "achievement_type": st.sampled_from(
        [AchievementType.MICRO_CREDENTIAL, AchievementType.COURSE, AchievementType.BADGE]
    ),
    "tags": st.lists(st.sampled_from(["data", "python", "数据"]), max_size=2, unique=True),
    "validity_days": st.sampled_from([None, 30, 365]),
    "result_descriptions": st.lists(
        st.fixed_dictionaries(
            {
                "name_en": st.sampled_from(["Grade", "Mark"]),
                "name_zh": st.sampled_from(["成绩", ""]),
                "result_type": st.sampled_from(["LetterGrade", "Percent"]),
                "allowed_values": st.lists(st.sampled_from(["A", "B"]), max_size=2, unique=True),
            }
        ),
        max_size=1,
    ),
    "image": st.sampled_from([None, 0, 1]),
}
PLACEMENT = {
    "notional_hours": st.sampled_from([None, Decimal(30), Decimal("37.5")]),
    "outcomes_en": LINES,
    "outcomes_zh": LINES,
    "assessment_type": st.sampled_from(["", "testing", "portfolio"]),
    "assessment_supervision": st.sampled_from(["", "supervised_no_id", "supervised_online_id"]),
    "participation": st.sampled_from(["", "online", "blended"]),
    "quality_assurance": WORDS,
    "prerequisites": WORDS,
    "stackability": st.sampled_from(["", "standalone", "stackable"]),
    "levels": st.sampled_from([(), (("nzqcf", "4"),), (("nzqcf", "5"),), (("eqf", "5"),)]),
    "credits": st.sampled_from(
        [(), (("nzqcf-credit", "3"),), (("nzqcf-credit", "10"),), (("ects", "5"),)]
    ),
    "competencies": st.sampled_from([(), (0,), (1,), (0, 1)]),
}
SPEC = st.fixed_dictionaries({**CONTENT, **PLACEMENT, "placed": st.booleans()})


@st.composite
def two_specs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A version and the next one: the same but for a random set of fields."""
    first = draw(SPEC)
    changed = draw(st.sets(st.sampled_from(sorted([*CONTENT, *PLACEMENT, "placed"]))))
    second = dict(first)
    for name in changed:
        second[name] = draw({**CONTENT, **PLACEMENT, "placed": st.booleans()}[name])
    return first, second


def _make(
    cast: Cast, number: int, spec: dict[str, Any], images: list[Image], items: list[CompetencyItem]
) -> AchievementVersion:
    content = {name: spec[name] for name in CONTENT if name != "image"}
    version = AchievementVersion.objects.create(
        achievement=cast_achievement(cast),
        number=number,
        status=VersionStatus.PUBLISHED,
        image=images[spec["image"]] if spec["image"] is not None else None,
        **content,
    )
    if spec["placed"]:
        placement = Placement.objects.create(
            version=version, **{name: spec[name] for name in PLACEMENT_FIELDS}
        )
        LevelPlacement.objects.bulk_create(
            LevelPlacement(placement=placement, level=level(f, c)) for f, c in spec["levels"]
        )
        CreditValue.objects.bulk_create(
            CreditValue(
                placement=placement, credit_system=system(s), amount=Decimal(a), is_primary=n == 0
            )
            for n, (s, a) in enumerate(spec["credits"])
        )
        CompetencyAlignment.objects.bulk_create(
            CompetencyAlignment(placement=placement, item=items[i], position=n)
            for n, i in enumerate(spec["competencies"])
        )
    return version


_ACHIEVEMENTS: dict[int, Any] = {}


def cast_achievement(cast: Cast) -> Any:
    return _ACHIEVEMENTS[cast.issuer.pk]


def _published(version: AchievementVersion, spec: dict[str, Any]) -> dict[str, Any]:
    """What a reader of ``version`` gets: the served JSON-LD in both languages, and the facts
    the public page and the placement API state beside it."""
    served = {}
    for language in diff.LANGUAGES:
        document = achievement_document(version, language)
        for key in ("id", "version"):
            document.pop(key, None)
        served[language] = diff._relative(document, str(achievement_document(version, "en")["id"]))
    placed = spec["placed"]
    beside = {
        "validityDays": spec["validity_days"],
        "evidenceRequired": (spec["evidence_required_en"], spec["evidence_required_zh"]),
        "learningOutcomes": tuple(
            tuple(line for line in spec[f].splitlines() if line.strip()) if placed else ()
            for f in ("outcomes_en", "outcomes_zh")
        ),
        "credits": spec["credits"] if placed else (),
        "notionalHours": spec["notional_hours"] if placed else None,
        "assessmentType": spec["assessment_type"] if placed else "",
        "assessmentSupervision": spec["assessment_supervision"] if placed else "",
        "participation": spec["participation"] if placed else "",
        "qualityAssurance": spec["quality_assurance"] if placed else "",
        "prerequisites": spec["prerequisites"] if placed else "",
        "stackability": spec["stackability"] if placed else "",
    }
    return {"served": served, "beside": beside}


# What the test itself knows cannot differ between two versions of one achievement.
SAME_FOR_EVERY_VERSION = frozenset({"@context", "type", "inLanguage", "creator"})
# A change to a served key may show up under these published keys.
EXPLAINED_BY = {
    "description": ("description", "credits", "notionalHours", "alignment"),
    "criteria": ("criteria",),
    "image": ("image",),
    "creditsAvailable": ("credits",),
    "creditValue": ("credits",),
    "qualificationLevel": ("alignment",),
}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=two_specs())
def test_any_change_to_anything_published_is_in_the_diff_and_nothing_else_is(
    cast: Cast, specs: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    first_spec, second_spec = specs
    with transaction.atomic():
        images = [
            Image.objects.create(
                content_type="image/png", data=b"png", sha256=str(n), width=1, height=1
            )
            for n in range(2)
        ]
        items = list(CompetencyItem.objects.filter(framework__owner=cast.institution)[:2])
        if len(items) < 2:
            items = import_esco(cast.owner, cast.institution)
        _ACHIEVEMENTS[cast.issuer.pk] = make_achievement(cast.editor, cast.issuer, "prop")
        first = _make(cast, 10, first_spec, images, items)
        second = _make(cast, 11, second_spec, images, items)
        before, after = _published(first, first_spec), _published(second, second_spec)

        found = diff.changes(first, second)
        names = [change.name.split("@")[0] for change in found]

        if before == after:
            assert found == []
        else:
            assert found, (before, after)
        for language in diff.LANGUAGES:
            old, new = before["served"][language], after["served"][language]
            for key in set(old) | set(new):
                if old.get(key) != new.get(key) and key not in SAME_FOR_EVERY_VERSION:
                    wanted = EXPLAINED_BY.get(key, (key,))
                    assert any(n.split(".")[0] in wanted for n in names), (key, names)
        for key, value in before["beside"].items():
            if after["beside"][key] != value:
                assert key in names, (key, names)
        for change in found:
            assert change.label and "@" not in change.label
        transaction.set_rollback(True)


def test_the_console_micro_credential_page_lists_what_changed_in_each_version(
    cast: Cast, client: Client
) -> None:
    achievement = achievement_services.create_achievement(
        actor=cast.editor,
        issuer=cast.issuer,
        slug="console-diff",
        name_en="Console Diff",
        description_en="One.",
        criteria_en="Pass.",
    )
    first = badge_selectors.draft_of(achievement)
    assert first is not None
    place(cast.editor, first, credits=(("nzqcf-credit", "3"),), notional_hours=30)
    _publish(cast.editor, first)
    second = achievement_services.save_draft(actor=cast.editor, achievement=achievement)
    place(cast.editor, second, credits=(("nzqcf-credit", "10"),), notional_hours=100)
    client.force_login(cast.editor)

    page = client.get(
        reverse("manage:achievement_detail", args=[cast.institution.slug, achievement.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    text = page.content.decode()
    assert ">Current</span>" in text and ">Draft</span>" in text
    assert "3 NZQCF credits" in text and "10 NZQCF credits" in text
    _publish(cast.editor, second)
    after = client.get(
        reverse("manage:achievement_detail", args=[cast.institution.slug, achievement.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert after.index(">Current</span>") < after.index(">Previous</span>")
    assert placement_of(second) is not None
    assert FrameworkLevel.objects.exists()


def test_the_new_micro_credential_form_does_not_ask_what_changed(
    cast: Cast, client: Client
) -> None:
    client.force_login(cast.editor)

    new = client.get(
        reverse("manage:achievement_create", args=[cast.institution.slug]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert new.status_code == 200
    assert "Badge image" in new.content.decode()
    assert "What changed" not in new.content.decode()
    assert 'name="change_note"' not in new.content.decode()
