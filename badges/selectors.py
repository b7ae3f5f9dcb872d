"""Reads of achievements, versions and awards, shared by views, API views and commands.

Console reads are scoped to an institution; ``achievement_for`` and ``award_for`` are the one
access function per object type (404 outside the institution, 403 without the role), used by
every console view, API view and command that acts on one. Public reads are limited to what
may be public: published versions, and awards by their unguessable id.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from django.core.exceptions import ValidationError
from django.db.models import DateTimeField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges.models import Achievement, AchievementVersion, Award, VersionStatus
from issuers.models import Institution, Issuer, Role
from issuers.permissions import is_member, may_read, require_role, visible_issuers
from openbadges.ob3 import normalize_email

_UUID_RE: Final = re.compile(
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})", re.I
)


# --------------------------------------------------------------------------------------------
# Achievements and their versions
# --------------------------------------------------------------------------------------------


def achievements_of(institution: Institution) -> QuerySet[Achievement]:
    """The institution's achievements with their issuers and versions (two queries)."""
    return (
        Achievement.objects.filter(issuer__institution=institution)
        .select_related("issuer")
        .prefetch_related(Prefetch("versions", AchievementVersion.objects.order_by("number")))
        .order_by("issuer__name_en", "slug")
    )


def achievement_of(institution: Institution, achievement_id: uuid.UUID) -> Achievement:
    """The achievement if it belongs to ``institution``; 404 for any other institution's."""
    try:
        return achievements_of(institution).get(pk=achievement_id)
    except Achievement.DoesNotExist:
        raise Http404 from None


def achievement_for(
    user: User, institution: Institution, achievement_id: uuid.UUID, role: Role | None
) -> Achievement:
    """The achievement if it belongs to ``institution`` (of which ``user`` is a member: the
    console has checked) and ``user`` holds ``role`` for its issuer: 404 for any other
    institution's, 403 without the role (``None``: every member may see it)."""
    achievement = achievement_of(institution, achievement_id)
    if role is not None:
        require_role(user, institution, role, achievement.issuer)
    return achievement


def achievement_by_id(achievement_id: uuid.UUID) -> Achievement:
    """Any achievement with its issuer and institution, for an API caller whose rights the
    view checks next (an issuer token's issuer, or a member's role); 404 if none."""
    found = (
        Achievement.objects.select_related("issuer__institution").filter(pk=achievement_id).first()
    )
    if found is None:
        raise Http404
    return found


def achievement_by_slugs(issuer_slug: str, slug: str) -> Achievement | None:
    """The achievement ``slug`` of the issuer ``issuer_slug`` (the command line's names)."""
    return (
        Achievement.objects.select_related("issuer__institution")
        .filter(issuer__slug=issuer_slug, slug=slug)
        .first()
    )


def draft_of(achievement: Achievement) -> AchievementVersion | None:
    """The achievement's draft version, if it has one."""
    return achievement.versions.filter(status=VersionStatus.DRAFT).first()


def latest_published(achievement: Achievement) -> AchievementVersion | None:
    """The version an award is made under: the latest published one."""
    return achievement.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()


def published_versions(achievement: Achievement) -> QuerySet[AchievementVersion]:
    return achievement.versions.filter(status=VersionStatus.PUBLISHED).order_by("number")


def public_achievement(achievement_id: uuid.UUID) -> Achievement:
    """An achievement with at least one published version; 404 otherwise (drafts are private)."""
    found = (
        Achievement.objects.select_related("issuer", "issuer__institution")
        .filter(pk=achievement_id, versions__status=VersionStatus.PUBLISHED)
        .distinct()
        .first()
    )
    if found is None:
        raise Http404
    return found


def public_version(achievement_id: uuid.UUID, number: int) -> AchievementVersion:
    try:
        return AchievementVersion.objects.select_related(
            "achievement__issuer__institution", "image"
        ).get(achievement_id=achievement_id, number=number, status=VersionStatus.PUBLISHED)
    except AchievementVersion.DoesNotExist:
        raise Http404 from None


