"""The learner's claim page (issue #8): the link in the award e-mail shows the badge, and
the learner accepts it. Public pages: the signed token in the URL is the only key."""

from __future__ import annotations

import base64

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from badges import credentials, notifications
from badges.models import Award, AwardNotification, AwardStatus
from badges.state import award_state

# A 1x1 transparent GIF: the "opened" pixel in the HTML e-mail.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@transaction.atomic
def claim_award(*, award: Award) -> Award:
    """The learner accepts ``award``: ``claimed_at`` is set once and kept. The holder of the
    link is the learner (the link went only to their e-mail address)."""
    locked = Award.objects.select_for_update().get(pk=award.pk)
    if locked.claimed_at is None:
        locked.claimed_at = timezone.now()
        locked.save(update_fields=["claimed_at"])
    AwardNotification.objects.filter(award=locked, opened_at__isnull=True).update(
        opened_at=locked.claimed_at
    )
    return locked


def _signup_url() -> str:
    # The learner-account app (issue #9) may not be installed; the page works either way.
    try:
        return reverse("earners:signup")
    except NoReverseMatch:
        return ""


@never_cache
@require_http_methods(["GET", "POST"])
def claim(request: HttpRequest, token: str) -> HttpResponse:
    award_id = notifications.award_for_token(token)
    if award_id is None:
        raise Http404
    award = get_object_or_404(
        Award.objects.select_related("issuer", "achievement_version"), pk=award_id
    )
    if request.method == "POST" and award.status != AwardStatus.REVOKED:
        award = claim_award(award=award)
        return redirect("claim", token)
    if award.claimed_at is None:
        AwardNotification.objects.filter(award=award, opened_at__isnull=True).update(
            opened_at=timezone.now()
        )
    context = {
        "award": award,
        "state": award_state(award),
        "name": award.credential.get("name", ""),
        "issuer_name": award.credential.get("issuer", {}).get("name", ""),
        "image": credentials.badge_image_path(award.achievement_version),
        "signup_url": _signup_url(),
        "credential_path": reverse("credential", args=[award.pk]),
    }
    return render(request, "badges/claim.html", context)


@never_cache
def claim_opened(request: HttpRequest, token: str) -> HttpResponse:
    notification_id = notifications.notification_for_token(token)
    if notification_id is not None:
        notifications.mark_opened(notification_id=notification_id)
    return HttpResponse(PIXEL, content_type="image/gif")
