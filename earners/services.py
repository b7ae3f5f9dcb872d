"""Every write of the learner's side. Keyword-only, typed, atomic; e-mail on commit.

Learners act only on their own rows: each function takes the acting ``user`` and refuses
(``PermissionDenied``) anything that is not theirs. The one-step claim (the end of the
module) acts on the word of a claim link instead: the link was e-mailed to the address.

About 480 lines: sign-up and addresses, privacy, collections, view counts, account deletion
and the one-step claim share the address and preference rules kept here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import create_user
from badges import services as award_services
from badges.models import Award, AwardNotification, AwardStatus
from common.mail import send_templated_mail
from earners import selectors
from earners.models import (
    AwardPreference,
    Channel,
    Collection,
    HeldAward,
    Kind,
    LearnerEmail,
    LearnerProfile,
    Visibility,
)
from earners.viewcounts import services as viewcounts
from openbadges.ob3 import normalize_email

log = logging.getLogger(__name__)

VERIFY_SALT = "earners.email-verification"
VERIFY_MAX_AGE = 3 * 24 * 3600
# How long after the award e-mail was sent its claim link still proves the address.
CLAIM_PROVES_FOR = dt.timedelta(days=90)
MAX_ADDRESSES = 10
ORGANISATION_MAX = 120


def verification_token(address: LearnerEmail) -> str:
    """A signed, expiring token naming this address row and the address itself."""
    return signing.dumps({"id": address.pk, "email": address.email}, salt=VERIFY_SALT)


def _send_verification(address: LearnerEmail, language: str, next_path: str = "") -> None:
    link = settings.INSIGNIA_BASE_URL + reverse(
        "earners:verify_email", args=[verification_token(address)]
    )
    if next_path:
        link += "?" + urlencode({"next": next_path})
    with translation.override(language):
        subject = _("Confirm your e-mail address for Insignia")
        body = render_to_string(
            "earners/email_verify.txt", {"link": link, "address": address.email}
        )
    EmailMessage(subject=subject, body=body, to=[address.email]).send()


def _queue_verification(address: LearnerEmail, next_path: str = "") -> None:
    language = translation.get_language() or "en"
    transaction.on_commit(lambda: _send_verification(address, language, next_path))


@transaction.atomic
def sign_up(*, email: str, password: str, name: str = "", next_path: str = "") -> User:
    """Create a learner account; its address is unverified until the link is followed (the
    link then signs the learner in and continues to ``next_path``, a local path)."""
    user = create_user(email=email, password=password, name=name)
    LearnerProfile.objects.create(user=user, display_name=user.name)
    address = LearnerEmail.objects.create(user=user, email=user.email)
    _queue_verification(address, next_path)
    return user


@transaction.atomic
def request_sign_up(*, email: str, password: str, name: str = "", next_path: str = "") -> None:
    """Sign-up as the page asks for it, with the same outcome for the page whether the address
    has an account or not (no account enumeration): a new address gets an account
    and its confirmation link (:func:`sign_up`); an address that has an account gets no second
    one, only an e-mail saying someone tried, with links to sign in and to reset the password.

    Raises ``ValidationError`` ({"password"}) for a password the validators refuse, before the
    address is looked up, so that answer cannot differ either."""
    email = normalize_email(email)
    try:
        validate_password(password, User(email=email, name=name.strip()))
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    if not User.objects.filter(email=email).exists():
        try:
            with transaction.atomic():
                sign_up(email=email, password=password, name=name, next_path=next_path)
        except (ValidationError, IntegrityError):
            pass  # the address got an account meanwhile: answer as for one
        else:
            return
    make_password(password)  # the time creating an account spends hashing, so timing tells nothing
    language = translation.get_language() or settings.LANGUAGE_CODE
    context = {
        "email": email,
        "login_url": settings.INSIGNIA_BASE_URL + reverse("earners:login"),
        "reset_url": settings.INSIGNIA_BASE_URL + reverse("manage:password_reset"),
    }
    transaction.on_commit(
        lambda: send_templated_mail(
            to=email, template="signup_exists", context=context, language=language
        )
    )


@transaction.atomic
def add_email(*, user: User, email: str) -> LearnerEmail:
    """Add another address to ``user``'s account and send it a verification link."""
    email = normalize_email(email)
    if not email:
        raise ValidationError({"email": _("Enter an e-mail address.")})
    if LearnerEmail.objects.filter(email=email, verified_at__isnull=False).exists():
        raise ValidationError({"email": _("This address is already verified by an account.")})
    if LearnerEmail.objects.filter(user=user).count() >= MAX_ADDRESSES:
        raise ValidationError({"email": _("You can keep at most ten addresses.")})
    address, _created = LearnerEmail.objects.get_or_create(user=user, email=email)
    _queue_verification(address)
    return address


