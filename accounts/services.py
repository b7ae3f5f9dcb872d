"""Every write to accounts: creating a person who signs in with e-mail and password, and their
two-step sign-in devices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from openbadges.ob3 import normalize_email


@transaction.atomic
def create_user(*, email: str, password: str, name: str = "") -> User:
    """Create an account for ``email`` (normalised) with a password that passes the
    project's validators; raises ``ValidationError`` ({"email"} or {"password"})."""
    email = normalize_email(email)
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": _("An account with this e-mail address exists.")})
    user = User(email=email, name=name.strip())
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    user.set_password(password)
    user.save()
    return user


# Two-step sign-in (``accounts.otp`` checks the codes; these are its writes).


@transaction.atomic
def start_totp(*, user: User) -> Any:
    """A new unconfirmed authenticator key for ``user``, replacing one not yet confirmed;
    raises ``ValidationError`` when two-step sign-in is already on."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError(_("Two-step sign-in is already on for your account."))
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def confirm_totp(*, device: Any, recovery_hashes: Sequence[str]) -> None:
    """Turn two-step sign-in on with ``device`` (its first code was right) and store the
    hashes of the person's new recovery codes."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    _store_recovery_codes(device.user, recovery_hashes)


@transaction.atomic
def replace_recovery_codes(*, user: User, recovery_hashes: Sequence[str]) -> None:
    """Replace every recovery code of ``user`` with the new ones (stored as hashes)."""
    _store_recovery_codes(user, recovery_hashes)


@transaction.atomic
def remove_totp(*, user: User) -> None:
    """Turn two-step sign-in off: the authenticator and the recovery codes are deleted."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def _store_recovery_codes(user: User, hashes: Sequence[str]) -> None:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=h) for h in hashes)
