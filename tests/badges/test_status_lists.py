"""Status lists: one entry per credential, random unique indexes, signed lists served cacheably."""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client, override_settings

from awarding.revocation import services as revocation_services
from badges.models import Award, StatusEntry, StatusList, StatusPurpose
from issuers import services as issuer_services
from openbadges import dataintegrity, multikey, ob3check, statuslist
from tests.badges.helpers import award, make_published, served_did_document
from tests.base import Cast, make_cast
from tests.ob3api.helpers import strict_errors


def verify_list(client: Client, listed: dict[str, Any]) -> bool:
    """Verify a status list credential's proof with the key the issuer's served DID document
    lists as an assertion method (the list's ``issuer`` is the DID itself)."""
    method_id = listed["proof"][0]["verificationMethod"]
    document = served_did_document(client, listed["issuer"])
    method = next(m for m in document["verificationMethod"] if m["id"] == method_id)
    assert method_id in document["assertionMethod"]
    public = multikey.public_key_from_bytes(
        multikey.decode_public_multibase(method["publicKeyMultibase"])
    )
    return bool(dataintegrity.verify(listed, public_key=public, verification_method=method_id))


def served_list(client: Client, url: str) -> tuple[dict[str, Any], Any]:
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200, response.content
    return json.loads(response.content), response


@pytest.mark.django_db
def test_a_credential_carries_one_suspension_entry_pointing_at_a_signed_list(
    cast: Cast, client: Client
) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))
    entry = badge.credential["credentialStatus"]

    assert isinstance(entry, dict)  # one object, as the OB 3.0 schema wants
    assert entry["type"] == "BitstringStatusListEntry"
    # The suspension entry: its bit is set while suspended and once revoked, so every
    # Bitstring Status List verifier sees both (docs/status-lists.md).
    assert entry["statusPurpose"] == "suspension"
    assert entry["statusListIndex"].isdigit()
    assert urlsplit(entry["statusListCredential"]).path.startswith("/status/")
    assert entry["id"] != entry["statusListCredential"]
    assert ob3check.check_credential(badge.credential) == []
    # The 1EdTech JSON schema (one CredentialStatus object) still accepts it.
    assert strict_errors(badge.credential, "achievementcredential.json") == []
    listed, response = served_list(client, entry["statusListCredential"])
    assert listed["id"] == entry["statusListCredential"]
    assert listed["issuer"] == badge.credential["issuer"]["id"]
    assert listed["credentialSubject"]["statusPurpose"] == "suspension"
    bits = statuslist.decode(listed["credentialSubject"]["encodedList"])
    assert len(bits) * 8 >= 131_072
    ttl = listed["credentialSubject"]["ttl"]
    assert response["Cache-Control"] == f"public, max-age={ttl // 1000}"
    assert ttl // 1000 <= 60
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Set-Cookie" not in response
    # Signed by the issuer's own key, found in the DID document the server serves.
    assert verify_list(client, listed)


@pytest.mark.django_db
def test_the_credential_status_document_gives_both_entries(cast: Cast, client: Client) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))

    document = json.loads(client.get(f"/credentials/{badge.pk}/status").content)

    purposes = [e["statusPurpose"] for e in document["credentialStatus"]]
    assert purposes == ["revocation", "suspension"]
    assert document["credentialStatus"][1] == badge.credential["credentialStatus"]
    revocation, _ = served_list(client, document["credentialStatus"][0]["statusListCredential"])
    assert revocation["credentialSubject"]["statusPurpose"] == "revocation"


@pytest.mark.django_db
def test_the_carried_bit_follows_suspension_reinstatement_and_revocation(
    cast: Cast, client: Client
) -> None:
    """What an independent verifier reads from the one entry a credential carries: set while
    suspended, clear once reinstated, set for good once revoked; the revocation list (found
    through ``/credentials/<id>/status``) tells a revocation from a suspension."""
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))
    carried = badge.credential["credentialStatus"]
    document = json.loads(client.get(f"/credentials/{badge.pk}/status").content)
    revocation = document["credentialStatus"][0]

    def bits() -> tuple[bool, bool]:
        return tuple(  # type: ignore[return-value]
            statuslist.check_entry(
                entry, served_list(client, entry["statusListCredential"])[0]
            ).is_set
            for entry in (carried, revocation)
        )

    seen = [bits()]
    revocation_services.suspend_award(actor=cast.editor, award=badge, reason="Under review")
    seen.append(bits())
    badge.refresh_from_db()
    revocation_services.reinstate_award(actor=cast.editor, award=badge, reason="Cleared")
    seen.append(bits())
    badge.refresh_from_db()
    revocation_services.revoke_award(actor=cast.editor, award=badge, reason="Error")
    seen.append(bits())

    # (carried suspension bit, revocation bit) after: issue, suspend, reinstate, revoke
    assert seen == [(False, False), (True, False), (False, False), (True, True)]


