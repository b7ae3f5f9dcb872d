"""Every console URL, requested by a member of another institution, gives 403 or 404 and
shows none of the institution's data. A console URL missing from this file fails the suite.

A second column, :data:`SIBLING`, gives each console URL its verdict for a colleague of the
same institution whose role is for another issuer only: refused, their own issuers' records
only, or the institution's by design (and why). ``sibling_column`` asks every URL as such a
colleague of each role; ``tests/security/test_sibling_issuers.py`` runs it (with the API's
column) and prints the figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from achievements import services as achievement_services
from analytics import services as analytics_services
from awarding import services as awarding_services
from badges import selectors as badge_selectors
from badges.models import Achievement, AchievementVersion, Award, BulkBatch, IssuerApiToken
from endorsements import services as endorsement_services
from endorsements.models import Endorsement, EndorsementRequest
from insignia.urls import manage_patterns
from integrations.models import ApiClient, StaffToken
from issuers import services
from issuers.models import Institution, Invitation, Issuer, Membership, Role, SigningKey
from lti.models import (
    Course,
    Deployment,
    Grant,
    GrantStatus,
    Placement,
    Platform,
    RegistrationInvite,
    Rule,
)
from signon.models import IdentityProvider, Protocol
from tests.base import Cast, make_institution, make_issuer, make_user
from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db

# Pages anyone may open (sign-in, password reset, an invitation by its secret token).
PUBLIC = {
    "login",
    "logout",
    "password_reset",
    "password_reset_sent",
    "password_reset_confirm",
    "password_reset_complete",
    "accept_invitation",
    "home",  # lists only the signed-in user's own institutions
}

# A person's own pages (issue 14: their API tokens and approved apps): no institution in the
# URL, only the signed-in person's objects (``test_a_persons_api_access_is_theirs_alone``).
PERSONAL = {"account_tokens", "account_token_revoke", "account_app_disconnect"}
# Two-step sign-in: the signed-in person's own authenticator and recovery codes only
# (``tests/accounts/test_totp.py::test_another_persons_two_step_pages_touch_only_their_own``).
PERSONAL |= {"otp_settings", "otp_enrol", "otp_verify", "otp_recovery_codes", "otp_remove"}

Kwargs = Callable[[Cast, str, Invitation], dict[str, Any]]


def _membership(cast: Cast) -> int:
    return Membership.objects.get(user=cast.awarder, institution=cast.institution).pk


def _achievement(cast: Cast) -> str:
    """The victim's micro-credential: version 1 published and awarded, version 2 a draft."""
    found = Achievement.objects.filter(issuer=cast.issuer, slug="victim-badge").first()
    if found is None:
        found = achievement_services.create_achievement(
            actor=cast.owner,
            issuer=cast.issuer,
            slug="victim-badge",
            name_en="Victim Secret Badge",
            description_en="Secret description",
            criteria_en="Secret criteria",
        )
        draft = badge_selectors.draft_of(found)
        assert draft is not None
        version = achievement_services.publish_version(actor=cast.owner, version=draft)
        awarding_services.award_badge(
            actor=cast.owner,
            version=version,
            email="victim-learner@poly.example",
            name="Victim Learner Name",
        )
        achievement_services.save_draft(actor=cast.owner, achievement=found, name_en="Victim Draft")
    return str(found.pk)


def _award(cast: Cast) -> str:
    """The victim's award (issue #6 pages: detail, revoke, suspend, reinstate, re-issue)."""
    _achievement(cast)
    return str(Award.objects.filter(issuer=cast.issuer).order_by("created_at")[0].pk)


def _batch(cast: Cast) -> str:
    """The victim's bulk upload (issue #8), a dry run naming the victim learner."""
    from awarding.bulk import services as bulk_services

    _achievement(cast)
    found = BulkBatch.objects.filter(issuer=cast.issuer).first()
    if found is None:
        version = AchievementVersion.objects.get(
            achievement__slug="victim-badge", status="published"
        )
        found = bulk_services.create_batch(
            actor=cast.owner,
            version=version,
            file_name="victim-badge.csv",
            data=b"Email,Name\nvictim-learner@poly.example,Victim Learner Name\n",
        )
    return str(found.pk)


def _api_token(cast: Cast) -> str:
    """The victim issuer's API token (issue #8), active."""
    from badges.tokens import services as token_services

    found = IssuerApiToken.objects.filter(issuer=cast.issuer).first()
    if found is None:
        found, _secret = token_services.create_api_token(
            actor=cast.owner, issuer=cast.issuer, name="Victim LMS token"
        )
    return str(found.pk)


def _endpoint(cast: Cast) -> str:
    """The victim institution's webhook endpoint (issue 14)."""
    found = Endpoint.objects.filter(institution=cast.institution).first()
    if found is None:
        found = Endpoint.objects.create(
            institution=cast.institution,
            url="https://victim-hooks.example/in",
            description="Victim webhook receiver",
            secret="whsec_dmljdGlt",
        )
    return str(found.pk)


def _third_issuer() -> Issuer:
    """An issuer of a third institution: endorsed by the victim, asking it for one."""
    found = Issuer.objects.filter(slug="third-arts").first()
    if found is not None:
        return found
    owner = make_user("owner@third.example", "Thea Third")
    return make_issuer(make_institution("third-uni", owner, "Third Uni"), "third-arts", owner)


def _endorsement(cast: Cast) -> str:
    """An endorsement the victim's issuer gave (endorsements console)."""
    found = Endorsement.objects.filter(endorser=cast.issuer).first()
    if found is None:
        found = endorsement_services.endorse(
            actor=cast.owner,
            endorser=cast.issuer,
            subject=endorsement_services.Subject(issuer=_third_issuer()),
            comment="Victim endorsement comment",
            language="en",
        )
    return str(found.pk)


