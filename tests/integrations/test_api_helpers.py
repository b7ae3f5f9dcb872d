"""Builders shared by the REST API v1 tests (no tests of its own): credentials of every kind,
and a world of objects under one issuer with a sibling issuer and another institution next
to it."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from oauth2_provider.models import Application

from accounts.models import User
from awarding import services as awarding_services
from awarding.bulk import services as bulk_services
from badges.models import AchievementVersion, Award, BulkBatch, IssuerApiToken
from badges.tokens import services as token_services
from frameworks.models import Pathway, PathwayCompletion
from frameworks.pathways import services as pathway_services
from frameworks.pathways.trees import GroupSpec
from integrations.auth import staff_token_hash
from integrations.models import StaffToken
from integrations.oauth import services as oauth_services
from integrations.oauth.scopes import INSTITUTION_SCOPES
from issuers.models import Institution, Issuer
from tests.badges.helpers import award, make_achievement, make_published
from tests.base import Cast, make_issuer

EVERY_SCOPE = " ".join(INSTITUTION_SCOPES)


def staff_auth(user: User) -> str:
    """``Authorization`` of a new staff token of ``user`` (only its hash is stored)."""
    key = secrets.token_urlsafe(30)
    StaffToken.objects.create(user=user, name="tests", key_hash=staff_token_hash(key))
    return f"Token {key}"


def oauth_auth(
    owner: User,
    institution: Institution,
    scope: str = EVERY_SCOPE,
    *,
    issuers: Sequence[Issuer] = (),
    name: str = "Student records",
) -> str:
    """``Authorization`` of a client-credentials access token of a new client of
    ``institution`` granted every scope (``issuers``: the client's limit), asking ``scope``."""
    client, secret = oauth_services.register_client(
        actor=owner,
        institution=institution,
        name=name,
        grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        scopes=list(INSTITUTION_SCOPES),
        issuers=issuers,
    )
    basic = base64.b64encode(f"{client.application.client_id}:{secret}".encode()).decode()
    response = Client().post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    return f"Bearer {response.json()['access_token']}"


def issuer_auth(owner: User, issuer: Issuer, scope: str = EVERY_SCOPE) -> str:
    """``Authorization`` of a new issuer token (``ins_…``) carrying ``scope``."""
    token, key = token_services.create_api_token(actor=owner, issuer=issuer, name="LMS")
    IssuerApiToken.objects.filter(pk=token.pk).update(scopes=scope)
    return f"Bearer {key}"


def api(auth: str) -> Client:
    return Client(HTTP_AUTHORIZATION=auth)


def body(response: Any) -> Any:
    return response.json()


@dataclass
class World:
    """The victim issuer's objects (``cast.issuer``), a sibling issuer of the same
    institution, and credentials of every kind."""

    cast: Cast
    sibling: Issuer
    version: AchievementVersion
    draft_only: Any
    awards: list[Award]
    batch: BulkBatch
    pathway: Pathway
    completion: PathwayCompletion
    sibling_version: AchievementVersion
    extra: dict[str, Any] = field(default_factory=dict)


def make_world(cast: Cast) -> World:
    sibling = make_issuer(cast.institution, "poly-business", cast.owner)
    version = make_published(cast.editor, cast.issuer)
    draft_only = make_achievement(cast.editor, cast.issuer, slug="draft-only")
    given = [
        award(cast.awarder, version, email=f"learner{n}@example.com", name=f"Learner {n}")
        for n in range(3)
    ]
    batch = bulk_services.create_batch(
        actor=cast.awarder,
        version=version,
        file_name="cohort.csv",
        data=b"Email,Name\ncohort1@example.com,Cohort One\nnot-an-address,Bad\n",
    )
    target = make_published(cast.editor, cast.issuer, slug="pathway-target")
    pathway = pathway_services.create_pathway(
        actor=cast.owner,
        institution=cast.institution,
        title_en="Data pathway",
        target=target.achievement,
        root=GroupSpec(rule="all", achievements=[version.achievement]),
    )
    completion = awarding_services.complete_pathway(pathway=pathway, email=given[0].recipient_email)
    assert completion is not None
    sibling_version = make_published(cast.editor, sibling, slug="marketing")
    award(cast.awarder, sibling_version, email="sibling@example.com")
    return World(
        cast=cast,
        sibling=sibling,
        version=version,
        draft_only=draft_only,
        awards=given,
        batch=batch,
        pathway=pathway,
        completion=completion,
        sibling_version=sibling_version,
    )
