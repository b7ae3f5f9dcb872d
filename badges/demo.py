"""Demo micro-credentials and awards for ``seed_demo`` (never loaded in production).

Written through ``badges.services`` like any staff action; running it again adds nothing.
"""

from __future__ import annotations

from typing import Any

from accounts.models import User
from badges import services
from badges.models import Achievement, Award
from issuers.keys import SigningUnavailable
from issuers.models import Issuer

DEMO_ACHIEVEMENTS: list[dict[str, Any]] = [
    {
        "issuer": "demo-poly-engineering",
        "slug": "cnc-fundamentals",
        "name_en": "CNC Machining Fundamentals",
        "name_zh": "数控加工基础",
        "description_en": "Sets up, programs and safely runs a three-axis CNC mill.",
        "description_zh": "能够设置、编程并安全操作三轴数控铣床。",
        "criteria_en": (
            "- Write a G-code program for a given part\n"
            "- Pass the **practical assessment** (tolerance ±0.1 mm)\n"
            "- Complete the workshop safety induction"
        ),
        "criteria_zh": (
            "- 为指定零件编写 G 代码程序\n- 通过**实操考核**（公差 ±0.1 毫米）\n- 完成车间安全培训"
        ),
        "evidence_required_en": "Photos of the finished part and the signed assessment sheet.",
        "evidence_required_zh": "成品零件照片和签字的考核表。",
        "tags": ["CNC", "manufacturing", "数控"],
        "validity_days": 1095,
        "result_descriptions": [
            {
                "name_en": "Practical result",
                "name_zh": "实操结果",
                "result_type": "Status",
                "allowed_values": ["Competent", "Not yet competent"],
            }
        ],
        "change_note": "First edition.",
        # A second version, to show what changed between versions on the public page.
        "next": {
            "validity_days": 730,
            "criteria_en": (
                "- Write a G-code program for a given part\n"
                "- Pass the **practical assessment** (tolerance ±0.05 mm)\n"
                "- Complete the workshop safety induction"
            ),
            "criteria_zh": (
                "- 为指定零件编写 G 代码程序\n- 通过**实操考核**（公差 ±0.05 毫米）\n- 完成车间安全培训"
            ),
            "change_note": "Tighter tolerance; valid for two years. 公差更严，有效期两年。",
        },
    },
    {
        "issuer": "demo-poly-continuing",
        "slug": "data-literacy",
        "name_en": "Data Literacy for Professionals",
        "name_zh": "职场数据素养",
        "description_en": "Reads, cleans and explains a data set to a non-specialist audience.",
        "description_zh": "能够读取、清理数据集，并向非专业受众解释结果。",
        "criteria_en": "Submit a short **data story** and pass the online quiz (70 % or more).",
        "criteria_zh": "提交一篇简短的**数据故事**，并通过在线测验（70% 及以上）。",
        "tags": ["data", "数据"],
        "validity_days": None,
        "result_descriptions": [],
        "change_note": "",
    },
]

DEMO_AWARDS: list[dict[str, Any]] = [
    {
        "issuer": "demo-poly-engineering",
        "achievement": "cnc-fundamentals",
        "email": "mere.learner@demo.insignia.test",
        "name": "Mere Learner",
        "language": "en",
        "narrative": "Machined the bracket within tolerance on the first attempt.",
        "evidence": [("https://demo-poly.example/portfolio/mere/bracket", "Finished bracket")],
    },
    {
        "issuer": "demo-poly-continuing",
        "achievement": "data-literacy",
        "email": "li.wei@demo.insignia.test",
        "name": "李伟",
        "language": "zh-Hans",
        "narrative": "数据故事清晰地解释了本地公交客流的变化。",
        "evidence": [("", "在线测验成绩：92%")],
    },
]


def _achievement(owner: User, spec: dict[str, Any]) -> Achievement:
    issuer = Issuer.objects.get(slug=spec["issuer"])
    found = Achievement.objects.filter(issuer=issuer, slug=spec["slug"]).first()
    if found is not None:
        return found
    content = {k: v for k, v in spec.items() if k not in {"issuer", "slug", "next"}}
    found = services.create_achievement(actor=owner, issuer=issuer, slug=spec["slug"], **content)
    draft = services.draft_of(found)
    assert draft is not None  # noqa: S101 - create_achievement always makes one
    services.publish_version(actor=owner, version=draft)
    if "next" in spec:
        services.save_draft(actor=owner, achievement=found, **spec["next"])
        second = services.draft_of(found)
        assert second is not None  # noqa: S101 - save_draft just made it
        services.publish_version(actor=owner, version=second)
    return found


def seed_badges(*, owner: User, awarder: User) -> list[str]:
    """Create the demo micro-credentials and awards; return lines to print."""
    achievements = {(s["issuer"], s["slug"]): _achievement(owner, s) for s in DEMO_ACHIEVEMENTS}
    lines = []
    for spec in DEMO_AWARDS:
        achievement = achievements[(spec["issuer"], spec["achievement"])]
        if Award.objects.filter(
            achievement_version__achievement=achievement, recipient_email=spec["email"]
        ).exists():
            continue
        version = services.latest_published(achievement)
        assert version is not None  # noqa: S101 - published just above
        try:
            services.award_badge(
                actor=awarder,
                version=version,
                email=spec["email"],
                name=spec["name"],
                language=spec["language"],
                narrative=spec["narrative"],
                evidence=[services.EvidenceItem(url=u, narrative=n) for u, n in spec["evidence"]],
            )
        except SigningUnavailable as error:
            lines.append(f"Demo awards skipped: {error}")
            break
    for achievement in achievements.values():
        awards = Award.objects.filter(achievement_version__achievement=achievement)
        lines.append(f"  {achievement.issuer.slug}/{achievement.slug}: {awards.count()} awarded")
    return lines
