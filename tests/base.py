"""Personas and small builders shared by the tests.

The cast: an institution with an owner, an editor, an awarder and a viewer; an outsider who
owns another institution; and an anonymous employer who only reads public pages.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from PIL import Image as PILImage

from accounts.models import User
from issuers import services
from issuers.models import Institution, Issuer, Membership, Role

PASSWORD = "correct-horse-battery-staple"

# The type of pytest-django's django_capture_on_commit_callbacks fixture.
CaptureCallbacks = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def make_user(email: str, name: str = "") -> User:
    return User.objects.create_user(email, PASSWORD, name=name)


def make_institution(slug: str, owner: User, name_en: str = "", name_zh: str = "") -> Institution:
    return services.create_institution(
        slug=slug,
        name_en=name_en or slug.replace("-", " ").title(),
        name_zh=name_zh,
        country="NZ",
        owner=owner,
    )


def make_issuer(institution: Institution, slug: str, actor: User) -> Issuer:
    return services.create_issuer(
        actor=actor,
        institution=institution,
        slug=slug,
        name_en=slug.replace("-", " ").title(),
        name_zh="测试颁发单位",
        url=f"https://{slug}.example/",
        email=f"badges@{slug}.example",
    )


def add_member(
    user: User, institution: Institution, role: Role, issuer: Issuer | None = None
) -> Membership:
    return Membership.objects.create(user=user, institution=institution, issuer=issuer, role=role)


def png_bytes(width: int = 64, height: int = 64, colour: str = "#1f4e79") -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass
class Cast:
    institution: Institution
    issuer: Issuer
    owner: User
    editor: User
    awarder: User
    viewer: User
    outsider: User
    other_institution: Institution
    other_issuer: Issuer


def make_cast() -> Cast:
    owner = make_user("owner@poly.example", "Olivia Owner")
    institution = make_institution("poly", owner, "Poly Technic", "理工学院")
    issuer = make_issuer(institution, "poly-engineering", owner)
    editor = make_user("editor@poly.example", "Eddie Editor")
    awarder = make_user("awarder@poly.example", "Ava Awarder")
    viewer = make_user("viewer@poly.example", "Vic Viewer")
    add_member(editor, institution, Role.EDITOR)
    add_member(awarder, institution, Role.AWARDER)
    add_member(viewer, institution, Role.VIEWER)
    outsider = make_user("owner@rival.example", "Rita Rival")
    other_institution = make_institution("rival-college", outsider, "Rival College", "竞争学院")
    other_issuer = make_issuer(other_institution, "rival-arts", outsider)
    return Cast(
        institution=institution,
        issuer=issuer,
        owner=owner,
        editor=editor,
        awarder=awarder,
        viewer=viewer,
        outsider=outsider,
        other_institution=other_institution,
        other_issuer=other_issuer,
    )
