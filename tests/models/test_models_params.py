from dataclasses import replace
from typing import Any

import pytest

from models.errors import InvalidParameter
from models.params import Txt2ImgParams, check_txt2img

INVALID: list[tuple[str, dict[str, Any]]] = [
    ("prompt", {"prompt": ""}),
    ("prompt", {"prompt": "   "}),
    ("width", {"width": 100}),
    ("width", {"width": 0}),
    ("height", {"height": 63}),
    ("height", {"height": -8}),
    ("width", {"width": 4096, "height": 2048}),
    ("steps", {"steps": 0}),
    ("steps", {"steps": 151}),
    ("count", {"count": 0}),
    ("count", {"count": 17}),
    ("guidance", {"guidance": -0.5}),
    ("guidance", {"guidance": 50.5}),
    ("seed", {"seed": -1}),
    ("seed", {"seed": 2**64}),
    ("scheduler", {"scheduler": "euler_b"}),
]


@pytest.mark.parametrize(("field", "change"), INVALID)
def test_invalid_parameter_names_field_and_value(
    small_params: Txt2ImgParams, field: str, change: dict[str, Any]
) -> None:
    with pytest.raises(InvalidParameter) as info:
        check_txt2img(replace(small_params, **change))
    assert info.value.field == field
    assert field in str(info.value)
    if field != "prompt":
        assert str(change[field]) in str(info.value)


@pytest.mark.parametrize(
    "change",
    [
        {"width": 8, "height": 8},
        {"width": 2048, "height": 2048},
        {"steps": 150, "count": 16, "guidance": 50.0},
        {"guidance": 0.0, "seed": 0},
        {"seed": 2**64 - 1},
    ],
)
def test_limits_are_accepted(small_params: Txt2ImgParams, change: dict[str, Any]) -> None:
    check_txt2img(replace(small_params, **change))