@transaction.atomic
def resend_verification(*, user: User, address_id: int) -> LearnerEmail:
    address = LearnerEmail.objects.filter(user=user, pk=address_id).first()
    if address is None:
        raise PermissionDenied
    if not address.is_verified:
        _queue_verification(address)
    return address


@dataclass(frozen=True)
class Confirmation:
    address: LearnerEmail
    # The address was the account's sign-in address and is confirmed now, for the first
    # time: following the link ends the sign-up, and may sign the learner in.
    completes_sign_up: bool


@transaction.atomic
def confirm_email(*, token: str) -> Confirmation:
    """Mark the address named by ``token`` verified. Raises ``ValidationError`` if the link
    is forged, expired, or the address was verified by another account meanwhile."""
    try:
        data = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE)
    except signing.BadSignature:
        raise ValidationError(_("This confirmation link is invalid or has expired.")) from None
    address = (
        LearnerEmail.objects.select_for_update()
        .filter(pk=data.get("id"), email=data.get("email"))
        .first()
    )
    if address is None:
        raise ValidationError(_("This confirmation link is invalid or has expired."))
    if address.verified_at is None:
        taken = LearnerEmail.objects.filter(email=address.email, verified_at__isnull=False)
        if taken.exclude(pk=address.pk).exists():
            raise ValidationError(_("Another account has already verified this address."))
        address.verified_at = timezone.now()
        address.save(update_fields=["verified_at"])
        return Confirmation(address, completes_sign_up=address.email == address.user.email)
    return Confirmation(address, completes_sign_up=False)


@transaction.atomic
def remove_email(*, user: User, address_id: int) -> None:
    """Remove one of ``user``'s addresses (not the sign-in address)."""
    address = LearnerEmail.objects.filter(user=user, pk=address_id).first()
    if address is None:
        raise PermissionDenied
    if address.email == user.email:
        raise ValidationError(_("The address you sign in with cannot be removed."))
    address.delete()


@transaction.atomic
def hold_award(*, user: User, award: Award, via: str) -> bool:
    """Put ``award`` in ``user``'s backpack on the word of the channel that made it (an LMS
    launch of the learner it was awarded to, ``lti``): no address or identifier to confirm.
    False when someone else already holds it."""
    if selectors.owns_award(user, award):
        return True
    held, _created = HeldAward.objects.get_or_create(
        award=award, defaults={"user": user, "via": via}
    )
    return held.user_id == user.pk


def _own_award(user: User, award: Award) -> None:
    if not selectors.owns_award(user, award):
        raise PermissionDenied


@transaction.atomic
def set_award_preference(
    *,
    user: User,
    award: Award,
    visibility: str,
    show_name: bool,
    include_evidence: bool,
) -> AwardPreference:
    """How ``award`` is shown publicly; only the learner it was awarded to may choose."""
    _own_award(user, award)
    if visibility not in Visibility.values:
        raise ValidationError({"visibility": _("Choose who can see this badge.")})
    preference, _created = AwardPreference.objects.select_for_update().get_or_create(
        award=award, defaults={"user": user}
    )
    preference.user = user
    preference.visibility = visibility
    preference.show_name = show_name
    preference.include_evidence = include_evidence
    preference.save()
    return preference


@transaction.atomic
def claim_preferences(*, user: User, awards: Iterable[Award]) -> int:
    """Store the protective defaults for each of ``user``'s awards that has no stored
    preference yet (they apply from the moment the address is confirmed; storing them keeps
    them when the account is deleted)."""
    awards = list(awards)
    stored = set(
        AwardPreference.objects.filter(award__in=awards).values_list("award_id", flat=True)
    )
    missing = [AwardPreference(award=a, user=user) for a in awards if a.pk not in stored]
    AwardPreference.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


