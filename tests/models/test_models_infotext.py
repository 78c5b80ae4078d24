import io
import json

import pytest
from PIL import Image

from models.diffusion import Txt2ImgParams
from models.infotext import encode_png, infotext, read_png_metadata
from models.params import ControlParams, GenerateParams, HiresParams, LoraParams

PARAMS = Txt2ImgParams(
    prompt="a cat in a hat",
    negative_prompt="blurry, ugly",
    width=128,
    height=96,
    steps=8,
    guidance=7,
    seed=123,
    count=1,
    scheduler="euler_a",
)


def test_infotext_in_a1111_format() -> None:
    assert infotext(PARAMS, "tiny-sd") == (
        "a cat in a hat\n"
        "Negative prompt: blurry, ugly\n"
        "Steps: 8, Sampler: Euler a, CFG scale: 7.0, Seed: 123, Size: 128x96, Model: tiny-sd"
    )


def test_infotext_without_negative_prompt() -> None:
    text = Txt2ImgParams(**{**PARAMS.__dict__, "negative_prompt": "", "scheduler": "dpmpp_2m_karras"})
    assert infotext(text, "tiny-sd").splitlines() == [
        "a cat in a hat",
        "Steps: 8, Sampler: DPM++ 2M Karras, CFG scale: 7.0, Seed: 123, Size: 128x96, Model: tiny-sd",
    ]


def test_model_name_with_comma_is_quoted() -> None:
    assert infotext(PARAMS, "a, b").endswith('Model: "a, b"')


@pytest.mark.parametrize("prompt", ["plain", "ünïcödé 東京 🙂"])
def test_png_metadata_round_trip(prompt: str) -> None:
    spec = json.dumps({"prompt": prompt, "seed": 5}, ensure_ascii=False)
    image = Image.new("RGB", (16, 8), (10, 20, 30))
    data = encode_png(image, f"{prompt}\nSteps: 1", spec)
    assert data.startswith(b"\x89PNG")
    assert read_png_metadata(data) == {"parameters": f"{prompt}\nSteps: 1", "imagine": spec}
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.size == (16, 8) and decoded.getpixel((3, 3)) == (10, 20, 30)


def test_png_bytes_depend_only_on_pixels_and_text() -> None:
    def make() -> bytes:
        return encode_png(Image.new("RGB", (8, 8), (1, 2, 3)), "p", "{}")

    assert make() == make()
    assert make() != encode_png(Image.new("RGB", (8, 8), (1, 2, 3)), "p", '{"a": 1}')


def _settings(text: str) -> str:
    return text.splitlines()[-1]


def test_img2img_and_inpainting_keys() -> None:
    params = GenerateParams(
        **PARAMS.__dict__, init_image="/up/a.png", mask_image="/up/m.png", strength=0.6, mask_blur=8
    )
    assert _settings(infotext(params, "tiny-sd")).endswith("Model: tiny-sd, Denoising strength: 0.6, Mask blur: 8")


def test_hires_keys_as_a1111_writes_them() -> None:
    params = GenerateParams(**PARAMS.__dict__, hires=HiresParams(scale=2.0, steps=10, denoise=0.45, upscaler="latent"))
    assert _settings(infotext(params, "tiny-sd")).endswith(
        "Size: 128x96, Model: tiny-sd, Denoising strength: 0.45, Hires upscale: 2, Hires steps: 10, Hires upscaler: Latent"
    )
    pixel = GenerateParams(**PARAMS.__dict__, hires=HiresParams(scale=1.5, steps=0, denoise=0.3, upscaler="pixel"))
    assert _settings(infotext(pixel, "m")).endswith(
        "Denoising strength: 0.3, Hires upscale: 1.5, Hires upscaler: Lanczos"
    )


def test_loras_go_into_the_prompt_and_controlnets_into_quoted_units() -> None:
    params = GenerateParams(
        **{**PARAMS.__dict__, "prompt": "a cat <lora:fur:0.5>"},
        loras=(LoraParams("fur", "/l/fur.safetensors", 0.5), LoraParams("ink", "/l/ink.safetensors", -1.25)),
        controlnets=(
            ControlParams("/cn/control_canny", "/up/c.png", "canny", 0.8, 50, 150),
            ControlParams("tiny-controlnet", "/up/d.png", "none", 1.0),
        ),
        vae="/vaes/anime.safetensors",
    )
    text = infotext(params, "tiny-sd")
    assert text.splitlines()[0] == "a cat <lora:fur:0.5> <lora:ink:-1.25>"
    assert _settings(text).endswith(
        "Model: tiny-sd, VAE: anime.safetensors, "
        'ControlNet 0: "Module: canny, Model: control_canny, Weight: 0.8, Threshold A: 50, Threshold B: 150", '
        'ControlNet 1: "Module: none, Model: tiny-controlnet, Weight: 1"'
    )
