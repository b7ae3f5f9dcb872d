"""Building blocks of the SAML tests: an institution set up with the test identity provider,
and the steps a browser takes (done with Django's test client and plain HTTP)."""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.test import Client
from django.urls import reverse
from saml2.samlp import authn_request_from_string

from issuers.models import Institution
from signon import saml
from signon.models import IdentityProvider, Protocol
from tests.idp.saml_idp import Form, SamlIdP, read_form

STAFF_RULES = [{"value": "staff", "role": "awarder"}]


def make_saml_provider(institution: Institution, idp: SamlIdP, **extra: object) -> IdentityProvider:
    """The institution's SAML sign-on with ``idp``, and ``idp`` trusting its metadata (as
    served now, under the current ``INSIGNIA_BASE_URL``)."""
    summary = saml.idp_summary(idp.metadata_xml)
    provider = IdentityProvider.objects.create(
        institution=institution,
        protocol=Protocol.SAML,
        saml_metadata_xml=idp.metadata_xml,
        saml_entity_id=summary.entity_id,
        role_rules=STAFF_RULES,
        **extra,
    )
    metadata = Client().get(reverse("signon:saml_metadata", args=[institution.slug]))
    assert metadata.status_code == 200
    idp.trust_sp(metadata.content)
    return provider


@dataclass
class Campus:
    """A SAML-enabled institution, its provider and the identity provider."""

    provider: IdentityProvider
    idp: SamlIdP

    @property
    def slug(self) -> str:
        return self.provider.institution.slug

    @property
    def entity_id(self) -> str:
        return saml.entity_id(settings.INSIGNIA_BASE_URL, self.provider.institution)

    def url(self, name: str) -> str:
        return reverse(f"signon:{name}", args=[self.slug])


def start_sign_in(client: Client, campus: Campus, next_url: str = "") -> str:
    """Press "sign in" at Insignia: the URL of the identity provider the browser is sent to."""
    query = {"next": next_url} if next_url else {}
    response = client.get(campus.url("saml_login"), query)
    assert response.status_code == 302, response.content
    return str(response["Location"])


def post_answer(client: Client, form: Form) -> Form | None:
    """Post the identity provider's answer to our ACS; the page's form to finish, if any."""
    response = client.post(urlsplit(form.action).path, form.fields)
    if response.status_code != 200:
        return None
    return read_form(response.content)


def sign_in(client: Client, campus: Campus, username: str, next_url: str = "") -> str:
    """The whole round trip; where the browser lands."""
    answer = campus.idp.answer(start_sign_in(client, campus, next_url), username)
    finish = post_answer(client, answer)
    assert finish is not None, "the ACS refused the answer"
    response = client.post(finish.action, finish.fields)
    assert response.status_code == 302, response.content.decode()
    return str(response["Location"])


def request_id_of(redirect_url: str) -> str:
    """The ID of the ``<AuthnRequest>`` in an HTTP-Redirect URL."""
    encoded = parse_qs(urlsplit(redirect_url).query)["SAMLRequest"][0]
    xml = zlib.decompress(base64.b64decode(encoded), -15).decode()
    return str(authn_request_from_string(xml).id)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session
