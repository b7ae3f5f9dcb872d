"""``POST /deep-link-return``: the tool's Deep Linking 2.0 response, turned into course content.

``LTI1P3PlatformConfAbstract.validate_deeplinking_resp`` checks the signature (with the
tool's JWKS, fetched from its ``jwks_url``), expiry, message type and content item types. It
checks neither ``aud``, ``iss``, the deployment nor ``data``, and it raises ``KeyError`` on an
item without a ``type``; those checks are here. The ``data`` value the launch sent is
one-time: a replayed response is refused. Each ``ltiResourceLink`` becomes a resource link,
with a line item when it carries ``lineItem``.
"""

from __future__ import annotations

from typing import Any

import jwt
from lti1p3platform.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    InvalidKeySetUrl,
    LtiDeepLinkingResponseException,
    LtiException,
)

from tests.lms.lti import Platform, platform_conf
from tests.lms.state import LineItem, Link, Store, Tool
from tests.lms.web import Reply, error_page, redirect

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DEPLOYMENT = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
REFUSED = "Deep linking response refused"


def deep_link_return(store: Store, platform: Platform, form: dict[str, str]) -> Reply:
    token = form.get("JWT", "")
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return error_page(400, REFUSED, "JWT is missing or not a JWT.")
    with store.lock:
        tool = store.tools.get(str(claims.get("iss", "")))
    if tool is None:
        return error_page(400, REFUSED, "iss is not the client_id of a registered tool.")
    conf = platform_conf(platform, tool)
    conf.set_accepted_deeplinking_types(["ltiResourceLink"])
    try:
        items: list[dict[str, Any]] = conf.validate_deeplinking_resp({"JWT": token})
    except (LtiException, LtiDeepLinkingResponseException, jwt.PyJWTError) as error:
        return error_page(400, REFUSED, str(error) or type(error).__name__)
    except InvalidKeySetUrl:
        return error_page(400, REFUSED, "The tool's jwks_url is not an http(s) URL.")
    except (KeyError, TypeError):
        return error_page(400, REFUSED, "Every content item needs a type.")
    problem = _check_claims(claims, tool, platform)
    if problem:
        return error_page(400, REFUSED, problem)
    with store.lock:
        sent = store.deep_link_data.get(str(claims.get(DL + "data")))
        if sent is None or sent[0] != tool.client_id:
            return error_page(400, REFUSED, "data is not what the launch sent (or used already).")
        problem = _check_items(items)
        if problem:
            return error_page(400, REFUSED, problem)
        del store.deep_link_data[str(claims[DL + "data"])]
        titles = [_add(store, tool, item) for item in items]
        store.save()
        message = f"Added: {', '.join(titles)}" if titles else "Nothing was added."
        return redirect("/?flash=" + store.flash(message))


def _check_claims(claims: dict[str, Any], tool: Tool, platform: Platform) -> str:
    audience = claims.get("aud")
    if platform.issuer not in (audience if isinstance(audience, list) else [audience]):
        return "aud is not this platform."
    if claims.get(DEPLOYMENT) != tool.deployment_id:
        return "deployment_id is not the tool's deployment."
    if not claims.get("nonce"):
        return "nonce is missing."
    return ""


def _check_items(items: list[dict[str, Any]]) -> str:
    for item in items:
        if not isinstance(item.get("custom") or {}, dict):
            return "A content item's custom must be a JSON object."
        if "url" in item and not str(item["url"]).startswith(("http://", "https://")):
            return "A content item's url must be an http(s) URL."
        line_item = item.get("lineItem")
        if line_item is None:
            continue
        maximum = line_item.get("scoreMaximum") if isinstance(line_item, dict) else None
        if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
            return "A lineItem needs a scoreMaximum above 0."
    return ""


def _add(store: Store, tool: Tool, item: dict[str, Any]) -> str:
    """Keep one ``ltiResourceLink`` (and its line item); the caller holds the lock."""
    custom = item.get("custom") or {}
    link = Link(
        id=store.next_id("link-"),
        tool=tool.client_id,
        title=str(item.get("title") or "Untitled"),
        url=str(item.get("url") or tool.launch_url),
        text=str(item.get("text") or ""),
        custom={str(key): str(value) for key, value in custom.items()},
    )
    store.links[link.id] = link
    line_item = item.get("lineItem")
    if isinstance(line_item, dict):
        item_id = store.next_id()
        store.line_items[item_id] = LineItem(
            id=item_id,
            label=str(line_item.get("label") or link.title),
            score_maximum=float(line_item["scoreMaximum"]),
            tool=tool.client_id,
            resource_link_id=link.id,
            resource_id=line_item.get("resourceId") or None,
            tag=line_item.get("tag") or None,
        )
    return link.title
