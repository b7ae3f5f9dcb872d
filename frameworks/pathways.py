"""Stackable pathways: requirement trees, each learner's progress, the automatic pathway award
and its CLR 2.0 ``ClrCredential`` (research frameworks.md §6, §9.4, §10 "Pathways").

A learner is a recipient e-mail within the institution. Only active, unexpired awards count,
each at most once per pathway. When the tree is satisfied after an award, the pathway's
achievement is awarded (``badges.services.award_badge`` schedules :func:`after_award` on
commit) and the stack is signed as a ``ClrCredential``. A later revocation of a counted award
does not undo anything: the completion is flagged for review in the same transaction
(:func:`flag_counted_awards`), and staff keep it or revoke the pathway credential.
"""

from __future__ import annotations

import datetime
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User, normalize_email
from badges import credentials, revocation
from badges import services as badge_services
from badges.models import Achievement, Award, AwardStatus
from frameworks.models import (
    CreditSystem,
    FrameworkLevel,
    Pathway,
    PathwayCompletion,
    Placement,
    Requirement,
    RequirementGroup,
)
from issuers import keys
from issuers.models import AuditEvent, Institution, Role
from issuers.permissions import require_role
from openbadges import clr, ob3

logger = logging.getLogger(__name__)
Rule = RequirementGroup.Rule


@dataclass
class GroupSpec:
    """A requirement group as an editor describes it, for :func:`create_pathway`."""

    rule: str
    achievements: Sequence[Achievement] = ()
    children: Sequence[GroupSpec] = ()
    required_count: int | None = None
    min_credits: Decimal | None = None
    credit_system: CreditSystem | None = None
    min_level: FrameworkLevel | None = None


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


def _check_spec(spec: GroupSpec, institution: Institution, target: Achievement) -> None:
    items = len(spec.achievements) + len(spec.children)
    if items == 0:
        raise ValidationError(_("Each group needs at least one requirement."))
    for achievement in spec.achievements:
        if achievement.issuer.institution_id != institution.pk:
            raise ValidationError(_("Choose micro-credentials of your institution."))
        if achievement.pk == target.pk:
            raise ValidationError(_("A pathway cannot require its own achievement."))
    if spec.rule == Rule.AT_LEAST_N and not (1 <= (spec.required_count or 0) <= items):
        raise ValidationError(_("“At least N” needs N between 1 and %(items)s.") % {"items": items})
    if spec.rule == Rule.MIN_CREDITS and (
        not spec.min_credits or spec.min_credits <= 0 or spec.credit_system is None
    ):
        raise ValidationError(_("“At least X credits” needs X above zero and a credit system."))
    for child in spec.children:
        _check_spec(child, institution, target)


def create_group(
    pathway: Pathway, spec: GroupSpec, parent: RequirementGroup | None, n: int
) -> None:
    """Store ``spec`` (and its sub-groups) as group ``n`` under ``parent`` of ``pathway``."""
    group = RequirementGroup.objects.create(
        pathway=pathway,
        parent=parent,
        position=n,
        rule=spec.rule,
        required_count=spec.required_count,
        min_credits=spec.min_credits,
        credit_system=spec.credit_system,
        min_level=spec.min_level,
    )
    Requirement.objects.bulk_create(
        Requirement(group=group, achievement=a, position=i) for i, a in enumerate(spec.achievements)
    )
    for i, child in enumerate(spec.children):
        create_group(pathway, child, group, i)


@transaction.atomic
def create_pathway(
    *,
    actor: User,
    institution: Institution,
    title_en: str,
    target: Achievement,
    root: GroupSpec,
    title_zh: str = "",
) -> Pathway:
    """Create a pathway whose completion awards ``target``. Editors and owners."""
    require_role(actor, institution, Role.EDITOR)
    if target.issuer.institution_id != institution.pk:
        raise ValidationError(_("Choose micro-credentials of your institution."))
    _check_spec(root, institution, target)
    pathway = Pathway.objects.create(
        institution=institution, title_en=title_en, title_zh=title_zh, target=target
    )
    create_group(pathway, root, None, 0)
    return pathway


