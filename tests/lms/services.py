"""LTI Advantage services: Assignment and Grade Services 2.0 and Names and Role Provisioning 2.0.

The library's ``AssignmentsGradesService`` / ``NamesRoleProvisioningService`` check the
bearer token (signature, issuer, expiry, scope) in their ``handle_*`` methods and call our
finders below. Around them, :func:`serve` works around what they leave out or get wrong:

* the token's ``sub`` must be a registered tool (:func:`tests.lms.token.bearer_tool`), and a
  tool sees only its own line items and the plain gradebook columns;
* the library accepts a token holding *any* of the service's scopes for every operation, so
  each operation here lists exactly the scopes it accepts (``score`` to post scores, ...);
* a forged or expired token makes the library raise instead of answering 401;
* query strings are strings, but the library adds 1 to ``page``, and passes every query
  parameter to the finders as keyword arguments (so only known ones are passed);
* it returns the next-page URL in the body (NRPS) or the page dict; here it goes into a
  ``Link: <...>; rel="next"`` header (with the quotes pylti1p3 looks for).
"""

# mypy: disallow-subclassing-any=False

from __future__ import annotations

from typing import Any

import jwt
from lti1p3platform.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    LineItemNotFoundException,
    LtiException,
    LtiServiceException,
)
from lti1p3platform.membership import Context  # type: ignore[import-untyped, unused-ignore]
from lti1p3platform.score import UpdateScoreStatus  # type: ignore[import-untyped, unused-ignore]
from lti1p3platform.service_connector import (  # type: ignore[import-untyped, unused-ignore]
    AssignmentsGradesService,
    NamesRoleProvisioningService,
)

from tests.lms.lti import Incoming, LibraryRequest, Platform, platform_conf
from tests.lms.state import (
    COURSE,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT,
    SCOPE_SCORE,
    LineItem,
    Result,
    Store,
    Tool,
    parse_timestamp,
)
from tests.lms.token import bearer_tool
from tests.lms.web import Reply, json_error, json_reply

ACTIVITY = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
GRADING = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}
LINEITEM_PARAMS = ("resource_link_id", "resource_id", "tag", "limit", "page")
RESULT_PARAMS = ("user_id", "limit", "page")
MEMBER_PARAMS = ("role", "limit", "page", "rlid", "since")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _page(items: list[Any], page: int, limit: int | None) -> dict[str, Any]:
    if not limit:
        return {"content": items, "has_next": False}
    start = (page - 1) * limit
    return {"content": items[start : start + limit], "has_next": start + limit < len(items)}


