"""Grow a PostgreSQL database to N awards (1,000,000 by default), shaped as the platform's own
award path leaves them, for the public-page, verify and console benchmarks.

    .venv/bin/python bench/seed_scale.py [--awards 1000000] [--issuers 8] [--achievements 24]
        [--database-url postgres://postgres@127.0.0.1:5432/insignia_scale] [--append]

Without ``--append`` the database is dropped, created and migrated; with it, an existing
seeded database grows until it holds ``--awards`` awards. One JSON object per line: the
phases, progress every chunk (rows/s) and the totals.

What it writes, in order:

1. **The cast**, through the platform's services: institutions (half as many as issuers),
   their issuers (each with its signing key), an owner and an awarder each, and
   ``--achievements`` micro-credentials spread over the issuers, each placed in a reference
   framework (level, credits, hours) and published; every other one has a second published
   version. Only the version dates are then moved back, so the awards can span three years.
2. **A genuinely signed sample** of ``--signed`` awards (2,000 by default) through
   ``awarding.services.award_badges``: built, signed by the issuer's key, status-indexed and
   e-mailed exactly as the console does it; a few of them are then revoked and suspended
   through ``awarding.revocation.services``. These are the only awards whose proofs verify:
   their ids are in the table ``bench_seed_signed`` (``award_id``), for the benchmarks that
   verify (``bench/public_load.py``).
3. **The rest, in bulk**, with ``COPY`` (psycopg ``cursor.copy``), one transaction per chunk,
   every index, unique and foreign-key constraint in place and checked by PostgreSQL. Each
   credential is built by the platform's builder (``openbadges.ob3.build_credential`` with
   the issuer profile and achievement ``award_badges`` would use) and carries a proof of the
   same structure and size as a real one (its issuer's ``verificationMethod``, ``created``,
   a random 64-byte ``proofValue``), but that proof is **not valid**: at about 1 ms a
   signature on the platform's templated path, a million take some 17 minutes of a core on
   top of everything else, and the sample is what a benchmark that verifies needs (a
   verifier that trusts the stored text never looks at the proof). Status entries are the
   platform's own: ``badges.statuslists.services.allocate_many`` draws them for each chunk in
   its transaction (opening and filling lists as the award path does), and the lists of the
   awards seeded revoked or suspended are marked changed by its ``mark_changed``, as
   ``set_status`` does (their bits and version; re-signed after commit). Alongside:
   a realistic mix of states (about 3 % revoked and 1.5 % suspended, with their status
   events and audit rows; expired ones follow from the versions' validity; a few superseded
   by an approved identity change and a few expired ones re-issued), evidence and results,
   the "issued" e-mails (and some reminders), learners' accounts and badge preferences for
   a tenth of the addresses, and the anonymous view events (about 1.5 per award).
4. ``ANALYZE``.

Columns are discovered from the models (Django ``_meta``): a column this script does not
know gets the field's default (a callable default is called per row), so a new field with a
default does not break it; one without a default stops it with a message.

``--append`` migrates the database first (so an older seeded database follows the code),
tops the signed sample up to ``--signed``, then adds bulk awards. The
database is a benchmark's: its signing keys are sealed with the test suite's public
key-encryption key (:data:`KEK`) and its base URL is ``--base-url``
(``https://scale.insignia.test``, kept in the table ``bench_seed_meta``);
``bench/public_load.py`` serves it with both.

About 1,200 lines, most of them one column or value per line: the cast, the signed sample,
and for each bulk table the rows a real award would have written, with the reason each looks
the way it does.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/insignia_scale"
DEFAULT_BASE_URL = "https://scale.insignia.test"
#: The test suite's public key-encryption key (``insignia.settings``): a benchmark database's
#: keys protect nothing.
KEK = "dGVzdC1vbmx5LWtleS1lbmNyeXB0aW9uLWtleS0zMmI"
SLUG_PREFIX = "scale-"
YEARS = 3

FIRST_EN = ["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Riley", "Casey", "Jamie", "Avery"]
FIRST_EN += ["Quinn", "Harper", "Rowan", "Elliot", "Hana", "Mei", "Aroha", "Tane", "Priya"]
LAST_EN = ["Smith", "Chen", "Wang", "Ngata", "Patel", "Brown", "Li", "Kim", "Walker", "Singh"]
LAST_EN += ["Zhang", "Liu", "Wilson", "Taylor", "Nguyen", "Huang", "Martin", "Clark"]
NAMES_ZH = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周婷", "吴军"]
SUBJECTS = [
    ("Data Literacy", "数据素养"),
    ("Academic Writing", "学术写作"),
    ("Workplace Safety", "职业安全"),
    ("Python Programming", "Python 编程"),
    ("Project Management", "项目管理"),
    ("Te Reo Māori Basics", "毛利语基础"),
    ("Digital Marketing", "数字营销"),
    ("First Aid", "急救"),
    ("Sustainable Design", "可持续设计"),
    ("Customer Service", "客户服务"),
    ("Financial Literacy", "金融素养"),
    ("Intercultural Communication", "跨文化交流"),
]
REASONS_REVOKED = ["Issued in error.", "Academic misconduct.", "Duplicate award."]
REASONS_SUSPENDED = ["Under review.", "Assessment appeal in progress."]
CHANNELS = [("direct", 50), ("linkedin", 20), ("qr", 10), ("embed", 5), ("api", 15)]


def emit(**fields: Any) -> None:
    print(json.dumps({"bench": "seed_scale", **fields}, default=str), flush=True)


def configure(url: str, base_url: str) -> None:
    """Django with the test settings on ``url``: the platform's code, a fixed base URL and the
    public test key-encryption key, mail and tasks in process."""
    os.environ.update(
        {
            "INSIGNIA_ENV": "test",
            "DJANGO_SETTINGS_MODULE": "insignia.settings",
            "DATABASE_URL": url,
            "INSIGNIA_BASE_URL": base_url,
            "INSIGNIA_KEY_ENCRYPTION_KEY": KEK,
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "BULK_BACKGROUND_THREAD": "false",
            "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


# --------------------------------------------------------------------------------------------
# Tables: columns from the models, COPY
# --------------------------------------------------------------------------------------------


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _each_time(field: Any, connection: Any) -> Callable[[], Any]:
    """A callable default (a new uuid, the time), called for each row."""
    return lambda: field.get_db_prep_save(field.get_default(), connection=connection)


class Table:
    """COPY into one model's table: the columns this script gives (``given``, attribute names,
    in row order), then every other concrete column with its field's default."""

    def __init__(self, model: Any, given: Sequence[str]) -> None:
        from django.db import connection
        from django.db.models import AutoField, BigAutoField, SmallAutoField

        self.model = model
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = set(given) - set(fields)
        if unknown:
            raise SystemExit(f"seed_scale: {model.__name__} has no field {sorted(unknown)}")
        auto = (AutoField, BigAutoField, SmallAutoField)
        rest = [
            f
            for name, f in fields.items()
            if name not in given and not (f.primary_key and isinstance(f, auto))
        ]
        self.columns = [fields[name].column for name in given] + [f.column for f in rest]
        self.fillers: list[Callable[[], Any]] = []
        for f in rest:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self.fillers.append(_constant(datetime.now(UTC)))
            elif f.has_default() and callable(f.default):
                self.fillers.append(_each_time(f, connection))
            elif f.has_default() or f.null or (f.empty_strings_allowed and f.blank):
                self.fillers.append(
                    _constant(f.get_db_prep_save(f.get_default(), connection=connection))
                )
            else:
                raise SystemExit(
                    f"seed_scale: {model.__name__}.{f.name} has no default; teach "
                    "bench/seed_scale.py what a real award writes there"
                )
        self.constant = all(
            not (f.has_default() and callable(f.default))
            and not getattr(f, "auto_now", False)
            and not getattr(f, "auto_now_add", False)
            for f in rest
        )

    def copy(self, rows: Iterable[Sequence[Any]]) -> int:
        from django.db import connection
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(self.model._meta.db_table),
            sql.SQL(", ").join(sql.Identifier(c) for c in self.columns),
        )
        tail = tuple(fill() for fill in self.fillers) if self.constant else None
        count = 0
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                extra = tail if tail is not None else tuple(fill() for fill in self.fillers)
                copy.write_row((*row, *extra))
                count += 1
        return count


