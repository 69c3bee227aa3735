"""Jobs against the real /v1/jobs; each test skips while the server has no Jobs API."""

from __future__ import annotations

import json
import uuid

import pytest
from support import LocalHost, decode, make_png

from progimage import (
    IdempotencyConflictError,
    InvalidParameterError,
    Job,
    NotFoundError,
    ProgImage,
    UrlNotAllowedError,
    webhooks,
)

UNKNOWN_ID = "01890a5d-ac96-774b-bcce-b302099a8057"


def test_a_job_transforms_every_item_into_a_new_image(jobs_client: ProgImage) -> None:
    sources = [jobs_client.images.upload(make_png(64, 32)) for _ in range(3)]
    job = jobs_client.jobs.create(
        [sources[0].id, sources[1], {"image_id": sources[2].id, "format": "png"}],
        operations=[{"op": "resize", "width": 16}],
        format="webp",
        quality=80,
        metadata={"batch": "thumbnails"},
    )
    assert job.status == "queued" and job.total == 3
    assert job.url == f"/v1/jobs/{job.id}"

    done = jobs_client.jobs.wait(job.id, timeout=60)
    assert done.status == "succeeded" and done.finished
    assert (done.succeeded, done.failed, done.cancelled) == (3, 0, 0)
    assert done.metadata == {"batch": "thumbnails"}
    assert done.finished_at is not None
    assert done.items is not None and [item.index for item in done.items] == [0, 1, 2]
    formats = []
    for item, source in zip(done.items, sources):
        assert item.status == "succeeded" and item.error is None and item.image is not None
        assert item.image.source_image_id == source.id
        assert item.image.job_id == job.id
        picture = decode(jobs_client.images.download(item.image.id))
        assert picture.size == (16, 8)
        formats.append(picture.format)
    assert formats == ["WEBP", "WEBP", "PNG"]


def test_a_missing_source_fails_only_its_item(jobs_client: ProgImage) -> None:
    source = jobs_client.images.upload(make_png())
    job = jobs_client.jobs.create([source.id, UNKNOWN_ID], format="png")
    done = jobs_client.jobs.wait(job.id, timeout=60)
    assert done.status == "completed_with_errors"
    assert (done.succeeded, done.failed) == (1, 1)
    assert done.items is not None
    failed = done.items[1]
    assert failed.status == "failed" and failed.image is None
    assert failed.error is not None and failed.error.code == "not_found"


def test_url_items_are_fetched(jobs_client: ProgImage, local_host: LocalHost) -> None:
    url = local_host.serve("/jobs/source.png", make_png(20, 10), "image/png")
    done = jobs_client.jobs.wait(jobs_client.jobs.create([url]).id, timeout=60)
    assert done.status == "succeeded"
    assert done.items is not None and done.items[0].image is not None
    assert done.items[0].image.source_image_id is None
    assert (done.items[0].image.width, done.items[0].image.height) == (20, 10)


def test_invalid_submissions_are_refused_whole(jobs_client: ProgImage) -> None:
    with pytest.raises(InvalidParameterError) as raised:
        jobs_client.jobs.create([UNKNOWN_ID], operations=[{"op": "resize", "width": 0}])
    assert raised.value.param == "operations[0].width"
    with pytest.raises(InvalidParameterError):
        jobs_client.jobs.create([])
    with pytest.raises(InvalidParameterError):
        jobs_client.jobs.create([{"image_id": "not-a-uuid"}])
    with pytest.raises(UrlNotAllowedError):
        jobs_client.jobs.create([UNKNOWN_ID], webhook_url="ftp://example.invalid/hook")


def test_an_idempotency_key_returns_the_same_job(jobs_client: ProgImage) -> None:
    source = jobs_client.images.upload(make_png())
    key = f"test-{uuid.uuid4()}"
    first = jobs_client.jobs.create([source.id], format="png", idempotency_key=key)
    again = jobs_client.jobs.create([source.id], format="png", idempotency_key=key)
    assert again.id == first.id
    with pytest.raises(IdempotencyConflictError) as raised:
        jobs_client.jobs.create([source.id], format="webp", idempotency_key=key)
    assert (raised.value.status, raised.value.code) == (409, "idempotency_conflict")


def test_cancel_returns_the_job_and_ends_it(jobs_client: ProgImage) -> None:
    source = jobs_client.images.upload(make_png(256, 256))
    job = jobs_client.jobs.create([source.id] * 20, operations=[{"op": "blur", "sigma": 5}])
    cancelled = jobs_client.jobs.cancel(job.id)
    assert cancelled.id == job.id
    done = jobs_client.jobs.wait(job.id, timeout=60)
    assert done.succeeded + done.failed + done.cancelled == 20
    # Items still queued at cancellation are cancelled; then so is the job.
    assert (done.status == "cancelled") == (done.cancelled > 0)
    assert done.items is not None
    assert sum(item.status == "cancelled" for item in done.items) == done.cancelled
    # A finished job is returned unchanged.
    assert jobs_client.jobs.cancel(job.id).status == done.status


def test_get_and_cancel_of_unknown_jobs_are_not_found(jobs_client: ProgImage) -> None:
    with pytest.raises(NotFoundError):
        jobs_client.jobs.get(UNKNOWN_ID)
    with pytest.raises(NotFoundError):
        jobs_client.jobs.cancel(UNKNOWN_ID)


def test_list_follows_pages_and_filters_by_status(jobs_client: ProgImage) -> None:
    source = jobs_client.images.upload(make_png())
    created = [jobs_client.jobs.create([source.id]).id for _ in range(3)]
    for job_id in created:
        jobs_client.jobs.wait(job_id, timeout=60)
    listed = list(jobs_client.jobs.list(limit=2))
    listed_ids = [job.id for job in listed]
    positions = [listed_ids.index(job_id) for job_id in created]
    assert positions == sorted(positions, reverse=True)
    assert all(job.items is None for job in listed)
    succeeded = {job.id for job in jobs_client.jobs.list(status="succeeded")}
    assert set(created) <= succeeded
    assert not {job.id for job in jobs_client.jobs.list(status="failed")} & set(created)


def test_the_finished_webhook_is_signed(jobs_client: ProgImage, local_host: LocalHost) -> None:
    already = len(local_host.received)
    source = jobs_client.images.upload(make_png())
    job = jobs_client.jobs.create([source.id], webhook_url=f"{local_host.url}/hooks/progimage")
    jobs_client.jobs.wait(job.id, timeout=60)
    deliveries = local_host.wait_for_post(already + 1, timeout=30)
    headers, body = next(
        (headers, body)
        for headers, body in deliveries[already:]
        if json.loads(body).get("id") == job.id
    )
    assert headers["progimage-event"] == "job.finished"
    assert headers["progimage-delivery"].startswith(f"{job.id}:")
    delivered = webhooks.verify(body, headers["progimage-signature"], jobs_client.webhook_secret())
    assert isinstance(delivered, Job)
    assert (delivered.id, delivered.status) == (job.id, "succeeded")
