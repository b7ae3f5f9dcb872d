"""Insignia as an LTI 1.3 tool: the course platforms (LMSs) an institution registered, the
tool's own signing keys, launches under way, the people an LMS launched, the badges placed
in courses and every award a course made.

A :class:`Platform` belongs to one institution. Everything it launches, links and awards
stays inside that institution: a placement can only name a micro-credential of one of the
institution's issuers, and is only ever looked up through the platform that made it
(``lti.selectors``), so an LMS registered by another institution cannot reach it.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from badges.models import Achievement, Award
from issuers.fields import SealedSecretField
from issuers.models import Institution


class ToolKeyField(SealedSecretField):
    purpose = "lti-tool-key"


class KeyState(models.TextChoices):
    NEXT = "next", _("Next (published, not yet used)")
    ACTIVE = "active", _("In use")
    RETIRED = "retired", _("Retired")


class ToolKey(models.Model):
    """An RSA key the tool signs with for one institution (deep-linking responses, the client
    assertions it trades for grade and roster tokens). Its public half is in the
    institution's tool keyset (``/lti/<institution>/jwks.json``); ``lti.keys.rotate`` publishes
    a successor there before it takes over and keeps a retired key listed for a while, so a
    platform that caches the keyset never sees a signature it cannot check."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="lti_keys")
    kid = models.CharField(max_length=100, unique=True)
    private_key_pem = ToolKeyField(max_length=8000)
    public_key_pem = models.TextField()
    state = models.CharField(max_length=8, choices=KeyState.choices)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["institution", "-created_at"]

    def __str__(self) -> str:
        return f"LTI key {self.kid} ({self.state})"


class Platform(models.Model):
    """One LMS registration: the platform's issuer and the client ID it gave this tool, its
    OIDC authorisation, token and keyset URLs, and the deployments it may launch from."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="lti_platforms"
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. “Moodle”, “Canvas”."))
    issuer = models.URLField(_("issuer (iss)"), max_length=500)
    client_id = models.CharField(_("client ID"), max_length=255)
    auth_login_url = models.URLField(_("authorisation (OIDC login) URL"), max_length=1000)
    auth_token_url = models.URLField(_("access token URL"), max_length=1000)
    auth_audience = models.CharField(
        _("token audience"),
        max_length=1000,
        blank=True,
        help_text=_("Only if the platform asks for one; the token URL otherwise."),
    )
    key_set_url = models.URLField(_("keyset URL"), max_length=1000)
    enabled = models.BooleanField(_("enabled"), default=True)
    registered_via = models.CharField(max_length=20, default="console")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["institution", "name"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            # One registration per (platform, client) in the whole service: a launch names
            # exactly one institution.
            models.UniqueConstraint(fields=["issuer", "client_id"], name="lti_platform_once"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.issuer})"


class Deployment(models.Model):
    """A deployment ID the platform launches with (one per place the LMS admin installed
    the tool). A launch from any other deployment is refused."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="deployments")
    deployment_id = models.CharField(max_length=255)

    class Meta:
        ordering: ClassVar[list[str]] = ["platform", "deployment_id"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["platform", "deployment_id"], name="lti_deployment_once"
            ),
        ]

    def __str__(self) -> str:
        return self.deployment_id


