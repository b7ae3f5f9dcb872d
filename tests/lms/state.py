"""The test LMS's data: the fixed cast, registered tools, resource links, gradebook.

Everything lives in memory behind one lock (:attr:`Store.lock`; the HTTP server answers each
request in its own thread). With ``--state FILE`` the lasting part (users, roster, tools,
links, line items, results) is read from the file at start when it exists and written back
after every change, so a restarted LMS keeps its course; the one-time values of a sitting
(message hints, deep-linking ``data``, registration tokens, flashes, the last launches) stay
in memory only.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTRUCTOR = LIS + "Instructor"
LEARNER = LIS + "Learner"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ALL_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT, SCOPE_SCORE, SCOPE_NRPS)

TAMPERS = ("aud", "key", "deployment", "expired")
DEEP_LINK = "deep-link"


@dataclass(frozen=True)
class Course:
    id: str
    title: str
    label: str


COURSE = Course(id="course-1", title="Welding 101", label="WELD101")


@dataclass
class User:
    id: str
    name: str
    given_name: str
    family_name: str
    email: str
    roles: list[str]
    sourcedid: str | None = None


@dataclass
class Tool:
    client_id: str
    deployment_id: str
    name: str
    oidc_login_url: str
    launch_url: str
    deep_link_url: str
    jwks_url: str | None
    jwks: dict[str, Any] | None = None
    redirect_uris: list[str] = field(default_factory=list)
    scopes: list[str] = field(default_factory=lambda: list(ALL_SCOPES))
    custom: dict[str, str] = field(default_factory=dict)
    registered_by: str = "control"
    registration_session: str | None = None

    def redirect_uri_allowed(self, uri: str) -> bool:
        return uri in {self.launch_url, self.deep_link_url, *self.redirect_uris}


@dataclass
class Link:
    id: str
    tool: str
    title: str
    url: str
    text: str = ""
    custom: dict[str, str] = field(default_factory=dict)


@dataclass
class LineItem:
    id: str
    label: str
    score_maximum: float
    tool: str | None = None
    resource_link_id: str | None = None
    resource_id: str | None = None
    tag: str | None = None
    start_date_time: str | None = None
    end_date_time: str | None = None


@dataclass
class Result:
    line_item: str
    user: str
    score: float | None
    maximum: float
    timestamp: str
    activity_progress: str = "Completed"
    grading_progress: str = "FullyGraded"
    comment: str | None = None
    source: str = "gradebook"


@dataclass(frozen=True)
class Hint:
    """What an opaque ``lti_message_hint`` stands for."""

    tool: str
    user: str
    link: str
    tamper: str | None


def _cast() -> dict[str, User]:
    return {
        "instructor": User(
            "instructor", "Ina Instructor", "Ina", "Instructor", "ina@lms.test", [INSTRUCTOR]
        ),
        "alice": User(
            "alice", "Alice Learner", "Alice", "Learner", "alice@lms.test", [LEARNER], "S1001"
        ),
        "bob": User("bob", "Bob Learner", "Bob", "Learner", "bob@lms.test", [LEARNER]),
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: str) -> datetime:
    """An ISO 8601 timestamp with a zone (AGS scores must carry one)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("timestamp needs a time zone")
    return parsed


class Store:
    """The LMS's state; hold :attr:`lock` while reading or changing it."""

    def __init__(self, path: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.path = path
        self.users: dict[str, User] = _cast()
        self.members: list[str] = list(self.users)
        self.tools: dict[str, Tool] = {}
        self.links: dict[str, Link] = {}
        self.line_items: dict[str, LineItem] = {}
        self.results: dict[tuple[str, str], Result] = {}
        self.counters: dict[str, int] = {}
        # One sitting only:
        self.hints: dict[str, Hint] = {}
        self.deep_link_data: dict[str, tuple[str, str]] = {}  # data -> (client_id, user)
        self.registration_tokens: dict[str, str] = {}  # token -> registration session
        self.flashes: dict[str, str] = {}
        self.last_launch: dict[str, dict[str, Any]] = {}
        self.used_jtis: set[str] = set()
        if path is not None and path.exists():
            self._load(json.loads(path.read_text(encoding="utf-8")))

    # Identifiers and one-time values

    def next_id(self, prefix: str = "") -> str:
        """``link-1``, ``link-2``…; line items are plain numbers (prefix "")."""
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}{self.counters[prefix]}"

    def new_hint(self, hint: Hint) -> str:
        token = secrets.token_urlsafe(16)
        self.hints[token] = hint
        return token

    def flash(self, message: str) -> str:
        key = secrets.token_urlsafe(8)
        self.flashes[key] = message
        return key

    # Queries

    def member_users(self) -> list[User]:
        return [self.users[user] for user in self.members if user in self.users]

    def learners(self) -> list[User]:
        return [user for user in self.member_users() if LEARNER in user.roles]

    def visible_line_items(self, client_id: str) -> list[LineItem]:
        """A tool sees its own line items and the plain gradebook columns."""
        return [item for item in self.line_items.values() if item.tool in (client_id, None)]

    def line_item_of_link(self, link_id: str) -> LineItem | None:
        """The link's line item, when it has exactly one (else the launch names none)."""
        found = [item for item in self.line_items.values() if item.resource_link_id == link_id]
        return found[0] if len(found) == 1 else None

    def find_line_item(self, key: str) -> LineItem | None:
        """By id, else by label."""
        if key in self.line_items:
            return self.line_items[key]
        return next((item for item in self.line_items.values() if item.label == key), None)

    def snapshot(self) -> dict[str, Any]:
        return {
            "users": {key: asdict(user) for key, user in self.users.items()},
            "members": list(self.members),
            "tools": [asdict(tool) for tool in self.tools.values()],
            "links": [asdict(link) for link in self.links.values()],
            "line_items": [asdict(item) for item in self.line_items.values()],
            "results": [asdict(result) for result in self.results.values()],
            "counters": dict(self.counters),
        }

    # Changes

    def set_result(self, result: Result) -> None:
        self.results[(result.line_item, result.user)] = result

    def save(self) -> None:
        """Write the lasting state to ``--state FILE`` (atomically), if one was given."""
        if self.path is None:
            return
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(self.snapshot(), indent=2), encoding="utf-8")
        os.replace(temporary, self.path)

    def _load(self, data: dict[str, Any]) -> None:
        self.users = {key: User(**value) for key, value in data["users"].items()}
        self.members = list(data["members"])
        self.tools = {tool["client_id"]: Tool(**tool) for tool in data["tools"]}
        self.links = {link["id"]: Link(**link) for link in data["links"]}
        self.line_items = {item["id"]: LineItem(**item) for item in data["line_items"]}
        self.results = {}
        for value in data["results"]:
            self.set_result(Result(**value))
        self.counters = {key: int(value) for key, value in data["counters"].items()}
