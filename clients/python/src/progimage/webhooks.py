"""Verifying the signed webhooks the service posts when a job finishes.

The ``ProgImage-Signature`` header is ``t=<unix seconds>,v1=<hex>`` where the hex is
HMAC-SHA256(secret, ``"<t>.<raw body>"``); it may carry several ``v1`` values (for instance
while a secret is being rotated), and any one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import List, Optional, Tuple, Union

from ._errors import SignatureError
from .models import Job

__all__ = ["verify", "sign", "SIGNATURE_HEADER", "DEFAULT_TOLERANCE"]

#: The header that carries the signature.
SIGNATURE_HEADER = "ProgImage-Signature"
#: How far (seconds) a signature's timestamp may be from now, either way.
DEFAULT_TOLERANCE = 300


def _as_bytes(value: Union[bytes, str]) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _signature(payload: bytes, secret: Union[bytes, str], timestamp: int) -> str:
    message = f"{timestamp}.".encode("ascii") + payload
    return hmac.new(_as_bytes(secret), message, hashlib.sha256).hexdigest()


def sign(
    payload: Union[bytes, str], secret: Union[bytes, str], timestamp: Optional[int] = None
) -> str:
    """A ``ProgImage-Signature`` value for ``payload``, as the service makes it (for tests)."""
    when = int(time.time()) if timestamp is None else timestamp
    return f"t={when},v1={_signature(_as_bytes(payload), secret, when)}"


def _parse_header(header: str) -> Tuple[int, List[str]]:
    timestamp: Optional[int] = None
    signatures: List[str] = []
    for part in header.split(","):
        key, separator, value = part.strip().partition("=")
        if not separator:
            raise SignatureError(f"malformed signature header element {part.strip()!r}")
        if key == "t":
            if timestamp is not None or not value.isdigit():
                raise SignatureError("malformed signature timestamp")
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value.lower())
        # Other schemes are skipped: a newer service may add them beside v1.
    if timestamp is None:
        raise SignatureError("the signature header has no timestamp (t=)")
    if not signatures:
        raise SignatureError("the signature header has no v1 signature")
    return timestamp, signatures


def verify(
    payload: Union[bytes, str],
    signature_header: Optional[str],
    secret: Union[bytes, str],
    tolerance: float = DEFAULT_TOLERANCE,
    now: Optional[float] = None,
) -> Job:
    """Check a webhook delivery and return its Job.

    ``payload`` must be the raw request body, byte for byte. Raises :class:`SignatureError`
    when the header is missing or malformed, its timestamp is more than ``tolerance`` seconds
    from ``now`` (a replay), or no ``v1`` signature matches.
    """
    if not signature_header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    timestamp, signatures = _parse_header(signature_header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError(
            f"signature timestamp {timestamp} is {abs(current - timestamp):.0f} s from now "
            f"(tolerance {tolerance} s)"
        )
    body = _as_bytes(payload)
    expected = _signature(body, secret, timestamp).encode("ascii")
    # Compare against every candidate without stopping early, each in constant time (as
    # bytes: compare_digest refuses non-ASCII str, and a header may contain anything).
    matched = False
    for candidate in signatures:
        matched |= hmac.compare_digest(expected, candidate.encode("utf-8"))
    if not matched:
        raise SignatureError("no signature matches the payload")
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise SignatureError("the signed payload is not JSON") from exc
    return Job.from_dict(document)
