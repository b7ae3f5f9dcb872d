"""Reads of pathways: a learner's progress through a requirement tree, their completion, the
pathways that newly committed awards may complete, the completions flagged for review, and
the access functions the console views use (research frameworks.md §6, §9.4).

A learner is a recipient e-mail within the institution. Only active, unexpired awards count,
each at most once per pathway; a "min credits" group counts the share of the credit value the
learner earned (``creditsEarned``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from badges.models import Award, AwardStatus
from frameworks.models import Pathway, PathwayCompletion, Placement, Requirement, RequirementGroup
from issuers.models import Institution, Issuer, Role
from issuers.permissions import require_role
from openbadges.ob3 import normalize_email

Rule = RequirementGroup.Rule


@dataclass
class Progress:
    """How far a learner is through one group of the tree."""

    group: RequirementGroup
    met: bool
    done: int
    needed: int
    credits: Decimal = Decimal(0)
    counted: list[Award] = field(default_factory=list)
    leaves: list[tuple[Requirement, Award | None]] = field(default_factory=list)
    children: list[Progress] = field(default_factory=list)


def pathways_of(institution: Institution, *, active: bool) -> QuerySet[Pathway]:
    """The institution's active (or deactivated) pathways with what they award."""
    return institution.pathways.filter(is_active=active).select_related("target")


def pathway_for(
    user: User, institution: Institution, pathway_id: uuid.UUID, role: Role | None
) -> Pathway:
    """The institution's pathway; 404 for any other, 403 if ``user`` lacks ``role``
    (``None``: every member may read it)."""
    found = get_object_or_404(Pathway, pk=pathway_id, institution=institution)
    if role is not None:
        require_role(user, institution, role)
    return found


def completion_for(
    user: User, institution: Institution, completion_id: uuid.UUID, role: Role | None
) -> PathwayCompletion:
    """A completion of one of the institution's pathways, with its pathway and award; 404 for
    any other, 403 if ``user`` lacks ``role``."""
    found = get_object_or_404(
        PathwayCompletion.objects.select_related("pathway", "award"),
        pk=completion_id,
        pathway__institution=institution,
    )
    if role is not None:
        require_role(user, institution, role)
    return found


