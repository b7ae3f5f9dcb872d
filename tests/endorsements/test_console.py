"""The console pages: owners only (403 for other staff, 404 across institutions); giving,
withdrawing, asking, accepting and declining through the pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from endorsements.models import Endorsement, EndorsementRequest, EndorsementStatus, RequestStatus
from tests.badges.helpers import make_published
from tests.base import Cast
from tests.endorsements.helpers import endorse_issuer

pytestmark = pytest.mark.django_db


def _url(name: str, slug: str, **kwargs: object) -> str:
    return reverse(f"manage:{name}", kwargs={"institution": slug, **kwargs})


@pytest.mark.parametrize("who", ["editor", "awarder", "viewer"])
def test_staff_who_are_not_owners_get_403(cast: Cast, client: Client, who: str) -> None:
    client.force_login(getattr(cast, who))
    slug = cast.institution.slug
    assert client.get(_url("endorsements", slug)).status_code == 403
    assert client.get(_url("endorsement_new", slug)).status_code == 403
    response = client.post(
        _url("endorsement_new", slug),
        {"endorser": cast.issuer.pk, "target": f"issuer:{cast.other_issuer.slug}"},
    )
    assert response.status_code == 403
    assert not Endorsement.objects.exists()


def test_another_institutions_endorsement_and_request_are_404(cast: Cast, client: Client) -> None:
    endorsement = endorse_issuer(cast)  # given by the rival college
    asked = EndorsementRequest.objects.create(
        requester=cast.other_institution,
        recipient=cast.other_institution,
        kind="issuer",
        endorsed_issuer=cast.other_issuer,
        created_at=endorsement.created_at,
    )
    client.force_login(cast.owner)
    slug = cast.institution.slug
    withdraw = _url("endorsement_withdraw", slug, endorsement=endorsement.pk)
    assert client.post(withdraw).status_code == 404
    assert client.get(_url("endorsement_request", slug, request_id=asked.pk)).status_code == 404
    decline = _url("endorsement_request_decline", slug, request_id=asked.pk)
    assert client.post(decline).status_code == 404
    # Through the rival's slug: not a member there.
    other = cast.other_institution.slug
    assert client.get(_url("endorsements", other)).status_code == 404
    endorsement.refresh_from_db()
    asked.refresh_from_db()
    assert endorsement.status == EndorsementStatus.ACTIVE
    assert asked.status == RequestStatus.PENDING


def test_an_owner_endorses_from_the_search_and_withdraws(cast: Cast, client: Client) -> None:
    client.force_login(cast.outsider)
    slug = cast.other_institution.slug
    found = client.get(_url("endorsement_new", slug), {"q": "poly"}).content.decode()
    assert f'value="issuer:{cast.issuer.slug}"' in found

    response = client.post(
        _url("endorsement_new", slug),
        {
            "endorser": cast.other_issuer.pk,
            "target": f"issuer:{cast.issuer.slug}",
            "comment": "Trusted partner",
        },
    )

    assert response.status_code == 302
    endorsement = Endorsement.objects.get()
    assert endorsement.comment == "Trusted partner"
    listed = client.get(_url("endorsements", slug)).content.decode()
    assert "Trusted partner" in listed
    withdraw = _url("endorsement_withdraw", slug, endorsement=endorsement.pk)
    assert client.get(withdraw).status_code == 405  # a GET changes nothing
    assert client.post(withdraw).status_code == 302
    endorsement.refresh_from_db()
    assert endorsement.status == EndorsementStatus.WITHDRAWN


def test_nothing_chosen_is_a_clear_error(cast: Cast, client: Client) -> None:
    client.force_login(cast.outsider)
    response = client.post(
        _url("endorsement_new", cast.other_institution.slug), {"endorser": cast.other_issuer.pk}
    )
    assert response.status_code == 400
    assert "Choose one issuer or micro-credential" in response.content.decode()


def test_request_then_accept_signs_an_endorsement_with_the_edited_comment(
    cast: Cast, client: Client
) -> None:
    version = make_published(cast.editor, cast.issuer)
    client.force_login(cast.owner)
    response = client.post(
        _url("endorsement_request_new", cast.institution.slug),
        {
            "recipient": cast.other_institution.pk,
            "target": f"achievement:{version.achievement_id}",
            "message": "Would you endorse our data literacy course?",
        },
    )
    assert response.status_code == 302
    asked = EndorsementRequest.objects.get()
    sent = client.get(_url("endorsements", cast.institution.slug)).content.decode()
    assert "Rival College" in sent

    client.force_login(cast.outsider)
    slug = cast.other_institution.slug
    incoming = client.get(_url("endorsements", slug)).content.decode()
    assert "Would you endorse our data literacy course?" in incoming
    page = client.get(_url("endorsement_request", slug, request_id=asked.pk)).content.decode()
    assert "Would you endorse our data literacy course?" in page  # the comment's first draft
    response = client.post(
        _url("endorsement_request", slug, request_id=asked.pk),
        {"endorser": cast.other_issuer.pk, "comment": "Counts for 5 credits here."},
    )

    assert response.status_code == 302
    asked.refresh_from_db()
    assert asked.status == RequestStatus.ACCEPTED
    endorsement = Endorsement.objects.get()
    assert asked.endorsement == endorsement
    assert endorsement.endorsed_achievement_id == version.achievement_id
    subject = endorsement.credential["credentialSubject"]
    assert subject["endorsementComment"] == "Counts for 5 credits here."
    # Answered once: a second accept is refused and signs nothing more.
    again = client.post(
        _url("endorsement_request", slug, request_id=asked.pk),
        {"endorser": cast.other_issuer.pk, "comment": "again"},
    )
    assert again.status_code == 400
    assert Endorsement.objects.count() == 1


def test_a_declined_request_signs_nothing(cast: Cast, client: Client) -> None:
    client.force_login(cast.owner)
    client.post(
        _url("endorsement_request_new", cast.institution.slug),
        {"recipient": cast.other_institution.pk, "target": f"issuer:{cast.issuer.slug}"},
    )
    asked = EndorsementRequest.objects.get()
    client.force_login(cast.outsider)

    response = client.post(
        _url("endorsement_request_decline", cast.other_institution.slug, request_id=asked.pk)
    )

    assert response.status_code == 302
    asked.refresh_from_db()
    assert asked.status == RequestStatus.DECLINED
    assert not Endorsement.objects.exists()


def test_asking_for_someone_elses_issuer_is_refused(cast: Cast, client: Client) -> None:
    client.force_login(cast.owner)
    response = client.post(
        _url("endorsement_request_new", cast.institution.slug),
        {"recipient": cast.other_institution.pk, "target": f"issuer:{cast.other_issuer.slug}"},
    )
    assert response.status_code == 400  # not among the choices: only one's own
    assert not EndorsementRequest.objects.exists()
