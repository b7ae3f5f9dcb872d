"""Builders for the learner tests: a signed-up learner with confirmed addresses, and the
identifiers an institution vouched for."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import User
from earners import services
from earners.models import InstitutionalIdentity, LearnerEmail
from issuers.models import Institution
from tests.base import PASSWORD


def make_learner(email: str, *more: str, name: str = "Lee Learner") -> User:
    """A learner whose sign-in address and ``more`` addresses are all confirmed."""
    user = services.sign_up(email=email, password=PASSWORD, name=name)
    for address in more:
        services.add_email(user=user, email=address)
    for row in LearnerEmail.objects.filter(user=user):
        services.confirm_email(token=services.verification_token(row))
    return user


def make_identity(
    user: User, institution: Institution, value: str, identity_type: str = "studentId"
) -> InstitutionalIdentity:
    """An identifier ``institution`` vouched for when ``user`` signed in through it (what
    campus sign-on records)."""
    return InstitutionalIdentity.objects.create(
        user=user,
        institution=institution,
        identity_type=identity_type,
        value=value,
        verified_via="SAML",
        verified_at=timezone.now(),
    )