def learner_awards(institution: Institution, email: str) -> dict[uuid.UUID, Award]:
    """The learner's awards that count: active, unexpired, of the institution's issuers;
    the most recent one per achievement. Pathways follow learners by e-mail: no address, no
    awards (awards made to an identifier only are never lumped together under "")."""
    if not normalize_email(email):
        return {}
    now = timezone.now()
    rows = (
        Award.objects.filter(
            issuer__institution=institution,
            recipient_email=normalize_email(email),
            status=AwardStatus.ACTIVE,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .select_related("achievement_version")
        .order_by("awarded_at")
    )
    return {award.achievement_version.achievement_id: award for award in rows}


def _earned_share(award: Award) -> Decimal:
    """The share of the credit value this learner earned: ``creditsEarned`` over
    ``creditsAvailable`` in the signed credential (1 when the learner earned all of it)."""
    subject = award.credential.get("credentialSubject", {})
    earned = subject.get("creditsEarned") if isinstance(subject, dict) else None
    available = (subject.get("achievement") or {}).get("creditsAvailable") if subject else None
    if not isinstance(earned, int | float) or not isinstance(available, int | float):
        return Decimal(1)
    if available <= 0:
        return Decimal(0)
    return min(Decimal(1), Decimal(str(earned)) / Decimal(str(available)))


def _credits(award: Award, group: RequirementGroup) -> Decimal:
    """What ``award`` counts towards a "min credits" group: its credits in the group's system,
    if it is placed at the group's minimum level or above, times the share earned."""
    placement = (
        Placement.objects.filter(version_id=award.achievement_version_id)
        .prefetch_related("credits", "levels__level")
        .first()
    )
    if placement is None or group.credit_system_id is None:
        return Decimal(0)
    if group.min_level is not None:
        wanted = group.min_level
        if not any(
            p.level.framework_id == wanted.framework_id and p.level.ordinal >= wanted.ordinal
            for p in placement.levels.all()
        ):
            return Decimal(0)
    full = sum(
        (c.amount for c in placement.credits.all() if c.credit_system_id == group.credit_system_id),
        Decimal(0),
    )
    share = _earned_share(award)
    return full if share == 1 else (full * share).quantize(Decimal("0.01"))


def _evaluate(group: RequirementGroup, awards: dict[uuid.UUID, Award]) -> Progress:
    children = [_evaluate(child, awards) for child in group.children.all()]
    leaves = [(r, awards.get(r.achievement_id)) for r in group.requirements.all()]
    met_leaves = [a for _r, a in leaves if a is not None]
    items = len(leaves) + len(children)
    done = len(met_leaves) + sum(1 for c in children if c.met)
    credits = sum((_credits(a, group) for a in met_leaves), Decimal(0)) + sum(
        (c.credits for c in children if c.met), Decimal(0)
    )
    counted = met_leaves + [a for c in children if c.met for a in c.counted]
    if group.rule == Rule.ALL:
        needed = items
        met = done == items
    elif group.rule == Rule.AT_LEAST_N:
        needed = group.required_count or items
        met = done >= needed
    else:
        needed = items
        met = credits >= (group.min_credits or Decimal(0))
    return Progress(
        group=group,
        met=met,
        done=done,
        needed=needed,
        credits=credits,
        counted=list(dict.fromkeys(counted)),
        leaves=leaves,
        children=children,
    )


def evaluate(pathway: Pathway, email: str) -> Progress:
    """The learner's progress through ``pathway``, group by group from the root."""
    root = pathway.groups.filter(parent__isnull=True).get()
    return _evaluate(root, learner_awards(pathway.institution, email))


def completion_of(pathway: Pathway, email: str) -> PathwayCompletion | None:
    """The learner's completion of ``pathway``, if they completed it."""
    return PathwayCompletion.objects.filter(
        pathway=pathway, recipient_email=normalize_email(email)
    ).first()


def public_completion(completion_id: uuid.UUID) -> PathwayCompletion:
    """A completion by its unguessable id (its signed CLR is public); 404 otherwise."""
    return get_object_or_404(PathwayCompletion, pk=completion_id)


def pathways_to_complete(award_ids: Sequence[uuid.UUID]) -> list[tuple[Pathway, list[str]]]:
    """For newly committed awards: the active pathways of their institutions that require one
    of their achievements, each with the sorted, distinct recipient e-mails to evaluate.

    Usually no pathway counts these achievements: one query on the requirements finds that,
    after one reading only the three columns needed of the awards (a bulk chunk's credentials
    are ~3 KB each)."""
    rows = (
        Award.objects.filter(pk__in=award_ids)
        .exclude(recipient_email="")  # pathways follow learners by e-mail
        .values_list(
            "issuer__institution_id", "achievement_version__achievement_id", "recipient_email"
        )
    )
    emails: dict[tuple[int, uuid.UUID], set[str]] = {}
    for institution_id, achievement_id, email in rows:
        emails.setdefault((institution_id, achievement_id), set()).add(email)
    if not emails:
        return []
    scope = Q()
    for institution_id, achievement_id in emails:
        scope |= Q(group__pathway__institution_id=institution_id, achievement_id=achievement_id)
    links = (
        Requirement.objects.filter(scope, group__pathway__is_active=True)
        .values_list("group__pathway_id", "group__pathway__institution_id", "achievement_id")
        .order_by()
        .distinct()
    )
    wanted: dict[uuid.UUID, set[str]] = {}
    for pathway_id, institution_id, achievement_id in links:
        wanted.setdefault(pathway_id, set()).update(emails[(institution_id, achievement_id)])
    if not wanted:
        return []
    pathways = Pathway.objects.filter(pk__in=wanted).select_related("institution", "target")
    return [(pathway, sorted(wanted[pathway.pk])) for pathway in pathways]


def needing_review(institution: Institution) -> list[PathwayCompletion]:
    """Completions flagged because a counted award was revoked or suspended since (the
    stored flag set by ``services.flag_counted_awards``)."""
    rows = (
        PathwayCompletion.objects.filter(pathway__institution=institution, needs_review=True)
        .select_related("pathway", "award", "review_award__achievement_version")
        .order_by("-review_flagged_at")
    )
    return list(rows)


def pathways_in(issuers: QuerySet[Issuer]) -> QuerySet[Pathway]:
    """The pathways whose credential one of ``issuers`` awards, for the REST API."""
    return Pathway.objects.filter(target__issuer__in=issuers).select_related("target__issuer")


def pathway_by_id(pathway_id: uuid.UUID) -> Pathway:
    """Any pathway with what it awards and its issuer, for an API caller whose reach the view
    checks next; 404 if none."""
    found = Pathway.objects.select_related("target__issuer").filter(pk=pathway_id).first()
    if found is None:
        raise Http404
    return found


def groups_of(pathway: Pathway) -> list[RequirementGroup]:
    """Every group of the pathway's tree with its requirements, levels and credit systems
    (two queries); the tree is rebuilt from ``parent_id``."""
    return list(
        pathway.groups.select_related("credit_system", "min_level__framework")
        .prefetch_related("requirements")
        .order_by("position", "pk")
    )


def completions_of(pathway: Pathway) -> QuerySet[PathwayCompletion]:
    """The pathway's completions, each with ``changed_at``: completed, flagged or reviewed."""
    return PathwayCompletion.objects.filter(pathway=pathway).annotate(
        changed_at=Greatest(
            "completed_at",
            Coalesce("review_flagged_at", "completed_at"),
            Coalesce("reviewed_at", "completed_at"),
        )
    )
