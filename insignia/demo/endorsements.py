"""A second demo institution, a professional council, whose issuer endorses the demo
polytechnic's School of Engineering: the demo badges issued afterwards carry the signed
endorsement, and the verify page shows "Endorsed by …" for them."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from endorsements import services as endorsement_services
from endorsements.models import Endorsement, EndorsementStatus
from issuers import services
from issuers.keys import SigningUnavailable
from issuers.models import Institution, Issuer

COUNCIL = {
    "slug": "demo-council",
    "name_en": "Demo Engineering Council",
    "name_zh": "示范工程理事会",
    "country": "NZ",
    "website": "https://demo-council.example",
}
COUNCIL_ISSUER: dict[str, Any] = {
    "slug": "demo-council-accreditation",
    "name_en": "Demo Engineering Council — Accreditation",
    "name_zh": "示范工程理事会认证部",
    "description_en": "Accredits engineering programmes and short courses.",
    "description_zh": "认证工程专业与短期课程。",
    "url": "https://demo-council.example/accreditation",
    "email": "accreditation@demo-council.example",
}
ENDORSED_ISSUER = "demo-poly-engineering"
COMMENT = (
    "The School of Engineering's short courses meet the Council's standard for continuing "
    "professional development."
)


#: The council's owner: no sign-in (the demo owner's console stays one institution's).
COUNCIL_OWNER = ("council@demo.insignia.test", "Demo Council Owner 示范理事会负责人")


def seed_endorsement_demo() -> list[str]:
    """Create the council, its owner and issuer, and its endorsement of the School of
    Engineering, unless they exist; return lines to print."""
    owner, created = User.objects.get_or_create(
        email=COUNCIL_OWNER[0], defaults={"name": COUNCIL_OWNER[1]}
    )
    if created:
        owner.set_unusable_password()
        owner.save(update_fields=["password"])
    council = Institution.objects.filter(slug=COUNCIL["slug"]).first()
    if council is None:
        council = services.create_institution(**COUNCIL, owner=owner)
    endorser = Issuer.objects.filter(slug=COUNCIL_ISSUER["slug"]).first()
    if endorser is None:
        endorser = services.create_issuer(actor=owner, institution=council, **COUNCIL_ISSUER)
    endorsed = Issuer.objects.select_related("institution").get(slug=ENDORSED_ISSUER)
    if not Endorsement.objects.filter(
        endorser=endorser, endorsed_issuer=endorsed, status=EndorsementStatus.ACTIVE
    ).exists():
        try:
            endorsement_services.endorse(
                actor=owner,
                endorser=endorser,
                subject=endorsement_services.Subject(issuer=endorsed),
                comment=COMMENT,
                language="en",
            )
        except SigningUnavailable as error:
            return [f"Demo endorsement skipped: {error}"]
    return [f"  {endorser.slug} endorses {endorsed.slug}"]
