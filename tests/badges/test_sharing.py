"""The public badge page and what a learner shares from it: live status, LinkedIn links,
Open Graph cards for crawlers, baked PNG/SVG downloads with the exact signed credential, the
preview and WeChat cards, and badge images uploaded as SVG."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
from django.test import Client, override_settings
from django.utils import timezone
from PIL import Image

from achievements import services
from badges.models import Award
from issuers import services as issuer_services
from openbadges import baking
from tests.badges.helpers import award, make_published, verify_served
from tests.base import Cast, png_bytes

pytestmark = pytest.mark.django_db

BASE = "https://badges.poly.example"


def meta(html: str, key: str) -> str:
    """The content of ``<meta property|name="key">``, unescaped like a crawler reads it."""
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    assert match, f"no {key} tag"
    return unescape(match.group(1))


def link(html: str, text: str) -> str:
    match = re.search(rf'href="([^"]+)"[^>]*>{re.escape(text)}', html)
    assert match, f"no link {text!r}"
    href = unescape(match.group(1))
    if "/linkedin/" in href:  # the LinkedIn buttons go through a counting redirect (analytics)
        href = Client().get(href)["Location"]
    return href


@pytest.fixture
def issued(cast: Cast) -> Award:
    with override_settings(INSIGNIA_BASE_URL=BASE):
        version = make_published(cast.editor, cast.issuer, image=png_bytes(300, 300, "#aa3300"))
        return award(cast.awarder, version, name="Lee Learner", narrative="Did it well.")


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_the_badge_page_shows_the_badge_its_issuer_and_that_it_is_valid(
    client: Client, issued: Award
) -> None:
    html = client.get(f"/credentials/{issued.pk}").content.decode()

    assert "<h1>Data Literacy</h1>" in html
    # the learner's name only once they choose to show it (issue 20, D13)
    assert "Awarded to a learner identified by a hashed e-mail address" in html
    assert "Poly Engineering" in html
    assert "bp-status-valid" in html and "Valid" in html
    verify = link(html, "Verify this badge")
    assert parse_qs(urlsplit(verify).query)["url"] == [f"{BASE}/credentials/{issued.pk}"]
    assert f'href="/credentials/{issued.pk}.png"' in html
    assert f'href="/credentials/{issued.pk}.svg"' in html
    assert f'href="/credentials/{issued.pk}.json"' in html
    assert f'<img src="/credentials/{issued.pk}/qr.svg"' in html  # the QR code, loaded lazily
    assert "learner@example.com" not in html.lower()


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_the_qr_code_opens_the_badge_page_and_any_cache_may_keep_it(
    client: Client, issued: Award
) -> None:
    response = client.get(f"/credentials/{issued.pk}/qr.svg")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "sandbox" in response["Content-Security-Policy"]
    assert response["Cache-Control"].startswith("public")
    # Exactly the symbol of the badge page's URL, marked so that scans are counted.
    expected = io.BytesIO()
    segno.make(f"{BASE}/credentials/{issued.pk}?src=qr", error="m").save(
        expected, kind="svg", scale=4, border=2, dark="#111111", light="#ffffff", xmldecl=False
    )
    assert response.content == expected.getvalue()
    assert response.content.startswith(b"<svg") and b"<script" not in response.content
    again = client.get(f"/credentials/{issued.pk}/qr.svg", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    missing = "/credentials/00000000-0000-4000-8000-000000000000/qr.svg"
    assert client.get(missing).status_code == 404


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_the_badge_page_is_in_chinese_for_a_chinese_reader(client: Client, issued: Award) -> None:
    html = client.get(f"/credentials/{issued.pk}", HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()

    assert "验证此徽章" in html
    assert "添加到领英个人资料" in html
    assert 'class="bp-wechat" open' in html  # the WeChat card is offered first


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_an_expired_badge_says_so_on_every_view(client: Client, cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer, validity_days=1)
    expired = award(cast.awarder, version)
    Award.objects.filter(pk=expired.pk).update(valid_until=timezone.now() - timedelta(days=2))

    html = client.get(f"/credentials/{expired.pk}").content.decode()

    assert "bp-status-expired" in html
    assert "This badge expired on" in html


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_open_graph_and_twitter_cards_let_crawlers_show_the_badge(
    client: Client, issued: Award
) -> None:
    html = client.get(
        f"/credentials/{issued.pk}", HTTP_USER_AGENT="LinkedInBot/1.0 (compatible)"
    ).content.decode()

    assert meta(html, "og:title") == "Data Literacy"
    assert meta(html, "og:url") == f"{BASE}/credentials/{issued.pk}"
    assert meta(html, "og:image") == f"{BASE}/credentials/{issued.pk}/preview.png"
    assert (meta(html, "og:image:width"), meta(html, "og:image:height")) == ("1200", "627")
    assert "“Data Literacy”, issued by Poly Engineering" in meta(html, "og:description")
    assert "Lee Learner" not in meta(html, "og:description")  # not chosen yet (D13)
    assert meta(html, "og:image:alt")
    assert meta(html, "twitter:card") == "summary_large_image"
    assert meta(html, "twitter:image") == meta(html, "og:image")


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_linkedin_add_to_profile_is_prefilled_with_every_field(
    client: Client, cast: Cast, issued: Award
) -> None:
    html = client.get(f"/credentials/{issued.pk}").content.decode()
    url = urlsplit(link(html, "Add to LinkedIn profile"))
    params = {k: v[0] for k, v in parse_qs(url.query).items()}

    assert (url.netloc, url.path) == ("www.linkedin.com", "/profile/add")
    assert params["startTask"] == "CERTIFICATION_NAME"
    assert params["name"] == "Data Literacy"
    assert params["organizationName"] == "Poly Engineering"
    assert "organizationId" not in params
    assert (params["issueYear"], params["issueMonth"]) == (
        str(issued.valid_from.year),
        str(issued.valid_from.month),
    )
    assert issued.valid_until is not None
    assert (params["expirationYear"], params["expirationMonth"]) == (
        str(issued.valid_until.year),
        str(issued.valid_until.month),
    )
    assert params["certUrl"] == f"{BASE}/credentials/{issued.pk}"
    assert params["certId"] == str(issued.pk)
    share = urlsplit(link(html, "Post on LinkedIn"))
    assert share.path == "/sharing/share-offsite/"
    assert parse_qs(share.query)["url"] == [f"{BASE}/credentials/{issued.pk}"]


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_an_issuers_linkedin_organisation_id_replaces_its_name(
    client: Client, cast: Cast, issued: Award
) -> None:
    issuer_services.update_issuer(
        actor=cast.owner, issuer=cast.issuer, linkedin_organization_id="1337"
    )

    html = client.get(f"/credentials/{issued.pk}").content.decode()
    params = parse_qs(urlsplit(link(html, "Add to LinkedIn profile")).query)

    assert params["organizationId"] == ["1337"]
    assert "organizationName" not in params


def test_a_linkedin_organisation_id_must_be_digits(client: Client, cast: Cast) -> None:
    client.force_login(cast.owner)
    response = client.post(
        f"/manage/poly/issuers/{cast.issuer.slug}/edit/",
        {
            "name_en": "Poly Engineering",
            "url": "https://poly.example/",
            "email": "badges@poly.example",
            "linkedin_organization_id": "acme-corp",
        },
    )

    assert "digits only" in response.content.decode()
    cast.issuer.refresh_from_db()
    assert cast.issuer.linkedin_organization_id == ""


@override_settings(INSIGNIA_BASE_URL=BASE)
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_the_baked_download_carries_the_exact_signed_credential(
    client: Client, issued: Award, fmt: str
) -> None:
    response = client.get(f"/credentials/{issued.pk}.{fmt}")

    assert response["Content-Type"] == f"image/{'png' if fmt == 'png' else 'svg+xml'}"
    assert response["X-Content-Type-Options"] == "nosniff"
    found = baking.extract(response.content)
    assert found is not None and found.version == "ob3"
    assert found.payload == issued.credential_json
    assert verify_served(client, json.loads(found.payload))


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_the_baked_png_is_the_stored_image_with_one_chunk_spliced_in(
    client: Client, issued: Award
) -> None:
    stored = bytes(issued.achievement_version.image.data)  # type: ignore[union-attr]

    baked = client.get(f"/credentials/{issued.pk}.png").content

    assert baked.startswith(stored[:33]) and baked.endswith(stored[33:])
    with Image.open(io.BytesIO(baked)) as image:
        assert image.size == (300, 300)


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_baked_images_are_cacheable_and_revalidate_with_their_etag(
    client: Client, issued: Award
) -> None:
    first = client.get(f"/credentials/{issued.pk}.png")
    again = client.get(f"/credentials/{issued.pk}.png", HTTP_IF_NONE_MATCH=first["ETag"])

    assert "max-age" in first["Cache-Control"] and "public" in first["Cache-Control"]
    assert again.status_code == 304
    assert again.content == b""


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_an_svg_badge_is_served_sandboxed(client: Client, issued: Award) -> None:
    response = client.get(f"/credentials/{issued.pk}.svg")

    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "script-src" not in policy


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_a_badge_without_an_image_still_bakes_into_a_generated_emblem(
    client: Client, cast: Cast
) -> None:
    plain = award(cast.awarder, make_published(cast.editor, cast.issuer, slug="plain"))

    for fmt in ("png", "svg"):
        found = baking.extract(client.get(f"/credentials/{plain.pk}.{fmt}").content)
        assert found is not None and found.payload == plain.credential_json


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_the_preview_card_is_a_1200_by_627_png(client: Client, issued: Award) -> None:
    response = client.get(f"/credentials/{issued.pk}/preview.png")

    assert response["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as card:
        assert card.size == (1200, 627)
        # The brand panel on the left is the institution's colour.
        assert card.convert("RGB").getpixel((10, 10)) == (31, 78, 121)


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_the_wechat_card_is_a_portrait_png_with_a_qr_code(client: Client, issued: Award) -> None:
    response = client.get(f"/credentials/{issued.pk}/wechat.png", HTTP_ACCEPT_LANGUAGE="zh-Hans")

    with Image.open(io.BytesIO(response.content)) as card:
        assert card.size == (750, 1000)
        # The lower half is the QR code: black and white modules, nothing in between.
        code = card.convert("L").crop((245, 610, 505, 870))
        shades = code.getcolors()
        assert shades is not None and {shade for _, shade in shades} == {0, 255}
        assert 0.3 < sum(n for n, shade in shades if shade == 0) / (260 * 260) < 0.7


@override_settings(INSIGNIA_BASE_URL=BASE)
def test_achievement_and_issuer_pages_have_share_cards(
    client: Client, cast: Cast, issued: Award
) -> None:
    achievement_id = issued.achievement_version.achievement_id
    achievement_html = client.get(f"/achievements/{achievement_id}").content.decode()
    issuer_html = client.get(f"/issuers/{cast.issuer.slug}").content.decode()

    assert meta(achievement_html, "og:title") == "Data Literacy"
    assert meta(achievement_html, "og:image") == f"{BASE}/achievements/{achievement_id}/preview.png"
    assert meta(issuer_html, "og:title") == "Poly Engineering"
    assert meta(issuer_html, "og:image") == f"{BASE}/issuers/{cast.issuer.slug}/preview.png"
    for path in (
        f"/achievements/{achievement_id}/preview.png",
        "/issuers/poly-engineering/preview.png",
    ):
        with Image.open(io.BytesIO(client.get(path).content)) as card:
            assert card.size == (1200, 627)


def test_a_staff_svg_badge_image_is_stored_without_scripts(cast: Cast) -> None:
    hostile = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" onload="alert(1)">'
        b'<script>alert(2)</script><circle cx="60" cy="60" r="50" fill="#0b6e4f"/>'
        b'<foreignObject><iframe src="https://evil.example"/></foreignObject></svg>'
    )

    version = make_published(cast.editor, cast.issuer, image=hostile)

    stored = version.image
    assert stored is not None and stored.content_type == "image/svg+xml"
    assert (stored.width, stored.height) == (120, 120)
    data = bytes(stored.data)
    assert b"<circle" in data
    assert b"alert" not in data and b"evil" not in data and b"foreignObject" not in data


def test_a_jpeg_badge_image_is_refused(cast: Cast) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="JPEG")

    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="PNG or SVG"):
        services.create_achievement(
            actor=cast.editor,
            issuer=cast.issuer,
            slug="jpeg",
            name_en="J",
            image=buffer.getvalue(),
        )


def test_an_uploaded_svg_is_served_with_a_restrictive_policy(client: Client, cast: Cast) -> None:
    version = make_published(
        cast.editor,
        cast.issuer,
        image=b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>',
    )

    response = client.get(f"/images/{version.image_id}")

    assert response["Content-Type"] == "image/svg+xml"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
