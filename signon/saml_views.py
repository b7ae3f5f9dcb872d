"""SAML 2.0 sign-in and sign-out pages of an institution's service provider (``signon.saml``
does the protocol, ``signon.services`` the account).

A sign-in crosses sites twice. The identity provider POSTs its answer to the assertion
consumer service (:func:`acs`) from its own site, so the browser sends none of our
``SameSite=Lax`` cookies with it: the answer is verified there and kept server-side, and a
small page then sends the browser on, same-site, to :func:`finish`, where the browser that
started the sign-in is recognised by its cookie before anyone is signed in.

Every refusal is a page in the person's language with a 4xx status; the technical reason
goes to the log, never to the page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST, require_safe

from issuers.keys import SigningUnavailable
from issuers.models import Institution
from signon import saml, services
from signon.models import IdentityProvider, PendingSignIn, Protocol

logger = logging.getLogger(__name__)

#: Where the ID of a logout request we sent waits for the identity provider's answer.
LOGOUT_KEY = "signon_saml_logout"


def _provider(institution: str) -> IdentityProvider | None:
    return (
        IdentityProvider.objects.select_related("institution")
        .filter(institution__slug=institution, protocol=Protocol.SAML)
        .first()
    )


def _refused(
    request: HttpRequest,
    institution: str,
    message: str,
    *,
    status: int,
    reason: str,
    provider: IdentityProvider | None = None,
) -> HttpResponse:
    logger.warning(
        "SAML at %s refused (%s): %s",
        institution,
        provider.pk if provider else "no provider",
        reason,
    )
    retry = ""
    if provider is not None and provider.enabled:
        retry = reverse("signon:saml_login", args=[institution])
    context = {"message": message, "retry_url": retry}
    return render(request, "signon/error.html", context, status=status)


def _not_offered(request: HttpRequest, institution: str) -> HttpResponse:
    return _refused(
        request,
        institution,
        _("This institution does not offer sign-in through SAML."),
        status=404,
        reason="no SAML provider",
    )


def _switched_off(
    request: HttpRequest, institution: str, provider: IdentityProvider
) -> HttpResponse:
    return _refused(
        request,
        institution,
        _("Sign-in through this institution is switched off."),
        status=403,
        reason="provider disabled",
        provider=provider,
    )


@require_safe
def metadata(request: HttpRequest, institution: str) -> HttpResponse:
    """The institution's signed service provider metadata (its entity ID is this URL).
    Served before an identity provider is set up: the IdP's administrators need it first."""
    provider = _provider(institution)
    if provider is None:
        found = get_object_or_404(Institution, slug=institution)
        provider = IdentityProvider(institution=found, protocol=Protocol.SAML)
    try:
        document = saml.sp_metadata(request, provider)
    except SigningUnavailable as error:  # the key-encryption key changed: an operator's fix
        logger.error("signon: cannot open the SAML key of %s: %s", institution, error)
        return HttpResponse(
            _("This institution's sign-in metadata is unavailable; the operators are told."),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(document, content_type="application/samlmetadata+xml")
    response["Content-Disposition"] = f'inline; filename="{institution}-saml-metadata.xml"'
    response["Cache-Control"] = "public, max-age=3600"
    return response


@never_cache
@require_GET
def login(request: HttpRequest, institution: str) -> HttpResponse:
    """Send the browser to the identity provider with a signed ``<AuthnRequest>``, after
    remembering the request ID and this browser."""
    provider = _provider(institution)
    if provider is None or not provider.saml_metadata_xml:
        return _not_offered(request, institution)
    if not provider.enabled:
        return _switched_off(request, institution, provider)
    try:
        request_id, url = saml.authn_request(provider)
    except saml.Refused as refused:
        return _refused(
            request,
            institution,
            refused.message,
            status=refused.status,
            reason=refused.reason,
        )
    _pending, cookie = services.start(
        request, provider, key=request_id, next_url=request.GET.get("next", "")
    )
    response = HttpResponseRedirect(url)
    response.set_cookie(
        services.BROWSER_COOKIE,
        cookie,
        max_age=int(services.PENDING_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


@csrf_exempt  # the identity provider posts here from its own site; the answer is signed
@never_cache
@require_POST
def acs(request: HttpRequest, institution: str) -> HttpResponse:
    """The assertion consumer service: verify the identity provider's answer, keep what it
    vouched for against the sign-in it answers, and send the browser on to :func:`finish`."""
    provider = _provider(institution)
    if provider is None or not provider.saml_metadata_xml:
        return _not_offered(request, institution)
    if not provider.enabled:
        return _switched_off(request, institution, provider)
    posted = request.POST.get("SAMLResponse", "")
    try:
        if not posted:
            raise saml.Refused(
                _("Your institution's sign-in service sent something Insignia cannot read."),
                "no SAMLResponse",
                400,
            )
        request_id = saml.in_response_to(posted)
        pending = None
        if request_id:
            pending = PendingSignIn.objects.filter(
                key=request_id,
                provider=provider,
                expires_at__gte=timezone.now(),
                answered_at__isnull=True,
            ).first()
            if pending is None:
                raise saml.Refused(
                    _("This sign-in has expired or was already used. Please start again."),
                    f"no started sign-in {request_id!r} at this institution",
                    403,
                )
        elif not provider.saml_allow_idp_initiated:
            raise saml.Refused(
                _(
                    "This institution accepts only sign-ins started at Insignia. Please "
                    "start from Insignia's sign-in page."
                ),
                "unsolicited response, not allowed",
                403,
            )
        answer = saml.read_response(provider, posted, request_id=request_id)
        saml.remember_assertion(provider, answer)
    except saml.Refused as refused:
        return _refused(
            request,
            institution,
            refused.message,
            status=refused.status,
            reason=refused.reason,
            provider=provider,
        )
    kept = {
        "subject": answer.subject,
        "attributes": answer.attributes,
        "name_id": answer.name_id,
        "session_index": answer.session_index,
    }
    now = timezone.now()
    if pending is not None:
        taken = PendingSignIn.objects.filter(pk=pending.pk, answered_at__isnull=True).update(
            claims=kept, answered_at=now
        )
        if not taken:
            return _refused(
                request,
                institution,
                _("This sign-in has expired or was already used. Please start again."),
                status=403,
                reason=f"sign-in {request_id!r} answered twice",
                provider=provider,
            )
        key = pending.key
    else:
        key = saml.new_unsolicited_key()
        PendingSignIn.objects.create(
            key=key,
            provider=provider,
            browser_hash="",
            next_url=services.safe_next(request, request.POST.get("RelayState")),
            claims=kept,
            answered_at=now,
            expires_at=now + services.PENDING_LIFETIME,
        )
    logger.info("SAML assertion %s accepted at %s", answer.assertion_id, institution)
    context = {
        "title": _("Signing you in"),
        "message": _("Your institution has confirmed who you are."),
        "hint": _("JavaScript is off: press the button to finish signing in."),
        "button": _("Continue"),
        "action": reverse("signon:saml_finish", args=[institution]),
        "fields": [("key", key)],
    }
    return render(request, "auto_post.html", context)


@csrf_exempt  # the key is single-use and bound to the browser's cookie (see the module doc)
@never_cache
@require_POST
def finish(request: HttpRequest, institution: str) -> HttpResponse:
    """Sign in the person the identity provider vouched for, in the browser that started the
    sign-in (sign-ins started at the identity provider have no such browser)."""
    provider = _provider(institution)
    if provider is None:
        return _not_offered(request, institution)
    key = request.POST.get("key", "")
    unsolicited = key.startswith(saml.UNSOLICITED_PREFIX)
    try:
        pending = services.take_pending(request, provider, key, same_browser=not unsolicited)
        if unsolicited and not provider.saml_allow_idp_initiated:
            raise services.SignInRefused(
                _(
                    "This institution accepts only sign-ins started at Insignia. Please "
                    "start from Insignia's sign-in page."
                )
            )
        if pending.answered_at is None or not isinstance(pending.claims, dict):
            raise services.SignInRefused(
                _("This sign-in has expired or was already used. Please start again.")
            )
        kept: dict[str, Any] = pending.claims
        claims = services.claims_from(provider, str(kept["subject"]), kept["attributes"])
        user = services.complete(
            request,
            provider,
            claims,
            link_user=pending.link_user,
            session_extra={
                "saml": {
                    "name_id": kept.get("name_id", ""),
                    "session_index": kept.get("session_index", ""),
                }
            },
        )
    except services.SignInRefused as refused:
        return _refused(
            request,
            institution,
            refused.message,
            status=403,
            reason=f"finish refused: {refused.message}",
            provider=provider,
        )
    response = HttpResponseRedirect(services.landing(user, provider, pending.next_url))
    return response


@require_POST
def logout(request: HttpRequest, institution: str) -> HttpResponse:
    """Sign out here and, when the session came through this institution's identity
    provider and it offers single logout, there too (a signed ``<LogoutRequest>``)."""
    via = request.session.get(services.SESSION_KEY) or {}
    provider = _provider(institution)
    sent = None
    if (
        provider is not None
        and provider.enabled
        and isinstance(via, dict)
        and via.get("provider") == str(provider.pk)
        and isinstance(via.get("saml"), dict)
    ):
        try:
            sent = saml.logout_request(
                provider,
                name_id=str(via["saml"].get("name_id", "")),
                session_index=str(via["saml"].get("session_index", "")),
            )
        except saml.Refused as refused:  # signed out here all the same
            logger.warning("SAML single logout at %s not sent: %s", institution, refused.reason)
    auth_logout(request)
    if sent is None:
        return HttpResponseRedirect(reverse(settings.LOGOUT_REDIRECT_URL))
    request_id, url = sent
    request.session[LOGOUT_KEY] = {"id": request_id, "institution": institution}
    return HttpResponseRedirect(url)


@never_cache
@require_GET
def sls(request: HttpRequest, institution: str) -> HttpResponse:
    """The single logout service (HTTP-Redirect): the identity provider's answer to our
    ``<LogoutRequest>``, or its own ``<LogoutRequest>`` when the person signed out elsewhere."""
    provider = _provider(institution)
    if provider is None or not provider.saml_metadata_xml:
        return _not_offered(request, institution)
    query = request.META.get("QUERY_STRING", "")
    try:
        if "SAMLResponse" in request.GET:
            answer, _relay = saml.read_redirect(provider, query, "SAMLResponse")
            return _logged_out(request, institution, provider, answer)
        if "SAMLRequest" in request.GET:
            asked, relay = saml.read_redirect(provider, query, "SAMLRequest")
            return _logout_asked(request, provider, asked, relay)
    except saml.Refused as refused:
        return _refused(
            request,
            institution,
            refused.message,
            status=refused.status,
            reason=f"single logout: {refused.reason}",
            provider=provider,
        )
    return _refused(
        request,
        institution,
        _("Your institution's sign-in service sent something Insignia cannot read."),
        status=400,
        reason="single logout without SAMLRequest or SAMLResponse",
        provider=provider,
    )


def _logged_out(
    request: HttpRequest, institution: str, provider: IdentityProvider, answer: Any
) -> HttpResponse:
    expected = request.session.pop(LOGOUT_KEY, None) or {}
    if not expected or answer.in_response_to != expected.get("id"):
        raise saml.Refused(
            _("Your institution's sign-in service sent something Insignia cannot read."),
            f"LogoutResponse to {answer.in_response_to!r}, expected {expected.get('id')!r}",
            400,
        )
    status = answer.status.status_code.value if answer.status is not None else ""
    if status != "urn:oasis:names:tc:SAML:2.0:status:Success":
        logger.warning("SAML single logout at %s answered %s", institution, status)
        messages.warning(
            request,
            _(
                "You are signed out of Insignia, but your institution could not confirm that "
                "you are signed out there. Close the browser to be sure."
            ),
        )
    else:
        messages.success(request, _("You are signed out of Insignia and of your institution."))
    return HttpResponseRedirect(reverse(settings.LOGOUT_REDIRECT_URL))


def _logout_asked(
    request: HttpRequest, provider: IdentityProvider, asked: Any, relay_state: str
) -> HttpResponse:
    via = request.session.get(services.SESSION_KEY) or {}
    if isinstance(via, dict) and via.get("provider") == str(provider.pk):
        kept = via.get("saml") or {}
        name_id = asked.name_id.text if asked.name_id is not None else None
        ours = kept.get("name_id", "") if isinstance(kept, dict) else ""
        if name_id and ours and saml.name_id_text(ours) == name_id:
            auth_logout(request)
            logger.info("SAML single logout from %s signed a session out", provider.pk)
    return HttpResponseRedirect(saml.logout_response(provider, asked, relay_state))
