"""The parameters of a generation job and the limits they must keep; light enough for the daemon to import."""

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from models.errors import InvalidParameter
from models.samplers import check_sampler

T = TypeVar("T")
MAX_PIXELS = 2048 * 2048
MAX_STEPS = 150
MAX_COUNT = 16
MAX_GUIDANCE = 50.0
MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed takes up to 64 bits
MAX_MASK_BLUR = 64
MAX_HIRES_SCALE = 4.0
HIRES_UPSCALERS = ("latent", "pixel")
MAX_LORAS = 8
MAX_LORA_WEIGHT = 4.0
MAX_CONTROLNETS = 4
MAX_CONTROL_SCALE = 2.0
CONTROL_PREPROCESSORS = ("canny", "none")


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


@dataclass(frozen=True)
class LoraParams:
    name: str  # as the job names it (registry name, file stem or <lora:name:weight> in the prompt)
    path: str  # the resolved .safetensors file
    weight: float


@dataclass(frozen=True)
class ControlParams:
    model: str  # a resolved ControlNet folder, or a built-in name such as tiny-controlnet
    image: str  # path of the control image file
    preprocessor: str  # "canny" | "none" (the image is already a control map)
    scale: float  # conditioning scale, 0..2
    low_threshold: int = 100  # canny only
    high_threshold: int = 200  # canny only


@dataclass(frozen=True)
class HiresParams:
    scale: float  # 1 < scale <= 4: the second pass is scale x the first pass's size
    steps: int  # steps of the second pass; 0 = as many as the first
    denoise: float  # 0..1: how much the second pass may change the upscaled image
    upscaler: str  # "latent" (upscale the latents) | "pixel" (Lanczos on the decoded image)


def _as(cls: type[T], value: Any) -> T:
    return value if isinstance(value, cls) else cls(**value)


@dataclass(frozen=True)
class GenerateParams(Txt2ImgParams):
    """Every generation job: txt2img, img2img (init_image set) and inpainting (mask_image set too).

    Paths are files on the worker's machine: the daemon stores uploads and resolves output ids first.
    """

    init_image: str = ""
    mask_image: str = ""  # white = repaint, black = keep; inpainting needs init_image
    strength: float = 0.75  # img2img / inpaint: 0 keeps the init image, 1 ignores it
    mask_blur: int = 4  # pixels of feathering at the mask's edge
    hires: HiresParams | None = None
    loras: tuple[LoraParams, ...] = field(default_factory=tuple)
    controlnets: tuple[ControlParams, ...] = field(default_factory=tuple)
    vae: str = ""  # a resolved VAE folder or single file; "" = the model's own
    preview_every: int = 0  # 0 = no previews; else a small preview image every N steps

    @property
    def mode(self) -> str:
        if self.mask_image:
            return "inpaint"
        return "img2img" if self.init_image else "txt2img"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able values, e.g. for the daemon-to-worker protocol; from_dict reverses it."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "GenerateParams":
        hires = values.get("hires")
        return cls(
            **{
                **values,
                "hires": None if hires is None else _as(HiresParams, hires),
                "loras": tuple(_as(LoraParams, lora) for lora in values.get("loras", ())),
                "controlnets": tuple(_as(ControlParams, control) for control in values.get("controlnets", ())),
            }
        )


def denoising_steps(steps: int, strength: float) -> int:
    """Steps a pass of `steps` at `strength` runs, as diffusers counts them; 0 = the pass changes nothing."""
    return min(int(steps * strength), steps)


def hires_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """The second pass's size: scale x the first, rounded down to multiples of 8."""
    return int(width * scale) // 8 * 8, int(height * scale) // 8 * 8


def output_size(params: GenerateParams) -> tuple[int, int]:
    if params.hires is None:
        return params.width, params.height
    return hires_size(params.width, params.height, params.hires.scale)


def steps_per_image(params: GenerateParams) -> int:
    """Denoising steps one image of the job runs over all its passes: the `total` its progress counts to."""
    first = params.steps if params.mode == "txt2img" else denoising_steps(params.steps, params.strength)
    if params.hires is None:
        return first
    return first + denoising_steps(params.hires.steps or params.steps, params.hires.denoise)


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
    _check_pixel_cap("width", params.width, params.height, "width x height")
    check_range("steps", params.steps, 1, MAX_STEPS)
    check_range("count", params.count, 1, MAX_COUNT)
    check_range("guidance", params.guidance, 0.0, MAX_GUIDANCE)
    if params.seed < 0 or params.seed + params.count - 1 > MAX_SEED:
        raise InvalidParameter(
            "seed",
            f"seed must be between 0 and {MAX_SEED - params.count + 1} for {params.count} image(s), got {params.seed}",
        )
    check_sampler(params.scheduler)


