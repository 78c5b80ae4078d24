from dataclasses import replace
from typing import Any

import pytest

from models.errors import InvalidParameter
from models.params import (
    ControlParams,
    GenerateParams,
    HiresParams,
    LoraParams,
    Txt2ImgParams,
    batch_key,
    check_generate,
    check_txt2img,
    output_size,
    steps_per_image,
)

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


GENERATE = GenerateParams("a boat", "", 64, 64, 4, 7.0, 1, 1, "euler")
HIRES = HiresParams(scale=2.0, steps=0, denoise=0.5, upscaler="latent")
LORA = LoraParams(name="style", path="/loras/style.safetensors", weight=0.8)
CONTROL = ControlParams(model="tiny-controlnet", image="/uploads/edges.png", preprocessor="canny", scale=1.0)

INVALID_GENERATE: list[tuple[str, dict[str, Any], str]] = [
    ("strength", {"init_image": "a.png", "strength": 1.5}, "1.5"),
    ("strength", {"init_image": "a.png", "strength": -0.1}, "-0.1"),
    ("mask_image", {"mask_image": "m.png"}, "needs an init_image"),
    ("mask_blur", {"init_image": "a.png", "mask_image": "m.png", "mask_blur": 65}, "65"),
    ("preview_every", {"preview_every": 5}, "5"),
    ("preview_every", {"preview_every": -1}, "-1"),
    ("hires.scale", {"hires": replace(HIRES, scale=1.0)}, "1.0"),
    ("hires.scale", {"hires": replace(HIRES, scale=4.5)}, "4.5"),
    ("hires.scale", {"width": 1536, "height": 1536, "hires": replace(HIRES, scale=1.5)}, "2304x2304"),
    ("hires.steps", {"hires": replace(HIRES, steps=151)}, "151"),
    ("hires.denoise", {"hires": replace(HIRES, denoise=1.2)}, "1.2"),
    ("hires.denoise", {"hires": replace(HIRES, denoise=0.2)}, "no denoising step"),
    ("hires.upscaler", {"hires": replace(HIRES, upscaler="esrgan")}, "latent, pixel"),
    ("hires.upscaler", {"init_image": "a.png", "strength": 0.0, "hires": HIRES}, "pixel"),
    ("hires", {"init_image": "a.png", "mask_image": "m.png", "hires": HIRES}, "inpainting"),
    ("loras[1].weight", {"loras": (LORA, replace(LORA, weight=4.5))}, "4.5"),
    ("loras", {"loras": (LORA,) * 9}, "9"),
    ("controlnets[0].scale", {"controlnets": (replace(CONTROL, scale=2.5),)}, "2.5"),
    ("controlnets", {"controlnets": (CONTROL,) * 5}, "5"),
    ("controlnets[0].preprocessor", {"controlnets": (replace(CONTROL, preprocessor="depth"),)}, "canny, none"),
    ("controlnets[0].high_threshold", {"controlnets": (replace(CONTROL, high_threshold=50),)}, "50"),
]


@pytest.mark.parametrize(("field", "change", "words"), INVALID_GENERATE)
def test_check_generate_names_the_field(field: str, change: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidParameter) as info:
        check_generate(replace(GENERATE, **change))
    assert info.value.field == field
    assert field.split("[")[0].split(".")[0] in str(info.value)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"init_image": "a.png", "strength": 0.0},
        {"init_image": "a.png", "mask_image": "m.png", "strength": 1.0, "mask_blur": 64},
        {"preview_every": 4, "hires": replace(HIRES, scale=4.0, steps=150, denoise=1.0, upscaler="pixel")},
        {"init_image": "a.png", "strength": 0.0, "hires": replace(HIRES, upscaler="pixel")},
        {"loras": (replace(LORA, weight=-4.0),) * 8, "controlnets": (replace(CONTROL, scale=0.0),) * 4},
    ],
)
def test_check_generate_accepts_the_limits(change: dict[str, Any]) -> None:
    check_generate(replace(GENERATE, **change))


def test_check_generate_checks_the_txt2img_parameters_too() -> None:
    with pytest.raises(InvalidParameter) as info:
        check_generate(replace(GENERATE, scheduler="euler_b"))
    assert info.value.field == "scheduler"


def test_steps_and_size_over_all_passes() -> None:
    assert steps_per_image(GENERATE) == 4
    assert steps_per_image(replace(GENERATE, init_image="a.png", strength=0.6)) == 2  # int(4 x 0.6)
    assert steps_per_image(replace(GENERATE, init_image="a.png", strength=0.0)) == 0
    assert steps_per_image(replace(GENERATE, hires=replace(HIRES, steps=10, denoise=0.35))) == 4 + 3
    assert output_size(replace(GENERATE, width=72, hires=replace(HIRES, scale=1.5))) == (104, 96)


def test_batch_key_groups_what_one_pipeline_call_can_run() -> None:
    key = batch_key(GENERATE)
    assert key is not None
    same = replace(GENERATE, prompt="other", negative_prompt="ugly", seed=9, count=3, preview_every=2)
    assert batch_key(same) == key
    for change in [
        {"width": 72},
        {"steps": 5},
        {"scheduler": "euler_a"},
        {"guidance": 5.0},
        {"hires": HIRES},
        {"loras": (LORA,)},
        {"controlnets": (CONTROL,)},
        {"vae": "/vaes/other"},
    ]:
        assert batch_key(replace(GENERATE, **change)) != key, change
    assert batch_key(replace(GENERATE, init_image="a.png")) is None
    assert batch_key(replace(GENERATE, init_image="a.png", mask_image="m.png")) is None


def test_params_survive_a_round_trip_through_json() -> None:
    import json

    params = replace(GENERATE, hires=HIRES, loras=(LORA, replace(LORA, name="b")), controlnets=(CONTROL,))
    assert GenerateParams.from_dict(json.loads(json.dumps(params.to_dict()))) == params
    assert GenerateParams.from_dict(GENERATE.to_dict()) == GENERATE
    assert GenerateParams.from_dict({**GENERATE.__dict__, "loras": (LORA,)}).loras == (LORA,)
