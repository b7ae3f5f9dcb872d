"""Two-step sign-in for staff: a TOTP authenticator app (RFC 6238) and one-time recovery codes,
on django-otp's devices.

A person enrols an authenticator: the key exists as an unconfirmed ``TOTPDevice`` until the
first code from the app is right; then the device is confirmed and ten recovery codes are made
(shown once; each kept only as a keyed hash in a ``StaticDevice``). A right code marks the
session verified (``django_otp.login``), which the console (``issuers.console.console``) and the
admin (``accounts.otp_views.TwoStepAdminSite``) ask for. Codes within one time step either way
are accepted (the device's tolerance).

Wrong codes are limited per person: ``FAILURE_LIMIT`` within ``FAILURE_WINDOW`` seconds lock
code entry for ``FAILURE_WINDOW`` seconds (Django's cache); django-otp's own per-device back-off
(1, 2, 4 … seconds after each wrong code) applies as well.
"""

from __future__ import annotations

import re
import secrets
from base64 import b32encode
from typing import Any, NoReturn
from urllib.parse import quote, urlencode

import segno
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import Exists
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import User

ISSUER = "Insignia"
RECOVERY_CODE_COUNT = 10
FAILURE_LIMIT = 5
FAILURE_WINDOW = 15 * 60  # seconds: the window that counts wrong codes, and the lock after

_TOTP_CODE = re.compile(r"^[0-9]{6}$")
# Ten base32 characters (50 random bits), typed with or without the hyphen in the middle.
_RECOVERY_CODE = re.compile(r"^[a-z2-7]{10}$")
_HASH_SALT = "insignia.accounts.otp.recovery-code"


def totp_device(user: User) -> Any | None:
    """The person's confirmed authenticator, or None while two-step sign-in is off."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user: User) -> Any | None:
    """The authenticator being set up: its key is shown until the first right code."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def has_totp(user: User) -> Exists:
    """An expression for "``user`` has a confirmed authenticator", to annotate another query
    with (the console reads it with the institution, in one query)."""
    return Exists(TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).values("pk"))


def is_verified(request: HttpRequest) -> bool:
    """Whether this session passed two-step sign-in (``django_otp.middleware``)."""
    check = getattr(request.user, "is_verified", None)
    return bool(check()) if callable(check) else False


def has_code_device(user: User) -> bool:
    """Whether ``user`` has a confirmed authenticator."""
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def needs_code(request: HttpRequest) -> bool:
    """A signed-in person with an authenticator whose session has not given a code yet."""
    user = request.user
    if not isinstance(user, User) or is_verified(request):
        return False
    return has_code_device(user)


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user).count())


