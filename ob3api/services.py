"""Every write of the Open Badges API: a wallet registering itself, a learner approving or
disconnecting a wallet, a wallet adding a credential to the learner's backpack or updating
their Profile."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Final

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges.models import Award
from earners import selectors as earner_selectors
from earners.imports import services as import_services
from integrations.models import ApiClient
from integrations.oauth import scopes as scope_names
from integrations.oauth import services as oauth_services
from ob3api.models import WalletConsent
from ob3api.registration import Registration
from ob3api.selectors import LISTED_FORMATS
from verification.report import Report, Status

MAX_NAME: Final = 150


def register_wallet(*, registration: Registration) -> tuple[ApiClient, str]:
    """Create the client a wallet asked for (RFC 7591); returns it and its secret ("" for a
    public client). ``integrations.oauth.services.register_wallet`` is the transaction."""
    return oauth_services.register_wallet(
        name=registration.client_name,
        redirect_uris=registration.redirect_uris,
        scopes=registration.scopes,
        metadata=registration.metadata,
        public=registration.public,
    )


@transaction.atomic
def record_consent(*, user: User, client: ApiClient, scopes: Sequence[str]) -> WalletConsent:
    """The learner approved ``client`` for ``scopes``: remember it for the "Connected apps"
    page. Approving again adds the new scopes and notes when."""
    if client.kind != ApiClient.Kind.WALLET:
        raise ValidationError(_("Only a wallet is approved here."))
    wanted = {s for s in scopes if s in scope_names.WALLET_SCOPES}
    now = timezone.now()
    consent, created = WalletConsent.objects.select_for_update().get_or_create(
        user=user,
        client=client,
        defaults={"scopes": " ".join(sorted(wanted)), "approved_at": now, "renewed_at": now},
    )
    if not created:
        consent.scopes = " ".join(sorted(wanted | set(consent.scope_list)))
        consent.renewed_at = now
        consent.save(update_fields=["scopes", "renewed_at"])
    return consent


@transaction.atomic
def _forget_consent(*, consent: WalletConsent) -> None:
    consent.delete()


def disconnect_wallet(*, user: User, consent: WalletConsent) -> int:
    """The learner withdraws a wallet: every token it holds for them ends, then the approval
    is forgotten. Returns how many access tokens ended.

    Two transactions, not one: ``revoke_consent`` is durable (always the outermost). The
    tokens go first, so a failure in between leaves an approval without access, which the
    page shows as such and the learner can remove again."""
    if consent.user_id != user.pk:
        raise PermissionDenied
    ended = oauth_services.revoke_consent(user=user, client=consent.client)
    _forget_consent(consent=consent)
    return ended


def refusal(report: Report) -> str:
    """Why a credential a wallet sent may not be kept ("" if it may): only Open Badges 3.0
    credentials (JSON or VC-JWT) whose signature and issuer key the verifier confirmed.
    Expired, revoked or not-yet-checkable ones are kept, with that verdict."""
    if report.format not in LISTED_FORMATS:
        return _("This is not an Open Badges 3.0 credential.") + " " + report.headline
    for check_id in ("structure", "proof", "issuer_key"):
        check = report.check(check_id)
        if check is None or check.status not in (Status.PASS, Status.WARN):
            detail = check.message if check is not None else ""
            return f"{report.headline} {detail}".strip()
    return ""


def _own_award(user: User, report: Report) -> bool:
    """Whether the credential is one of this platform's awards already in the backpack."""
    award_id = (report.own or {}).get("award_id")
    if not isinstance(award_id, str):
        return False
    award = Award.objects.filter(pk=uuid.UUID(award_id)).first()
    return award is not None and earner_selectors.owns_award(user, award)


def upsert_credential(*, user: User, text: str, report: Report) -> bool:
    """Keep a credential a wallet sent for the learner, which ``report`` (the verify
    pipeline's, on ``text``) shows genuine; raises ``ValidationError`` with the reason if not.
    Returns whether it is new to the backpack (False: it replaced an equal one, or it is one
    of our own awards the learner already holds)."""
    reason = refusal(report)
    if reason:
        raise ValidationError(reason)
    if _own_award(user, report):
        return False
    _imported, created = import_services.upsert_credential(user=user, text=text, report=report)
    return created


@transaction.atomic
def update_profile(*, user: User, name: str) -> User:
    """A wallet with ``profile.update`` renames the learner (their account's name)."""
    name = name.strip()
    if len(name) > MAX_NAME:
        raise ValidationError(_("A name has at most 150 characters."))
    user.name = name
    user.save(update_fields=["name"])
    return user
