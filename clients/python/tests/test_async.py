"""The asyncio client against the real server: the same surface, awaited."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import WEBHOOK_MASTER_SECRET, decode, make_png

from progimage import (
    AsyncProgImage,
    InvalidImageError,
    NotFoundError,
)

UNKNOWN_ID = "01890a5d-ac96-774b-bcce-b302099a8057"


async def test_upload_get_download_delete(async_client: AsyncProgImage, tmp_path: Path) -> None:
    path = tmp_path / "async.png"
    path.write_bytes(make_png(64, 32))
    image = await async_client.images.upload(path)
    assert (image.filename, image.width, image.height) == ("async.png", 64, 32)
    assert await async_client.images.get(image.id) == image
    assert await async_client.images.download(image.id) == path.read_bytes()
    variant = decode(await async_client.images.download(image.id, "webp", width=16))
    assert (variant.format, variant.size) == ("WEBP", (16, 8))
    assert async_client.images.url(image.id, "webp", width=16).endswith(
        f"/v1/images/{image.id}.webp?w=16"
    )
    await async_client.images.delete(image.id)
    with pytest.raises(NotFoundError):
        await async_client.images.get(image.id)


async def test_list_is_an_async_iterator_over_pages(async_client: AsyncProgImage) -> None:
    uploaded = [(await async_client.images.upload(make_png(4, 4))).id for _ in range(3)]
    listed = [image.id async for image in async_client.images.list(limit=1)]
    positions = [listed.index(image_id) for image_id in uploaded]
    assert positions == sorted(positions, reverse=True)


async def test_transform_and_its_errors(async_client: AsyncProgImage) -> None:
    output = await async_client.transform(make_png(64, 32), format="png", rotate=90)
    assert decode(output).size == (32, 64)
    with pytest.raises(InvalidImageError) as raised:
        await async_client.transform(b"nope", format="png")
    assert raised.value.request_id


async def test_jobs_run_to_completion(async_client: AsyncProgImage) -> None:
    try:
        await async_client.jobs.list_page(limit=1)
    except NotFoundError as error:
        if error.code == "not_found":
            pytest.skip("the server has no jobs API yet")
        raise
    source = await async_client.images.upload(make_png(64, 32))
    job = await async_client.jobs.create([source.id], operations=[{"op": "resize", "width": 8}])
    done = await async_client.jobs.wait(job.id, timeout=60)
    assert done.status == "succeeded"
    assert done.items is not None and done.items[0].image is not None
    assert (done.items[0].image.width, done.items[0].image.height) == (8, 4)
    assert job.id in [listed.id async for listed in async_client.jobs.list()]


async def test_webhook_secret(async_client: AsyncProgImage) -> None:
    assert await async_client.webhook_secret() == WEBHOOK_MASTER_SECRET
