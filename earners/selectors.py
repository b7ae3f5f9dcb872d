"""Reads of the learner's side: a learner's addresses and awards, privacy, and view counts.

Every read is scoped to one learner: an award is theirs only when its ``recipient_email`` is
one of their verified addresses, or when its issuer's institution vouched for its
``recipient_identifier`` as theirs (``InstitutionalIdentity``: the same type and value, of
that institution; never another institution's, where the same student number is someone
else).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import BigIntegerField, CharField, Count, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from badges.models import Award
from earners.models import (
    AwardPreference,
    Channel,
    Collection,
    HeldAward,
    InstitutionalIdentity,
    Kind,
    LearnerEmail,
    LearnerProfile,
    ViewEvent,
    Visibility,
)
from issuers.models import Membership
from verification.models import OwnVerification


def is_learner(user: User) -> bool:
    """A learner is a signed-in person without any staff membership."""
    return bool(user.is_authenticated) and not Membership.objects.filter(user=user).exists()


def profile_of(user: User) -> LearnerProfile:
    """The learner's profile settings; an unsaved default one until they first save them
    (a page that shows them writes nothing)."""
    found = LearnerProfile.objects.filter(user=user).first()
    return found or LearnerProfile(user=user, display_name=user.name)


def verified_emails(user: User) -> list[str]:
    return list(
        LearnerEmail.objects.filter(user=user, verified_at__isnull=False).values_list(
            "email", flat=True
        )
    )


_EMAIL = "emailAddress"  # the kind of a verified address in learner_keys' one query
_HELD = "held"  # the kind of an award handed over (HeldAward) in the same query


@dataclass(frozen=True)
class LearnerKeys:
    """What names a learner on awards: verified addresses, (institution id, identifier
    type, identifier) for each institutional identity, and the ids of awards handed over."""

    emails: list[str]
    identities: list[tuple[int, str, str]]
    held: list[str] = field(default_factory=list)

    def awards(self) -> Q:
        """The awards these name: by address, by identifier within its institution, or
        handed over."""
        mine = Q(recipient_email__in=self.emails) if self.emails else Q(pk__in=[])
        if self.held:
            mine |= Q(pk__in=self.held)
        for institution_id, identity_type, value in self.identities:
            mine |= Q(
                issuer__institution_id=institution_id,
                recipient_identifier_type=identity_type,
                recipient_identifier=value,
            )
        return mine


def learner_keys(user: User) -> LearnerKeys:
    """``user``'s verified addresses and institutional identities, in one query."""
    emails = (
        LearnerEmail.objects.filter(user=user, verified_at__isnull=False)
        .order_by()
        .values_list(Value(_EMAIL), Value(0, output_field=BigIntegerField()), "email")
    )
    identities = (
        InstitutionalIdentity.objects.filter(user=user)
        .order_by()
        .values_list("identity_type", "institution_id", "value")
    )
    held = (
        HeldAward.objects.filter(user=user)
        .order_by()
        .values_list(
            Value(_HELD), Value(0, output_field=BigIntegerField()), Cast("award_id", CharField())
        )
    )
    found = LearnerKeys(emails=[], identities=[])
    for kind, institution_id, value in emails.union(identities, held, all=True):
        if kind == _EMAIL:
            found.emails.append(value)
        elif kind == _HELD:
            found.held.append(value)
        else:
            found.identities.append((institution_id, kind, value))
    return found


def backpack(user: User) -> QuerySet[Award]:
    """All awards made to any of ``user``'s verified addresses or institutional identities,
    newest first."""
    return (
        Award.objects.filter(learner_keys(user).awards())
        .select_related("issuer__institution", "achievement_version__achievement")
        .order_by("-awarded_at", "pk")
    )


def _identity_of(award: Award) -> QuerySet[InstitutionalIdentity]:
    """The institutional identities that ``award``'s identifier names: of its issuer's
    institution only (none when the award has no identifier)."""
    if not award.recipient_identifier:
        return InstitutionalIdentity.objects.none()
    return InstitutionalIdentity.objects.filter(
        institution__issuers=award.issuer_id,
        identity_type=award.recipient_identifier_type,
        value=award.recipient_identifier,
    )


def owns_award(user: User, award: Award) -> bool:
    if HeldAward.objects.filter(award=award, user=user).exists():
        return True
    if (
        award.recipient_email
        and LearnerEmail.objects.filter(
            user=user, email=award.recipient_email, verified_at__isnull=False
        ).exists()
    ):
        return True
    return bool(award.recipient_identifier) and _identity_of(award).filter(user=user).exists()


def owner_of(award: Award) -> int | None:
    """The id of the learner ``award`` belongs to: who was handed it (``HeldAward``), else
    who confirmed its address, else who holds its identifier; ``None`` while no one does.
    One query."""
    rank = IntegerField()
    parts: list[QuerySet[Any, Any]] = [
        HeldAward.objects.filter(award=award)
        .order_by()
        .values_list(Value(0, output_field=rank), "user_id")
    ]
    if award.recipient_email:
        parts.append(
            LearnerEmail.objects.filter(email=award.recipient_email, verified_at__isnull=False)
            .order_by()
            .values_list(Value(1, output_field=rank), "user_id")
        )
    if award.recipient_identifier:
        parts.append(
            _identity_of(award).order_by().values_list(Value(2, output_field=rank), "user_id")
        )
    rows = list(parts[0].union(*parts[1:], all=True)) if len(parts) > 1 else list(parts[0])
    return min(rows)[1] if rows else None


def award_of(user: User, award_id: uuid.UUID) -> Award:
    """``user``'s award, or 404 — also for another learner's award."""
    found = backpack(user).filter(pk=award_id).first()
    if found is None:
        raise Http404
    return found


