"""Standard Webhooks signing and the POST of one message (https://www.standardwebhooks.com/,
"Signature scheme" and "Payload structure").

The headers are ``webhook-id`` (the event's ``msg_<hex>``, the same on every retry),
``webhook-timestamp`` (unix seconds of this attempt) and ``webhook-signature``: ``v1,`` and
the base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}`` keyed with the base64-decoded secret
after ``whsec_``. During a secret rotation the message is signed with both secrets,
space-separated, as the specification allows. The POST goes through the safe fetcher's
address rules (``verification.fetcher.post_json``): no internal address is ever reached.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from django.conf import settings

from events.models import Event
from verification import fetcher
from webhooks.models import Endpoint

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the specification's prefix, not a secret
SECRET_BYTES: Final = 32
#: How much of a receiver's answer is kept (the console shows it).
EXCERPT_BYTES: Final = 2048
USER_AGENT: Final = "Insignia-Webhooks/1 (+https://github.com/insignia; Standard Webhooks)"


def new_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signing_secrets(endpoint: Endpoint, now: datetime) -> list[str]:
    """The secrets a message to ``endpoint`` is signed with at ``now``: the current one, and
    the previous one during its grace period after a rotation."""
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        found.append(endpoint.previous_secret)
    return found


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature of ``body`` sent as ``msg_id`` at ``timestamp``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(signing: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with each secret of ``signing``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in signing),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def payload(event: Event) -> bytes:
    """The body: ``{"type", "timestamp", "data"}``; the same bytes on every retry."""
    document: dict[str, Any] = {
        "type": event.type,
        "timestamp": _iso(event.created_at),
        "data": event.data,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Outcome:
    """What one POST came to: the receiver's status and answer, or why there was none."""

    status_code: int | None
    response: str
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        """Standard Webhooks: any 2xx is success; everything else is tried again."""
        return self.status_code is not None and 200 <= self.status_code < 300


def send(url: str, signing: Sequence[str], msg_id: str, body: bytes) -> Outcome:
    """POST ``body`` to ``url`` signed with ``signing``; never raises for a network problem or
    a refused address (the outcome says what happened). The timestamp is the real time of
    the POST: receivers refuse one more than a few minutes off."""
    started = time.monotonic()
    sent = headers(signing, msg_id, int(time.time()), body)
    sent["User-Agent"] = USER_AGENT
    try:
        answer = fetcher.post_json(url, body, sent, deadline=settings.WEBHOOK_TIMEOUT_SECONDS)
    except fetcher.BlockedURL as error:
        return Outcome(None, "", f"refused: {error}"[:500], _elapsed(started))
    except fetcher.FetchError as error:
        return Outcome(None, "", f"{error.code}: {error}"[:500], _elapsed(started))
    excerpt = answer.body[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    failure = "" if 200 <= answer.status < 300 else f"HTTP {answer.status}"
    return Outcome(answer.status, excerpt, failure, _elapsed(started))


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