@transaction.atomic
def set_profile(*, user: User, public: bool, display_name: str) -> LearnerProfile:
    profile, _created = LearnerProfile.objects.get_or_create(user=user)
    profile.public = public
    profile.display_name = display_name.strip()[:150]
    profile.save()
    return profile


@transaction.atomic
def create_collection(
    *, user: User, name: str, awards: list[Award], expires_at: dt.datetime | None = None
) -> Collection:
    """A named set of the learner's badges, shared by its secret link."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the collection a name.")})
    if not awards:
        raise ValidationError({"awards": _("Choose at least one badge.")})
    for award in awards:
        _own_award(user, award)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("Choose a date in the future.")})
    collection = Collection.objects.create(owner=user, name=name[:150], expires_at=expires_at)
    collection.awards.set(awards)
    return collection


@transaction.atomic
def revoke_collection(*, user: User, collection: Collection) -> Collection:
    """Close the collection's link for good; the badges themselves are untouched."""
    if collection.owner_id != user.pk:
        raise PermissionDenied
    if collection.revoked_at is None:
        collection.revoked_at = timezone.now()
        collection.save(update_fields=["revoked_at"])
    return collection


# --- Who viewed my badge ---------------------------------------------------------------

LINKEDIN_HOSTS = ("linkedin.com", "lnkd.in")
ROBOT_MARKERS = ("bot", "crawler", "spider", "facebookexternalhit", "preview")


def channel_of(request: HttpRequest, *, is_json: bool = False) -> str | None:
    """The channel a request came through, or ``None`` when it should not count (HEAD,
    link-preview robots). Reads headers once and stores nothing from them."""
    if request.method != "GET":
        return None
    agent = request.headers.get("User-Agent", "").lower()
    if any(marker in agent for marker in ROBOT_MARKERS):
        return None
    if is_json:
        return Channel.API
    source = request.GET.get("src", "")
    if source in (Channel.QR, Channel.EMBED, Channel.LINKEDIN):
        return source
    host = urlsplit(request.headers.get("Referer", "")).hostname or ""
    if any(host == h or host.endswith("." + h) for h in LINKEDIN_HOSTS):
        return Channel.LINKEDIN
    return Channel.DIRECT


def record_view(
    *,
    award: Award | None = None,
    collection: Collection | None = None,
    channel: str,
    kind: str = Kind.VIEW,
    organisation: str = "",
) -> None:
    """Count one view or verification. Buffered in Redis when there is one and flushed into
    ``ViewEvent`` rows by ``earners.tasks.flush_view_counts`` (``earners.viewcounts``), else
    a single INSERT in its own savepoint. Never raises, so a counting problem can never
    break or slow the page that calls it."""
    if channel not in Channel.values or kind not in Kind.values:
        return
    viewcounts.count(
        award=award,
        collection=collection,
        channel=channel,
        kind=kind,
        organisation=" ".join(organisation.split())[:ORGANISATION_MAX],
    )


@transaction.atomic
def delete_account(*, user: User, password: str) -> None:
    """Delete a learner's account and everything kept for it (addresses, collections,
    imports). Their badges stay with the issuers; privacy choices stay in force."""
    if not user.check_password(password):
        raise ValidationError({"password": _("That password is not correct.")})
    if not selectors.is_learner(user):
        raise ValidationError(
            _("Staff accounts are closed by the institution's owner, not from here.")
        )
    # The protective defaults a confirmed address gave the learner's badges are stored
    # before the addresses go, so that they stay in force without the account.
    claim_preferences(user=user, awards=selectors.backpack(user))
    user.delete()


@transaction.atomic
def confirm_address_from_claim(*, user: User, email: str) -> LearnerEmail:
    """For the claim page: following a claim link sent to ``email`` proves the
    learner controls it, so the address is added verified and the award joins the backpack.
    Refused when another account has already verified that address."""
    email = normalize_email(email)
    taken = LearnerEmail.objects.filter(email=email, verified_at__isnull=False)
    if taken.exclude(user=user).exists():
        raise ValidationError(_("Another account has already verified this address."))
    address, _created = LearnerEmail.objects.get_or_create(user=user, email=email)
    if address.verified_at is None:
        address.verified_at = timezone.now()
        address.save(update_fields=["verified_at"])
    return address


