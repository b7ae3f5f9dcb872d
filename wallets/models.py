"""Wallet delivery: offers of an award to a learner's wallet, and what was delivered.

A ``WalletOffer`` is one offer of one award to one wallet, by OpenID for Verifiable
Credential Issuance 1.0 (the pre-authorized code flow) or by the Learner Credential Wallet's
VC-API exchange. Every secret the wallet presents (the pre-authorized code or the exchange
id, the transaction code, the access token) is stored only as its SHA-256, so a database dump
redeems nothing. An offer expires (``settings.INSIGNIA_WALLET_OFFER_SECONDS``) and delivers
at most one credential (``used_at``).

A ``Delivery`` is one credential handed to a wallet: a copy of the award's credential bound
to the holder's DID (``wallets.binding``), with the award's own status entry, so revoking the
award revokes the copy too. The learner sees them on the offer page.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from badges.models import Award


class Channel(models.TextChoices):
    """How the credential travels to the wallet."""

    OID4VCI = "oid4vci", _("OpenID for Verifiable Credential Issuance")
    LCW = "lcw", _("Learner Credential Wallet")


class CredentialFormat(models.TextChoices):
    """The credential formats a wallet can ask for (OID4VCI 1.0 Appendix A)."""

    LDP_VC = "ldp_vc", _("Data Integrity (eddsa-rdfc-2022)")
    JWT_VC_JSON = "jwt_vc_json", _("VC-JWT")


class WalletOffer(models.Model):
    """One offer of ``award`` to a wallet; its secrets only as SHA-256 hex digests."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="wallet_offers")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # SHA-256 of the pre-authorized code (oid4vci) or of the exchange id (lcw).
    code_hash = models.CharField(max_length=64, unique=True)
    # SHA-256 of the transaction code e-mailed to the learner; "" when none is asked for.
    tx_code_hash = models.CharField(max_length=64, blank=True)
    tx_code_length = models.PositiveSmallIntegerField(default=0)
    # Wrong transaction codes so far; at settings.INSIGNIA_WALLET_TX_CODE_TRIES it is locked.
    tx_code_attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # When the code was exchanged for an access token (oid4vci) or the exchange started (lcw).
    redeemed_at = models.DateTimeField(null=True, blank=True)
    access_token_hash = models.CharField(max_length=64, blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    # The DIDAuth challenge of an lcw exchange (OID4VCI nonces are ``ProofNonce`` rows).
    challenge = models.CharField(max_length=100, blank=True)
    # When the credential was delivered: an offer is single-use.
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-created_at"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(
                fields=["access_token_hash"],
                condition=~Q(access_token_hash=""),
                name="walletoffer_token",
            ),
            models.Index(fields=["award", "created_at"], name="walletoffer_award"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} offer of {self.award_id}"


class ProofNonce(models.Model):
    """A ``c_nonce`` from the OID4VCI Nonce Endpoint (OID4VCI 1.0 §7): fresh, short-lived,
    and accepted in one key proof only."""

    value = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.value


class Delivery(models.Model):
    """One credential delivered to a wallet: the bound copy, exactly as it was sent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="wallet_deliveries")
    offer = models.ForeignKey(
        WalletOffer, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    format = models.CharField(max_length=20, choices=CredentialFormat.choices)
    # The holder's DID (did:key, or did:jwk for a wallet that proved a bare JWK).
    holder_id = models.CharField(max_length=2000)
    # The delivered credential: JSON for ldp_vc, the compact JWS for jwt_vc_json.
    credential = models.TextField()
    delivered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar[list[str]] = ["-delivered_at"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["award", "delivered_at"], name="delivery_award"),
        ]

    def __str__(self) -> str:
        return f"{self.format} to {self.holder_id}"
