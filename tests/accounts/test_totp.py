"""Two-step sign-in for staff: an authenticator app (TOTP) and recovery codes, asked after the
password before any console page, and required by an owner for their institution.

Codes are computed as an authenticator app would, from the key of the real django-otp device.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import otp
from accounts.models import User
from integrations.models import StaffToken
from integrations.oauth import services as oauth_services
from issuers import services
from issuers.models import AuditAction, AuditEvent
from tests.base import PASSWORD, Cast

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_remembered_failures() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _code(device: TOTPDevice, steps: int = 0) -> str:
    """The code an authenticator app shows now (or ``steps`` time steps away)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + steps * device.step
    return f"{totp.token():06d}"


def _wait_out_backoff(user: User) -> None:
    """Let django-otp's few seconds of back-off after a wrong code pass."""
    earlier = timezone.now() - timedelta(minutes=1)
    TOTPDevice.objects.filter(user=user).update(throttling_failure_timestamp=earlier)
    StaticDevice.objects.filter(user=user).update(throttling_failure_timestamp=earlier)


def _enrol(client: Client, user: User) -> tuple[TOTPDevice, list[str]]:
    """Set up an authenticator through the pages; the device and the recovery codes shown."""
    client.force_login(user)
    client.post(reverse("manage:otp_enrol"), {"start": "1"})
    device = TOTPDevice.objects.get(user=user)
    response = client.post(reverse("manage:otp_enrol"), {"code": _code(device)})
    assert response.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{5}-[a-z2-7]{5})</li>", response.content.decode())
    return device, codes


def _sign_in(client: Client, user: User, follow: bool = True) -> Any:
    return client.post(
        reverse("manage:login"), {"username": user.email, "password": PASSWORD}, follow=follow
    )


def _verify(client: Client, code: str, next_url: str = "") -> Any:
    return client.post(reverse("manage:otp_verify"), {"code": code, "next": next_url})


