"""What happens after an identity provider vouched for someone, for both protocols
(``signon.services``): accounts made just in time, staff roles from the owner's rules, the
identifiers attached, and the rules that keep one institution's provider out of another's."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.test import RequestFactory

from accounts.models import User
from earners.models import InstitutionalIdentity, LearnerEmail
from issuers.models import AuditAction, AuditEvent, Membership, Role
from signon import services
from signon.models import ExternalAccount, IdentityProvider, Protocol
from signon.services import Claims, SignInRefused
from tests.base import Cast, make_user

pytestmark = pytest.mark.django_db


def _request(user: User | None = None) -> HttpRequest:
    request = RequestFactory().get("/")
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore()
    request.user = user or AnonymousUser()
    return request


def _provider(cast: Cast, **extra: object) -> IdentityProvider:
    return IdentityProvider.objects.create(
        institution=cast.institution,
        protocol=Protocol.SAML,
        saml_entity_id="https://idp.poly.example/",
        role_rules=[{"value": "staff", "role": "awarder"}, {"value": "it", "role": "editor"}],
        **extra,
    )


LEARNER = Claims(
    subject="persistent-1",
    email="Lee@Poly.example",
    name="Lee Learner",
    principal="LEE@poly.example",
    student_id=" 2026 1234 ",
    affiliations=("student@poly.example",),
)


def test_a_new_learner_gets_an_account_and_the_identifiers_the_institution_vouched_for(
    cast: Cast,
) -> None:
    provider = _provider(cast)
    request = _request()
    user = services.complete(request, provider, LEARNER)

    assert user.email == "lee@poly.example"
    assert user.name == "Lee Learner"
    assert not user.has_usable_password()
    assert request.session[services.SESSION_KEY]["provider"] == str(provider.pk)
    identities = {
        (i.identity_type, i.value, i.institution_id)
        for i in InstitutionalIdentity.objects.filter(user=user)
    }
    assert identities == {
        ("studentId", "20261234", cast.institution.pk),
        ("sourcedId", "lee@poly.example", cast.institution.pk),
    }
    # The address the provider sent is there, but waits to be confirmed.
    address = LearnerEmail.objects.get(user=user)
    assert address.email == "lee@poly.example" and address.verified_at is None
    assert not Membership.objects.filter(user=user).exists()
    assert services.landing(user, provider, "") == "/backpack/"


def test_signing_in_again_finds_the_same_account(cast: Cast) -> None:
    provider = _provider(cast)
    first = services.complete(_request(), provider, LEARNER)
    again = services.complete(_request(), provider, LEARNER)
    assert first.pk == again.pk
    assert ExternalAccount.objects.filter(provider=provider).count() == 1


def test_staff_get_the_highest_mapped_role_and_never_owner(cast: Cast) -> None:
    provider = _provider(cast)
    provider.role_rules.append({"value": "everyone", "role": "owner"})  # saved by hand
    provider.save()
    claims = Claims(
        subject="persistent-2",
        email="sam@poly.example",
        affiliations=("staff@poly.example", "everyone"),
        groups=("it",),
    )
    user = services.complete(_request(), provider, claims)
    membership = Membership.objects.get(user=user, institution=cast.institution)
    assert membership.role == Role.EDITOR
    assert services.landing(user, provider, "") == f"/manage/{cast.institution.slug}/"
    assert AuditEvent.objects.filter(
        institution=cast.institution, action=AuditAction.MEMBER_JOINED_VIA_SIGNON
    ).exists()
    assert not Membership.objects.filter(user=user, institution=cast.other_institution).exists()


def test_an_existing_members_role_is_left_as_the_owner_set_it(cast: Cast) -> None:
    provider = _provider(cast)
    claims = Claims(subject="p-3", email="ivy@poly.example", affiliations=("staff",))
    user = services.complete(_request(), provider, claims)
    Membership.objects.filter(user=user).update(role=Role.VIEWER)
    services.complete(_request(), provider, claims)
    assert Membership.objects.get(user=user).role == Role.VIEWER


def test_an_address_that_already_has_an_account_is_never_taken_over(cast: Cast) -> None:
    """An identity provider could claim anyone's address: it links only when that account's
    owner started the sign-in themselves."""
    provider = _provider(cast)
    claims = Claims(subject="p-4", email=cast.outsider.email, affiliations=("staff",))
    request = _request()
    with pytest.raises(SignInRefused, match="already uses"):
        services.complete(request, provider, claims)
    assert "_auth_user_id" not in request.session
    assert not Membership.objects.filter(user=cast.outsider, institution=cast.institution).exists()

    # Signed in with their password, the person links the institution themselves.
    learner = make_user("lee.home@example.org")
    request = _request(learner)
    user = services.complete(request, provider, LEARNER, link_user=learner)
    assert user.pk == learner.pk
    assert InstitutionalIdentity.objects.filter(user=learner, value="20261234").exists()


def test_one_institutions_identifiers_stay_with_that_institution(cast: Cast) -> None:
    mine = _provider(cast)
    theirs = IdentityProvider.objects.create(
        institution=cast.other_institution,
        protocol=Protocol.OIDC,
        oidc_issuer="https://login.rival.example",
        oidc_client_id="insignia",
        role_rules=[{"value": "staff", "role": "awarder"}],
    )
    a = services.complete(_request(), mine, LEARNER)
    b = services.complete(
        _request(),
        theirs,
        Claims(
            subject="x", email="b@rival.example", student_id="20261234", affiliations=("staff",)
        ),
    )
    assert a.pk != b.pk
    assert set(
        InstitutionalIdentity.objects.filter(value="20261234").values_list(
            "institution_id", "user_id"
        )
    ) == {(cast.institution.pk, a.pk), (cast.other_institution.pk, b.pk)}
    # Staff of the other institution became members there, not here.
    assert Membership.objects.get(user=b).institution == cast.other_institution


@pytest.mark.parametrize(
    ("change", "claims", "message"),
    [
        ({"enabled": False}, LEARNER, "switched off"),
        ({"allow_learners": False}, LEARNER, "Learners cannot"),
        (
            {"allow_staff": False},
            Claims(subject="s", email="s@poly.example", affiliations=("staff",)),
            "Staff of this institution",
        ),
        ({}, Claims(subject="", email="x@poly.example"), "did not say who you are"),
        ({}, Claims(subject="no-mail"), "did not send an e-mail"),
    ],
)
def test_refusals_sign_nobody_in_and_make_no_account(
    cast: Cast, change: dict[str, object], claims: Claims, message: str
) -> None:
    provider = _provider(cast, **change)
    users = User.objects.count()
    request = _request()
    with pytest.raises(SignInRefused, match=message):
        services.complete(request, provider, claims)
    assert User.objects.count() == users
    assert "_auth_user_id" not in request.session


def test_a_deactivated_account_cannot_sign_in(cast: Cast) -> None:
    provider = _provider(cast)
    user = services.complete(_request(), provider, LEARNER)
    User.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(SignInRefused, match="deactivated"):
        services.complete(_request(), provider, LEARNER)


def test_claims_are_read_through_the_owners_mapping(cast: Cast) -> None:
    provider = _provider(cast, attr_student_id="studentNumber")
    claims = services.claims_from(
        provider,
        "sub-1",
        {
            "mail": ["ana@poly.example"],
            "displayName": "Ana",
            "studentNumber": [20261234],
            "eduPersonAffiliation": ["member", "staff"],
            "isMemberOf": [],
        },
    )
    assert claims == Claims(
        subject="sub-1",
        email="ana@poly.example",
        name="Ana",
        student_id="20261234",
        affiliations=("member", "staff"),
    )
    assert services.mapped_role(provider, claims) == Role.AWARDER


def test_a_signed_in_account_is_linked_only_when_its_owner_asks(cast: Cast) -> None:
    """On a shared computer, someone signing in through the institution must not land in the
    account of whoever is still signed in."""
    provider = _provider(cast)
    someone = make_user("still.signed.in@example.org")
    plain = _request(someone)
    pending, _cookie = services.start(plain, provider, key="state-1")
    assert pending.link_user is None

    asked = RequestFactory().get("/", {"link": "1"})
    asked.session = plain.session
    asked.user = someone
    pending, _cookie = services.start(asked, provider, key="state-2")
    assert pending.link_user == someone

    anonymous = RequestFactory().get("/", {"link": "1"})
    anonymous.session = plain.session
    anonymous.user = AnonymousUser()
    pending, _cookie = services.start(anonymous, provider, key="state-3")
    assert pending.link_user is None


def test_a_sign_in_opened_in_another_browser_is_refused_and_not_used_up(cast: Cast) -> None:
    provider = _provider(cast)
    mine = _request()
    pending, cookie = services.start(mine, provider, key="state-9")
    elsewhere = _request()
    elsewhere.COOKIES[services.BROWSER_COOKIE] = "another-browser"
    with pytest.raises(SignInRefused, match="another browser"):
        services.take_pending(elsewhere, provider, "state-9")
    mine.COOKIES[services.BROWSER_COOKIE] = cookie
    assert services.take_pending(mine, provider, "state-9").nonce == pending.nonce
    with pytest.raises(SignInRefused, match="already used"):
        services.take_pending(mine, provider, "state-9")
