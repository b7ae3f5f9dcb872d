"""Builders for framework tests: reference data, placed micro-credentials."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounts.models import User
from badges import selectors as badge_selectors
from badges.models import AchievementVersion
from frameworks.catalogue.services import (
    Credit,
    choose_policies,
    load_reference_data,
    save_placement,
)
from frameworks.competencies.services import import_competency_framework
from frameworks.models import (
    CompetencyItem,
    CreditSystem,
    FrameworkLevel,
    MicroCredentialPolicy,
    Placement,
)
from issuers.models import Institution, Issuer
from tests.badges.helpers import make_achievement

ESCO_CSV = (
    "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,description\n"
    "KnowledgeSkillCompetence,http://data.europa.eu/esco/skill/"
    "ccd0a1d9-afda-43d9-b901-96344886e14d,knowledge,cross-sector,"
    'Python (computer programming),"Python\n Python programming",'
    "Programming in Python.\n"
    "KnowledgeSkillCompetence,http://data.europa.eu/esco/skill/"
    "1973c966-f236-40c9-b2d4-5d71a89019be,skill/competence,cross-sector,"
    "use spreadsheets software,,Use software tools to create and edit tabular data.\n"
)

OUTCOMES = "Cleans a data set.\nExplains a chart to a non-specialist."


def reference() -> None:
    load_reference_data()


def level(framework: str, code: str) -> FrameworkLevel:
    return FrameworkLevel.objects.get(framework__code=framework, code=code)


def system(code: str) -> CreditSystem:
    return CreditSystem.objects.get(code=code)


def choose(actor: User, institution: Institution, *codes: str) -> None:
    choose_policies(
        actor=actor,
        institution=institution,
        chosen=list(MicroCredentialPolicy.objects.filter(code__in=codes)),
    )


def import_esco(actor: User, institution: Institution) -> list[CompetencyItem]:
    framework = import_competency_framework(
        actor=actor, institution=institution, content=ESCO_CSV.encode(), filename="skills_en.csv"
    )
    return list(framework.items.order_by("label"))


def place(
    actor: User,
    version: AchievementVersion,
    *,
    levels: tuple[tuple[str, str], ...] = (("nzqcf", "4"),),
    credits: tuple[tuple[str, str], ...] = (("nzqcf-credit", "15"),),
    competencies: list[CompetencyItem] | None = None,
    **fields: Any,
) -> Placement:
    values: dict[str, Any] = {
        "notional_hours": Decimal(150),
        "outcomes_en": OUTCOMES,
        "assessment_type": "portfolio",
        "participation": "online",
        "quality_assurance": "NZQA approved",
        **fields,
    }
    return save_placement(
        actor=actor,
        version=version,
        levels=[level(f, c) for f, c in levels],
        credits=[Credit(system(s), Decimal(a)) for s, a in credits],
        competencies=competencies or [],
        **values,
    )


def draft_micro(actor: User, issuer: Issuer, slug: str = "data-literacy") -> AchievementVersion:
    draft = badge_selectors.draft_of(make_achievement(actor, issuer, slug))
    assert draft is not None
    return draft
