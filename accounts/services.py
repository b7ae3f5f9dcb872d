"""Every write to accounts: creating a person who signs in with e-mail and password."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

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