@pytest.mark.django_db
def test_the_served_list_changes_as_soon_as_the_revocation_commits(
    cast: Cast, client: Client
) -> None:
    version = make_published(cast.editor, cast.issuer)
    badges = [award(cast.awarder, version, email=f"l{n}@example.com") for n in range(3)]
    entry = badges[1].credential["credentialStatus"]
    before, _ = served_list(client, entry["statusListCredential"])

    revocation_services.revoke_award(actor=cast.editor, award=badges[1], reason="Error")
    after, _ = served_list(client, entry["statusListCredential"])

    assert not statuslist.check_entry(entry, before).is_set
    assert statuslist.check_entry(entry, after).is_set
    others = [b.credential["credentialStatus"] for b in (badges[0], badges[2])]
    assert not any(statuslist.check_entry(e, after).is_set for e in others)
    assert verify_list(client, after)


@pytest.mark.django_db
def test_an_unknown_list_is_404(client: Client) -> None:
    assert client.get("/status/00000000-0000-0000-0000-000000000000").status_code == 404


@pytest.mark.django_db
def test_an_outdated_list_is_never_served_when_it_cannot_be_signed(
    cast: Cast, client: Client
) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))
    url = badge.credential["credentialStatus"]["statusListCredential"]
    served_list(client, url)
    revocation_services.revoke_award(actor=cast.editor, award=badge, reason="Error")

    with override_settings(INSIGNIA_KEY_ENCRYPTION_KEY=""):
        response = client.get(urlsplit(url).path)

    assert response.status_code == 503
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_a_list_signed_with_a_withdrawn_key_is_signed_again(cast: Cast, client: Client) -> None:
    badge = award(cast.awarder, make_published(cast.editor, cast.issuer))
    url = badge.credential["credentialStatus"]["statusListCredential"]
    served_list(client, url)

    issuer_services.withdraw_signing_key(actor=cast.owner, key=badge.signing_key)
    listed, _ = served_list(client, url)

    assert verify_list(client, listed)


@pytest.mark.django_db
def test_the_database_refuses_two_awards_at_one_index(cast: Cast) -> None:
    version = make_published(cast.editor, cast.issuer)
    first, second = award(cast.awarder, version), award(cast.awarder, version)
    taken = StatusEntry.objects.get(award=first, purpose=StatusPurpose.REVOCATION)

    with pytest.raises(IntegrityError), transaction.atomic():
        StatusEntry.objects.filter(award=second, purpose=StatusPurpose.REVOCATION).update(
            index=taken.index
        )


@pytest.mark.django_db
def test_a_new_list_is_opened_when_one_is_full(cast: Cast) -> None:
    StatusList.objects.create(issuer=cast.issuer, purpose=StatusPurpose.SUSPENSION, capacity=2)
    version = make_published(cast.editor, cast.issuer)

    badges = [award(cast.awarder, version, email=f"l{n}@example.com") for n in range(4)]

    lists = {b.credential["credentialStatus"]["statusListCredential"] for b in badges}
    assert len(lists) == 2
    first = StatusList.objects.filter(
        issuer=cast.issuer, purpose=StatusPurpose.SUSPENSION
    ).order_by("created_at")[0]
    assert first.is_full
    assert first.entries.count() == 2


@pytest.mark.django_db(transaction=True)
def test_parallel_awards_get_unique_random_indexes() -> None:
    cast = make_cast()
    version = make_published(cast.editor, cast.issuer)
    errors: list[BaseException] = []
    per_thread, threads = 15, 4

    def work(n: int) -> None:
        try:
            for i in range(per_thread):
                award(cast.awarder, version, email=f"t{n}-{i}@example.com")
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    total = per_thread * threads
    assert Award.objects.count() == total
    indexes = list(
        StatusEntry.objects.filter(purpose=StatusPurpose.REVOCATION).values_list(
            "status_list_id", "index"
        )
    )
    assert len(indexes) == len(set(indexes)) == total
    spread = [index for _, index in indexes]
    # Random draws across 131,072 entries, not a sequence (herd privacy, §5.1).
    assert max(spread) - min(spread) > 10_000
    assert sorted(spread) != list(range(min(spread), min(spread) + total))
    print(f"\nparallel awards: {total} awards in {threads} threads, {len(set(indexes))} unique")  # noqa: T201
