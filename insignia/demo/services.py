"""Load the demo institution, issuers, staff, published micro-credentials and awards.

Safe to run again: it changes nothing twice. Never loaded in production (the command refuses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import Application

from accounts.models import User
from badges import services as badge_services
from badges.models import Award
from earners.models import LearnerEmail, LearnerProfile
from insignia.demo.badges import seed_badges
from insignia.demo.endorsements import seed_endorsement_demo
from insignia.demo.frameworks import seed_frameworks_demo
from integrations.models import ApiClient
from integrations.oauth.scopes import INSTITUTION_SCOPES
from issuers import services
from issuers.models import Institution, Issuer, Membership, Role

# Demo sign-ins, printed for whoever runs `make run`. Never loaded in production.
DEMO_USERS = {
    "owner@demo.insignia.test": ("Demo Owner 示范负责人", "insignia-owner-demo", Role.OWNER),
    "awarder@demo.insignia.test": (
        "Demo Awarder 示范颁发人",
        "insignia-awarder-demo",
        Role.AWARDER,
    ),
}
# The demo learner: a backpack with the badges and the pathway credential awarded to this
# address (insignia.demo.frameworks), already claimed. Signs in at /backpack/login/.
DEMO_LEARNER = ("aroha.learner@demo.insignia.test", "Aroha Learner", "insignia-learner-demo")
DEMO_INSTITUTION = {
    "slug": "demo-poly",
    "name_en": "Demo Polytechnic",
    "name_zh": "示范职业学院",
    "country": "NZ",
    "website": "https://demo-poly.example",
}
DEMO_ISSUERS: list[dict[str, Any]] = [
    {
        "slug": "demo-poly-engineering",
        "name_en": "School of Engineering",
        "name_zh": "工程学院",
        "description_en": "Short courses in applied engineering and digital fabrication.",
        "description_zh": "应用工程与数字制造短期课程。",
        "url": "https://demo-poly.example/engineering",
        "email": "engineering@demo-poly.example",
    },
    {
        "slug": "demo-poly-continuing",
        "name_en": "Centre for Continuing Education",
        "name_zh": "继续教育中心",
        "description_en": "Micro-credentials for working professionals.",
        "description_zh": "面向在职人员的微证书。",
        "url": "https://demo-poly.example/continuing",
        "email": "continuing@demo-poly.example",
    },
]

# A student-records system of the demo institution, for the README's curl examples: an OAuth
# client (client credentials) with every institution scope. Never loaded in production.
DEMO_CLIENT_ID = "demo-sis"
DEMO_CLIENT_SECRET = "insignia-demo-sis-secret"  # noqa: S105 - demo only, printed by make run


def _seed_client(institution: Institution, owner: User) -> None:
    if Application.objects.filter(client_id=DEMO_CLIENT_ID).exists():
        return
    application = Application.objects.create(
        name="Demo student records",
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        algorithm="",
    )
    ApiClient.objects.create(
        application=application,
        institution=institution,
        scopes=" ".join(sorted(INSTITUTION_SCOPES)),
        created_by=owner,
    )


@transaction.atomic
def seed_demo_learner() -> User:
    """The demo learner: an account whose address is confirmed and whose badges are claimed.
    Run after :func:`seed_demo` has committed: the pathway credential is awarded then."""
    email, name, password = DEMO_LEARNER
    learner, created = User.objects.get_or_create(email=email, defaults={"name": name})
    if created:
        learner.set_password(password)
        learner.save()
    LearnerProfile.objects.get_or_create(user=learner, defaults={"display_name": name})
    address, _created = LearnerEmail.objects.get_or_create(user=learner, email=email)
    if address.verified_at is None:
        address.verified_at = timezone.now()
        address.save(update_fields=["verified_at"])
    for award in Award.objects.filter(recipient_email=email, claimed_at__isnull=True):
        badge_services.claim_award(award=award)
    return learner


@dataclass(frozen=True)
class Seeded:
    institution: Institution
    lines: list[str]


@transaction.atomic
def seed_demo() -> Seeded:
    """Create what is missing of the demo data; returns the institution and what was loaded."""
    users = {}
    for email, (name, password, _role) in DEMO_USERS.items():
        user, created = User.objects.get_or_create(email=email, defaults={"name": name})
        if created:
            user.set_password(password)
            user.save()
        users[email] = user
    owner = users["owner@demo.insignia.test"]
    institution = Institution.objects.filter(slug=DEMO_INSTITUTION["slug"]).first()
    if institution is None:
        institution = services.create_institution(**DEMO_INSTITUTION, owner=owner)
    for email, (_name, _password, role) in DEMO_USERS.items():
        Membership.objects.get_or_create(
            user=users[email], institution=institution, issuer=None, defaults={"role": role}
        )
    for fields in DEMO_ISSUERS:
        if not Issuer.objects.filter(slug=fields["slug"]).exists():
            services.create_issuer(actor=owner, institution=institution, **fields)
    _seed_client(institution, owner)
    # Before the awards, so that the demo badges carry the council's endorsement.
    endorsed = seed_endorsement_demo()
    lines = seed_badges(owner=owner, awarder=users["awarder@demo.insignia.test"])
    # Micro-credentials placed in NZQCF and EQF/ECTS, aligned to ESCO skills; a pathway.
    lines += seed_frameworks_demo(
        owner=owner, awarder=users["awarder@demo.insignia.test"], issuer_slug="demo-poly-continuing"
    )
    return Seeded(institution=institution, lines=lines + endorsed)
