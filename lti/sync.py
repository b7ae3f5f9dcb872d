"""Reading a course's grades and roster from the platform (LTI Assignment and Grade Services
2.0, Names and Role Provisioning Services 2.0) and awarding the learners who meet a placed
badge's rule.

pylti1p3's service classes do the protocol: a client assertion signed with the tool's key is
traded at the platform's token endpoint for a bearer token (cached per registration and
scope set), and paged results and memberships are followed through ``Link: rel="next"``.
Every request goes through the safe fetcher (``lti.transport``).

:func:`sync_placement` is run by Celery beat for every grade-based placement, and by an
instructor's or staff member's "Check now". Running it twice awards nothing more
(``lti.services.grant``).
"""

from __future__ import annotations

import logging
from math import floor
from typing import Any

import requests
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException
from pylti1p3.lineitem import LineItem
from pylti1p3.names_roles import NamesRolesProvisioningService
from pylti1p3.service_connector import ServiceConnector

from lti import services, transport
from lti.models import Course, GrantStatus, Placement, Rule
from lti.services import Learner, SyncReport
from lti.tool import ToolRegistration
from openbadges.ob3 import normalize_email

log = logging.getLogger(__name__)

LINEITEM_READ = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
RESULTS = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
LEARNER_ROLE = "#Learner"


class Connector(ServiceConnector):
    """pylti1p3's connector with tokens cached per platform *and client*: two institutions
    on the same cloud LMS share its issuer (Canvas Cloud does), and must never share a token.
    (pylti1p3's Django connector keys the cache by issuer and scopes only.)"""

    def _cache_key(self, scope_key: str) -> str:
        client = self._registration.get_client_id() or ""
        return f"lti-token:{self._registration.get_issuer()}:{client}:{scope_key}"

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        found = cache.get(self._cache_key(scope_key))
        return str(found) if found else None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        seconds = floor(float(expires_in or 0) - 30)
        if seconds > 0:
            cache.set(self._cache_key(scope_key), access_token, seconds)


def connector(course: Course) -> Connector:
    return Connector(ToolRegistration(course.platform), transport.session())


def _ags(course: Course, conn: Connector) -> AssignmentsGradesService:
    scopes = list(course.ags_scopes) or [LINEITEM_READ, RESULTS]
    return AssignmentsGradesService(conn, {"scope": scopes, "lineitems": course.lineitems_url})


def roster(course: Course, conn: Connector) -> dict[str, Learner]:
    """The course's active learners, by LMS user id (empty when the platform gives no
    roster service: then only what a launch said about a learner is known)."""
    if not course.memberships_url:
        return {}
    service = NamesRolesProvisioningService(
        conn, {"context_memberships_url": course.memberships_url}
    )
    found: dict[str, Learner] = {}
    for member in service.get_members():
        if not isinstance(member, dict) or member.get("status", "Active") != "Active":
            continue
        roles = [str(role) for role in member.get("roles", [])]
        if roles and not any(role.endswith(LEARNER_ROLE) for role in roles):
            continue
        user_id = str(member.get("user_id", ""))
        if not user_id:
            continue
        found[user_id] = Learner(
            user_id=user_id,
            email=normalize_email(str(member.get("email", ""))),
            name=str(member.get("name", "")),
            sourced_id=str(member.get("lis_person_sourcedid", "") or "").strip()[:256],
        )
    return found


def line_item_of(placement: Placement, ags: AssignmentsGradesService) -> str:
    """The URL of the line item a placement's rule reads: the one its deep link created (by
    resource id, or the link's own), or the named gradebook column."""
    if placement.rule == Rule.SCORE:
        if placement.lineitem_url:
            return placement.lineitem_url
        for item in ags.get_lineitems():
            if str(item.get("resourceId", "")) == str(placement.pk) or (
                placement.resource_link_id
                and str(item.get("resourceLinkId", "")) == placement.resource_link_id
            ):
                placement.lineitem_url = str(item["id"])[:1000]
                placement.save(update_fields=["lineitem_url"])
                return placement.lineitem_url
        return ""
    wanted = placement.column.strip().casefold()
    for item in ags.get_lineitems():
        if str(item.get("label", "")).strip().casefold() == wanted:
            return str(item.get("id", ""))
    return ""


