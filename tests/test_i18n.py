"""Both languages everywhere a person reads: chosen by the browser, switched by a button that
sticks, with dates in the reader's locale."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.base import Cast

pytestmark = pytest.mark.django_db

PAGES = [
    ("home", "Micro-credentials you can trust", "值得信赖的微证书"),
    ("verify", "Verify a badge", "验证徽章"),
    ("manage:login", "Staff sign-in", "工作人员登录"),
]


@pytest.mark.parametrize(("name", "english", "chinese"), PAGES)
def test_public_pages_follow_the_browser_language(
    client: Client, name: str, english: str, chinese: str
) -> None:
    en = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    zh = client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert english in en.content.decode()
    assert chinese not in en.content.decode()
    assert chinese in zh.content.decode()
    assert '<html lang="zh-Hans">' in zh.content.decode()


def test_the_language_switch_sticks_across_pages(client: Client) -> None:
    response = client.post(
        reverse("set_language"),
        {"language": "zh-hans", "next": "/verify"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    assert response["Location"] == "/verify"
    assert "验证徽章" in client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Verify a badge" in client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()


def test_console_dates_and_names_are_in_the_readers_language(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    url = reverse("manage:dashboard", args=["poly"])
    zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    created = cast.institution.created_at
    assert f"{created.year}年{created.month}月{created.day}日" in zh
    assert (
        f"{created:%b}. {created.day}, {created.year}" in en
        or f"{created:%B} {created.day}, {created.year}" in en
    )
    assert "理工学院" in zh
    assert "所有者" in zh  # the role badge
    assert "Owner" in en


def test_model_text_falls_back_to_the_other_language(client: Client, cast: Cast) -> None:
    cast.issuer.name_zh = ""
    cast.issuer.save()
    client.force_login(cast.owner)
    body = client.get(
        reverse("manage:issuers", args=["poly"]), HTTP_ACCEPT_LANGUAGE="zh-CN"
    ).content.decode()
    assert "Poly Engineering" in body
