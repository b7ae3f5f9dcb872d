"""One budget for each verification: a wall-clock deadline and caps.

Every entry point (the page, the API, ``manage.py verify``, backpack imports, recognition
evidence and the re-check tasks) goes through :func:`verification.pipeline.verify`, which runs
inside :func:`verification`. While it runs:

- **deadline** (``INSIGNIA_VERIFY_DEADLINE``): every fetch gets what is left of it, at most its
  own ``INSIGNIA_FETCH_DEADLINE`` (:func:`fetch_allowance`, called by
  :func:`verification.fetcher.fetch`), and a canonicalization stops when it passes
  (:func:`openbadges.jsonld.time_limit`), so four slow endorsements no longer cost 4 x 10 s;
- **fetches** (``INSIGNIA_VERIFY_MAX_FETCHES``): a credential cannot make us download from a
  hundred places;
- **endorsements** (``INSIGNIA_VERIFY_MAX_ENDORSEMENTS``): counted over the whole run, the
  credentials inside a CLR included.

A run that goes over any of them ends with a ``budget`` check, status ``unknown`` and code
``too_slow`` or ``too_complex``; :func:`verification.report.verdict_of` turns it into the
verdict "took too long to check" or "too complex to check", never "valid".
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Final

from django.conf import settings
from django.utils.translation import gettext as _

from openbadges import jsonld
from verification.report import Check, Status

TOO_SLOW: Final = "too_slow"
TOO_COMPLEX: Final = "too_complex"


@dataclass
class Budget:
    """What one verification may still spend, and what it went over, if anything."""

    deadline: float  # time.monotonic()
    seconds: float
    max_fetches: int
    max_endorsements: int
    fetches: int = 0
    endorsements: int = 0
    over: str = ""  # "", TOO_SLOW or TOO_COMPLEX
    cause: str = ""  # "deadline", "fetches" or "endorsements"

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _exceed(self, over: str, cause: str) -> None:
        if not self.over:
            self.over, self.cause = over, cause

    def allow_fetch(self, seconds: float) -> float | None:
        """Seconds the next fetch may take, or ``None`` when the budget allows no more."""
        self.fetches += 1
        if self.fetches > self.max_fetches:
            self._exceed(TOO_COMPLEX, "fetches")
            return None
        left = self.remaining()
        if left <= 0:
            self._exceed(TOO_SLOW, "deadline")
            return None
        return min(seconds, left)

    def allow_endorsements(self, count: int) -> bool:
        """Take ``count`` endorsements to check; ``False`` (and over budget) past the cap."""
        self.endorsements += count
        if self.endorsements > self.max_endorsements:
            self._exceed(TOO_COMPLEX, "endorsements")
            return False
        return True

    def finish(self) -> None:
        """Past the deadline at the end means something was cut short: too slow."""
        if self.remaining() <= 0:
            self._exceed(TOO_SLOW, "deadline")

    def check(self) -> Check | None:
        """The ``budget`` check of a run that went over, in the reader's language."""
        if self.over == TOO_SLOW:
            message = _(
                "Checking this badge took longer than the %(seconds)s seconds this verifier "
                "allows, so it was stopped before it could be confirmed. Try again later."
            ) % {"seconds": f"{self.seconds:g}"}
            return Check("budget", Status.UNKNOWN, TOO_SLOW, message, self.cause)
        if self.over == TOO_COMPLEX and self.cause == "endorsements":
            message = _(
                "This badge carries more endorsements than this verifier checks "
                "(%(n)s at most), so it was not fully checked."
            ) % {"n": self.max_endorsements}
            return Check("budget", Status.UNKNOWN, TOO_COMPLEX, message, self.cause)
        if self.over == TOO_COMPLEX:
            message = _(
                "Checking this badge would need more downloads from other sites than this "
                "verifier allows (%(n)s at most), so it was not fully checked."
            ) % {"n": self.max_fetches}
            return Check("budget", Status.UNKNOWN, TOO_COMPLEX, message, self.cause)
        return None


_current: ContextVar[Budget | None] = ContextVar("verification_budget", default=None)


def current() -> Budget | None:
    """The budget of the verification running in this context, if any."""
    return _current.get()


@contextlib.contextmanager
def verification() -> Iterator[Budget]:
    """Run a verification under one budget; a verification inside another shares its budget."""
    running = _current.get()
    if running is not None:
        yield running
        return
    seconds = float(settings.INSIGNIA_VERIFY_DEADLINE)
    budget = Budget(
        deadline=time.monotonic() + seconds,
        seconds=seconds,
        max_fetches=int(settings.INSIGNIA_VERIFY_MAX_FETCHES),
        max_endorsements=int(settings.INSIGNIA_VERIFY_MAX_ENDORSEMENTS),
    )
    token = _current.set(budget)
    try:
        with jsonld.time_limit(budget.deadline):
            yield budget
    finally:
        _current.reset(token)


def fetch_allowance(seconds: float) -> float | None:
    """Seconds a fetch may take: ``seconds``, or less inside a verification (see module doc);
    ``None`` when the verification's budget allows no more fetches."""
    budget = _current.get()
    return seconds if budget is None else budget.allow_fetch(seconds)
