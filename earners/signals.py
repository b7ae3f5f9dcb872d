"""What a sign-in remembers for the top navigation: whether the person has a role in an
institution, so that only staff are offered the staff console. Kept in the session at
sign-in (every way of signing in ends in ``django.contrib.auth.login``), so pages do not
ask the database again."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.models import User
from issuers.models import Membership

# The session key ``base.html`` reads.
STAFF_NAV = "insignia_staff_nav"


@receiver(user_logged_in)
def remember_role(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    request.session[STAFF_NAV] = bool(
        user.is_staff or user.is_superuser or Membership.objects.filter(user=user).exists()
    )
