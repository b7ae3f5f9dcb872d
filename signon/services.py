"""What happens once an identity provider has vouched for someone (``signon.saml``,
``signon.oidc``): find or create their account, attach the identifiers the institution
vouched for, give staff the role the owner mapped, and sign them in.

Every rule that keeps institutions apart is here, once, for both protocols:

- a provider signs people into *its own* institution only: memberships it creates and
  identifiers it attaches are its institution's, and it never finds an existing account by
  e-mail address (an identity provider could claim anyone's address). An address that already
  has an account is linked only when that account's owner is signed in and starts the
  sign-in themselves (``link_user``);
- a rule never makes anyone an owner, and an existing member's role is left as the owner set
  it;
- e-mail addresses an identity provider sends are not treated as confirmed: awards reach a
  learner by a confirmed address or by an identifier the institution vouched for.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth import login, logout
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts.models import User
from badges.models import IdentifierType
from earners.models import InstitutionalIdentity, LearnerEmail
from issuers.models import ROLE_RANK, AuditAction, Membership, Role
from issuers.services import record_audit
from openbadges.ob3 import normalize_email, normalize_identifier
from signon.models import ExternalAccount, IdentityProvider, PendingSignIn, Protocol

#: How long a started sign-in may take at the identity provider.
PENDING_LIFETIME = timedelta(minutes=15)
#: The cookie that ties a started sign-in to the browser that started it.
BROWSER_COOKIE = "insignia_signon"
#: The session key saying how this session signed in (``{"provider": id, ...}``); SAML adds
#: what single logout needs.
SESSION_KEY = "signon"
#: The query parameter that asks to link the institution to the signed-in account.
LINK_PARAMETER = "link"
#: Roles a rule may give.
MAPPABLE_ROLES: tuple[str, ...] = (Role.EDITOR, Role.AWARDER, Role.VIEWER)


class SignInRefused(Exception):
    """A sign-in that must not go ahead; ``message`` is for the person, in their language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Claims:
    """What an identity provider vouched for, already verified by the protocol layer."""

    subject: str
    email: str = ""
    name: str = ""
    principal: str = ""  # eduPersonPrincipalName / subject-id → ``sourcedId``
    student_id: str = ""  # → ``studentId``
    affiliations: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


def _values(attributes: Mapping[str, Any], name: str) -> list[str]:
    if not name:
        return []
    value = attributes.get(name)
    if value is None:
        return []
    if isinstance(value, bool):
        return [str(value).lower()]
    if isinstance(value, str | int):
        return [str(value)]
    if isinstance(value, Iterable):
        return [str(v) for v in value if v is not None and str(v).strip()]
    return []


def _first(attributes: Mapping[str, Any], name: str) -> str:
    found = _values(attributes, name)
    return found[0].strip() if found else ""


def claims_from(provider: IdentityProvider, subject: str, attributes: Mapping[str, Any]) -> Claims:
    """The person's claims by meaning, read through the provider's attribute mapping.
    ``attributes`` maps attribute/claim names to a value or a list of values."""
    return Claims(
        subject=subject,
        email=_first(attributes, provider.attr_email),
        name=_first(attributes, provider.attr_name),
        principal=_first(attributes, provider.attr_principal),
        student_id=_first(attributes, provider.attr_student_id),
        affiliations=tuple(_values(attributes, provider.attr_affiliation)),
        groups=tuple(_values(attributes, provider.attr_groups)),
    )


def mapped_role(provider: IdentityProvider, claims: Claims) -> Role | None:
    """The highest staff role a rule gives for the person's affiliations and groups, or
    ``None`` (a learner). A scoped affiliation (``staff@uni.ac.nz``) also matches its
    unscoped value (``staff``). Never the owner role."""
    values: set[str] = set()
    for value in (*claims.affiliations, *claims.groups):
        cleaned = value.strip().lower()
        values.add(cleaned)
        if "@" in cleaned:
            values.add(cleaned.split("@", 1)[0])
    best: Role | None = None
    for rule in provider.role_rules or []:
        match = str(rule.get("value", "")).strip().lower()
        role = rule.get("role")
        if not match or role not in MAPPABLE_ROLES or match not in values:
            continue
        if best is None or ROLE_RANK[role] > ROLE_RANK[best]:
            best = Role(role)
    return best


