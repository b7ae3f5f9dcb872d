"""Registering tools: the control API and LTI Dynamic Registration 1.0.

Dynamic registration (https://www.imsglobal.org/spec/lti-dr/v1p0): ``/admin/register?url=``
opens the tool's registration page in an iframe with ``openid_configuration`` and a one-time
``registration_token``; the tool reads ``/.well-known/openid-configuration`` and posts its
client registration to ``/register`` with that token as a bearer token. We check the request
(:func:`_check_client`), keep the tool, and answer with the registration plus ``client_id``
and the new ``deployment_id``. The tool then posts ``org.imsglobal.lti.close`` to the page,
which shows "Tool registered: <client_name>".
"""

from __future__ import annotations

import secrets
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

from tests.lms import pages
from tests.lms.launch import VARIABLES
from tests.lms.lti import Incoming, Platform
from tests.lms.state import ALL_SCOPES, Store, Tool
from tests.lms.web import Reply, json_error, json_reply

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
DEEP_LINKING = "LtiDeepLinkingRequest"


def openid_configuration(platform: Platform) -> dict[str, Any]:
    return {
        "issuer": platform.issuer,
        "authorization_endpoint": platform.url("/auth"),
        "token_endpoint": platform.token_url,
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "jwks_uri": platform.url("/jwks"),
        "registration_endpoint": platform.url("/register"),
        "scopes_supported": ["openid", *ALL_SCOPES],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": [
            "iss",
            "aud",
            "sub",
            "iat",
            "exp",
            "nonce",
            "name",
            "given_name",
            "family_name",
            "email",
        ],
        PLATFORM_CONFIGURATION: {
            "product_family_code": "insignia-test-lms",
            "version": "1.0",
            "messages_supported": [
                {"type": "LtiResourceLinkRequest"},
                {"type": DEEP_LINKING},
            ],
            "variables": list(VARIABLES),
        },
    }


def tool_json(tool: Tool, platform: Platform) -> dict[str, Any]:
    """A tool as ``/control/tools`` lists it (``jwks_url`` is the tool's own)."""
    return {
        **asdict(tool),
        "issuer": platform.issuer,
        "auth_url": platform.url("/auth"),
        "token_url": platform.token_url,
        "platform_jwks_url": platform.url("/jwks"),
    }


def control_register(store: Store, platform: Platform, data: Any) -> Reply:
    """``POST /control/tools``."""
    if not isinstance(data, dict):
        return json_error(400, "invalid_request", "Send a JSON object.")
    missing = [key for key in ("name", "oidc_login_url", "launch_url") if not data.get(key)]
    if not data.get("jwks_url") and not data.get("jwks"):
        missing.append("jwks_url")
    if missing:
        return json_error(400, "invalid_request", f"Missing: {', '.join(missing)}.")
    urls = ("oidc_login_url", "launch_url", "jwks_url", "deep_link_url")
    for key in urls:
        if data.get(key) and urlsplit(str(data[key])).scheme not in ("http", "https"):
            return json_error(400, "invalid_request", f"{key} must be an http(s) URL.")
    with store.lock:
        client_id = str(data.get("client_id") or "client-" + secrets.token_hex(6))
        if client_id in store.tools:
            return json_error(400, "invalid_request", "That client_id is registered already.")
        tool = Tool(
            client_id=client_id,
            deployment_id=str(data.get("deployment_id") or store.next_id("deployment-")),
            name=str(data["name"]),
            oidc_login_url=str(data["oidc_login_url"]),
            launch_url=str(data["launch_url"]),
            deep_link_url=str(data.get("deep_link_url") or data["launch_url"]),
            jwks_url=data.get("jwks_url") or None,
            jwks=data.get("jwks") or None,
            redirect_uris=[str(uri) for uri in data.get("redirect_uris") or []],
            custom={str(k): str(v) for k, v in (data.get("custom") or {}).items()},
        )
        store.tools[tool.client_id] = tool
        store.save()
        # What a tool needs to be configured: here ``jwks_url`` is the platform's.
        answer = {**tool_json(tool, platform), "tool_jwks_url": tool.jwks_url}
        return json_reply({**answer, "jwks_url": platform.url("/jwks")}, 201)


