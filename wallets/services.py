"""Every write of wallet delivery: offers, OID4VCI codes, tokens and nonces, deliveries.

The OID4VCI pre-authorized code flow (OpenID4VCI 1.0 §3.5): the learner's page creates an
offer (:func:`create_offer`); the wallet exchanges its pre-authorized code, with the
transaction code e-mailed to the learner, for an access token (:func:`redeem_code`); it asks
for a fresh ``c_nonce`` (:func:`issue_nonce`) and sends a key proof with it; the credential
bound to the proved key is signed and recorded (:func:`deliver`). Every secret is stored as
its SHA-256 only. An offer expires, its code is redeemed once, and it delivers once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from badges import credentials
from badges.models import Award
from common.mail import send_templated_mail
from wallets import binding, didauth
from wallets.models import Channel, CredentialFormat, Delivery, ProofNonce, WalletOffer

TX_CODE_LENGTH = 6


class WalletError(Exception):
    """A refused wallet request: ``error`` is the OAuth / OID4VCI error code, ``status`` the
    HTTP status, ``description`` what went wrong in words a wallet can show."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a wallet secret is stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewOffer:
    """A new offer and its secrets, known only now: the pre-authorized code (for the QR code)
    and the transaction code (e-mailed; empty when none is asked for)."""

    offer: WalletOffer
    code: str
    tx_code: str
    tx_code_sent_to: str


def _mask(address: str) -> str:
    name, _at, domain = address.partition("@")
    return f"{name[:1]}…@{domain}"


@transaction.atomic
def create_offer(*, award: Award, actor: User | None) -> NewOffer:
    """A fresh OID4VCI offer of ``award``. The caller has checked that the requester is the
    award's learner (signed in, or holding the claim link). Raises
    :class:`wallets.binding.NotDeliverable` for a revoked, suspended or expired award. With
    ``settings.INSIGNIA_WALLET_TX_CODE`` and an e-mail address on the award, a transaction
    code is e-mailed to that address after commit (the wallet asks the learner for it)."""
    binding.check_deliverable(award)
    now = timezone.now()
    code = secrets.token_urlsafe(32)
    tx_code = ""
    if settings.INSIGNIA_WALLET_TX_CODE and award.recipient_email:
        tx_code = "".join(secrets.choice("0123456789") for _ in range(TX_CODE_LENGTH))
    offer = WalletOffer.objects.create(
        award=award,
        channel=Channel.OID4VCI,
        code_hash=digest(code),
        tx_code_hash=digest(tx_code) if tx_code else "",
        tx_code_length=len(tx_code),
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.INSIGNIA_WALLET_OFFER_SECONDS),
    )
    if tx_code:
        context = {
            "award_name": credentials.credential_name(award),
            "issuer_name": credentials.issuer_name(award),
            "tx_code": tx_code,
            "minutes": settings.INSIGNIA_WALLET_OFFER_SECONDS // 60,
        }
        transaction.on_commit(
            lambda: send_templated_mail(
                to=award.recipient_email,
                template="wallet_tx_code",
                context=context,
                language=award.language,
            )
        )
    return NewOffer(
        offer=offer,
        code=code,
        tx_code=tx_code,
        tx_code_sent_to=_mask(award.recipient_email) if tx_code else "",
    )


def offer_for_code(code: str) -> WalletOffer | None:
    """The OID4VCI offer a pre-authorized code belongs to (a read; for the offer document)."""
    return (
        WalletOffer.objects.select_related("award")
        .filter(code_hash=digest(code), channel=Channel.OID4VCI)
        .first()
    )


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