def identifiers_of(claims: Claims) -> list[tuple[str, str]]:
    """``(identity type, normalized value)`` for each identifier the claims carry."""
    found = []
    if claims.student_id:
        value = normalize_identifier(IdentifierType.STUDENT_ID, claims.student_id)
        if value:
            found.append((str(IdentifierType.STUDENT_ID), value))
    if claims.principal:
        value = normalize_identifier(IdentifierType.SOURCED_ID, claims.principal)
        if value:
            found.append((str(IdentifierType.SOURCED_ID), value))
    return found


# --------------------------------------------------------------------------------------------
# Started sign-ins
# --------------------------------------------------------------------------------------------


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def start(
    request: HttpRequest,
    provider: IdentityProvider,
    *,
    key: str,
    next_url: str = "",
    nonce: str = "",
    code_verifier: str = "",
) -> tuple[PendingSignIn, str]:
    """Record a sign-in about to leave for the identity provider under ``key`` (the SAML
    request ID or OIDC ``state``). Returns it and the browser cookie value to set
    (:data:`BROWSER_COOKIE`, same value for every sign-in this browser starts)."""
    cookie = request.COOKIES.get(BROWSER_COOKIE) or secrets.token_urlsafe(32)
    # Linking the institution to the signed-in account happens only when that person asked
    # for it (``?link=1``, from their addresses page): on a shared computer, someone else
    # signing in through the institution must not land in the previous person's account.
    linking = request.GET.get(LINK_PARAMETER) == "1" and request.user.is_authenticated
    user = request.user if linking else None
    PendingSignIn.objects.filter(expires_at__lt=timezone.now()).delete()
    pending = PendingSignIn.objects.create(
        key=key,
        provider=provider,
        browser_hash=_hash(cookie),
        next_url=safe_next(request, next_url),
        link_user=user if isinstance(user, User) else None,
        nonce=nonce,
        code_verifier=code_verifier,
        expires_at=timezone.now() + PENDING_LIFETIME,
    )
    return pending, cookie


def take_pending(
    request: HttpRequest, provider: IdentityProvider, key: str, *, same_browser: bool = True
) -> PendingSignIn:
    """The started sign-in ``key`` of ``provider``, removed so it is used at most once.
    Refused when unknown, expired, another provider's, or (``same_browser``) started in
    another browser."""
    with transaction.atomic():
        pending = (
            PendingSignIn.objects.select_for_update()
            .filter(key=key, provider=provider, expires_at__gte=timezone.now())
            .first()
        )
        if pending is None:
            raise SignInRefused(
                _("This sign-in has expired or was already used. Please start again.")
            )
        if same_browser:
            # Checked before the sign-in is used up: a link opened in another browser must
            # not spoil the sign-in of the browser that started it.
            cookie = request.COOKIES.get(BROWSER_COOKIE, "")
            if not cookie or not secrets.compare_digest(_hash(cookie), pending.browser_hash):
                raise SignInRefused(
                    _("This sign-in was started in another browser. Please start again here.")
                )
        pending.delete()
    return pending


# --------------------------------------------------------------------------------------------
# Finishing a sign-in
# --------------------------------------------------------------------------------------------


def _via(provider: IdentityProvider) -> str:
    return "SAML" if provider.protocol == Protocol.SAML else "OpenID Connect"


def _attach_identifiers(
    user: User, provider: IdentityProvider, identifiers: Sequence[tuple[str, str]]
) -> None:
    now = timezone.now()
    for identity_type, value in identifiers:
        existing = InstitutionalIdentity.objects.filter(
            institution=provider.institution, identity_type=identity_type, value=value
        ).first()
        if existing is None:
            InstitutionalIdentity.objects.create(
                user=user,
                institution=provider.institution,
                identity_type=identity_type,
                value=value,
                verified_via=_via(provider),
                verified_at=now,
            )
        elif existing.user_id == user.pk:
            existing.verified_at = now
            existing.verified_via = _via(provider)
            existing.save(update_fields=["verified_at", "verified_via"])
        else:
            # The institution now says this identifier is this person's (a re-used sign-in
            # name, an account made before the identifier was known): it moves.
            existing.user = user
            existing.verified_at = now
            existing.verified_via = _via(provider)
            existing.save(update_fields=["user", "verified_at", "verified_via"])


