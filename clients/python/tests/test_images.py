"""Images against the real server: upload, metadata, download and variants, urls, list, delete."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

import httpx
import pytest
from support import LocalHost, Server, close_to, decode, fixture_path, make_png

from progimage import (
    InvalidParameterError,
    NotFoundError,
    ProgImage,
)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
RED = (255, 0, 0)
BLUE = (0, 0, 255)


def test_upload_from_a_path_describes_the_stored_image(client: ProgImage, tmp_path: Path) -> None:
    data = make_png(64, 32)
    path = tmp_path / "halves.png"
    path.write_bytes(data)

    image = client.images.upload(path)

    assert UUID.match(image.id)
    assert image.url == f"/v1/images/{image.id}"
    assert (image.format, image.content_type) == ("png", "image/png")
    assert (image.width, image.height) == (64, 32)
    assert image.bytes == len(data)
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert image.filename == "halves.png"
    assert image.created_at is not None and image.created_at.tzinfo is not None
    assert image.source_image_id is None and image.job_id is None


def test_upload_from_a_str_path(client: ProgImage) -> None:
    image = client.images.upload(str(fixture_path("images/photo.jpg")))
    assert image.format == "jpeg"
    assert image.filename == "photo.jpg"


def test_upload_from_bytes_with_and_without_a_filename(client: ProgImage) -> None:
    data = make_png(10, 20)
    named = client.images.upload(data, filename="tall.png")
    assert named.filename == "tall.png"
    assert (named.width, named.height) == (10, 20)
    anonymous = client.images.upload(data)
    assert anonymous.format == "png"
    # The same bytes twice are two images.
    assert anonymous.id != named.id
    assert anonymous.sha256 == named.sha256


def test_upload_from_a_file_object_takes_its_name(client: ProgImage, tmp_path: Path) -> None:
    path = tmp_path / "from-file.jpg"
    path.write_bytes(make_png(16, 16, image_format="JPEG"))
    with open(path, "rb") as file:
        image = client.images.upload(file)
    assert image.filename == "from-file.jpg"
    assert image.format == "jpeg"

    in_memory = client.images.upload(io.BytesIO(make_png(8, 8)), content_type="image/png")
    assert (in_memory.format, in_memory.width) == ("png", 8)


def test_upload_with_eager_variants(client: ProgImage) -> None:
    image = client.images.upload(make_png(), eager=["webp", "avif"])
    webp = client.images.download(image.id, "webp")
    assert decode(webp).format == "WEBP"
    with pytest.raises(InvalidParameterError) as raised:
        client.images.upload(make_png(), eager="webp,nope")
    assert raised.value.param == "eager"


def test_upload_url_fetches_through_the_service(client: ProgImage, local_host: LocalHost) -> None:
    data = make_png(12, 6)
    url = local_host.serve("/remote/source.png", data, "image/png")
    image = client.images.upload_url(url)
    assert image.filename == "source.png"
    assert (image.width, image.height, image.sha256) == (12, 6, hashlib.sha256(data).hexdigest())
    renamed = client.images.upload_url(url, filename="renamed.png")
    assert renamed.filename == "renamed.png"


def test_get_returns_the_uploaded_metadata(client: ProgImage) -> None:
    image = client.images.upload(make_png(), filename="meta.png")
    assert client.images.get(image.id) == image


def test_download_without_a_format_returns_the_original_bytes(client: ProgImage) -> None:
    data = fixture_path("images/sample.webp").read_bytes()
    image = client.images.upload(data, filename="sample.webp")
    assert client.images.download(image.id) == data


def test_download_resizes_and_converts(client: ProgImage) -> None:
    image = client.images.upload(make_png(64, 32))
    for output_format, pillow_name in (("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")):
        picture = decode(client.images.download(image.id, output_format, width=32))
        assert picture.format == pillow_name
        assert picture.size == (32, 16)


def test_download_with_transformations_but_no_format_keeps_the_original_format(
    client: ProgImage,
) -> None:
    image = client.images.upload(make_png(64, 32))
    picture = decode(client.images.download(image.id, height=8))
    assert (picture.format, picture.size) == ("PNG", (16, 8))


def test_flip_crop_rotate_and_grayscale_move_the_right_pixels(client: ProgImage) -> None:
    image = client.images.upload(make_png(64, 32, left=RED, right=BLUE))

    flipped = decode(client.images.download(image.id, "png", flip="h")).convert("RGB")
    assert close_to(flipped.getpixel((2, 16)), BLUE)
    assert close_to(flipped.getpixel((61, 16)), RED)

    cropped = decode(client.images.download(image.id, "png", crop=(40, 0, 10, 5))).convert("RGB")
    assert cropped.size == (10, 5)
    assert close_to(cropped.getpixel((5, 2)), BLUE)

    rotated = decode(client.images.download(image.id, "png", rotate=90)).convert("RGB")
    assert rotated.size == (32, 64)
    # Clockwise: the left (red) half ends on top.
    assert close_to(rotated.getpixel((16, 2)), RED)
    assert close_to(rotated.getpixel((16, 61)), BLUE)

    gray = decode(client.images.download(image.id, "png", grayscale=True)).convert("RGB")
    red, green, blue = gray.getpixel((2, 2))
    assert red == green == blue


def test_operations_match_the_equivalent_keywords(client: ProgImage) -> None:
    image = client.images.upload(make_png(64, 32))
    by_keywords = client.images.download(image.id, "png", width=16, flip="v", grayscale=True)
    by_operations = client.images.download(
        image.id,
        "png",
        operations=[
            {"op": "resize", "width": 16},
            {"op": "flip", "axis": "v"},
            {"op": "grayscale"},
        ],
    )
    assert decode(by_operations).size == (16, 8)
    assert by_keywords == by_operations


def test_cover_mask_and_quality_settings_reach_the_encoder(client: ProgImage) -> None:
    image = client.images.upload(make_png(64, 32))
    covered = decode(client.images.download(image.id, "png", width=20, height=20, fit="cover"))
    assert covered.size == (20, 20)
    masked = decode(client.images.download(image.id, "png", mask="circle")).convert("RGBA")
    assert masked.getpixel((0, 0))[3] == 0
    assert masked.getpixel((32, 16))[3] == 255
    small = client.images.download(image.id, "jpeg", quality=5)
    large = client.images.download(image.id, "jpeg", quality=95)
    assert len(small) < len(large)


def test_url_points_at_what_download_returns(client: ProgImage, server: Server) -> None:
    image = client.images.upload(make_png(64, 32))
    assert client.images.url(image.id) == f"{server.url}/v1/images/{image.id}"
    url = client.images.url(image.id, "png", width=16, operations=None)
    assert url == f"{server.url}/v1/images/{image.id}.png?w=16"
    fetched = httpx.get(url)
    assert fetched.status_code == 200
    assert fetched.content == client.images.download(image.id, "png", width=16)
    ops_url = client.images.url(image.id, "png", operations=[{"op": "resize", "width": 16}])
    assert httpx.get(ops_url).content == fetched.content


def test_list_follows_cursors_newest_first(client: ProgImage) -> None:
    uploaded = [client.images.upload(make_png(4, 4), filename=f"list-{n}.png").id for n in range(5)]

    first_page = client.images.list_page(limit=2)
    assert len(first_page.images) == 2
    assert first_page.next_cursor is not None
    assert [image.id for image in first_page.images] == uploaded[::-1][:2]

    listed = [image.id for image in client.images.list(limit=2)]
    assert len(listed) == len(set(listed))
    positions = [listed.index(image_id) for image_id in uploaded]
    assert positions == sorted(positions, reverse=True)


def test_the_last_page_has_no_cursor(client: ProgImage) -> None:
    client.images.upload(make_png(4, 4))
    pages = []
    cursor = None
    while True:
        page = client.images.list_page(limit=1000, cursor=cursor)
        pages.append(page)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages[-1].next_cursor is None
    assert sum(len(page.images) for page in pages) == len(list(client.images.list(limit=1000)))


def test_delete_removes_the_image_and_its_variants(client: ProgImage) -> None:
    image = client.images.upload(make_png())
    client.images.download(image.id, "webp", width=10)
    client.images.delete(image.id)
    with pytest.raises(NotFoundError):
        client.images.get(image.id)
    with pytest.raises(NotFoundError):
        client.images.download(image.id)
    with pytest.raises(NotFoundError):
        client.images.download(image.id, "webp", width=10)
    with pytest.raises(NotFoundError):
        client.images.delete(image.id)
    assert image.id not in {listed.id for listed in client.images.list(limit=1000)}