def _endorsement_request(cast: Cast) -> str:
    """A request the victim institution received."""
    third = _third_issuer()
    found = EndorsementRequest.objects.filter(recipient=cast.institution).first()
    if found is None:
        found = EndorsementRequest.objects.create(
            requester=third.institution,
            recipient=cast.institution,
            kind="issuer",
            endorsed_issuer=third,
            message="Victim request message",
            created_at=timezone.now(),
        )
    return str(found.pk)


def _delivery(cast: Cast) -> str:
    """A delivery to the victim's endpoint (a test event)."""
    from webhooks import services as webhook_services

    endpoint = Endpoint.objects.get(pk=_endpoint(cast))
    found = Delivery.objects.filter(endpoint=endpoint).first()
    if found is None:
        found = webhook_services.send_test_event(actor=cast.owner, endpoint=endpoint)
    return str(found.pk)


def _identity_provider(cast: Cast) -> str:
    """The victim institution's SAML identity provider (issue 15)."""
    found = IdentityProvider.objects.filter(institution=cast.institution).first()
    if found is None:
        found = IdentityProvider.objects.create(
            institution=cast.institution,
            protocol=Protocol.SAML,
            label="Victim campus login",
            saml_entity_id="https://victim-idp.example/",
            role_rules=[{"value": "staff", "role": "awarder"}],
        )
    return str(found.pk)


def _with_provider(cast: Cast, **kwargs: str) -> dict[str, str]:
    """``kwargs``, once the victim institution has an identity provider to leak."""
    _identity_provider(cast)
    return kwargs


def _api_client(cast: Cast) -> str:
    """The victim institution's OAuth client (issue 14), active, limited to its issuer."""
    from integrations.oauth import services as oauth_services

    found = ApiClient.objects.filter(institution=cast.institution).first()
    if found is None:
        found, _secret = oauth_services.register_client(
            actor=cast.owner,
            institution=cast.institution,
            name="Victim SIS client",
            grant_type="client-credentials",
            scopes=["awards:read", "awards:write"],
            issuers=[cast.issuer],
        )
    return str(found.application.client_id)


def _key(cast: Cast) -> str:
    _achievement(cast)
    return services.active_key(cast.issuer).key_id


def _lti_platform(cast: Cast) -> str:
    """The victim institution's course platform (an LMS registered for LTI)."""
    found = Platform.objects.filter(institution=cast.institution).first()
    if found is None:
        found = Platform.objects.create(
            institution=cast.institution,
            name="Victim Moodle",
            issuer="https://victim-lms.example",
            client_id="victim-client",
            auth_login_url="https://victim-lms.example/mod/lti/auth.php",
            auth_token_url="https://victim-lms.example/mod/lti/token.php",
            key_set_url="https://victim-lms.example/mod/lti/certs.php",
        )
        Deployment.objects.create(platform=found, deployment_id="victim-deployment")
    return str(found.pk)


def _lti_invite(cast: Cast) -> int:
    """The victim institution's open registration link."""
    found = RegistrationInvite.objects.filter(institution=cast.institution).first()
    if found is None:
        found = RegistrationInvite.objects.create(
            institution=cast.institution,
            token_hash="0" * 64,
            name="Victim Canvas link",
            created_by=cast.owner,
            expires_at=timezone.now() + timedelta(days=7),
        )
    return found.pk


def _lti_placement(cast: Cast) -> str:
    """The victim badge, placed in a course of the victim's platform (awarded on a score)."""
    platform = Platform.objects.get(pk=_lti_platform(cast))
    course, _created = Course.objects.get_or_create(
        platform=platform,
        deployment_id="victim-deployment",
        context_id="victim-course",
        defaults={
            "title": "Victim Course Title",
            "lineitems_url": "https://victim-lms.example/lineitems",
        },
    )
    found = Placement.objects.filter(course=course).first()
    if found is None:
        found = Placement.objects.create(
            course=course,
            achievement=Achievement.objects.get(pk=_achievement(cast)),
            rule=Rule.SCORE,
            min_score=80,
            title="Victim Secret Badge",
            created_by=cast.owner,
        )
    return str(found.pk)


def _lti_grant(cast: Cast) -> int:
    """The victim course's award to the victim learner, flagged for review."""
    placement = Placement.objects.get(pk=_lti_placement(cast))
    found, _created = Grant.objects.get_or_create(
        course=placement.course,
        line_item="https://victim-lms.example/lineitems/1",
        achievement=placement.achievement,
        lms_user_id="victim-user",
        defaults={
            "placement": placement,
            "award": Award.objects.get(pk=_award(cast)),
            "status": GrantStatus.REVIEW,
            "name": "Victim Learner Name",
            "email": "victim-learner@poly.example",
            "score": 90,
            "latest_score": 40,
        },
    )
    return found.pk


def _with_lti(cast: Cast, **kwargs: str) -> dict[str, str]:
    """``kwargs``, once the victim institution has a platform, a registration link, a placed
    badge and a course award under review to leak."""
    _lti_invite(cast)
    _lti_grant(cast)
    return kwargs


# For each console URL: its arguments, given the institution slug to put in the URL.
# The objects are always the victim institution's.
def _case(cast: Cast) -> str:
    """The victim's recognition case: a learner asks credit for the victim badge."""
    from frameworks.models import RecognitionCase

    found = RecognitionCase.objects.filter(institution=cast.institution).first()
    if found is None:
        found = RecognitionCase.objects.create(
            institution=cast.institution,
            learner_email="victim-applicant@poly.example",
            learner_name="Victim Applicant Name",
            module=Achievement.objects.get(pk=_achievement(cast)),
        )
    return str(found.pk)


def _custom_framework(cast: Cast) -> tuple[int, int]:
    """The victim's own competency framework and its one item (issue #7 editor)."""
    from frameworks.competencies import services as competency_services
    from frameworks.models import CompetencyFramework

    found = CompetencyFramework.objects.filter(owner=cast.institution, source="custom").first()
    if found is None:
        found = competency_services.create_competency_framework(
            actor=cast.owner, institution=cast.institution, title_en="Victim Skills Framework"
        )
        competency_services.add_competency_item(
            actor=cast.owner, framework=found, label_en="Victim secret skill", code="VS.1"
        )
    return found.pk, found.items.get().pk


