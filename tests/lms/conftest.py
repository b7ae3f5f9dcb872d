"""Fixtures for the test LMS's own tests: one LMS for the module, a fresh pylti1p3 tool each."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.lms.server import Lms, start_lms
from tests.lms.tool import MiniTool, browse, submit_form


@pytest.fixture(scope="module")
def lms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lms]:
    started = start_lms(tmp_path_factory.mktemp("lms") / "lms.log")
    yield started
    started.stop()


@dataclass
class Registered:
    """A :class:`MiniTool` registered with the LMS through the control API."""

    tool: MiniTool
    client_id: str
    deployment_id: str
    answer: dict[str, Any]


@pytest.fixture
def registered(lms: Lms) -> Iterator[Registered]:
    tool = MiniTool()
    answer = lms.register_tool(
        tool.name,
        tool.url("/login"),
        tool.url("/launch"),
        tool.url("/jwks"),
        deep_link_url=tool.url("/deep-link"),
    )
    tool.configure(answer["issuer"], answer["client_id"], answer["deployment_id"])
    yield Registered(tool, answer["client_id"], answer["deployment_id"], answer)
    tool.stop()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@dataclass
class Content:
    """A resource link (with its line item) the tool added by deep linking."""

    link_id: str
    line_item_id: str


def add_content(lms: Lms, registered: Registered, http: requests.Session) -> Content:
    """Ina adds the tool's content to the course (a deep-linking launch and response)."""
    response_form = browse(http, lms.launch_url(registered.client_id, "instructor", "deep-link"))
    assert response_form.status_code == 200, response_form.text
    back = submit_form(http, response_form)
    assert back.status_code == 303, back.text
    state = lms.state()
    link = [link for link in state["links"] if link["tool"] == registered.client_id][-1]
    item = next(i for i in state["line_items"] if i["resource_link_id"] == link["id"])
    return Content(link["id"], item["id"])


@pytest.fixture
def content(lms: Lms, registered: Registered, http: requests.Session) -> Content:
    return add_content(lms, registered, http)