def published_achievements(
    issuer: Issuer | None = None, institution: Institution | None = None
) -> list[AchievementVersion]:
    """The latest published version of every achievement (of ``issuer``, or of any issuer of
    ``institution``), by issuer and slug."""
    versions = (
        AchievementVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .select_related("achievement__issuer")
        .order_by("achievement__issuer__slug", "achievement__slug", "-number")
    )
    if issuer is not None:
        versions = versions.filter(achievement__issuer=issuer)
    if institution is not None:
        versions = versions.filter(achievement__issuer__institution=institution)
    latest: dict[uuid.UUID, AchievementVersion] = {}
    for version in versions:
        latest.setdefault(version.achievement_id, version)
    return list(latest.values())


# --------------------------------------------------------------------------------------------
# Awards
# --------------------------------------------------------------------------------------------


def awards_of(institution: Institution) -> QuerySet[Award]:
    return Award.objects.filter(issuer__institution=institution).select_related(
        "issuer__institution", "achievement_version__achievement", "awarded_by"
    )


def awards_visible_to(user: User, institution: Institution) -> QuerySet[Award]:
    """:func:`awards_of` as ``user`` may read them: every issuer's with an institution-wide
    role, else only the issuers they hold a role for."""
    awards = awards_of(institution)
    visible = visible_issuers(user, institution)
    return awards if visible is None else awards.filter(issuer_id__in=visible)


def award_of(institution: Institution, award_id: uuid.UUID) -> Award:
    """The award if it belongs to ``institution``; 404 for any other institution's."""
    try:
        return awards_of(institution).get(pk=award_id)
    except Award.DoesNotExist:
        raise Http404 from None


def award_for(
    user: User, institution: Institution, award_id: uuid.UUID, role: Role | None
) -> Award:
    """The award if it belongs to ``institution`` (of which ``user`` is a member: the console
    has checked) and ``user`` holds ``role`` for its issuer: 404 for any other institution's
    and for a sibling issuer's when ``user``'s roles are for other issuers only, 403 without
    the role (``None``: reading is enough)."""
    award = award_of(institution, award_id)
    if not may_read(user, institution, award.issuer_id):
        raise Http404
    if role is not None:
        require_role(user, institution, role, award.issuer)
    return award


def award_for_api(user: User, award_id: uuid.UUID, role: Role | None) -> Award:
    """The award for an API caller who names no institution: 404 unless ``user`` is a
    member of the award's institution (the same answer as no such award), 403 without
    ``role`` for its issuer (``None``: any member may read it)."""
    award = (
        Award.objects.select_related("issuer__institution", "achievement_version")
        .filter(pk=award_id)
        .first()
    )
    if award is None:
        raise Http404
    institution = award.issuer.institution
    if not is_member(user, institution):
        raise Http404
    if role is not None:
        require_role(user, institution, role, award.issuer)
    return award


def public_award(award_id: uuid.UUID) -> Award:
    """Any award by its unguessable id, with what its public pages show; 404 otherwise."""
    try:
        return Award.objects.select_related(
            "issuer__institution", "achievement_version__achievement"
        ).get(pk=award_id)
    except Award.DoesNotExist:
        raise Http404 from None


def is_reissued(award: Award) -> bool:
    return Award.objects.filter(reissued_from=award).exists()


def reissue_of(award: Award) -> Award | None:
    """The award that re-issued ``award``, if any."""
    return Award.objects.filter(reissued_from=award).first()


def parse_reference(reference: str) -> uuid.UUID | None:
    """The award id in a credential reference: the credential's ``id`` as written in it
    (``https://<host>/credentials/<uuid>``), ``urn:uuid:<uuid>``, or the bare uuid (its short
    form). None if there is none."""
    match = _UUID_RE.search(reference.strip())
    return uuid.UUID(match.group(1)) if match else None


def award_by_reference(reference: str) -> Award:
    """The award a credential reference (:func:`parse_reference`) names (the command line).
    Raises ``Award.DoesNotExist``."""
    parsed = parse_reference(reference)
    if parsed is None:
        raise Award.DoesNotExist(reference)
    return Award.objects.select_related("issuer__institution", "achievement_version").get(pk=parsed)


