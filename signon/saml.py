"""The SAML 2.0 service provider: one per institution, with pysaml2 used directly.

djangosaml2 is not used because its configuration is process-wide settings (one service
provider for the whole site); here each institution is its own service provider, with its own
entity ID (the URL of its metadata), its own key and its own identity provider, so a
``saml2.config.SPConfig`` is built per institution, per request (:func:`sp_config`).

What the service provider insists on (``read_response``):

- the response or the assertion signed with a certificate from the identity provider's
  metadata (unsigned answers are refused), issued by that identity provider, addressed to
  this institution (audience, destination, recipient), within a minute of clock skew, and
  answering a request this platform sent (``InResponseTo``), unless the owner accepts
  sign-ins started at the identity provider;
- each assertion accepted once (:func:`remember_assertion`);
- a person known by a stable identifier: the ``subject-id`` (or ``pairwise-id``) attribute,
  else a persistent NameID qualified by the identity provider, else
  ``eduPersonPrincipalName``. A transient NameID alone is refused.

The private key is stored sealed (``signon.models.PrivateKeyField``). xmlsec1, which pysaml2
signs and decrypts with, reads keys from files: they are written to a private temporary
directory for the length of one ``with sp_config(...)`` block and removed after. Keys rotate
(:func:`rotate_keys`): a successor is published beside the active key two weeks before it
takes over. Untrusted XML is parsed with defusedxml (no DTD, no entities).

The module is about 840 lines: the identity provider's metadata, the keys, the
per-institution configuration, signing in and single logout all turn on that one
configuration and its key files, and what the service provider accepts is best reviewed in
one place. Its sections could become a ``signon/saml/`` package if it grows further.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import contextlib
import logging
import os
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote_plus
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from defusedxml import DefusedXmlException
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml, samlp
from saml2.attribute_converter import ac_factory
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.mdstore import InMemoryMetaData
from saml2.metadata import entity_descriptor, sign_entity_descriptor
from saml2.response import StatusError, UnsolicitedResponse
from saml2.s_utils import decode_base64_and_inflate
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.sigver import SigverError, security_context
from saml2.time_util import str_to_time
from saml2.validate import ResponseLifetimeExceed, ToEarly
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from issuers.models import AuditAction, Institution
from issuers.services import record_audit
from signon.models import IdentityProvider, KeyState, SeenAssertion, ServiceProviderKey
from verification import fetcher

log = logging.getLogger(__name__)

MD: Final = "urn:oasis:names:tc:SAML:2.0:metadata"
DS: Final = "http://www.w3.org/2000/09/xmldsig#"
SAML2_PROTOCOL: Final = "urn:oasis:names:tc:SAML:2.0:protocol"
METADATA_MAX_BYTES: Final = 2 * 1024 * 1024
METADATA_ACCEPT: Final = "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8"
#: Clock skew accepted between the identity provider and us, in seconds.
TIME_SLACK: Final = 60
#: How long a logout message may take to arrive.
LOGOUT_LIFETIME: Final = timedelta(minutes=5)
#: How long our signed metadata says it is good for (identity providers re-read it).
METADATA_VALID_HOURS: Final = 24 * 7
KEY_BITS: Final = 3072
KEY_LIFETIME: Final = timedelta(days=730)
#: A successor key is published when the active one has less than this left...
ROTATE_BEFORE: Final = timedelta(days=60)
#: ...and takes over once identity providers have had this long to re-read the metadata.
PROMOTE_AFTER: Final = timedelta(days=14)
#: Keys of sign-ins started at the identity provider (no browser of ours started them).
UNSOLICITED_PREFIX: Final = "idp-initiated:"

SUBJECT_IDS: Final = (
    ("subject-id", ("urn:oasis:names:tc:SAML:attribute:subject-id", "subject-id")),
    ("pairwise-id", ("urn:oasis:names:tc:SAML:attribute:pairwise-id", "pairwise-id")),
)
EPPN: Final = ("urn:oid:1.3.6.1.4.1.5923.1.1.1.6", "eduPersonPrincipalName")
SCHAC_CODE: Final = ("urn:oid:1.3.6.1.4.1.25178.1.2.14", "schacPersonalUniqueCode")
SCHAC_CODE_URN: Final = "urn:schac:personaluniquecode:"
#: Redirect-binding signature algorithms accepted from identity providers (no SHA-1).
REDIRECT_HASHES: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    SIG_RSA_SHA256: hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": hashes.SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": hashes.SHA512,
}


class MetadataError(Exception):
    """Metadata that cannot be used; ``message`` is for the owner, in their language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refused(Exception):
    """A SAML message that must not be acted on. ``message`` is for the person (their
    language), ``reason`` for the log, ``status`` the HTTP status of the page."""

    def __init__(self, message: str, reason: str, status: int = 403) -> None:
        super().__init__(reason)
        self.message = message
        self.reason = reason
        self.status = status


