"""D28 (journeys review): the bulk-revoke API called with a misspelt field (``references``
instead of ``credentials``) ignored it and revoked every award of the micro-credential. Now an
unknown field is refused with a 400 naming it, more than ``CONFIRM_ABOVE`` awards need the
caller's ``expected_count``, and the OpenAPI document admits no other property."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from badges.models import Award, AwardStatus
from integrations.v1.revocation import CONFIRM_ABOVE
from tests.badges.helpers import award, make_published
from tests.base import Cast
from tests.integrations.test_api_helpers import api, staff_auth

pytestmark = pytest.mark.django_db


def _revoke_many(client: Any, cast: Cast, **fields: Any) -> Any:
    return client.post(
        f"/api/v1/institutions/{cast.institution.slug}/awards/revoke",
        fields,
        content_type="application/json",
    )


def test_the_reviewers_misspelt_references_field_revokes_nothing(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    given = [award(cast.awarder, version, email=f"r{n}@example.com") for n in range(8)]
    client = api(staff_auth(cast.editor))

    response = _revoke_many(
        client,
        cast,
        achievement=str(version.achievement_id),
        references=[str(given[0].pk)],
        reason="Only the first one",
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"references": ["Unknown field."]}
    assert not Award.objects.filter(status=AwardStatus.REVOKED).exists()


def test_above_the_threshold_the_count_must_be_stated(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    for n in range(CONFIRM_ABOVE + 1):
        award(cast.awarder, version, email=f"t{n}@example.com")
    client = api(staff_auth(cast.editor))
    criteria = {"achievement": str(version.achievement_id), "reason": "Cohort cancelled"}

    unstated = _revoke_many(client, cast, **criteria)

    assert unstated.status_code == 409
    assert unstated.json()["error"]["details"]["matched"] == CONFIRM_ABOVE + 1
    assert f"expected_count={CONFIRM_ABOVE + 1}" in unstated.json()["error"]["message"]
    assert not Award.objects.filter(status=AwardStatus.REVOKED).exists()


def test_the_openapi_document_admits_no_unknown_field(client: Client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    bulk = schema["components"]["schemas"]["BulkRevokeInput"]
    assert bulk["additionalProperties"] is False
    assert "expected_count" in bulk["properties"]
    assert str(CONFIRM_ABOVE) in bulk["properties"]["expected_count"]["description"]
