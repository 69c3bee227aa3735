"""Transformations as keyword arguments, mapped to the API's query, pipeline-text and JSON forms."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

#: Step keyword arguments and their query parameter names, in the API's fixed order.
STEP_PARAMETERS: Dict[str, str] = {
    "crop": "crop",
    "width": "w",
    "height": "h",
    "fit": "fit",
    "gravity": "gravity",
    "enlarge": "enlarge",
    "rotate": "rotate",
    "flip": "flip",
    "grayscale": "grayscale",
    "blur": "blur",
    "sharpen": "sharpen",
    "brightness": "brightness",
    "contrast": "contrast",
    "mask": "mask",
}

#: Output-setting keyword arguments, their query names and their JSON names.
OUTPUT_SETTINGS: Dict[str, Tuple[str, str]] = {
    "quality": ("q", "quality"),
    "lossless": ("lossless", "lossless"),
    "background": ("bg", "background"),
    "strip": ("strip", "strip"),
    "svg": ("svg", "svg"),
}

Operations = Sequence[Mapping[str, Any]]
QueryParams = List[Tuple[str, str]]


def _given(
    transformations: Mapping[str, Any], operations: Optional[Operations]
) -> Tuple[Dict[str, Any], List[str]]:
    """The transformations that have a value, and which of them are steps, checked."""
    unknown = sorted(set(transformations) - set(STEP_PARAMETERS) - set(OUTPUT_SETTINGS))
    if unknown:
        known = ", ".join(list(STEP_PARAMETERS) + list(OUTPUT_SETTINGS))
        raise TypeError(f"unknown transformation(s) {', '.join(unknown)}; known: {known}")
    given = {name: value for name, value in transformations.items() if value is not None}
    steps = [name for name in STEP_PARAMETERS if name in given]
    if operations is not None and steps:
        raise ValueError(
            f"give steps either as operations or as keywords, not both (got {', '.join(steps)})"
        )
    return given, steps


def format_value(value: Any) -> str:
    """One value as the query and pipeline text spell it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"cannot send {value!r} ({type(value).__name__}) as a transformation value")


def _crop_tuple(value: Any) -> Tuple[Any, Any, Any, Any]:
    if isinstance(value, str):
        parts: Sequence[Any] = [part.strip() for part in value.split(",")]
    elif isinstance(value, (list, tuple)):
        parts = value
    else:
        raise TypeError("crop must be (x, y, width, height)")
    if len(parts) != 4:
        raise ValueError("crop must have four values: (x, y, width, height)")
    return parts[0], parts[1], parts[2], parts[3]


def _background(value: Any) -> Any:
    # Accept the CSS-style "#rrggbb" as well as the API's bare hex.
    return value[1:] if isinstance(value, str) and value.startswith("#") else value


def _query_value(name: str, value: Any) -> str:
    if name == "crop":
        return ",".join(format_value(part) for part in _crop_tuple(value))
    if name == "background":
        value = _background(value)
    return format_value(value)


def pipeline_text(operations: Operations) -> str:
    """The ``ops`` text pipeline for a JSON operation list (``name:key=value,...|...``)."""
    steps = []
    for index, operation in enumerate(_check_operations(operations)):
        name = operation["op"]
        arguments = []
        for key, value in operation.items():
            if key == "op":
                continue
            text = format_value(value)
            if any(separator in text for separator in "|,="):
                raise ValueError(f"operations[{index}].{key}: {text!r} cannot be written as text")
            arguments.append(f"{key}={text}")
        steps.append(f"{name}:{','.join(arguments)}" if arguments else name)
    return "|".join(steps)


def _check_operations(operations: Operations) -> List[Mapping[str, Any]]:
    if isinstance(operations, (str, bytes)) or not isinstance(operations, Sequence):
        raise TypeError("operations must be a list of {'op': name, ...} mappings")
    checked = []
    for index, operation in enumerate(operations):
        if not isinstance(operation, Mapping) or not isinstance(operation.get("op"), str):
            raise TypeError(f"operations[{index}] must be a mapping with an 'op' name")
        checked.append(operation)
    return checked


def query_params(
    transformations: Mapping[str, Any], operations: Optional[Operations] = None
) -> QueryParams:
    """Query parameters for keyword transformations, or for ``operations`` sent as ``ops``."""
    given, steps = _given(transformations, operations)
    params: QueryParams = []
    pipeline = pipeline_text(operations) if operations is not None else ""
    # An empty list means no steps: send nothing rather than an empty pipeline.
    if pipeline:
        params.append(("ops", pipeline))
    for name in steps:
        params.append((STEP_PARAMETERS[name], _query_value(name, given[name])))
    for name, (query_name, _) in OUTPUT_SETTINGS.items():
        if name in given:
            params.append((query_name, _query_value(name, given[name])))
    return params


def _mask_operation(value: Any) -> Dict[str, Any]:
    if not isinstance(value, str):
        raise TypeError("mask must be 'circle', 'ellipse', 'rounded:<radius>' or an image id")
    if value in ("circle", "ellipse"):
        return {"op": "mask", "shape": value}
    if value.startswith("rounded:"):
        radius_text = value[len("rounded:") :]
        try:
            radius: Any = int(radius_text)
        except ValueError:
            radius = float(radius_text)
        return {"op": "mask", "shape": "rounded", "radius": radius}
    return {"op": "mask", "image_id": value}


def json_operations(transformations: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The JSON operation list equivalent to keyword steps, in the query form's fixed order."""
    given = {
        name: value
        for name, value in transformations.items()
        if value is not None and name in STEP_PARAMETERS
    }
    operations: List[Dict[str, Any]] = []
    if "crop" in given:
        x, y, width, height = (int(part) for part in _crop_tuple(given["crop"]))
        operations.append({"op": "crop", "x": x, "y": y, "width": width, "height": height})
    resize = {
        key: given[name]
        for name, key in (
            ("width", "width"),
            ("height", "height"),
            ("fit", "fit"),
            ("gravity", "gravity"),
            ("enlarge", "enlarge"),
        )
        if name in given
    }
    if resize:
        operations.append({"op": "resize", **resize})
    if "rotate" in given:
        operations.append({"op": "rotate", "degrees": given["rotate"]})
    if "flip" in given:
        operations.append({"op": "flip", "axis": given["flip"]})
    if given.get("grayscale"):
        operations.append({"op": "grayscale"})
    for name, key in (
        ("blur", "sigma"),
        ("sharpen", "sigma"),
        ("brightness", "amount"),
        ("contrast", "amount"),
    ):
        if name in given:
            operations.append({"op": name, key: given[name]})
    if "mask" in given:
        operations.append(_mask_operation(given["mask"]))
    return operations


def json_body(
    transformations: Mapping[str, Any],
    operations: Optional[Operations],
    output_format: Optional[str],
) -> Dict[str, Any]:
    """The steps and output settings of a JSON request body (``/v1/transform``)."""
    given, _ = _given(transformations, operations)
    body: Dict[str, Any] = {}
    steps_json = (
        [dict(operation) for operation in _check_operations(operations)]
        if operations is not None
        else json_operations(given)
    )
    if operations is not None or steps_json:
        body["operations"] = steps_json
    if output_format is not None:
        body["format"] = output_format
    for name, (_, json_name) in OUTPUT_SETTINGS.items():
        if name in given:
            value = given[name]
            body[json_name] = _background(value) if name == "background" else value
    return body
