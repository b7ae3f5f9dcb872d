"""A member who forgot their password gets a link by e-mail and chooses a new one."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from tests.base import Cast

pytestmark = pytest.mark.django_db


@override_settings(ALLOWED_HOSTS=["*"])  # even a permissive deployment sends no forged links
def test_password_reset_by_email_in_the_readers_language(client: Client, cast: Cast) -> None:
    response = client.post(
        reverse("manage:password_reset"),
        {"email": "owner@poly.example"},
        HTTP_HOST="evil.example",
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.subject == "设置新的 Insignia 密码"
    link = re.search(r"(https?://\S+/password-reset/\S+/)", str(message.body))
    assert link is not None
    # The link uses the configured public origin, never the Host header a client sent.
    assert link.group(1).startswith("http://127.0.0.1:8000/manage/password-reset/")
    path = link.group(1).split("127.0.0.1:8000", 1)[1]
    form_page = client.get(path, follow=True)
    set_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else path
    done = client.post(
        set_url,
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert done.status_code == 302
    signed_in = client.post(
        reverse("manage:login"),
        {"username": "owner@poly.example", "password": "a-new-long-passphrase"},
    )
    assert signed_in.status_code == 302


def test_an_unknown_address_gets_the_same_answer_and_no_reset_link(
    client: Client, cast: Cast
) -> None:
    response = client.post(reverse("manage:password_reset"), {"email": "nobody@poly.example"})
    assert response.status_code == 302
    # The address is told that it has no account (the e-mail says what happened).
    (message,) = mail.outbox
    assert message.to == ["nobody@poly.example"]
    assert "no account signs in with this address" in str(message.body)
    assert "/manage/password-reset/M" not in str(message.body)
