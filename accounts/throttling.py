"""Sign-in that resists guessing: failed sign-ins, and the mail a stranger can make
us send.

Failed password sign-ins are counted by django-axes (settings ``AXES_*``) in its database
tables, on every form that calls ``authenticate(request, …)``: the staff and learner sign-in
and the admin site. :class:`SignInAttempts` holds two limits where axes has one: failures for
one address from one client (``INSIGNIA_SIGNIN_FAILURES_PER_CLIENT``) and failures for one
address from anywhere (``AXES_FAILURE_LIMIT``). Over either, every sign-in for that address is
refused until ``AXES_COOLOFF_TIME`` after the last failure that counted, the right password
included; :func:`lockout_response` is the page that says so (429).

Password reset and learner sign-up send e-mail to the address typed: :func:`mail_limit`
counts them per client and per address in the cache (fixed windows, as
``verification.ratelimit`` does for the verifier), so nobody can mail-bomb an address or
register in bulk; :func:`too_many` is the same 429 page.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import math
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from common.http import client_address
from common.ratelimit import hit
from openbadges.ob3 import normalize_email


def client_ip(request: HttpRequest) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the client's address by the rule every per-client limit
    uses (``common.http.client_address``); ``None`` when it is no IP address (axes stores it
    in an IP column)."""
    try:
        return str(ipaddress.ip_address(client_address(request)))
    except ValueError:
        return None


def username_of(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The address a sign-in is for, normalised, so that ``Owner@Poly.example`` and
    ``owner@poly.example`` count against the same limit on every form (the admin's form does
    not normalise it itself)."""
    raw = (credentials or {}).get("username")
    if raw is None:
        raw = request.POST.get("username", "")
    return normalize_email(str(raw))


class SignInAttempts(AxesDatabaseHandler):  # type: ignore[misc]
    """axes' database handler with a second limit: per address and client as well as per
    address."""

    def locked_until(
        self, request: HttpRequest, credentials: dict[str, Any] | None
    ) -> dt.datetime | None:
        """When the cool-down for this sign-in ends, or ``None`` if it may be tried now."""
        username = get_client_username(request, credentials)
        if not username:
            return None
        rows = list(
            AccessAttempt.objects.filter(
                username=username, attempt_time__gte=get_cool_off_threshold(request)
            ).values_list("ip_address", "failures_since_start", "attempt_time")
        )
        cool_off: dt.timedelta = get_cool_off(request)
        ends: list[dt.datetime] = []
        mine = [row for row in rows if row[0] == request.axes_ip_address]  # type: ignore[attr-defined]
        if sum(row[1] for row in mine) >= settings.INSIGNIA_SIGNIN_FAILURES_PER_CLIENT:
            ends.append(max(row[2] for row in mine) + cool_off)
        if sum(row[1] for row in rows) >= settings.AXES_FAILURE_LIMIT:
            ends.append(max(row[2] for row in rows) + cool_off)
        return max(ends) if ends else None

    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        return bool(self.locked_until(request, credentials))

    def user_login_failed(
        self,
        sender: Any,
        credentials: dict[str, Any],
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
        # axes records the failure and locks out at AXES_FAILURE_LIMIT; the per-client limit
        # is lower, so check it once the failure is stored.
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        if self.is_locked(request, credentials):
            request.axes_locked_out = True  # type: ignore[attr-defined]
            request.axes_credentials = credentials  # type: ignore[attr-defined]
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
            )


def _page(request: HttpRequest, *, seconds: float, sign_in: bool) -> HttpResponse:
    minutes = max(1, math.ceil(seconds / 60))
    response = render(
        request,
        "accounts/too_many_attempts.html",
        {"minutes": minutes, "sign_in": sign_in},
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the 429 page with the minutes left of the cool-down."""
    AxesProxyHandler.update_request(request)
    until = SignInAttempts().locked_until(request, credentials)
    left = (until - timezone.now()) if until else get_cool_off(request) or dt.timedelta()
    return _page(request, seconds=left.total_seconds(), sign_in=True)


def too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The 429 page for a reset or sign-up over :func:`mail_limit`."""
    return _page(request, seconds=retry_after, sign_in=False)


def mail_limit(request: HttpRequest, *, scope: str, email: str) -> int | None:
    """Count one e-mail of ``scope`` (``"reset"``, ``"signup"``) to ``email`` asked by this
    client; ``None`` if allowed, else the seconds to wait. Known and unknown addresses count
    alike, so the limit itself tells nothing about who has an account."""
    AxesProxyHandler.update_request(request)
    client = str(request.axes_ip_address)  # type: ignore[attr-defined]
    address = hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]
    window = settings.INSIGNIA_ACCOUNT_MAIL_WINDOW
    by_client = hit(
        f"{scope}:client", client, limit=settings.INSIGNIA_ACCOUNT_MAIL_PER_CLIENT, window=window
    )
    by_address = hit(
        f"{scope}:address", address, limit=settings.INSIGNIA_ACCOUNT_MAIL_PER_ADDRESS, window=window
    )
    waits = [wait for wait in (by_client, by_address) if wait is not None]
    return max(waits) if waits else None
