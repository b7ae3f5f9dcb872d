"""Launches: third-party login initiation (``/launch``) and the OIDC authorization endpoint.

``/launch?tool=&user=&link=[&tamper=]`` maps the choice to an opaque ``lti_message_hint`` and
redirects the browser to the tool's login URL, built by ``OIDCLoginAbstract.
prepare_preflight_url``. The tool sends the browser back to ``/auth``; after the checks the
library leaves to us (redirect URI registered, ``response_type``/``scope``/``response_mode``,
the hint and ``login_hint``), ``LTIAdvantageMessageLaunchAbstract`` builds and signs the
``id_token`` (user, roles, context, resource link, custom, presentation, AGS, NRPS, or deep
linking settings) and we answer with an auto-submitting form to the redirect URI. Custom
parameters (the tool's, from dynamic registration, then the link's, from its deep-linking
content item) go through LTI variable substitution (``$Person.sourcedId`` and the others in
:data:`VARIABLES`). Only course members may launch; the redirect URI must be one the tool
registered, exactly (its launch URL, deep-linking URL or ``redirect_uris``).

``tamper`` breaks exactly one thing in an otherwise valid token: ``aud`` (another client id),
``key`` (signed with the rogue key, whose ``kid`` is not in ``/jwks``), ``deployment``
(``deployment_id`` "not-registered-deployment") or ``expired`` (``exp`` ten minutes ago;
``iat`` stays now, as the library sets both from one expiry).
"""

# mypy: disallow-subclassing-any=False

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, cast

from lti1p3platform.message_launch import (  # type: ignore[import-untyped, unused-ignore]
    LTIAdvantageMessageLaunchAbstract,
)
from lti1p3platform.oidc_login import OIDCLoginAbstract  # type: ignore[import-untyped, unused-ignore]

from tests.lms import pages
from tests.lms.lti import Incoming, LibraryRequest, Platform, platform_conf, registration_for
from tests.lms.state import COURSE, DEEP_LINK, TAMPERS, Hint, Link, Store, Tool, User
from tests.lms.web import Reply, error_page, redirect

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DEPLOYMENT_CLAIM = CLAIM + "deployment_id"
COURSE_OFFERING = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"
EXPIRED_SECONDS = -600
VARIABLES = [
    "User.id",
    "User.username",
    "Person.sourcedId",
    "Person.name.full",
    "Person.name.given",
    "Person.name.family",
    "Person.email.primary",
    "Context.id",
    "Context.title",
    "Context.label",
    "ResourceLink.id",
    "ResourceLink.title",
]


