"""The test LMS's HTTP server, routes and command line.

``python -m tests.lms.platform --port 0 [--state FILE]`` serves plain HTTP on 127.0.0.1 with
the standard library's ``ThreadingHTTPServer`` and prints ``LMS READY http://127.0.0.1:<port>``
once it listens; its issuer is that base URL. Pages and launches (:mod:`tests.lms.pages`,
:mod:`tests.lms.launch`), deep linking (:mod:`tests.lms.deeplinking`), services
(:mod:`tests.lms.services`, :mod:`tests.lms.token`) and registration
(:mod:`tests.lms.registration`) live in their modules; this one routes to them and holds the
control API the tests drive (``/control/...``: JSON, loopback only, no authentication).

A fresh RSA key pair (and a rogue one for ``tamper=key``) is made at each start. With
``--state FILE`` the course (users, roster, tools, links, line items, results) is loaded from
FILE when it exists and saved to it after every change (:class:`tests.lms.state.Store`).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.lms import deeplinking, launch, pages, registration, services, token
from tests.lms.lti import Incoming, KeyPair, Platform
from tests.lms.state import COURSE, LIS, LineItem, Result, Store, User, now_iso
from tests.lms.web import Reply, error_page, json_error, json_reply, redirect


class App:
    def __init__(self, store: Store, platform: Platform) -> None:
        self.store, self.platform = store, platform

    def route(self, incoming: Incoming) -> Reply:
        store, platform, method = self.store, self.platform, incoming.method
        path = incoming.path.rstrip("/") or "/"
        parts = [part for part in path.split("/") if part]
        if parts and parts[0] in ("ags", "nrps"):
            return services.serve(store, platform, incoming, parts)
        if parts[:2] == ["control", "users"] and len(parts) == 3 and method == "POST":
            return self.set_user(parts[2], incoming.json)
        routes = {
            ("GET", "/"): lambda: self.course_page(incoming.query.get("flash", "")),
            ("GET", "/launch"): lambda: launch.start_launch(store, platform, incoming),
            ("GET", "/auth"): lambda: launch.authorize(store, platform, incoming),
            ("POST", "/auth"): lambda: launch.authorize(store, platform, incoming),
            ("POST", "/deep-link-return"): lambda: deeplinking.deep_link_return(
                store, platform, incoming.form
            ),
            ("GET", "/jwks"): lambda: json_reply(platform.jwks()),
            ("POST", "/token"): lambda: token.issue_token(store, platform, incoming.form),
            ("GET", "/.well-known/openid-configuration"): lambda: json_reply(
                registration.openid_configuration(platform)
            ),
            ("POST", "/register"): lambda: registration.register(store, platform, incoming),
            ("GET", "/admin/register"): lambda: registration.admin_page(store, platform, incoming),
            ("POST", "/grades"): lambda: self.grade_form(incoming.form),
            ("POST", "/gradebook/columns"): lambda: self.add_column(incoming.form),
            ("GET", "/control/tools"): self.list_tools,
            ("POST", "/control/tools"): lambda: registration.control_register(
                store, platform, incoming.json
            ),
            ("POST", "/control/grades"): lambda: self.control_grade(incoming.json),
            ("GET", "/control/state"): self.state,
            ("POST", "/control/members"): lambda: self.members(incoming.json),
            ("GET", "/control/last-launch"): lambda: self.last_launch(incoming.param("user")),
            ("POST", "/control/registration-token"): self.registration_token,
        }
        handler = routes.get((method, path))
        if handler is not None:
            return handler()
        if any(known == path for _, known in routes):
            return error_page(405, "Method not allowed", f"{method} {path}")
        return error_page(404, "Not found", path)

    # Pages and forms

    def course_page(self, flash_key: str) -> Reply:
        with self.store.lock:
            return Reply(200, pages.course_page(self.store, self.store.flashes.get(flash_key)))

    def grade_form(self, form: dict[str, str]) -> Reply:
        result, problem = self.set_grade(
            form.get("line_item", ""), form.get("user", ""), form.get("score", "")
        )
        if result is None:
            return error_page(400, "Grade not saved", problem)
        with self.store.lock:
            user = self.store.users[result.user].name
            label = self.store.line_items[result.line_item].label
            return redirect("/?flash=" + self.store.flash(f"Saved the grade of {user} in {label}."))

    def add_column(self, form: dict[str, str]) -> Reply:
        label = form.get("label", "").strip()
        try:
            maximum = float(form.get("score_maximum", ""))
        except ValueError:
            maximum = 0
        if not label or maximum <= 0:
            return error_page(400, "Column not added", "A label and a maximum above 0, please.")
        with self.store.lock:
            item = LineItem(id=self.store.next_id(), label=label, score_maximum=maximum)
            self.store.line_items[item.id] = item
            self.store.save()
            return redirect("/?flash=" + self.store.flash(f"Added column {label}."))

    def set_grade(self, key: str, user_id: str, score: Any) -> tuple[Result | None, str]:
        try:
            value = float(score)
        except (TypeError, ValueError):
            return None, "The score must be a number."
        with self.store.lock:
            item = self.store.find_line_item(str(key))
            if item is None:
                return None, "Unknown line item."
            if user_id not in self.store.users:
                return None, "Unknown user."
            if value < 0:
                return None, "The score cannot be negative."
            result = Result(item.id, user_id, value, item.score_maximum, now_iso())
            self.store.set_result(result)
            self.store.save()
            return result, ""

    # Control API

    def list_tools(self) -> Reply:
        with self.store.lock:
            tools = [registration.tool_json(t, self.platform) for t in self.store.tools.values()]
        return json_reply(tools)

    def control_grade(self, data: Any) -> Reply:
        data = data if isinstance(data, dict) else {}
        key, user = str(data.get("line_item", "")), str(data.get("user", ""))
        result, problem = self.set_grade(key, user, data.get("score"))
        if result is None:
            return json_error(400, "invalid_request", problem)
        return json_reply(asdict(result))

    def state(self) -> Reply:
        with self.store.lock:
            snapshot = self.store.snapshot()
            snapshot["tools"] = [
                registration.tool_json(t, self.platform) for t in self.store.tools.values()
            ]
        snapshot.update(issuer=self.platform.issuer, course=asdict(COURSE))
        return json_reply(snapshot)

    def set_user(self, user_id: str, data: Any) -> Reply:
        if not isinstance(data, dict) or not isinstance(data.get("email"), str):
            return json_error(400, "invalid_request", 'Send {"email": "..."}.')
        with self.store.lock:
            user = self.store.users.get(user_id)
            if user is None:
                return json_error(404, "not_found", "Unknown user.")
            user.email = data["email"]
            self.store.save()
            return json_reply(asdict(user))

    def members(self, data: Any) -> Reply:
        """``{"user": id, "action": "add"|"remove"}``; adding an unknown user needs ``name``
        (and takes ``email``, ``role`` "Learner"/"Instructor"/a role URI, ``sourcedid``)."""
        data = data if isinstance(data, dict) else {}
        user_id, action = str(data.get("user", "")), data.get("action", "add")
        with self.store.lock:
            if action == "remove":
                if user_id in self.store.members:
                    self.store.members.remove(user_id)
            elif action == "add":
                if user_id not in self.store.users:
                    if not user_id or not data.get("name"):
                        return json_error(400, "invalid_request", "A new member needs a name.")
                    self.store.users[user_id] = _new_user(user_id, data)
                if user_id not in self.store.members:
                    self.store.members.append(user_id)
            else:
                return json_error(400, "invalid_request", "action is add or remove.")
            self.store.save()
            return json_reply({"members": list(self.store.members)})

    def last_launch(self, user: str) -> Reply:
        with self.store.lock:
            found = self.store.last_launch.get(user)
        return json_reply(found) if found else json_error(404, "not_found", "No launch yet.")

    def registration_token(self) -> Reply:
        token_value, session = registration.new_registration_token(self.store)
        return json_reply(
            {
                "registration_token": token_value,
                "session": session,
                "openid_configuration": self.platform.url("/.well-known/openid-configuration"),
            }
        )


def _new_user(user_id: str, data: dict[str, Any]) -> User:
    name = str(data["name"])
    given, _, family = name.partition(" ")
    role = str(data.get("role") or "Learner")
    return User(
        id=user_id,
        name=name,
        given_name=given,
        family_name=family,
        email=str(data.get("email") or f"{user_id}@lms.test"),
        roles=[role if "#" in role or "/" in role else LIS + role],
        sourcedid=data.get("sourcedid") or None,
    )


class Handler(BaseHTTPRequestHandler):
    server: LmsServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        form: dict[str, str] = {}
        data: Any = None
        if content_type == "application/x-www-form-urlencoded":
            form = _flat(parse_qs(body.decode("utf-8"), keep_blank_values=True))
        elif content_type.endswith("json") and body:
            try:
                data = json.loads(body)
            except ValueError:
                self._send(json_error(400, "invalid_request", "The body is not JSON."))
                return
        incoming = Incoming(
            method=method,
            path=url.path,
            query=_flat(parse_qs(url.query, keep_blank_values=True)),
            form=form,
            json=data,
            headers={name.title(): value for name, value in self.headers.items()},
        )
        try:
            reply = self.server.app.route(incoming)
        except Exception:  # a bug in the LMS: show it to the test, keep serving
            traceback.print_exc()
            reply = error_page(500, "LMS error", traceback.format_exc(limit=3))
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        payload = reply.payload()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


def _flat(values: dict[str, list[str]]) -> dict[str, str]:
    return {key: items[0] for key, items in values.items()}


class LmsServer(ThreadingHTTPServer):
    daemon_threads = True
    app: App


def serve(port: int, state: Path | None) -> LmsServer:
    server = LmsServer(("127.0.0.1", port), Handler)
    host, bound = server.server_address[:2]
    platform = Platform(f"http://{host!s}:{bound}", KeyPair.generate(), KeyPair.generate())
    server.app = App(Store(state), platform)
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--state", type=Path, help="JSON file to keep the course in")
    args = parser.parse_args(argv)
    server = serve(args.port, args.state)
    sys.stdout.write(f"LMS READY {server.app.platform.issuer}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
