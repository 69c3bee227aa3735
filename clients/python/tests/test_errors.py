"""Problem documents from the real server mapped to exception classes with their details."""

from __future__ import annotations

import pytest
from support import fixture_path, free_port, make_png

from progimage import (
    APIConnectionError,
    APIError,
    ImageTooLargeError,
    InvalidImageError,
    InvalidParameterError,
    MediaTypeMismatchError,
    NotFoundError,
    ProgImage,
    ProgImageError,
    UnsupportedFormatError,
    UnsupportedMediaTypeError,
)

UNKNOWN_ID = "01890a5d-ac96-774b-bcce-b302099a8057"


def test_an_unknown_id_is_not_found_with_the_whole_problem(client: ProgImage) -> None:
    with pytest.raises(NotFoundError) as raised:
        client.images.get(UNKNOWN_ID)
    error = raised.value
    assert isinstance(error, APIError) and isinstance(error, ProgImageError)
    assert (error.status, error.code) == (404, "not_found")
    assert error.detail
    assert error.request_id and error.request_id == error.headers["x-request-id"]
    assert error.problem is not None
    assert error.problem["type"] == "urn:progimage:problem:not_found"
    assert error.problem["status"] == 404
    assert "404 not_found" in str(error)


@pytest.mark.parametrize("image_id", ["not-a-uuid", "..", "a b"])
def test_malformed_ids_in_a_path_are_not_found(client: ProgImage, image_id: str) -> None:
    with pytest.raises(NotFoundError):
        client.images.get(image_id)


def test_an_unknown_extension_is_an_unsupported_format(client: ProgImage) -> None:
    image = client.images.upload(make_png())
    with pytest.raises(UnsupportedFormatError) as raised:
        client.images.download(image.id, "xyz")
    assert (raised.value.status, raised.value.code) == (404, "unsupported_format")
    assert isinstance(raised.value, NotFoundError)


@pytest.mark.parametrize(
    ("transformations", "param"),
    [
        ({"width": 0}, "w"),
        ({"height": 20000}, "h"),
        ({"fit": "squash"}, "fit"),
        ({"blur": 101}, "blur"),
        ({"quality": 0}, "q"),
        ({"background": "nothex"}, "bg"),
    ],
)
def test_bad_transformations_name_their_parameter(
    client: ProgImage, transformations: dict, param: str
) -> None:
    image = client.images.upload(make_png())
    with pytest.raises(InvalidParameterError) as raised:
        client.images.download(image.id, "png", **transformations)
    assert (raised.value.status, raised.value.code, raised.value.param) == (
        400,
        "invalid_parameter",
        param,
    )


def test_a_bad_cursor_is_an_invalid_parameter(client: ProgImage) -> None:
    with pytest.raises(InvalidParameterError):
        client.images.list_page(cursor="this-is-no-cursor")


@pytest.mark.parametrize(
    ("data", "options", "error_class", "code"),
    [
        (b"", {}, InvalidImageError, "invalid_image"),
        (b"just some text", {}, InvalidImageError, "invalid_image"),
        (
            b"just some text",
            {"content_type": "text/plain"},
            UnsupportedMediaTypeError,
            "unsupported_media_type",
        ),
        (make_png(), {"filename": "photo.jpg"}, MediaTypeMismatchError, "media_type_mismatch"),
        (make_png(), {"content_type": "image/gif"}, MediaTypeMismatchError, "media_type_mismatch"),
    ],
)
def test_bad_uploads_are_typed(
    client: ProgImage, data: bytes, options: dict, error_class: type, code: str
) -> None:
    with pytest.raises(error_class) as raised:
        client.images.upload(data, **options)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("name", "error_class", "status", "code"),
    [
        ("hostile/photoshop.psd", UnsupportedMediaTypeError, 415, "unsupported_media_type"),
        ("hostile/truncated.png", InvalidImageError, 422, "invalid_image"),
        ("hostile/truncated.jpg", InvalidImageError, 422, "invalid_image"),
        ("hostile/bomb-60000x60000.png", ImageTooLargeError, 422, "image_too_large"),
    ],
)
def test_hostile_fixtures_are_refused_with_their_code(
    client: ProgImage, name: str, error_class: type, status: int, code: str
) -> None:
    with pytest.raises(error_class) as raised:
        client.images.upload(fixture_path(name))
    assert (raised.value.status, raised.value.code) == (status, code)


def test_an_unreachable_server_is_a_connection_error() -> None:
    with ProgImage(f"http://127.0.0.1:{free_port()}", max_retries=0, timeout=5) as client:
        with pytest.raises(APIConnectionError) as raised:
            client.images.get(UNKNOWN_ID)
    assert raised.value.status is None and raised.value.code is None
