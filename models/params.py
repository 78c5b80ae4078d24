"""The parameters of a text-to-image job and the limits they must keep; light enough for the daemon to import."""

from dataclasses import dataclass

from models.errors import InvalidParameter
from models.samplers import check_sampler

MAX_PIXELS = 2048 * 2048
MAX_STEPS = 150
MAX_COUNT = 16
MAX_GUIDANCE = 50.0
MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed takes up to 64 bits


@dataclass(frozen=True)
class Txt2ImgParams:
    prompt: str
    negative_prompt: str
    width: int
    height: int
    steps: int
    guidance: float
    seed: int
    count: int
    scheduler: str


def _check_side(field: str, value: int) -> None:
    if value < 8 or value % 8 != 0:
        raise InvalidParameter(field, f"{field} must be a multiple of 8 and at least 8 pixels, got {value}")


def check_range(field: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise InvalidParameter(field, f"{field} must be between {low} and {high}, got {value}")


def check_txt2img(params: Txt2ImgParams) -> None:
    """Raise InvalidParameter for the first parameter that the pipeline cannot or should not run with."""
    if not params.prompt.strip():
        raise InvalidParameter("prompt", "prompt is empty; describe the image to generate")
    _check_side("width", params.width)
    _check_side("height", params.height)
    if params.width * params.height > MAX_PIXELS:
        raise InvalidParameter(
            "width",
            f"width x height {params.width}x{params.height} is {params.width * params.height} pixels; "
            f"at most {MAX_PIXELS} (2048x2048) are allowed, so make the image smaller",
        )
    check_range("steps", params.steps, 1, MAX_STEPS)
    check_range("count", params.count, 1, MAX_COUNT)
    check_range("guidance", params.guidance, 0.0, MAX_GUIDANCE)
    if params.seed < 0 or params.seed + params.count - 1 > MAX_SEED:
        raise InvalidParameter(
            "seed",
            f"seed must be between 0 and {MAX_SEED - params.count + 1} for {params.count} image(s), got {params.seed}",
        )
    check_sampler(params.scheduler)