def ensure_bench_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_seed_signed (award_id uuid PRIMARY KEY)")
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_seed_meta (key text PRIMARY KEY, value jsonb)"
        )


def signed_ids(limit: int | None = None) -> list[uuid.UUID]:
    """Awards whose credential is genuinely signed (the sample), oldest first."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT award_id FROM bench_seed_signed ORDER BY award_id LIMIT %s", [limit])
        return [row[0] for row in cursor.fetchall()]


# --------------------------------------------------------------------------------------------
# The cast
# --------------------------------------------------------------------------------------------


@dataclass
class Shape:
    """One published version and what its credentials share: built once."""

    version: Any
    issuer: Any
    key: Any
    awarder_id: int
    institution_id: int
    languages: list[str]
    achievements: dict[str, Any]
    profiles: dict[str, Any]
    result_id: str
    result_values: list[str]
    validity: timedelta | None
    published: datetime
    target: str
    weight: int = 1


@dataclass
class Cast:
    shapes: list[Shape]
    proofs: dict[int, dict[str, Any]] = field(default_factory=dict)  # issuer id → proof shape


def _png(colour: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def create_cast(issuers: int, achievements: int, rng: random.Random) -> None:
    """Institutions, issuers, staff and published, placed micro-credentials (services)."""
    from accounts.models import User
    from achievements import services as achievement_services
    from badges import selectors
    from badges.models import AchievementVersion
    from frameworks.catalogue.services import Credit, load_reference_data, save_placement
    from frameworks.models import CreditSystem, FrameworkLevel
    from issuers import services as issuer_services
    from issuers.models import Membership, Role

    load_reference_data()
    frameworks = [("nzqcf", "nzqcf-credit", "15"), ("eqf", "ects", "5"), ("aqf", None, None)]
    institutions = []
    for n in range((issuers + 1) // 2):
        owner = User.objects.create_user(f"owner{n}@scale{n}.example.edu", None, name=f"Owner {n}")
        institution = issuer_services.create_institution(
            slug=f"{SLUG_PREFIX}inst-{n}",
            name_en=f"Scale Institute {n}",
            name_zh=f"规模学院 {n}",
            country="NZ",
            website=f"https://scale{n}.example.edu/",
            owner=owner,
        )
        awarder = User.objects.create_user(
            f"awarder{n}@scale{n}.example.edu", None, name=f"Awarder {n}"
        )
        Membership.objects.create(user=awarder, institution=institution, role=Role.AWARDER)
        institutions.append((institution, owner))
    made = []
    for n in range(issuers):
        institution, owner = institutions[n // 2]
        made.append(
            (
                issuer_services.create_issuer(
                    actor=owner,
                    institution=institution,
                    slug=f"{SLUG_PREFIX}issuer-{n}",
                    name_en=f"Faculty {n} of {institution.name_en}",
                    name_zh=f"{institution.name_zh} 第 {n} 学部",
                    url=f"https://scale{n}.example.edu/faculty/",
                    email=f"badges@faculty{n}.example.edu",
                ),
                owner,
            )
        )
    for n in range(achievements):
        issuer, owner = made[n % len(made)]
        name_en, name_zh = SUBJECTS[n % len(SUBJECTS)]
        level_code, credit_code, amount = frameworks[n % len(frameworks)]
        achievement = achievement_services.create_achievement(
            actor=owner,
            issuer=issuer,
            slug=f"micro-{n}",
            image=_png((rng.randrange(256), rng.randrange(256), rng.randrange(256))),
            name_en=f"{name_en} {n}",
            name_zh=f"{name_zh} {n}",
            description_en=f"Shows {name_en.lower()} at work, assessed in practice.",
            description_zh=f"在实践中展示{name_zh}能力。",
            criteria_en="Complete the **assessed project** and the reflection.",
            criteria_zh="完成**考核项目**和反思报告。",
            tags=[name_en.split()[0].lower(), "micro-credential"],
            validity_days=(365, 730, None)[n % 3],
            result_descriptions=[
                {
                    "name_en": "Grade",
                    "name_zh": "成绩",
                    "result_type": "LetterGrade",
                    "allowed_values": ["A", "B", "C"],
                }
            ]
            if n % 2
            else [],
        )
        for number in (1, 2) if n % 2 == 0 else (1,):
            draft = selectors.draft_of(achievement) or achievement_services.save_draft(
                actor=owner, achievement=achievement, criteria_en="Complete the project."
            )
            levels = list(FrameworkLevel.objects.filter(framework__code=level_code, code="5")[:1])
            credits = (
                [Credit(CreditSystem.objects.get(code=credit_code), Decimal(amount))]
                if credit_code and amount
                else []
            )
            save_placement(
                actor=owner,
                version=draft,
                levels=levels,
                credits=credits,
                notional_hours=Decimal(150),
                outcomes_en="Plans the work.\nExplains the result.",
                assessment_type="portfolio",
                participation="blended",
            )
            achievement_services.publish_version(
                actor=owner, version=draft, change_note=f"Edition {number}"
            )
    # Only the dates move back, so that awards can span the years a real platform has run.
    now = datetime.now(UTC)
    start = now - timedelta(days=365 * YEARS + 30)
    AchievementVersion.objects.filter(number=1).update(published_at=start, created_at=start)
    later = now - timedelta(days=365)
    AchievementVersion.objects.filter(number=2).update(published_at=later, created_at=later)


def load_cast() -> Cast:
    """Every published version of the seeded issuers, with what its credentials share."""
    from badges import credentials
    from badges.models import AchievementVersion, VersionStatus
    from frameworks.catalogue import export
    from frameworks.catalogue import selectors as catalogue_selectors
    from issuers import services as issuer_services
    from issuers.models import Membership, Role

    shapes: list[Shape] = []
    versions = (
        AchievementVersion.objects.filter(
            status=VersionStatus.PUBLISHED,
            achievement__issuer__slug__startswith=SLUG_PREFIX,
        )
        .select_related("achievement__issuer__institution")
        .order_by("achievement__issuer__slug", "achievement__slug", "number")
    )
    for version in versions:
        issuer = version.achievement.issuer
        placement = catalogue_selectors.placement_of(version)
        languages = version.languages()
        awarder = Membership.objects.filter(
            institution_id=issuer.institution_id, role=Role.AWARDER
        ).first()
        assert awarder is not None
        descriptions = version.result_descriptions or []
        shapes.append(
            Shape(
                version=version,
                issuer=issuer,
                key=issuer_services.active_key(issuer),
                awarder_id=awarder.user_id,
                institution_id=issuer.institution_id,
                languages=languages,
                achievements={
                    language: credentials.achievement(
                        version, language, export.framework_facts(placement, language)
                    )
                    for language in languages
                },
                profiles={
                    language: credentials.issuer_profile(issuer, language) for language in languages
                },
                result_id=credentials.result_description_id(credentials.version_url(version), 1),
                result_values=list(descriptions[0]["allowed_values"]) if descriptions else [],
                validity=timedelta(days=version.validity_days) if version.validity_days else None,
                published=version.published_at or version.created_at,
                target=f"{version.achievement} v{version.number}",
                # Some micro-credentials are far more popular than others.
                weight=1 + len(shapes) % 5,
            )
        )
    if not shapes:
        raise SystemExit("seed_scale: no seeded issuers here (run without --append first)")
    return Cast(shapes)


# --------------------------------------------------------------------------------------------
# Learners and awards, as values
# --------------------------------------------------------------------------------------------


@dataclass
class Planned:
    """One award about to be written, with what its credential and side rows say."""

    id: uuid.UUID
    shape: Shape
    email: str
    identifier_type: str
    identifier: str
    name: str
    language: str
    awarded_at: datetime
    valid_from: datetime
    valid_until: datetime | None
    status: str = "active"
    reason: str = ""
    changed_at: datetime | None = None
    evidence: list[tuple[str, str]] = field(default_factory=list)
    narrative: str = ""
    result: str = ""
    claimed_at: datetime | None = None
    awarded_by: int | None = None
    reissued_from: uuid.UUID | None = None
    superseded_by: uuid.UUID | None = None
    learner: int | None = None  # the pool index of the learner's address


def learner_email(index: int) -> str:
    first = FIRST_EN[index % len(FIRST_EN)].lower()
    last = LAST_EN[(index // len(FIRST_EN)) % len(LAST_EN)].lower()
    return f"{first}.{last}{index}@learners{index % 7}.example.org"


def learner_name(index: int, language: str) -> str:
    if language == "zh-Hans":
        return f"{NAMES_ZH[index % len(NAMES_ZH)]}{index % 100}"
    first = FIRST_EN[index % len(FIRST_EN)]
    return f"{first} {LAST_EN[(index // len(FIRST_EN)) % len(LAST_EN)]}"


class Planner:
    """Draws awards: who, which version, when, in which state (a seeded RNG: the same
    arguments give the same mix)."""

    def __init__(self, cast: Cast, rng: random.Random, pool: int, now: datetime) -> None:
        self.cast, self.rng, self.pool, self.now = cast, rng, max(pool, 1), now
        self.weights = [s.weight for s in cast.shapes]

    def _moment(self, after: datetime) -> datetime:
        span = max(1, int((self.now - after).total_seconds()) - 60)
        return (after + timedelta(seconds=self.rng.randrange(span))).replace(microsecond=0)

    def one(self) -> Planned:
        rng = self.rng
        shape = rng.choices(self.cast.shapes, self.weights)[0]
        learner = rng.randrange(self.pool)
        kind = rng.random()
        email = learner_email(learner) if kind < 0.9 else ""
        identifier_type, identifier = "", ""
        if kind >= 0.8:
            identifier_type = "studentId"
            identifier = f"{2020 + learner % 6}{learner:07d}"
        language = shape.languages[0] if rng.random() < 0.6 else shape.languages[-1]
        awarded = self._moment(shape.published)
        planned = Planned(
            id=uuid.uuid4(),
            shape=shape,
            email=email,
            identifier_type=identifier_type,
            identifier=identifier,
            name=learner_name(learner, language) if rng.random() < 0.95 else "",
            language=language,
            awarded_at=awarded,
            valid_from=awarded,
            valid_until=awarded + shape.validity if shape.validity else None,
            awarded_by=shape.awarder_id if rng.random() < 0.7 else None,
            learner=learner if email else None,
        )
        if rng.random() < 0.15:
            planned.evidence = [(f"https://portfolio.example.org/{planned.id.hex[:12]}", "")]
        if rng.random() < 0.1:
            planned.narrative = "Completed the assessed project with distinction."
        if shape.result_values and rng.random() < 0.7:
            planned.result = rng.choice(shape.result_values)
        if email and rng.random() < 0.6:
            planned.claimed_at = self._moment(awarded)
        state = rng.random()
        if state < 0.03:
            planned.status, planned.reason = "revoked", rng.choice(REASONS_REVOKED)
            planned.changed_at = self._moment(awarded)
        elif state < 0.045:
            planned.status, planned.reason = "suspended", rng.choice(REASONS_SUSPENDED)
            planned.changed_at = self._moment(awarded)
        return planned

    def twin(self, original: Planned) -> Planned | None:
        """A second award that replaces ``original``: after an identity change (to another
        address of the learner) or, for an expired one, a re-issue."""
        expired = original.valid_until is not None and original.valid_until < self.now
        if original.status != "active" or not (expired or original.email):
            return None
        moment = self._moment(original.valid_until if expired else original.awarded_at)  # type: ignore[arg-type]
        validity = original.shape.validity
        twin = Planned(
            id=uuid.uuid4(),
            shape=original.shape,
            email=original.email,
            identifier_type=original.identifier_type,
            identifier=original.identifier,
            name=original.name,
            language=original.language,
            awarded_at=original.awarded_at,  # a re-issue keeps the first awardedDate
            valid_from=moment,
            valid_until=(moment + validity if expired and validity else original.valid_until),
            evidence=list(original.evidence),
            narrative=original.narrative,
            awarded_by=original.shape.awarder_id,
            learner=original.learner,
        )
        if expired:
            twin.reissued_from = original.id
        else:
            twin.email = original.email.replace("@", ".work@")
            twin.learner = None  # the learner's second address: its preference is written below
            original.superseded_by = twin.id
        return twin


# --------------------------------------------------------------------------------------------
# The signed sample
# --------------------------------------------------------------------------------------------


def signed_sample(cast: Cast, count: int, rng: random.Random, planner: Planner) -> list[Any]:
    """``count`` awards through ``award_badges`` (really signed), some then revoked or
    suspended through the revocation services; their ids go to ``bench_seed_signed``."""
    from django.db import connection

    from accounts.models import User
    from awarding import services as awarding_services
    from awarding.revocation import services as revocation
    from awarding.rules import AwardRequest
    from badges.services import EvidenceItem

    made: list[Any] = []
    per_shape = max(1, -(-count // len(cast.shapes)))
    for shape in cast.shapes:
        if len(made) >= count:
            break
        actor = User.objects.get(pk=shape.awarder_id)
        for start in range(0, min(per_shape, count - len(made)), 100):
            requests: list[AwardRequest] = []
            for _ in range(min(100, per_shape - start, count - len(made) - len(requests))):
                p = planner.one()
                while p.shape is not shape:  # keep the draw's learner mix, on this version
                    p = planner.one()
                requests.append(
                    AwardRequest(
                        email=p.email,
                        identifier_type=p.identifier_type,
                        identifier=p.identifier,
                        name=p.name,
                        evidence=tuple(EvidenceItem(url=u, narrative=n) for u, n in p.evidence),
                        narrative=p.narrative,
                        result=p.result,
                        language=p.language,
                    )
                )
            # notify=False: the e-mails' rows are written below as sent; sending 2,000 through
            # the in-process task would take longer than the rest of the sample.
            outcomes = awarding_services.award_badges(
                actor=actor, version=shape.version, requests=requests, notify=False
            )
            made.extend(o for o in outcomes if not isinstance(o, Exception))
    for n, award in enumerate(made):
        owner = User.objects.filter(
            memberships__institution_id=award.issuer.institution_id, memberships__role="owner"
        ).first()
        if n % 33 == 5:
            revocation.revoke_award(actor=owner, award=award, reason=rng.choice(REASONS_REVOKED))
        elif n % 67 == 7:
            revocation.suspend_award(actor=owner, award=award, reason=rng.choice(REASONS_SUSPENDED))
    from badges.models import AwardNotification

    Table(AwardNotification, ["award_id", "kind", "key", "created_at", "sent_at", "attempts"]).copy(
        (a.pk, "issued", f"{a.pk}:issued", a.created_at, a.created_at, 1)
        for a in made
        if a.recipient_email
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO bench_seed_signed (award_id) VALUES (%s) ON CONFLICT DO NOTHING",
            [(a.pk,) for a in made],
        )
    for award in made[:1]:
        cast.proofs[award.issuer_id] = award.credential["proof"][0]
    return made


def proof_shapes(cast: Cast) -> None:
    """Each issuer's proof as its real signer writes it (one throw-away signature each)."""
    from issuers import keys

    for shape in cast.shapes:
        if shape.issuer.pk in cast.proofs:
            continue
        language = shape.languages[0]
        from openbadges import ob3

        unsigned = ob3.build_credential(
            id="urn:uuid:" + str(uuid.uuid4()),
            issuer=shape.profiles[language],
            achievement=shape.achievements[language],
            recipient=ob3.Recipient("shape@example.org"),
            valid_from=datetime.now(UTC).replace(microsecond=0),
        )
        signed = keys.signer(shape.key)(unsigned, datetime.now(UTC).replace(microsecond=0))
        cast.proofs[shape.issuer.pk] = signed["proof"][0]