def provisioning_uri(device: Any, email: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code: issuer "Insignia",
    the account named by its e-mail address (Google's Key Uri Format)."""
    label = quote(f"{ISSUER}:{email}")
    query = urlencode(
        {
            "secret": secret_text(device).replace(" ", ""),
            "issuer": ISSUER,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


def secret_text(device: Any) -> str:
    """The key in base32, in groups of four, for typing into an app by hand."""
    text = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(uri: str) -> str:
    """An inline SVG QR code of ``uri`` (dark on light, scales with CSS)."""
    return str(
        segno.make(uri, error="m").svg_inline(
            scale=4, border=2, dark="#111111", light="#ffffff", omitsize=True
        )
    )


def start(*, user: User) -> Any:
    """A new unconfirmed authenticator key for ``user``; ``ValidationError`` when two-step
    sign-in is already on."""
    return services.start_totp(user=user)


def confirm(request: HttpRequest, *, user: User, code: str) -> list[str]:
    """Confirm the authenticator being set up with the first code from the app: two-step
    sign-in is on, this session is verified, and the ten recovery codes are returned (the
    only time they are shown). ``ValidationError`` for a wrong code or too many."""
    device = pending_device(user)
    if device is None:
        raise ValidationError(_("Start again: no authenticator is being set up."), code="none")
    _check_allowed(user, device)
    cleaned = _clean(code)
    if not _TOTP_CODE.match(cleaned) or verify_token(user, device.persistent_id, cleaned) is None:
        _refuse(user, _("That code is not right. Type the 6-digit code your app shows now."))
    codes = _new_codes()
    services.confirm_totp(device=device, recovery_hashes=[_hash(c) for c in codes])
    _forget_failures(user)
    otp_login(request, device)
    return [_display(c) for c in codes]


def verify(request: HttpRequest, *, user: User, code: str) -> None:
    """Check a 6-digit code from the app, or a recovery code (used up by this), and mark the
    session verified. ``ValidationError`` for a wrong code, or while code entry is locked."""
    otp_login(request, _matching_device(user, code))


def new_recovery_codes(*, user: User) -> list[str]:
    """Replace the person's recovery codes with ten new ones, returned to be shown once."""
    codes = _new_codes()
    services.replace_recovery_codes(user=user, recovery_hashes=[_hash(c) for c in codes])
    return [_display(c) for c in codes]


def remove(*, user: User, code: str) -> None:
    """Turn two-step sign-in off, given a current code (from the app, or a recovery code)."""
    _matching_device(user, code)
    services.remove_totp(user=user)


def _matching_device(user: User, code: str) -> Any:
    device = totp_device(user)
    if device is None:
        raise ValidationError(_("Two-step sign-in is off for your account."), code="none")
    cleaned = _clean(code)
    if _RECOVERY_CODE.match(cleaned):
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
        token = _hash(cleaned)
    else:
        token = cleaned
    _check_allowed(user, device)
    if device is None or not (_TOTP_CODE.match(cleaned) or _RECOVERY_CODE.match(cleaned)):
        _refuse(user)
    matched = verify_token(user, device.persistent_id, token)
    if matched is None:
        _refuse(user)
    _forget_failures(user)
    return matched


def _clean(code: str) -> str:
    return re.sub(r"[\s-]", "", code).lower()


def _new_codes() -> list[str]:
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    return [
        "".join(secrets.choice(alphabet) for _i in range(10)) for _n in range(RECOVERY_CODE_COUNT)
    ]


def _display(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def _hash(code: str) -> str:
    """A recovery code as stored: keyed with SECRET_KEY, so a copy of the database alone does
    not let anyone try the 2^50 codes offline; 64 bits fit django-otp's token column."""
    return salted_hmac(_HASH_SALT, code, algorithm="sha256").hexdigest()[:16]


def _failures_key(user: User) -> str:
    return f"insignia:otp-failures:{user.pk}"


def _lock_key(user: User) -> str:
    return f"insignia:otp-locked:{user.pk}"


def _check_allowed(user: User, device: Any | None) -> None:
    if cache.get(_lock_key(user)):
        raise ValidationError(
            _("Too many wrong codes. Wait 15 minutes, then try again."), code="locked"
        )
    if device is not None and not device.verify_is_allowed()[0]:
        raise ValidationError(
            _("Wait a few seconds after a wrong code, then type the code your app shows now."),
            code="too_soon",
        )


def _refuse(user: User, message: str = "") -> NoReturn:
    """Count a wrong code; the ``FAILURE_LIMIT``-th within the window locks code entry."""
    key = _failures_key(user)
    if cache.add(key, 1, FAILURE_WINDOW):
        failures = 1
    else:
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, FAILURE_WINDOW)
            failures = 1
    if failures >= FAILURE_LIMIT:
        cache.set(_lock_key(user), True, FAILURE_WINDOW)
        cache.delete(key)
    raise ValidationError(
        message
        or _(
            "That code is not right. Type the 6-digit code your app shows now, or a recovery code."
        ),
        code="wrong",
    )


def _forget_failures(user: User) -> None:
    cache.delete(_failures_key(user))
