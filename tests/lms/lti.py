"""The LMS's keys and its glue to ``lti1p3platform``: registrations, platform config, requests.

``lti1p3platform`` keeps one :class:`Registration` per platform-config object and caches the
tool's key set on it, so :func:`platform_conf` builds a fresh pair for every HTTP request:
a tool that rotates its keys is seen at its next request. The library ships no type
information (no ``py.typed``), hence the ``type: ignore[import-untyped]`` on its imports and
the inline mypy setting that lets our classes subclass its (untyped) ones.

The key ids are what the library makes them: ``Registration.get_jwk`` loads the PEM with
jwcrypto, which names a key by its RFC 7638 thumbprint. A second, rogue key pair (never in
``/jwks``) signs the ``tamper=key`` launches.
"""

# mypy: disallow-subclassing-any=False

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.ltiplatform import (  # type: ignore[import-untyped, unused-ignore]
    LTI1P3PlatformConfAbstract,
)
from lti1p3platform.registration import Registration  # type: ignore[import-untyped, unused-ignore]
from lti1p3platform.request import Request  # type: ignore[import-untyped, unused-ignore]

from tests.lms.state import Tool


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str

    @classmethod
    def generate(cls) -> KeyPair:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
        public = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )
        return cls(private, public)

    @property
    def jwk(self) -> dict[str, Any]:
        """The public key as a JWK (``kid``, ``alg`` RS256, ``use`` sig), by the library."""
        jwk: dict[str, Any] = Registration.get_jwk(self.public_pem)
        return jwk

    @property
    def kid(self) -> str:
        return str(self.jwk["kid"])


@dataclass(frozen=True)
class Platform:
    """Who the LMS is: its issuer (its own base URL) and its keys."""

    issuer: str
    key: KeyPair
    rogue: KeyPair

    def url(self, path: str) -> str:
        return self.issuer + path

    @property
    def token_url(self) -> str:
        return self.url("/token")

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.jwk]}


def registration_for(platform: Platform, tool: Tool, key: KeyPair | None = None) -> Any:
    """The library's :class:`Registration` of ``tool`` on this platform (signing with ``key``)."""
    key = key or platform.key
    registration = (
        Registration()
        .set_iss(platform.issuer)
        .set_client_id(tool.client_id)
        .set_deployment_id(tool.deployment_id)
        .set_oidc_login_url(tool.oidc_login_url)
        .set_launch_url(tool.launch_url)
        .set_deeplink_launch_url(tool.deep_link_url)
        .set_platform_public_key(key.public_pem)
        .set_platform_private_key(key.private_pem)
    )
    if tool.jwks is not None:
        registration.set_tool_key_set(tool.jwks)
    if tool.jwks_url:
        registration.set_tool_key_set_url(tool.jwks_url)
    return registration


class PlatformConf(LTI1P3PlatformConfAbstract):
    """The library's platform config, for one tool, for one request."""

    def init_platform_config(self, **kwargs: Any) -> None:
        self._platform: Platform = kwargs["platform"]
        self._tool: Tool = kwargs["tool"]

    def get_registration_by_params(self, **kwargs: Any) -> Any:
        return registration_for(self._platform, self._tool)


def platform_conf(platform: Platform, tool: Tool) -> Any:
    conf = PlatformConf(platform=platform, tool=tool)
    conf.get_registration()
    return conf


@dataclass
class Incoming:
    """One HTTP request as the handlers see it."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    json: Any
    headers: Mapping[str, str]

    def param(self, name: str, default: str = "") -> str:
        return self.query.get(name) or self.form.get(name) or default


class LibraryRequest(Request):
    """An :class:`Incoming` in the shape ``lti1p3platform`` reads (``get_data`` and so on).

    ``get_data`` is given explicitly: the library's services pass it as keyword arguments to
    our finders and add ``page`` to it for the next-page link, so it must hold only the
    parameters they know, with ``page``/``limit`` as numbers.
    """

    def __init__(self, incoming: Incoming, get_data: dict[str, Any] | None = None) -> None:
        self._get_data = dict(incoming.query) if get_data is None else get_data
        super().__init__(incoming)

    def build_metadata(self, request: Incoming) -> dict[str, Any]:
        return {
            "method": request.method,
            "form_data": dict(request.form),
            "get_data": self._get_data,
            "headers": request.headers,
            "content_type": request.headers.get("Content-Type"),
            "path": request.path,
            "json": request.json,
        }
