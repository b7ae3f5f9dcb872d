"""pylti1p3 (the ``pylti1p3next`` fork, 2.0.2) fitted to Insignia: registrations and
deployments from :mod:`lti.models`, the tool's keys from :mod:`lti.keys`, HTTP through the
safe fetcher (:mod:`lti.transport`).

The library's own state handling is replaced: it keeps the OIDC ``state`` in a cookie and
accepts any ``nonce`` it has seen (never used up). Here the login's state and nonce are a
:class:`lti.models.LoginState` row bound to the browser, and the launch that answers it must
match both, in time, once (``lti.launches``).

Each validation step is wrapped so that a refused launch says which check failed, in words
an instructor can pass to their LMS administrator (:class:`LaunchRefused`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from pylti1p3.contrib.django.message_launch import DjangoMessageLaunch
from pylti1p3.contrib.django.request import DjangoRequest
from pylti1p3.cookie import CookieService
from pylti1p3.deployment import Deployment as LibraryDeployment
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.oidc_login import OIDCLogin
from pylti1p3.redirect import Redirect
from pylti1p3.registration import Registration
from pylti1p3.session import SessionService
from pylti1p3.tool_config.abstract import ToolConfAbstract

from issuers.models import Institution
from lti import keys, transport
from lti.models import Deployment, Platform

LTI = "https://purl.imsglobal.org/spec/lti/claim/"


class LaunchRefused(Exception):
    """A launch or login this tool will not accept; ``message`` is for the person."""

    def __init__(self, message: str, reason: str = "", status: int = 400) -> None:
        super().__init__(reason or message)
        self.message = message
        self.reason = reason or message
        self.status = status


class ToolRegistration(Registration):
    """A registration that signs with the institution's active tool key and names it by its
    kid (the RFC 7638 thumbprint, as the keyset lists it)."""

    def __init__(self, platform: Platform) -> None:
        super().__init__()
        key = keys.active_key(platform.institution)
        self.platform = platform
        self._kid = key.kid
        self.set_issuer(platform.issuer)
        self.set_client_id(platform.client_id)
        self.set_key_set_url(platform.key_set_url)
        self.set_auth_login_url(platform.auth_login_url)
        self.set_auth_token_url(platform.auth_token_url)
        if platform.auth_audience:
            self.set_auth_audience(platform.auth_audience)
        self.set_tool_private_key(key.private_key_pem)
        self.set_tool_public_key(key.public_key_pem)

    def get_kid(self) -> str:
        return self._kid


class InstitutionToolConf(ToolConfAbstract[DjangoRequest]):
    """The platforms one institution registered. A launch arrives at that institution's
    URLs (``/lti/<institution>/...``), so another institution's platforms are never looked at."""

    def __init__(self, institution: Institution) -> None:
        super().__init__()
        self.institution = institution
        self.platform: Platform | None = None

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Any:
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Any:
        platforms = Platform.objects.select_related("institution").filter(
            institution=self.institution, issuer=iss, enabled=True
        )
        if client_id:
            platforms = platforms.filter(client_id=client_id)
        found = list(platforms[:2])
        if len(found) != 1:  # none, or several clients and no client_id to choose by
            return None
        self.platform = found[0]
        return ToolRegistration(found[0])

    def find_deployment(self, iss: str, deployment_id: str) -> Any:
        return None

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> Any:
        if self.platform is None or not deployment_id:
            return None
        if not Deployment.objects.filter(
            platform=self.platform, deployment_id=deployment_id
        ).exists():
            return None
        return LibraryDeployment().set_deployment_id(deployment_id)


class _NoSession(SessionService):
    """pylti1p3's session service, emptied: state and nonce live in ``LoginState``."""

    def __init__(self) -> None:
        self.nonce = ""

    def save_nonce(self, nonce: str) -> None:
        self.nonce = nonce

    def check_nonce(self, nonce: str) -> bool:
        return bool(nonce)

    def save_state_params(self, state: str, params: Any) -> None:
        pass

    def save_launch_data(self, key: str, jwt_body: Any) -> None:
        pass

    def set_state_valid(self, state: str, id_token_hash: str) -> None:
        pass

    def check_state_is_valid(self, state: str, id_token_hash: str) -> bool:
        return False


class _StateOnly(CookieService):
    """Catches the state pylti1p3 would put in a cookie (the browser binding is ours)."""

    def __init__(self) -> None:
        self.state = ""

    def get_cookie(self, name: str) -> None:
        return None

    def set_cookie(self, name: str, value: str | int, exp: int | None = 3600) -> None:
        self.state = str(value)

    def update_response(self, response: Any) -> None:
        pass


