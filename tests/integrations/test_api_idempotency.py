"""``Idempotency-Key`` on every POST of the REST API v1: the same key and body give the first
answer again and do nothing twice, another body is refused, keys belong to their caller,
answers are forgotten after a day, and concurrent twins never both run."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import URLPattern
from django.utils import timezone

from badges.models import Award, AwardStatusEvent, BulkBatch
from integrations.models import IdempotencyRecord
from tests.badges.helpers import award, make_published
from tests.base import Cast, make_cast
from tests.integrations.test_api_helpers import api, oauth_auth, staff_auth
from tests.integrations.test_api_isolation import api_routes


def _post(client: Client, url: str, data: dict[str, Any], key: str) -> Any:
    return client.post(
        url, json.dumps(data), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
    )


def _rows(version: Any, *emails: str) -> dict[str, Any]:
    return {"achievement": str(version.achievement_id), "rows": [{"email": e} for e in emails]}


@pytest.mark.django_db
def test_every_post_honours_the_key() -> None:
    for name, pattern in api_routes().items():
        view = getattr(pattern.callback, "view_class", None)
        post = getattr(view, "post", None)
        if post is None or not isinstance(pattern, URLPattern):
            continue
        if view.__module__.startswith("integrations.v1"):
            assert getattr(post, "idempotent", False), f"{name}: POST without Idempotency-Key"


@pytest.mark.django_db
def test_the_same_key_and_body_return_the_first_answer_and_do_nothing_twice(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    given = award(cast.awarder, version)
    client = api(oauth_auth(cast.owner, cast.institution))

    first = _post(client, "/api/v1/batches", _rows(version, "a@example.com"), "batch-1")
    again = _post(client, "/api/v1/batches", _rows(version, "a@example.com"), "batch-1")
    revoked = _post(client, f"/api/v1/awards/{given.pk}/revoke", {"reason": "Error"}, "rev-1")
    retried = _post(client, f"/api/v1/awards/{given.pk}/revoke", {"reason": "Error"}, "rev-1")
    fresh = _post(client, f"/api/v1/awards/{given.pk}/revoke", {"reason": "Error"}, "rev-2")

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert BulkBatch.objects.count() == 1
    assert revoked.status_code == retried.status_code == 200
    assert revoked.json() == retried.json()
    assert fresh.status_code == 400  # without the key, a second revocation is refused
    assert AwardStatusEvent.objects.filter(award=given).count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    client = api(staff_auth(cast.awarder))

    first = _post(client, "/api/v1/batches", _rows(version, "a@example.com"), "k")
    other = _post(client, "/api/v1/batches", _rows(version, "b@example.com"), "k")
    elsewhere = _post(
        client, f"/api/v1/achievements/{version.achievement_id}/awards", {"email": "a@x.org"}, "k"
    )

    assert first.status_code == 201
    assert other.status_code == elsewhere.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert BulkBatch.objects.count() == 1
    assert not Award.objects.exists()


@pytest.mark.django_db
def test_keys_belong_to_their_caller_and_a_refusal_frees_the_key(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    one = api(oauth_auth(cast.owner, cast.institution, name="SIS"))
    two = api(oauth_auth(cast.owner, cast.institution, name="LMS"))
    person = api(staff_auth(cast.awarder))

    for client in (one, two, person):
        assert (
            _post(client, "/api/v1/batches", _rows(version, "a@example.com"), "1").status_code
            == 201
        )
    refused = _post(person, "/api/v1/batches", {"achievement": "nope"}, "2")
    corrected = _post(person, "/api/v1/batches", _rows(version, "c@example.com"), "2")

    assert BulkBatch.objects.count() == 4
    assert refused.status_code == 400
    assert corrected.status_code == 201


@pytest.mark.django_db
def test_an_answer_is_kept_for_a_day(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    client = api(staff_auth(cast.awarder))
    _post(client, "/api/v1/batches", _rows(version, "a@example.com"), "daily")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=25))

    again = _post(client, "/api/v1/batches", _rows(version, "a@example.com"), "daily")

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert BulkBatch.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_a_twin_of_a_running_request_is_told_to_wait(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    client = api(staff_auth(cast.awarder))
    _post(client, "/api/v1/batches", _rows(version, "a@example.com"), "slow")
    # As if the first request had claimed the key and not finished yet.
    IdempotencyRecord.objects.update(completed_at=None, status_code=None, response=None)

    twin = _post(client, "/api/v1/batches", _rows(version, "a@example.com"), "slow")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(minutes=11))
    after_lease = _post(client, "/api/v1/batches", _rows(version, "a@example.com"), "slow")

    assert twin.status_code == 409
    assert twin.json()["error"]["code"] == "idempotency_in_progress"
    assert after_lease.status_code == 201  # the claim of a worker that died is given up
    assert BulkBatch.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_twins_award_once() -> None:
    cast = make_cast()
    version = make_published(cast.editor, cast.issuer)
    auth = staff_auth(cast.awarder)
    url = f"/api/v1/achievements/{version.achievement_id}/awards"
    body = {"awards": [{"email": f"twin{n}@example.com"} for n in range(20)]}
    answers: list[tuple[int, Any]] = []
    errors: list[BaseException] = []
    for round_ in range(3):
        gate = threading.Barrier(4)

        def twin(gate: threading.Barrier = gate, key: str = f"twin-{round_}") -> None:
            try:
                gate.wait()
                response = _post(Client(HTTP_AUTHORIZATION=auth), url, body, key)
                answers.append((response.status_code, response.json()))
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=twin) for _n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert errors == []
        assert Award.objects.count() == 20 * (round_ + 1)  # one twin per key awarded
    statuses = [status for status, _answer in answers]
    assert set(statuses) <= {201, 409}
    assert statuses.count(201) >= 3
    firsts = {json.dumps(answer, sort_keys=True) for status, answer in answers if status == 201}
    assert len(firsts) == 3  # one answer per key, however many twins got it
