"""Issuer signing keys: encrypted at rest, fail closed, rotate and withdraw."""

from __future__ import annotations

import base64
import io
import json
import logging

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import Client, override_settings

from accounts.models import User
from issuers import keys, services
from issuers.models import KeyStatus, SigningKey
from openbadges import multikey
from tests.badges.helpers import award, make_published, verify_served
from tests.base import Cast

pytestmark = pytest.mark.django_db

OTHER_KEK = base64.urlsafe_b64encode(b"another-32-byte-key-for-testing!").decode().rstrip("=")


def _secrets(key: SigningKey) -> list[str]:
    """Every way the private key could show up in text."""
    seed = multikey.private_bytes(keys.private_key(key))
    blob = bytes(key.encrypted_private_key)
    return [
        seed.hex(),
        base64.b64encode(seed).decode(),
        base64.urlsafe_b64encode(seed).decode().rstrip("="),
        multikey.secret_multibase(seed),
        blob.hex(),
        base64.b64encode(blob).decode(),
    ]


def test_the_private_key_is_stored_only_encrypted(cast: Cast) -> None:
    key = services.active_key(cast.issuer)
    seed = multikey.private_bytes(keys.private_key(key))
    blob = bytes(key.encrypted_private_key)
    assert seed not in blob
    assert len(blob) == 1 + 12 + 32 + 16  # version, nonce, ciphertext, GCM tag
    assert multikey.public_multibase(keys.private_key(key).public_key()) == (
        key.public_key_multibase
    )


def test_each_issuer_gets_its_own_key(cast: Cast) -> None:
    mine, theirs = services.active_key(cast.issuer), services.active_key(cast.other_issuer)
    assert mine.public_key_multibase != theirs.public_key_multibase
    assert services.active_key(cast.issuer) == mine


def test_a_ciphertext_moved_to_another_issuers_key_does_not_decrypt(cast: Cast) -> None:
    mine, theirs = services.active_key(cast.issuer), services.active_key(cast.other_issuer)
    SigningKey.objects.filter(pk=theirs.pk).update(
        encrypted_private_key=bytes(mine.encrypted_private_key)
    )
    theirs.refresh_from_db()
    with pytest.raises(keys.SigningUnavailable, match="cannot be decrypted"):
        keys.private_key(theirs)
    version = make_published(cast.outsider, cast.other_issuer)
    with pytest.raises(keys.SigningUnavailable):
        award(cast.outsider, version)
    assert not version.awards.exists()