def _item_kwargs(cast: Cast, slug: str) -> dict[str, Any]:
    framework, item = _custom_framework(cast)
    return {"institution": slug, "framework": framework, "item": item}


def _pathway(cast: Cast) -> str:
    """The victim's pathway (issue #7 editor): the victim badge leads to a second badge."""
    from frameworks.models import Pathway
    from frameworks.pathways.services import create_pathway
    from frameworks.pathways.trees import GroupSpec

    found = Pathway.objects.filter(institution=cast.institution).first()
    if found is None:
        part = Achievement.objects.get(pk=_achievement(cast))
        target = achievement_services.create_achievement(
            actor=cast.owner, issuer=cast.issuer, slug="victim-target", name_en="Victim Target"
        )
        found = create_pathway(
            actor=cast.owner,
            institution=cast.institution,
            title_en="Victim Pathway",
            target=target,
            root=GroupSpec(rule="all", achievements=[part]),
        )
    return str(found.pk)


def _statement(cast: Cast) -> str:
    """The victim's draft equivalence statement (issue #7)."""
    import datetime

    from frameworks.models import EquivalenceStatement

    found = EquivalenceStatement.objects.filter(institution=cast.institution).first()
    if found is None:
        found = EquivalenceStatement.objects.create(
            institution=cast.institution,
            provider_name="Victim Secret Badge provider",
            title="Victim Secret Badge training",
            local_achievement=Achievement.objects.get(pk=_achievement(cast)),
            rationale="Secret criteria",
            valid_from=datetime.date(2026, 1, 1),
        )
    return str(found.pk)


def _completion(cast: Cast) -> str:
    """The victim's pathway completion, flagged for review (issue #7)."""
    from django.utils import timezone

    from frameworks.models import Pathway, PathwayCompletion

    award = Award.objects.get(pk=_award(cast))
    pathway, _created = Pathway.objects.get_or_create(
        institution=cast.institution,
        title_en="Victim Secret Badge pathway",
        defaults={"target": award.achievement_version.achievement},
    )
    found, _created = PathwayCompletion.objects.get_or_create(
        pathway=pathway,
        recipient_email=award.recipient_email,
        defaults={"award": award, "completed_at": timezone.now(), "needs_review": True},
    )
    return str(found.pk)