@transaction.atomic
def _redeem(code: str, tx_code: str | None) -> AccessToken | WalletError:
    # Returned, not raised, so that a wrong transaction code's count is committed.
    offer = (
        WalletOffer.objects.select_for_update()
        .select_related("award")
        .filter(code_hash=digest(code), channel=Channel.OID4VCI)
        .first()
    )
    if offer is None:
        return WalletError("invalid_grant", _("This offer is not known."))
    now = timezone.now()
    if offer.redeemed_at is not None:
        return WalletError(
            "invalid_grant",
            _("This offer has already been used. Ask for a new offer on your badge's page."),
        )
    if offer.expires_at <= now:
        return WalletError(
            "invalid_grant",
            _("This offer has expired. Ask for a new offer on your badge's page."),
        )
    if offer.tx_code_hash:
        if offer.tx_code_attempts >= settings.INSIGNIA_WALLET_TX_CODE_TRIES:
            return WalletError(
                "invalid_grant",
                _("Too many wrong codes: this offer is locked. Ask for a new offer."),
            )
        if not tx_code:
            return WalletError(
                "invalid_request", _("Enter the code that was e-mailed to you (tx_code).")
            )
        if not secrets.compare_digest(digest(tx_code), offer.tx_code_hash):
            offer.tx_code_attempts += 1
            offer.save(update_fields=["tx_code_attempts"])
            return WalletError("invalid_grant", _("The code does not match (tx_code)."))
    try:
        binding.check_deliverable(offer.award)
    except binding.NotDeliverable as refusal:
        return WalletError("invalid_grant", str(refusal))
    token = secrets.token_urlsafe(32)
    offer.redeemed_at = now
    offer.access_token_hash = digest(token)
    offer.access_token_expires_at = now + timedelta(seconds=settings.INSIGNIA_WALLET_TOKEN_SECONDS)
    offer.save(update_fields=["redeemed_at", "access_token_hash", "access_token_expires_at"])
    return AccessToken(token=token, expires_in=settings.INSIGNIA_WALLET_TOKEN_SECONDS)


def redeem_code(*, code: str, tx_code: str | None) -> AccessToken:
    """Exchange a pre-authorized code (and its transaction code) for an access token, once
    (OID4VCI 1.0 §6). Raises :class:`WalletError` (``invalid_grant`` for an unknown, used,
    expired or locked offer or a wrong code; ``invalid_request`` for a missing code). A wrong
    transaction code counts towards the lock even though it is refused."""
    result = _redeem(code, tx_code)
    if isinstance(result, WalletError):
        raise result
    return result


@transaction.atomic
def issue_nonce() -> str:
    """A fresh ``c_nonce`` for one key proof (OID4VCI 1.0 §7); expired ones are cleared."""
    now = timezone.now()
    ProofNonce.objects.filter(expires_at__lt=now - timedelta(hours=1)).delete()
    value = secrets.token_urlsafe(24)
    ProofNonce.objects.create(
        value=value,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.INSIGNIA_WALLET_NONCE_SECONDS),
    )
    return value


def offer_for_token(token: str) -> WalletOffer:
    """The offer an access token was issued for; :class:`WalletError` ``invalid_token``
    (401) when it is unknown or expired (RFC 6750 §3.1)."""
    offer = (
        WalletOffer.objects.select_related("award")
        .filter(access_token_hash=digest(token), channel=Channel.OID4VCI)
        .first()
        if token
        else None
    )
    if offer is None or offer.access_token_expires_at is None:
        raise WalletError("invalid_token", _("The access token is not known."), status=401)
    if offer.access_token_expires_at <= timezone.now():
        raise WalletError("invalid_token", _("The access token has expired."), status=401)
    return offer


@transaction.atomic
def deliver(*, offer: WalletOffer, holder_id: str, fmt: str, nonce: str) -> Delivery:
    """Consume ``nonce``, sign ``offer``'s award bound to ``holder_id`` in ``fmt`` and record
    the delivery; the offer is then used up. Raises :class:`WalletError`:
    ``credential_request_denied`` for a used offer or an award no longer valid,
    ``invalid_nonce`` for an unknown, expired or already used nonce."""
    locked = WalletOffer.objects.select_for_update().select_related("award").get(pk=offer.pk)
    if locked.used_at is not None:
        raise WalletError(
            "credential_request_denied",
            _("This offer has already delivered its credential. Ask for a new offer."),
        )
    now = timezone.now()
    found = ProofNonce.objects.select_for_update().filter(value=nonce).first()
    if found is None or found.used_at is not None or found.expires_at <= now:
        raise WalletError(
            "invalid_nonce", _("The proof's c_nonce is unknown, used or expired: ask for another.")
        )
    found.used_at = now
    found.save(update_fields=["used_at"])
    try:
        binding.check_deliverable(locked.award)
    except binding.NotDeliverable as refusal:
        raise WalletError("credential_request_denied", str(refusal)) from None
    credential = binding.bound_credential(locked.award, holder_id, fmt)
    locked.used_at = now
    locked.save(update_fields=["used_at"])
    return Delivery.objects.create(
        award=locked.award,
        offer=locked,
        channel=locked.channel,
        format=fmt,
        holder_id=holder_id,
        credential=credential,
        delivered_at=now,
    )


# Learner Credential Wallet exchanges
#
# The Learner Credential Wallet receives a credential through a VC-API exchange (W3C CCG
# VC-API "exchanges", as DCC's transaction-service and the LCW implement it): the learner's
# page creates an exchange (:func:`create_lcw_offer`) and shows its URL inside the LCW deep
# link; the wallet POSTs ``{}`` and is asked for a DIDAuth presentation with the exchange's
# challenge and this site's domain (:func:`start_lcw_exchange`); it POSTs the signed
# presentation, and the credential bound to the holder's DID is signed and recorded
# (:func:`deliver_lcw_credential`). The exchange id in the URL is the secret (SHA-256 kept).