def _account_for(provider: IdentityProvider, claims: Claims, link_user: User | None) -> User:
    linked = (
        ExternalAccount.objects.select_related("user")
        .filter(provider=provider, subject=claims.subject)
        .first()
    )
    if linked is not None:
        if link_user is not None and linked.user_id != link_user.pk:
            raise SignInRefused(
                _("This institutional account is already linked to another Insignia account.")
            )
        if not linked.user.is_active:
            raise SignInRefused(_("This account has been deactivated."))
        linked.last_sign_in_at = timezone.now()
        linked.save(update_fields=["last_sign_in_at"])
        return linked.user
    if link_user is not None:
        user = link_user
    else:
        email = normalize_email(claims.email)
        if not email or "@" not in email:
            raise SignInRefused(
                _(
                    "Your institution did not send an e-mail address, which Insignia needs "
                    "for a new account. Please ask your institution's IT team."
                )
            )
        taken = SignInRefused(
            _(
                "An Insignia account already uses %(email)s. Sign in to it first (with its "
                "password — “Forgot your password?” sets one — or the way you signed in "
                "before), then choose “Link your institution” on your addresses page."
            )
            % {"email": email}
        )
        if User.objects.filter(email=email).exists():
            raise taken
        try:
            with transaction.atomic():
                user = User.objects.create_user(email, None, name=claims.name[:150])
        except IntegrityError:  # the same person's other tab got there first
            raise taken from None
        # The address the institution sent waits for the learner to confirm it, like any
        # other (a provider's word about an address is not proof of it).
        LearnerEmail.objects.create(user=user, email=email)
    try:
        with transaction.atomic():
            ExternalAccount.objects.create(
                provider=provider, subject=claims.subject, user=user, last_sign_in_at=timezone.now()
            )
    except IntegrityError:
        raise SignInRefused(_("Please try signing in again.")) from None
    return user


@transaction.atomic
def complete(
    request: HttpRequest,
    provider: IdentityProvider,
    claims: Claims,
    *,
    link_user: User | None = None,
    session_extra: Mapping[str, Any] | None = None,
) -> User:
    """Sign in the person ``provider`` vouched for with ``claims`` (already verified by the
    protocol), creating their account just in time. Returns the signed-in user."""
    if not provider.enabled:
        raise SignInRefused(_("Sign-in through this institution is switched off."))
    if not claims.subject:
        raise SignInRefused(_("Your institution did not say who you are."))
    role = mapped_role(provider, claims)
    existing_role = None
    if link_user is None:
        known = (
            ExternalAccount.objects.filter(provider=provider, subject=claims.subject)
            .values_list("user_id", flat=True)
            .first()
        )
        if known is not None:
            # Any membership of this institution, also of one of its issuers only.
            existing_role = (
                Membership.objects.filter(user_id=known, institution=provider.institution)
                .values_list("role", flat=True)
                .first()
            )
    is_staff_sign_in = role is not None or existing_role is not None
    if is_staff_sign_in and not provider.allow_staff:
        raise SignInRefused(_("Staff of this institution sign in with their password."))
    if not is_staff_sign_in and not provider.allow_learners:
        raise SignInRefused(_("Learners cannot sign in through this institution yet."))
    user = _account_for(provider, claims, link_user)
    if claims.name and not user.name:
        user.name = claims.name[:150]
        user.save(update_fields=["name"])
    if role is not None:
        created = Membership.objects.get_or_create(
            user=user, institution=provider.institution, issuer=None, defaults={"role": role}
        )[1]
        if created:
            record_audit(
                institution_id=provider.institution_id,
                actor=user,
                action=AuditAction.MEMBER_JOINED_VIA_SIGNON,
                target=user.email,
                role=str(role),
                protocol=provider.protocol,
            )
    _attach_identifiers(user, provider, identifiers_of(claims))
    if request.user.is_authenticated and request.user.pk != user.pk:
        logout(request)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_KEY] = {
        "provider": str(provider.pk),
        "institution": provider.institution.slug,
        **dict(session_extra or {}),
    }
    return user


def landing(user: User, provider: IdentityProvider, next_url: str) -> str:
    """Where a signed-in person goes: where they were going, else this institution's console
    for its staff, else their backpack."""
    if next_url:
        return next_url
    if Membership.objects.filter(user=user, institution=provider.institution).exists():
        return reverse("manage:dashboard", args=[provider.institution.slug])
    return reverse("earners:backpack")