class Ags(AssignmentsGradesService):
    def __init__(
        self, request: LibraryRequest, store: Store, platform: Platform, tool: Tool, **kw: Any
    ) -> None:
        self.store, self.platform, self.tool = store, platform, tool
        self.scopes: list[str] = kw.pop("scopes")
        super().__init__(request, platform_conf(platform, tool), self.url(), **kw)

    @property
    def allowed_scopes(self) -> list[str]:
        return self.scopes

    def url(self, item_id: str | None = None) -> str:
        base = self.platform.url(f"/ags/{COURSE.id}/lineitems")
        return f"{base}/{item_id}" if item_id else base

    def as_json(self, item: LineItem) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.url(item.id),
            "label": item.label,
            "scoreMaximum": item.score_maximum,
        }
        optional = {
            "resourceLinkId": item.resource_link_id,
            "resourceId": item.resource_id,
            "tag": item.tag,
            "startDateTime": item.start_date_time,
            "endDateTime": item.end_date_time,
        }
        data.update({key: value for key, value in optional.items() if value is not None})
        return data

    def _item(self, line_item_id: str) -> LineItem:
        item = self.store.line_items.get(line_item_id)
        if item is None or item.tool not in (self.tool.client_id, None):
            raise LineItemNotFoundException(line_item_id)
        return item

    def find_lineitems(self, page: int = 1, limit: int | None = None, **filters: Any) -> Any:
        with self.store.lock:
            items = [
                item
                for item in self.store.visible_line_items(self.tool.client_id)
                if all(getattr(item, name) == value for name, value in filters.items() if value)
            ]
            return _page([self.as_json(item) for item in items], page, limit)

    def find_lineitem(self, line_item_id: str) -> Any:
        with self.store.lock:
            return self.as_json(self._item(line_item_id))

    def _fields(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise LtiServiceException("A line item is a JSON object.", 400)
        label, maximum = data.get("label"), data.get("scoreMaximum")
        if not isinstance(label, str) or not label.strip():
            raise LtiServiceException("label is required.", 400)
        if isinstance(maximum, bool) or not isinstance(maximum, int | float) or maximum <= 0:
            raise LtiServiceException("scoreMaximum must be a number above 0.", 400)
        link_id = data.get("resourceLinkId")
        link = self.store.links.get(link_id) if link_id else None
        if link_id and (link is None or link.tool != self.tool.client_id):
            raise LtiServiceException("resourceLinkId is not a link of this tool.", 400)
        return {
            "label": label,
            "score_maximum": float(maximum),
            "resource_link_id": link_id or None,
            "resource_id": data.get("resourceId") or None,
            "tag": data.get("tag") or None,
            "start_date_time": data.get("startDateTime") or None,
            "end_date_time": data.get("endDateTime") or None,
        }

    def create_lineitem(self, creation_data: Any) -> Any:
        with self.store.lock:
            item = LineItem(
                id=self.store.next_id(), tool=self.tool.client_id, **self._fields(creation_data)
            )
            self.store.line_items[item.id] = item
            self.store.save()
            return self.as_json(item)

    def update_lineitem(self, update_data: Any) -> Any:
        with self.store.lock:
            item = self._item(str(update_data.get("id", "")))
            for name, value in self._fields(update_data).items():
                setattr(item, name, value)
            self.store.save()
            return self.as_json(item)

    def delete_lineitem(self, line_item_id: str) -> None:
        with self.store.lock:
            item = self._item(line_item_id)
            del self.store.line_items[item.id]
            for key in [key for key in self.store.results if key[0] == item.id]:
                del self.store.results[key]
            self.store.save()

    def update_score(self, line_item_id: str, score: Any) -> Any:
        with self.store.lock:
            item = self._item(line_item_id)
            result = self._result(item, score)
            previous = self.store.results.get((item.id, result.user))
            if previous and parse_timestamp(previous.timestamp) > parse_timestamp(result.timestamp):
                return UpdateScoreStatus.OLD_TIMESTAMP
            self.store.set_result(result)
            self.store.save()
            return UpdateScoreStatus.SUCCESS if previous else UpdateScoreStatus.CREATED

    def _result(self, item: LineItem, score: Any) -> Result:
        if not isinstance(score, dict):
            raise LtiServiceException("A score is a JSON object.", 400)
        user = str(score.get("userId", ""))
        if user not in self.store.users:
            raise LtiServiceException("userId is not a user of this course.", 400)
        if score.get("activityProgress") not in ACTIVITY:
            raise LtiServiceException(f"activityProgress must be one of {sorted(ACTIVITY)}.", 400)
        if score.get("gradingProgress") not in GRADING:
            raise LtiServiceException(f"gradingProgress must be one of {sorted(GRADING)}.", 400)
        try:
            timestamp = str(score["timestamp"])
            parse_timestamp(timestamp)
        except (KeyError, ValueError) as error:
            raise LtiServiceException("timestamp must be ISO 8601 with a zone.", 400) from error
        given: Any = score.get("scoreGiven")
        maximum: Any = score.get("scoreMaximum")
        if given is not None:
            if not (_number(given) and _number(maximum)):
                raise LtiServiceException("scoreGiven needs a numeric scoreMaximum.", 400)
            if given < 0 or maximum <= 0:
                raise LtiServiceException("scoreGiven >= 0 and scoreMaximum > 0.", 400)
        return Result(
            line_item=item.id,
            user=user,
            score=float(given) if given is not None else None,
            maximum=float(maximum) if isinstance(maximum, int | float) else item.score_maximum,
            timestamp=timestamp,
            activity_progress=str(score["activityProgress"]),
            grading_progress=str(score["gradingProgress"]),
            comment=score.get("comment"),
            source=f"tool {self.tool.name}",
        )

    def get_results(
        self, line_item_id: str, page: int = 1, limit: int | None = None, user_id: str = ""
    ) -> Any:
        with self.store.lock:
            item = self._item(line_item_id)
            results = sorted(
                (r for r in self.store.results.values() if r.line_item == item.id),
                key=lambda r: r.user,
            )
            content = [self._result_json(r) for r in results if not user_id or r.user == user_id]
            return _page(content, page, limit)

    def _result_json(self, result: Result) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": f"{self.url(result.line_item)}/results/{result.user}",
            "scoreOf": self.url(result.line_item),
            "userId": result.user,
            "resultMaximum": result.maximum,
            "timestamp": result.timestamp,
            "activityProgress": result.activity_progress,
            "gradingProgress": result.grading_progress,
        }
        if result.score is not None:
            data["resultScore"] = result.score
        if result.comment:
            data["comment"] = result.comment
        return data