@dataclass(frozen=True)
class NewExchange:
    """A new LCW exchange and its id, known only now (it is the exchange URL's last part)."""

    offer: WalletOffer
    exchange_id: str


def lcw_domain() -> str:
    """The ``domain`` a DIDAuth proof must name: this site's origin, as DCC's exchanges do."""
    base = settings.INSIGNIA_BASE_URL.rstrip("/")
    scheme, _sep, rest = base.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


@transaction.atomic
def create_lcw_offer(*, award: Award, actor: User | None) -> NewExchange:
    """A fresh Learner Credential Wallet exchange for ``award`` (the caller has checked that
    the requester is its learner). Raises :class:`wallets.binding.NotDeliverable` for a
    revoked, suspended or expired award. It expires after
    ``settings.INSIGNIA_WALLET_OFFER_SECONDS`` and delivers once."""
    binding.check_deliverable(award)
    now = timezone.now()
    exchange_id = secrets.token_urlsafe(32)
    offer = WalletOffer.objects.create(
        award=award,
        channel=Channel.LCW,
        code_hash=digest(exchange_id),
        challenge=secrets.token_urlsafe(24),
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.INSIGNIA_WALLET_OFFER_SECONDS),
    )
    return NewExchange(offer=offer, exchange_id=exchange_id)


def lcw_offer_for(exchange_id: str) -> WalletOffer | None:
    """The LCW offer an exchange id belongs to (a read)."""
    return (
        WalletOffer.objects.select_related("award")
        .filter(code_hash=digest(exchange_id), channel=Channel.LCW)
        .first()
    )


def _check_open(offer: WalletOffer, now: datetime) -> None:
    if offer.used_at is not None:
        raise WalletError(
            "exchange_used",
            _(
                "This exchange has already delivered its credential. Ask for a new one on "
                "your badge's page."
            ),
            status=409,
        )
    if offer.expires_at <= now:
        raise WalletError(
            "exchange_expired",
            _("This exchange has expired. Ask for a new one on your badge's page."),
            status=410,
        )


@transaction.atomic
def start_lcw_exchange(*, offer: WalletOffer) -> WalletOffer:
    """The wallet's first POST: note when the exchange started (the first time only).
    Raises :class:`WalletError` for a used (409) or expired (410) exchange."""
    locked = WalletOffer.objects.select_for_update().get(pk=offer.pk)
    now = timezone.now()
    _check_open(locked, now)
    if locked.redeemed_at is None:
        locked.redeemed_at = now
        locked.save(update_fields=["redeemed_at"])
    return locked


@transaction.atomic
def deliver_lcw_credential(*, offer: WalletOffer, presentation: object) -> Delivery:
    """Check the wallet's DIDAuth ``presentation`` (:mod:`wallets.didauth`) against the
    exchange's challenge and :func:`lcw_domain`, then sign the award bound to the holder's DID
    (``ldp_vc``) and record the delivery; the exchange is then used up. Raises
    :class:`WalletError`: 409 used, 410 expired, 403 a presentation that does not
    authenticate its holder or an award no longer valid, 400 a malformed presentation. A
    refused presentation changes nothing: the wallet may try again until the exchange expires."""
    locked = WalletOffer.objects.select_for_update().select_related("award").get(pk=offer.pk)
    now = timezone.now()
    _check_open(locked, now)
    try:
        holder = didauth.check_presentation(
            presentation, challenge=locked.challenge, domain=lcw_domain()
        ).holder
    except didauth.DidAuthError as refusal:
        status = 400 if refusal.code == "malformed" else 403
        raise WalletError(refusal.code, str(refusal), status=status) from None
    try:
        binding.check_deliverable(locked.award)
    except binding.NotDeliverable as refusal:
        raise WalletError("not_deliverable", str(refusal), status=403) from None
    credential = binding.bound_credential(locked.award, holder, CredentialFormat.LDP_VC)
    locked.used_at = now
    locked.redeemed_at = locked.redeemed_at or now
    locked.save(update_fields=["used_at", "redeemed_at"])
    return Delivery.objects.create(
        award=locked.award,
        offer=locked,
        channel=Channel.LCW,
        format=CredentialFormat.LDP_VC,
        holder_id=holder,
        credential=credential,
        delivered_at=now,
    )
