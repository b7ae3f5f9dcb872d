"""Every console URL, requested by a member of another institution, gives 403 or 404 and
shows none of the institution's data. A console URL missing from this file fails the suite."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

from achievements import services as achievement_services
from awarding import services as awarding_services
from badges import selectors as badge_selectors
from badges.models import Achievement, AchievementVersion, Award, BulkBatch, IssuerApiToken
from insignia.urls import manage_patterns
from integrations.models import ApiClient, StaffToken
from issuers import services
from issuers.models import Invitation, Membership, Role, SigningKey
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
from tests.base import Cast
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
    from frameworks.models import RecognitionCase

    return str(
        RecognitionCase.objects.create(
            institution=cast.institution,
            learner_email="learner@example.com",
            module=Achievement.objects.get(pk=_achievement(cast)),
        ).pk
    )


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


def _names() -> list[str]:
    return [p.name for p in manage_patterns if isinstance(p, URLPattern) and p.name]


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
    body = response.content.decode().replace(url, "")
    for secret in SECRETS:
        assert secret not in body, (url, secret)
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
