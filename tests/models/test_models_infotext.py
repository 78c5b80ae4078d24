import io
import json

import pytest
from PIL import Image

from models.diffusion import Txt2ImgParams
from models.infotext import encode_png, infotext, read_png_metadata

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
