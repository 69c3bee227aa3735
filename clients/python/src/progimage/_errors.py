"""The exceptions the SDK raises: one class per problem `code` of the API, grouped by status."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type

from ._retry import parse_retry_after

__all__ = [
    "ProgImageError",
    "APIError",
    "APIConnectionError",
    "APITimeoutError",
    "JobTimeoutError",
    "SignatureError",
    "BadRequestError",
    "InvalidParameterError",
    "InvalidJsonError",
    "UrlNotAllowedError",
    "UnauthorizedError",
    "NotFoundError",
    "UnsupportedFormatError",
    "MethodNotAllowedError",
    "ConflictError",
    "IdempotencyConflictError",
    "PayloadTooLargeError",
    "UnsupportedMediaTypeError",
    "MediaTypeMismatchError",
    "RangeNotSatisfiableError",
    "UnprocessableEntityError",
    "InvalidImageError",
    "ImageTooLargeError",
    "FetchFailedError",
    "RateLimitedError",
    "ServerError",
    "InternalError",
    "UnavailableError",
]


class ProgImageError(Exception):
    """Base class of every error the SDK raises.

    The attributes describe the server's problem document when there was one; they are
    ``None`` for errors raised before or without an answer (connection failures, timeouts,
    bad webhook signatures).
    """

    status: Optional[int]
    code: Optional[str]
    detail: Optional[str]
    param: Optional[str]
    request_id: Optional[str]
    problem: Optional[Dict[str, Any]]

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        code: Optional[str] = None,
        detail: Optional[str] = None,
        param: Optional[str] = None,
        request_id: Optional[str] = None,
        problem: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.detail = detail
        self.param = param
        self.request_id = request_id
        self.problem = problem


class APIError(ProgImageError):
    """The server answered with an error status (a 4xx or 5xx problem document)."""

    status: int
    headers: Mapping[str, str]

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: Optional[str],
        detail: Optional[str],
        param: Optional[str],
        request_id: Optional[str],
        problem: Dict[str, Any],
        headers: Mapping[str, str],
    ) -> None:
        super().__init__(
            message,
            status=status,
            code=code,
            detail=detail,
            param=param,
            request_id=request_id,
            problem=problem,
        )
        self.headers = headers


class APIConnectionError(ProgImageError):
    """The server could not be reached, or the connection failed mid-request."""


class APITimeoutError(APIConnectionError):
    """The request took longer than the client's timeout."""


class JobTimeoutError(ProgImageError, TimeoutError):
    """``jobs.wait`` gave up before the job finished; ``job`` is its last known state."""

    def __init__(self, message: str, job: Any) -> None:
        super().__init__(message)
        self.job = job


class SignatureError(ProgImageError):
    """A webhook's ``ProgImage-Signature`` is missing, malformed, stale or does not match."""


class BadRequestError(APIError):
    """400: the request was wrong."""


class InvalidParameterError(BadRequestError):
    """400 ``invalid_parameter``: a query parameter, JSON field or path value is wrong."""


class InvalidJsonError(BadRequestError):
    """400 ``invalid_json``: the body is not the JSON asked for."""


class UrlNotAllowedError(BadRequestError):
    """400 ``url_not_allowed``: a ``url`` or ``webhook_url`` the SSRF rules refuse."""


class UnauthorizedError(APIError):
    """401 ``unauthorized``: a missing or unknown API key."""


class NotFoundError(APIError):
    """404 ``not_found``: an unknown id, or another tenant's."""


class UnsupportedFormatError(NotFoundError):
    """404 ``unsupported_format``: an unknown format extension in a path."""


class MethodNotAllowedError(APIError):
    """405 ``method_not_allowed``."""


class ConflictError(APIError):
    """409: the request conflicts with the server's state."""


class IdempotencyConflictError(ConflictError):
    """409 ``idempotency_conflict``: the same ``Idempotency-Key`` with another body."""


class PayloadTooLargeError(APIError):
    """413 ``payload_too_large``: over the byte limit (upload or fetch)."""


class UnsupportedMediaTypeError(APIError):
    """415 ``unsupported_media_type``: a content type or image format the service does not take."""


class MediaTypeMismatchError(UnsupportedMediaTypeError):
    """415 ``media_type_mismatch``: Content-Type, filename extension and bytes disagree."""


class RangeNotSatisfiableError(APIError):
    """416 ``range_not_satisfiable``."""


class UnprocessableEntityError(APIError):
    """422: the request was well-formed but its image or source could not be used."""


class InvalidImageError(UnprocessableEntityError):
    """422 ``invalid_image``: empty, unrecognisable or undecodable bytes."""


class ImageTooLargeError(UnprocessableEntityError):
    """422 ``image_too_large``: over the pixel or side limits (input, a step or the output)."""


class FetchFailedError(UnprocessableEntityError):
    """422 ``fetch_failed``: a remote source was unreachable, answered non-2xx or timed out."""

    @property
    def upstream_status(self) -> Optional[int]:
        """The remote server's HTTP status, when it answered at all."""
        value = (self.problem or {}).get("upstream_status")
        return value if isinstance(value, int) else None


class RateLimitedError(APIError):
    """429 ``rate_limited``; ``retry_after`` is the server's advice in seconds."""

    @property
    def retry_after(self) -> Optional[float]:
        """Seconds the server asked to wait, from ``Retry-After``."""
        return parse_retry_after(self.headers.get("retry-after"))


class ServerError(APIError):
    """5xx: the server failed."""


class InternalError(ServerError):
    """500 ``internal``: a server bug; ``request_id`` identifies it in the server's logs."""


class UnavailableError(ServerError):
    """503 ``unavailable``: overloaded or a dependency is down."""

    @property
    def retry_after(self) -> Optional[float]:
        """Seconds the server asked to wait, from ``Retry-After``."""
        return parse_retry_after(self.headers.get("retry-after"))


_BY_CODE: Dict[str, Type[APIError]] = {
    "invalid_parameter": InvalidParameterError,
    "invalid_json": InvalidJsonError,
    "url_not_allowed": UrlNotAllowedError,
    "unauthorized": UnauthorizedError,
    "not_found": NotFoundError,
    "unsupported_format": UnsupportedFormatError,
    "method_not_allowed": MethodNotAllowedError,
    "idempotency_conflict": IdempotencyConflictError,
    "payload_too_large": PayloadTooLargeError,
    "unsupported_media_type": UnsupportedMediaTypeError,
    "media_type_mismatch": MediaTypeMismatchError,
    "range_not_satisfiable": RangeNotSatisfiableError,
    "invalid_image": InvalidImageError,
    "image_too_large": ImageTooLargeError,
    "fetch_failed": FetchFailedError,
    "rate_limited": RateLimitedError,
    "internal": InternalError,
    "unavailable": UnavailableError,
}

# For a code this SDK does not know yet (or a body that is not a problem document).
_BY_STATUS: Dict[int, Type[APIError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    416: RangeNotSatisfiableError,
    422: UnprocessableEntityError,
    429: RateLimitedError,
    500: InternalError,
    503: UnavailableError,
}


def error_class(status: int, code: Optional[str]) -> Type[APIError]:
    """The exception class for an error answer: by problem code first, then by status."""
    if code is not None and code in _BY_CODE:
        return _BY_CODE[code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else APIError