def _unverified(reason: str) -> Refused:
    return Refused(
        _(
            "The answer from your institution's sign-in service could not be verified. "
            "Please try again, or tell your institution's IT team."
        ),
        reason,
    )


def _unreadable(reason: str) -> Refused:
    return Refused(
        _("Your institution's sign-in service sent something Insignia cannot read."),
        reason,
        400,
    )


def _broken(reason: str) -> Refused:
    return Refused(
        _(
            "Sign-in through this institution is not working at the moment: its settings "
            "need attention. Please tell your institution's IT team."
        ),
        reason,
        503,
    )


# --------------------------------------------------------------------------------------------
# The identity provider's metadata
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdpSummary:
    entity_id: str
    sso_url: str
    slo_url: str | None
    certificate_count: int


def _parse(xml: str | bytes) -> Element:
    """Parse untrusted XML: no DTD, no entities, nothing external."""
    try:
        return SafeET.fromstring(xml, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as error:
        log.info("signon: unreadable SAML XML: %s", error)
        raise MetadataError(_("This is not XML metadata.")) from None


def _idp_descriptors(root: Element) -> list[tuple[Element, Element]]:
    if root.tag == f"{{{MD}}}EntityDescriptor":
        entities = [root]
    elif root.tag == f"{{{MD}}}EntitiesDescriptor":
        entities = list(root.iter(f"{{{MD}}}EntityDescriptor"))
    else:
        raise MetadataError(_("This is XML, but not SAML 2.0 metadata."))
    return [
        (entity, descriptor)
        for entity in entities
        for descriptor in entity.findall(f"{{{MD}}}IDPSSODescriptor")
        if SAML2_PROTOCOL in (descriptor.get("protocolSupportEnumeration") or "")
    ]


def _endpoint(descriptor: Element, service: str, *, response: bool = False) -> str | None:
    for endpoint in descriptor.findall(f"{{{MD}}}{service}"):
        if endpoint.get("Binding") == BINDING_HTTP_REDIRECT and endpoint.get("Location"):
            chosen = (response and endpoint.get("ResponseLocation")) or endpoint.get("Location")
            return str(chosen).strip()
    return None


def _certificates(descriptor: Element) -> list[x509.Certificate]:
    found = []
    for key in descriptor.findall(f"{{{MD}}}KeyDescriptor"):
        if key.get("use") not in (None, "", "signing"):
            continue
        for element in key.iter(f"{{{DS}}}X509Certificate"):
            with contextlib.suppress(ValueError, binascii.Error):
                der = base64.b64decode("".join((element.text or "").split()))
                found.append(x509.load_der_x509_certificate(der))
    return found


def idp_summary(xml: str) -> IdpSummary:
    """What an owner needs to see of an identity provider's metadata. Raises
    :class:`MetadataError` for anything but one identity provider's SAML 2.0 metadata that a
    browser can be sent to (HTTP-Redirect single sign-on) and that signs its answers."""
    if len(xml.encode()) > METADATA_MAX_BYTES:
        raise MetadataError(_("The metadata is larger than 2 MB."))
    found = _idp_descriptors(_parse(xml))
    if not found:
        raise MetadataError(
            _("This metadata describes no SAML 2.0 identity provider (a service provider's?).")
        )
    if len(found) > 1:
        raise MetadataError(
            _(
                "This metadata describes %(count)s identity providers; use the metadata of "
                "your institution's identity provider alone."
            )
            % {"count": len(found)}
        )
    entity, descriptor = found[0]
    entity_id = (entity.get("entityID") or "").strip()
    if not entity_id:
        raise MetadataError(_("The metadata has no entity ID."))
    sso_url = _endpoint(descriptor, "SingleSignOnService")
    if not sso_url:
        raise MetadataError(
            _("The identity provider has no single sign-on address for the HTTP-Redirect binding.")
        )
    certificates = _certificates(descriptor)
    if not certificates:
        raise MetadataError(
            _("The metadata has no signing certificate, so its answers could not be checked.")
        )
    try:
        # pysaml2 reads it to check signatures: it must accept it too. It leaves out an
        # entity whose validUntil has passed.
        store = InMemoryMetaData(list(ac_factory()), xml)
        store.load()
        usable = entity_id in store
    except Exception as error:  # pysaml2 raises many kinds; the owner needs one message
        log.info("signon: pysaml2 refused metadata of %s: %s", entity_id, error)
        usable = False
    if not usable:
        raise MetadataError(_("The metadata could not be read: it may have expired."))
    return IdpSummary(
        entity_id=entity_id,
        sso_url=sso_url,
        slo_url=_endpoint(descriptor, "SingleLogoutService"),
        certificate_count=len(certificates),
    )


def fetch_metadata(url: str) -> str:
    """The identity provider metadata at ``url``, fetched through the guarded fetcher (no
    internal addresses, at most 2 MB) and checked by :func:`idp_summary`."""
    try:
        response = fetcher.fetch(url, accept=METADATA_ACCEPT, max_bytes=METADATA_MAX_BYTES)
    except fetcher.TooLarge:
        raise MetadataError(_("The metadata is larger than 2 MB.")) from None
    except fetcher.BlockedURL as error:
        log.info("signon: metadata URL %s refused: %s", url, error)
        raise MetadataError(
            _("Insignia does not fetch this address. Use the public address of the metadata.")
        ) from None
    except fetcher.FetchError as error:
        log.info("signon: metadata URL %s failed: %s", url, error)
        raise MetadataError(_("The metadata could not be fetched from this address.")) from None
    if response.status != 200:
        raise MetadataError(
            _("The metadata address answered with HTTP status %(status)s.")
            % {"status": response.status}
        )
    try:
        xml = response.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MetadataError(_("This is not XML metadata.")) from None
    idp_summary(xml)
    return xml


# --------------------------------------------------------------------------------------------
# The service provider's keys
# --------------------------------------------------------------------------------------------


def _new_key(institution: Institution, state: KeyState, now: datetime) -> ServiceProviderKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"Insignia SAML {institution.slug}"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Insignia"),
        ]
    )
    not_before = now - timedelta(minutes=5)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(now + KEY_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    return ServiceProviderKey.objects.create(
        institution=institution,
        private_key_pem=private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        state=state,
        not_before=not_before,
        not_after=now + KEY_LIFETIME,
        activated_at=now if state == KeyState.ACTIVE else None,
    )


def active_key(institution: Institution) -> ServiceProviderKey:
    """The key ``institution`` signs with now, made the first time it is needed."""
    mine = ServiceProviderKey.objects.filter(institution=institution, state=KeyState.ACTIVE)
    found = mine.first()
    if found is not None:
        return found
    with transaction.atomic():
        # One first key even when two requests ask at once.
        Institution.objects.select_for_update().filter(pk=institution.pk).first()
        return mine.first() or _new_key(institution, KeyState.ACTIVE, timezone.now())


def rotate_keys(now: datetime | None = None) -> dict[str, int]:
    """Publish a successor for each active key with less than 60 days left; 14 days after
    it was published, make it the active key and retire the old one (audited)."""
    now = now or timezone.now()
    done = {"published": 0, "promoted": 0}
    for key in ServiceProviderKey.objects.filter(state=KeyState.ACTIVE).select_related(
        "institution"
    ):
        with transaction.atomic():
            successor = (
                ServiceProviderKey.objects.select_for_update()
                .filter(institution=key.institution, state=KeyState.NEXT)
                .first()
            )
            if successor is None:
                if key.not_after - now < ROTATE_BEFORE:
                    _new_key(key.institution, KeyState.NEXT, now)
                    done["published"] += 1
                    log.info("signon: published a successor SAML key for %s", key.institution)
                continue
            if now - successor.created_at < PROMOTE_AFTER:
                continue
            ServiceProviderKey.objects.filter(pk=key.pk).update(state=KeyState.RETIRED)
            successor.state = KeyState.ACTIVE
            successor.activated_at = now
            successor.save(update_fields=["state", "activated_at"])
            record_audit(
                institution_id=key.institution_id,
                actor=None,
                action=AuditAction.SIGNON_KEY_ROTATED,
                target=f"SAML key {successor.pk}",
                retired=key.pk,
                not_after=successor.not_after.isoformat(),
            )
            done["promoted"] += 1
    return done


# --------------------------------------------------------------------------------------------
# One service provider per institution
# --------------------------------------------------------------------------------------------


def _base_url(request_or_base_url: HttpRequest | str) -> str:
    # The configured public origin, never the Host header: the entity ID must not change
    # with the name a request happened to use.
    if isinstance(request_or_base_url, str):
        return request_or_base_url.rstrip("/")
    return str(settings.INSIGNIA_BASE_URL).rstrip("/")


def entity_id(base_url: str, institution: Institution) -> str:
    """The institution's entity ID: the URL of its metadata."""
    return base_url.rstrip("/") + reverse("signon:saml_metadata", args=[institution.slug])


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    return str(path)


@contextlib.contextmanager
def sp_config(
    request_or_base_url: HttpRequest | str, provider: IdentityProvider, *, with_idp: bool = True
) -> Iterator[SPConfig]:
    """The pysaml2 configuration of ``provider``'s institution as a service provider, for
    the length of a ``with`` block (its key files are deleted when the block ends).
    ``with_idp=False`` leaves out the identity provider's metadata (for our own metadata)."""
    base = _base_url(request_or_base_url)
    institution = provider.institution
    active = active_key(institution)
    successor = ServiceProviderKey.objects.filter(
        institution=institution, state=KeyState.NEXT
    ).first()
    slug = institution.slug
    with tempfile.TemporaryDirectory(prefix="insignia-saml-") as name:  # mode 0700
        folder = Path(name)
        key_file = _write(folder, "active.key", active.private_key_pem)
        cert_file = _write(folder, "active.crt", active.certificate_pem)
        # Encrypted assertions are decrypted with either key; the successor is published
        # for signing too, so identity providers know it before it signs anything.
        pairs = [{"key_file": key_file, "cert_file": cert_file}]
        extra_certs = []
        if successor is not None:
            next_cert = _write(folder, "next.crt", successor.certificate_pem)
            next_key = _write(folder, "next.key", successor.private_key_pem)
            pairs.append({"key_file": next_key, "cert_file": next_cert})
            extra_certs.append(next_cert)
        idp_xml = provider.saml_metadata_xml if with_idp else ""
        config = SPConfig()
        config.load(
            {
                "entityid": entity_id(base, institution),
                "key_file": key_file,
                "cert_file": cert_file,
                "additional_cert_files": extra_certs or None,
                "encryption_keypairs": pairs,
                "metadata": {"inline": [idp_xml]} if idp_xml else {},
                "accepted_time_diff": TIME_SLACK,
                "allow_unknown_attributes": True,
                "valid_for": METADATA_VALID_HOURS,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "service": {
                    "sp": {
                        "name": institution.name_en,
                        "endpoints": {
                            "assertion_consumer_service": [
                                (base + reverse("signon:saml_acs", args=[slug]), BINDING_HTTP_POST)
                            ],
                            "single_logout_service": [
                                (
                                    base + reverse("signon:saml_sls", args=[slug]),
                                    BINDING_HTTP_REDIRECT,
                                )
                            ],
                        },
                        "allow_unsolicited": provider.saml_allow_idp_initiated,
                        "authn_requests_signed": True,
                        "logout_requests_signed": True,
                        "logout_responses_signed": True,
                        # Either signature will do (Shibboleth signs the response, ADFS and
                        # Entra ID the assertion); an answer with neither is refused.
                        "want_assertions_signed": False,
                        "want_response_signed": False,
                        "want_assertions_or_response_signed": True,
                    }
                },
            }
        )
        yield config


@contextlib.contextmanager
def _client(provider: IdentityProvider) -> Iterator[Saml2Client]:
    if not provider.saml_metadata_xml or not provider.saml_entity_id:
        raise _broken("no identity provider metadata")
    try:
        with sp_config(settings.INSIGNIA_BASE_URL, provider) as config:
            client = Saml2Client(config)
            if provider.saml_entity_id not in client.metadata.with_descriptor("idpsso"):
                raise _broken(f"{provider.saml_entity_id} not in its metadata (expired?)")
            yield client
    except (Refused, MetadataError):
        raise
    except Exception as error:  # pysaml2 refusing the configuration
        raise _broken(f"configuration: {type(error).__name__}: {error}") from None


def sp_metadata(request_or_base_url: HttpRequest | str, provider: IdentityProvider) -> bytes:
    """The institution's signed service provider metadata: entity ID, the active and next
    certificates, the assertion consumer and single logout services, and ``validUntil``."""
    with sp_config(request_or_base_url, provider, with_idp=False) as config:
        descriptor = entity_descriptor(config)
        _signed, xml = sign_entity_descriptor(
            descriptor, None, security_context(config), SIG_RSA_SHA256, DIGEST_SHA256
        )
    return xml.encode() if isinstance(xml, str) else bytes(xml)


# --------------------------------------------------------------------------------------------
# Signing in
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What a verified ``<Response>`` said, kept until the browser finishes the sign-in."""

    subject: str
    attributes: dict[str, list[str]]
    assertion_id: str
    not_on_or_after: datetime
    name_id: str  # the NameID element as XML, for single logout
    session_index: str


def authn_request(provider: IdentityProvider) -> tuple[str, str]:
    """A signed ``<AuthnRequest>`` to ``provider`` (HTTP-Redirect binding): its ID and the
    URL to send the browser to. Raises :class:`Refused` when the settings are unusable."""
    with _client(provider) as client:
        try:
            request_id, info = client.prepare_for_authenticate(
                entityid=provider.saml_entity_id,
                binding=BINDING_HTTP_REDIRECT,
                sign=True,
                sigalg=SIG_RSA_SHA256,
                digest_alg=DIGEST_SHA256,
            )
        except Exception as error:  # e.g. no HTTP-Redirect single sign-on service
            raise _broken(f"AuthnRequest: {type(error).__name__}: {error}") from None
    return str(request_id), str(dict(info["headers"])["Location"])


def in_response_to(saml_response: str) -> str:
    """The ``InResponseTo`` of a posted ``<Response>``, read before it is verified (to find
    the sign-in it answers); ``""`` for an unsolicited one."""
    try:
        root = _parse(base64.b64decode(saml_response))
    except (binascii.Error, ValueError, MetadataError):
        raise _unreadable("SAMLResponse is not base64 XML") from None
    if root.tag != f"{{{SAML2_PROTOCOL}}}Response":
        raise _unreadable(f"SAMLResponse is a {root.tag}")
    return str(root.get("InResponseTo") or "")


def _classify(error: Exception) -> Refused:
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, ResponseLifetimeExceed | ToEarly):
        return Refused(
            _("The answer from your institution arrived too late. Please sign in again."),
            f"time: {text}",
        )
    if isinstance(error, StatusError):
        return Refused(_("Your institution's sign-in service did not sign you in."), text)
    if isinstance(error, UnsolicitedResponse):
        return Refused(_("This sign-in has expired or was already used. Please start again."), text)
    if "AudienceRestrictions" in str(error) or "recipient" in str(error).lower():
        return Refused(_("This answer from a sign-in service was meant for another service."), text)
    return _unverified(f"{'signature' if isinstance(error, SigverError) else 'invalid'}: {text}")


def _utc(stamp: str) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(str_to_time(stamp)), tz=UTC)


def _unique_code(value: str) -> str:
    # urn:schac:personalUniqueCode:<country>:<issuer>:<type>:<code> → <code>
    return value.rsplit(":", 1)[-1] if value.lower().startswith(SCHAC_CODE_URN) else value


def _attributes(response: Any) -> dict[str, list[str]]:
    """Every attribute under both its name as sent (often an OID or URI) and its friendly
    name, so an owner's mapping by either works."""
    found: dict[str, list[str]] = {}

    def add(name: str | None, values: list[str]) -> None:
        if name:
            bucket = found.setdefault(str(name), [])
            bucket.extend(v for v in values if v not in bucket)

    for statement in response.assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [
                str(value.text).strip()
                for value in attribute.attribute_value
                if value.text is not None and str(value.text).strip()
            ]
            add(attribute.name, values)
            add(attribute.friendly_name, values)
    for name, values in (response.ava or {}).items():
        add(name, [str(v).strip() for v in values if v is not None and str(v).strip()])
    for name in SCHAC_CODE:
        if name in found:
            # A code that says it is a student number comes first.
            codes = sorted(found[name], key=lambda code: "studentid" not in code.lower())
            found[name] = list(dict.fromkeys(_unique_code(code) for code in codes))
    return found


def _subject(name_id: Any, attributes: Mapping[str, list[str]], issuer: str) -> str:
    """The person's stable identifier at this identity provider."""
    for kind, names in SUBJECT_IDS:
        for name in names:
            if attributes.get(name):
                # Scoped (value@scope) and compared case-insensitively (saml-subject-id §3).
                return f"{kind}:{attributes[name][0].strip().lower()}"
    if name_id is not None and name_id.format == NAMEID_FORMAT_PERSISTENT and name_id.text:
        # A persistent NameID is unique for one identity provider only: qualify it.
        return f"persistent:{issuer}!{name_id.text.strip()}"
    for name in EPPN:
        if attributes.get(name):
            return f"eppn:{attributes[name][0].strip().lower()}"
    raise Refused(
        _(
            "Your institution sent only a temporary identifier, so Insignia could not "
            "recognise you next time. Please ask your institution's IT team to release a "
            "persistent identifier (subject-id, a persistent NameID or "
            "eduPersonPrincipalName)."
        ),
        f"transient-only subject ({getattr(name_id, 'format', None)})",
    )


def read_response(provider: IdentityProvider, saml_response: str, *, request_id: str) -> Answer:
    """Verify a posted ``<Response>`` for ``provider`` with pysaml2 (signature, issuer,
    audience, destination, time, ``InResponseTo`` = ``request_id``, or unsolicited when
    ``request_id`` is empty and the owner allows it) and read who it vouches for. Raises
    :class:`Refused`."""
    outstanding = {request_id: "/"} if request_id else {}
    with _client(provider) as client:
        try:
            response = client.parse_authn_request_response(
                saml_response, BINDING_HTTP_POST, outstanding=outstanding
            )
        except Exception as error:  # pysaml2 signals every failure with an exception
            raise _classify(error) from None
        ours = client.config.endpoint("assertion_consumer_service", BINDING_HTTP_POST, "sp")
    if response is not None and response.response.destination not in (None, *ours):
        raise Refused(
            _("This answer from a sign-in service was meant for another service."),
            f"destination {response.response.destination!r} is not {ours!r}",
        )
    if response is None or response.assertion is None:
        raise _unverified("no verified assertion")
    issuer = response.issuer()
    assertion = response.assertion
    assertion_issuer = (assertion.issuer.text or "").strip() if assertion.issuer else ""
    if issuer != provider.saml_entity_id or assertion_issuer not in ("", issuer):
        raise _unverified(f"issuer {issuer!r}/{assertion_issuer!r}, not {provider.saml_entity_id}")
    if (response.in_response_to or "") != request_id:
        raise Refused(
            _("This sign-in has expired or was already used. Please start again."),
            f"InResponseTo {response.in_response_to!r}, expected {request_id!r}",
        )
    stamps = [
        confirmation.subject_confirmation_data.not_on_or_after
        for confirmation in assertion.subject.subject_confirmation
        if confirmation.subject_confirmation_data is not None
    ]
    if assertion.conditions is not None:
        stamps.append(assertion.conditions.not_on_or_after)
    expires = [_utc(stamp) for stamp in stamps if stamp]
    attributes = _attributes(response)
    return Answer(
        subject=_subject(response.name_id, attributes, issuer),
        attributes=attributes,
        assertion_id=str(assertion.id),
        not_on_or_after=max(expires) if expires else timezone.now() + timedelta(days=1),
        name_id=str(response.name_id) if response.name_id is not None else "",
        session_index=str(response.session_info().get("session_index") or ""),
    )


def remember_assertion(provider: IdentityProvider, answer: Answer) -> None:
    """Record the assertion as used until it expires; raise :class:`Refused` if it already
    was (a replay). Expired records are purged on the way."""
    SeenAssertion.objects.filter(expires_at__lt=timezone.now()).delete()
    try:
        with transaction.atomic():
            SeenAssertion.objects.create(
                provider=provider,
                assertion_id=answer.assertion_id[:256],
                expires_at=answer.not_on_or_after + timedelta(seconds=TIME_SLACK),
            )
    except IntegrityError:
        raise Refused(
            _("This sign-in answer was already used. Please sign in again."),
            f"replayed assertion {answer.assertion_id}",
        ) from None


def new_unsolicited_key() -> str:
    return UNSOLICITED_PREFIX + secrets.token_urlsafe(32)


# --------------------------------------------------------------------------------------------
# Single logout (HTTP-Redirect binding)
# --------------------------------------------------------------------------------------------


def _idp_descriptor(provider: IdentityProvider) -> Element | None:
    try:
        found = _idp_descriptors(_parse(provider.saml_metadata_xml))
    except MetadataError:
        return None
    return found[0][1] if len(found) == 1 else None


def slo_url(provider: IdentityProvider, *, response: bool = False) -> str | None:
    """The identity provider's single logout address (HTTP-Redirect), if it has one."""
    descriptor = _idp_descriptor(provider) if provider.saml_metadata_xml else None
    if descriptor is None:
        return None
    return _endpoint(descriptor, "SingleLogoutService", response=response)


def name_id_text(name_id: str) -> str:
    """The value of a NameID kept as XML in the session."""
    parsed = saml.name_id_from_string(name_id) if name_id else None
    return str(parsed.text or "") if parsed is not None else ""


def logout_request(
    provider: IdentityProvider, *, name_id: str, session_index: str
) -> tuple[str, str] | None:
    """A signed ``<LogoutRequest>`` for the person ``name_id`` (XML, as kept in the
    session): its ID and the URL to send the browser to; ``None`` without an SLO endpoint."""
    destination = slo_url(provider)
    if destination is None or not name_id:
        return None
    with _client(provider) as client:
        request_id, message = client.create_logout_request(
            destination,
            provider.saml_entity_id,
            name_id=saml.name_id_from_string(name_id),
            session_indexes=[session_index] if session_index else None,
            reason="urn:oasis:names:tc:SAML:2.0:logout:user",
            sign=False,
        )
        info = client.apply_binding(
            BINDING_HTTP_REDIRECT, str(message), destination, sign=True, sigalg=SIG_RSA_SHA256
        )
    return str(request_id), str(dict(info["headers"])["Location"])


def read_redirect(provider: IdentityProvider, query_string: str, kind: str) -> tuple[Any, str]:
    """A ``<LogoutRequest>`` or ``<LogoutResponse>`` (``kind`` ``SAMLRequest`` or
    ``SAMLResponse``) received from ``provider`` by HTTP-Redirect, and its RelayState, once
    its signature verifies with a certificate from the metadata (over the query string as
    sent), its issuer is the identity provider, its destination us, and it is recent."""
    parts: dict[str, str] = {}
    for piece in query_string.split("&"):
        name, _sep, value = piece.partition("=")
        parts.setdefault(name, value)
    if kind not in parts or "SigAlg" not in parts or "Signature" not in parts:
        raise _unverified(f"unsigned {kind}")
    algorithm = REDIRECT_HASHES.get(unquote_plus(parts["SigAlg"]))
    if algorithm is None:
        raise _unverified(f"signature algorithm {unquote_plus(parts['SigAlg'])} refused")
    signed = "&".join(f"{n}={parts[n]}" for n in (kind, "RelayState", "SigAlg") if n in parts)
    try:
        signature = base64.b64decode(unquote_plus(parts["Signature"]))
        xml = decode_base64_and_inflate(unquote_plus(parts[kind]))
    except Exception:  # base64, zlib, encoding: all just unreadable
        raise _unreadable(f"undecodable {kind}") from None
    descriptor = _idp_descriptor(provider)
    keys = [c.public_key() for c in (_certificates(descriptor) if descriptor is not None else [])]
    verified = False
    for key in keys:
        if isinstance(key, rsa.RSAPublicKey):
            with contextlib.suppress(InvalidSignature):
                key.verify(signature, signed.encode(), padding.PKCS1v15(), algorithm())
                verified = True
                break
    if not verified:
        raise _unverified(f"{kind} signature does not verify with {len(keys)} key(s)")
    try:
        _parse(xml)  # no DTD, no entities, before pysaml2 reads it
    except MetadataError:
        raise _unreadable(f"{kind} is not XML") from None
    reader = samlp.logout_request_from_string if kind == "SAMLRequest" else None
    message = (reader or samlp.logout_response_from_string)(xml)
    if message is None:
        raise _unreadable(f"{kind} is not a logout message")
    issuer = (message.issuer.text or "").strip() if message.issuer is not None else ""
    if issuer != provider.saml_entity_id:
        raise _unverified(f"logout issuer {issuer!r} is not {provider.saml_entity_id!r}")
    ours = settings.INSIGNIA_BASE_URL + reverse("signon:saml_sls", args=[provider.institution.slug])
    if message.destination and message.destination != ours:
        raise Refused(
            _("This answer from a sign-in service was meant for another service."),
            f"logout destination {message.destination!r}",
        )
    age = abs(timezone.now() - _utc(message.issue_instant or "1970-01-01T00:00:00Z"))
    if age > LOGOUT_LIFETIME + timedelta(seconds=TIME_SLACK):
        raise Refused(
            _("The answer from your institution arrived too late. Please sign in again."),
            f"logout message issued {message.issue_instant}",
        )
    return message, unquote_plus(parts.get("RelayState", ""))


def logout_response(provider: IdentityProvider, request: Any, relay_state: str) -> str:
    """The URL answering the identity provider's ``<LogoutRequest>`` with a signed
    ``<LogoutResponse>`` (success)."""
    destination = slo_url(provider, response=True) or ""
    with _client(provider) as client:
        response = client.create_logout_response(request, [BINDING_HTTP_REDIRECT], sign=False)
        response.destination = destination
        info = client.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(response),
            destination,
            relay_state,
            response=True,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
    return str(dict(info["headers"])["Location"])