# --------------------------------------------------------------------------------------------
# Bulk
# --------------------------------------------------------------------------------------------


class Bulk:
    """Writes planned awards and everything a real award leaves beside them, by COPY."""

    def __init__(self, cast: Cast, rng: random.Random, now: datetime) -> None:
        from accounts.models import User
        from badges.models import (
            Award,
            AwardEvidence,
            AwardNotification,
            AwardStatusEvent,
        )
        from earners.models import AwardPreference, IdentityChange, LearnerEmail, ViewEvent
        from issuers.models import AuditEvent

        self.cast, self.rng, self.now = cast, rng, now
        self._salt = ""
        self.build_seconds = self.copy_seconds = self.allocate_seconds = 0.0
        self.awards = Table(
            Award,
            [
                "id",
                "issuer_id",
                "achievement_version_id",
                "signing_key_id",
                "recipient_email",
                "recipient_identifier_type",
                "recipient_identifier",
                "recipient_email_hash",
                "salt",
                "recipient_name",
                "language",
                "valid_from",
                "valid_until",
                "awarded_at",
                "awarded_by_id",
                "credential_json",
                "created_at",
                "status",
                "status_reason",
                "status_changed_at",
                "reissued_from_id",
                "claimed_at",
                "updated_at",
            ],
        )
        self.evidence = Table(AwardEvidence, ["award_id", "position", "url", "narrative"])
        self.notifications = Table(
            AwardNotification,
            ["award_id", "kind", "key", "created_at", "sent_at", "opened_at", "attempts"],
        )
        self.status_events = Table(
            AwardStatusEvent, ["award_id", "action", "reason", "actor_id", "via", "at"]
        )
        self.audits = Table(
            AuditEvent, ["institution_id", "actor_id", "action", "target", "data", "at"]
        )
        self.views = Table(ViewEvent, ["award_id", "day", "channel", "kind", "organisation"])
        self.preferences = Table(
            AwardPreference,
            [
                *("award_id", "user_id", "visibility", "show_name", "include_evidence"),
                *("superseded_by_id", "updated_at"),
            ],
        )
        self.changes = Table(
            IdentityChange,
            [
                *("id", "award_id", "new_email", "reason", "status", "requested_at"),
                *("decided_at", "decided_by_id", "new_award_id"),
            ],
        )
        self.users = Table(User, ["email", "name", "password", "date_joined"])
        self.learner_emails = Table(LearnerEmail, ["user_id", "email", "verified_at", "created_at"])
        self.learners: dict[str, int] = dict(
            LearnerEmail.objects.filter(verified_at__isnull=False).values_list("email", "user_id")
        )
        self.channels = [c for c, _ in CHANNELS]
        self.channel_weights = [w for _, w in CHANNELS]

    def credential(self, p: Planned, status: Any) -> tuple[str, str]:
        """The credential as ``store_awards`` builds it, with a proof of a real one's shape;
        and the first identity's hash."""
        from badges import credentials
        from openbadges import multikey, ob3

        shape = p.shape
        recipient = ob3.Recipient(
            p.email, identifier_type=p.identifier_type, identifier=p.identifier
        )
        unsigned = ob3.build_credential(
            id=credentials.credential_url(p.id),
            issuer=shape.profiles[p.language],
            achievement=shape.achievements[p.language],
            recipient=recipient,
            valid_from=p.valid_from,
            valid_until=p.valid_until,
            awarded_date=p.awarded_at,
            evidence=[ob3.Evidence(id=u or None, narrative=n or None) for u, n in p.evidence],
            narrative=p.narrative or None,
            credential_status=status,
            results=[ob3.Result(shape.result_id, p.result)] if p.result else (),
        )
        proof = dict(self.cast.proofs[shape.issuer.pk])
        proof["created"] = ob3.format_datetime(p.valid_from)
        proof["proofValue"] = multikey.multibase_encode(secrets.token_bytes(64))
        unsigned["proof"] = [proof]
        identity = unsigned["credentialSubject"]["identifier"][0]
        text = json.dumps(unsigned, ensure_ascii=False, separators=(",", ":"))
        self._salt = recipient.salt
        return text, identity["identityHash"]

    def write(self, planned: list[Planned]) -> dict[str, int]:
        """One chunk, in the caller's transaction; rows written per table."""
        from django.db import connection

        from badges.statuslists import services as statuslist_services

        rng, now = self.rng, self.now
        started = time.monotonic()
        # The status entries as the award path draws them: the platform's own allocation, per
        # issuer, in this transaction (it opens and fills lists as it always does).
        by_issuer: dict[int, list[Planned]] = {}
        for p in planned:
            by_issuer.setdefault(p.shape.issuer.pk, []).append(p)
        carried: dict[uuid.UUID, Any] = {}
        for group in by_issuer.values():
            carried.update(
                statuslist_services.allocate_many(
                    issuer=group[0].shape.issuer, award_ids=[p.id for p in group]
                )
            )
        self.allocate_seconds += time.monotonic() - started
        award_rows: list[tuple[Any, ...]] = []
        evidence_rows: list[tuple[Any, ...]] = []
        notification_rows: list[tuple[Any, ...]] = []
        event_rows: list[tuple[Any, ...]] = []
        audit_rows: list[tuple[Any, ...]] = []
        view_rows: list[tuple[Any, ...]] = []
        preference_rows: list[tuple[Any, ...]] = []
        change_rows: list[tuple[Any, ...]] = []
        new_learners: dict[str, str] = {}
        for p in planned:
            issuer = p.shape.issuer
            text, identity_hash = self.credential(p, carried[p.id])
            updated = max(filter(None, (p.valid_from, p.changed_at, p.claimed_at)))
            award_rows.append(
                (
                    p.id,
                    issuer.pk,
                    p.shape.version.pk,
                    p.shape.key.pk,
                    p.email,
                    p.identifier_type,
                    p.identifier,
                    identity_hash,
                    self._salt,
                    p.name,
                    p.language,
                    p.valid_from,
                    p.valid_until,
                    p.awarded_at,
                    p.awarded_by,
                    text,
                    p.valid_from,
                    p.status,
                    p.reason,
                    p.changed_at,
                    p.reissued_from,
                    p.claimed_at,
                    updated,
                )
            )
            for position, (url, narrative) in enumerate(p.evidence, start=1):
                evidence_rows.append((p.id, position, url, narrative))
            audit_rows.append(
                (
                    p.shape.institution_id,
                    p.awarded_by,
                    "award.issued",
                    p.shape.target,
                    json.dumps({"award": str(p.id)}),
                    p.valid_from,
                )
            )
            if p.status != "active":
                event_rows.append(
                    (p.id, p.status, p.reason, p.shape.awarder_id, "console", p.changed_at)
                )
                audit_rows.append(
                    (
                        p.shape.institution_id,
                        p.shape.awarder_id,
                        f"award.{p.status}",
                        str(p.id),
                        json.dumps(
                            {
                                "reason": p.reason,
                                "via": "console",
                                "count": 1,
                                "awards": [str(p.id)],
                            }
                        ),
                        p.changed_at,
                    )
                )
            if p.reissued_from is not None:  # as badges.services.record_reissue
                event_rows.append(
                    (p.reissued_from, "reissued", str(p.id), p.awarded_by, "console", p.valid_from)
                )
                audit_rows.append(
                    (
                        p.shape.institution_id,
                        p.awarded_by,
                        "award.reissued",
                        str(p.reissued_from),
                        json.dumps({"new_award": str(p.id)}),
                        p.valid_from,
                    )
                )
            if p.email:
                sent = p.valid_from + timedelta(seconds=rng.randrange(5, 120))
                notification_rows.append(
                    (p.id, "issued", f"{p.id}:issued", p.valid_from, sent, p.claimed_at, 1)
                )
                if p.claimed_at is None and rng.random() < 0.3:
                    later = sent + timedelta(days=7)
                    if later < now:
                        notification_rows.append(
                            (p.id, "reminder", f"{p.id}:reminder", later, later, None, 1)
                        )
            for _ in range(self._views()):
                day = (p.valid_from + timedelta(seconds=rng.randrange(self._span(p)))).date()
                channel = rng.choices(self.channels, self.channel_weights)[0]
                verifying = rng.random() < 0.1
                view_rows.append(
                    (
                        p.id,
                        day,
                        channel,
                        "verification" if verifying else "view",
                        "Acme Recruiting" if verifying and rng.random() < 0.3 else "",
                    )
                )
            if p.learner is not None and p.learner % 10 == 0 and p.email not in self.learners:
                new_learners[p.email] = p.name
        # Learners (a tenth of the addresses have an account with the address confirmed).
        if new_learners:
            self.users.copy(
                (email, name, "!" + secrets.token_hex(8), now)
                for email, name in new_learners.items()
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT email, id FROM accounts_user WHERE email = ANY(%s)",
                    [list(new_learners)],
                )
                made = dict(cursor.fetchall())
            self.learner_emails.copy((made[e], e, now, now) for e in new_learners)
            self.learners.update(made)
        by_id = {p.id: p for p in planned}
        replacing = {p.superseded_by for p in planned if p.superseded_by is not None}
        for p in planned:
            if p.id in replacing:
                continue
            user = self.learners.get(p.email) if p.email else None
            if p.superseded_by is not None:
                twin = by_id[p.superseded_by]
                preference_rows.append((p.id, user, "link", False, False, twin.id, twin.valid_from))
                preference_rows.append((twin.id, user, "link", False, False, None, twin.valid_from))
                requested = twin.valid_from - timedelta(days=2)
                change_rows.append(
                    (
                        *(uuid.uuid4(), p.id, twin.email, "Moved to my work address.", "approved"),
                        *(requested, twin.valid_from, p.shape.awarder_id, twin.id),
                    )
                )
            elif user is not None and p.reissued_from is None and rng.random() < 0.5:
                visible = rng.random() < 0.4
                preference_rows.append(
                    (
                        p.id,
                        user,
                        "public" if visible else "link",
                        visible,
                        False,
                        None,
                        p.valid_from,
                    )
                )
        self.build_seconds += time.monotonic() - started
        started = time.monotonic()
        counts = {
            "awards": self.awards.copy(award_rows),
            "status_entries": 2 * len(planned),
            "evidence": self.evidence.copy(evidence_rows),
            "notifications": self.notifications.copy(notification_rows),
            "status_events": self.status_events.copy(event_rows),
            "audit_events": self.audits.copy(audit_rows),
            "view_events": self.views.copy(view_rows),
            "preferences": self.preferences.copy(preference_rows),
            "identity_changes": self.changes.copy(change_rows),
            "learners": len(new_learners),
        }
        # As set_status: the bits of the changed awards' lists set, their versions bumped.
        statuslist_services.mark_changed(p.id for p in planned if p.status != "active")
        self.copy_seconds += time.monotonic() - started
        return counts

    def _views(self) -> int:
        # About 1.5 views per award: most badges are seen a few times, a few often.
        roll = self.rng.random()
        return (
            0 if roll < 0.4 else 1 if roll < 0.65 else 2 if roll < 0.8 else self.rng.randrange(3, 9)
        )

    def _span(self, p: Planned) -> int:
        return max(1, int((self.now - p.valid_from).total_seconds()))