SCOPED: dict[str, Kwargs] = {
    "dashboard": lambda cast, slug, inv: {"institution": slug},
    "analytics": lambda cast, slug, inv: {"institution": slug},
    "settings": lambda cast, slug, inv: {"institution": slug},
    "issuers": lambda cast, slug, inv: {"institution": slug},
    "issuer_create": lambda cast, slug, inv: {"institution": slug},
    "issuer_edit": lambda cast, slug, inv: {"institution": slug, "issuer": cast.issuer.slug},
    "members": lambda cast, slug, inv: {"institution": slug},
    "member_invite": lambda cast, slug, inv: {"institution": slug},
    "member_role": lambda cast, slug, inv: {"institution": slug, "membership": _membership(cast)},
    "member_remove": lambda cast, slug, inv: {"institution": slug, "membership": _membership(cast)},
    "invitation_cancel": lambda cast, slug, inv: {"institution": slug, "invitation": inv.pk},
    "audit": lambda cast, slug, inv: {"institution": slug},
    "achievements": lambda cast, slug, inv: {"institution": slug},
    "achievement_create": lambda cast, slug, inv: {"institution": slug},
    "awards": lambda cast, slug, inv: {"institution": slug},
    "achievement_detail": lambda cast, slug, inv: {
        "institution": slug,
        "achievement": _achievement(cast),
    },
    "achievement_edit": lambda cast, slug, inv: {
        "institution": slug,
        "achievement": _achievement(cast),
    },
    "achievement_preview": lambda cast, slug, inv: {
        "institution": slug,
        "achievement": _achievement(cast),
    },
    "achievement_publish": lambda cast, slug, inv: {
        "institution": slug,
        "achievement": _achievement(cast),
    },
    "award_create": lambda cast, slug, inv: {
        "institution": slug,
        "achievement": _achievement(cast),
    },
    "award_detail": lambda cast, slug, inv: {"institution": slug, "award": _award(cast)},
    "award_revoke": lambda cast, slug, inv: {"institution": slug, "award": _award(cast)},
    "award_suspend": lambda cast, slug, inv: {"institution": slug, "award": _award(cast)},
    "award_reinstate": lambda cast, slug, inv: {"institution": slug, "award": _award(cast)},
    "award_reissue": lambda cast, slug, inv: {"institution": slug, "award": _award(cast)},
    "awards_revoke": lambda cast, slug, inv: {"institution": slug},
    "awards_bulk": lambda cast, slug, inv: {"institution": slug},
    "awards_export_csv": lambda cast, slug, inv: {"institution": slug},
    "awards_export_xlsx": lambda cast, slug, inv: {"institution": slug},
    # Issue #9: learners' identity-change requests, decided by the issuer.
    "identity_changes": lambda cast, slug, inv: {"institution": slug},
    # Issue #8: bulk issuing and resends.
    "bulk_upload": lambda cast, slug, inv: {"institution": slug, "achievement": _achievement(cast)},
    "bulk_template": lambda cast, slug, inv: {
        "institution": slug,
        "achievement": _achievement(cast),
    },
    "bulk_batch": lambda cast, slug, inv: {"institution": slug, "batch": _batch(cast)},
    "bulk_progress": lambda cast, slug, inv: {"institution": slug, "batch": _batch(cast)},
    "bulk_start": lambda cast, slug, inv: {"institution": slug, "batch": _batch(cast)},
    "bulk_cancel": lambda cast, slug, inv: {"institution": slug, "batch": _batch(cast)},
    "bulk_retry": lambda cast, slug, inv: {"institution": slug, "batch": _batch(cast)},
    "bulk_results": lambda cast, slug, inv: {"institution": slug, "batch": _batch(cast)},
    "award_resend": lambda cast, slug, inv: {"institution": slug, "award": _award(cast)},
    # Issue #7: frameworks, policies, competencies and placements.
    "frameworks": lambda cast, slug, inv: {"institution": slug},
    "competencies_import": lambda cast, slug, inv: {"institution": slug},
    "competencies_search": lambda cast, slug, inv: {"institution": slug},
    "pathways": lambda cast, slug, inv: {"institution": slug},
    "recognition": lambda cast, slug, inv: {"institution": slug},
    "recognition_case": lambda cast, slug, inv: {"institution": slug, "case": _case(cast)},
    "equivalences": lambda cast, slug, inv: {"institution": slug},
    "equivalence_create": lambda cast, slug, inv: {"institution": slug},
    "equivalence_detail": lambda cast, slug, inv: {
        "institution": slug,
        "statement": _statement(cast),
    },
    "pathway_review": lambda cast, slug, inv: {
        "institution": slug,
        "completion": _completion(cast),
    },
    "achievement_placement": lambda cast, slug, inv: {
        "institution": slug,
        "achievement": _achievement(cast),
    },
    # Issue #7 editors: custom competency frameworks and pathways.
    "competency_framework_create": lambda cast, slug, inv: {"institution": slug},
    "competency_framework": lambda cast, slug, inv: {
        "institution": slug,
        "framework": _custom_framework(cast)[0],
    },
    "competency_framework_edit": lambda cast, slug, inv: {
        "institution": slug,
        "framework": _custom_framework(cast)[0],
    },
    "competency_item_create": lambda cast, slug, inv: {
        "institution": slug,
        "framework": _custom_framework(cast)[0],
    },
    "competency_item_edit": lambda cast, slug, inv: _item_kwargs(cast, slug),
    "competency_item_move": lambda cast, slug, inv: _item_kwargs(cast, slug),
    "competency_item_retire": lambda cast, slug, inv: _item_kwargs(cast, slug),
    "competency_item_delete": lambda cast, slug, inv: _item_kwargs(cast, slug),
    "pathway_create": lambda cast, slug, inv: {"institution": slug},
    "pathways_deactivated": lambda cast, slug, inv: {"institution": slug},
    "pathway_edit": lambda cast, slug, inv: {"institution": slug, "pathway": _pathway(cast)},
    "pathway_set_active": lambda cast, slug, inv: {"institution": slug, "pathway": _pathway(cast)},
    "issuer_keys": lambda cast, slug, inv: {"institution": slug, "issuer": cast.issuer.slug},
    "issuer_key_rotate": lambda cast, slug, inv: {
        "institution": slug,
        "issuer": cast.issuer.slug,
    },
    "issuer_key_withdraw": lambda cast, slug, inv: {
        "institution": slug,
        "issuer": cast.issuer.slug,
        "key_id": _key(cast),
    },
    # Issue #8: an issuer's API tokens.
    "api_tokens": lambda cast, slug, inv: {"institution": slug, "issuer": cast.issuer.slug},
    "api_token_revoke": lambda cast, slug, inv: {
        "institution": slug,
        "issuer": cast.issuer.slug,
        "token": _api_token(cast),
    },
    # The institution's endorsements (given, received, requests).
    "endorsements": lambda cast, slug, inv: {"institution": slug},
    "endorsement_new": lambda cast, slug, inv: {"institution": slug},
    "endorsement_request_new": lambda cast, slug, inv: {"institution": slug},
    "endorsement_withdraw": lambda cast, slug, inv: {
        "institution": slug,
        "endorsement": _endorsement(cast),
    },
    **{
        name: (
            lambda cast, slug, inv: {"institution": slug, "request_id": _endorsement_request(cast)}
        )
        for name in ("endorsement_request", "endorsement_request_decline")
    },
    # Issue 14: the institution's webhook endpoints and their deliveries.
    "webhooks": lambda cast, slug, inv: {"institution": slug},
    "webhook_create": lambda cast, slug, inv: {"institution": slug},
    **{
        name: (lambda cast, slug, inv: {"institution": slug, "endpoint": _endpoint(cast)})
        for name in (
            "webhook_detail",
            "webhook_edit",
            "webhook_delete",
            "webhook_rotate",
            "webhook_enable",
            "webhook_disable",
            "webhook_test",
        )
    },
    "webhook_redeliver": lambda cast, slug, inv: {
        "institution": slug,
        "endpoint": _endpoint(cast),
        "delivery": _delivery(cast),
    },
    # Issue 15: campus sign-on (a protocol's settings page; the victim's identity provider).
    "signon": lambda cast, slug, inv: _with_provider(cast, institution=slug),
    "signon_edit": lambda cast, slug, inv: _with_provider(cast, institution=slug, protocol="saml"),
    "signon_remove": lambda cast, slug, inv: {
        "institution": slug,
        "provider": _identity_provider(cast),
    },
    # Issue 14: the institution's OAuth clients.
    "api_clients": lambda cast, slug, inv: {"institution": slug},
    "api_client_revoke": lambda cast, slug, inv: {
        "institution": slug,
        "client": _api_client(cast),
    },
    # Badges from the course (LTI): platforms, registration links, placed badges, reviews.
    "lti": lambda cast, slug, inv: _with_lti(cast, institution=slug),
    "lti_platform_new": lambda cast, slug, inv: _with_lti(cast, institution=slug),
    "lti_platform_edit": lambda cast, slug, inv: {
        "institution": slug,
        "platform": _lti_platform(cast),
    },
    "lti_platform_remove": lambda cast, slug, inv: {
        "institution": slug,
        "platform": _lti_platform(cast),
    },
    "lti_invite_new": lambda cast, slug, inv: _with_lti(cast, institution=slug),
    "lti_invite_revoke": lambda cast, slug, inv: {"institution": slug, "invite": _lti_invite(cast)},
    "lti_check": lambda cast, slug, inv: {"institution": slug, "placement": _lti_placement(cast)},
    "lti_decide": lambda cast, slug, inv: {"institution": slug, "grant": _lti_grant(cast)},
}