def collections_of(user: User) -> QuerySet[Collection]:
    return Collection.objects.filter(owner=user).prefetch_related("awards")


def collection_of(user: User, collection_id: uuid.UUID) -> Collection:
    found = collections_of(user).filter(pk=collection_id).first()
    if found is None:
        raise Http404
    return found


def open_collection(token: str) -> Collection:
    """The shared collection behind a link, or 404 when unknown, expired or revoked."""
    found = Collection.objects.select_related("owner").filter(token=token).first()
    if found is None or not found.is_open:
        raise Http404
    return found


def preference_of(award: Award) -> AwardPreference | None:
    """The learner's stored choices for ``award``; ``None`` until they change one."""
    try:
        return award.preference
    except ObjectDoesNotExist:
        return None


def effective_preference(award: Award) -> AwardPreference | None:
    """What the public badge page follows: the learner's stored choices; else, once a learner
    has confirmed the address the badge was sent to (or signed in with the identifier it was
    awarded to), the protective defaults (private, nameless, without evidence); else
    ``None`` while no learner has (the issuer's page stays as issued). Read once per award
    object."""
    if "_effective_preference" not in award.__dict__:
        found = preference_of(award)
        if found is None:
            owner = owner_of(award)
            found = AwardPreference(award=award, user_id=owner) if owner is not None else None
        award.__dict__["_effective_preference"] = found
    preference: AwardPreference | None = award.__dict__["_effective_preference"]
    return preference


def remember_owner(award: Award, owner: int | None) -> None:
    """Set what ``effective_preference`` reads, when the caller read ``owner_of(award)``
    along with the award (the public badge page does, in its one query)."""
    found = preference_of(award)
    if found is None and owner is not None:
        found = AwardPreference(award=award, user_id=owner)
    award.__dict__["_effective_preference"] = found


def is_indexable(award: Award) -> bool:
    """Search engines may index the page only if the learner made the badge public (or no
    learner has claimed it yet, when the issuer's page stays as issued)."""
    preference = effective_preference(award)
    return preference is None or preference.visibility == Visibility.PUBLIC


def show_name(award: Award) -> bool:
    preference = effective_preference(award)
    return preference is None or preference.show_name


def show_evidence(award: Award) -> bool:
    preference = effective_preference(award)
    return preference is None or preference.include_evidence


def public_awards(user: User) -> QuerySet[Award]:
    """What the learner's public profile lists: public badges only."""
    return backpack(user).filter(preference__visibility=Visibility.PUBLIC)


# --- Who viewed my badge ---------------------------------------------------------------


@dataclass
class Stats:
    """Views and verifications over ``days`` days, by day, channel and organisation."""

    days: list[dt.date]
    views_by_day: list[int]
    verifications_by_day: list[int]
    by_channel: dict[str, int] = field(default_factory=dict)
    organisations: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total_views(self) -> int:
        return sum(self.views_by_day)

    @property
    def total_verifications(self) -> int:
        return sum(self.verifications_by_day)

    @property
    def channels(self) -> list[tuple[str, str, int]]:
        return [
            (value, str(label), self.by_channel.get(value, 0)) for value, label in Channel.choices
        ]


def _stats(
    events: QuerySet[ViewEvent], days: int, own: QuerySet[OwnVerification] | None = None
) -> Stats:
    """``own``: verifications on this platform's verify page and API (no organisation)."""
    today = timezone.localdate()
    start = today - dt.timedelta(days=days - 1)
    span = [start + dt.timedelta(days=i) for i in range(days)]
    rows = (
        events.filter(day__gte=start)
        .values("day", "kind", "channel", "organisation")
        .annotate(n=Count("id"))
    )
    views: Counter[dt.date] = Counter()
    checks: Counter[dt.date] = Counter()
    channels: Counter[str] = Counter()
    organisations: Counter[str] = Counter()
    for row in rows:
        if row["kind"] == Kind.VIEW:
            views[row["day"]] += row["n"]
            channels[row["channel"]] += row["n"]
        else:
            checks[row["day"]] += row["n"]
            if row["organisation"]:
                organisations[row["organisation"]] += row["n"]
    if own is not None:
        for day, n in (
            own.filter(day__gte=start).order_by().values_list("day").annotate(n=Count("id"))
        ):
            checks[day] += n
    return Stats(
        days=span,
        views_by_day=[views[d] for d in span],
        verifications_by_day=[checks[d] for d in span],
        by_channel=dict(channels),
        organisations=organisations.most_common(20),
    )


def award_stats(award: Award, days: int = 30) -> Stats:
    """Views and verifications of ``award``: also those on the platform's own verify page
    and API."""
    return _stats(
        ViewEvent.objects.filter(award=award), days, OwnVerification.objects.filter(award=award)
    )


def collection_stats(collection: Collection, days: int = 30) -> Stats:
    return _stats(ViewEvent.objects.filter(collection=collection), days)


def issuer_totals(award_ids: QuerySet[Award]) -> dict[str, int]:
    """What an issuer may see: totals over many awards, never per learner or organisation.
    Scans the events of every award given: for a few awards; the console reads the
    ``analytics`` rollups instead."""
    counts = ViewEvent.objects.filter(award__in=award_ids).aggregate(
        views=Count("id", filter=Q(kind=Kind.VIEW)),
        verifications=Count("id", filter=Q(kind=Kind.VERIFICATION)),
    )
    own = OwnVerification.objects.filter(award__in=award_ids).count()
    return {"views": counts["views"], "verifications": counts["verifications"] + own}


def superseded_by(award: Award) -> Award | None:
    """The award that replaced this one after an identity change, if any."""
    preference = effective_preference(award)
    return preference.superseded_by if preference is not None else None
