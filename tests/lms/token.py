"""The LMS's OAuth 2 token endpoint (``POST /token``) and the bearer check of its services.

A tool asks for a token with the client-credentials grant and a JWT client assertion
(IMS Security Framework 1.0, section 4.1). ``LTI1P3PlatformConfAbstract.get_access_token``
checks the assertion's signature against the tool's JWKS and signs the token, but it does
not look at the assertion's ``client_assertion_type`` value, ``iss``, ``sub``, ``aud`` or
``jti``: :func:`issue_token` does, and picks the tool by the assertion's ``sub``. A tool only
gets the scopes it registered (all of them for a tool registered by the control API).
"""

from __future__ import annotations

from typing import Any

import jwt
from lti1p3platform.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    InvalidKeySetUrl,
    LtiException,
    MissingRequiredClaim,
    UnsupportedGrantType,
)

from tests.lms.lti import Platform, platform_conf
from tests.lms.state import Store, Tool
from tests.lms.web import Reply, json_error, json_reply

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def issue_token(store: Store, platform: Platform, form: dict[str, str]) -> Reply:
    if form.get("grant_type") != "client_credentials":
        return json_error(400, "unsupported_grant_type", "Only client_credentials.")
    if form.get("client_assertion_type") != JWT_BEARER:
        return json_error(400, "invalid_request", f"client_assertion_type must be {JWT_BEARER}.")
    assertion = form.get("client_assertion", "")
    try:
        claims: dict[str, Any] = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        return json_error(401, "invalid_client", "client_assertion is not a JWT.")
    with store.lock:
        tool = store.tools.get(str(claims.get("sub", "")))
    problem = _check_assertion(claims, tool, platform)
    if problem or tool is None:
        return json_error(401, "invalid_client", problem or "Unknown client.")
    requested = form.get("scope", "").split()
    granted = [scope for scope in requested if scope in tool.scopes]
    if not granted:
        return json_error(400, "invalid_scope", "None of the requested scopes is granted.")
    conf = platform_conf(platform, tool)
    try:
        token: dict[str, Any] = conf.get_access_token({**form, "scope": " ".join(granted)})
    except (MissingRequiredClaim, UnsupportedGrantType) as error:
        return json_error(400, "invalid_request", str(error) or type(error).__name__)
    except (LtiException, InvalidKeySetUrl, jwt.PyJWTError, ValueError) as error:
        return json_error(401, "invalid_client", f"client_assertion refused: {error}")
    with store.lock:
        jti = str(claims["jti"])
        if jti in store.used_jtis:
            return json_error(400, "invalid_grant", "client_assertion jti already used.")
        store.used_jtis.add(jti)
    return json_reply(dict(token), headers=[("Cache-Control", "no-store")])


def _check_assertion(claims: dict[str, Any], tool: Tool | None, platform: Platform) -> str:
    if tool is None:
        return "sub is not a registered client_id."
    if claims.get("iss") != tool.client_id:
        return "iss and sub must both be the client_id."
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if platform.token_url not in audiences and platform.issuer not in audiences:
        return "aud must name the token endpoint (or the issuer)."
    for name in ("jti", "exp", "iat"):
        if name not in claims:
            return f"client_assertion needs {name}."
    return ""


def bearer_tool(store: Store, platform: Platform, authorization: str) -> Tool | None:
    """The tool an access token was issued to, if it is ours, unexpired and its tool known."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        claims = jwt.decode(
            token.strip(),
            platform.key.public_pem,
            algorithms=["RS256"],
            issuer=platform.issuer,
            options={"require": ["exp", "iss", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    with store.lock:
        return store.tools.get(str(claims["sub"]))
