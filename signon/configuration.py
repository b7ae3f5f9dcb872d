"""An owner sets up, changes and removes their institution's identity providers; the
platform re-reads SAML metadata and OpenID discovery documents every day.

Nothing an owner types is trusted: the metadata URL and the issuer URL are fetched through
the platform's guarded fetcher (no internal addresses), and what comes back must be an
identity provider's SAML metadata or a discovery document naming that very issuer.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from issuers.models import AuditAction, Institution, Role
from issuers.permissions import require_role
from issuers.services import record_audit
from signon import oidc, saml
from signon.models import IdentityProvider, Protocol

log = logging.getLogger(__name__)

#: How old a fetched metadata or discovery document may get before it is read again.
REFRESH_AFTER = timedelta(hours=24)

_AUDITED = (
    "enabled",
    "allow_staff",
    "allow_learners",
    "saml_metadata_url",
    "saml_entity_id",
    "saml_allow_idp_initiated",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_scopes",
    "attr_email",
    "attr_name",
    "attr_principal",
    "attr_student_id",
    "attr_affiliation",
    "attr_groups",
    "role_rules",
)


def _load_saml(provider: IdentityProvider, uploaded: str) -> None:
    """Fill the provider's metadata from the upload or its URL; ``ValidationError`` on the
    field that was wrong."""
    field = "metadata_file" if uploaded else "saml_metadata_url"
    try:
        if uploaded:
            xml = uploaded
        elif provider.saml_metadata_url:
            xml = saml.fetch_metadata(provider.saml_metadata_url)
            provider.saml_metadata_fetched_at = timezone.now()
        else:
            xml = provider.saml_metadata_xml
        summary = saml.idp_summary(xml)
    except saml.MetadataError as error:
        raise ValidationError({field: error.message}) from None
    taken = (
        IdentityProvider.objects.filter(protocol=Protocol.SAML, saml_entity_id=summary.entity_id)
        .exclude(institution=provider.institution)
        .exists()
    )
    if taken:
        # One identity provider signs into one institution: otherwise a response meant for
        # one could be taken to the other.
        raise ValidationError(
            {field: _("This identity provider is already set up for another institution.")}
        )
    provider.saml_metadata_xml = xml
    provider.saml_entity_id = summary.entity_id


def _load_oidc(provider: IdentityProvider) -> None:
    shared = (
        IdentityProvider.objects.filter(
            protocol=Protocol.OIDC,
            oidc_issuer=provider.oidc_issuer,
            oidc_client_id=provider.oidc_client_id,
        )
        .exclude(institution=provider.institution)
        .exists()
    )
    if shared:
        # The same client at two institutions would make one's ID tokens good at the other.
        raise ValidationError(
            {"oidc_client_id": _("This client is already set up for another institution.")}
        )
    try:
        provider.oidc_discovery = oidc.discover(provider.oidc_issuer)
    except oidc.DiscoveryError as error:
        raise ValidationError({"oidc_issuer": error.message}) from None
    provider.oidc_discovered_at = timezone.now()


def _snapshot(provider: IdentityProvider) -> dict[str, Any]:
    return {name: getattr(provider, name) for name in _AUDITED}


@transaction.atomic
def save_provider(
    *,
    actor: User,
    institution: Institution,
    provider: IdentityProvider,
    role_rules: list[dict[str, str]],
    metadata_upload: str = "",
) -> IdentityProvider:
    """Save ``provider`` (new or changed, already filled from the owner's form) after reading
    its metadata or discovery document. Owners only. Raises ``ValidationError``."""
    require_role(actor, institution, Role.OWNER)
    if provider.institution_id != institution.pk:
        raise ValidationError(_("Another institution's identity provider."))
    before = (
        _snapshot(IdentityProvider.objects.get(pk=provider.pk))
        if not provider._state.adding
        else None
    )
    provider.role_rules = role_rules
    if provider.protocol == Protocol.SAML:
        _load_saml(provider, metadata_upload)
    else:
        _load_oidc(provider)
    provider.save()
    after = _snapshot(provider)
    if before is None:
        record_audit(
            institution_id=institution.pk,
            actor=actor,
            action=AuditAction.SIGNON_CONFIGURED,
            target=provider.get_protocol_display(),
            protocol=provider.protocol,
        )
    else:
        changed = sorted(name for name in _AUDITED if before[name] != after[name])
        if changed:
            record_audit(
                institution_id=institution.pk,
                actor=actor,
                action=AuditAction.SIGNON_CHANGED,
                target=provider.get_protocol_display(),
                protocol=provider.protocol,
                fields=changed,
            )
    return provider


@transaction.atomic
def remove_provider(*, actor: User, provider: IdentityProvider) -> None:
    """Remove an identity provider. Accounts it made keep working with a password reset;
    identifiers it proved stay attached to their learners."""
    institution = provider.institution
    require_role(actor, institution, Role.OWNER)
    record_audit(
        institution_id=institution.pk,
        actor=actor,
        action=AuditAction.SIGNON_REMOVED,
        target=provider.get_protocol_display(),
        protocol=provider.protocol,
    )
    provider.delete()


def refresh_stale(now: Any = None) -> dict[str, int]:
    """Re-read every metadata URL and discovery document older than a day. A failure keeps
    the last good copy (and is logged), so a provider's outage does not stop sign-ins."""
    now = now or timezone.now()
    done = {"refreshed": 0, "failed": 0}
    cutoff = now - REFRESH_AFTER
    stale = IdentityProvider.objects.filter(enabled=True).exclude(
        saml_metadata_fetched_at__gte=cutoff, oidc_discovered_at__gte=cutoff
    )
    for provider in stale:
        try:
            if provider.protocol == Protocol.SAML:
                if not provider.saml_metadata_url or (
                    provider.saml_metadata_fetched_at
                    and provider.saml_metadata_fetched_at >= cutoff
                ):
                    continue
                xml = saml.fetch_metadata(provider.saml_metadata_url)
                summary = saml.idp_summary(xml)
                if summary.entity_id != provider.saml_entity_id:
                    raise saml.MetadataError(
                        f"entity ID changed from {provider.saml_entity_id} to {summary.entity_id}"
                    )
                provider.saml_metadata_xml = xml
                provider.saml_metadata_fetched_at = now
                provider.save(update_fields=["saml_metadata_xml", "saml_metadata_fetched_at"])
            else:
                if provider.oidc_discovered_at and provider.oidc_discovered_at >= cutoff:
                    continue
                provider.oidc_discovery = oidc.discover(provider.oidc_issuer)
                provider.oidc_discovered_at = now
                provider.save(update_fields=["oidc_discovery", "oidc_discovered_at"])
            done["refreshed"] += 1
        except (saml.MetadataError, oidc.DiscoveryError) as error:
            done["failed"] += 1
            log.warning("signon: keeping the last metadata of %s: %s", provider.pk, error)
    return done
