"""Keyword transformations mapped to the API's query, pipeline and JSON forms (no server)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from progimage import ProgImage
from progimage._transformations import json_body, pipeline_text, query_params

IMAGE_ID = "01890a5d-ac96-774b-bcce-b302099a8057"


def test_every_keyword_maps_to_its_query_name_in_the_fixed_order() -> None:
    params = query_params(
        {
            "quality": 80,
            "mask": "rounded:12",
            "contrast": -10,
            "brightness": 20.5,
            "sharpen": 1,
            "blur": 0.5,
            "grayscale": True,
            "flip": "h",
            "rotate": 90.0,
            "enlarge": False,
            "gravity": "smart",
            "fit": "cover",
            "height": 100,
            "width": 200,
            "crop": (1, 2, 30, 40),
            "lossless": True,
            "background": "#ff000080",
            "strip": False,
            "svg": "embed",
        }
    )
    assert params == [
        ("crop", "1,2,30,40"),
        ("w", "200"),
        ("h", "100"),
        ("fit", "cover"),
        ("gravity", "smart"),
        ("enlarge", "false"),
        ("rotate", "90"),
        ("flip", "h"),
        ("grayscale", "true"),
        ("blur", "0.5"),
        ("sharpen", "1"),
        ("brightness", "20.5"),
        ("contrast", "-10"),
        ("mask", "rounded:12"),
        ("q", "80"),
        ("lossless", "true"),
        ("bg", "ff000080"),
        ("strip", "false"),
        ("svg", "embed"),
    ]


def test_none_values_are_left_out() -> None:
    assert query_params({"width": None, "quality": None}) == []


def test_operations_become_the_ops_pipeline_beside_output_settings() -> None:
    operations = [
        {"op": "rotate", "degrees": 90},
        {"op": "resize", "width": 300, "height": 300, "fit": "cover"},
        {"op": "grayscale"},
    ]
    assert query_params({"quality": 70}, operations) == [
        ("ops", "rotate:degrees=90|resize:width=300,height=300,fit=cover|grayscale"),
        ("q", "70"),
    ]


def test_pipeline_text_spells_every_value_type() -> None:
    text = pipeline_text(
        [
            {"op": "crop", "x": 0, "y": 5, "width": 10, "height": 20},
            {"op": "resize", "width": 10, "enlarge": True},
            {"op": "mask", "shape": "rounded", "radius": 12},
            {"op": "blur", "sigma": 1.25},
        ]
    )
    assert text == (
        "crop:x=0,y=5,width=10,height=20|resize:width=10,enlarge=true"
        "|mask:shape=rounded,radius=12|blur:sigma=1.25"
    )


def test_steps_both_as_operations_and_keywords_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        query_params({"width": 10}, [{"op": "grayscale"}])


def test_unknown_keywords_are_refused_by_name() -> None:
    with pytest.raises(TypeError, match="widht"):
        query_params({"widht": 10})


@pytest.mark.parametrize(
    "operations",
    ["grayscale", [{"name": "grayscale"}], [["op", "grayscale"]]],
)
def test_malformed_operations_are_refused(operations: object) -> None:
    with pytest.raises(TypeError):
        query_params({}, operations)  # type: ignore[arg-type]


def test_values_that_text_cannot_carry_are_refused() -> None:
    with pytest.raises(ValueError):
        pipeline_text([{"op": "mask", "image_id": "a,b"}])
    with pytest.raises(ValueError):
        query_params({"rotate": float("nan")})
    with pytest.raises(ValueError):
        query_params({"crop": (1, 2, 3)})


def test_keywords_become_json_operations_in_the_query_order() -> None:
    body = json_body(
        {
            "mask": "circle",
            "grayscale": True,
            "rotate": 45,
            "width": 50,
            "fit": "fill",
            "crop": "0,0,20,10",
            "flip": "v",
            "blur": 2,
            "brightness": 10,
            "quality": 60,
            "background": "#00ff00",
        },
        None,
        "webp",
    )
    assert body == {
        "operations": [
            {"op": "crop", "x": 0, "y": 0, "width": 20, "height": 10},
            {"op": "resize", "width": 50, "fit": "fill"},
            {"op": "rotate", "degrees": 45},
            {"op": "flip", "axis": "v"},
            {"op": "grayscale"},
            {"op": "blur", "sigma": 2},
            {"op": "brightness", "amount": 10},
            {"op": "mask", "shape": "circle"},
        ],
        "format": "webp",
        "quality": 60,
        "background": "00ff00",
    }


@pytest.mark.parametrize(
    ("mask", "operation"),
    [
        ("ellipse", {"op": "mask", "shape": "ellipse"}),
        ("rounded:8", {"op": "mask", "shape": "rounded", "radius": 8}),
        (IMAGE_ID, {"op": "mask", "image_id": IMAGE_ID}),
    ],
)
def test_mask_keywords_become_their_json_form(mask: str, operation: dict) -> None:
    assert json_body({"mask": mask}, None, None) == {"operations": [operation]}


def test_grayscale_false_adds_no_step() -> None:
    assert json_body({"grayscale": False}, None, None) == {}


def test_image_urls_are_built_without_a_request() -> None:
    with ProgImage("http://images.example:8080/") as client:
        assert client.images.url(IMAGE_ID) == f"http://images.example:8080/v1/images/{IMAGE_ID}"
        url = client.images.url(IMAGE_ID, "WEBP", width=300, crop=(0, 0, 10, 10), quality=80)
        parts = urlsplit(url)
        assert parts.path == f"/v1/images/{IMAGE_ID}.webp"
        assert parse_qsl(parts.query) == [("crop", "0,0,10,10"), ("w", "300"), ("q", "80")]
        ops_url = client.images.url(IMAGE_ID, "png", operations=[{"op": "rotate", "degrees": 90}])
        assert ops_url.endswith(".png?ops=rotate:degrees=90")
        with pytest.raises(ValueError, match="format"):
            client.images.url(IMAGE_ID, width=10)
        # No steps at all is the original, however they are spelled.
        assert client.images.url(IMAGE_ID, operations=[], width=None) == client.images.url(IMAGE_ID)


def test_ids_cannot_escape_their_path_segment() -> None:
    with ProgImage("http://images.example") as client:
        assert (
            client.images.url("../jobs?x=1") == "http://images.example/v1/images/..%2Fjobs%3Fx%3D1"
        )
