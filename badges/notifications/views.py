"""The learner's claim page: the link in the award e-mail shows the badge, and the learner
accepts it; and the e-mail's "opened" pixel. Public pages: the signed token in the URL is the
only key."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from badges import credentials
from badges import services as award_services
from badges.models import Award, AwardStatus
from badges.notifications import links, selectors, services
from badges.state import award_state

# A 1x1 transparent GIF: the "opened" pixel in the HTML e-mail.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def claim(request: HttpRequest, token: str) -> HttpResponse:
    """The badge the e-mail announced, with a button to accept it and a link to keep it in a
    learner account. The page's form posts to the learner side (``earners:claim_accept``),
    which also stores whether the public page shows the learner's name; a bare POST here
    still accepts (the name then stays hidden)."""
    award_id = links.award_for_token(token)
    if award_id is None:
        raise Http404
    award = get_object_or_404(
        Award.objects.select_related("issuer", "achievement_version"), pk=award_id
    )
    if request.method == "POST" and award.status != AwardStatus.REVOKED:
        award = award_services.claim_award(award=award)
        return redirect("claim", token)
    context = {
        "award": award,
        "state": award_state(award),
        "name": credentials.credential_name(award),
        "issuer_name": credentials.issuer_name(award),
        "image": credentials.badge_image_path(award.achievement_version),
        "token": token,
        "accept_url": reverse("earners:claim_accept", args=[token]),
        "signup_url": f"{reverse('earners:signup')}?{urlencode({'claim': token})}",
        "login_url": f"{reverse('earners:login')}?{urlencode({'next': request.path})}",
        "backpack_url": reverse("earners:backpack"),
        "credential_path": reverse("credential", args=[award.pk]),
        # Following the link counts as opening the e-mail: the page loads the e-mail's
        # pixel, so this GET itself writes nothing.
        "opened_pixel": _pixel_of(award) if award.claimed_at is None else "",
    }
    return render(request, "badges/claim.html", context)


def _pixel_of(award: Award) -> str:
    unopened = selectors.first_unopened(award)
    return reverse("claim_opened", args=[links.open_token(unopened)]) if unopened else ""


@never_cache
def claim_opened(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mail's tracking pixel: the learner opened the e-mail (or its claim page). A
    write on GET, as any tracking pixel must be (an image loads with GET); it only stamps
    ``opened_at`` once."""
    notification_id = links.notification_for_token(token)
    if notification_id is not None:
        services.mark_opened(notification_id=notification_id)
    return HttpResponse(PIXEL, content_type="image/gif")
