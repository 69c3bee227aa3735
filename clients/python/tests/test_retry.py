"""The retry and backoff logic, with scripted answers (httpx.MockTransport); no server."""

from __future__ import annotations

import email.utils
import json
from typing import Callable, List, Union

import httpx
import pytest

from progimage import (
    APIConnectionError,
    AsyncProgImage,
    JobTimeoutError,
    ProgImage,
    RateLimitedError,
    UnavailableError,
)
from progimage._retry import RetryPolicy, parse_retry_after

IMAGE_ID = "01890a5d-ac96-774b-bcce-b302099a8057"
IMAGE = {"id": IMAGE_ID, "url": f"/v1/images/{IMAGE_ID}", "format": "png", "width": 1}
Answer = Union[httpx.Response, Exception]


def problem(status: int, code: str, retry_after: "str | None" = None) -> httpx.Response:
    headers = {"content-type": "application/problem+json", "x-request-id": f"req-{status}"}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    body = {"type": f"urn:progimage:problem:{code}", "status": status, "code": code}
    return httpx.Response(status, headers=headers, content=json.dumps(body).encode())


class Script:
    """Answers requests in order and records them."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: List[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def sync_client(script: Script, sleeps: List[float], **options: object) -> ProgImage:
    client = ProgImage("http://progimage.test", transport=httpx.MockTransport(script), **options)  # type: ignore[arg-type]
    client._sleep = sleeps.append
    return client


def fixed_jitter(value: float) -> Callable[[], float]:
    return lambda: value


def test_a_503_with_retry_after_is_retried_after_that_delay() -> None:
    script = Script(problem(503, "unavailable", "2"), httpx.Response(200, json=IMAGE))
    sleeps: List[float] = []
    image = sync_client(script, sleeps).images.get(IMAGE_ID)
    assert image.id == IMAGE_ID
    assert sleeps == [2.0]
    assert len(script.requests) == 2


def test_a_429_without_retry_after_backs_off_exponentially_with_jitter() -> None:
    script = Script(
        problem(429, "rate_limited"), problem(429, "rate_limited"), httpx.Response(200, json=IMAGE)
    )
    sleeps: List[float] = []
    client = sync_client(script, sleeps)
    client._core.retry.random = fixed_jitter(1.0)
    client.images.get(IMAGE_ID)
    # Full delay with jitter 1.0: 0.5 s, then 1 s.
    assert sleeps == [0.5, 1.0]


def test_jitter_keeps_each_delay_between_half_and_all_of_its_ceiling() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0, random=fixed_jitter(0.0))
    assert [policy.delay(n) for n in range(4)] == [0.5, 1.0, 2.0, 2.0]
    policy.random = fixed_jitter(0.999999)
    assert [round(policy.delay(n), 3) for n in range(4)] == [1.0, 2.0, 4.0, 4.0]


def test_retry_after_is_capped() -> None:
    policy = RetryPolicy(max_retry_after=60.0)
    assert policy.delay(0, retry_after=3600.0) == 60.0


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after(date, now=1_000_000) == 30.0


def test_retries_give_up_after_max_retries_with_the_last_error() -> None:
    script = Script(*(problem(503, "unavailable", "1") for _ in range(3)))
    sleeps: List[float] = []
    with pytest.raises(UnavailableError) as raised:
        sync_client(script, sleeps, max_retries=2).images.list_page()
    assert len(script.requests) == 3
    assert sleeps == [1.0, 1.0]
    assert raised.value.retry_after == 1.0
    assert raised.value.request_id == "req-503"


def test_max_retries_zero_sends_once() -> None:
    script = Script(problem(429, "rate_limited", "1"))
    sleeps: List[float] = []
    with pytest.raises(RateLimitedError):
        sync_client(script, sleeps, max_retries=0).images.get(IMAGE_ID)
    assert len(script.requests) == 1 and sleeps == []


def test_connection_errors_on_idempotent_calls_are_retried() -> None:
    script = Script(httpx.ConnectError("refused"), httpx.Response(204))
    sleeps: List[float] = []
    sync_client(script, sleeps).images.delete(IMAGE_ID)
    assert [request.method for request in script.requests] == ["DELETE", "DELETE"]
    assert len(sleeps) == 1


def test_uploads_are_not_retried() -> None:
    script = Script(problem(503, "unavailable", "1"))
    sleeps: List[float] = []
    with pytest.raises(UnavailableError):
        sync_client(script, sleeps).images.upload(b"bytes")
    assert len(script.requests) == 1 and sleeps == []


def test_a_connection_error_on_a_post_is_raised_at_once() -> None:
    script = Script(httpx.ConnectError("refused"))
    sleeps: List[float] = []
    with pytest.raises(APIConnectionError):
        sync_client(script, sleeps).transform(b"bytes", format="png")
    assert len(script.requests) == 1 and sleeps == []


def test_job_creation_is_retried_only_with_an_idempotency_key() -> None:
    accepted = {"id": "j1", "status": "queued", "url": "/v1/jobs/j1", "total": 1}
    sleeps: List[float] = []

    script = Script(problem(503, "unavailable", "1"))
    with pytest.raises(UnavailableError):
        sync_client(script, sleeps).jobs.create([IMAGE_ID])
    assert len(script.requests) == 1

    script = Script(problem(503, "unavailable", "1"), httpx.Response(202, json=accepted))
    job = sync_client(script, sleeps).jobs.create([IMAGE_ID], idempotency_key="order-42")
    assert job.status == "queued"
    assert len(script.requests) == 2
    assert {request.headers["idempotency-key"] for request in script.requests} == {"order-42"}
    assert script.requests[0].content == script.requests[1].content


def test_wait_polls_with_growing_intervals_and_times_out_with_the_last_job() -> None:
    running = {"id": "j1", "status": "running", "total": 2, "succeeded": 1}
    script = Script(*(httpx.Response(200, json=running) for _ in range(20)))
    sleeps: List[float] = []
    with pytest.raises(JobTimeoutError) as raised:
        sync_client(script, sleeps).jobs.wait("j1", timeout=0.0, poll_interval=1.0)
    assert raised.value.job.status == "running"
    assert isinstance(raised.value, TimeoutError)

    script = Script(
        *(httpx.Response(200, json=running) for _ in range(4)),
        httpx.Response(200, json={**running, "status": "succeeded", "succeeded": 2}),
    )
    sleeps = []
    job = sync_client(script, sleeps).jobs.wait("j1", timeout=None, poll_interval=1.0)
    assert job.finished and job.succeeded == 2
    assert sleeps == [1.0, 1.5, 2.25, 3.375]


async def test_the_async_client_shares_the_retry_logic() -> None:
    script = Script(problem(503, "unavailable", "3"), httpx.Response(200, json=IMAGE))
    sleeps: List[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    async with AsyncProgImage(
        "http://progimage.test", transport=httpx.MockTransport(script)
    ) as client:
        client._sleep = record
        image = await client.images.get(IMAGE_ID)
    assert image.width == 1
    assert sleeps == [3.0]