POST_DATA = {
    "name_en": "Hacked",
    "slug": "hacked",
    "url": "https://evil.example",
    "email": "evil@evil.example",
    "role": Role.OWNER,
    "brand_colour": "#000000",
    "email_address": "evil@evil.example",
    "language": "en",
    "name_zh": "黑客",
    "description_en": "Hacked",
    "criteria_en": "Hacked",
    "achievement_type": "Badge",
    "change_note": "Hacked",
    "reason": "Hacked",
    "confirm": "on",
}

# Strings that only the victim institution's pages contain.
SECRETS = [
    "Poly Technic",
    "理工学院",
    "awarder@poly.example",
    "poly-engineering",
    "pending@poly.example",
    "Victim Secret Badge",
    "Victim Draft",
    "Secret criteria",
    "victim-learner@poly.example",
    "Victim Learner Name",
    "victim-badge",
    "Victim LMS token",
    "Victim SIS client",
    "Victim webhook receiver",
    "victim-hooks.example",
    "Victim staff script",
    "Victim Skills Framework",
    "Victim secret skill",
    "Victim Pathway",
    "Victim campus login",
    "victim-idp.example",
    "Victim Moodle",
    "victim-lms.example",
    "victim-client",
    "Victim Canvas link",
    "Victim Course Title",
    "victim-applicant@poly.example",
    "Victim Applicant Name",
]


def _badge_state(cast: Cast) -> tuple[object, ...]:
    versions = AchievementVersion.objects.filter(achievement__issuer__institution=cast.institution)
    return (
        list(versions.values_list("number", "status", "name_en").order_by("pk")),
        Award.objects.filter(issuer__institution=cast.institution).count(),
        list(Award.objects.filter(issuer__institution=cast.institution).values_list("status")),
        list(SigningKey.objects.filter(issuer=cast.issuer).values_list("key_id", "status")),
        list(BulkBatch.objects.filter(issuer=cast.issuer).values_list("state")),
        list(IssuerApiToken.objects.filter(issuer=cast.issuer).values_list("name", "revoked_at")),
        list(
            ApiClient.objects.filter(institution=cast.institution).values_list(
                "application__name", "revoked_at", "scopes"
            )
        ),
        ApiClient.objects.count(),
        list(
            Endpoint.objects.filter(institution=cast.institution).values_list(
                "url", "secret", "disabled_at"
            )
        ),
        Delivery.objects.filter(endpoint__institution=cast.institution).count(),
        list(
            IdentityProvider.objects.filter(institution=cast.institution).values_list(
                "protocol", "enabled", "saml_entity_id", "role_rules"
            )
        ),
        IdentityProvider.objects.count(),
        list(
            Platform.objects.filter(institution=cast.institution).values_list(
                "name", "issuer", "client_id", "key_set_url", "enabled"
            )
        ),
        Platform.objects.count(),
        list(
            Deployment.objects.filter(platform__institution=cast.institution).values_list(
                "deployment_id", flat=True
            )
        ),
        list(
            RegistrationInvite.objects.filter(institution=cast.institution).values_list(
                "pk", "used_at"
            )
        ),
        RegistrationInvite.objects.count(),
        list(
            Placement.objects.filter(course__platform__institution=cast.institution).values_list(
                "pk", "last_checked_at", "last_check_error"
            )
        ),
        list(
            Grant.objects.filter(course__platform__institution=cast.institution).values_list(
                "pk", "status", "note"
            )
        ),
    )


# Pages that list what the whole platform publishes, to choose from: every institution and
# issuer (names and short names) and every published micro-credential's name, all public on
# the issuer and achievement pages already (the endorsement search and request forms).
PLATFORM_DIRECTORY = {"endorsement_new", "endorsement_request_new"}


def _platform_directory() -> set[str]:
    names: set[str] = set()
    for institution in Institution.objects.all():
        names |= {institution.name_en, institution.name_zh, institution.slug}
    for issuer in Issuer.objects.all():
        names |= {issuer.name_en, issuer.name_zh, issuer.slug}
    for version in AchievementVersion.objects.filter(status="published"):
        names |= {version.name_en, version.name_zh}
    return names - {""}


def _names() -> list[str]:
    return [p.name for p in manage_patterns if isinstance(p, URLPattern) and p.name]


def _body(response: Any) -> str:
    """A page's text; a streamed download (the awards export) read whole, a binary one
    (XLSX) as far as it is text."""
    data = b"".join(response.streaming_content) if response.streaming else response.content
    return str(data.decode(errors="replace"))


def test_every_console_url_is_covered_here() -> None:
    uncovered = sorted(set(_names()) - PUBLIC - PERSONAL - set(SCOPED))
    assert uncovered == [], f"Add these console URLs to the tenant-isolation test: {uncovered}"


@pytest.fixture
def invitation(cast: Cast) -> Invitation:
    return services.invite_member(
        actor=cast.owner,
        institution=cast.institution,
        email="pending@poly.example",
        role=Role.VIEWER,
    )


