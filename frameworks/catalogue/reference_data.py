"""The reference data the catalogue starts with: credit systems, qualification frameworks and
their levels, dated conversion rules and micro-credential policies, as plain tables.

``frameworks.catalogue.services.load_reference_data`` stores them (``manage.py
seed_frameworks``, ``seed_demo``); keyed on codes, so loading again updates in place.
Sources: research frameworks.md §1 (NZQF), §2 (EU), §3 (CICan), §4 (AQF, CATS, ECTS, US).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

CREDIT_SYSTEMS: list[dict[str, Any]] = [
    {
        "code": "nzqcf-credit",
        "name_en": "NZQCF credit",
        "name_zh": "新西兰资历学分",
        "unit_en": "NZQCF credits",
        "unit_zh": "新西兰资历学分",
        "hours_per_unit_min": Decimal(10),
        "hours_per_unit_max": Decimal(10),
        "hours_basis": "notional",
        "units_per_fte_year": Decimal(120),
        "decimal_places": 0,
        "source_url": "https://www.nzqa.govt.nz/about-us/publications/newsletters-and-circulars/"
        "assessment-matters/credit-value/",
    },
    {
        "code": "ects",
        "name_en": "European Credit Transfer and Accumulation System",
        "name_zh": "欧洲学分转换与累积系统",
        "unit_en": "ECTS credits",
        "unit_zh": "ECTS 学分",
        "hours_per_unit_min": Decimal(25),
        "hours_per_unit_max": Decimal(30),
        "hours_basis": "notional",
        "units_per_fte_year": Decimal(60),
        "decimal_places": 1,
        "source_url": "https://education.ec.europa.eu/education-levels/higher-education/"
        "inclusive-and-connected-higher-education/european-credit-transfer-and-accumulation-system",
    },
    {
        "code": "uk-credit",
        "name_en": "UK credit (CATS)",
        "name_zh": "英国学分（CATS）",
        "unit_en": "UK credits",
        "unit_zh": "英国学分",
        "hours_per_unit_min": Decimal(10),
        "hours_per_unit_max": Decimal(10),
        "hours_basis": "notional",
        "units_per_fte_year": Decimal(120),
        "decimal_places": 0,
        "source_url": "https://www.qaa.ac.uk/docs/qaa/quality-code/higher-education-credit-framework-for-england.pdf",
    },
    {
        "code": "scqf-credit",
        "name_en": "SCQF credit point",
        "name_zh": "苏格兰学分点",
        "unit_en": "SCQF credit points",
        "unit_zh": "SCQF 学分点",
        "hours_per_unit_min": Decimal(10),
        "hours_per_unit_max": Decimal(10),
        "hours_basis": "notional",
        "units_per_fte_year": Decimal(120),
        "decimal_places": 0,
        "source_url": "https://scqf.org.uk/about-the-framework/interactive-framework/",
    },
    {
        "code": "us-sch",
        "name_en": "US semester credit hour",
        "name_zh": "美国学期学分时",
        "unit_en": "semester credit hours",
        "unit_zh": "学期学分时",
        "hours_per_unit_min": Decimal(45),
        "hours_per_unit_max": Decimal(45),
        "hours_basis": "mixed",
        "units_per_fte_year": Decimal(30),
        "decimal_places": 1,
        "source_url": "https://www.ecfr.gov/current/title-34/subtitle-B/chapter-VI/part-600/"
        "subpart-A/section-600.2",
    },
]

EQF_URI = "http://data.europa.eu/snb/eqf/"

FRAMEWORKS: list[dict[str, Any]] = [
    {
        "code": "nzqcf",
        "short_name": "NZQCF",
        "name_en": "New Zealand Qualifications and Credentials Framework",
        "name_zh": "新西兰资历与证书框架",
        "kind": "national",
        "jurisdiction": "NZ",
        "credit": "nzqcf-credit",
        "levels": range(1, 11),
        "source_url": "https://www2.nzqa.govt.nz/qualifications-and-standards/"
        "qualifications-and-credentials/nzqcf/",
    },
    {
        "code": "eqf",
        "short_name": "EQF",
        "name_en": "European Qualifications Framework",
        "name_zh": "欧洲资历框架",
        "kind": "meta",
        "jurisdiction": "EU",
        "credit": "ects",
        "levels": range(1, 9),
        "level_uri": EQF_URI,
        "uri": "http://data.europa.eu/snb/eqf/25831c2",
        "source_url": "https://europass.europa.eu/en/europass-digital-tools/"
        "european-qualifications-framework",
    },
    {
        "code": "aqf",
        "short_name": "AQF",
        "name_en": "Australian Qualifications Framework",
        "name_zh": "澳大利亚资历框架",
        "kind": "national",
        "jurisdiction": "AU",
        "credit": None,
        "levels": range(1, 11),
        "source_url": "https://www.aqf.edu.au/framework/aqf-levels",
    },
    {
        "code": "fheq",
        "short_name": "FHEQ",
        "name_en": "Framework for Higher Education Qualifications (England, Wales, NI)",
        "name_zh": "英国高等教育资历框架",
        "kind": "national",
        "jurisdiction": "GB",
        "credit": "uk-credit",
        "levels": range(4, 9),
        "source_url": "https://www.qaa.ac.uk/the-quality-code/qualifications-frameworks",
    },
    {
        "code": "scqf",
        "short_name": "SCQF",
        "name_en": "Scottish Credit and Qualifications Framework",
        "name_zh": "苏格兰学分与资历框架",
        "kind": "national",
        "jurisdiction": "GB",
        "credit": "scqf-credit",
        "levels": range(1, 13),
        "source_url": "https://scqf.org.uk/about-the-framework/interactive-framework/",
    },
]

# Conversions are explicit and dated, and each states its basis (research §0.3, §4.5).
CONVERSIONS: list[dict[str, Any]] = [
    {
        "from": "nzqcf-credit",
        "to": "ects",
        "factor": Decimal("0.5"),
        "basis": "fte_year",
        "valid_from": datetime.date(2022, 6, 16),
        "note": "120 NZQCF credits and 60 ECTS credits are each one full-time year.",
    },
    {
        "from": "uk-credit",
        "to": "ects",
        "factor": Decimal("0.5"),
        "basis": "agreement",
        "valid_from": datetime.date(2009, 1, 1),
        "note": "QAA: two UK credits are one ECTS credit.",
    },
    {
        "from": "scqf-credit",
        "to": "ects",
        "factor": Decimal("0.5"),
        "basis": "agreement",
        "valid_from": datetime.date(2009, 1, 1),
        "note": "SCQF: two SCQF credit points are one ECTS credit.",
    },
    {
        "from": "us-sch",
        "to": "ects",
        "factor": Decimal(2),
        "basis": "fte_year",
        "valid_from": datetime.date(2022, 6, 16),
        "note": "30 semester credit hours and 60 ECTS credits are each one full-time year.",
    },
]

POLICIES: list[dict[str, Any]] = [
    {
        "code": "nzqcf-micro",
        "name_en": "NZQCF micro-credential",
        "name_zh": "新西兰资历框架微证书",
        "framework": "nzqcf",
        "credit_system": "nzqcf-credit",
        "min_credits": Decimal(5),
        "max_credits": Decimal(40),
        "whole_credits": True,
        "level_required": True,
        "required_fields": ["learning_outcomes"],
        "source_url": "https://www2.nzqa.govt.nz/tertiary/approval-accreditation-and-"
        "registration/micro-credentials/",
    },
    {
        "code": "eu-annex-i",
        "name_en": "EU micro-credential (Annex I)",
        "name_zh": "欧盟微证书（附件一）",
        "credit_system": "ects",
        "required_fields": [
            "learning_outcomes",
            "workload",
            "assessment_type",
            "participation",
            "quality_assurance",
        ],
        "source_url": "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32022H0627(02)",
    },
    {
        "code": "aqf-nmf",
        "name_en": "AQF National Microcredentials Framework",
        "name_zh": "澳大利亚国家微证书框架",
        "min_hours": Decimal(1),
        "required_fields": ["learning_outcomes", "assessment_type"],
        "source_url": "https://www.education.gov.au/higher-education-publications/resources/"
        "national-microcredentials-framework",
    },
    {
        "code": "cican",
        "name_en": "CICan micro-credential",
        "name_zh": "加拿大学院协会微证书",
        "required_fields": ["learning_outcomes", "competency_alignment", "assessment_type"],
        "source_url": "https://www.collegesinstitutes.ca/policy-focus/micro-credentials/",
    },
]
