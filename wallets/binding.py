"""The learner's credential bound to their wallet: a signed copy naming the holder's DID.

A wallet holds a credential about its holder: ``credentialSubject.id`` is the DID the wallet
proved it controls (OID4VCI 1.0 §8.2 key proof, or the LCW's DIDAuth). Everything else is the
award's credential as issued, including its ``credentialStatus``: revoking or suspending the
award flips the one status bit both point at, so the copy fails wherever the award fails. The
copy has its own ``id`` (``urn:uuid:…``) and is signed now with the issuer's active key; the
award itself is never changed.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from badges.models import Award
from badges.state import State, award_state
from issuers import keys
from issuers import services as issuer_services
from wallets.models import CredentialFormat

FORMATS = frozenset(CredentialFormat.values)


class UnsupportedFormat(ValueError):
    """A credential format this issuer does not offer."""


class NotDeliverable(ValueError):
    """The award cannot go to a wallet now (revoked, suspended or expired); the message is
    for the learner."""


def check_deliverable(award: Award) -> None:
    """Raise :class:`NotDeliverable` unless ``award`` is valid now: a wallet should never
    receive a copy that already fails."""
    state = award_state(award).state
    if state == State.REVOKED:
        raise NotDeliverable(_("This badge was revoked by its issuer, so it cannot be sent."))
    if state == State.SUSPENDED:
        raise NotDeliverable(_("This badge is suspended by its issuer, so it cannot be sent."))
    if state == State.EXPIRED:
        raise NotDeliverable(_("This badge has expired, so it cannot be sent."))


def unsigned_copy(award: Award, holder_id: str) -> dict[str, Any]:
    """The award's credential without its proof, with a new ``id`` and bound to ``holder_id``."""
    credential: dict[str, Any] = json.loads(award.credential_json)
    credential.pop("proof", None)
    credential["id"] = f"urn:uuid:{uuid.uuid4()}"
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        raise ValueError("the award's credential has no credentialSubject")
    # ``id`` first, as the award's own credentials put it when the learner proved a DID.
    credential["credentialSubject"] = {
        "id": holder_id,
        **{k: v for k, v in subject.items() if k != "id"},
    }
    return credential


def bound_credential(award: Award, holder_id: str, fmt: str) -> str:
    """``award``'s credential bound to ``holder_id`` and signed by its issuer's active key.

    ``fmt`` is ``"ldp_vc"`` (the JSON text of an eddsa-rdfc-2022 signed credential) or
    ``"jwt_vc_json"`` (an EdDSA VC-JWT compact JWS whose ``kid`` is in the issuer's DID
    document). Raises :class:`UnsupportedFormat` for any other format and
    ``issuers.keys.SigningUnavailable`` when nothing can be signed. Creates the issuer's
    first key if it has none (a write: call it inside a service's transaction).
    """
    if fmt not in FORMATS:
        raise UnsupportedFormat(fmt)
    credential = unsigned_copy(award, holder_id)
    key = issuer_services.active_key(award.issuer)
    if fmt == CredentialFormat.JWT_VC_JSON:
        return keys.sign_jwt(credential, key=key)
    signed = keys.signer(key)(credential, timezone.now())
    return json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