@pytest.mark.parametrize("name", sorted(SCOPED))
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("through", ["victim_slug", "own_slug"])
def test_an_outsider_gets_nothing_from_another_institution(
    client: Client, cast: Cast, invitation: Invitation, name: str, method: str, through: str
) -> None:
    client.force_login(cast.outsider)
    slug = cast.institution.slug if through == "victim_slug" else cast.other_institution.slug
    kwargs = SCOPED[name](cast, slug, invitation)
    url = reverse(f"manage:{name}", kwargs=kwargs)
    before = (
        Membership.objects.filter(institution=cast.institution).count(),
        list(
            Membership.objects.filter(institution=cast.institution).values_list("role", flat=True)
        ),
        cast.institution.issuers.count(),
        _badge_state(cast),
    )

    response = getattr(client, method)(url, POST_DATA) if method == "post" else client.get(url)

    # Pages of the outsider's own institution that take no victim object are theirs to see.
    own_page = through == "own_slug" and set(kwargs) - {"protocol"} == {"institution"}
    if own_page:
        assert response.status_code in {200, 302, 400, 405}
    else:
        assert response.status_code in {403, 404, 405}, (url, response.status_code)
    # The requested URL itself (echoed in the language switch's "next") is what the outsider
    # typed, not something the page disclosed.
    body = _body(response).replace(url, "")
    public = _platform_directory() if name in PLATFORM_DIRECTORY else set()
    for secret in SECRETS:
        assert secret in public or secret not in body, (url, secret)
    after = (
        Membership.objects.filter(institution=cast.institution).count(),
        list(
            Membership.objects.filter(institution=cast.institution).values_list("role", flat=True)
        ),
        cast.institution.issuers.count(),
        _badge_state(cast),
    )
    assert after == before
    invitation.refresh_from_db()
    assert invitation.cancelled_at is None


def test_the_console_home_lists_only_my_institutions(client: Client, cast: Cast) -> None:
    client.force_login(cast.outsider)
    response = client.get(reverse("manage:home"), follow=True)
    body = response.content.decode()
    assert "Rival College" in body
    assert "Poly Technic" not in body


def test_an_anonymous_visitor_is_sent_to_sign_in(client: Client, cast: Cast) -> None:
    for name, kwargs in SCOPED.items():
        url = reverse(
            f"manage:{name}", kwargs=kwargs(cast, cast.institution.slug, _dummy_invitation())
        )
        response = client.get(url)
        assert response.status_code in {302, 405}, url
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("manage:login"))


def _dummy_invitation() -> Invitation:
    return Invitation(pk="00000000-0000-0000-0000-000000000000")


def test_a_persons_api_access_is_theirs_alone(client: Client, cast: Cast) -> None:
    """Issue 14: another person cannot see, revoke or disconnect anything of the victim's on
    the personal pages: their staff tokens and the apps they approved."""
    from oauth2_provider.models import AccessToken

    from integrations.oauth import services as oauth_services

    token, _key = oauth_services.create_staff_token(user=cast.owner, name="Victim staff script")
    victim_client = ApiClient.objects.get(application__client_id=_api_client(cast))
    AccessToken.objects.create(
        user=cast.owner,
        application=victim_client.application,
        token_checksum="0" * 64,
        expires=token.created_at + timedelta(hours=1),
        scope="awards:read",
    )
    client.force_login(cast.outsider)
    urls = [
        reverse("manage:account_tokens"),
        reverse("manage:account_token_revoke", kwargs={"token": token.pk}),
        reverse("manage:account_app_disconnect", kwargs={"client": _api_client(cast)}),
    ]

    for url in urls:
        for response in (client.get(url), client.post(url, POST_DATA)):
            if url == urls[0]:
                assert response.status_code in {200, 400}, url  # the outsider's own page
            else:
                assert response.status_code == 404, (url, response.status_code)
            body = response.content.decode()
            for secret in SECRETS:
                assert secret not in body, (url, secret)
    assert StaffToken.objects.get(pk=token.pk).revoked_at is None
    assert AccessToken.objects.filter(user=cast.owner).count() == 1
    assert not StaffToken.objects.filter(user=cast.outsider).exists()


# --------------------------------------------------------------------------------------------
# The sibling-issuer column: a colleague whose role is for another issuer of the same
# institution (an owner, editor, awarder or viewer of that issuer only) reads and changes
# nothing of the victim issuer's. A console URL missing from SIBLING fails the suite.
# --------------------------------------------------------------------------------------------

# What the issuer-scoped colleague gets, per method:
REFUSED = "refused"  # 403 (an institution-wide role is needed), 404 (the victim issuer's record)
OWN_ONLY = "own only"  # any member opens it (200); it shows and counts their issuers' records only
SHARED = "shared"  # the institution's, by design (see why): any member reads it (200)


@dataclass(frozen=True)
class Sibling:
    """One console URL's verdict for GET and for POST, and why it is the right one."""

    get: str
    post: str
    why: str


OWNERS = Sibling(REFUSED, REFUSED, "the institution's own settings: institution-wide owners only")
EDITORS = Sibling(REFUSED, REFUSED, "the institution's catalogue: institution-wide editors only")
AWARDERS = Sibling(REFUSED, REFUSED, "course awards of every issuer: institution-wide awarders")
RECORD = Sibling(REFUSED, REFUSED, "the victim issuer's record: 404, as another institution's")
ITS_ROLE = Sibling(REFUSED, REFUSED, "acts as the victim issuer: 403 without a role for it")
DEFINITION = Sibling(
    SHARED,
    SHARED,
    "a micro-credential's definition is the institution's catalogue (published ones are public "
    "on the achievement page); a POST only reads it again",
)