def learner_awards(institution: Institution, email: str) -> dict[uuid.UUID, Award]:
    """The learner's awards that count: active, unexpired, of the institution's issuers;
    the most recent one per achievement."""
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


def _credits(award: Award, group: RequirementGroup) -> Decimal:
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
    return PathwayCompletion.objects.filter(
        pathway=pathway, recipient_email=normalize_email(email)
    ).first()


def clr_url(completion_id: uuid.UUID) -> str:
    return credentials.absolute(reverse("pathway_clr", args=[completion_id]))


def _sign_clr(completion: PathwayCompletion, counted: list[Award]) -> dict[str, object]:
    award = completion.award
    version = award.achievement_version
    issuer = version.achievement.issuer
    language = award.language
    target = credentials.achievement(version, language)
    parts = [credentials.achievement(a.achievement_version, a.language) for a in counted]
    unsigned = clr.build_clr(
        id=clr_url(completion.pk),
        issuer=credentials.issuer_profile(issuer, language),
        name=target.name,
        description=completion.pathway.title,
        recipient=ob3.Recipient(award.recipient_email),
        valid_from=completion.completed_at,
        credentials=[a.credential for a in counted] + [award.credential],
        achievements=[target, *parts],
        # CLR 2.0 §B.2.1: each stacked micro-credential is a child of the pathway achievement.
        associations=[clr.Association("isChildOf", part.id, target.id) for part in parts],
    )
    return keys.sign_credential(
        unsigned, key=keys.active_key(issuer), created=completion.completed_at
    )


@transaction.atomic
def complete_pathway(*, pathway: Pathway, email: str) -> PathwayCompletion | None:
    """Award the pathway's achievement to ``email`` if the tree is satisfied and it was not
    awarded before; sign the stack as a CLR. Returns the completion, or ``None``."""
    Pathway.objects.select_for_update().filter(pk=pathway.pk).first()
    email = normalize_email(email)
    if completion_of(pathway, email) is not None:
        return None
    progress = evaluate(pathway, email)
    if not progress.met:
        return None
    version = badge_services.latest_published(pathway.target)
    if version is None:
        return None
    last = progress.counted[-1] if progress.counted else None
    award = badge_services.award_badge(
        actor=None,
        version=version,
        email=email,
        name=last.recipient_name if last else "",
        language=last.language if last and last.language in version.languages() else None,
    )
    now = timezone.now().replace(microsecond=0)
    completion = PathwayCompletion.objects.create(
        pathway=pathway, recipient_email=email, award=award, completed_at=now
    )
    completion.counted.set(progress.counted)
    signed = _sign_clr(completion, progress.counted)
    completion.clr = signed
    completion.clr_json = json.dumps(signed, ensure_ascii=False, indent=2)
    completion.save(update_fields=["clr", "clr_json"])
    return completion


def after_award(award_id: uuid.UUID) -> list[PathwayCompletion]:
    """Run after an award commits: complete every pathway the award may finish."""
    award = (
        Award.objects.select_related("achievement_version", "issuer").filter(pk=award_id).first()
    )
    if award is None:
        return []
    pathways = Pathway.objects.filter(
        institution_id=award.issuer.institution_id,
        is_active=True,
        groups__requirements__achievement_id=award.achievement_version.achievement_id,
    ).distinct()
    done = []
    for pathway in pathways:
        completion = complete_pathway(pathway=pathway, email=award.recipient_email)
        if completion is not None:
            done.append(completion)
    return done


def after_awards(award_ids: list[uuid.UUID]) -> list[PathwayCompletion]:
    """:func:`after_award` for a bulk chunk: one query finds whether any active pathway
    counts these achievements (usually none), then each learner is evaluated once."""
    # Only the three columns needed: a chunk's credentials are ~3 KB each, twice over.
    awards = Award.objects.filter(pk__in=award_ids).values_list(
        "issuer__institution_id", "achievement_version__achievement_id", "recipient_email"
    )
    done: list[PathwayCompletion] = []
    by_scope: dict[tuple[int, uuid.UUID], set[str]] = {}
    for institution_id, achievement_id, email in awards:
        by_scope.setdefault((institution_id, achievement_id), set()).add(email)
    for (institution_id, achievement_id), emails in by_scope.items():
        pathways = list(
            Pathway.objects.filter(
                institution_id=institution_id,
                is_active=True,
                groups__requirements__achievement_id=achievement_id,
            ).distinct()
        )
        for pathway in pathways:
            for email in sorted(emails):
                completion = complete_pathway(pathway=pathway, email=email)
                if completion is not None:
                    done.append(completion)
    return done


