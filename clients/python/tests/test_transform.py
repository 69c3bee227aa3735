"""The stateless transform against the real server, from every kind of source."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from support import LocalHost, close_to, decode, make_png

from progimage import InvalidImageError, InvalidParameterError, NotFoundError, ProgImage

RED = (255, 0, 0)
BLUE = (0, 0, 255)


def test_transform_bytes_converts_and_stores_nothing(client: ProgImage) -> None:
    before = client.images.list_page(limit=1000).images
    output = client.transform(make_png(64, 32), format="webp", width=32)
    picture = decode(output)
    assert (picture.format, picture.size) == ("WEBP", (32, 16))
    assert client.images.list_page(limit=1000).images == before


def test_transform_keeps_the_source_format_by_default(client: ProgImage) -> None:
    picture = decode(client.transform(make_png(64, 32), flip="h"))
    assert picture.format == "PNG"
    assert close_to(picture.convert("RGB").getpixel((1, 1)), BLUE)


def test_transform_a_path_and_a_file_object(client: ProgImage, tmp_path: Path) -> None:
    path = tmp_path / "source.jpg"
    path.write_bytes(make_png(40, 20, image_format="JPEG"))
    assert decode(client.transform(path, format="png", height=10)).size == (20, 10)
    assert decode(client.transform(str(path), format="png", height=5)).size == (10, 5)
    with open(path, "rb") as file:
        assert decode(client.transform(file, format="png", rotate=90)).size == (20, 40)
    in_memory = io.BytesIO(make_png(8, 8))
    assert decode(client.transform(in_memory, grayscale=True)).size == (8, 8)


def test_transform_a_stored_image_by_id(client: ProgImage) -> None:
    image = client.images.upload(make_png(64, 32))
    picture = decode(client.transform(image.id, format="jpeg", width=16, quality=90))
    assert (picture.format, picture.size) == ("JPEG", (16, 8))


def test_transform_a_url(client: ProgImage, local_host: LocalHost) -> None:
    url = local_host.serve("/transform/source.png", make_png(30, 10), "image/png")
    picture = decode(client.transform(url, format="png", crop=(0, 0, 15, 10)))
    assert picture.size == (15, 10)
    assert close_to(picture.convert("RGB").getpixel((7, 5)), RED)


def test_transform_with_operations_in_both_forms(client: ProgImage) -> None:
    image = client.images.upload(make_png(64, 32))
    operations = [{"op": "rotate", "degrees": 90}, {"op": "resize", "height": 32}]
    by_body = decode(client.transform(make_png(64, 32), operations=operations, format="png"))
    by_json = decode(client.transform(image.id, operations=operations, format="png"))
    assert by_body.size == by_json.size == (16, 32)


def test_transform_errors_are_typed(client: ProgImage) -> None:
    image = client.images.upload(make_png())
    with pytest.raises(InvalidImageError) as invalid:
        client.transform(b"definitely not an image", format="png")
    assert (invalid.value.status, invalid.value.code) == (422, "invalid_image")

    with pytest.raises(InvalidParameterError) as bad_width:
        client.transform(make_png(), format="png", width=0)
    assert bad_width.value.param == "w"

    with pytest.raises(InvalidParameterError) as bad_json_width:
        client.transform(image.id, operations=[{"op": "resize", "width": 0}], format="png")
    assert bad_json_width.value.param == "operations[0].width"

    with pytest.raises(NotFoundError):
        client.transform("01890a5d-ac96-774b-bcce-b302099a8057", format="png", width=10)
