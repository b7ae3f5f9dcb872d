"""Safe policy changes: the impact of a policy change is shown before it is saved, policies
can be scoped per issuer or achievement type, and the award form shows an unmet policy before
anything is typed (issue 20 item 3, defect D4)."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from achievements import services as achievement_services
from awarding import services as awarding_services
from awarding.bulk import services as bulk_services
from badges.models import AchievementType, AchievementVersion, BatchState
from frameworks.catalogue import policies
from frameworks.catalogue.policies import Scope
from frameworks.catalogue.services import choose_policies
from frameworks.models import MicroCredentialPolicy, PolicyChoice
from tests.badges.helpers import make_published
from tests.base import Cast, make_issuer
from tests.frameworks.helpers import draft_micro, place

pytestmark = pytest.mark.django_db

NAMES = [
    "CNC Machining Fundamentals",
    "Digital Marketing Analytics",
    "Data Literacy",
    "Welding Basics",
    "Customer Service",
]


def _seven(cast: Cast) -> tuple[AchievementVersion, AchievementVersion]:
    """Five unplaced micro-credentials, one placed on the EQF, one meeting the NZQCF policy."""
    for n, name in enumerate(NAMES):
        make_published(cast.editor, cast.issuer, f"mc-{n}", name_en=name)
    eqf = draft_micro(cast.editor, cast.issuer, "eqf-placed")
    place(cast.editor, eqf, levels=(("eqf", "5"),), credits=(("ects", "5"),))
    eqf = achievement_services.publish_version(actor=cast.editor, version=eqf)
    nzqcf = draft_micro(cast.editor, cast.issuer, "nzqcf-placed")
    place(cast.editor, nzqcf)
    nzqcf = achievement_services.publish_version(actor=cast.editor, version=nzqcf)
    return eqf, nzqcf


def _frameworks(cast: Cast) -> str:
    return reverse("manage:frameworks", args=[cast.institution.slug])


def test_d4_ticking_the_nzqcf_policy_shows_what_it_blocks_and_saves_only_on_confirm(
    cast: Cast, client: Client
) -> None:
    eqf, nzqcf = _seven(cast)
    client.force_login(cast.owner)

    preview = client.post(_frameworks(cast), {"apply_nzqcf-micro": "on"})

    text = preview.content.decode()
    assert preview.status_code == 200
    assert "This will block 6 of 7 micro-credentials." in text
    assert "6 published micro-credentials can no longer be awarded once you save" in text
    for name in [*NAMES, eqf.name]:
        assert name in text
    assert "Place it at a level of the NZQCF." in text
    assert not PolicyChoice.objects.filter(institution=cast.institution).exists()

    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', text))
    hidden.pop("csrfmiddlewaretoken", None)
    assert hidden == {"apply_nzqcf-micro": "on", "confirm": "yes"}  # what "Save" sends

    saved = client.post(_frameworks(cast), hidden)

    assert saved.status_code == 302
    choice = PolicyChoice.objects.get(institution=cast.institution)
    assert choice.policy.code == "nzqcf-micro"
    assert choice.issuer is None and choice.achievement_type == ""
    page = client.get(_frameworks(cast), HTTP_ACCEPT_LANGUAGE="en")
    assert "6 of 7 micro-credentials do not meet them yet" in page.content.decode()
    assert policies.unmet_for(nzqcf) == []
    assert {i.policy for i in policies.unmet_for(eqf)} == {"NZQCF micro-credential"}


def test_unticking_a_policy_says_which_micro_credentials_can_be_awarded_again(
    cast: Cast, client: Client
) -> None:
    eqf, _nzqcf = _seven(cast)
    client.force_login(cast.owner)
    client.post(_frameworks(cast), {"apply_nzqcf-micro": "on", "confirm": "yes"})

    preview = client.post(_frameworks(cast), {})

    text = preview.content.decode()
    assert "All 7 micro-credentials meet these policies: nothing is blocked." in text
    assert "6 micro-credentials blocked now could be awarded again" in text
    assert eqf.name in text
    assert PolicyChoice.objects.filter(institution=cast.institution).count() == 1


def test_a_policy_scoped_to_one_issuer_blocks_only_that_issuers_micro_credentials(
    cast: Cast, client: Client
) -> None:
    other = make_issuer(cast.institution, "poly-business", cast.owner)
    ours = make_published(cast.editor, cast.issuer, "ours", name_en="Engineering Ethics")
    theirs = make_published(cast.owner, other, "theirs", name_en="Business Writing")
    client.force_login(cast.owner)

    preview = client.post(
        _frameworks(cast),
        {"apply_nzqcf-micro": "on", "scope_nzqcf-micro": f"issuer:{other.pk}"},
    )
    text = preview.content.decode()
    assert "This will block 1 of 2 micro-credentials." in text
    assert "Business Writing" in text and "Engineering Ethics" not in text
    assert "Micro-credentials of Poly Business" in text

    client.post(
        _frameworks(cast),
        {"apply_nzqcf-micro": "on", "scope_nzqcf-micro": f"issuer:{other.pk}", "confirm": "yes"},
    )

    assert PolicyChoice.objects.get(institution=cast.institution).issuer == other
    assert policies.unmet_for(ours) == []
    with pytest.raises(ValidationError):
        awarding_services.award_badge(
            actor=cast.owner, version=theirs, email="a@example.com", name="A Learner"
        )


def test_a_policy_scoped_to_an_achievement_type_applies_to_that_type_only(cast: Cast) -> None:
    course = make_published(
        cast.editor, cast.issuer, "course", achievement_type=AchievementType.COURSE
    )
    micro = make_published(cast.editor, cast.issuer, "micro")
    policy = MicroCredentialPolicy.objects.get(code="nzqcf-micro")

    impact = policies.policy_impact(
        cast.institution.pk, [(policy, Scope(achievement_type=AchievementType.COURSE))]
    )
    assert [a.version for a in impact.blocked] == [course]

    choose_policies(
        actor=cast.owner,
        institution=cast.institution,
        chosen=[(policy, Scope(achievement_type=AchievementType.COURSE))],
    )
    assert policies.unmet_for(micro) == []
    assert {i.policy for i in policies.unmet_for(course)} == {"NZQCF micro-credential"}


def test_an_issuer_of_another_institution_cannot_be_a_scope(cast: Cast) -> None:
    policy = MicroCredentialPolicy.objects.get(code="nzqcf-micro")
    with pytest.raises(ValidationError):
        choose_policies(
            actor=cast.owner,
            institution=cast.institution,
            chosen=[(policy, Scope(issuer_id=cast.other_issuer.pk))],
        )
    assert not PolicyChoice.objects.filter(institution=cast.institution).exists()


def test_the_award_form_shows_the_unmet_policy_before_anything_is_typed(
    cast: Cast, client: Client
) -> None:
    version = make_published(cast.editor, cast.issuer, "unplaced", name_en="CNC Machining")
    choose_policies(
        actor=cast.owner,
        institution=cast.institution,
        chosen=[MicroCredentialPolicy.objects.get(code="nzqcf-micro")],
    )
    client.force_login(cast.editor)

    page = client.get(
        reverse("manage:award_create", args=[cast.institution.slug, version.achievement_id]),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert "This micro-credential cannot be awarded yet" in text
    assert "NZQCF micro-credential</strong>: Place it at a level of the NZQCF." in text
    assert (
        reverse(
            "manage:achievement_placement", args=[cast.institution.slug, version.achievement_id]
        )
        in text
    )
    assert "disabled" in text.split("Award and sign")[0].rsplit("<button", 1)[1]
    assert text.index("cannot be awarded yet") < text.index('name="email"')


def test_the_award_form_of_a_micro_credential_that_meets_the_policies_has_no_notice(
    cast: Cast, client: Client
) -> None:
    draft = draft_micro(cast.editor, cast.issuer)
    place(cast.editor, draft)
    version = achievement_services.publish_version(actor=cast.editor, version=draft)
    choose_policies(
        actor=cast.owner,
        institution=cast.institution,
        chosen=[MicroCredentialPolicy.objects.get(code="nzqcf-micro")],
    )
    client.force_login(cast.awarder)

    page = client.get(
        reverse("manage:award_create", args=[cast.institution.slug, version.achievement_id])
    )

    assert "cannot be awarded yet" not in page.content.decode()
    assert (
        "disabled" not in page.content.decode().split("Award and sign")[0].rsplit("<button", 1)[1]
    )


def test_a_draft_upload_checked_before_a_policy_change_shows_the_block_and_cannot_start(
    cast: Cast, client: Client
) -> None:
    version = make_published(cast.editor, cast.issuer, "unplaced", name_en="CNC Machining")
    batch = bulk_services.create_batch(
        actor=cast.editor,
        version=version,
        file_name="cohort.csv",
        data=b"email,name\naroha@school.nz,Aroha\n",
    )
    client.force_login(cast.editor)
    page = reverse("manage:bulk_batch", args=[cast.institution.slug, batch.pk])
    assert "Issue 1 badge" in client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    choose_policies(
        actor=cast.owner,
        institution=cast.institution,
        chosen=[MicroCredentialPolicy.objects.get(code="nzqcf-micro")],
    )

    text = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "no longer meets your institution's policies" in text
    assert "NZQCF micro-credential: Place it at a level of the NZQCF." in text
    assert "Issue 1 badge" not in text
    zh = client.get(page, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "新西兰资历框架微证书：请将其定在 NZQCF 的某一级别。" in zh  # a full-width colon
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        bulk_services.start_batch(actor=cast.editor, batch=batch)
    assert "NZQCF micro-credential: Place it at a level of the NZQCF." in refused.value.messages
    batch.refresh_from_db()
    assert batch.state == BatchState.DRAFT
