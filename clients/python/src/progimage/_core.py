"""The client's logic, free of IO: every call is a generator ("flow") of effects.

A flow yields :class:`Send` (perform this HTTP request, send me the response or throw the
transport error into me) and :class:`Sleep` (wait this long), and returns the call's result.
The sync and async clients only drive flows with their own transport and sleep, so request
building, retries, error mapping, response parsing and job polling exist once.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    IO,
    Any,
    Dict,
    Generator,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
)
from urllib.parse import quote, urlencode

import httpx

from . import _transformations
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    JobTimeoutError,
    ProgImageError,
    error_class,
)
from ._retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after
from .models import Image, ImagePage, Job, JobPage

T = TypeVar("T")

#: Where the client talks to when neither an argument nor ``PROGIMAGE_URL`` says otherwise.
DEFAULT_BASE_URL = "http://127.0.0.1:8080"

#: Anything an image can be uploaded from: bytes, a path, or a binary file object.
ImageSource = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", IO[bytes]]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

_CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "svg": "image/svg+xml",
}


@dataclass(frozen=True)
class Send:
    """Effect: perform one HTTP request (relative to the client's base URL)."""

    method: str
    path: str
    params: Sequence[Tuple[str, str]] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    content: Optional[bytes] = None
    json: Any = None
    #: Whether the request may be repeated safely (decides retries).
    idempotent: bool = False


@dataclass(frozen=True)
class Sleep:
    """Effect: wait this many seconds before going on."""

    seconds: float


Flow = Generator[Union[Send, Sleep], Any, T]


def _segment(value: str) -> str:
    """A path segment, escaped so that no id can reach another route."""
    if not isinstance(value, str) or not value:
        raise TypeError("an id must be a non-empty string")
    return quote(value, safe="")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise ProgImageError(
            f"the server answered {response.status_code} with a body that is not JSON",
            status=response.status_code,
            request_id=response.headers.get("x-request-id"),
        ) from exc


def error_from_response(response: httpx.Response) -> APIError:
    """The typed exception for an error answer, from its problem document when it has one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    problem: Dict[str, Any] = dict(body) if isinstance(body, dict) else {}
    status = response.status_code
    code = problem.get("code") if isinstance(problem.get("code"), str) else None
    detail = problem.get("detail") if isinstance(problem.get("detail"), str) else None
    if not problem and response.text:
        # Not a problem document (a proxy's page, say): keep a bounded excerpt to explain it.
        detail = response.text[:500]
    param = problem.get("param") if isinstance(problem.get("param"), str) else None
    request_id = problem.get("request_id")
    if not isinstance(request_id, str):
        request_id = response.headers.get("x-request-id")
    message = f"{status} {code or response.reason_phrase}"
    if detail:
        message += f": {detail}"
    if param:
        message += f" (param {param})"
    return error_class(status, code)(
        message,
        status=status,
        code=code,
        detail=detail,
        param=param,
        request_id=request_id,
        problem=problem,
        headers=dict(response.headers),
    )


def content_type_for(filename: Optional[str]) -> str:
    """The content type a filename's extension names, or ``application/octet-stream``."""
    if filename and "." in filename:
        extension = filename.rsplit(".", 1)[1].lower()
        return _CONTENT_TYPES.get(extension, "application/octet-stream")
    return "application/octet-stream"


def read_source(source: ImageSource, filename: Optional[str]) -> Tuple[bytes, Optional[str]]:
    """The bytes of an image source and the filename it suggests (an explicit one wins)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), filename
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        return path.read_bytes(), filename or path.name
    read = getattr(source, "read", None)
    if read is None:
        raise TypeError("an image source must be bytes, a path or a binary file object")
    data = read()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("open the file in binary mode ('rb')")
    name = getattr(source, "name", None)
    if filename is None and isinstance(name, str):
        filename = os.path.basename(name)
    return bytes(data), filename


def _is_url(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _job_item(item: Any, index: int) -> Dict[str, Any]:
    if isinstance(item, Image):
        return {"image_id": item.id}
    if isinstance(item, str):
        return {"url": item} if _is_url(item) else {"image_id": item}
    if isinstance(item, Mapping):
        return dict(item)
    raise TypeError(f"items[{index}] must be an image id, a URL, an Image or a mapping")


def _without_none(values: Mapping[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class ClientCore:
    """Builds the requests of every API call and parses their answers (no IO)."""

    def __init__(self, base_url: str, retry: RetryPolicy) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry

    # Requests and retries.

    def request(self, call: Send) -> Flow[httpx.Response]:
        """Send ``call``, retrying idempotent ones on 429/503 and connection errors."""
        retries = 0
        while True:
            try:
                response: httpx.Response = yield call
            except httpx.TransportError as exc:
                if call.idempotent and retries < self.retry.max_retries:
                    yield Sleep(self.retry.delay(retries))
                    retries += 1
                    continue
                if isinstance(exc, httpx.TimeoutException):
                    raise APITimeoutError(f"{call.method} {call.path} timed out: {exc}") from exc
                raise APIConnectionError(f"{call.method} {call.path} failed: {exc}") from exc
            retryable = response.status_code in RETRYABLE_STATUSES
            if retryable and call.idempotent and retries < self.retry.max_retries:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                yield Sleep(self.retry.delay(retries, retry_after))
                retries += 1
                continue
            if response.status_code >= 400:
                raise error_from_response(response)
            return response

    # Images.

    def upload(
        self,
        source: ImageSource,
        filename: Optional[str],
        content_type: Optional[str],
        eager: Union[str, Iterable[str], None],
    ) -> Flow[Image]:
        """``POST /v1/images`` with the raw bytes."""
        data, filename = read_source(source, filename)
        params: List[Tuple[str, str]] = []
        if filename:
            params.append(("filename", filename))
        if eager is not None:
            params.append(("eager", eager if isinstance(eager, str) else ",".join(eager)))
        headers = {"content-type": content_type or content_type_for(filename)}
        response = yield from self.request(
            Send("POST", "/v1/images", params=params, headers=headers, content=data)
        )
        return Image.from_dict(_json(response))

    def upload_url(self, url: str, filename: Optional[str]) -> Flow[Image]:
        """``POST /v1/images`` with a URL for the service to fetch."""
        body = _without_none({"url": url, "filename": filename})
        response = yield from self.request(Send("POST", "/v1/images", json=body))
        return Image.from_dict(_json(response))

    def get_image(self, image_id: str) -> Flow[Image]:
        """``GET /v1/images/{id}/metadata``."""
        path = f"/v1/images/{_segment(image_id)}/metadata"
        response = yield from self.request(Send("GET", path, idempotent=True))
        return Image.from_dict(_json(response))

    def _image_path(
        self,
        image_id: str,
        output_format: Optional[str],
        operations: Optional[_transformations.Operations],
        transformations: Mapping[str, Any],
    ) -> Tuple[str, List[Tuple[str, str]]]:
        params = _transformations.query_params(transformations, operations)
        if output_format is None:
            if params:
                raise ValueError("transformations need a format (the output's extension)")
            return f"/v1/images/{_segment(image_id)}", params
        return f"/v1/images/{_segment(image_id)}.{_segment(output_format.lower())}", params

    def image_url(
        self,
        image_id: str,
        output_format: Optional[str],
        operations: Optional[_transformations.Operations],
        transformations: Mapping[str, Any],
    ) -> str:
        """The absolute URL of an original or of a variant (no request is made)."""
        path, params = self._image_path(image_id, output_format, operations, transformations)
        query = f"?{urlencode(params, safe=',:|=')}" if params else ""
        return f"{self.base_url}{path}{query}"

    def download(
        self,
        image_id: str,
        output_format: Optional[str],
        operations: Optional[_transformations.Operations],
        transformations: Mapping[str, Any],
    ) -> Flow[bytes]:
        """``GET /v1/images/{id}`` (original) or ``/v1/images/{id}.{ext}`` (variant).

        Transformations without a format keep the original's format, which costs a
        metadata request first.
        """
        transforming = bool(operations) or any(
            value is not None for value in transformations.values()
        )
        if output_format is None and transforming:
            image = yield from self.get_image(image_id)
            output_format = image.format
        path, params = self._image_path(image_id, output_format, operations, transformations)
        response = yield from self.request(Send("GET", path, params=params, idempotent=True))
        return response.content

    def delete_image(self, image_id: str) -> Flow[None]:
        """``DELETE /v1/images/{id}``."""
        path = f"/v1/images/{_segment(image_id)}"
        yield from self.request(Send("DELETE", path, idempotent=True))

    def list_images(self, limit: Optional[int], cursor: Optional[str]) -> Flow[ImagePage]:
        """One page of ``GET /v1/images``."""
        params = [
            (name, str(value))
            for name, value in (("limit", limit), ("cursor", cursor))
            if value is not None
        ]
        response = yield from self.request(
            Send("GET", "/v1/images", params=params, idempotent=True)
        )
        return ImagePage.from_dict(_json(response))

    # Stateless transform.

    def transform(
        self,
        source: Union[ImageSource, str],
        operations: Optional[_transformations.Operations],
        output_format: Optional[str],
        transformations: Mapping[str, Any],
    ) -> Flow[bytes]:
        """``POST /v1/transform``: JSON for a URL or an image id, raw bytes otherwise."""
        if isinstance(source, str) and (_is_url(source) or _UUID.match(source)):
            body = _transformations.json_body(transformations, operations, output_format)
            body["url" if _is_url(source) else "image_id"] = source
            call = Send("POST", "/v1/transform", json=body)
        else:
            data, filename = read_source(source, None)
            params = _transformations.query_params(transformations, operations)
            if output_format is not None:
                params.insert(0, ("format", output_format))
            headers = {"content-type": content_type_for(filename)}
            call = Send("POST", "/v1/transform", params=params, headers=headers, content=data)
        response = yield from self.request(call)
        return response.content

    # Jobs.

    def create_job(
        self,
        items: Sequence[Any],
        settings: Mapping[str, Any],
        idempotency_key: Optional[str],
    ) -> Flow[Job]:
        """``POST /v1/jobs``; retried only with an idempotency key, which makes it safe."""
        if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
            raise TypeError("items must be a list of image ids, URLs, Images or mappings")
        body: Dict[str, Any] = {"items": [_job_item(item, i) for i, item in enumerate(items)]}
        body.update(_without_none(settings))
        if isinstance(body.get("background"), str) and body["background"].startswith("#"):
            body["background"] = body["background"][1:]
        headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
        response = yield from self.request(
            Send("POST", "/v1/jobs", headers=headers, json=body, idempotent=bool(idempotency_key))
        )
        return Job.from_dict(_json(response))

    def get_job(self, job_id: str) -> Flow[Job]:
        """``GET /v1/jobs/{id}``."""
        response = yield from self.request(
            Send("GET", f"/v1/jobs/{_segment(job_id)}", idempotent=True)
        )
        return Job.from_dict(_json(response))

    def cancel_job(self, job_id: str) -> Flow[Job]:
        """``DELETE /v1/jobs/{id}``: queued items are cancelled, running ones finish."""
        response = yield from self.request(
            Send("DELETE", f"/v1/jobs/{_segment(job_id)}", idempotent=True)
        )
        return Job.from_dict(_json(response))

    def list_jobs(
        self, status: Optional[str], limit: Optional[int], cursor: Optional[str]
    ) -> Flow[JobPage]:
        """One page of ``GET /v1/jobs``."""
        params = [
            (name, str(value))
            for name, value in (("status", status), ("limit", limit), ("cursor", cursor))
            if value is not None
        ]
        response = yield from self.request(Send("GET", "/v1/jobs", params=params, idempotent=True))
        return JobPage.from_dict(_json(response))

    def wait_job(
        self,
        job_id: str,
        timeout: Optional[float],
        poll_interval: float,
        max_poll_interval: float,
    ) -> Flow[Job]:
        """Poll a job until it finishes, waiting 1.5× longer each time up to a ceiling."""
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        deadline = None if timeout is None else time.monotonic() + timeout
        interval = poll_interval
        while True:
            job = yield from self.get_job(job_id)
            if job.finished:
                return job
            delay = interval
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise JobTimeoutError(
                        f"job {job_id} still {job.status} after {timeout} s "
                        f"({job.succeeded + job.failed + job.cancelled}/{job.total} items done)",
                        job,
                    )
                delay = min(delay, remaining)
            yield Sleep(delay)
            interval = min(interval * 1.5, max(max_poll_interval, poll_interval))

    # Webhooks.

    def webhook_secret(self) -> Flow[str]:
        """``GET /v1/webhook-secret``: the caller's tenant's signing secret."""
        response = yield from self.request(Send("GET", "/v1/webhook-secret", idempotent=True))
        body = _json(response)
        secret = body.get("secret") if isinstance(body, dict) else None
        if not isinstance(secret, str):
            raise ProgImageError("the webhook-secret answer has no secret")
        return secret
