"""What ``loadtest/locustfile.py`` needs, importable (and tested) without locust.

* :func:`refusal_kind`: the name a refusal is reported under in locust's tables
  (``429 budget``, ``429 diversity``, ``403 challenge``, ``403 block``).
* :class:`Pacer`: real seconds to wait before a behaviour's next request. Each simulated
  user starts at once (its behaviour's first request is sent immediately, wherever in the
  simulated month it falls) and then keeps the behaviour's gaps, compressed by the time
  scale and capped at ``max_gap`` real seconds, so every persona sends traffic within
  seconds at any time scale (a cap compresses long idle gaps: nights, days between
  sessions).
"""

from __future__ import annotations

from typing import Any


def refusal_kind(status: int, payload: Any) -> str | None:
    """``"429 budget"``, ``"429 diversity"``, ``"403 challenge"``, ``"403 block"``, or None
    for a response that is no gateway refusal."""
    error = payload.get("error") if isinstance(payload, dict) else None
    error = error if isinstance(error, dict) else {}
    kind, code = str(error.get("type") or ""), str(error.get("code") or "")
    if status == 429:
        return "429 diversity" if kind.endswith("diversity") else "429 budget"
    if status == 403:
        if code in ("challenge_required", "verification_required"):
            return "403 challenge"
        if code == "account_blocked":
            return "403 block"
    return None


class Pacer:
    """Maps a behaviour's simulated send times onto real time for one simulated user."""

    def __init__(self, time_scale: float, max_gap: float, now: float) -> None:
        if time_scale <= 0:
            raise ValueError("DG_TIME_SCALE must be > 0")
        self._scale = time_scale
        self._max_gap = max_gap
        self._last_sim: float | None = None
        self._due = now

    def delay(self, when: float, now: float) -> float:
        """Real seconds to wait before sending the request due at simulated ``when``."""
        if self._last_sim is not None:
            gap = max(0.0, when - self._last_sim) / self._scale
            if self._max_gap > 0:
                gap = min(gap, self._max_gap)
            self._due += gap
        self._last_sim = when
        self._due = max(self._due, now - 1.0)  # a slow response does not cause a burst
        return max(0.0, self._due - now)
