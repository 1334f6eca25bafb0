"""A token bucket per socket: a steady rate of messages with room for short bursts."""

from __future__ import annotations

from collections.abc import Callable


class TokenBucket:
    """`rate` messages per second on average, up to `burst` at once.

    It reads a monotonic timer, not Peerview's clock: it measures how fast messages really
    arrive on the wire, which a frozen or simulated business clock must not change.
    """

    def __init__(self, *, rate: float, burst: int, timer: Callable[[], float]) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._timer = timer
        self._tokens = float(burst)
        self._last = timer()

    def take(self) -> bool:
        now = self._timer()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
