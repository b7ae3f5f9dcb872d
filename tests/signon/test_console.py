"""The owner's campus sign-on pages: setting up SAML (metadata from a URL or a file) and
OpenID Connect (discovery) against the real test identity providers, what is refused, who may
see the pages, and the public "sign in with your institution" pages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from pytest_django.fixtures import Settings

from issuers.models import AuditAction, AuditEvent
from signon.forms import parse_role_rules
from signon.models import IdentityProvider, Protocol
from tests.base import Cast, make_user
from tests.idp.saml_idp import SamlIdP
from tests.signon.oidc.op import OpenIDProvider

pytestmark = pytest.mark.django_db

MAPPING = {
    "attr_email": "mail",
    "attr_name": "displayName",
    "attr_principal": "eduPersonPrincipalName",
    "attr_student_id": "schacPersonalUniqueCode",
    "attr_affiliation": "eduPersonAffiliation",
    "attr_groups": "",
}


def _edit(slug: str, protocol: str) -> str:
    return reverse("manage:signon_edit", args=[slug, protocol])


def test_an_owner_sets_up_saml_from_the_metadata_url(
    client: Client, cast: Cast, saml_idp: SamlIdP, settings: Settings
) -> None:
    settings.INSIGNIA_FETCH_ALLOWLIST = {
        saml_idp.base_url.split("//")[1]: saml_idp.base_url.split("//")[1]
    }
    client.force_login(cast.owner)
    page = client.get(reverse("manage:signon", args=[cast.institution.slug]))
    assert page.status_code == 200
    body = page.content.decode()
    # What to give the identity provider: our metadata, ACS and logout URLs.
    assert f"/signon/{cast.institution.slug}/saml/metadata/" in body
    assert "Not set up." in body

    response = client.post(
        _edit(cast.institution.slug, "saml"),
        {
            "label": "Poly sign-in",
            "enabled": "on",
            "allow_staff": "on",
            "allow_learners": "on",
            "saml_metadata_url": saml_idp.metadata_url,
            "saml_allow_idp_initiated": "on",
            "role_rules_text": "staff: awarder\nfaculty: Editor",
            **MAPPING,
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    provider = IdentityProvider.objects.get(institution=cast.institution)
    assert provider.saml_entity_id == saml_idp.entity_id
    assert provider.saml_metadata_fetched_at is not None
    assert provider.role_rules == [
        {"value": "staff", "role": "awarder"},
        {"value": "faculty", "role": "editor"},
    ]
    assert AuditEvent.objects.filter(
        institution=cast.institution, action=AuditAction.SIGNON_CONFIGURED, actor=cast.owner
    ).exists()
    listed = client.get(reverse("manage:signon", args=[cast.institution.slug])).content.decode()
    assert saml_idp.entity_id in listed and "Enabled" in listed

    # The same identity provider cannot also sign into another institution.
    client.force_login(cast.outsider)
    refused = client.post(
        _edit(cast.other_institution.slug, "saml"),
        {"saml_metadata_url": saml_idp.metadata_url, "enabled": "on", **MAPPING},
    )
    assert refused.status_code == 400
    assert "already set up for another institution" in refused.content.decode()
    assert not IdentityProvider.objects.filter(institution=cast.other_institution).exists()


def test_an_owner_uploads_metadata_and_bad_files_are_refused(
    client: Client, cast: Cast, saml_idp: SamlIdP
) -> None:
    client.force_login(cast.owner)
    url = _edit(cast.institution.slug, "saml")
    for content, message in [
        (b"not xml at all", "metadata"),
        (b"\xff\xfe\x00", "not UTF-8"),
        (b"<x/>" * (300 * 1024), "larger than 1 MB"),
    ]:
        response = client.post(
            url,
            {
                "enabled": "on",
                "metadata_file": SimpleUploadedFile("idp.xml", content),
                **MAPPING,
            },
        )
        assert response.status_code == 400
        assert message in response.content.decode()
    nothing = client.post(url, {"enabled": "on", **MAPPING})
    assert "Give the metadata URL or upload the metadata file." in nothing.content.decode()
    owner_rule = client.post(
        url,
        {
            "enabled": "on",
            "metadata_file": SimpleUploadedFile("idp.xml", saml_idp.metadata_xml.encode()),
            "role_rules_text": "staff: owner",
            **MAPPING,
        },
    )
    assert "never makes anyone an owner" in owner_rule.content.decode()
    assert not IdentityProvider.objects.exists()

    saved = client.post(
        url,
        {
            "enabled": "on",
            "allow_learners": "on",
            "metadata_file": SimpleUploadedFile("idp.xml", saml_idp.metadata_xml.encode()),
            **MAPPING,
        },
    )
    assert saved.status_code == 302
    provider = IdentityProvider.objects.get()
    assert provider.saml_entity_id == saml_idp.entity_id and not provider.allow_staff


def test_a_metadata_url_on_an_internal_address_is_refused(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    for address in ("http://127.0.0.1:9/metadata", "http://169.254.169.254/latest/meta-data"):
        response = client.post(
            _edit(cast.institution.slug, "saml"),
            {"enabled": "on", "saml_metadata_url": address, **MAPPING},
        )
        assert response.status_code == 400
    assert not IdentityProvider.objects.exists()


def test_an_owner_sets_up_openid_connect_by_discovery(
    client: Client,
    cast: Cast,
    op: OpenIDProvider,
) -> None:
    client.force_login(cast.owner)
    callback = "http://testserver" + reverse("signon:oidc_callback", args=[cast.institution.slug])
    client_id, secret = op.register(callback)
    url = _edit(cast.institution.slug, "oidc")
    form = client.get(url).content.decode()
    assert callback in form  # the redirect URI to register
    data = {
        "enabled": "on",
        "allow_staff": "on",
        "allow_learners": "on",
        "oidc_issuer": op.issuer,
        "oidc_client_id": client_id,
        "oidc_client_secret": secret,
        "oidc_scopes": "email profile",
        "attr_email": "email",
        "attr_student_id": "student_id",
        "role_rules_text": "staff: awarder",
    }
    wrong = client.post(url, {**data, "oidc_issuer": op.issuer + "/elsewhere"})
    assert wrong.status_code == 400
    assert not IdentityProvider.objects.exists()

    assert client.post(url, data).status_code == 302
    provider = IdentityProvider.objects.get()
    assert provider.oidc_discovery["issuer"] == op.issuer
    assert provider.oidc_scopes == "openid email profile"
    # The secret is stored sealed, never shown again, and kept when the form leaves it empty.
    assert secret not in client.get(url).content.decode()
    assert client.post(url, {**data, "oidc_client_secret": "", "label": "Uni"}).status_code == 302
    provider.refresh_from_db()
    assert provider.oidc_client_secret == secret and provider.label == "Uni"
    assert AuditEvent.objects.filter(action=AuditAction.SIGNON_CHANGED).exists()

    remove = reverse("manage:signon_remove", args=[cast.institution.slug, provider.pk])
    assert "Remove sign-in through OpenID Connect?" in client.get(remove).content.decode()
    assert client.post(remove).status_code == 302
    assert not IdentityProvider.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.SIGNON_REMOVED).exists()


@pytest.mark.parametrize("member", ["editor", "awarder", "viewer"])
def test_only_owners_see_the_sign_on_settings(client: Client, cast: Cast, member: str) -> None:
    client.force_login(getattr(cast, member))
    for url in (
        reverse("manage:signon", args=[cast.institution.slug]),
        _edit(cast.institution.slug, "saml"),
    ):
        assert client.get(url).status_code == 403
    assert client.get(_edit(cast.institution.slug, "ldap")).status_code in (403, 404)


def test_role_rules() -> None:
    assert parse_role_rules("# comment\n\nstaff@uni.example : awarder\n") == [
        {"value": "staff@uni.example", "role": "awarder"}
    ]
    for text in ("staff", "staff: dean", ": awarder", "staff: owner"):
        with pytest.raises(Exception, match="Line 1"):
            parse_role_rules(text)


def test_people_find_their_institution(client: Client, cast: Cast) -> None:
    IdentityProvider.objects.create(
        institution=cast.institution, protocol=Protocol.SAML, saml_entity_id="https://idp.poly/"
    )
    IdentityProvider.objects.create(
        institution=cast.other_institution, protocol=Protocol.OIDC, enabled=False
    )
    page = client.get(reverse("signon:choose"), {"q": "poly"}).content.decode()
    assert "Poly Technic" in page and "Rival College" not in page
    assert "Rival College" not in client.get(reverse("signon:choose")).content.decode()
    with translation.override("zh-hans"):
        chinese = client.get(reverse("signon:choose"), {"q": "理工"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "理工学院" in chinese.content.decode()

    # One provider: straight to it, carrying where the person was going.
    start = client.get(
        reverse("signon:start", args=[cast.institution.slug]), {"next": "/backpack/"}
    )
    assert start.status_code == 302
    assert start["Location"].startswith(f"/signon/{cast.institution.slug}/saml/login/")
    assert "next=%2Fbackpack%2F" in start["Location"]
    # A "next" to another site is dropped.
    away = client.get(
        reverse("signon:start", args=[cast.institution.slug]), {"next": "https://evil.example/"}
    )
    assert "evil" not in away["Location"]
    # Two: the person chooses.
    IdentityProvider.objects.create(
        institution=cast.institution, protocol=Protocol.OIDC, label="Poly Microsoft login"
    )
    both = client.get(reverse("signon:start", args=[cast.institution.slug]))
    assert both.status_code == 200 and "Poly Microsoft login" in both.content.decode()
    # None enabled: a clear page, not an error.
    assert (
        client.get(reverse("signon:start", args=[cast.other_institution.slug])).status_code == 404
    )


def test_both_sign_in_pages_offer_the_institution(client: Client) -> None:
    for name in ("manage:login", "earners:login"):
        page = client.get(reverse(name), {"next": "/backpack/"}).content.decode()
        assert "Sign in with your institution" in page
        assert reverse("signon:choose") + "?next=/backpack/" in page.replace("%2F", "/")


def test_a_signed_in_learner_links_their_institution(client: Client, cast: Cast) -> None:
    IdentityProvider.objects.create(
        institution=cast.institution, protocol=Protocol.SAML, saml_entity_id="https://idp.poly/"
    )
    learner = make_user("lee.home@example.org")
    client.force_login(learner)
    emails = client.get(reverse("earners:emails")).content.decode()
    assert "Institutional identities" in emails and "link=1" in emails
    page = client.get(reverse("signon:choose"), {"link": "1", "next": "/backpack/emails/"})
    body = page.content.decode()
    assert "Link your institution" in body and "lee.home@example.org" in body
    start = client.get(
        reverse("signon:start", args=[cast.institution.slug]),
        {"link": "1", "next": "/backpack/emails/"},
    )
    assert "link=1" in start["Location"]
    # Nobody signed in: nothing to link, so the parameter is not carried.
    client.logout()
    start = client.get(reverse("signon:start", args=[cast.institution.slug]), {"link": "1"})
    assert "link" not in start["Location"]
