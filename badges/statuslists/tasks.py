"""Background signing of status lists after a status change commits, so the request for a list
finds it signed. Safe to run twice or late: a list already current is left alone, and a
request that comes first signs it itself (``badges.statuslists.serving``).

Each task imports its service inside its body: the service module enqueues these tasks after
commit, so it imports this module (the HackSoft Styleguide's idiom for on-commit tasks).
"""

from __future__ import annotations

import uuid

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sign_lists(status_list_ids: list[str]) -> int:
    """Compress and sign each of these lists that is behind its stored bits."""
    from badges.statuslists import serving

    return serving.sign_lists(uuid.UUID(status_list_id) for status_list_id in status_list_ids)


@shared_task
def sign_due_lists() -> int:
    """Beat task: sign again the lists whose signature is due (``RESIGN_AFTER``), so no
    request waits for it."""
    from badges.statuslists import serving

    return serving.sign_due_lists()