def _check_pixel_cap(field: str, width: int, height: int, what: str) -> None:
    if width * height > MAX_PIXELS:
        raise InvalidParameter(
            field,
            f"{what} {width}x{height} is {width * height} pixels; at most {MAX_PIXELS} (2048x2048) are allowed, "
            "so make the image smaller",
        )


def _check_hires(params: GenerateParams, hires: HiresParams) -> None:
    if params.mask_image:
        raise InvalidParameter(
            "hires", "hires fix cannot be combined with inpainting; inpaint first, then upscale the result"
        )
    if not 1.0 < hires.scale <= MAX_HIRES_SCALE:
        raise InvalidParameter(
            "hires.scale", f"hires.scale must be above 1 and at most {MAX_HIRES_SCALE}, got {hires.scale}"
        )
    check_range("hires.steps", hires.steps, 0, MAX_STEPS)
    check_range("hires.denoise", hires.denoise, 0.0, 1.0)
    if hires.upscaler not in HIRES_UPSCALERS:
        raise InvalidParameter(
            "hires.upscaler", f"unknown hires.upscaler '{hires.upscaler}'; choose one of: {', '.join(HIRES_UPSCALERS)}"
        )
    if hires.upscaler == "latent" and params.init_image and denoising_steps(params.steps, params.strength) == 0:
        raise InvalidParameter(
            "hires.upscaler",
            "hires.upscaler 'latent' needs a first pass that denoises, but strength 0 runs none; "
            "use hires.upscaler 'pixel' to upscale the init image as it is",
        )
    steps = hires.steps or params.steps
    if denoising_steps(steps, hires.denoise) < 1:
        raise InvalidParameter(
            "hires.denoise",
            f"hires.denoise {hires.denoise} with {steps} steps runs no denoising step at all; "
            f"raise hires.denoise to at least {1 / steps:.2f} or use more hires steps",
        )
    width, height = hires_size(params.width, params.height, hires.scale)
    _check_pixel_cap("hires.scale", width, height, f"the upscaled size (hires.scale {hires.scale})")


def _check_adapters(params: GenerateParams) -> None:
    if len(params.loras) > MAX_LORAS:
        raise InvalidParameter("loras", f"loras: at most {MAX_LORAS} LoRAs per job, got {len(params.loras)}; drop some")
    for i, lora in enumerate(params.loras):
        check_range(f"loras[{i}].weight", lora.weight, -MAX_LORA_WEIGHT, MAX_LORA_WEIGHT)
    if len(params.controlnets) > MAX_CONTROLNETS:
        raise InvalidParameter(
            "controlnets",
            f"controlnets: at most {MAX_CONTROLNETS} ControlNets per job, got {len(params.controlnets)}; drop some",
        )
    for i, control in enumerate(params.controlnets):
        check_range(f"controlnets[{i}].scale", control.scale, 0.0, MAX_CONTROL_SCALE)
        if control.preprocessor not in CONTROL_PREPROCESSORS:
            raise InvalidParameter(
                f"controlnets[{i}].preprocessor",
                f"unknown controlnets[{i}].preprocessor '{control.preprocessor}'; "
                f"choose one of: {', '.join(CONTROL_PREPROCESSORS)}",
            )
        check_range(f"controlnets[{i}].low_threshold", control.low_threshold, 0, 255)
        check_range(f"controlnets[{i}].high_threshold", control.high_threshold, control.low_threshold, 255)


def check_generate(params: GenerateParams) -> None:
    """check_txt2img, then every parameter of img2img, inpainting, hires fix, adapters and previews."""
    check_txt2img(params)
    check_range("strength", params.strength, 0.0, 1.0)
    if params.mask_image and not params.init_image:
        raise InvalidParameter("mask_image", "mask_image needs an init_image to inpaint; give the image to paint on")
    check_range("mask_blur", params.mask_blur, 0, MAX_MASK_BLUR)
    check_range("preview_every", params.preview_every, 0, params.steps)
    if params.hires is not None:
        _check_hires(params, params.hires)
    _check_adapters(params)


def batch_key(params: GenerateParams) -> tuple[object, ...] | None:
    """Jobs with equal keys may run as one pipeline call; None = this job always runs alone.

    Only text-to-image jobs batch (img2img and inpainting jobs each bring their own image). The
    prompt, negative prompt, seed, count and preview interval may differ within a batch.
    """
    if params.mode != "txt2img":
        return None
    return (
        params.width,
        params.height,
        params.steps,
        params.scheduler,
        float(params.guidance),
        params.hires,
        params.loras,
        params.controlnets,
        params.vae,
    )
