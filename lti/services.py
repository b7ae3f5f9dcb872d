"""What a course does with Insignia: who launched, which badge an instructor placed and how
it is earned, awarding learners who meet the rule (exactly once), flagging changed grades for
review, and handing an award to the learner who launches the course.

Every award goes through the awarding layer (``awarding.services.award_badge``) in the name
of the instructor who placed the badge, whose awarder role for the badge's issuer is checked
again each time. A placement is only ever reached through the platform that made it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.contrib.auth import login, logout
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from awarding import services as awarding
from awarding.revocation import services as revocation
from badges import selectors as badge_selectors
from badges import services as badge_services
from badges.models import Achievement, IdentifierType
from common.mail import send_templated_mail
from earners import services as earner_services
from earners.models import LearnerEmail
from issuers.models import AuditAction, Membership, Role
from issuers.permissions import has_role
from issuers.services import record_audit
from lti import launches
from lti.models import Course, Grant, GrantStatus, Launch, LmsAccount, Placement, Rule
from lti.tool import LaunchRefused
from openbadges.ob3 import normalize_email

log = logging.getLogger(__name__)

PLACEMENT_PARAMETER = "insignia_placement"


# --------------------------------------------------------------------------------------------
# Who launched
# --------------------------------------------------------------------------------------------


def account_of(launch: Launch) -> User | None:
    """The Insignia account linked to the person the platform launched, if any."""
    linked = (
        LmsAccount.objects.select_related("user")
        .filter(platform=launch.platform, subject=launch.subject)
        .first()
    )
    if linked is None or not linked.user.is_active:
        return None
    linked.last_launch_at = timezone.now()
    linked.name = str(launch.claims.get("name", ""))[:200]
    linked.email = normalize_email(str(launch.claims.get("email", "")))[:254]
    linked.save(update_fields=["last_launch_at", "name", "email"])
    return linked.user


@transaction.atomic
def link_account(launch: Launch, user: User) -> LmsAccount:
    """Link the launched person to ``user`` (who is signed in and asked for it)."""
    existing = LmsAccount.objects.filter(platform=launch.platform, subject=launch.subject).first()
    if existing is not None:
        if existing.user_id != user.pk:
            raise LaunchRefused(
                _("Your LMS account is already connected to another Insignia account."),
                reason="subject linked to another user",
                status=409,
            )
        return existing
    try:
        with transaction.atomic():
            return LmsAccount.objects.create(
                platform=launch.platform,
                subject=launch.subject,
                user=user,
                name=str(launch.claims.get("name", ""))[:200],
                email=normalize_email(str(launch.claims.get("email", "")))[:254],
                last_launch_at=timezone.now(),
            )
    except IntegrityError:
        raise LaunchRefused(
            _("Please open the badge again from your course."), status=409
        ) from None


def learner_account(launch: Launch) -> User | None:
    """A new account for a learner's first launch, made just in time; ``None`` when the
    platform sent no usable address or an Insignia account already uses it (the learner
    signs in to it and connects instead: an LMS never takes over an account by e-mail).
    The address waits unconfirmed, like any other."""
    email = normalize_email(str(launch.claims.get("email", "")))
    if not email or "@" not in email or User.objects.filter(email=email).exists():
        return None
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email, None, name=str(launch.claims.get("name", ""))[:150]
            )
            LearnerEmail.objects.create(user=user, email=email)
            LmsAccount.objects.create(
                platform=launch.platform,
                subject=launch.subject,
                user=user,
                name=str(launch.claims.get("name", ""))[:200],
                email=email,
                last_launch_at=timezone.now(),
            )
    except IntegrityError:
        return None
    return user


def request_access(launch: Launch, language: str) -> int:
    """An instructor without an Insignia account asks the institution's owners for the
    awarder role: each owner gets an e-mail (once per launch). Returns how many."""
    if not cache.add(f"lti-access-request:{launch.key}", 1, 60 * 60 * 2):
        return 0
    institution = launch.platform.institution
    owners = list(
        Membership.objects.filter(institution=institution, role=Role.OWNER, issuer=None)
        .select_related("user")
        .values_list("user__email", flat=True)
    )
    ctx = launches.context(launch.claims)
    context = {
        "institution": institution,
        "name": str(launch.claims.get("name", "")) or _("Someone"),
        "email": str(launch.claims.get("email", "")) or "—",
        "platform": launch.platform.name,
        "course": str(ctx.get("title", "")) or str(ctx.get("id", "")),
        "members_path": reverse("manage:members", args=[institution.slug]),
    }

    def send(to: str) -> None:
        send_templated_mail(
            to=to, template="lti_access_request", context=context, language=language
        )

    for address in owners:
        transaction.on_commit(partial(send, address))
    return len(owners)


def sign_in(request: HttpRequest, launch: Launch, user: User) -> None:
    """Sign ``user`` in for this launch (another person's session in this browser ends)."""
    if request.user.is_authenticated and request.user.pk != user.pk:
        logout(request)
    if not request.user.is_authenticated:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    Launch.objects.filter(pk=launch.pk).update(user=user, finished_at=timezone.now())
    launch.user = user


# --------------------------------------------------------------------------------------------
# Courses and placements
# --------------------------------------------------------------------------------------------


def course_of(launch: Launch) -> Course:
    """The launch's course, created or refreshed with its service URLs."""
    claims = launch.claims
    ctx = launches.context(claims)
    context_id = str(ctx.get("id", "")).strip()
    if not context_id:
        raise LaunchRefused(
            _("Badges can only be added inside a course: this launch names no course."),
            reason="no context claim",
        )
    ags = launches.ags(claims)
    nrps = launches.nrps(claims)
    defaults: dict[str, Any] = {
        "title": str(ctx.get("title", ""))[:255],
        "label": str(ctx.get("label", ""))[:255],
    }
    if ags.get("lineitems"):
        defaults["lineitems_url"] = str(ags["lineitems"])[:1000]
        defaults["ags_scopes"] = [str(s) for s in ags.get("scope", []) if isinstance(s, str)]
    if nrps.get("context_memberships_url"):
        defaults["memberships_url"] = str(nrps["context_memberships_url"])[:1000]
    course, _created = Course.objects.update_or_create(
        platform=launch.platform,
        deployment_id=launch.deployment_id,
        context_id=context_id[:255],
        defaults=defaults,
    )
    return course


def placeable(user: User, launch: Launch) -> list[Any]:
    """The latest published version of every micro-credential ``user`` may award from this
    platform's institution (awarder or higher for its issuer)."""
    institution = launch.platform.institution
    return [
        version
        for version in badge_selectors.published_achievements(institution=institution)
        if has_role(user, institution, Role.AWARDER, version.achievement.issuer)
    ]


@transaction.atomic
def place(
    *,
    launch: Launch,
    user: User,
    achievement: Achievement,
    rule: str,
    min_score: Decimal | None = None,
    column: str = "",
) -> Placement:
    """Place ``achievement`` in the launch's course with ``rule``. The instructor must hold
    the awarder role for its issuer, and it must be one of the platform's institution's."""
    institution = launch.platform.institution
    issuer = achievement.issuer
    if issuer.institution_id != institution.pk or not has_role(
        user, institution, Role.AWARDER, issuer
    ):
        raise PermissionDenied
    version = badge_selectors.latest_published(achievement)
    if version is None:
        raise ValidationError(_("Only a published micro-credential can be placed in a course."))
    if rule == Rule.SCORE:
        if min_score is None or not (Decimal(0) < min_score <= Decimal(100)):
            raise ValidationError(_("Give the minimum score as a percentage from 1 to 100."))
    elif rule == Rule.COLUMN:
        if not column.strip():
            raise ValidationError(_("Name the gradebook column."))
    elif rule != Rule.LAUNCH:
        raise ValidationError(_("Choose how the badge is earned."))
    course = course_of(launch)
    if rule in (Rule.SCORE, Rule.COLUMN) and not course.lineitems_url:
        raise ValidationError(
            _(
                "Your LMS did not give Insignia access to this course's grades (Assignment and "
                "Grade Services). Choose “when the learner opens it”, or ask your LMS "
                "administrator to allow grades for Insignia."
            )
        )
    placement = Placement.objects.create(
        course=course,
        achievement=achievement,
        rule=rule,
        min_score=min_score if rule == Rule.SCORE else None,
        column=column.strip()[:255] if rule == Rule.COLUMN else "",
        title=version.name[:255],
        created_by=user,
    )
    record_audit(
        institution_id=institution.pk,
        actor=user,
        action=AuditAction.LTI_BADGE_PLACED,
        target=str(placement.pk),
        course=course.title or course.context_id,
        platform=launch.platform.name,
        rule=rule,
    )
    return placement


def placement_in(launch: Launch) -> Placement | None:
    """The placement a resource-link launch opens: named by the link's custom parameter,
    made through this platform, for this course (a read; :func:`record_launch` writes)."""
    wanted = str(launches.custom(launch.claims).get(PLACEMENT_PARAMETER, "")).strip()
    if not wanted:
        return None
    try:
        found = (
            Placement.objects.select_related("course", "achievement__issuer")
            .filter(pk=wanted, course__platform=launch.platform, active=True)
            .first()
        )
    except ValidationError:  # not a UUID
        return None
    if found is None:
        return None
    context_id = str(launches.context(launch.claims).get("id", ""))
    if found.course.context_id != context_id or found.course.deployment_id != launch.deployment_id:
        raise LaunchRefused(
            _(
                "This badge was added in another course. Ask your instructor to add it to "
                "this course from Insignia."
            ),
            reason="placement of another course",
            status=404,
        )
    return found


def course_in(launch: Launch) -> Course:
    """The launch's course as :func:`record_launch` kept it (a read)."""
    ctx = launches.context(launch.claims)
    found = Course.objects.filter(
        platform=launch.platform,
        deployment_id=launch.deployment_id,
        context_id=str(ctx.get("id", ""))[:255],
    ).first()
    if found is None:
        raise LaunchRefused(
            _("Badges can only be added inside a course: this launch names no course."),
            reason="no course recorded for the launch",
        )
    return found


@transaction.atomic
def record_launch(launch: Launch) -> Placement | None:
    """What a verified launch tells us, kept when it finishes: the course and its service
    URLs, and for a resource link its placement's link ID and line item. Returns the
    placement it opens, if any."""
    course_of(launch)
    if launch.message_type == launches.DEEP_LINKING:
        return None
    found = placement_in(launch)
    if found is None:
        return None
    changed: list[str] = []
    link_id = str(launches.resource_link(launch.claims).get("id", ""))[:255]
    if link_id and not found.resource_link_id:
        found.resource_link_id = link_id
        changed.append("resource_link_id")
    lineitem = str(launches.ags(launch.claims).get("lineitem", ""))[:1000]
    if found.rule == Rule.SCORE and lineitem and not found.lineitem_url:
        found.lineitem_url = lineitem
        changed.append("lineitem_url")
    if changed:
        found.save(update_fields=changed)
    return found


def placements_in(course: Course) -> list[Placement]:
    return list(
        Placement.objects.filter(course=course, active=True).select_related("achievement__issuer")
    )


# --------------------------------------------------------------------------------------------
# Awarding
# --------------------------------------------------------------------------------------------


@dataclass
class Learner:
    """A learner as the course platform describes them (roster or launch)."""

    user_id: str
    email: str = ""
    name: str = ""
    sourced_id: str = ""


@dataclass
class SyncReport:
    awarded: int = 0
    flagged: int = 0
    restored: int = 0
    unchanged: int = 0
    failed: int = 0
    waiting: int = 0
    errors: list[str] = field(default_factory=list)


def _narrative(placement: Placement, score: Decimal | None) -> str:
    course = placement.course.title or placement.course.context_id
    if score is not None and placement.rule == Rule.SCORE:
        return _("Earned in the course %(course)s with a score of %(score)s%%.") % {
            "course": course,
            "score": number(score),
        }
    return _("Earned in the course %(course)s.") % {"course": course}


def number(value: Decimal) -> str:
    """85.00 as "85", 79.50 as "79.5"."""
    return format(value.normalize(), "f")


def _line_item_key(placement: Placement, line_item: str) -> str:
    return line_item if placement.rule != Rule.LAUNCH else f"launch:{placement.pk}"


def grant(
    placement: Placement, learner: Learner, *, line_item: str, score: Decimal | None = None
) -> tuple[Grant, bool]:
    """Award ``placement``'s badge to ``learner`` once (see :class:`lti.models.Grant`);
    a second call finds the first one's row and awards nothing. A failure (no address, the
    instructor's role gone) is kept on the row and tried again next time. Returns the row
    and whether this call made the award."""
    key = _line_item_key(placement, line_item)
    with transaction.atomic():
        row = (
            Grant.objects.select_for_update()
            .filter(
                course=placement.course,
                line_item=key,
                achievement=placement.achievement,
                lms_user_id=learner.user_id,
            )
            .first()
        )
        if row is None:
            try:
                with transaction.atomic():
                    row = Grant.objects.create(
                        placement=placement,
                        course=placement.course,
                        line_item=key,
                        achievement=placement.achievement,
                        lms_user_id=learner.user_id,
                        status=GrantStatus.FAILED,
                        note="in progress",
                    )
            except IntegrityError:  # another sync got there first; it awards
                other = Grant.objects.get(
                    course=placement.course,
                    line_item=key,
                    achievement=placement.achievement,
                    lms_user_id=learner.user_id,
                )
                return other, False
            row = Grant.objects.select_for_update().get(pk=row.pk)
        elif row.status != GrantStatus.FAILED:
            return row, False
        row.name, row.email, row.sourced_id = learner.name[:200], learner.email, learner.sourced_id
        row.score = row.latest_score = score
        version = badge_selectors.latest_published(placement.achievement)
        if not learner.email and not learner.sourced_id:
            row.note = _(
                "The LMS shares neither an e-mail address nor a student identifier for this "
                "learner."
            )
        elif version is None:
            row.note = _("The micro-credential has no published version.")
        else:
            try:
                with transaction.atomic():
                    award = awarding.award_badge(
                        actor=placement.created_by,
                        version=version,
                        email=learner.email,
                        identifier_type=IdentifierType.SOURCED_ID if learner.sourced_id else "",
                        identifier=learner.sourced_id,
                        name=learner.name,
                        narrative=_narrative(placement, score),
                    )
            except PermissionDenied:
                row.note = _(
                    "%(person)s, who added this badge to the course, no longer holds the "
                    "awarder role for its issuer."
                ) % {"person": placement.created_by.email}
            except ValidationError as error:
                row.note = "; ".join(error.messages)[:500]
            else:
                row.award, row.status, row.note = award, GrantStatus.AWARDED, ""
        row.save()
        return row, row.status == GrantStatus.AWARDED


def award_on_launch(placement: Placement, launch: Launch) -> Grant | None:
    """A learner opened a badge whose rule is "on launch": award it (once)."""
    if placement.rule != Rule.LAUNCH or launches.is_staff(launch.claims):
        return None
    learner = Learner(
        user_id=launch.subject,
        email=normalize_email(str(launch.claims.get("email", ""))),
        name=str(launch.claims.get("name", "")),
        sourced_id=launches.sourced_id(launch.claims),
    )
    return grant(placement, learner, line_item="")[0]


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        found = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() else None


def percentage(result: dict[str, Any]) -> Decimal | None:
    """An AGS result as a percentage of its maximum (1 when the platform gives none)."""
    score = _decimal(result.get("resultScore"))
    maximum = _decimal(result.get("resultMaximum")) or Decimal(1)
    if score is None or maximum <= 0:
        return None
    return (score / maximum * 100).quantize(Decimal("0.01"))


def meets(placement: Placement, result: dict[str, Any]) -> bool:
    if placement.rule == Rule.COLUMN:
        return _decimal(result.get("resultScore")) is not None
    found = percentage(result)
    return found is not None and placement.min_score is not None and found >= placement.min_score


@transaction.atomic
def flag_if_changed(
    placement: Placement, user_id: str, line_item: str, score: Decimal | None
) -> str:
    """A grade seen again for a learner already awarded: flag for review when it no longer
    meets the rule, clear the flag when it meets it again. Never awards, never revokes."""
    row = (
        Grant.objects.select_for_update()
        .filter(
            course=placement.course,
            line_item=_line_item_key(placement, line_item),
            achievement=placement.achievement,
            lms_user_id=user_id,
        )
        .first()
    )
    if row is None:
        return "none"
    row.latest_score = score
    outcome = "unchanged"
    if row.status == GrantStatus.AWARDED and not _still_meets(placement, score):
        row.status = GrantStatus.REVIEW
        row.note = _("The grade changed to %(score)s after the badge was awarded.") % {
            "score": "—" if score is None else f"{number(score)}%"
        }
        outcome = "flagged"
    elif row.status == GrantStatus.REVIEW and _still_meets(placement, score):
        row.status, row.note = GrantStatus.AWARDED, ""
        outcome = "restored"
    row.save(update_fields=["latest_score", "status", "note", "updated_at"])
    return outcome


def _still_meets(placement: Placement, score: Decimal | None) -> bool:
    if placement.rule == Rule.COLUMN:
        return score is not None
    return score is not None and placement.min_score is not None and score >= placement.min_score


# --------------------------------------------------------------------------------------------
# Review decisions
# --------------------------------------------------------------------------------------------


@transaction.atomic
def decide(*, actor: User, row: Grant, revoke: bool, reason: str = "") -> Grant:
    """A staff decision on a flagged award: keep it, or revoke it (owners and editors, as
    any revocation)."""
    row = (
        Grant.objects.select_for_update(of=("self",))
        .select_related("award", "course__platform")
        .get(pk=row.pk)
    )
    if row.status != GrantStatus.REVIEW or row.award is None:
        raise ValidationError(_("This award is not waiting for a decision."))
    institution = row.course.platform.institution
    if revoke:
        revocation.revoke_award(
            actor=actor,
            award=row.award,
            reason=reason or _("The course grade was changed after the award."),
            via="lti",
        )
        row.status = GrantStatus.REVOKED
        action = AuditAction.LTI_REVIEW_REVOKED
    else:
        if not has_role(actor, institution, Role.AWARDER, row.award.issuer):
            raise PermissionDenied
        row.status = GrantStatus.KEPT
        action = AuditAction.LTI_REVIEW_KEPT
    row.note = reason[:500]
    row.save(update_fields=["status", "note", "updated_at"])
    record_audit(
        institution_id=institution.pk,
        actor=actor,
        action=action,
        target=str(row.award.pk),
        course=row.course.title or row.course.context_id,
    )
    return row


# --------------------------------------------------------------------------------------------
# The learner's claim
# --------------------------------------------------------------------------------------------


def grants_of(course: Course, lms_user_id: str) -> dict[Any, Grant]:
    """This learner's grants in ``course``, by placement id."""
    return {
        row.placement_id: row
        for row in Grant.objects.filter(course=course, lms_user_id=lms_user_id).select_related(
            "award"
        )
    }


def claim(*, launch: Launch, user: User, row: Grant) -> None:
    """The learner who launched takes an award the course made for them into their
    backpack. Only their own: the grant's LMS user must be the launch's."""
    if (
        row.course.platform_id != launch.platform_id
        or row.lms_user_id != launch.subject
        or row.award is None
    ):
        raise PermissionDenied
    if not earner_services.hold_award(user=user, award=row.award, via="lti"):
        raise PermissionDenied
    badge_services.claim_award(award=row.award)
    Grant.objects.filter(pk=row.pk).update(claimed_by=user)
