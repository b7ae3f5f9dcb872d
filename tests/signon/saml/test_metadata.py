"""The institution's signed service provider metadata, and the rotation of its key: a
successor is published beside the active key before it takes over, so an identity provider
that re-reads the metadata never sees a gap."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings
from saml2.md import entity_descriptor_from_string

from issuers.models import AuditAction, AuditEvent, Institution
from signon import saml
from signon.models import KeyState, ServiceProviderKey
from tests.base import Cast
from tests.signon.saml.helpers import Campus, post_answer, signed_in, start_sign_in

pytestmark = pytest.mark.django_db

ENTITY_DESCRIPTOR = "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor"


def _metadata(campus_or_slug: Campus | str) -> bytes:
    slug = campus_or_slug if isinstance(campus_or_slug, str) else campus_or_slug.slug
    response = Client().get(reverse("signon:saml_metadata", args=[slug]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/samlmetadata+xml"
    return bytes(response.content)


def _xmlsec_verifies(xml: bytes, certificate_pem: str, folder: Path) -> bool:
    (folder / "metadata.xml").write_bytes(xml)
    (folder / "sp.crt").write_text(certificate_pem)
    result = subprocess.run(
        [
            "/usr/bin/xmlsec1",
            "--verify",
            "--pubkey-cert-pem",
            str(folder / "sp.crt"),
            "--id-attr:ID",
            ENTITY_DESCRIPTOR,
            str(folder / "metadata.xml"),
        ],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


def _signing_certificates(xml: bytes) -> list[str]:
    descriptor = entity_descriptor_from_string(xml.decode())
    return [
        "".join(key.key_info.x509_data[0].x509_certificate.text.split())
        for key in descriptor.spsso_descriptor[0].key_descriptor
        if key.use == "signing"
    ]


def _bare(pem: str) -> str:
    return "".join(line for line in pem.splitlines() if "-----" not in line)


def _active(institution: Institution) -> ServiceProviderKey:
    return ServiceProviderKey.objects.get(institution=institution, state=KeyState.ACTIVE)


def test_the_metadata_is_signed_with_the_institutions_key_and_verifies(
    campus: Campus, tmp_path: Path
) -> None:
    xml = _metadata(campus)
    key = _active(campus.provider.institution)
    assert _xmlsec_verifies(xml, key.certificate_pem, tmp_path)
    # One byte changed (the ACS address) and the signature no longer holds.
    tampered = xml.replace(b"/saml/acs/", b"/saml/acx/")
    assert tampered != xml
    assert not _xmlsec_verifies(tampered, key.certificate_pem, tmp_path)


def test_the_metadata_names_the_entity_its_services_and_how_long_it_is_good_for(
    campus: Campus,
) -> None:
    descriptor = entity_descriptor_from_string(_metadata(campus).decode())
    base = "http://127.0.0.1:8000/signon/poly/saml"
    assert descriptor.entity_id == f"{base}/metadata/" == campus.entity_id
    sp = descriptor.spsso_descriptor[0]
    assert [(s.binding, s.location) for s in sp.assertion_consumer_service] == [
        ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", f"{base}/acs/")
    ]
    assert [(s.binding, s.location) for s in sp.single_logout_service] == [
        ("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect", f"{base}/sls/")
    ]
    assert sp.authn_requests_signed == "true"
    valid_until = descriptor.valid_until
    assert valid_until.startswith(str((timezone.now() + timedelta(days=7)).date()))


def test_an_institution_gets_its_metadata_before_it_sets_up_its_identity_provider(
    cast: Cast,
) -> None:
    xml = _metadata(cast.other_institution.slug)
    assert b"rival-college/saml/acs/" in xml
    assert ServiceProviderKey.objects.filter(institution=cast.other_institution).count() == 1
    assert Client().get("/signon/no-such-place/saml/metadata/").status_code == 404


def test_no_successor_while_the_active_key_has_long_to_run(campus: Campus) -> None:
    _metadata(campus)
    assert saml.rotate_keys() == {"published": 0, "promoted": 0}
    assert ServiceProviderKey.objects.count() == 1


def test_a_successor_is_published_beside_the_active_key_then_takes_over(
    campus: Campus, tmp_path: Path
) -> None:
    institution = campus.provider.institution
    old = _active(institution)
    ServiceProviderKey.objects.filter(pk=old.pk).update(
        not_after=timezone.now() + timedelta(days=50)
    )

    assert saml.rotate_keys() == {"published": 1, "promoted": 0}
    successor = ServiceProviderKey.objects.get(institution=institution, state=KeyState.NEXT)
    published = _metadata(campus)
    assert _signing_certificates(published) == [
        _bare(old.certificate_pem),
        _bare(successor.certificate_pem),
    ]
    assert _xmlsec_verifies(published, old.certificate_pem, tmp_path)  # still signed by old
    campus.idp.trust_sp(published)  # the identity provider re-reads it once

    # Not before two weeks are up.
    assert saml.rotate_keys(now=timezone.now() + timedelta(days=13)) == {
        "published": 0,
        "promoted": 0,
    }
    assert saml.rotate_keys(now=timezone.now() + timedelta(days=14, minutes=1)) == {
        "published": 0,
        "promoted": 1,
    }
    old.refresh_from_db()
    successor.refresh_from_db()
    assert (old.state, successor.state) == (KeyState.RETIRED, KeyState.ACTIVE)
    assert successor.activated_at is not None
    audit = AuditEvent.objects.get(action=AuditAction.SIGNON_KEY_ROTATED)
    assert audit.institution_id == institution.pk and audit.actor is None
    after = _metadata(campus)
    assert _signing_certificates(after) == [_bare(successor.certificate_pem)]
    assert _xmlsec_verifies(after, successor.certificate_pem, tmp_path)

    # Requests signed with the new key are accepted by the identity provider, which has
    # not read the metadata since the successor was published.
    client = Client()
    finish = post_answer(client, campus.idp.answer(start_sign_in(client, campus), "learner1"))
    assert finish is not None
    client.post(finish.action, finish.fields)
    assert signed_in(client)


def test_the_private_key_is_stored_sealed(campus: Campus) -> None:
    from django.db import connection

    key = _active(campus.provider.institution)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT private_key_pem FROM signon_serviceproviderkey WHERE id = %s", [key.pk]
        )
        stored = cursor.fetchone()[0]
    assert "PRIVATE KEY" in key.private_key_pem
    assert "PRIVATE KEY" not in stored


def test_the_rotation_command_says_what_it_did(campus: Campus) -> None:
    _metadata(campus)
    ServiceProviderKey.objects.update(not_after=timezone.now() + timedelta(days=10))
    out = StringIO()
    call_command("rotate_signon_keys", stdout=out)
    assert out.getvalue().strip() == "1 successor key(s) published, 0 promoted."


def test_a_key_the_platform_cannot_open_gives_a_clear_503_not_a_500(
    cast: Cast, settings: Settings
) -> None:
    """The key-encryption key was changed under a running database (an operator's mistake):
    the metadata says it is unavailable instead of failing with a server error."""
    _metadata(cast.other_institution.slug)  # the key is made and sealed under the first KEK
    settings.INSIGNIA_KEY_ENCRYPTION_KEY = "B" * 43
    response = Client().get(reverse("signon:saml_metadata", args=[cast.other_institution.slug]))
    assert response.status_code == 503
    assert "metadata is unavailable" in response.content.decode()
