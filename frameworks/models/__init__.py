"""Qualification frameworks, credit systems, micro-credential policies, competencies and the
placement of an achievement version in them (research frameworks.md §0, §9).

A framework (levels) and a credit system (credits) are modelled separately (§0.1). Credit
conversions exist only as explicit, dated rules that state their basis (§0.3). Policies are
data (§0.2), chosen per institution. Competency items keep the URIs of their source (§0.5).
A ``Placement`` belongs to one ``AchievementVersion``; once that version is published the
placement is frozen with it (``frameworks.catalogue.services``).
"""

from frameworks.models.pathways import (
    Pathway,
    PathwayCompletion,
    Requirement,
    RequirementGroup,
)
from frameworks.models.placement import (
    AssessmentType,
    CompetencyAlignment,
    CreditValue,
    LevelPlacement,
    Participation,
    Placement,
    Stackability,
    Supervision,
)
from frameworks.models.recognition import (
    CaseEvidence,
    EquivalenceStatement,
    RecognitionCase,
    RecognitionDecision,
)
from frameworks.models.reference import (
    CompetencyFramework,
    CompetencyItem,
    CreditConversion,
    CreditSystem,
    FrameworkLevel,
    MicroCredentialPolicy,
    PolicyChoice,
    QualificationsFramework,
)

__all__ = [
    "AssessmentType",
    "CaseEvidence",
    "CompetencyAlignment",
    "CompetencyFramework",
    "CompetencyItem",
    "CreditConversion",
    "CreditSystem",
    "CreditValue",
    "EquivalenceStatement",
    "FrameworkLevel",
    "LevelPlacement",
    "MicroCredentialPolicy",
    "Participation",
    "Pathway",
    "PathwayCompletion",
    "Placement",
    "PolicyChoice",
    "QualificationsFramework",
    "RecognitionCase",
    "RecognitionDecision",
    "Requirement",
    "RequirementGroup",
    "Stackability",
    "Supervision",
]
