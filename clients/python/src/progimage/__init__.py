"""ProgImage: a Python client for the ProgImage image service's HTTP API v1.

>>> from progimage import ProgImage
>>> with ProgImage("http://127.0.0.1:8080") as client:
...     image = client.images.upload("photo.jpg")
...     thumbnail = client.images.download(image.id, "webp", width=200)
"""

from . import webhooks
from ._client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, AsyncProgImage, ProgImage
from ._core import DEFAULT_BASE_URL
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    BadRequestError,
    ConflictError,
    FetchFailedError,
    IdempotencyConflictError,
    ImageTooLargeError,
    InternalError,
    InvalidImageError,
    InvalidJsonError,
    InvalidParameterError,
    JobTimeoutError,
    MediaTypeMismatchError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    ProgImageError,
    RangeNotSatisfiableError,
    RateLimitedError,
    ServerError,
    SignatureError,
    UnauthorizedError,
    UnavailableError,
    UnprocessableEntityError,
    UnsupportedFormatError,
    UnsupportedMediaTypeError,
    UrlNotAllowedError,
)
from ._version import __version__
from .models import Image, ImagePage, Job, JobItem, JobPage, Problem, Webhook

__all__ = [
    "__version__",
    "ProgImage",
    "AsyncProgImage",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "webhooks",
    "Image",
    "ImagePage",
    "Job",
    "JobItem",
    "JobPage",
    "Problem",
    "Webhook",
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
