"""The console's figures come from rollups that match a direct count of the source tables,
whether they were folded in many small runs or rebuilt at once (issue 20, item 2; D12)."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from analytics import services
from analytics.models import DailyCount, Metric
from awarding.revocation import services as revocation_services
from badges.models import Award, AwardNotification
from badges.services import claim_award
from earners.models import Channel, Kind, ViewEvent
from tests.badges.helpers import award, make_published
from tests.base import Cast
from verification.models import OwnVerification

pytestmark = pytest.mark.django_db

LATER = dt.timedelta(minutes=5)


def totals() -> dict[tuple[str, str], int]:
    rows = DailyCount.objects.values_list("metric", "channel").annotate(n=Sum("n"))
    return {(metric, channel): n for metric, channel, n in rows if n}


def snapshot() -> Counter[tuple[Any, ...]]:
    return Counter(
        {
            (r.day, r.issuer_id, r.achievement_id, r.metric, r.channel): r.n
            for r in DailyCount.objects.all()
            if r.n
        }
    )


def test_figures_match_a_direct_count(cast: Cast, client: Client) -> None:
    version = make_published(cast.editor, cast.issuer)
    awards = [award(cast.awarder, version, email=f"l{i}@example.com") for i in range(4)]
    claim_award(award=awards[0])
    claim_award(award=awards[1])
    revocation_services.revoke_award(actor=cast.owner, award=awards[2], reason="Issued in error")
    Award.objects.filter(pk=awards[3].pk).update(valid_until=timezone.now() - dt.timedelta(days=1))
    ViewEvent.objects.create(award=awards[0], day=timezone.localdate(), channel=Channel.QR)
    ViewEvent.objects.create(award=awards[0], day=timezone.localdate(), channel=Channel.DIRECT)
    # The platform's own verify page and API count (D12).
    assert client.get("/verify", {"url": awards[1].credential["id"]}).status_code == 200
    response = client.post(
        "/api/v1/verify", {"credential": awards[1].credential}, content_type="application/json"
    )
    assert response.status_code == 200

    services.fold(now=timezone.now() + LATER)

    assert totals() == {
        (Metric.ISSUED, ""): 4,
        (Metric.CLAIMED, ""): 2,
        (Metric.REVOKED, ""): 1,
        (Metric.EXPIRED, ""): 1,
        (Metric.VIEWED, Channel.QR): 1,
        (Metric.VIEWED, Channel.DIRECT): 1,
        (Metric.VERIFIED, "page_url"): 1,
        (Metric.VERIFIED, "api"): 1,
    } | {
        (m, ""): n
        for m, n in (
            (Metric.EMAILED, AwardNotification.objects.filter(sent_at__isnull=False).count()),
            (Metric.OPENED, AwardNotification.objects.filter(opened_at__isnull=False).count()),
        )
        if n
    }
    assert OwnVerification.objects.count() == 2


def test_a_second_fold_adds_only_what_is_new(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="a@example.com")
    services.fold(now=timezone.now() + services.LAG)
    services.fold(now=timezone.now() + services.LAG)
    assert totals()[(Metric.ISSUED, "")] == 1
    award(cast.awarder, version, email="b@example.com")
    services.fold(now=timezone.now() + services.LAG)
    assert totals()[(Metric.ISSUED, "")] == 2


def test_rows_younger_than_the_lag_wait_for_the_next_fold(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="a@example.com")
    services.fold(now=timezone.now())
    assert (Metric.ISSUED, "") not in totals()
    services.fold(now=timezone.now() + LATER)
    assert totals()[(Metric.ISSUED, "")] == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_folding_in_several_runs_equals_one_rebuild(cast: Cast, seed: int) -> None:
    """A random mix of awards, claims, revocations, expiries, views and verifications, folded
    after each step, gives the same rollups, row for row, as one rebuild at the end."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible mix, not security
    versions = [
        make_published(cast.editor, cast.issuer, slug="data-literacy"),
        make_published(cast.editor, cast.issuer, slug="teamwork"),
    ]
    made: list[Award] = []
    for _step in range(12):
        for _ in range(rng.randint(0, 3)):
            action = rng.choice(["award", "expiring", "claim", "revoke", "view", "check", "own"])
            if action in ("award", "expiring") or not made:
                soon = timezone.now() + dt.timedelta(seconds=1) if action == "expiring" else None
                made.append(
                    award(
                        cast.awarder,
                        rng.choice(versions),
                        email=f"p{len(made)}@example.com",
                        valid_until=soon,
                    )
                )
                continue
            target = rng.choice(made)
            if action == "claim":
                claim_award(award=target)
            elif action == "revoke" and target.status != "revoked":
                target = revocation_services.revoke_award(
                    actor=cast.owner, award=target, reason="Issued in error"
                )
                made = [target if a.pk == target.pk else a for a in made]
            elif action in ("view", "check"):
                ViewEvent.objects.create(
                    award=target,
                    day=timezone.localdate(),
                    channel=rng.choice(Channel.values),
                    kind=Kind.VIEW if action == "view" else Kind.VERIFICATION,
                )
            elif action == "own":
                OwnVerification.objects.create(
                    award=target, day=timezone.localdate(), channel="page_json"
                )
        if rng.random() < 0.6:
            # As the periodic task does: up to now, less nothing (the lag is for commits).
            services.fold(now=timezone.now() + services.LAG)
    end = timezone.now() + LATER
    services.fold(now=end)
    folded = snapshot()
    services.rebuild(now=end)
    assert snapshot() == folded
    assert sum(n for key, n in folded.items() if key[3] == Metric.ISSUED) == len(made)


def test_the_rebuild_command_recomputes_from_the_sources(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version, email="a@example.com")
    DailyCount.objects.all().delete()
    call_command("rebuild_analytics")
    # Just written: within the lag, so not yet in; the command's output says up to when.
    services.rebuild(now=timezone.now() + LATER)
    assert totals()[(Metric.ISSUED, "")] == 1
