"""`seed_demo` loads the demo institution once, however often it runs."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.test import Client, override_settings

from accounts.models import User
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
    assert counts == (2, 1, 2, 2)
    assert first == second
    institution = Institution.objects.get()
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