class _UrlOnly(Redirect[str]):
    def __init__(self, location: str) -> None:
        self.location = location

    def do_redirect(self) -> str:
        return self.location

    def do_js_redirect(self) -> str:
        return self.location

    def set_redirect_url(self, location: str) -> None:
        self.location = location

    def get_redirect_url(self) -> str:
        return self.location


class ToolLogin(OIDCLogin[DjangoRequest, InstitutionToolConf, _NoSession, _StateOnly, str]):
    """Third-party initiated login: checks the platform is registered here and builds the
    authentication request back to it (``response_mode=form_post``, ``prompt=none``)."""

    def __init__(self, request: HttpRequest, conf: InstitutionToolConf) -> None:
        super().__init__(
            DjangoRequest(request),
            conf,
            session_service=_NoSession(),
            cookie_service=_StateOnly(),
        )

    def get_redirect(self, url: str) -> Redirect[str]:
        return _UrlOnly(url)

    def authentication_url(self, redirect_uri: str) -> tuple[str, str, str]:
        """(URL to send the browser to, state, nonce)."""
        try:
            url = self._prepare_redirect_url(redirect_uri)
        except (LtiException, OIDCException) as error:
            raise LaunchRefused(
                _(
                    "This course platform is not registered with %(institution)s. Ask your "
                    "LMS administrator to check the issuer and client ID Insignia was given."
                )
                % {"institution": self._tool_config.institution.name},
                reason=f"login: {error}",
                status=404,
            ) from None
        return url, self._cookie_service.state, self._session_service.nonce


class ToolLaunch(DjangoMessageLaunch):
    """A message launch checked step by step, each failure in plain words."""

    def __init__(self, request: HttpRequest, conf: InstitutionToolConf) -> None:
        super().__init__(
            request,
            conf,
            session_service=_NoSession(),
            cookie_service=_StateOnly(),
            requests_session=transport.session(),
        )
        self.conf = conf

    def _step(self, step: Any, message: str) -> ToolLaunch:
        try:
            step()
            return self
        except (LtiException, AssertionError, KeyError, TypeError, ValueError) as error:
            raise LaunchRefused(message, reason=f"{step.__name__}: {error}") from None

    def validate_state(self) -> ToolLaunch:
        # The state itself is checked against LoginState by lti.launches.
        if not self._request.get_param("state"):
            raise LaunchRefused(_("The launch did not say which sign-in it answers."), "no state")
        return self

    def validate_jwt_format(self) -> ToolLaunch:
        return self._step(
            super().validate_jwt_format, _("The platform's launch message could not be read.")
        )

    def validate_nonce(self) -> ToolLaunch:
        if not self._get_jwt_body().get("nonce"):
            raise LaunchRefused(_("The launch message carries no nonce."), "no nonce")
        return self

    def validate_registration(self) -> ToolLaunch:
        return self._step(
            super().validate_registration,
            _(
                "This launch is not addressed to a course platform registered with "
                "%(institution)s (its issuer or client ID, the “aud”, is not one Insignia "
                "knows). Ask your LMS administrator to check the registration."
            )
            % {"institution": self.conf.institution.name},
        )

    def validate_jwt_signature(self) -> ToolLaunch:
        try:
            self.get_public_key()
        except (LtiException, AssertionError, ValueError) as error:
            raise LaunchRefused(
                _(
                    "The launch was not signed with a key your course platform has published. "
                    "Insignia cannot tell that it came from your LMS."
                ),
                reason=f"signature key: {error}",
            ) from None
        return self._step(
            super().validate_jwt_signature,
            _(
                "The launch message's signature or validity period did not check out (it "
                "may have expired). Open the tool again from your course."
            ),
        )

    def validate_deployment(self) -> ToolLaunch:
        return self._step(
            super().validate_deployment,
            _(
                "This launch comes from a deployment of the course platform that is not "
                "registered with %(institution)s. Ask your LMS administrator to add its "
                "deployment ID in Insignia."
            )
            % {"institution": self.conf.institution.name},
        )

    def validate_message(self) -> ToolLaunch:
        return self._step(
            super().validate_message,
            _("The launch message is missing something LTI 1.3 requires."),
        )

    @property
    def platform(self) -> Platform:
        if self.conf.platform is None:
            raise LaunchRefused(_("The launch was not checked."), reason="no platform yet")
        return self.conf.platform

    def body(self) -> dict[str, Any]:
        return dict(self._get_jwt_body())