# --------------------------------------------------------------------------------------------
# The whole run
# --------------------------------------------------------------------------------------------


def seed(
    *,
    awards: int,
    issuers: int = 8,
    achievements: int = 24,
    signed: int = 2000,
    chunk: int = 20_000,
    rng_seed: int = 19,
    log: Callable[..., None] = emit,
) -> dict[str, Any]:
    """Grow the configured database to ``awards`` awards (see the module's docstring)."""
    from django.db import connection, transaction

    from badges.models import Award

    started = time.monotonic()
    rng = random.Random(rng_seed + Award.objects.count())  # noqa: S311 - made-up data, no secret
    ensure_bench_tables()
    if not Award.objects.exists() and not load_cast_or_none():
        with transaction.atomic():
            create_cast(issuers, achievements, rng)
        log(phase="cast", seconds=round(time.monotonic() - started, 1))
    cast = load_cast()
    now = datetime.now(UTC).replace(microsecond=0)
    planner = Planner(cast, rng, pool=max(awards // 3, 1), now=now)
    existing = Award.objects.count()
    todo = max(0, awards - existing)
    already = len(signed_ids())
    sample = min(max(0, signed - already), todo)
    t = time.monotonic()
    made = signed_sample(cast, sample, rng, planner) if sample else []
    if made:
        log(phase="signed", awards=len(made), per_sec=round(len(made) / (time.monotonic() - t), 1))
    proof_shapes(cast)
    bulk = Bulk(cast, rng, now)
    left = awards - Award.objects.count()
    totals: dict[str, int] = {}
    t = time.monotonic()
    written = 0
    while left > 0:
        planned: list[Planned] = []
        while len(planned) < min(chunk, left):
            p = planner.one()
            planned.append(p)
            if rng.random() < 0.01 and len(planned) < min(chunk, left):
                twin = planner.twin(p)
                if twin is not None:
                    planned.append(twin)
        with transaction.atomic():
            counts = bulk.write(planned)
        for name, n in counts.items():
            totals[name] = totals.get(name, 0) + n
        written += len(planned)
        left -= len(planned)
        elapsed = time.monotonic() - t
        log(
            phase="bulk",
            awards=written,
            left=left,
            awards_per_sec=round(written / elapsed, 1),
            rows_per_sec=round(sum(totals.values()) / elapsed, 1),
            build_seconds=round(bulk.build_seconds, 1),
            copy_seconds=round(bulk.copy_seconds, 1),
            allocate_seconds=round(bulk.allocate_seconds, 1),
        )
    t = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log(phase="analyze", seconds=round(time.monotonic() - t, 1))
    elapsed = time.monotonic() - started
    return {
        "awards": Award.objects.count(),
        "added": len(made) + written,
        "signed_sample": len(signed_ids()),
        "bulk_rows": totals,
        "seconds": round(elapsed, 1),
        "awards_per_sec": round((len(made) + written) / elapsed, 1) if elapsed else 0.0,
    }


def load_cast_or_none() -> bool:
    from issuers.models import Issuer

    return Issuer.objects.filter(slug__startswith=SLUG_PREFIX).exists()


def database_size() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        row = cursor.fetchone()
    return str(row[0]) if row else "?"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--awards", type=int, default=1_000_000, help="total awards wanted")
    parser.add_argument("--issuers", type=int, default=8)
    parser.add_argument("--achievements", type=int, default=24)
    parser.add_argument("--signed", type=int, default=2000, help="genuinely signed sample")
    parser.add_argument("--chunk", type=int, default=20_000, help="awards per transaction")
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL)
    parser.add_argument("--append", action="store_true", help="grow an existing database")
    parser.add_argument("--seed", type=int, default=19, help="of the made-up data's RNG")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if not args.append:
        from bench._drill_stack import fresh_database

        fresh_database(args.database_url)
    configure(args.database_url, args.base_url)
    from django.core.management import call_command
    from django.db import connection

    t = time.monotonic()
    call_command("migrate", verbosity=0)
    emit(phase="migrate", seconds=round(time.monotonic() - t, 1))
    ensure_bench_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_seed_meta (key, value) VALUES ('base_url', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [json.dumps(args.base_url)],
        )
    totals = seed(
        awards=args.awards,
        issuers=args.issuers,
        achievements=args.achievements,
        signed=args.signed,
        chunk=args.chunk,
        rng_seed=args.seed,
    )
    emit(
        phase="done",
        **totals,
        total_seconds=round(time.monotonic() - started, 1),
        database=args.database_url.rsplit("/", 1)[-1],
        database_size=database_size(),
        machine={"cores": os.cpu_count()},
    )


if __name__ == "__main__":
    main()
