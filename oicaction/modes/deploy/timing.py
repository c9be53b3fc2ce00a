"""How long a deploy waits between polls of an activation and between looks at a lock; tests
shrink these (they monkeypatch DEFAULT_TIMING), users get the defaults."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    first_poll: float = 0.25  # first wait after asking for an activation, seconds
    poll_factor: float = 1.5
    max_poll: float = 5.0
    lock_tries: int = 5  # looks at a locked integration or connection before giving up
    lock_wait: float = 2.0  # first wait for a lock, doubled each time


DEFAULT_TIMING = Timing()


def poll_waits(timing: Timing, timeout: float) -> Iterator[float]:
    """Waits before each poll, growing, until `timeout` seconds have passed since the start;
    the last wait ends at the timeout, so the final poll happens then."""
    end = time.monotonic() + timeout
    wait = timing.first_poll
    while (left := end - time.monotonic()) > 0:
        yield min(wait, left)
        wait = min(wait * timing.poll_factor, timing.max_poll)


def lock_waits(timing: Timing) -> Iterator[float]:
    """Waits between looks at something locked: `lock_tries - 1` of them, doubling."""
    for attempt in range(timing.lock_tries - 1):
        yield timing.lock_wait * 2**attempt
