"""``bench/seed_scale.py`` at a tiny size: what it seeds is what a user of the platform would
see after the same awards had been made, revoked and suspended through the console.

The seeder runs in this test's database (pytest-django's throw-away one): 300 awards of 2
issuers, 40 of them genuinely signed. Every check goes through the platform's own reading
paths: the badge page, the served status lists, the verifier.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from django.test import Client

from badges.models import Award, AwardStatus, StatusEntry, StatusList, StatusPurpose
from badges.statuslists import services as statuslist_services
from bench import seed_scale
from openbadges import statuslist
from verification import pipeline
from verification.report import Verdict

pytestmark = pytest.mark.django_db


def _served_bits(status_list: StatusList) -> bytes:
    document = json.loads(statuslist_services.current_list_credential(status_list.pk))
    return statuslist.decode(document["credentialSubject"]["encodedList"])


def test_seeded_awards_read_back_as_real_ones(client: Client) -> None:
    """One seeding (a few seconds) for every check."""
    seeded = seed_scale.seed(
        awards=300, issuers=2, achievements=4, signed=40, chunk=120, log=lambda **_: None
    )
    assert seeded["awards"] == Award.objects.count() == 300
    assert seeded["signed_sample"] == 40
    statuses = Counter(Award.objects.values_list("status", flat=True))
    assert statuses[AwardStatus.REVOKED] and statuses[AwardStatus.SUSPENDED], statuses

    # Every award has one entry in a list of each purpose; its credential carries the
    # suspension entry; no index is used twice in a list.
    entries: dict[object, dict[str, StatusEntry]] = {}
    for entry in StatusEntry.objects.all():
        assert entry.purpose == StatusList.objects.get(pk=entry.status_list_id).purpose
        entries.setdefault(entry.award_id, {})[entry.purpose] = entry
    assert len(entries) == 300
    assert all(set(both) == {"revocation", "suspension"} for both in entries.values())
    per_list = Counter(
        (e.status_list_id, e.index) for both in entries.values() for e in both.values()
    )
    assert max(per_list.values()) == 1
    for award in Award.objects.all():
        carried = award.credential["credentialStatus"]
        suspension = entries[award.pk]["suspension"]
        assert carried["statusListIndex"] == str(suspension.index)
        assert carried["statusListCredential"].endswith(f"/status/{suspension.status_list_id}")

    # The lists as served (rebuilt and signed by the platform) have exactly the seeded states.
    bits = {status_list.pk: _served_bits(status_list) for status_list in StatusList.objects.all()}
    for award in Award.objects.all():
        revocation = entries[award.pk][StatusPurpose.REVOCATION]
        suspension = entries[award.pk][StatusPurpose.SUSPENSION]
        revoked = award.status == AwardStatus.REVOKED
        assert statuslist.is_set(bits[revocation.status_list_id], revocation.index) is revoked
        assert statuslist.is_set(bits[suspension.status_list_id], suspension.index) is (
            award.status != AwardStatus.ACTIVE
        )

    # A revoked badge's public page says so, with the issuer's reason once the learner had
    # accepted the badge (never for one that was not).
    revoked_award = (
        Award.objects.filter(status=AwardStatus.REVOKED, claimed_at__isnull=False)
        .exclude(status_reason="")
        .first()
    )
    assert revoked_award is not None
    page = client.get(f"/credentials/{revoked_award.pk}", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    html = page.content.decode()
    assert "bp-status-revoked" in html and revoked_award.status_reason in html
    valid = Award.objects.filter(status=AwardStatus.ACTIVE, valid_until__isnull=True).first()
    assert valid is not None
    assert "bp-status-valid" in client.get(f"/credentials/{valid.pk}").content.decode()

    # Only the signed sample verifies cryptographically (the stored-text shortcut is off).
    signed = set(seed_scale.signed_ids())
    assert len(signed) == 40
    active = Award.objects.filter(pk__in=signed, status=AwardStatus.ACTIVE).first()
    withdrawn = Award.objects.filter(pk__in=signed, status=AwardStatus.REVOKED).first()
    bulk = Award.objects.exclude(pk__in=signed).filter(status=AwardStatus.ACTIVE).first()
    assert active is not None and withdrawn is not None and bulk is not None

    def verdict(award: Award) -> Verdict:
        request = pipeline.VerifyRequest(text=award.credential_json, trust_stored=False)
        return pipeline.verify(request).verdict

    assert verdict(active) is Verdict.VALID
    assert verdict(withdrawn) is Verdict.REVOKED
    # A bulk credential's proof has the real shape but is not a signature of it.
    assert verdict(bulk) is Verdict.TAMPERED
    assert set(bulk.credential["proof"][0]) == set(active.credential["proof"][0])
