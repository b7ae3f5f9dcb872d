"""Demo micro-credentials and awards for ``seed_demo`` (never loaded in production).

Written through the same services as any staff action; running it again adds nothing.
"""

from __future__ import annotations

import io
import math
from typing import Any

from PIL import Image, ImageDraw

from accounts.models import User
from achievements import services as achievement_services
from awarding import services as awarding
from badges import selectors
from badges.models import Achievement, Award, IdentifierType
from badges.services import EvidenceItem
from issuers.keys import SigningUnavailable
from issuers.models import Issuer


def cnc_badge_png() -> bytes:
    """The demo CNC badge: a steel-blue hexagon with a gear, drawn so the seed needs no files."""
    size, scale = 400, 4
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre = big / 2

    def polygon(radius: float, sides: int, turn: float = 0.0) -> list[tuple[float, float]]:
        return [
            (
                centre + radius * math.cos(turn + 2 * math.pi * i / sides),
                centre + radius * math.sin(turn + 2 * math.pi * i / sides),
            )
            for i in range(sides)
        ]

    draw.polygon(polygon(big * 0.49, 6, math.pi / 6), fill=(31, 78, 121))
    draw.polygon(polygon(big * 0.43, 6, math.pi / 6), fill=(255, 255, 255))
    draw.polygon(polygon(big * 0.40, 6, math.pi / 6), fill=(44, 110, 165))
    step = 2 * math.pi / 10
    teeth = [
        (
            centre + big * radius * math.cos(i * step + k * step),
            centre + big * radius * math.sin(i * step + k * step),
        )
        for i in range(10)
        for radius, k in ((0.22, -0.3), (0.29, -0.17), (0.29, 0.17), (0.22, 0.3))
    ]
    draw.polygon(teeth, fill=(255, 255, 255))
    draw.ellipse(
        (centre - big * 0.2, centre - big * 0.2, centre + big * 0.2, centre + big * 0.2),
        fill=(255, 255, 255),
    )
    draw.ellipse(
        (centre - big * 0.08, centre - big * 0.08, centre + big * 0.08, centre + big * 0.08),
        fill=(44, 110, 165),
    )
    buffer = io.BytesIO()
    image.resize((size, size), Image.Resampling.LANCZOS).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# The demo data-literacy badge is an SVG, so both image formats get baked in the demo.
DATA_BADGE_SVG = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400">
  <title>Data Literacy</title>
  <circle cx="200" cy="200" r="196" fill="#0b6e4f"/>
  <circle cx="200" cy="200" r="172" fill="none" stroke="#ffffff" stroke-width="8"/>
  <rect x="110" y="210" width="40" height="80" rx="4" fill="#ffffff"/>
  <rect x="180" y="160" width="40" height="130" rx="4" fill="#ffffff"/>
  <rect x="250" y="110" width="40" height="180" rx="4" fill="#ffffff"/>
  <path d="M100 190 L170 140 L220 160 L300 90" fill="none" stroke="#f2c14e" stroke-width="10"
        stroke-linecap="round" stroke-linejoin="round"/>
</svg>
"""


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
        "image": cnc_badge_png,
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
                "- 为指定零件编写 G 代码程序\n"
                "- 通过**实操考核**（公差 ±0.05 毫米）\n"
                "- 完成车间安全培训"
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
        "image": DATA_BADGE_SVG,
        "validity_days": None,
        "result_descriptions": [],
        "change_note": "",
    },
]

#: The demo identity provider's learner1 has this student number at the demo institution.
DEMO_STUDENT_ID = "20261234"

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
    # Awarded to a student number only (no e-mail, so none is sent): it reaches learner1
    # when they sign in through the demo institution's identity provider, which vouches for
    # student number 20261234.
    {
        "issuer": "demo-poly-engineering",
        "achievement": "cnc-fundamentals",
        "email": "",
        "student_id": DEMO_STUDENT_ID,
        "name": "Learner One",
        "language": "en",
        "narrative": "Completed the workshop safety induction and the practical assessment.",
        "evidence": [],
    },
]


def _achievement(owner: User, spec: dict[str, Any]) -> Achievement:
    issuer = Issuer.objects.get(slug=spec["issuer"])
    found = Achievement.objects.filter(issuer=issuer, slug=spec["slug"]).first()
    if found is not None:
        return found
    content = {k: v for k, v in spec.items() if k not in {"issuer", "slug", "next", "image"}}
    image = spec["image"]() if callable(spec.get("image")) else spec.get("image")
    found = achievement_services.create_achievement(
        actor=owner, issuer=issuer, slug=spec["slug"], image=image, **content
    )
    draft = selectors.draft_of(found)
    assert draft is not None  # noqa: S101 - create_achievement always makes one
    achievement_services.publish_version(actor=owner, version=draft)
    if "next" in spec:
        achievement_services.save_draft(actor=owner, achievement=found, **spec["next"])
        second = selectors.draft_of(found)
        assert second is not None  # noqa: S101 - save_draft just made it
        achievement_services.publish_version(actor=owner, version=second)
    return found


def seed_badges(*, owner: User, awarder: User) -> list[str]:
    """Create the demo micro-credentials and awards; return lines to print."""
    achievements = {(s["issuer"], s["slug"]): _achievement(owner, s) for s in DEMO_ACHIEVEMENTS}
    lines = []
    for spec in DEMO_AWARDS:
        achievement = achievements[(spec["issuer"], spec["achievement"])]
        student_id = spec.get("student_id", "")
        if Award.objects.filter(
            achievement_version__achievement=achievement,
            recipient_email=spec["email"],
            recipient_identifier=student_id,
        ).exists():
            continue
        version = selectors.latest_published(achievement)
        assert version is not None  # noqa: S101 - published just above
        try:
            awarding.award_badge(
                actor=awarder,
                version=version,
                email=spec["email"],
                identifier_type=IdentifierType.STUDENT_ID if student_id else "",
                identifier=student_id,
                name=spec["name"],
                language=spec["language"],
                narrative=spec["narrative"],
                evidence=[EvidenceItem(url=u, narrative=n) for u, n in spec["evidence"]],
            )
        except SigningUnavailable as error:
            lines.append(f"Demo awards skipped: {error}")
            break
    for achievement in achievements.values():
        awards = Award.objects.filter(achievement_version__achievement=achievement)
        lines.append(f"  {achievement.issuer.slug}/{achievement.slug}: {awards.count()} awarded")
    return lines
