"""An institution's identity providers, the accounts they sign in, and the short-lived state
of a sign-in under way.

An :class:`IdentityProvider` belongs to one institution and can only ever sign people into
that institution: the memberships it creates and the identifiers it vouches for are that
institution's (``signon.services``). Its protocol is SAML 2.0 (pysaml2, ``signon.saml``) or
OpenID Connect (``signon.oidc``).
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from issuers.fields import SealedSecretField
from issuers.models import Institution


class ClientSecretField(SealedSecretField):
    purpose = "oidc-client-secret"


class PrivateKeyField(SealedSecretField):
    purpose = "saml-sp-key"


class Protocol(models.TextChoices):
    SAML = "saml", _("SAML 2.0")
    OIDC = "oidc", _("OpenID Connect")


#: Attribute names a SAML identity provider sends, by what they mean (friendly names; the
#: OID forms are understood too, ``signon.saml``).
SAML_DEFAULTS: dict[str, str] = {
    "attr_email": "mail",
    "attr_name": "displayName",
    "attr_principal": "eduPersonPrincipalName",
    "attr_student_id": "schacPersonalUniqueCode",
    "attr_affiliation": "eduPersonAffiliation",
    "attr_groups": "isMemberOf",
}

#: Claim names an OpenID provider sends, by what they mean.
OIDC_DEFAULTS: dict[str, str] = {
    "attr_email": "email",
    "attr_name": "name",
    "attr_principal": "preferred_username",
    "attr_student_id": "student_id",
    "attr_affiliation": "eduperson_affiliation",
    "attr_groups": "groups",
}


class IdentityProvider(models.Model):
    """One institution's SAML or OpenID Connect identity provider, as its owner set it up.

    ``role_rules`` maps an affiliation or group value to a staff role:
    ``[{"value": "staff", "role": "awarder"}, ...]``. A person matching no rule signs in as a
    learner; the owner role is never given by a rule.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="identity_providers"
    )
    protocol = models.CharField(_("protocol"), max_length=4, choices=Protocol.choices)
    label = models.CharField(
        _("button label"),
        max_length=100,
        blank=True,
        help_text=_("Shown on the sign-in page, e.g. “University sign-in”."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    allow_staff = models.BooleanField(_("staff may sign in"), default=True)
    allow_learners = models.BooleanField(_("learners may sign in"), default=True)

    # SAML 2.0: the identity provider's metadata, from a URL or uploaded.
    saml_metadata_url = models.URLField(_("metadata URL"), max_length=2000, blank=True)
    saml_metadata_xml = models.TextField(_("metadata"), blank=True)
    saml_metadata_fetched_at = models.DateTimeField(null=True, blank=True)
    saml_entity_id = models.CharField(_("entity ID"), max_length=1024, blank=True)
    saml_allow_idp_initiated = models.BooleanField(
        _("accept sign-ins started at the identity provider"), default=True
    )

    # OpenID Connect: discovery from the issuer URL.
    oidc_issuer = models.URLField(_("issuer URL"), max_length=2000, blank=True)
    oidc_client_id = models.CharField(_("client ID"), max_length=255, blank=True)
    oidc_client_secret = ClientSecretField(_("client secret"), max_length=600, blank=True)
    oidc_scopes = models.CharField(
        _("scopes"), max_length=255, default="openid email profile", blank=True
    )
    oidc_discovery = models.JSONField(default=dict, blank=True)
    oidc_discovered_at = models.DateTimeField(null=True, blank=True)

    # Which attribute (SAML) or claim (OIDC) carries what.
    attr_email = models.CharField(_("e-mail"), max_length=255, blank=True)
    attr_name = models.CharField(_("display name"), max_length=255, blank=True)
    attr_principal = models.CharField(
        _("sign-in name (eduPersonPrincipalName or subject-id)"), max_length=255, blank=True
    )
    attr_student_id = models.CharField(_("student number"), max_length=255, blank=True)
    attr_affiliation = models.CharField(_("affiliation"), max_length=255, blank=True)
    attr_groups = models.CharField(_("groups"), max_length=255, blank=True)
    role_rules = models.JSONField(_("staff roles"), default=list, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["institution", "protocol"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["institution", "protocol"], name="identityprovider_one_per_protocol"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_protocol_display()} @ {self.institution}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            self.fill_defaults()
        super().save(*args, **kwargs)

    def fill_defaults(self) -> None:
        """Fill empty attribute names with the usual ones for the protocol."""
        defaults = SAML_DEFAULTS if self.protocol == Protocol.SAML else OIDC_DEFAULTS
        for field, default in defaults.items():
            if not getattr(self, field):
                setattr(self, field, default)


class KeyState(models.TextChoices):
    NEXT = "next", _("Next (published, not yet used)")
    ACTIVE = "active", _("In use")
    RETIRED = "retired", _("Retired")


class ServiceProviderKey(models.Model):
    """The key and self-signed certificate the platform signs an institution's SAML
    metadata, requests and logout messages with. The platform rotates it
    (``signon.saml.rotate_keys``): a successor is published beside the active key before it
    takes over, so identity providers that re-read the metadata never see a gap."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="saml_sp_keys"
    )
    private_key_pem = PrivateKeyField(max_length=8000)
    certificate_pem = models.TextField()
    state = models.CharField(max_length=8, choices=KeyState.choices)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["institution", "-created_at"]

    def __str__(self) -> str:
        return f"SAML key {self.pk} ({self.state}) @ {self.institution_id}"


class ExternalAccount(models.Model):
    """A person as an identity provider knows them (SAML NameID / subject-id, OIDC ``sub``),
    linked to the account they sign in to."""

    provider = models.ForeignKey(
        IdentityProvider, on_delete=models.CASCADE, related_name="accounts"
    )
    subject = models.CharField(max_length=1024)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="external_accounts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["provider", "subject"], name="externalaccount_once")
        ]

    def __str__(self) -> str:
        return f"{self.subject} via {self.provider_id}"


class PendingSignIn(models.Model):
    """A sign-in this platform started and has not finished: the SAML request ID or OIDC
    ``state`` it is known by, the browser that started it (a hash of a cookie set then), and
    what the answer must carry back (OIDC ``nonce`` and PKCE verifier). Used once."""

    key = models.CharField(max_length=100, unique=True)
    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE, related_name="pending")
    browser_hash = models.CharField(max_length=64)
    next_url = models.CharField(max_length=2000, blank=True)
    link_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    nonce = models.CharField(max_length=100, blank=True)
    code_verifier = models.CharField(max_length=128, blank=True)
    # SAML: what the identity provider vouched for, verified when its answer was posted to
    # the assertion consumer service and kept until the browser comes back for it (that
    # cross-site POST carries none of our cookies, so the sign-in finishes on a second,
    # same-site request: ``signon.saml_views``).
    claims = models.JSONField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.key


class SeenAssertion(models.Model):
    """A SAML assertion ID already accepted, kept until the assertion would have expired:
    the same assertion posted again is refused (replay)."""

    provider = models.ForeignKey(
        IdentityProvider, on_delete=models.CASCADE, related_name="seen_assertions"
    )
    assertion_id = models.CharField(max_length=256)
    expires_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["provider", "assertion_id"], name="seenassertion_once")
        ]

    def __str__(self) -> str:
        return self.assertion_id
