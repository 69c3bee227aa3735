"""When and how long to wait before trying a request again."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

#: Statuses that mean "not now": the server did no work and asks to come back later.
RETRYABLE_STATUSES = frozenset({429, 503})


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or ``None``."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter, capped, honouring the server's ``Retry-After``.

    The n-th retry (0-based) waits a random time in ``[d/2, d]`` with
    ``d = min(max_delay, base_delay * 2**n)``; a ``Retry-After`` replaces that delay, capped
    at ``max_retry_after`` so a confused server cannot stall the caller for hours.
    """

    max_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    random: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, retry_index: int, retry_after: Optional[float] = None) -> float:
        """Seconds to wait before retry number ``retry_index`` (0-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * (2.0**retry_index))
        return ceiling * (0.5 + self.random() / 2)