def test_a_wrong_key_encryption_key_fails_closed(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    award(cast.awarder, version)
    with (
        override_settings(INSIGNIA_KEY_ENCRYPTION_KEY=OTHER_KEK),
        pytest.raises(keys.SigningUnavailable, match="cannot be decrypted"),
    ):
        award(cast.awarder, version)
    assert version.awards.count() == 1


@pytest.mark.parametrize("kek", [None, "", "too-short"])
def test_rotation_is_refused_without_a_usable_key_encryption_key(
    cast: Cast, kek: str | None
) -> None:
    with (
        override_settings(INSIGNIA_KEY_ENCRYPTION_KEY=kek),
        pytest.raises(keys.SigningUnavailable, match="INSIGNIA_KEY_ENCRYPTION_KEY"),
    ):
        services.rotate_issuer_key(actor=cast.owner, issuer=cast.issuer)
    assert not SigningKey.objects.exists()


def test_the_database_allows_one_active_key_per_issuer(cast: Cast) -> None:
    key = services.active_key(cast.issuer)
    seed, public = multikey.generate_ed25519()
    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(
            issuer=cast.issuer,
            key_id="key-9",
            public_key_multibase=multikey.public_multibase(public),
            encrypted_private_key=keys.encrypt_seed(seed, issuer_id=cast.issuer.pk, key_id="key-9"),
            status=KeyStatus.ACTIVE,
        )
    assert list(SigningKey.objects.filter(issuer=cast.issuer)) == [key]


def test_the_database_refuses_the_same_public_key_twice(cast: Cast) -> None:
    key = services.active_key(cast.issuer)
    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(
            issuer=cast.other_issuer,
            key_id="key-1",
            public_key_multibase=key.public_key_multibase,
            encrypted_private_key=bytes(key.encrypted_private_key),
            status=KeyStatus.ACTIVE,
        )


def test_after_rotation_old_and_new_credentials_both_verify_until_the_old_key_is_withdrawn(
    client: Client, cast: Cast
) -> None:
    version = make_published(cast.editor, cast.issuer)
    before = award(cast.awarder, version)
    new_key = services.rotate_issuer_key(actor=cast.owner, issuer=cast.issuer)
    after = award(cast.awarder, version)

    assert (before.signing_key.key_id, after.signing_key.key_id) == ("key-1", "key-2")
    assert after.signing_key == new_key
    assert verify_served(client, before.credential)
    assert verify_served(client, after.credential)

    services.withdraw_signing_key(actor=cast.owner, key=before.signing_key)

    assert not verify_served(client, before.credential)
    assert verify_served(client, after.credential)
    statuses = dict(SigningKey.objects.values_list("key_id", "status"))
    assert statuses == {"key-1": KeyStatus.WITHDRAWN, "key-2": KeyStatus.ACTIVE}


def test_withdrawing_the_active_key_makes_the_next_award_use_a_new_one(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    first = award(cast.awarder, version)
    services.withdraw_signing_key(actor=cast.owner, key=first.signing_key)
    second = award(cast.awarder, version)
    assert second.signing_key.key_id == "key-2"
    with pytest.raises(ValidationError, match="already been withdrawn"):
        services.withdraw_signing_key(actor=cast.owner, key=first.signing_key)


@pytest.mark.parametrize("role", ["editor", "awarder", "outsider"])
def test_only_owners_rotate_or_withdraw(cast: Cast, role: str) -> None:
    key = services.active_key(cast.issuer)
    actor: User = getattr(cast, role)
    with pytest.raises(PermissionDenied):
        services.rotate_issuer_key(actor=actor, issuer=cast.issuer)
    with pytest.raises(PermissionDenied):
        services.withdraw_signing_key(actor=actor, key=key)
    key.refresh_from_db()
    assert key.status == KeyStatus.ACTIVE


def test_the_rotate_key_command_retires_the_active_key(cast: Cast) -> None:
    services.active_key(cast.issuer)
    out = io.StringIO()
    call_command("rotate_key", "--issuer", cast.issuer.slug, stdout=out)
    assert out.getvalue().strip().endswith(":issuers:poly-engineering#key-2")
    statuses = dict(SigningKey.objects.filter(issuer=cast.issuer).values_list("key_id", "status"))
    assert statuses == {"key-1": KeyStatus.RETIRED, "key-2": KeyStatus.ACTIVE}
    with pytest.raises(CommandError, match="No issuer"):
        call_command("rotate_key", "--issuer", "nope")


def test_no_private_key_material_in_pages_logs_or_the_admin(
    client: Client, cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    version = make_published(cast.editor, cast.issuer)
    issued = award(cast.awarder, version)
    services.rotate_issuer_key(actor=cast.owner, issuer=cast.issuer)
    bodies = [
        client.get(f"/issuers/{cast.issuer.slug}/did.json").content,
        client.get(f"/issuers/{cast.issuer.slug}").content,
        client.get(f"/issuers/{cast.issuer.slug}", HTTP_ACCEPT="application/json").content,
        client.get(f"/credentials/{issued.pk}").content,
        client.get(f"/credentials/{issued.pk}.json").content,
    ]
    client.force_login(cast.owner)
    bodies.append(client.get(f"/manage/poly/issuers/{cast.issuer.slug}/keys/").content)
    bodies.append(client.get("/manage/poly/audit/").content)
    operator = User.objects.create_superuser("operator@insignia.example", "pw-operator-123")
    client.force_login(operator)
    for url in (
        "/admin/badges/award/",
        f"/admin/badges/award/{issued.pk}/change/",
        "/admin/issuers/auditevent/",
        "/admin/issuers/issuer/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        bodies.append(response.content)
    text = "\n".join(b.decode() for b in bodies) + caplog.text
    text += json.dumps(list(SigningKey.objects.values("key_id", "public_key_multibase")))
    for key in SigningKey.objects.all():
        for secret in _secrets(key):
            assert secret not in text
    assert "z6Mk" in text  # the public keys are there; only the private halves are not