class LoginInitiation(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


def start_launch(store: Store, platform: Platform, incoming: Incoming) -> Reply:
    """``GET /launch``: on to the tool's OIDC login URL."""
    tamper = incoming.param("tamper") or None
    link_id = incoming.param("link")
    with store.lock:
        tool = store.tools.get(incoming.param("tool"))
        user = store.users.get(incoming.param("user"))
        link = store.links.get(link_id)
        if tool is None:
            return error_page(400, "Launch refused", "Unknown tool.")
        if user is None or user.id not in store.members:
            return error_page(403, "Launch refused", "That user is not in the course.")
        if link_id != DEEP_LINK and (link is None or link.tool != tool.client_id):
            return error_page(400, "Launch refused", "Unknown resource link for that tool.")
        if tamper is not None and tamper not in TAMPERS:
            return error_page(400, "Launch refused", f"tamper must be one of {TAMPERS}.")
        hint = store.new_hint(Hint(tool.client_id, user.id, link_id, tamper))
    login = LoginInitiation(LibraryRequest(incoming), platform_conf(platform, tool))
    login.set_lti_message_hint(hint=hint)
    if link is None:
        login.set_deeplinking_launch_url()
    else:
        login.set_launch_url(link.url)
    return redirect(str(login.prepare_preflight_url(user.id)), status=302)


@dataclass
class Plan:
    """Everything the message launch needs besides the tool's answer to the login."""

    platform: Platform
    tool: Tool
    user: User
    link: Link | None
    line_item_url: str | None
    hint: Hint
    deep_link_data: str | None


@dataclass(frozen=True)
class LaunchForm:
    id_token: str
    state: str
    redirect_uri: str


class MessageLaunch(LTIAdvantageMessageLaunchAbstract):
    def __init__(self, request: LibraryRequest, conf: Any, plan: Plan) -> None:
        super().__init__(request, conf)
        self.plan = plan

    def prepare_launch(self, preflight_response: dict[str, Any]) -> None:
        plan, user, tool = self.plan, self.plan.user, self.plan.tool
        base = plan.platform.issuer
        self.set_user_data(user.id, list(user.roles), full_name=user.name, email_address=user.email)
        extra: dict[str, Any] = {
            "given_name": user.given_name,
            "family_name": user.family_name,
            CLAIM + "tool_platform": {
                "guid": base,
                "name": "Insignia test LMS",
                "product_family_code": "insignia-test-lms",
                "version": "1.0",
            },
        }
        if user.sourcedid:
            extra[CLAIM + "lis"] = {"person_sourcedid": user.sourcedid}
        self.set_launch_context_claim(
            COURSE.id, [COURSE_OFFERING], context_title=COURSE.title, context_label=COURSE.label
        )
        self.set_launch_presentation_claim(document_target="window", return_url=base + "/")
        custom = dict(tool.custom)
        lineitems = f"{base}/ags/{COURSE.id}/lineitems"
        if plan.link is not None:
            self.set_launch_url(plan.link.url)
            self.set_resource_link_claim(plan.link.id, title=plan.link.title)
            custom.update(plan.link.custom)
        self.set_ags(lineitems, plan.line_item_url)
        self.set_nrps(f"{base}/nrps/{COURSE.id}/memberships")
        if plan.link is None:
            # The library types ``data`` as a dict; the spec (and tools) treat it as a string.
            self.set_dl(
                base + "/deep-link-return",
                title=f"Add content to {COURSE.title}",
                accept_types={"ltiResourceLink"},
                extra_data=cast(dict[str, Any], plan.deep_link_data),
            )
        if custom:
            self.set_custom_parameters_claim(substitute(custom, user, plan.link))
        tamper = plan.hint.tamper
        if tamper == "aud":
            extra["aud"] = "not-" + tool.client_id
        elif tamper == "deployment":
            extra[DEPLOYMENT_CLAIM] = "not-registered-deployment"
        elif tamper == "expired":
            self.set_id_token_expiration(EXPIRED_SECONDS)
        elif tamper == "key":
            self._registration = registration_for(plan.platform, tool, plan.platform.rogue)
        self.set_extra_claims(extra)

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> LaunchForm:
        return LaunchForm(launch_data["id_token"], launch_data["state"], launch_data["launch_url"])


def substitute(custom: dict[str, str], user: User, link: Link | None) -> dict[str, str]:
    """LTI custom-parameter substitution for the variables :data:`VARIABLES` names; a variable
    without a value (Bob has no sourcedId) is passed on unchanged, as LTI Core says."""
    values = {
        "$User.id": user.id,
        "$User.username": user.id,
        "$Person.sourcedId": user.sourcedid,
        "$Person.name.full": user.name,
        "$Person.name.given": user.given_name,
        "$Person.name.family": user.family_name,
        "$Person.email.primary": user.email,
        "$Context.id": COURSE.id,
        "$Context.title": COURSE.title,
        "$Context.label": COURSE.label,
        "$ResourceLink.id": link.id if link else None,
        "$ResourceLink.title": link.title if link else None,
    }
    return {key: values.get(value) or value for key, value in custom.items()}


def authorize(store: Store, platform: Platform, incoming: Incoming) -> Reply:
    """``GET|POST /auth``: the tool's authentication request, answered with the id_token."""
    params = incoming.query if incoming.method == "GET" else incoming.form
    refused = "Launch refused"
    with store.lock:
        tool = store.tools.get(params.get("client_id", ""))
        if tool is None:
            return error_page(400, refused, "Unknown client_id.")
        redirect_uri = params.get("redirect_uri", "")
        if not tool.redirect_uri_allowed(redirect_uri):
            return error_page(400, refused, "redirect_uri is not registered for this tool.")
        problem = _check_auth_params(params)
        if problem:
            return error_page(400, refused, problem)
        hint = store.hints.get(params.get("lti_message_hint", ""))
        if hint is None or hint.tool != tool.client_id:
            return error_page(400, refused, "Unknown or foreign lti_message_hint.")
        if params.get("login_hint") != hint.user:
            return error_page(400, refused, "login_hint does not match the launch.")
        user = store.users[hint.user]
        link = store.links.get(hint.link)
        item = store.line_item_of_link(link.id) if link else None
        data = None
        if link is None:
            data = secrets.token_urlsafe(16)
            store.deep_link_data[data] = (tool.client_id, user.id)
    base = platform.issuer
    plan = Plan(
        platform=platform,
        tool=tool,
        user=user,
        link=link,
        line_item_url=f"{base}/ags/{COURSE.id}/lineitems/{item.id}" if item else None,
        hint=hint,
        deep_link_data=data,
    )
    launch = MessageLaunch(
        LibraryRequest(Incoming("POST", "/auth", {}, dict(params), None, {})),
        platform_conf(platform, tool),
        plan,
    )
    form: LaunchForm = launch.lti_launch()
    with store.lock:
        store.last_launch[user.id] = {
            "id_token": form.id_token,
            "state": form.state,
            "redirect_uri": form.redirect_uri,
            "tool": tool.client_id,
            "link": hint.link,
            "tamper": hint.tamper,
        }
    return Reply(200, pages.launch_form(form.redirect_uri, form.id_token, form.state))


def _check_auth_params(params: dict[str, str]) -> str | None:
    if params.get("response_type") != "id_token":
        return "response_type must be id_token."
    if "openid" not in params.get("scope", "").split():
        return "scope must be openid."
    if params.get("response_mode") != "form_post":
        return "response_mode must be form_post."
    if not params.get("nonce"):
        return "nonce is missing."
    if not params.get("state"):
        return "state is missing."
    if params.get("prompt", "none") != "none":
        return "prompt must be none."
    return None
