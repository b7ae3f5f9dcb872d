"""`seed_demo` loads the demo institution once, however often it runs."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from earners import selectors as earner_selectors
from insignia.demo.services import DEMO_LEARNER, DEMO_USERS, seed_demo
from insignia.management.commands import seed_demo as seed_command
from issuers.models import Institution, Issuer, Membership

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_is_idempotent_and_prints_working_sign_ins(client: Client) -> None:
    first = _seed()
    counts = (
        User.objects.count(),
        Institution.objects.count(),
        Issuer.objects.count(),
        Membership.objects.count(),
    )
    second = _seed()
    assert counts == (
        User.objects.count(),
        Institution.objects.count(),
        Issuer.objects.count(),
        Membership.objects.count(),
    )
    # Owner, awarder and the demo learner; staff are members. The second institution, with its
    # owner (no sign-in) and issuer, is the council endorsing the School of Engineering.
    assert counts == (4, 2, 3, 3)
    assert first == second
    institution = Institution.objects.get(slug="demo-poly")
    assert (institution.name_en, institution.name_zh) == ("Demo Polytechnic", "示范职业学院")
    for line in first.splitlines():
        if "password:" in line:
            email = line.split()[1]
            password = line.rsplit("password:", 1)[1].strip()
            # django-axes needs the request authenticate() is for.
            assert client.login(request=HttpRequest(), username=email, password=password), line
            client.logout()


@override_settings(PRODUCTION=True)
def test_seed_demo_refuses_to_run_in_production() -> None:
    with pytest.raises(CommandError, match="never runs in production"):
        _seed()
    assert not User.objects.exists()


def test_the_demo_learner_has_claimed_badges_and_the_sign_ins_come_last(client: Client) -> None:
    printed = _seed().splitlines()

    learner = User.objects.get(email=DEMO_LEARNER[0])
    held = earner_selectors.backpack(learner)
    assert held.count() >= 2
    assert all(award.claimed_at is not None for award in held)
    # The sign-ins are the last lines, so `make run` shows them just above the address.
    signins = [line for line in printed if "password:" in line]
    assert [line.split()[1] for line in signins] == [*DEMO_USERS, DEMO_LEARNER[0]]
    assert printed[-len(signins) - 1 :][: len(signins)] == signins
    client.force_login(learner)
    backpack = client.get(reverse("earners:backpack")).content.decode()
    assert "Data Analysis with Spreadsheets" in backpack


def _committing(capture: Any) -> Any:
    def seed() -> Any:
        with capture(execute=True):
            return seed_demo()

    return seed


def test_demo_e_mails_go_to_a_file_not_the_console(
    tmp_path: Path, monkeypatch: Any, django_capture_on_commit_callbacks: Any
) -> None:
    path = tmp_path / "demo-mail.txt"
    monkeypatch.setattr(seed_command, "MAIL_FILE", path)
    # The e-mails are sent after commit, inside the command's collection (as under make run).
    monkeypatch.setattr(seed_command, "seed_demo", _committing(django_capture_on_commit_callbacks))
    with override_settings(EMAIL_BACKEND=seed_command.CONSOLE_MAIL):
        printed = _seed()

    assert "Subject:" not in printed
    assert len(printed.splitlines()) < 40
    [line] = [x for x in printed.splitlines() if x.startswith("Demo e-mails:")]
    count = int(line.split()[2])
    assert count > 0
    assert str(path) in line
    assert path.read_text(encoding="utf-8").count("Subject: ") == count
