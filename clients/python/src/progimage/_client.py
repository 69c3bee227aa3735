"""The sync and async clients: thin drivers of the flows in :mod:`progimage._core`."""

from __future__ import annotations

import asyncio
import os
import time
from typing import (
    Any,
    AsyncIterator,
    Dict,
    Iterable,
    Iterator,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import httpx

from ._core import DEFAULT_BASE_URL, ClientCore, Flow, ImageSource, Send, Sleep, T
from ._retry import RetryPolicy
from ._transformations import Operations
from ._version import __version__
from .models import Image, ImagePage, Job, JobPage

__all__ = ["ProgImage", "AsyncProgImage", "DEFAULT_TIMEOUT", "DEFAULT_MAX_RETRIES"]

#: Seconds for connecting, and between bytes, per request.
DEFAULT_TIMEOUT = 60.0
#: Retries of an idempotent request after its first attempt.
DEFAULT_MAX_RETRIES = 2


def _settings(
    base_url: Optional[str], api_key: Optional[str], max_retries: int
) -> Tuple[ClientCore, Dict[str, str]]:
    """The core and the default headers, from the arguments or the environment."""
    resolved_url = base_url or os.environ.get("PROGIMAGE_URL") or DEFAULT_BASE_URL
    resolved_key = api_key if api_key is not None else os.environ.get("PROGIMAGE_API_KEY")
    if max_retries < 0:
        raise ValueError("max_retries must be at least 0")
    headers = {"user-agent": f"progimage-python/{__version__}"}
    if resolved_key:
        headers["authorization"] = f"Bearer {resolved_key}"
    return ClientCore(resolved_url, RetryPolicy(max_retries=max_retries)), headers


def _build_request(http: Union[httpx.Client, httpx.AsyncClient], call: Send) -> httpx.Request:
    return http.build_request(
        call.method,
        call.path,
        params=list(call.params) or None,
        headers=dict(call.headers),
        content=call.content,
        json=call.json,
    )


class ProgImage:
    """A synchronous ProgImage client; use it as a context manager or call :meth:`close`.

    ``base_url`` defaults to ``$PROGIMAGE_URL`` (else ``http://127.0.0.1:8080``) and
    ``api_key`` to ``$PROGIMAGE_API_KEY``. ``transport`` replaces httpx's (for tests).
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        timeout: Union[float, httpx.Timeout, None] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
        self._core, headers = _settings(base_url, api_key, max_retries)
        self._http = httpx.Client(
            base_url=self._core.base_url, headers=headers, timeout=timeout, transport=transport
        )
        self._sleep = time.sleep
        self.images = Images(self)
        self.jobs = Jobs(self)

    @property
    def base_url(self) -> str:
        """The service's base URL, without a trailing slash."""
        return self._core.base_url

    def _run(self, flow: Flow[T]) -> T:
        """Drive a flow: perform its requests and sleeps until it returns."""
        value: Any = None
        error: Optional[BaseException] = None
        while True:
            try:
                effect = flow.send(value) if error is None else flow.throw(error)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            value, error = None, None
            if isinstance(effect, Sleep):
                self._sleep(effect.seconds)
                continue
            try:
                value = self._http.send(_build_request(self._http, effect))
            except httpx.TransportError as exc:
                error = exc

    def transform(
        self,
        source: ImageSource,
        operations: Optional[Operations] = None,
        format: Optional[str] = None,
        **transformations: Any,
    ) -> bytes:
        """Transform an image without storing anything; returns the encoded bytes.

        ``source`` is bytes, a path or a binary file (sent as the body), or an http(s) URL or
        an image id (sent as JSON). Steps are ``operations`` (JSON op form) or keywords.
        """
        return self._run(self._core.transform(source, operations, format, transformations))

    def webhook_secret(self) -> str:
        """The secret the service signs this tenant's webhooks with."""
        return self._run(self._core.webhook_secret())

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> "ProgImage":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class Images:
    """``client.images``: store, read, transform-on-read, list and delete images."""

    def __init__(self, client: ProgImage) -> None:
        self._client = client
        self._core = client._core

    def upload(
        self,
        source: ImageSource,
        filename: Optional[str] = None,
        content_type: Optional[str] = None,
        eager: Union[str, Iterable[str], None] = None,
    ) -> Image:
        """Store an image from bytes, a path or a binary file object.

        The filename defaults to the path's or file's name; the content type to the one its
        extension names (else ``application/octet-stream``, and the bytes decide). ``eager``
        formats are converted in the background.
        """
        return self._client._run(self._core.upload(source, filename, content_type, eager))

    def upload_url(self, url: str, filename: Optional[str] = None) -> Image:
        """Store an image the service fetches from an http(s) URL."""
        return self._client._run(self._core.upload_url(url, filename))

    def get(self, image_id: str) -> Image:
        """An image's metadata."""
        return self._client._run(self._core.get_image(image_id))

    def download(
        self,
        image_id: str,
        format: Optional[str] = None,
        *,
        operations: Optional[Operations] = None,
        **transformations: Any,
    ) -> bytes:
        """The original bytes, or a variant in ``format`` after the transformations."""
        return self._client._run(self._core.download(image_id, format, operations, transformations))

    def url(
        self,
        image_id: str,
        format: Optional[str] = None,
        *,
        operations: Optional[Operations] = None,
        **transformations: Any,
    ) -> str:
        """The absolute URL of the original or of a variant (transformations need a format)."""
        return self._core.image_url(image_id, format, operations, transformations)

    def delete(self, image_id: str) -> None:
        """Delete an image and every variant of it."""
        self._client._run(self._core.delete_image(image_id))

    def list_page(self, limit: Optional[int] = None, cursor: Optional[str] = None) -> ImagePage:
        """One page of images, newest first."""
        return self._client._run(self._core.list_images(limit, cursor))

    def list(self, limit: Optional[int] = None) -> Iterator[Image]:
        """Every image, newest first, fetching pages of ``limit`` as it goes."""
        cursor: Optional[str] = None
        while True:
            page = self.list_page(limit, cursor)
            yield from page.images
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


class Jobs:
    """``client.jobs``: bulk asynchronous transformations."""

    def __init__(self, client: ProgImage) -> None:
        self._client = client
        self._core = client._core

    def create(
        self,
        items: Sequence[Union[str, Image, Mapping[str, Any]]],
        operations: Optional[Operations] = None,
        format: Optional[str] = None,
        quality: Optional[int] = None,
        lossless: Optional[bool] = None,
        background: Optional[str] = None,
        strip: Optional[bool] = None,
        svg: Optional[str] = None,
        webhook_url: Optional[str] = None,
        metadata: Any = None,
        idempotency_key: Optional[str] = None,
    ) -> Job:
        """Submit a job. Items are image ids, URLs, Images or ``{"image_id"|"url", ...}``."""
        settings = {
            "operations": operations,
            "format": format,
            "quality": quality,
            "lossless": lossless,
            "background": background,
            "strip": strip,
            "svg": svg,
            "webhook_url": webhook_url,
            "metadata": metadata,
        }
        return self._client._run(self._core.create_job(items, settings, idempotency_key))

    def get(self, job_id: str) -> Job:
        """A job with its items."""
        return self._client._run(self._core.get_job(job_id))

    def wait(
        self,
        job_id: str,
        timeout: Optional[float] = 300.0,
        poll_interval: float = 0.5,
        max_poll_interval: float = 10.0,
    ) -> Job:
        """Poll until the job finishes; raises :class:`JobTimeoutError` after ``timeout`` s."""
        return self._client._run(
            self._core.wait_job(job_id, timeout, poll_interval, max_poll_interval)
        )

    def cancel(self, job_id: str) -> Job:
        """Cancel a job's queued items (running ones finish); returns the job."""
        return self._client._run(self._core.cancel_job(job_id))

    def list_page(
        self,
        status: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> JobPage:
        """One page of jobs (without items), newest first."""
        return self._client._run(self._core.list_jobs(status, limit, cursor))

    def list(self, status: Optional[str] = None, limit: Optional[int] = None) -> Iterator[Job]:
        """Every job (optionally of one status), newest first, following the pages."""
        cursor: Optional[str] = None
        while True:
            page = self.list_page(status, limit, cursor)
            yield from page.jobs
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


class AsyncProgImage:
    """The asyncio client: the same surface as :class:`ProgImage`, with coroutines."""

    def __init__(
        self,
        base_url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        timeout: Union[float, httpx.Timeout, None] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: Optional[httpx.AsyncBaseTransport] = None,
    ) -> None:
        self._core, headers = _settings(base_url, api_key, max_retries)
        self._http = httpx.AsyncClient(
            base_url=self._core.base_url, headers=headers, timeout=timeout, transport=transport
        )
        self._sleep = asyncio.sleep
        self.images = AsyncImages(self)
        self.jobs = AsyncJobs(self)

    @property
    def base_url(self) -> str:
        """The service's base URL, without a trailing slash."""
        return self._core.base_url

    async def _run(self, flow: Flow[T]) -> T:
        """Drive a flow: perform its requests and sleeps until it returns."""
        value: Any = None
        error: Optional[BaseException] = None
        while True:
            try:
                effect = flow.send(value) if error is None else flow.throw(error)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            value, error = None, None
            if isinstance(effect, Sleep):
                await self._sleep(effect.seconds)
                continue
            try:
                value = await self._http.send(_build_request(self._http, effect))
            except httpx.TransportError as exc:
                error = exc

    async def transform(
        self,
        source: ImageSource,
        operations: Optional[Operations] = None,
        format: Optional[str] = None,
        **transformations: Any,
    ) -> bytes:
        """Transform an image without storing anything; see :meth:`ProgImage.transform`."""
        return await self._run(self._core.transform(source, operations, format, transformations))

    async def webhook_secret(self) -> str:
        """The secret the service signs this tenant's webhooks with."""
        return await self._run(self._core.webhook_secret())

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncProgImage":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()


class AsyncImages:
    """``client.images`` of the async client; see :class:`Images`."""

    def __init__(self, client: AsyncProgImage) -> None:
        self._client = client
        self._core = client._core

    async def upload(
        self,
        source: ImageSource,
        filename: Optional[str] = None,
        content_type: Optional[str] = None,
        eager: Union[str, Iterable[str], None] = None,
    ) -> Image:
        """Store an image from bytes, a path or a binary file object."""
        return await self._client._run(self._core.upload(source, filename, content_type, eager))

    async def upload_url(self, url: str, filename: Optional[str] = None) -> Image:
        """Store an image the service fetches from an http(s) URL."""
        return await self._client._run(self._core.upload_url(url, filename))

    async def get(self, image_id: str) -> Image:
        """An image's metadata."""
        return await self._client._run(self._core.get_image(image_id))

    async def download(
        self,
        image_id: str,
        format: Optional[str] = None,
        *,
        operations: Optional[Operations] = None,
        **transformations: Any,
    ) -> bytes:
        """The original bytes, or a variant in ``format`` after the transformations."""
        return await self._client._run(
            self._core.download(image_id, format, operations, transformations)
        )

    def url(
        self,
        image_id: str,
        format: Optional[str] = None,
        *,
        operations: Optional[Operations] = None,
        **transformations: Any,
    ) -> str:
        """The absolute URL of the original or of a variant (no request is made)."""
        return self._core.image_url(image_id, format, operations, transformations)

    async def delete(self, image_id: str) -> None:
        """Delete an image and every variant of it."""
        await self._client._run(self._core.delete_image(image_id))

    async def list_page(
        self, limit: Optional[int] = None, cursor: Optional[str] = None
    ) -> ImagePage:
        """One page of images, newest first."""
        return await self._client._run(self._core.list_images(limit, cursor))

    async def list(self, limit: Optional[int] = None) -> AsyncIterator[Image]:
        """Every image, newest first (``async for``), fetching pages of ``limit``."""
        cursor: Optional[str] = None
        while True:
            page = await self.list_page(limit, cursor)
            for image in page.images:
                yield image
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


class AsyncJobs:
    """``client.jobs`` of the async client; see :class:`Jobs`."""

    def __init__(self, client: AsyncProgImage) -> None:
        self._client = client
        self._core = client._core

    async def create(
        self,
        items: Sequence[Union[str, Image, Mapping[str, Any]]],
        operations: Optional[Operations] = None,
        format: Optional[str] = None,
        quality: Optional[int] = None,
        lossless: Optional[bool] = None,
        background: Optional[str] = None,
        strip: Optional[bool] = None,
        svg: Optional[str] = None,
        webhook_url: Optional[str] = None,
        metadata: Any = None,
        idempotency_key: Optional[str] = None,
    ) -> Job:
        """Submit a job; see :meth:`Jobs.create`."""
        settings = {
            "operations": operations,
            "format": format,
            "quality": quality,
            "lossless": lossless,
            "background": background,
            "strip": strip,
            "svg": svg,
            "webhook_url": webhook_url,
            "metadata": metadata,
        }
        return await self._client._run(self._core.create_job(items, settings, idempotency_key))

    async def get(self, job_id: str) -> Job:
        """A job with its items."""
        return await self._client._run(self._core.get_job(job_id))

    async def wait(
        self,
        job_id: str,
        timeout: Optional[float] = 300.0,
        poll_interval: float = 0.5,
        max_poll_interval: float = 10.0,
    ) -> Job:
        """Poll until the job finishes; raises :class:`JobTimeoutError` after ``timeout`` s."""
        return await self._client._run(
            self._core.wait_job(job_id, timeout, poll_interval, max_poll_interval)
        )

    async def cancel(self, job_id: str) -> Job:
        """Cancel a job's queued items (running ones finish); returns the job."""
        return await self._client._run(self._core.cancel_job(job_id))

    async def list_page(
        self,
        status: Optional[str] = None,
        limit: Optional[int] = None,
        cursor: Optional[str] = None,
    ) -> JobPage:
        """One page of jobs (without items), newest first."""
        return await self._client._run(self._core.list_jobs(status, limit, cursor))

    async def list(
        self, status: Optional[str] = None, limit: Optional[int] = None
    ) -> AsyncIterator[Job]:
        """Every job (optionally of one status), newest first (``async for``)."""
        cursor: Optional[str] = None
        while True:
            page = await self.list_page(status, limit, cursor)
            for job in page.jobs:
                yield job
            if page.next_cursor is None:
                return
            cursor = page.next_cursor
