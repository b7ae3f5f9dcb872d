"""The test LMS's HTML: the course page, the dynamic-registration page, the launch form.

Plain pages with real ``<button>``s whose text says who does what ("Open as Alice Learner",
"Save grade for Bob Learner in Quiz 1"), so a Playwright test can click them by name. Every
value is HTML-escaped (:func:`e`).
"""

from __future__ import annotations

import html
import json
from urllib.parse import urlencode

from tests.lms.state import COURSE, DEEP_LINK, INSTRUCTOR, LineItem, Store, User
from tests.lms.web import page


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _launch_button(tool: str, user: User, link: str, text: str) -> str:
    return (
        "<form method='get' action='/launch'>"
        f"<input type='hidden' name='tool' value='{e(tool)}'>"
        f"<input type='hidden' name='user' value='{e(user.id)}'>"
        f"<input type='hidden' name='link' value='{e(link)}'>"
        f"<button type='submit'>{e(text)}</button></form>"
    )


def course_page(store: Store, flash: str | None) -> str:
    """``GET /``; the caller holds the store's lock."""
    parts = [f"<h1>{e(COURSE.title)} <small>({e(COURSE.label)})</small></h1>"]
    if flash:
        parts.append(f"<p class='flash' role='status'>{e(flash)}</p>")
    parts.append(_tools_section(store))
    parts.append(_content_section(store))
    parts.append(_gradebook_section(store))
    return page(COURSE.title, "\n".join(parts))


def _tools_section(store: Store) -> str:
    rows = []
    instructors = [user for user in store.member_users() if INSTRUCTOR in user.roles]
    for tool in store.tools.values():
        buttons = "".join(
            _launch_button(
                tool.client_id, user, DEEP_LINK, f"Add content from {tool.name} (as {user.name})"
            )
            for user in instructors
        )
        rows.append(
            f"<li><strong>{e(tool.name)}</strong> "
            f"<small>client_id {e(tool.client_id)}, deployment {e(tool.deployment_id)}</small>"
            f"<br>{buttons}</li>"
        )
    listing = f"<ul>{''.join(rows)}</ul>" if rows else "<p>No tools registered yet.</p>"
    return (
        f"<section><h2>Tools</h2>{listing}"
        "<p><a href='/admin/register'>Register a tool (LTI Dynamic Registration)</a></p>"
        "</section>"
    )


def _content_section(store: Store) -> str:
    rows = []
    for link in store.links.values():
        tool = store.tools.get(link.tool)
        buttons = "".join(
            _launch_button(link.tool, user, link.id, f"Open as {user.name}")
            for user in store.member_users()
        )
        rows.append(
            f"<li data-link='{e(link.id)}'><strong>{e(link.title)}</strong> "
            f"<small>({e(tool.name if tool else link.tool)}, {e(link.id)})</small><br>"
            f"{buttons}</li>"
        )
    listing = f"<ul>{''.join(rows)}</ul>" if rows else "<p>No content yet.</p>"
    return f"<section><h2>Course content</h2>{listing}</section>"


def _gradebook_section(store: Store) -> str:
    tables = [_line_item_table(store, item) for item in store.line_items.values()]
    listing = "\n".join(tables) if tables else "<p>No gradebook columns yet.</p>"
    add = (
        "<form method='post' action='/gradebook/columns'>"
        "<label>Label <input name='label' required></label> "
        "<label>Maximum score <input name='score_maximum' type='number' min='0.01' step='any' "
        "value='100' required></label> "
        "<button type='submit'>Add gradebook column</button></form>"
    )
    return f"<section><h2>Gradebook</h2>{listing}<h3>New column</h3>{add}</section>"


def _line_item_table(store: Store, item: LineItem) -> str:
    link = store.links.get(item.resource_link_id or "")
    attached = f"for {link.title}" if link else "gradebook column"
    tool = store.tools.get(item.tool or "")
    source = f", from {tool.name}" if tool else ""
    rows = []
    for user in store.learners():
        result = store.results.get((item.id, user.id))
        shown = "no grade"
        if result is not None:
            shown = (
                f"{_number(result.score) or '–'} / {_number(result.maximum)} "
                f"({result.grading_progress}, {result.source}, {result.timestamp})"
            )
        value = _number(result.score) if result else ""
        action = f"Save grade for {user.name} in {item.label}"
        rows.append(
            f"<tr><td>{e(user.name)}</td><td data-result>{e(shown)}</td><td>"
            "<form method='post' action='/grades'>"
            f"<input type='hidden' name='line_item' value='{e(item.id)}'>"
            f"<input type='hidden' name='user' value='{e(user.id)}'>"
            f"<input name='score' type='number' step='any' min='0' value='{e(value)}' "
            f"aria-label='Grade for {e(user.name)} in {e(item.label)}'> "
            f"<button type='submit'>{e(action)}</button></form></td></tr>"
        )
    return (
        f"<table data-line-item='{e(item.id)}'><caption><strong>{e(item.label)}</strong> "
        f"(out of {e(_number(item.score_maximum))}, {e(attached)}{e(source)}, "
        f"line item {e(item.id)})</caption>"
        f"<tr><th>Learner</th><th>Grade</th><th>Change</th></tr>{''.join(rows)}</table>"
    )


def launch_form(action: str, id_token: str, state: str) -> str:
    """The auto-submitting form that carries the id_token to the tool."""
    body = (
        "<p>Launching…</p>"
        f"<form id='lti-launch' method='post' action='{e(action)}'>"
        f"<input type='hidden' name='id_token' value='{e(id_token)}'>"
        f"<input type='hidden' name='state' value='{e(state)}'>"
        "<noscript><button type='submit'>Continue</button></noscript></form>"
        "<script>document.getElementById('lti-launch').submit();</script>"
    )
    return page("Launching", body)


def register_page(tool_url: str, openid_configuration: str, token: str, session: str) -> str:
    """``GET /admin/register``: the tool's registration page in an iframe, and a status line."""
    if not tool_url:
        body = (
            "<h1>Register a tool</h1>"
            "<form method='get' action='/admin/register'>"
            "<label>Tool registration URL <input name='url' type='url' size='60' required>"
            "</label> <button type='submit'>Start registration</button></form>"
        )
        return page("Register a tool", body)
    joiner = "&" if "?" in tool_url else "?"
    src = (
        tool_url
        + joiner
        + urlencode({"openid_configuration": openid_configuration, "registration_token": token})
    )
    script = (
        "const session = " + json.dumps(session) + ";\n"
        "window.addEventListener('message', async (event) => {\n"
        "  if (!event.data || event.data.subject !== 'org.imsglobal.lti.close') return;\n"
        "  const tools = await (await fetch('/control/tools')).json();\n"
        "  const tool = tools.find((t) => t.registration_session === session);\n"
        "  document.getElementById('status').textContent = tool\n"
        "    ? 'Tool registered: ' + tool.name\n"
        "    : 'The tool closed without registering.';\n"
        "  document.getElementById('registration').remove();\n"
        "});\n"
    ).replace("</", "<\\/")
    body = (
        "<h1>Register a tool</h1>"
        "<p id='status' role='status'>Waiting for the tool to register…</p>"
        f"<iframe id='registration' title='Tool registration' src='{e(src)}' "
        "style='width:100%;height:30rem;border:1px solid #ccc'></iframe>"
        "<p><a href='/'>Back to the course</a></p>"
        f"<script>{script}</script>"
    )
    return page("Register a tool", body)