def admin_page(store: Store, platform: Platform, incoming: Incoming) -> Reply:
    """``GET /admin/register[?url=]``."""
    tool_url = incoming.param("url")
    if tool_url and urlsplit(tool_url).scheme not in ("http", "https"):
        return Reply(400, pages.register_page("", "", "", ""))
    token, session = new_registration_token(store)
    body = pages.register_page(
        tool_url, platform.url("/.well-known/openid-configuration"), token, session
    )
    return Reply(200, body)


def new_registration_token(store: Store) -> tuple[str, str]:
    """A one-time registration token and the public id of its registration session."""
    with store.lock:
        token, session = secrets.token_urlsafe(24), "reg-" + secrets.token_hex(4)
        store.registration_tokens[token] = session
    return token, session


def register(store: Store, platform: Platform, incoming: Incoming) -> Reply:
    """``POST /register``: the tool's client registration request."""
    scheme, _, token = incoming.headers.get("Authorization", "").partition(" ")
    with store.lock:
        session = (
            store.registration_tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        )
    if session is None:
        return json_error(401, "invalid_token", "Unknown or used registration token.")
    data = incoming.json
    problem = _check_client(data)
    if problem:
        return json_error(400, "invalid_client_metadata", problem)
    config: dict[str, Any] = data[TOOL_CONFIGURATION]
    messages: list[dict[str, Any]] = config.get("messages") or []
    deep_link = next((m for m in messages if m.get("type") == DEEP_LINKING), {})
    requested = str(data.get("scope", "")).split()
    granted = [scope for scope in requested if scope in ALL_SCOPES]
    with store.lock:
        if store.registration_tokens.pop(token.strip(), None) is None:
            return json_error(401, "invalid_token", "Unknown or used registration token.")
        tool = Tool(
            client_id="client-" + secrets.token_hex(6),
            deployment_id=store.next_id("deployment-"),
            name=str(data["client_name"]),
            oidc_login_url=data["initiate_login_uri"],
            launch_url=config["target_link_uri"],
            deep_link_url=deep_link.get("target_link_uri") or config["target_link_uri"],
            jwks_url=data["jwks_uri"],
            redirect_uris=list(data["redirect_uris"]),
            scopes=granted,
            custom={str(k): str(v) for k, v in (config.get("custom_parameters") or {}).items()},
            registered_by="dynamic",
            registration_session=session,
        )
        store.tools[tool.client_id] = tool
        store.save()
    answer = {
        **data,
        "client_id": tool.client_id,
        "scope": " ".join(granted),
        TOOL_CONFIGURATION: {**config, "deployment_id": tool.deployment_id},
    }
    return json_reply(answer)


def _check_client(data: Any) -> str:
    """What is wrong with a client registration request (an empty string if nothing)."""
    if not isinstance(data, dict):
        return "Send the client registration as a JSON object."
    for key in ("client_name", "initiate_login_uri", "jwks_uri"):
        if not isinstance(data.get(key), str) or not data[key]:
            return f"{key} is required."
    uris = data.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        return "redirect_uris must be a non-empty list of URLs."
    if data.get("application_type", "web") != "web":
        return "application_type must be web."
    if not {"implicit", "client_credentials"} <= set(data.get("grant_types") or []):
        return "grant_types must include implicit and client_credentials."
    if "id_token" not in (data.get("response_types") or []):
        return "response_types must include id_token."
    if data.get("token_endpoint_auth_method", "private_key_jwt") != "private_key_jwt":
        return "token_endpoint_auth_method must be private_key_jwt."
    config = data.get(TOOL_CONFIGURATION)
    if not isinstance(config, dict):
        return f"{TOOL_CONFIGURATION} is required."
    for key in ("domain", "target_link_uri"):
        if not isinstance(config.get(key), str) or not config[key]:
            return f"{TOOL_CONFIGURATION}.{key} is required."
    messages = config.get("messages") or []
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return "messages must be a list of objects."
    urls = [data["initiate_login_uri"], data["jwks_uri"], *uris, config["target_link_uri"]]
    urls += [m["target_link_uri"] for m in messages if m.get("target_link_uri")]
    domain = urlsplit("//" + config["domain"]).hostname
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"{url} is not an http(s) URL."
        if parts.hostname != domain and not parts.hostname.endswith("." + str(domain)):
            return f"{url} is not on the tool's domain {config['domain']}."
    return ""
