"""The fuzz pass's clock, seed, hang watchdog and tally (research S-30).

One budget for the whole pass, ``INSIGNIA_FUZZ_SECONDS`` (default 120), is split between the
targets by their share. A target runs Hypothesis in chunks of :data:`CHUNK` examples, each
chunk seeded (``@seed``) with ``INSIGNIA_FUZZ_SEED`` (default 30) plus the chunk's number,
until its share of the budget is spent: the same seed gives the same inputs, and a failure
prints the command that replays its chunk first.

Each input runs under a watchdog: past ``INSIGNIA_FUZZ_HANG_SECONDS`` (default 5) it is
stopped with :class:`Hang` (a ``BaseException``, so no ``except Exception`` in product code
can swallow it), and past four times that, if it is stuck in C code, ``faulthandler`` dumps
every thread and ends the process. This is the hang check of S-30, not a speed target: the
figures printed per target (examples, status counts, server errors, the slowest input) are
for the log.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Final, TypeVar

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

T = TypeVar("T")


def _number(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    try:
        return float(value) if value else default
    except ValueError:
        raise SystemExit(f"{name} must be a number of seconds, not {value!r}") from None


#: The whole pass, in seconds, shared by the targets.
TOTAL_SECONDS: Final = _number("INSIGNIA_FUZZ_SECONDS", 120.0)
#: One input running longer than this is a hang.
HANG_SECONDS: Final = _number("INSIGNIA_FUZZ_HANG_SECONDS", 5.0)
#: The first chunk's seed; chunk n is seeded SEED + n.
SEED: Final = int(_number("INSIGNIA_FUZZ_SEED", 30))
#: Examples per Hypothesis run (the budget is checked between runs).
CHUNK: Final = 25
#: The shares of the budget, by target; they add up to 1.
SHARES: Final = {
    "verify_api_schema": 0.14,
    "verify_api_hostile_json": 0.18,
    "verify_single_byte_mutations": 0.14,
    "verify_page_uploads": 0.10,
    "bulk_csv": 0.10,
    "bulk_xlsx": 0.14,
    "baked_png": 0.08,
    "baked_svg": 0.08,
    "status_list": 0.04,
}


class Hang(BaseException):
    """One input ran past :data:`HANG_SECONDS`."""


def describe(value: Any, limit: int = 300) -> str:
    """A short printable form of an input, for the tally and failure messages."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


@dataclass
class Tally:
    """What one target did: inputs run, outcomes, server errors and the slowest input."""

    name: str
    seconds: float
    examples: int = 0
    calls: int = 0
    server_errors: int = 0
    worst: float = 0.0
    worst_input: str = ""
    current: str = ""
    outcomes: Counter[str] = field(default_factory=Counter)

    def run(self, value: Any, call: Callable[[], T]) -> T:
        """``call()`` for the input ``value``, timed and under the hang watchdog."""
        self.current = describe(value)

        def stop(_signum: int, _frame: FrameType | None) -> None:
            raise Hang(
                f"{self.name}: one input ran for more than {HANG_SECONDS:g} s "
                f"(seed {SEED}): {self.current}"
            )

        previous = signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
        faulthandler.dump_traceback_later(HANG_SECONDS * 4, exit=True)
        started = time.perf_counter()
        try:
            return call()
        finally:
            elapsed = time.perf_counter() - started
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            faulthandler.cancel_dump_traceback_later()
            self.calls += 1
            if elapsed > self.worst:
                self.worst, self.worst_input = elapsed, self.current

    def outcome(self, label: str) -> None:
        self.outcomes[label] += 1

    def status(self, code: int) -> None:
        """Count an HTTP status (5xx are counted apart as well)."""
        self.outcomes[str(code)] += 1
        if code >= 500:
            self.server_errors += 1

    def summary(self) -> str:
        outcomes = ", ".join(f"{key} {count}" for key, count in sorted(self.outcomes.items()))
        return (
            f"[fuzz] {self.name}: {self.examples} examples ({self.calls} calls) in "
            f"{self.seconds:.1f} s (seed {SEED}); "
            f"5xx {self.server_errors}; worst {self.worst * 1000:.0f} ms per call; "
            f"outcomes: {outcomes or '-'}\n[fuzz]   slowest call: {self.worst_input}"
        )


def fuzz(name: str, strategy: st.SearchStrategy[T], check: Callable[[Tally, T], None]) -> Tally:
    """Run ``check(tally, example)`` on examples of ``strategy`` for ``name``'s share of the
    budget, chunk by chunk; print the tally at the end and, on a failure, how to replay it."""
    tally = Tally(name, TOTAL_SECONDS * SHARES[name])
    until = time.monotonic() + tally.seconds
    chunk_seed = SEED
    while True:

        @seed(chunk_seed)
        @settings(
            max_examples=CHUNK,
            deadline=None,
            database=None,
            derandomize=False,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        @given(strategy)
        def chunk(example: T) -> None:
            tally.examples += 1
            check(tally, example)

        try:
            chunk()
        except BaseException:
            print(  # noqa: T201 - how to replay the failure
                f"\n[fuzz] {name} FAILED in the chunk seeded {chunk_seed}; replay it with\n"
                f"[fuzz]   INSIGNIA_FUZZ=1 INSIGNIA_FUZZ_SEED={chunk_seed} "
                f"pytest -s tests/fuzz -k {name}\n[fuzz]   last input: {tally.current}\n"
                f"{tally.summary()}",
                file=sys.stderr,
            )
            raise
        chunk_seed += 1
        if time.monotonic() >= until:
            break
    print(f"\n{tally.summary()}")  # noqa: T201 - the figures S-30 asks for, with -s
    return tally