def test_a_staff_member_sets_up_an_authenticator_confirmed_by_its_first_code(
    client: Client, cast: Cast
) -> None:
    client.force_login(cast.awarder)
    assert "Two-step sign-in is off." in client.get(reverse("manage:otp_settings")).content.decode()

    started = client.post(reverse("manage:otp_enrol"), {"start": "1"})
    assert started.status_code == 302
    device = TOTPDevice.objects.get(user=cast.awarder)
    assert not device.confirmed  # not on until the app proves it has the key
    page = client.get(reverse("manage:otp_enrol"))
    body = page.content.decode()
    assert "<svg" in body
    uri = page.context["uri"]
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/Insignia:awarder@poly.example"
    query = parse_qs(parts.query)
    assert query["issuer"] == ["Insignia"]
    assert query["secret"][0] == page.context["secret"].replace(" ", "")
    assert page.context["secret"] in body
    assert page["Cache-Control"].startswith("max-age=0")

    wrong = client.post(reverse("manage:otp_enrol"), {"code": "000000"})
    assert wrong.status_code == 400
    device.refresh_from_db()
    assert not device.confirmed

    _wait_out_backoff(cast.awarder)
    done = client.post(reverse("manage:otp_enrol"), {"code": _code(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{5}-[a-z2-7]{5})</li>", done.content.decode())
    assert len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    stored = set(
        StaticToken.objects.filter(device__user=cast.awarder).values_list("token", flat=True)
    )
    assert len(stored) == 10
    assert not stored & {c.replace("-", "") for c in codes}  # kept hashed, never as typed
    settings_page = client.get(reverse("manage:otp_settings")).content.decode()
    assert "Two-step sign-in is on." in settings_page
    assert "Recovery codes left: 10." in settings_page


def test_after_the_password_a_code_is_asked_before_any_console_page(cast: Cast) -> None:
    device, _codes = _enrol(Client(), cast.awarder)
    client = Client()

    landed = _sign_in(client, cast.awarder)
    assert landed.redirect_chain[-1][0].startswith(reverse("manage:otp_verify"))
    awards = reverse("manage:awards", kwargs={"institution": "poly"})
    response = client.get(awards)
    assert response.status_code == 302
    assert (
        response["Location"] == f"{reverse('manage:otp_verify')}?next=%2Fmanage%2Fpoly%2Fawards%2F"
    )

    verified = _verify(client, _code(device, steps=1), awards)  # the next code: each works once
    assert verified.status_code == 302
    assert verified["Location"] == awards
    assert client.get(awards).status_code == 200


def test_a_wrong_code_is_refused(cast: Cast) -> None:
    device, _codes = _enrol(Client(), cast.awarder)
    client = Client()
    _sign_in(client, cast.awarder)

    response = _verify(client, "123456" if _code(device) != "123456" else "654321")
    assert response.status_code == 400
    assert "That code is not right." in response.content.decode()
    dashboard = reverse("manage:dashboard", kwargs={"institution": "poly"})
    assert client.get(dashboard).status_code == 302


def test_a_code_one_time_step_away_is_accepted_but_not_two(cast: Cast) -> None:
    device, _codes = _enrol(Client(), cast.awarder)
    client = Client()
    _sign_in(client, cast.awarder)

    assert _verify(client, _code(device, steps=-3)).status_code == 400
    _wait_out_backoff(cast.awarder)
    assert _verify(client, _code(device, steps=1)).status_code == 302


def test_five_wrong_codes_lock_code_entry_even_for_the_right_one(cast: Cast) -> None:
    device, _codes = _enrol(Client(), cast.awarder)
    client = Client()
    _sign_in(client, cast.awarder)
    wrong = "123456" if _code(device) != "123456" else "654321"

    for _attempt in range(otp.FAILURE_LIMIT):
        _wait_out_backoff(cast.awarder)
        assert _verify(client, wrong).status_code == 400
    _wait_out_backoff(cast.awarder)
    refused = _verify(client, _code(device, steps=1))

    assert refused.status_code == 400
    assert "Too many wrong codes." in refused.content.decode()
    cache.clear()  # the lock has expired
    assert _verify(client, _code(device, steps=1)).status_code == 302


def test_a_recovery_code_signs_in_once(cast: Cast) -> None:
    _device, codes = _enrol(Client(), cast.awarder)
    dashboard = reverse("manage:dashboard", kwargs={"institution": "poly"})

    first = Client()
    _sign_in(first, cast.awarder)
    assert _verify(first, codes[0].upper().replace("-", " ")).status_code == 302
    assert first.get(dashboard).status_code == 200
    assert StaticToken.objects.filter(device__user=cast.awarder).count() == 9

    again = Client()
    _sign_in(again, cast.awarder)
    assert _verify(again, codes[0]).status_code == 400
    assert again.get(dashboard).status_code == 302


def test_new_recovery_codes_replace_the_old_ones(cast: Cast) -> None:
    client = Client()
    _device, old = _enrol(client, cast.awarder)

    response = client.post(reverse("manage:otp_recovery_codes"))
    new = re.findall(r"<li>([a-z2-7]{5}-[a-z2-7]{5})</li>", response.content.decode())

    assert len(new) == 10
    other = Client()
    _sign_in(other, cast.awarder)
    assert _verify(other, old[0]).status_code == 400
    _wait_out_backoff(cast.awarder)
    assert _verify(other, new[0]).status_code == 302


def test_turning_it_off_asks_for_a_current_code(cast: Cast) -> None:
    client = Client()
    device, _codes = _enrol(client, cast.awarder)
    url = reverse("manage:otp_remove")

    assert client.post(url, {"code": "abc"}).status_code == 400
    assert TOTPDevice.objects.filter(user=cast.awarder, confirmed=True).exists()
    _wait_out_backoff(cast.awarder)
    assert client.post(url, {"code": _code(device, steps=1)}).status_code == 302

    assert not TOTPDevice.objects.filter(user=cast.awarder).exists()
    assert not StaticDevice.objects.filter(user=cast.awarder).exists()
    fresh = Client()
    _sign_in(fresh, cast.awarder)
    assert fresh.get(reverse("manage:dashboard", kwargs={"institution": "poly"})).status_code == 200


def test_an_owner_requires_two_step_sign_in_for_their_institution_only(cast: Cast) -> None:
    owner = Client()
    owner.force_login(cast.owner)
    form = {
        "name_en": "Poly Technic",
        "name_zh": "理工学院",
        "country": "NZ",
        "brand_colour": "#1f4e79",
        "require_staff_totp": "on",
    }

    saved = owner.post(reverse("manage:settings", kwargs={"institution": "poly"}), form)

    assert saved.status_code == 302
    cast.institution.refresh_from_db()
    assert cast.institution.require_staff_totp
    event = AuditEvent.objects.get(
        institution=cast.institution, action=AuditAction.TWO_STEP_REQUIRED
    )
    assert event.actor == cast.owner
    awarder = Client()
    awarder.force_login(cast.awarder)
    awards = reverse("manage:awards", kwargs={"institution": "poly"})
    sent = awarder.get(awards)
    assert sent.status_code == 302
    assert sent["Location"] == f"{reverse('manage:otp_enrol')}?next=%2Fmanage%2Fpoly%2Fawards%2F"
    notice = awarder.get(sent["Location"]).content.decode()
    assert "Your institution requires two-step sign-in" in notice
    # The owner too, on their next page; a member of another institution is not affected.
    assert owner.get(awards).status_code == 302
    outsider = Client()
    outsider.force_login(cast.outsider)
    rival = reverse("manage:dashboard", kwargs={"institution": "rival-college"})
    assert outsider.get(rival).status_code == 200
    # Once set up (the session verified by the first code), the pages open.
    device, _codes = _enrol(awarder, cast.awarder)
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert awarder.get(awards).status_code == 200


def test_lifting_the_requirement_is_in_the_activity_log(cast: Cast) -> None:
    owner, poly = cast.owner, cast.institution
    services.update_institution(actor=owner, institution=poly, require_staff_totp=True)
    services.update_institution(actor=owner, institution=poly, require_staff_totp=False)
    services.update_institution(actor=owner, institution=poly, name_en="Poly")

    actions = list(
        AuditEvent.objects.filter(action__startswith="two_step.")
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )
    assert actions == [AuditAction.TWO_STEP_REQUIRED, AuditAction.TWO_STEP_NOT_REQUIRED]


def test_the_backpack_does_not_ask_for_the_code(cast: Cast) -> None:
    _enrol(Client(), cast.awarder)
    client = Client()
    client.force_login(cast.awarder)

    assert client.get(reverse("earners:backpack")).status_code == 200


def test_an_operator_with_an_authenticator_gives_its_code_before_the_admin(client: Client) -> None:
    operator = User.objects.create_superuser("operator@insignia.example", PASSWORD)
    device, _codes = _enrol(Client(), operator)
    client.force_login(operator)

    sent = client.get("/admin/", follow=True)
    assert sent.redirect_chain[-1][0].startswith(reverse("manage:otp_verify"))
    assert _verify(client, _code(device, steps=1), "/admin/")["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    without = User.objects.create_superuser("other-operator@insignia.example", PASSWORD)
    plain = Client()
    plain.force_login(without)
    assert plain.get("/admin/").status_code == 200


def test_another_persons_two_step_pages_touch_only_their_own(cast: Cast) -> None:
    device, _codes = _enrol(Client(), cast.owner)
    client = Client()
    client.force_login(cast.outsider)

    assert client.post(reverse("manage:otp_remove"), {"code": _code(device)}).status_code == 302
    assert client.post(reverse("manage:otp_recovery_codes")).status_code == 302
    client.post(reverse("manage:otp_enrol"), {"start": "1"})
    assert client.post(reverse("manage:otp_verify"), {"code": _code(device)}).status_code == 302

    assert TOTPDevice.objects.filter(user=cast.owner, confirmed=True).count() == 1
    assert StaticToken.objects.filter(device__user=cast.owner).count() == 10
    assert not TOTPDevice.objects.filter(user=cast.outsider, confirmed=True).exists()
    owner = Client()
    _sign_in(owner, cast.owner)
    assert owner.get(reverse("manage:dashboard", kwargs={"institution": "poly"})).status_code == 302


@pytest.mark.parametrize("name", ["otp_settings", "otp_enrol", "otp_verify", "otp_remove"])
def test_the_two_step_pages_render_in_simplified_chinese(cast: Cast, name: str) -> None:
    client = Client()
    _enrol(client, cast.owner)
    if name == "otp_enrol":
        client.force_login(cast.awarder)
        client.post(reverse("manage:otp_enrol"), {"start": "1"})
    elif name == "otp_verify":
        client = Client()
        _sign_in(client, cast.owner)

    response = client.get(reverse(f"manage:{name}"), HTTP_ACCEPT_LANGUAGE="zh-Hans")

    assert response.status_code == 200
    assert 'lang="zh-Hans"' in response.content.decode()


def test_nothing_outside_the_console_skips_the_code(cast: Cast) -> None:
    """A password alone opens none of the pages that act for the person: their API tokens,
    an app's consent page, the console home, or the API through the session."""
    device, _codes = _enrol(Client(), cast.awarder)
    app, _secret = oauth_services.register_client(
        actor=cast.owner,
        institution=cast.institution,
        name="Grading app",
        grant_type="authorization-code",
        scopes=["awards:read"],
        redirect_uris=["https://grading.example/callback"],
    )
    client = Client()
    _sign_in(client, cast.awarder)
    consent = (
        reverse("oauth2_provider:authorize")
        + "?"
        + urlencode(
            {
                "client_id": app.application.client_id,
                "response_type": "code",
                "redirect_uri": "https://grading.example/callback",
                "scope": "awards:read",
                "state": "s",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "S256",
            }
        )
    )
    for url in (reverse("manage:account_tokens"), consent, reverse("manage:home")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("manage:otp_verify")), url
    created = client.post(reverse("manage:account_tokens"), {"name": "sneaky"})
    assert created.status_code == 302
    assert not StaffToken.objects.filter(user=cast.awarder).exists()
    assert client.get("/api/v1/awards").status_code == 403

    _verify(client, _code(device, steps=1))
    assert client.get(reverse("manage:account_tokens")).status_code == 200
    assert client.get(consent).status_code == 200
    assert client.get("/api/v1/awards").status_code == 200