SIBLING: dict[str, Sibling] = {
    "dashboard": Sibling(OWN_ONLY, OWN_ONLY, "its figures count the colleague's own issuers only"),
    "analytics": Sibling(
        OWN_ONLY, OWN_ONLY, "its figures and choices cover the colleague's own issuers only"
    ),
    "settings": OWNERS,
    "issuers": Sibling(SHARED, SHARED, "the issuers' public profiles (each has a public page)"),
    "issuer_create": OWNERS,
    "issuer_edit": ITS_ROLE,
    "members": OWNERS,
    "member_invite": OWNERS,
    "member_role": OWNERS,
    "member_remove": OWNERS,
    "invitation_cancel": OWNERS,
    "audit": OWNERS,
    "issuer_keys": ITS_ROLE,
    "issuer_key_rotate": ITS_ROLE,
    "issuer_key_withdraw": ITS_ROLE,
    "achievements": Sibling(SHARED, SHARED, DEFINITION.why),
    "achievement_create": Sibling(
        OWN_ONLY, OWN_ONLY, "offers the issuers the colleague edits for; the victim's is refused"
    ),
    "achievement_detail": DEFINITION,
    "achievement_edit": ITS_ROLE,
    "achievement_preview": DEFINITION,
    "achievement_publish": ITS_ROLE,
    "achievement_placement": Sibling(
        SHARED, REFUSED, "where a definition sits; editors of its issuer change it"
    ),
    "award_create": ITS_ROLE,
    "awards": Sibling(OWN_ONLY, OWN_ONLY, "lists the awards of the colleague's own issuers only"),
    "award_detail": RECORD,
    "award_revoke": RECORD,
    "award_suspend": RECORD,
    "award_reinstate": RECORD,
    "award_reissue": RECORD,
    "award_resend": RECORD,
    "awards_bulk": Sibling(
        REFUSED, OWN_ONLY, "POST only; counts and acts on the colleague's own issuers' awards"
    ),
    "awards_export_csv": Sibling(OWN_ONLY, OWN_ONLY, "exports the colleague's own issuers' awards"),
    "awards_export_xlsx": Sibling(
        OWN_ONLY, OWN_ONLY, "exports the colleague's own issuers' awards"
    ),
    "awards_revoke": Sibling(
        OWN_ONLY, OWN_ONLY, "offers and matches the awards of issuers the colleague edits for only"
    ),
    "identity_changes": Sibling(
        REFUSED, REFUSED, "learners' requests across issuers: institution-wide staff only"
    ),
    "bulk_upload": ITS_ROLE,
    "bulk_template": Sibling(SHARED, SHARED, "an empty CSV template of a definition"),
    "bulk_batch": RECORD,
    "bulk_progress": RECORD,
    "bulk_start": RECORD,
    "bulk_cancel": RECORD,
    "bulk_retry": RECORD,
    "bulk_results": RECORD,
    "frameworks": Sibling(
        SHARED, REFUSED, "the institution's policies and frameworks; owners choose policies"
    ),
    "competencies_import": EDITORS,
    "competencies_search": Sibling(SHARED, SHARED, "the institution's competency frameworks"),
    "competency_framework_create": EDITORS,
    "competency_framework": Sibling(SHARED, SHARED, "the institution's competency framework"),
    "competency_framework_edit": EDITORS,
    "competency_item_create": EDITORS,
    "competency_item_edit": EDITORS,
    "competency_item_move": EDITORS,
    "competency_item_retire": EDITORS,
    "competency_item_delete": EDITORS,
    "pathways": Sibling(
        OWN_ONLY,
        OWN_ONLY,
        "pathways are the institution's; completions under review and a learner's progress "
        "show the colleague's own issuers' awards only",
    ),
    "pathways_deactivated": Sibling(SHARED, SHARED, "the institution's pathway definitions"),
    "pathway_create": EDITORS,
    "pathway_edit": Sibling(SHARED, REFUSED, "a pathway's definition; institution editors edit"),
    "pathway_set_active": EDITORS,
    "pathway_review": EDITORS,
    "recognition": Sibling(
        OWN_ONLY, OWN_ONLY, "lists the cases for the colleague's own issuers' modules only"
    ),
    "recognition_case": RECORD,
    "equivalences": Sibling(SHARED, SHARED, "the institution's equivalence statements"),
    "equivalence_create": EDITORS,
    "equivalence_detail": Sibling(SHARED, SHARED, "an equivalence statement: no learner in it"),
    "api_tokens": OWNERS,
    "api_token_revoke": OWNERS,
    "api_clients": OWNERS,
    "api_client_revoke": OWNERS,
    **{name: OWNERS for name in _names() if name.startswith("webhook")},
    **{name: OWNERS for name in _names() if name.startswith("endorsement")},
    "signon": OWNERS,
    "signon_edit": OWNERS,
    "signon_remove": OWNERS,
    "lti": EDITORS,
    "lti_platform_new": OWNERS,
    "lti_platform_edit": OWNERS,
    "lti_platform_remove": OWNERS,
    "lti_invite_new": OWNERS,
    "lti_invite_revoke": OWNERS,
    "lti_check": AWARDERS,
    "lti_decide": AWARDERS,
}

# What a colleague of another issuer may know anyway: the institution and its issuers.
INSIDER = {"Poly Technic", "理工学院", "poly-engineering"}
ISSUER_ROLES = [Role.OWNER, Role.EDITOR, Role.AWARDER, Role.VIEWER]
# Sent with POST_DATA to the pages that let a colleague choose: the victim issuer's things.
SIBLING_POST: dict[str, dict[str, str]] = {
    "achievement_create": {"issuer": "poly-engineering", "slug": "hijack"},
    # Without "confirm": the page counts what matched (a count is an answer too).
    "awards_revoke": {"references": "victim-learner@poly.example", "confirm": ""},
    "awards_bulk": {"action": "revoke", "scope": "all", "q": "victim-learner@poly.example"},
    "recognition": {"learner_email": "victim-learner@poly.example"},
}
# Asked of the pages that look a learner up: the victim issuer's learner.
SIBLING_GET = {"pathways": "?email=victim-learner%40poly.example"}


def test_every_console_url_has_a_sibling_verdict() -> None:
    """Every console URL of an institution has one; the PUBLIC and PERSONAL ones name none,
    and show a colleague, as anyone, only what is their own."""
    missing = sorted(set(_names()) - PUBLIC - PERSONAL - set(SIBLING))
    assert missing == [], f"Give these console URLs a sibling-issuer verdict: {missing}"
    assert set(SIBLING) <= set(SCOPED)
    assert all(
        v.get in {REFUSED, OWN_ONLY, SHARED} and v.post in {REFUSED, OWN_ONLY, SHARED}
        for v in SIBLING.values()
    )