class RegistrationInvite(models.Model):
    """A one-time link an owner made for an LMS administrator (LTI Dynamic Registration):
    whoever opens it from the LMS registers that LMS for this institution, once, before it
    expires. Only the token's hash is kept."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="lti_invites"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    platform = models.ForeignKey(
        Platform, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"registration link {self.name}"


class LoginState(models.Model):
    """An OIDC third-party login this tool answered: the ``state`` and ``nonce`` it sent to
    the platform and the browser it sent them to. The launch that comes back must carry
    both, within ten minutes, once."""

    state = models.CharField(max_length=100, unique=True)
    nonce = models.CharField(max_length=100)
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="+")
    browser_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.state


class Launch(models.Model):
    """A verified launch: what the platform's signed message said, kept for the pages the
    person goes through next (pick a badge, connect their account, claim). Bound to the
    browser that started it."""

    key = models.CharField(max_length=64, unique=True)
    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="launches")
    deployment_id = models.CharField(max_length=255)
    message_type = models.CharField(max_length=40)
    subject = models.CharField(max_length=255)
    claims = models.JSONField()
    browser_hash = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key


class LmsAccount(models.Model):
    """A person as one platform knows them (the launch's ``sub``), linked to the Insignia
    account they use. Made when they first launch (a learner) or when they confirm the link
    while signed in (staff): an LMS never takes over an account by e-mail."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="accounts")
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lms_accounts"
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_launch_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["platform", "subject"], name="lti_account_once"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} @ {self.platform_id}"


class Course(models.Model):
    """A course (LTI context) of one deployment, with the grade and roster service URLs its
    launches gave; refreshed on every launch."""

    platform = models.ForeignKey(Platform, on_delete=models.CASCADE, related_name="courses")
    deployment_id = models.CharField(max_length=255)
    context_id = models.CharField(max_length=255)
    title = models.CharField(max_length=255, blank=True)
    label = models.CharField(max_length=255, blank=True)
    lineitems_url = models.URLField(max_length=1000, blank=True)
    ags_scopes = models.JSONField(default=list, blank=True)
    memberships_url = models.URLField(max_length=1000, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["platform", "title"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["platform", "deployment_id", "context_id"], name="lti_course_once"
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.context_id


class Rule(models.TextChoices):
    LAUNCH = "launch", _("when the learner opens it")
    SCORE = "score", _("when the learner's score reaches a minimum")
    COLUMN = "column", _("when a named gradebook column has a grade")


class Placement(models.Model):
    """A micro-credential an instructor placed in a course by deep linking, and the rule that
    awards it. The LMS's resource link carries this placement's id as a custom parameter."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="placements")
    achievement = models.ForeignKey(Achievement, on_delete=models.PROTECT, related_name="+")
    rule = models.CharField(max_length=10, choices=Rule.choices)
    min_score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    column = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255)
    resource_link_id = models.CharField(max_length=255, blank=True)
    lineitem_url = models.URLField(max_length=1000, blank=True)
    # Awards are made in the name of the instructor who placed the badge: their awarder
    # role is checked again at every award.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(default=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["course", "created_at"]

    def __str__(self) -> str:
        return self.title


class GrantStatus(models.TextChoices):
    AWARDED = "awarded", pgettext_lazy("the state of a course award", "Awarded")
    REVIEW = "review", _("Grade changed: awaiting a staff decision")
    KEPT = "kept", _("Kept after review")
    REVOKED = "revoked", _("Revoked after review")
    FAILED = "failed", _("Could not be awarded")


class Grant(models.Model):
    """What a course did for one learner and one placed badge: the award it made, exactly
    once. The unique key is (course — that is platform, deployment and context —, line
    item, badge, LMS user): a sync run again, a score posted twice or a changed grade find
    this row and award nothing more. A grade that falls below the rule after the award
    flags the row for review; only staff revoke."""

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="grants")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="grants")
    line_item = models.CharField(max_length=1000)
    achievement = models.ForeignKey(Achievement, on_delete=models.PROTECT, related_name="+")
    lms_user_id = models.CharField(max_length=255)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    sourced_id = models.CharField(max_length=256, blank=True)
    award = models.ForeignKey(
        Award, on_delete=models.SET_NULL, null=True, blank=True, related_name="lms_grants"
    )
    status = models.CharField(max_length=10, choices=GrantStatus.choices)
    score = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    latest_score = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["placement", "created_at"]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["course", "line_item", "achievement", "lms_user_id"],
                name="lti_grant_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lms_user_id}: {self.status}"
