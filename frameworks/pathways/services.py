"""Every write to pathways: the editor's create, update and (de)activate; a learner's
completion with its signed CLR 2.0 ``ClrCredential``; and the review flag a revoked counted
award sets (research frameworks.md §6, §9.4, §10 "Pathways").

Awarding the pathway's credential belongs to the awarding layer, which runs above this app: it
finds the pathways with ``selectors.pathways_to_complete``, serialises each with
:func:`lock_pathway`, awards the credential and stores the completion with
:func:`record_completion`, all in its transaction. A later revocation of a counted award does
not undo anything: the completion is flagged for review in the same transaction
(:func:`flag_counted_awards`), and staff keep it (:func:`keep_completion`) or revoke the
pathway credential.

A pathway has no versions: editing its tree changes the rules for future completions only;
existing completions, their credentials and signed records are rows of their own and stay as
they are (research §9.4).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from badges import credentials
from badges.models import Achievement, Award
from common.text import validate_badge_text
from frameworks.catalogue import export
from frameworks.models import Pathway, PathwayCompletion, Requirement, RequirementGroup
from frameworks.pathways.trees import GroupSpec, Rule, TreeCheck, check_tree
from issuers import keys
from issuers.models import AuditAction, Institution, Role
from issuers.permissions import require_role
from issuers.services import active_key, record_audit
from openbadges import clr, ob3
from openbadges.ob3 import normalize_email

# --- The editor -----------------------------------------------------------------------------


def _clean_spec(spec: GroupSpec) -> GroupSpec:
    """Keep only the values the rule uses, so the stored group says what it means."""
    return GroupSpec(
        rule=spec.rule,
        achievements=list(spec.achievements),
        children=[_clean_spec(c) for c in spec.children],
        required_count=spec.required_count if spec.rule == Rule.AT_LEAST_N else None,
        min_credits=spec.min_credits if spec.rule == Rule.MIN_CREDITS else None,
        credit_system=spec.credit_system if spec.rule == Rule.MIN_CREDITS else None,
        min_level=spec.min_level if spec.rule == Rule.MIN_CREDITS else None,
    )


def _refuse(
    check: TreeCheck, title_en: str, title_zh: str, target: Achievement | None
) -> Achievement:
    """Raise every problem in words; otherwise the target, which ``check_tree`` required.
    The titles describe the signed CLR: nothing XML cannot carry (``common.text``)."""
    errors = list(check.errors)
    if not title_en.strip():
        errors.insert(0, _("Give the pathway a name in English."))
    for label, title in ((_("Name (English)"), title_en), (_("Name (Chinese)"), title_zh)):
        try:
            validate_badge_text(title)
        except ValidationError as refused:
            problem = " ".join(refused.messages)
            errors.insert(0, _("%(field)s: %(problem)s") % {"field": label, "problem": problem})
    if errors or target is None:
        raise ValidationError(errors or _("Choose the credential this pathway awards."))
    return target


@transaction.atomic
def create_group(
    *,
    pathway: Pathway,
    spec: GroupSpec,
    parent: RequirementGroup | None = None,
    position: int = 0,
) -> RequirementGroup:
    """Store ``spec`` and its sub-groups as group ``position`` under ``parent`` (the top
    group without one). Part of :func:`create_pathway` and :func:`update_pathway`, which
    check the tree and write the audit row."""
    group = RequirementGroup.objects.create(
        pathway=pathway,
        parent=parent,
        position=position,
        rule=spec.rule,
        required_count=spec.required_count,
        min_credits=spec.min_credits,
        credit_system=spec.credit_system,
        min_level=spec.min_level,
    )
    Requirement.objects.bulk_create(
        Requirement(group=group, achievement=a, position=n) for n, a in enumerate(spec.achievements)
    )
    for n, child in enumerate(spec.children):
        create_group(pathway=pathway, spec=child, parent=group, position=n)
    return group


@transaction.atomic
def create_pathway(
    *,
    actor: User,
    institution: Institution,
    title_en: str,
    target: Achievement | None,
    root: GroupSpec,
    title_zh: str = "",
) -> Pathway:
    """Create a pathway whose completion awards ``target``, from the tree built in the
    editor; every problem is reported in words (``ValidationError`` with one message per
    problem, see ``trees.check_tree``). Editors and owners."""
    require_role(actor, institution, Role.EDITOR)
    target = _refuse(check_tree(root, institution, target), title_en, title_zh, target)
    pathway = Pathway.objects.create(
        institution=institution,
        title_en=title_en.strip(),
        title_zh=title_zh.strip(),
        target=target,
    )
    create_group(pathway=pathway, spec=_clean_spec(root))
    record_audit(
        institution_id=institution.pk,
        actor=actor,
        action=AuditAction.PATHWAY_CREATED,
        target=pathway.title_en,
    )
    return pathway


@transaction.atomic(durable=True)
def update_pathway(
    *,
    actor: User,
    pathway: Pathway,
    title_en: str,
    title_zh: str,
    target: Achievement | None,
    root: GroupSpec,
) -> Pathway:
    """Replace a pathway's name and requirement tree. Learners who completed it keep their
    completion, credential and signed record; the new tree applies to future completions.
    The credential it awards cannot change once it has been awarded. Editors and owners."""
    institution = pathway.institution
    require_role(actor, institution, Role.EDITOR)
    pathway = Pathway.objects.select_for_update().get(pk=pathway.pk)
    target = _refuse(check_tree(root, institution, target), title_en, title_zh, target)
    completed = pathway.completions.count()
    if target.pk != pathway.target_id and completed:
        raise ValidationError(
            ngettext(
                "This pathway has been completed by %(n)s learner, so the credential it awards "
                "can no longer change. Deactivate it and create a new pathway instead.",
                "This pathway has been completed by %(n)s learners, so the credential it awards "
                "can no longer change. Deactivate it and create a new pathway instead.",
                completed,
            )
            % {"n": completed}
        )
    pathway.title_en = title_en.strip()
    pathway.title_zh = title_zh.strip()
    pathway.target = target
    pathway.save(update_fields=["title_en", "title_zh", "target"])
    # Groups and requirements are the rules only; completions do not point at them.
    RequirementGroup.objects.filter(pathway=pathway, parent__isnull=True).delete()
    create_group(pathway=pathway, spec=_clean_spec(root))
    record_audit(
        institution_id=institution.pk,
        actor=actor,
        action=AuditAction.PATHWAY_UPDATED,
        target=pathway.title_en,
    )
    return pathway


@transaction.atomic(durable=True)
def set_pathway_active(*, actor: User, pathway: Pathway, active: bool) -> None:
    """Deactivate a pathway (no new completions; earlier ones stay) or activate it again."""
    require_role(actor, pathway.institution, Role.EDITOR)
    Pathway.objects.filter(pk=pathway.pk).update(is_active=active)
    pathway.is_active = active
    record_audit(
        institution_id=pathway.institution_id,
        actor=actor,
        action=AuditAction.PATHWAY_ACTIVATED if active else AuditAction.PATHWAY_DEACTIVATED,
        target=pathway.title_en,
    )


# --- Completions ----------------------------------------------------------------------------


def clr_url(completion_id: uuid.UUID) -> str:
    """The CLR's ``id``: where its signed JSON is served."""
    return credentials.absolute(reverse("pathway_clr", args=[completion_id]))