def make_colleague(cast: Cast) -> tuple[Any, Membership]:
    """A colleague of the victim issuer's: staff of the institution's other issuer only, with
    one award of their own issuer to see."""
    from tests.base import make_issuer, make_user

    own = make_issuer(cast.institution, "poly-arts", cast.owner)
    colleague = make_user("colleague@poly.example", "Cole Colleague")
    membership = Membership.objects.create(
        user=colleague, institution=cast.institution, issuer=own, role=Role.OWNER
    )
    badge = achievement_services.create_achievement(
        actor=cast.owner,
        issuer=own,
        slug="own-badge",
        name_en="Own Badge",
        description_en="Own description",
        criteria_en="Own criteria",
    )
    draft = badge_selectors.draft_of(badge)
    assert draft is not None
    version = achievement_services.publish_version(actor=cast.owner, version=draft)
    awarding_services.award_badge(
        actor=cast.owner, version=version, email="own-learner@poly.example", name="Own Learner"
    )
    return colleague, membership


def victim_everything(cast: Cast, inv: Invitation) -> dict[str, dict[str, Any]]:
    """Every console URL's arguments, once every record of the victim issuer (and of its
    institution) exists, so that every list has something to leak."""
    for build in (_batch, _api_token, _delivery, _identity_provider, _api_client, _key, _case):
        build(cast)
    _with_lti(cast)
    _custom_framework(cast)
    _pathway(cast)
    _statement(cast)
    _completion(cast)
    return {name: SCOPED[name](cast, cast.institution.slug, inv) for name in SIBLING}


def sibling_secrets(cast: Cast) -> list[str]:
    """What only the victim issuer's staff may read: its learners, awards, uploads, token."""
    award = Award.objects.filter(issuer=cast.issuer).order_by("created_at")[0]
    return [
        "victim-learner@poly.example",
        "Victim Learner Name",
        str(award.pk),
        str(BulkBatch.objects.get(issuer=cast.issuer).pk),
        "victim-badge.csv",
        "Victim LMS token",
        "victim-applicant@poly.example",
        "Victim Applicant Name",
    ]


def _sibling_state(cast: Cast) -> tuple[object, ...]:
    from frameworks.models import (
        CompetencyItem,
        EquivalenceStatement,
        Pathway,
        PathwayCompletion,
        RecognitionCase,
    )
    from issuers.models import AuditEvent

    return (
        _badge_state(cast),
        list(Membership.objects.filter(institution=cast.institution).values_list("pk", "role")),
        list(Invitation.objects.values_list("pk", "cancelled_at")),
        list(cast.institution.issuers.values_list("slug", "name_en", "url", "email")),
        AuditEvent.objects.filter(institution=cast.institution).count(),
        list(Pathway.objects.values_list("pk", "title_en", "is_active")),
        list(PathwayCompletion.objects.values_list("pk", "needs_review")),
        list(RecognitionCase.objects.values_list("pk", "needs_review", "reviewed_at")),
        list(EquivalenceStatement.objects.values_list("pk", "status", "title")),
        list(CompetencyItem.objects.values_list("pk", "label", "code", "retired_at")),
    )


def sibling_column(client: Client, cast: Cast, inv: Invitation) -> tuple[list[str], list[str]]:
    """Every console URL requested by an issuer-scoped colleague of each role, GET and POST:
    ``(reads, writes)`` where the verdict does not hold (empty when all is well)."""
    colleague, membership = make_colleague(cast)
    kwargs = victim_everything(cast, inv)
    secrets = sibling_secrets(cast)
    everything = [s for s in SECRETS if s not in INSIDER] + secrets
    reads: list[str] = []
    writes: list[str] = []
    for role in ISSUER_ROLES:
        Membership.objects.filter(pk=membership.pk).update(role=role)
        before = _sibling_state(cast)
        client.force_login(colleague)
        for name, verdict in sorted(SIBLING.items()):
            for method, expected, found in (
                ("get", verdict.get, reads),
                ("post", verdict.post, writes),
            ):
                url = reverse(f"manage:{name}", kwargs=kwargs[name])
                sent = {**POST_DATA, **SIBLING_POST.get(name, {})} if method == "post" else {}
                if method == "post":
                    response = client.post(url, sent)
                else:
                    url += SIBLING_GET.get(name, "")
                    response = client.get(url)
                status = response.status_code
                where = f"{role} {method.upper()} {name} → {status}"
                if expected == REFUSED and status not in {403, 404, 405}:
                    found.append(f"{where}: not refused")
                # An open page opens for the colleague's strongest role (their issuer's owner);
                # a weaker one may lack the role the page needs anywhere (403).
                opens = {200} if role == Role.OWNER else {200, 403}
                if expected != REFUSED and method == "get" and status not in opens:
                    found.append(f"{where}: an open page did not open")
                # What the colleague typed (the URL, echoed in the language switch, and a
                # posted address) is not something the page disclosed.
                body = _body(response).replace(url, "")
                shown = secrets if status == 200 else everything
                shown = [s for s in shown if s not in sent.values()]
                leaked = [s for s in shown if s in body]
                if leaked:
                    found.append(f"{where}: shows {leaked}")
                counted = response.context.get("matched") if response.context else None
                if counted:
                    found.append(f"{where}: counts {counted} of the victim issuer's awards")
                if _sibling_state(cast) != before:
                    found.append(f"{where}: changed the victim issuer's records")
                    before = _sibling_state(cast)
    # The colleague does read their own issuer's: the lists are not merely empty.
    Membership.objects.filter(pk=membership.pk).update(role=Role.VIEWER)
    listed = client.get(reverse("manage:awards", args=[cast.institution.slug]))
    assert "own-learner@poly.example" in listed.content.decode()
    analytics_services.fold(now=timezone.now() + timedelta(minutes=5))  # the figures settle
    dashboard = client.get(reverse("manage:dashboard", args=[cast.institution.slug]))
    assert dashboard.context["reach"]["awards"] == 1
    # The victim issuer's own staff do reach every URL: the refusals are about the issuer.
    client.force_login(cast.owner)
    for name in SIBLING:
        status = client.get(reverse(f"manage:{name}", kwargs=kwargs[name])).status_code
        assert status not in {403, 404}, (name, status)
    return reads, writes