def flag_counted_awards(
    *, awards: Sequence[Award], action: str, reason: str, at: datetime.datetime
) -> list[PathwayCompletion]:
    """Mark for review every pathway completion that counted one of ``awards``, which were
    just revoked or suspended. Called by ``badges.revocation`` inside the transaction that
    changes their status, so the flag is stored with the change, never computed on read."""
    links = list(
        PathwayCompletion.counted.through.objects.filter(
            award_id__in=[a.pk for a in awards]
        ).values_list("pathwaycompletion_id", "award_id")
    )
    if not links:
        return []
    award_of = dict(links)
    flagged = list(
        PathwayCompletion.objects.select_for_update()
        .filter(pk__in=award_of)
        .select_related("pathway")
    )
    for completion in flagged:
        completion.needs_review = True
        completion.review_flagged_at = at
        completion.review_award_id = award_of[completion.pk]
        completion.review_action = action
        completion.review_reason = reason
        completion.save(
            update_fields=[
                "needs_review",
                "review_flagged_at",
                "review_award",
                "review_action",
                "review_reason",
            ]
        )
        AuditEvent.objects.create(
            institution_id=completion.pathway.institution_id,
            actor=None,
            action="pathway.flagged",
            target=str(completion.award_id),
            data={"completion": str(completion.pk), "award": str(award_of[completion.pk])},
        )
    return flagged


def needing_review(institution: Institution) -> list[PathwayCompletion]:
    """Completions flagged because a counted award was revoked or suspended since (the
    stored flag set by :func:`flag_counted_awards`)."""
    rows = (
        PathwayCompletion.objects.filter(pathway__institution=institution, needs_review=True)
        .select_related("pathway", "award", "review_award__achievement_version")
        .order_by("-review_flagged_at")
    )
    return list(rows)


def _review(completion: PathwayCompletion, actor: User, outcome: str, note: str) -> None:
    completion.needs_review = False
    completion.reviewed_at = timezone.now()
    completion.reviewed_by = actor
    completion.review_outcome = outcome
    completion.review_note = note
    completion.save(
        update_fields=[
            "needs_review",
            "reviewed_at",
            "reviewed_by",
            "review_outcome",
            "review_note",
        ]
    )
    AuditEvent.objects.create(
        institution_id=completion.pathway.institution_id,
        actor=actor,
        action=f"pathway.review_{outcome}",
        target=str(completion.award_id),
        data={"completion": str(completion.pk), "note": note},
    )


def _locked_flagged(actor: User, completion: PathwayCompletion) -> PathwayCompletion:
    require_role(actor, completion.pathway.institution, Role.EDITOR)
    locked = (
        PathwayCompletion.objects.select_for_update(of=("self",))
        .select_related("pathway", "award__issuer__institution")
        .get(pk=completion.pk)
    )
    if not locked.needs_review:
        raise ValidationError(_("This pathway award does not need review."))
    return locked


@transaction.atomic
def keep_completion(*, actor: User, completion: PathwayCompletion, note: str = "") -> None:
    """Staff reviewed a flagged completion and keep the pathway credential. Editors and
    owners."""
    locked = _locked_flagged(actor, completion)
    _review(locked, actor, "kept", " ".join(note.split())[:2000])


@transaction.atomic
def revoke_completion(
    *, actor: User, completion: PathwayCompletion, reason: str, notify_earner: bool = True
) -> None:
    """Staff reviewed a flagged completion and revoke the pathway credential (with a reason
    shown to the learner and verifiers). Editors and owners."""
    locked = _locked_flagged(actor, completion)
    if locked.award.status == AwardStatus.REVOKED:
        raise ValidationError(_("This pathway credential has already been revoked."))
    revocation.revoke_award(
        actor=actor, award=locked.award, reason=reason, notify_earner=notify_earner
    )
    _review(locked, actor, "revoked", " ".join(reason.split())[:2000])