def lock_pathway(pathway: Pathway) -> None:
    """Lock the pathway's row until the caller's transaction ends (``SELECT … FOR UPDATE``),
    so two awards committed at once do not both complete it for the same learner. Raises
    outside a transaction."""
    Pathway.objects.select_for_update().filter(pk=pathway.pk).first()


def _sign_clr(completion: PathwayCompletion, counted: list[Award]) -> dict[str, object]:
    award = completion.award
    version = award.achievement_version
    issuer = version.achievement.issuer
    language = award.language
    target = export.achievement(version, language)
    parts = [export.achievement(a.achievement_version, a.language) for a in counted]
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
    return keys.sign_credential(unsigned, key=active_key(issuer), created=completion.completed_at)


@transaction.atomic
def record_completion(
    *, pathway: Pathway, email: str, award: Award, counted: list[Award]
) -> PathwayCompletion:
    """Store that ``email`` completed ``pathway`` and was given ``award`` (the pathway's
    credential) for the ``counted`` awards, with the stack signed as a CLR 2.0
    ``ClrCredential`` by the issuer's active key. Runs inside the awarding layer's
    transaction, which has locked the pathway (:func:`lock_pathway`) and audited the award."""
    completion = PathwayCompletion.objects.create(
        pathway=pathway,
        recipient_email=normalize_email(email),
        award=award,
        completed_at=timezone.now().replace(microsecond=0),
    )
    completion.counted.set(counted)
    signed = _sign_clr(completion, counted)
    completion.clr = signed
    completion.clr_json = json.dumps(signed, ensure_ascii=False, indent=2)
    completion.save(update_fields=["clr", "clr_json"])
    return completion


@transaction.atomic
def flag_counted_awards(
    *, awards: Sequence[Award], action: str, reason: str, at: datetime.datetime
) -> list[PathwayCompletion]:
    """Mark for review every pathway completion that counted one of ``awards``, which were
    just revoked or suspended (``action``). Called inside the transaction that changes their
    status, so the flag is stored with the change, never computed on read."""
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
        record_audit(
            institution_id=completion.pathway.institution_id,
            actor=None,
            action=AuditAction.PATHWAY_FLAGGED,
            target=str(completion.award_id),
            completion=str(completion.pk),
            award=str(award_of[completion.pk]),
        )
    return flagged


# --- Review of a flagged completion ---------------------------------------------------------


def take_flagged(*, actor: User, completion: PathwayCompletion) -> PathwayCompletion:
    """The completion, locked until the caller's transaction ends, for ``actor`` to review:
    editors and owners only, and only while it is flagged. Call it inside the transaction
    that records the review (it raises outside one)."""
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
def record_review(*, completion: PathwayCompletion, actor: User, outcome: str, note: str) -> None:
    """Clear the review flag of a completion taken with :func:`take_flagged`: staff kept the
    pathway credential (``outcome="kept"``) or revoked it (``"revoked"``); ``note`` says why
    (spaces collapsed, at most 2,000 characters)."""
    action = AuditAction(f"pathway.review_{outcome}")
    note = " ".join(note.split())[:2000]
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
    record_audit(
        institution_id=completion.pathway.institution_id,
        actor=actor,
        action=action,
        target=str(completion.award_id),
        completion=str(completion.pk),
        note=note,
    )


@transaction.atomic
def keep_completion(*, actor: User, completion: PathwayCompletion, note: str = "") -> None:
    """Staff reviewed a flagged completion and keep the pathway credential. Editors and
    owners."""
    locked = take_flagged(actor=actor, completion=completion)
    record_review(completion=locked, actor=actor, outcome="kept", note=note)