def awards_matching(
    institution: Institution,
    *,
    achievement: Achievement | None = None,
    awarded_from: datetime | None = None,
    awarded_until: datetime | None = None,
    references: Sequence[str] = (),
) -> QuerySet[Award]:
    """The institution's awards matching every given criterion: an achievement (any of its
    versions), an award-date range (inclusive), and/or a list of credential references
    (:func:`parse_reference`) or recipient e-mail addresses. Raises ``ValidationError`` for a
    reference that is neither."""
    awards = Award.objects.filter(issuer__institution=institution)
    if achievement is not None:
        awards = awards.filter(achievement_version__achievement=achievement)
    if awarded_from is not None:
        awards = awards.filter(awarded_at__gte=awarded_from)
    if awarded_until is not None:
        awards = awards.filter(awarded_at__lte=awarded_until)
    if references:
        ids: list[uuid.UUID] = []
        emails: list[str] = []
        for reference in references:
            if "@" in reference and not reference.startswith(("http", "urn:")):
                emails.append(normalize_email(reference))
                continue
            parsed = parse_reference(reference)
            if parsed is None:
                raise ValidationError(
                    _("Not a credential id or an e-mail address: %(ref)s")
                    % {"ref": reference[:100]}
                )
            ids.append(parsed)
        awards = awards.filter(pk__in=ids) | awards.filter(recipient_email__in=emails)
    return awards


# --------------------------------------------------------------------------------------------
# The REST API's lists (``integrations.v1``): objects of the issuers a caller reaches
# --------------------------------------------------------------------------------------------


def achievements_in(issuers: QuerySet[Issuer]) -> QuerySet[Achievement]:
    """The achievements of ``issuers`` with their issuer and versions (two queries), each with
    ``changed_at``: the latest change of the achievement or of any of its versions."""
    latest = (
        AchievementVersion.objects.filter(achievement=OuterRef("pk"))
        .order_by("-updated_at")
        .values("updated_at")[:1]
    )
    return (
        Achievement.objects.filter(issuer__in=issuers)
        .select_related("issuer")
        .prefetch_related(Prefetch("versions", AchievementVersion.objects.order_by("number")))
        .annotate(
            changed_at=Greatest(
                "created_at",
                Coalesce(Subquery(latest, output_field=DateTimeField()), "created_at"),
            )
        )
    )


def version_of(achievement: Achievement, number: int) -> AchievementVersion:
    """Version ``number`` of ``achievement`` (a draft too: the caller may see drafts); 404."""
    found = (
        AchievementVersion.objects.select_related("achievement__issuer", "image")
        .filter(achievement=achievement, number=number)
        .first()
    )
    if found is None:
        raise Http404
    return found


def versions_of(achievement: Achievement) -> QuerySet[AchievementVersion]:
    """Every version of ``achievement``, drafts included, with its image."""
    return AchievementVersion.objects.filter(achievement=achievement).select_related("image")


#: The states an API caller filters awards by: disjoint, so every award is in exactly one.
AWARD_STATES: Final = ("issued", "claimed", "expired", "suspended", "revoked")


def awards_in(issuers: QuerySet[Issuer]) -> QuerySet[Award]:
    """The awards of ``issuers`` with their issuer, version and e-mails (two queries)."""
    return (
        Award.objects.filter(issuer__in=issuers)
        .select_related("issuer", "achievement_version")
        .prefetch_related("notifications")
    )


def awards_in_state(awards: QuerySet[Award], state: str) -> QuerySet[Award]:
    """``awards`` in one of :data:`AWARD_STATES` now: ``issued`` (active, unexpired, not yet
    claimed), ``claimed`` (active, unexpired, claimed), ``expired`` (active, past its
    ``valid_until``), ``suspended`` or ``revoked``."""
    now = timezone.now()
    unexpired = Q(valid_until__isnull=True) | Q(valid_until__gt=now)
    if state in ("revoked", "suspended"):
        return awards.filter(status=state)
    active = awards.filter(status="active")
    if state == "expired":
        return active.filter(valid_until__lte=now)
    return active.filter(unexpired, claimed_at__isnull=state == "issued")


def award_with_delivery(award_id: uuid.UUID) -> Award:
    """Any award with its issuer, version and e-mails, for an API caller whose reach the view
    checks next; 404 if none."""
    found = (
        Award.objects.select_related("issuer__institution", "achievement_version__achievement")
        .prefetch_related("notifications")
        .filter(pk=award_id)
        .first()
    )
    if found is None:
        raise Http404
    return found
