"""Demo data for frameworks (called by ``seed_demo``; idempotent): an NZQCF level-4
micro-credential of 15 credits aligned to ESCO skills, an EQF level-5 / 5 ECTS one, a
three-badge pathway, and a published equivalence statement."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from accounts.models import User
from achievements import services as achievement_services
from awarding import services as awarding_services
from badges import selectors as badge_selectors
from badges.models import Achievement, Award
from frameworks.catalogue import services as catalogue_services
from frameworks.competencies import services as competency_services
from frameworks.equivalence import services as equivalence_services
from frameworks.models import (
    CompetencyFramework,
    CompetencyItem,
    CreditSystem,
    EquivalenceStatement,
    FrameworkLevel,
    Pathway,
)
from frameworks.pathways import services as pathway_services
from frameworks.pathways.trees import GroupSpec
from issuers.keys import SigningUnavailable
from issuers.models import Institution, Issuer

ESCO_DEMO_CSV = (
    "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,description\n"
    "KnowledgeSkillCompetence,http://data.europa.eu/esco/skill/"
    "ccd0a1d9-afda-43d9-b901-96344886e14d,knowledge,cross-sector,"
    "Python (computer programming),Python,Programming in Python.\n"
    "KnowledgeSkillCompetence,http://data.europa.eu/esco/skill/"
    "1973c966-f236-40c9-b2d4-5d71a89019be,skill/competence,cross-sector,"
    "use spreadsheets software,,Use software tools to create and edit tabular data.\n"
    "KnowledgeSkillCompetence,http://data.europa.eu/esco/skill/"
    "234aeb8d-56c3-4531-9193-1c5e6a8d16cb,skill/competence,cross-sector,"
    "use presentation software,,Use software tools to present results.\n"
)

AROHA = ("aroha.learner@demo.insignia.test", "Aroha Learner", "en")
PATHWAY_TITLE = "Data professional pathway"

DEMO: list[dict[str, Any]] = [
    {
        "slug": "nzqcf-data-analysis",
        "content": {
            "name_en": "Data Analysis with Spreadsheets",
            "name_zh": "电子表格数据分析",
            "description_en": "Cleans, analyses and presents a business data set.",
            "description_zh": "能够清理、分析并展示业务数据集。",
            "criteria_en": "Complete the **portfolio** of three analyses, assessed as competent.",
            "criteria_zh": "完成包含三项分析的**作品集**，并被评定为合格。",
        },
        "level": ("nzqcf", "4"),
        "credits": ("nzqcf-credit", Decimal(15)),
        "hours": Decimal(150),
        "skills": ["use spreadsheets software", "use presentation software"],
        "placement": {
            "outcomes_en": "Cleans and structures a data set.\nPresents findings to a manager.",
            "outcomes_zh": "清理并整理数据集。\n向管理者展示分析结果。",
            "assessment_type": "portfolio",
            "assessment_supervision": "supervised_onsite_id",
            "participation": "blended",
            "quality_assurance": "NZQA approved micro-credential (demo)",
            "prerequisites": "NCEA Level 2 or equivalent work experience",
            "stackability": "stackable",
        },
        # Mele passed with partial credit: creditsEarned 10 of 15.
        "awards": [AROHA, ("mele.learner@demo.insignia.test", "Mele Learner", "en", Decimal(10))],
    },
    {
        "slug": "eqf-digital-marketing",
        "content": {
            "name_en": "Digital Marketing Analytics",
            "name_zh": "数字营销分析",
            "description_en": "Measures and improves an online campaign.",
            "description_zh": "能够衡量并改进线上营销活动。",
            "criteria_en": "Pass the supervised online **exam** (60 % or more).",
            "criteria_zh": "通过有监考的在线**考试**（60% 及以上）。",
        },
        "level": ("eqf", "5"),
        "credits": ("ects", Decimal(5)),
        "hours": Decimal(130),
        "skills": ["use spreadsheets software", "Python (computer programming)"],
        "placement": {
            "outcomes_en": "Reads campaign metrics.\nProposes and tests an improvement.",
            "outcomes_zh": "解读营销活动指标。\n提出并检验改进方案。",
            "assessment_type": "testing",
            "assessment_supervision": "supervised_online_id",
            "participation": "online",
            "quality_assurance": "Internal quality assurance (ESG Part 1)",
            "prerequisites": "Basic spreadsheet skills; no formal qualification needed",
            "stackability": "standalone",
        },
        "awards": [("sofia.learner@demo.insignia.test", "Sofia Learner", "en"), AROHA],
    },
    {
        "slug": "nzqcf-data-visualisation",
        "content": {
            "name_en": "Data Visualisation",
            "name_zh": "数据可视化",
            "description_en": "Chooses and builds clear charts and dashboards.",
            "description_zh": "能够选择并制作清晰的图表和仪表板。",
            "criteria_en": "Build a **dashboard** for a real client, assessed as competent.",
            "criteria_zh": "为真实客户制作**仪表板**，并被评定为合格。",
        },
        "level": ("nzqcf", "4"),
        "credits": ("nzqcf-credit", Decimal(10)),
        "hours": Decimal(100),
        "skills": ["use presentation software", "use spreadsheets software"],
        "placement": {
            "outcomes_en": "Chooses a chart that fits the question.\nBuilds a dashboard.",
            "outcomes_zh": "选择适合问题的图表。\n制作仪表板。",
            "assessment_type": "skill_application",
            "assessment_supervision": "unsupervised_no_id",
            "participation": "online",
            "quality_assurance": "NZQA approved micro-credential (demo)",
            "stackability": "stackable",
        },
        "awards": [AROHA],
    },
]


def _create(
    owner: User, issuer: Issuer, framework: CompetencyFramework, spec: dict[str, Any]
) -> Achievement:
    achievement = Achievement.objects.filter(issuer=issuer, slug=spec["slug"]).first()
    if achievement is not None:
        return achievement
    achievement = achievement_services.create_achievement(
        actor=owner, issuer=issuer, slug=spec["slug"], **spec["content"]
    )
    draft = badge_selectors.draft_of(achievement)
    assert draft is not None  # noqa: S101 - create_achievement always makes one
    code, amount = spec["credits"]
    catalogue_services.save_placement(
        actor=owner,
        version=draft,
        levels=[
            FrameworkLevel.objects.get(framework__code=spec["level"][0], code=spec["level"][1])
        ],
        credits=[catalogue_services.Credit(CreditSystem.objects.get(code=code), amount)],
        competencies=[
            CompetencyItem.objects.get(framework=framework, label=label) for label in spec["skills"]
        ],
        notional_hours=spec["hours"],
        **spec["placement"],
    )
    achievement_services.publish_version(actor=owner, version=draft)
    return achievement


def _pathway(owner: User, issuer: Issuer, parts: list[Achievement]) -> Pathway:
    """A three-badge pathway towards a certificate that is awarded by itself."""
    found = Pathway.objects.filter(institution=issuer.institution, title_en=PATHWAY_TITLE).first()
    if found is not None:
        return found
    target = achievement_services.create_achievement(
        actor=owner,
        issuer=issuer,
        slug="data-professional",
        name_en="Data Professional Certificate",
        name_zh="数据专业人员证书",
        description_en="Awarded by itself on completing the three data micro-credentials.",
        description_zh="完成三门数据微证书后自动颁发。",
        criteria_en="Hold all three data micro-credentials of the pathway.",
        criteria_zh="获得本路径的全部三门数据微证书。",
        achievement_type="Certificate",
    )
    draft = badge_selectors.draft_of(target)
    assert draft is not None  # noqa: S101 - create_achievement always makes one
    achievement_services.publish_version(actor=owner, version=draft)
    return pathway_services.create_pathway(
        actor=owner,
        institution=issuer.institution,
        title_en=PATHWAY_TITLE,
        title_zh="数据专业人员路径",
        target=target,
        root=GroupSpec(rule="all", achievements=parts),
    )


EQUIVALENCE_TITLE = "Growsafe Standard"


def _equivalence(owner: User, institution: Institution) -> EquivalenceStatement:
    """One published statement in the shape of NZQA's register of equivalency (research
    frameworks.md §1.5: Growsafe Standard, NZQF level 3, 10 credits)."""
    found = EquivalenceStatement.objects.filter(
        institution=institution, title=EQUIVALENCE_TITLE
    ).first()
    if found is not None:
        return found
    statement = equivalence_services.create_statement(
        actor=owner,
        institution=institution,
        data=equivalence_services.StatementData(
            provider_name="NZ Agrichemical Education Trust",
            title=EQUIVALENCE_TITLE,
            authority="NZQA",
            link="https://www2.nzqa.govt.nz/tertiary/approval-accreditation-and-registration/"
            "micro-credentials/micro-credential-equivalency",
            level=FrameworkLevel.objects.get(framework__code="nzqcf", code="3"),
            credit_system=CreditSystem.objects.get(code="nzqcf-credit"),
            credits=Decimal(10),
            rationale="Listed in NZQA's register of equivalency at NZQF level 3 with 10 "
            "credits; we recognise the same credit (level and credit only, not delivery).",
            valid_from=datetime.date(2024, 1, 1),
            valid_until=datetime.date(2028, 12, 31),
        ),
    )
    return equivalence_services.publish_statement(actor=owner, statement=statement)


def seed_frameworks_demo(*, owner: User, awarder: User, issuer_slug: str) -> list[str]:
    """Create the demo micro-credentials placed in frameworks, a pathway of all three, and
    their awards; the demo learner who holds all three gets the pathway award on commit."""
    catalogue_services.load_reference_data()
    issuer = Issuer.objects.get(slug=issuer_slug)
    framework = competency_services.import_competency_framework(
        actor=owner,
        institution=issuer.institution,
        content=ESCO_DEMO_CSV.encode(),
        filename="skills_en.csv",
    )
    achievements = [_create(owner, issuer, framework, spec) for spec in DEMO]
    pathway = _pathway(owner, issuer, achievements)
    statement = _equivalence(owner, issuer.institution)
    lines: list[str] = []
    for spec, achievement in zip(DEMO, achievements, strict=True):
        version = badge_selectors.latest_published(achievement)
        for email, name, language, *partial in spec["awards"]:
            if (
                version is None
                or Award.objects.filter(
                    achievement_version__achievement=achievement, recipient_email=email
                ).exists()
            ):
                continue
            try:
                awarding_services.award_badge(
                    actor=awarder,
                    version=version,
                    email=email,
                    name=name,
                    language=language,
                    credits_earned=partial[0] if partial else None,
                )
            except SigningUnavailable as error:
                return [*lines, f"Demo framework awards skipped: {error}"]
        count = Award.objects.filter(achievement_version__achievement=achievement).count()
        lines.append(f"  {issuer.slug}/{achievement.slug}: {count} awarded")
    lines.append(f"  Pathway: {pathway.title_en} (awarded by itself to {AROHA[0]})")
    lines.append(f"  Equivalence statement: {statement.title} ({statement.provider_name})")
    return lines
