"""Background work of the learner's side."""

from __future__ import annotations

import logging

from celery import shared_task

from earners.imports import selectors, services
from earners.viewcounts import services as viewcounts

log = logging.getLogger(__name__)


@shared_task
def recheck_imports() -> int:
    """Re-verify imported badges last checked more than a day ago (Celery beat, hourly)."""
    done = 0
    for imported in selectors.due_for_recheck():
        try:
            services.recheck_import(imported=imported)
            done += 1
        except Exception:  # one bad import must not stop the others
            log.warning("re-checking import %s failed", imported.pk, exc_info=True)
    return done


@shared_task
def flush_view_counts() -> int:
    """Move buffered badge and collection views into the database (Celery beat, every few
    seconds; ``earners.viewcounts``)."""
    return viewcounts.flush()