def sync_placement(placement: Placement) -> SyncReport:
    """Award every learner who meets ``placement``'s rule and has no award for it yet; flag
    awarded learners whose grade no longer meets it. Problems are kept on the placement for
    the console ("last check")."""
    report = SyncReport()
    if placement.rule == Rule.LAUNCH or not placement.active:
        return report
    course = placement.course
    try:
        conn = connector(course)
        ags = _ags(course, conn)
        line_item = line_item_of(placement, ags)
        if not line_item:
            raise LtiException(
                _("The gradebook column “%(name)s” was not found in the course.")
                % {"name": placement.column or placement.title}
            )
        results = list(ags.get_grades(LineItem({"id": line_item})))
        learners = roster(course, conn)
    except (
        LtiException,
        requests.RequestException,
        AssertionError,
        KeyError,
        TypeError,
        ValueError,
    ) as error:
        message = _describe(error)
        report.errors.append(message)
        placement.last_check_error = message[:500]
        placement.last_checked_at = timezone.now()
        placement.save(update_fields=["last_check_error", "last_checked_at"])
        log.warning("lti: sync of placement %s failed: %s", placement.pk, error)
        return report
    for result in results:
        if not isinstance(result, dict):
            continue
        user_id = str(result.get("userId", ""))
        if not user_id:
            continue
        score = services.percentage(result)
        if placement.rule == Rule.COLUMN and score is None:
            continue
        if learners and user_id not in learners:
            report.waiting += 1  # not an active learner of the course (any more)
            continue
        learner = learners.get(user_id) or Learner(user_id=user_id)
        outcome = services.flag_if_changed(placement, user_id, line_item, score)
        if outcome == "flagged":
            report.flagged += 1
            continue
        if outcome == "restored":
            report.restored += 1
            continue
        if not services.meets(placement, result):
            report.unchanged += 1
            continue
        row, awarded = services.grant(placement, learner, line_item=line_item, score=score)
        if awarded:
            report.awarded += 1
        elif row.status == GrantStatus.FAILED:
            report.failed += 1
            report.errors.append(f"{learner.name or user_id}: {row.note}")
        else:
            report.unchanged += 1
    placement.last_check_error = "; ".join(report.errors)[:500]
    placement.last_checked_at = timezone.now()
    placement.save(update_fields=["last_check_error", "last_checked_at"])
    return report


def _describe(error: Exception) -> str:
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if status in (401, 403):
        return _(
            "The LMS refused Insignia access to the course's grades or roster (HTTP %(status)s). "
            "Ask your LMS administrator to grant the grade and roster scopes."
        ) % {"status": status}
    if status is not None:
        return _("The LMS answered HTTP %(status)s.") % {"status": status}
    text = str(error)
    if isinstance(error, requests.RequestException):
        return _("The LMS could not be reached: %(error)s") % {"error": text[:200]}
    return text[:300]


def due_placements() -> list[Placement]:
    """Grade-based placements to check on the periodic run."""
    return list(
        Placement.objects.filter(active=True, course__platform__enabled=True)
        .filter(Q(rule=Rule.SCORE) | Q(rule=Rule.COLUMN))
        .select_related("course__platform__institution", "achievement", "created_by")
    )


def sync_all() -> dict[str, Any]:
    totals = SyncReport()
    for placement in due_placements():
        report = sync_placement(placement)
        totals.awarded += report.awarded
        totals.flagged += report.flagged
        totals.failed += report.failed
    return {"awarded": totals.awarded, "flagged": totals.flagged, "failed": totals.failed}
