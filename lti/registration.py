"""LTI Dynamic Registration 1.0: an LMS administrator pastes one URL and the LMS and Insignia
register each other.

The URL is a one-time registration link an owner made in the console
(:class:`lti.models.RegistrationInvite`): the LMS opens it with ``openid_configuration`` and
``registration_token``; pylti1p3's :class:`~pylti1p3.dynamic_registration.DynamicRegistration`
reads the platform's configuration and posts our tool configuration to its registration
endpoint (both through the safe fetcher); we keep the client ID and deployment the platform
answers with, for the invite's institution, and use the invite up.

The platform's configuration must be consistent: its ``issuer`` must be the origin the
configuration was served from (LTI-DR §3.5.1), so a link cannot register a platform under
someone else's issuer.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from pylti1p3.dynamic_registration import DynamicRegistration
from pylti1p3.exception import LtiException

from badges.tokens.selectors import token_hash
from issuers.models import AuditAction
from issuers.services import record_audit
from lti import transport
from lti.models import Deployment, Platform, RegistrationInvite
from lti.sync import LINEITEM, LINEITEM_READ, RESULTS
from lti.tool import LaunchRefused

SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
ROSTER = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"


def invite_for(token: str) -> RegistrationInvite:
    digest = token_hash(token)
    invite = (
        RegistrationInvite.objects.select_related("institution")
        .filter(token_hash=digest, used_at__isnull=True, expires_at__gte=timezone.now())
        .first()
    )
    if invite is None:
        raise LaunchRefused(
            _(
                "This registration link has expired or was already used. Ask the Insignia "
                "owner of your institution for a new one."
            ),
            reason="unknown, used or expired registration link",
            status=404,
        )
    return invite


class ToolRegistrar(DynamicRegistration):
    """Our side of the registration, for one invite's institution."""

    client_name = "Insignia"
    description = "Micro-credentials as signed Open Badges 3.0, awarded from the course."
    grant_types = ["implicit", "client_credentials"]

    def __init__(self, request: HttpRequest, invite: RegistrationInvite) -> None:
        self.request = request
        self.invite = invite
        self.slug = invite.institution.slug

    def _url(self, name: str) -> str:
        return self.request.build_absolute_uri(reverse(name, args=[self.slug]))

    def get_request_session(self) -> Any:
        return transport.session()

    def get_client_name(self) -> str:
        return f"Insignia · {self.invite.institution.name}"

    def get_initiate_login_uri(self) -> str:
        return self._url("lti:login")

    def get_jwks_uri(self) -> str:
        return self._url("lti:jwks")

    def get_redirect_uris(self) -> list[str]:
        return [self._url("lti:launch")]

    def get_target_link_uri(self) -> str:
        return self._url("lti:launch")

    def get_domain(self) -> str:
        return self.request.get_host()

    def get_logo_uri(self) -> str:
        return self.request.build_absolute_uri(static("favicon.svg"))

    def get_scopes(self) -> list[str]:
        return [LINEITEM, LINEITEM_READ, RESULTS, SCORE, ROSTER]

    def get_claims(self) -> list[str]:
        return ["iss", "sub", "name", "given_name", "family_name", "email"]

    def get_messages(self) -> list[dict[str, Any]]:
        return [
            {
                "type": "LtiDeepLinkingRequest",
                "target_link_uri": self._url("lti:launch"),
                "label": "Insignia badge",
                "placements": ["ContentArea", "link_selection", "assignment_selection"],
                "supported_types": ["ltiResourceLink"],
            }
        ]

    def get_openid_configuration_endpoint(self) -> str:
        return str(self.request.GET.get("openid_configuration", ""))

    def get_registration_token(self) -> str:
        return str(self.request.GET.get("registration_token", ""))

    def complete_registration(
        self, openid_configuration: dict[str, Any], openid_registration: dict[str, Any]
    ) -> Platform:
        return save_registration(
            self.invite,
            self.get_openid_configuration_endpoint(),
            openid_configuration,
            openid_registration,
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def save_registration(
    invite: RegistrationInvite,
    configuration_url: str,
    configuration: dict[str, Any],
    answer: dict[str, Any],
) -> Platform:
    """Keep what the platform told us; refuse an inconsistent configuration."""
    issuer = str(configuration.get("issuer", "")).rstrip("/")
    needed = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    if not issuer or any(not str(configuration.get(name, "")) for name in needed):
        raise LaunchRefused(
            _("The LMS's configuration is incomplete (issuer, authorisation, token, keys)."),
            reason=f"configuration lacks one of issuer, {needed}",
        )
    if _origin(issuer) != _origin(configuration_url):
        raise LaunchRefused(
            _("The LMS's configuration names an issuer on another site; it was not registered."),
            reason=f"issuer {issuer} not at {configuration_url}",
        )
    client_id = str(answer.get("client_id", ""))
    tool_configuration = answer.get(TOOL_CONFIGURATION)
    deployment_id = (
        str(tool_configuration.get("deployment_id", ""))
        if isinstance(tool_configuration, dict)
        else ""
    )
    if not client_id:
        raise LaunchRefused(_("The LMS did not give Insignia a client ID."), reason="no client_id")
    platform_conf = configuration.get(PLATFORM_CONFIGURATION)
    product = (
        str(platform_conf.get("product_family_code", "")) if isinstance(platform_conf, dict) else ""
    )
    try:
        with transaction.atomic():
            locked = RegistrationInvite.objects.select_for_update().get(pk=invite.pk)
            if locked.used_at is not None:
                raise LaunchRefused(_("This registration link was already used."), status=409)
            platform = Platform.objects.create(
                institution=invite.institution,
                name=(invite.name or product or issuer)[:100],
                issuer=issuer,
                client_id=client_id[:255],
                auth_login_url=str(configuration["authorization_endpoint"])[:1000],
                auth_token_url=str(configuration["token_endpoint"])[:1000],
                auth_audience=str(configuration.get("authorization_server", ""))[:1000],
                key_set_url=str(configuration["jwks_uri"])[:1000],
                registered_via="dynamic",
            )
            if deployment_id:
                Deployment.objects.create(platform=platform, deployment_id=deployment_id[:255])
            locked.used_at, locked.platform = timezone.now(), platform
            locked.save(update_fields=["used_at", "platform"])
            record_audit(
                institution_id=invite.institution_id,
                actor=invite.created_by,
                action=AuditAction.LTI_PLATFORM_REGISTERED,
                target=str(platform.pk),
                name=platform.name,
                issuer=issuer,
                via="dynamic registration",
            )
    except IntegrityError:
        raise LaunchRefused(
            _("This LMS and client ID are already registered with Insignia."), status=409
        ) from None
    return platform


def register(request: HttpRequest, token: str) -> Platform:
    invite = invite_for(token)
    registrar = ToolRegistrar(request, invite)
    if not registrar.get_openid_configuration_endpoint():
        raise LaunchRefused(
            _(
                "Open this link from your LMS's “register a tool by URL” page: it needs the "
                "LMS's configuration address, which the LMS adds."
            ),
            reason="no openid_configuration parameter",
        )
    try:
        platform = registrar.register()
    except LaunchRefused:
        raise
    except (LtiException, AssertionError, ValueError, KeyError) as error:
        raise LaunchRefused(
            _("The LMS did not accept the registration: %(error)s") % {"error": str(error)[:200]},
            reason=f"dynamic registration: {error}",
        ) from None
    except Exception as error:  # requests errors from the guarded session
        if type(error).__module__.startswith("requests"):
            raise LaunchRefused(
                _("The LMS could not be reached: %(error)s") % {"error": str(error)[:200]},
                reason=f"dynamic registration: {error}",
            ) from None
        raise
    if not isinstance(platform, Platform):
        raise LaunchRefused(_("The registration did not complete."))
    return platform
