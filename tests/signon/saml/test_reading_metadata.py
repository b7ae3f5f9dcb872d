"""Reading an identity provider's metadata from the URL or file an owner gives: only one
identity provider's SAML 2.0 metadata is accepted, fetched through the guarded fetcher and
parsed with no DTD or external entity."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from signon import saml
from signon.saml import MetadataError
from tests.base import Cast
from tests.idp.saml_idp import SamlIdP
from tests.verification.servers import FakeWeb, Route, endless


@pytest.fixture
def web(settings: Settings, saml_idp: SamlIdP) -> Iterator[FakeWeb]:
    server = FakeWeb()
    settings.INSIGNIA_FETCH_ALLOWLIST = {
        "metadata.uni.test": server.address,
        "idp.uni.test": saml_idp.base_url.removeprefix("http://"),
    }
    yield server
    server.close()


def test_an_identity_providers_metadata_is_summarised(saml_idp: SamlIdP) -> None:
    summary = saml.idp_summary(saml_idp.metadata_xml)
    assert summary == saml.IdpSummary(
        entity_id=saml_idp.entity_id,
        sso_url=f"{saml_idp.base_url}/sso",
        slo_url=f"{saml_idp.base_url}/slo",
        certificate_count=1,
    )


def test_metadata_is_fetched_through_the_guarded_fetcher(web: FakeWeb, saml_idp: SamlIdP) -> None:
    xml = saml.fetch_metadata("https://idp.uni.test/metadata")
    assert saml.idp_summary(xml).entity_id == saml_idp.entity_id


def test_a_loopback_address_that_is_not_allow_listed_is_not_fetched(
    web: FakeWeb, saml_idp: SamlIdP
) -> None:
    with pytest.raises(MetadataError, match="does not fetch this address"):
        saml.fetch_metadata(saml_idp.metadata_url)  # http://127.0.0.1:<port>/metadata


def test_metadata_larger_than_two_megabytes_is_refused(web: FakeWeb, saml_idp: SamlIdP) -> None:
    web.add("https://metadata.uni.test/huge.xml", Route(stream=endless()))
    with pytest.raises(MetadataError, match="larger than 2 MB"):
        saml.fetch_metadata("https://metadata.uni.test/huge.xml")
    padded = saml_idp.metadata_xml.replace("<", "<!-- " + "x" * 2_100_000 + " --><", 1)
    with pytest.raises(MetadataError, match="larger than 2 MB"):
        saml.idp_summary(padded)


def test_a_missing_page_is_reported_with_its_status(web: FakeWeb) -> None:
    with pytest.raises(MetadataError, match="HTTP status 404"):
        saml.fetch_metadata("https://metadata.uni.test/nothing.xml")


def test_something_that_is_not_xml_is_refused(web: FakeWeb) -> None:
    web.add(
        "https://metadata.uni.test/page", Route(body=b"<html><p>Login", content_type="text/html")
    )
    with pytest.raises(MetadataError, match="not XML metadata"):
        saml.fetch_metadata("https://metadata.uni.test/page")
    with pytest.raises(MetadataError, match="not XML metadata"):
        saml.idp_summary('{"issuer": "https://idp.uni.test"}')
    with pytest.raises(MetadataError, match=r"not SAML 2\.0 metadata"):
        saml.idp_summary("<rss><channel/></rss>")


@pytest.mark.django_db
def test_a_service_providers_metadata_is_refused(cast: Cast) -> None:
    ours = Client().get(reverse("signon:saml_metadata", args=[cast.institution.slug]))
    with pytest.raises(MetadataError, match=r"no SAML 2\.0 identity provider"):
        saml.idp_summary(ours.content.decode())


def test_metadata_naming_two_identity_providers_is_refused(saml_idp: SamlIdP) -> None:
    one = saml_idp.metadata_xml.split("?>", 1)[-1]
    two = one.replace(saml_idp.entity_id, "https://other.uni.test/idp")
    both = (
        '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">'
        f"{one}{two}</md:EntitiesDescriptor>"
    )
    with pytest.raises(MetadataError, match="2 identity providers"):
        saml.idp_summary(both)


def test_metadata_without_a_signing_certificate_is_refused(saml_idp: SamlIdP) -> None:
    from saml2.md import entity_descriptor_from_string

    descriptor = entity_descriptor_from_string(saml_idp.metadata_xml)
    descriptor.idpsso_descriptor[0].key_descriptor = []
    with pytest.raises(MetadataError, match="no signing certificate"):
        saml.idp_summary(str(descriptor))


def test_expired_metadata_is_refused(saml_idp: SamlIdP) -> None:
    from saml2.md import entity_descriptor_from_string

    descriptor = entity_descriptor_from_string(saml_idp.metadata_xml)
    descriptor.valid_until = "2020-01-01T00:00:00Z"
    with pytest.raises(MetadataError, match="expired"):
        saml.idp_summary(str(descriptor))


@pytest.mark.parametrize(
    "xml",
    [
        # An external entity would read a file of the server's.
        '<?xml version="1.0"?><!DOCTYPE md [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        'entityID="&x;"/>',
        # Entity expansion ("billion laughs").
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        'entityID="&lol2;"/>',
    ],
)
def test_documents_with_a_dtd_are_refused_unread(xml: str) -> None:
    with pytest.raises(MetadataError, match="not XML metadata") as refused:
        saml.idp_summary(xml)
    assert "root:" not in refused.value.message
