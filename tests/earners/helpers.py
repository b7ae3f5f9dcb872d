"""Builders for the learner tests: a signed-up learner with confirmed addresses."""

from __future__ import annotations

from accounts.models import User
from earners import services
from earners.models import LearnerEmail
from tests.base import PASSWORD


def make_learner(email: str, *more: str, name: str = "Lee Learner") -> User:
    """A learner whose sign-in address and ``more`` addresses are all confirmed."""
    user = services.sign_up(email=email, password=PASSWORD, name=name)
    for address in more:
        services.add_email(user=user, email=address)
    for row in LearnerEmail.objects.filter(user=user):
        services.confirm_email(token=services.verification_token(row))
    return user