class Nrps(NamesRoleProvisioningService):
    def __init__(
        self, request: LibraryRequest, store: Store, platform: Platform, tool: Tool
    ) -> None:
        self.store, self.tool = store, tool
        url = platform.url(f"/nrps/{COURSE.id}/memberships")
        super().__init__(request, platform_conf(platform, tool), url)

    def get_member_data_page(
        self, page: int = 1, limit: int | None = None, role: str = "", **_: Any
    ) -> Any:
        with self.store.lock:
            members = []
            for user in self.store.member_users():
                if role and not any(r == role or r.endswith("#" + role) for r in user.roles):
                    continue
                member = {
                    "user_id": user.id,
                    "status": "Active",
                    "roles": list(user.roles),
                    "name": user.name,
                    "given_name": user.given_name,
                    "family_name": user.family_name,
                    "email": user.email,
                }
                if user.sourcedid:
                    member["lis_person_sourcedid"] = user.sourcedid
                members.append(member)
            return _page(members, page, limit)

    def get_context_by_id(self) -> Any:
        return Context(id=COURSE.id, label=COURSE.label, title=COURSE.title)

    def is_resource_link_valid(self, context_id: str, resource_link_id: str) -> bool:
        with self.store.lock:
            link = self.store.links.get(resource_link_id)
            return link is not None and link.tool == self.tool.client_id


def _params(incoming: Incoming, known: tuple[str, ...]) -> dict[str, Any]:
    params: dict[str, Any] = {k: v for k, v in incoming.query.items() if k in known and v}
    for name in ("page", "limit"):
        if name in params:
            params[name] = int(params[name])
            if params[name] < 1:
                raise ValueError(name)
    return params


def serve(store: Store, platform: Platform, incoming: Incoming, parts: list[str]) -> Reply:
    """``/ags/course-1/lineitems[/<id>[/results|/scores]]`` and ``/nrps/course-1/memberships``."""
    tool = bearer_tool(store, platform, incoming.headers.get("Authorization", ""))
    if tool is None:
        return json_error(401, "invalid_token", "Missing, forged or expired access token.")
    method = incoming.method
    try:
        if parts == ["nrps", COURSE.id, "memberships"] and method == "GET":
            request = LibraryRequest(incoming, _params(incoming, MEMBER_PARAMS))
            nrps = Nrps(request, store, platform, tool)
            return _reply(nrps.handle_resp(nrps.handle_get_members), paged=False)
        if parts[:3] != ["ags", COURSE.id, "lineitems"] or len(parts) > 5:
            return json_error(404, "not_found")
        return _ags(store, platform, incoming, tool, parts[3:])
    except ValueError:
        return json_error(400, "invalid_request", "page and limit are whole numbers above 0.")
    except (LtiException, jwt.PyJWTError) as error:
        return json_error(401, "invalid_token", str(error))


def _ags(
    store: Store, platform: Platform, incoming: Incoming, tool: Tool, rest: list[str]
) -> Reply:
    method = incoming.method
    read = [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY]

    def service(scopes: list[str], known: tuple[str, ...] = (), **kw: Any) -> Ags:
        request = LibraryRequest(incoming, _params(incoming, known))
        return Ags(request, store, platform, tool, scopes=scopes, **kw)

    if not rest:
        if method == "GET":
            ags = service(read, LINEITEM_PARAMS)
            return _reply(ags.handle_resp(ags.handle_get_lineitems))
        if method == "POST":
            ags = service([SCOPE_LINEITEM])
            return _reply(ags.handle_resp(ags.handle_create_lineitem))
        return json_error(405, "method_not_allowed")
    item_id = rest[0]
    if len(rest) == 1:
        handlers = {
            "GET": (read, "handle_get_lineitem"),
            "PUT": ([SCOPE_LINEITEM], "handle_update_lineitem"),
            "DELETE": ([SCOPE_LINEITEM], "handle_delete_lineitem"),
        }
        if method not in handlers:
            return json_error(405, "method_not_allowed")
        scopes, name = handlers[method]
        ags = service(scopes)
        return _reply(ags.handle_resp(getattr(ags, name), line_item_id=item_id))
    lineitem_url = platform.url(f"/ags/{COURSE.id}/lineitems/{item_id}")
    if rest[1] == "results" and method == "GET":
        ags = service([SCOPE_RESULT], RESULT_PARAMS, lineitem_url=lineitem_url)
        return _reply(ags.handle_resp(ags.handle_get_results, line_item_id=item_id))
    if rest[1] == "scores" and method == "POST":
        ags = service([SCOPE_SCORE], lineitem_url=lineitem_url)
        return _reply(ags.handle_resp(ags.handle_update_score, line_item_id=item_id))
    return json_error(404, "not_found")


def _reply(response: Any, paged: bool = True) -> Reply:
    """The library's ``Response`` as HTTP (its ``result`` may be a page or a container)."""
    if response.code >= 400:
        return json_error(response.code, response.message)
    result = response.result
    if result is None:
        return Reply(response.code, b"", "text/plain")
    headers = []
    if paged and isinstance(result, dict) and "content" in result:
        next_url, result = result.get("next"), result["content"]
    else:
        next_url = result.pop("next", None) if isinstance(result, dict) else None
    if next_url:
        headers.append(("Link", f'<{next_url}>; rel="next"'))
    return json_reply(result, response.code, response.media_type, headers)