# --- One-step claim ------------------------------------------------------------------------


def claim_link_proves(award: Award, email: str) -> bool:
    """Whether holding ``award``'s claim link proves control of ``email``: the award is
    not revoked, ``email`` is the very address it was made to, and an e-mail with the link
    was sent there within ``CLAIM_PROVES_FOR`` (an award never e-mailed proves nothing)."""
    email = normalize_email(email)
    if not email or award.status == AwardStatus.REVOKED:
        return False
    if email != normalize_email(award.recipient_email):
        return False
    since = timezone.now() - CLAIM_PROVES_FOR
    return AwardNotification.objects.filter(award=award, sent_at__gte=since).exists()


@transaction.atomic
def sign_up_from_claim(*, award: Award, email: str, password: str, name: str = "") -> User | None:
    """Create a learner account from ``award``'s claim link with its address already
    confirmed: the link went to that address, so no second e-mail is needed and the badge
    is in the backpack at once. Only for the award's own recipient address, while
    :func:`claim_link_proves`, and only for an address no account has; else ``None`` and
    the caller takes the ordinary sign-up (:func:`request_sign_up`).

    Raises ``ValidationError`` ({"password"}) for a password the validators refuse."""
    email = normalize_email(email)
    try:
        validate_password(password, User(email=email, name=name.strip()))
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    if not claim_link_proves(award, email):
        return None
    if User.objects.filter(email=email).exists():
        return None
    if LearnerEmail.objects.filter(email=email, verified_at__isnull=False).exists():
        return None
    try:
        with transaction.atomic():
            user = create_user(email=email, password=password, name=name)
            LearnerProfile.objects.create(user=user, display_name=user.name)
            LearnerEmail.objects.create(user=user, email=email, verified_at=timezone.now())
            # The choice made while accepting without an account is theirs now.
            AwardPreference.objects.filter(award=award, user__isnull=True).update(user=user)
    except (ValidationError, IntegrityError):
        return None  # the address got an account meanwhile
    # Learner accounts have no audit table: the confirmation is logged (no address in it).
    log.info(
        "learner %s: sign-in address confirmed by the claim link of award %s", user.pk, award.pk
    )
    return user


@transaction.atomic
def accept_claim_signed_in(*, user: User, award: Award) -> bool:
    """A signed-in learner follows ``award``'s claim link: the address is confirmed when it
    is already one of their account's addresses (the link proves it); an address they never
    added is not taken over this way. True when the award is in their backpack now."""
    if selectors.owns_award(user, award):
        return True
    address = LearnerEmail.objects.filter(
        user=user, email=normalize_email(award.recipient_email), verified_at__isnull=True
    ).first()
    if address is None or not claim_link_proves(award, address.email):
        return False
    if LearnerEmail.objects.filter(email=address.email, verified_at__isnull=False).exists():
        return False
    address.verified_at = timezone.now()
    address.save(update_fields=["verified_at"])
    log.info("learner %s: address confirmed by the claim link of award %s", user.pk, award.pk)
    return True


@transaction.atomic
def record_claim_choice(
    *, award: Award, show_name: bool, user: User | None = None
) -> AwardPreference:
    """Store what the learner chose while accepting ``award``: whether the public page shows
    their name. The other choices keep their protective defaults. ``user`` is ``None`` when
    they accepted without an account (the link is the only key)."""
    preference, created = AwardPreference.objects.select_for_update().get_or_create(
        award=award, defaults={"user": user, "show_name": show_name}
    )
    if not created:
        preference.show_name = show_name
        if preference.user is None and user is not None:
            preference.user = user
        preference.save()
    return preference


@transaction.atomic
def accept_claim(*, award: Award, show_name: bool, user: User | None = None) -> bool:
    """The claim page's "Accept": the award is accepted (``claimed_at``, once), and the
    first acceptance stores whether its public page shows the learner's name. For a
    signed-in ``user``, the badge joins their backpack when the link proves the address
    (:func:`accept_claim_signed_in`). True when it is in ``user``'s backpack."""
    first = award.claimed_at is None
    award = award_services.claim_award(award=award)
    mine = user is not None and accept_claim_signed_in(user=user, award=award)
    if first:
        record_claim_choice(award=award, show_name=show_name, user=user if mine else None)
    return mine
