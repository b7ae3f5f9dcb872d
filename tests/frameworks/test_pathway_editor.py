"""The console pathway editor: name, target, a requirement tree of groups built with plain
form buttons, validation in words, a preview in English and Chinese, deactivation."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from badges.models import AchievementVersion
from frameworks.models import Pathway, RequirementGroup
from frameworks.pathways import selectors as pathway_selectors
from frameworks.pathways import services as pathway_services
from frameworks.pathways.trees import GroupSpec
from tests.badges.helpers import award, make_published
from tests.base import CaptureCallbacks, Cast

pytestmark = pytest.mark.django_db

LEARNER = "learner@example.com"


def parts(cast: Cast) -> list[AchievementVersion]:
    return [
        make_published(cast.editor, cast.issuer, slug, name_en=en, name_zh=zh)
        for slug, en, zh in (
            ("data-cleaning", "Data Cleaning", "数据清理"),
            ("data-charts", "Data Charts", "数据图表"),
            ("data-stories", "Data Stories", "数据叙事"),
        )
    ]


def certificate(cast: Cast) -> AchievementVersion:
    return make_published(
        cast.editor,
        cast.issuer,
        "data-certificate",
        name_en="Data Certificate",
        name_zh="数据证书",
        achievement_type="Certificate",
    )


def tree_post(target: Any, requirements: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "title_en": "Data analyst pathway",
        "title_zh": "数据分析路径",
        "target": str(target.achievement_id) if target else "",
        "node": ["g"],
        "g__rule": "at_least_n",
        "g__count": "2",
        "g__req": [str(v.achievement_id) for v in requirements],
        "op": "save",
        **extra,
    }


def new_url(cast: Cast) -> str:
    return reverse("manage:pathway_create", args=[cast.institution.slug])


def test_an_editor_builds_a_two_of_three_pathway_that_then_awards_itself(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    three, target = parts(cast), certificate(cast)
    client.force_login(cast.editor)

    saved = client.post(new_url(cast), tree_post(target, three), follow=True)

    assert "The pathway was saved." in saved.content.decode()
    pathway = Pathway.objects.get(institution=cast.institution)
    root = pathway.groups.get()
    assert (root.rule, root.required_count) == ("at_least_n", 2)
    assert [r.achievement.slug for r in root.requirements.all()] == [
        "data-cleaning",
        "data-charts",
        "data-stories",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, three[0], email=LEARNER)
        award(cast.awarder, three[2], email=LEARNER)
    completion = pathway_selectors.completion_of(pathway, LEARNER)
    assert completion is not None
    assert completion.award.achievement_version == target


def test_the_buttons_build_a_nested_tree_without_saving_it(client: Client, cast: Cast) -> None:
    three, target = parts(cast), certificate(cast)
    client.force_login(cast.editor)
    base = tree_post(target, three[:1], g__rule="all")

    nested = client.post(new_url(cast), {**base, "op": "add-group:g"}).content.decode()
    assert 'name="node" value="g-0"' in nested
    assert "Group 1" in nested

    added = client.post(
        new_url(cast),
        {
            **base,
            "node": ["g", "g-0"],
            "g-0__rule": "at_least_n",
            "g-0__count": "1",
            "g-0__add": str(three[1].achievement_id),
            "op": "add-req:g-0",
        },
    ).content.decode()
    assert f'name="g-0__req" value="{three[1].achievement_id}"' in added
    assert "At least 1 of:" in added  # the preview follows the form

    removed = client.post(
        new_url(cast),
        {**base, "node": ["g", "g-0"], "op": "remove-group:g-0"},
    ).content.decode()
    assert 'value="g-0"' not in removed
    assert not Pathway.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"g__count": "3"},
            "The top group: “at least 3 of” has only 2 items to choose from.",
        ),
        ({"g__count": "0"}, "The top group: give how many of its items a learner needs"),
        (
            {"g__rule": "min_credits", "g__credits": "30"},
            "The top group: choose the credit system the credits are counted in.",
        ),
        ({"g__req": []}, "The top group is empty: add a micro-credential or a group to it"),
        ({"title_en": ""}, "Give the pathway a name in English."),
        ({"target": ""}, "Choose the credential this pathway awards."),
        ({"node": ["g", "g-0"]}, "Group 1 is empty"),
    ],
)
def test_a_broken_tree_is_explained_in_words_and_not_saved(
    client: Client, cast: Cast, change: dict[str, Any], message: str
) -> None:
    three, target = parts(cast), certificate(cast)
    client.force_login(cast.editor)

    response = client.post(new_url(cast), {**tree_post(target, three[:2]), **change})

    assert response.status_code == 200
    assert "The pathway was not saved:" in response.content.decode()
    assert message in response.content.decode()
    assert not Pathway.objects.exists()


def test_the_target_cannot_also_be_a_requirement(client: Client, cast: Cast) -> None:
    three, target = parts(cast), certificate(cast)
    client.force_login(cast.editor)

    response = client.post(new_url(cast), tree_post(target, [*three[:2], target]))

    assert (
        "“Data Certificate” is the credential this pathway awards, so it cannot also be one of "
        "its requirements."
    ) in response.content.decode()
    assert not Pathway.objects.exists()


def test_another_institutions_badge_can_be_neither_required_nor_awarded(
    client: Client, cast: Cast
) -> None:
    three, target = parts(cast), certificate(cast)
    theirs = make_published(cast.outsider, cast.other_issuer, "rival-badge")
    client.force_login(cast.editor)

    required = client.post(new_url(cast), tree_post(target, [*three[:2], theirs]))
    awarded = client.post(new_url(cast), tree_post(theirs, three))

    assert "a chosen micro-credential is not one of your institution&#x27;s." in (
        required.content.decode()
    )
    assert "The credential a pathway awards must be one of your institution&#x27;s." in (
        awarded.content.decode()
    )
    assert not Pathway.objects.exists()
    with pytest.raises(ValidationError, match="another institution"):
        pathway_services.create_pathway(
            actor=cast.editor,
            institution=cast.institution,
            title_en="Sneaky",
            title_zh="",
            target=target.achievement,
            root=GroupSpec(rule="all", achievements=[theirs.achievement]),
        )


def test_the_preview_reads_the_tree_in_english_and_chinese(client: Client, cast: Cast) -> None:
    three, target = parts(cast), certificate(cast)
    pathway = pathway_services.create_pathway(
        actor=cast.editor,
        institution=cast.institution,
        title_en="Data analyst pathway",
        title_zh="数据分析路径",
        target=target.achievement,
        root=GroupSpec(
            rule="all",
            achievements=[three[0].achievement],
            children=[
                GroupSpec(
                    rule="at_least_n",
                    required_count=1,
                    achievements=[three[1].achievement, three[2].achievement],
                )
            ],
        ),
    )
    client.force_login(cast.viewer)

    page = client.get(reverse("manage:pathway_edit", args=[cast.institution.slug, pathway.pk]))

    body = page.content.decode()
    for words in ("All of:", "At least 1 of:", "Awards: Data Certificate", "Data Charts"):
        assert words in body
    for words in ("数据分析路径", "以下全部：", "以下至少 1 项：", "授予：数据证书", "数据图表"):
        assert words in body
    # A viewer reads; only editors get the form.
    assert "Save pathway" not in body


def test_editing_a_completed_pathway_keeps_who_completed_it(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    three, target = parts(cast), certificate(cast)
    pathway = pathway_services.create_pathway(
        actor=cast.editor,
        institution=cast.institution,
        title_en="Data analyst pathway",
        title_zh="",
        target=target.achievement,
        root=GroupSpec(rule="all", achievements=[three[0].achievement]),
    )
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, three[0], email=LEARNER)
    completion = pathway_selectors.completion_of(pathway, LEARNER)
    assert completion is not None
    client.force_login(cast.editor)
    url = reverse("manage:pathway_edit", args=[cast.institution.slug, pathway.pk])

    page = client.get(url).content.decode()
    assert "1 learner has completed this pathway." in page
    assert "changes apply to future completions only" in page
    stricter = client.post(
        url, {**tree_post(target, three), "g__rule": "all", "g__count": ""}, follow=True
    )
    other_target = client.post(url, tree_post(three[1], [three[0], three[2]]))

    assert "The pathway was saved." in stricter.content.decode()
    assert RequirementGroup.objects.get(pathway=pathway).requirements.count() == 3
    assert pathway_selectors.completion_of(pathway, LEARNER) == completion
    completion.award.refresh_from_db()
    assert completion.award.status == "active"
    assert not pathway_selectors.evaluate(pathway, LEARNER).met  # future learners need all three
    assert "so the credential it awards can no longer change" in other_target.content.decode()
    pathway.refresh_from_db()
    assert pathway.target_id == target.achievement_id


def test_a_deactivated_pathway_is_completed_by_nobody_until_activated_again(
    client: Client, cast: Cast, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    three, target = parts(cast), certificate(cast)
    pathway = pathway_services.create_pathway(
        actor=cast.editor,
        institution=cast.institution,
        title_en="Data analyst pathway",
        title_zh="",
        target=target.achievement,
        root=GroupSpec(rule="all", achievements=[three[0].achievement]),
    )
    client.force_login(cast.editor)
    toggle = reverse("manage:pathway_set_active", args=[cast.institution.slug, pathway.pk])

    off = client.post(toggle, {"active": "0"}, follow=True).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        award(cast.awarder, three[0], email=LEARNER)

    assert "The pathway was deactivated" in off
    assert pathway_selectors.completion_of(pathway, LEARNER) is None
    listed = client.get(reverse("manage:pathways", args=[cast.institution.slug]))
    assert "Data analyst pathway" not in listed.content.decode()
    deactivated = client.get(reverse("manage:pathways_deactivated", args=[cast.institution.slug]))
    assert "Data analyst pathway" in deactivated.content.decode()
    client.post(toggle, {"active": "1"})
    pathway.refresh_from_db()
    assert pathway.is_active


@pytest.mark.parametrize("who", ["awarder", "viewer"])
def test_awarders_and_viewers_cannot_create_or_change_a_pathway(
    client: Client, cast: Cast, who: str
) -> None:
    three, target = parts(cast), certificate(cast)
    pathway = pathway_services.create_pathway(
        actor=cast.editor,
        institution=cast.institution,
        title_en="Data analyst pathway",
        title_zh="",
        target=target.achievement,
        root=GroupSpec(rule="all", achievements=[three[0].achievement]),
    )
    client.force_login(getattr(cast, who))
    edit = reverse("manage:pathway_edit", args=[cast.institution.slug, pathway.pk])

    assert client.get(new_url(cast)).status_code == 403
    assert client.post(new_url(cast), tree_post(target, three)).status_code == 403
    assert client.get(edit).status_code == 200
    assert client.post(edit, tree_post(target, three)).status_code == 403
    toggle = reverse("manage:pathway_set_active", args=[cast.institution.slug, pathway.pk])
    assert client.post(toggle, {"active": "0"}).status_code == 403
    pathway.refresh_from_db()
    assert pathway.is_active
    assert Pathway.objects.count() == 1
    assert pathway.groups.get().requirements.count() == 1


def test_another_institution_cannot_open_or_change_the_pathway(client: Client, cast: Cast) -> None:
    three, target = parts(cast), certificate(cast)
    pathway = pathway_services.create_pathway(
        actor=cast.editor,
        institution=cast.institution,
        title_en="Data analyst pathway",
        title_zh="",
        target=target.achievement,
        root=GroupSpec(rule="all", achievements=[three[0].achievement]),
    )
    client.force_login(cast.outsider)
    own = cast.other_institution.slug

    for slug in (cast.institution.slug, own):
        edit = reverse("manage:pathway_edit", args=[slug, pathway.pk])
        assert client.get(edit).status_code == 404
        assert client.post(edit, tree_post(target, three)).status_code == 404
        toggle = reverse("manage:pathway_set_active", args=[slug, pathway.pk])
        assert client.post(toggle, {"active": "0"}).status_code == 404
    pathway.refresh_from_db()
    assert pathway.is_active
    assert pathway.title_en == "Data analyst pathway"
