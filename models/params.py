"""The parameters of a generation job and the limits they must keep; light enough for the daemon to import."""

from dataclasses import dataclass, field

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


def _check_side(field: str, value: int) -> None:
    if value < 8 or value % 8 != 0:
        raise InvalidParameter(field, f"{field} must be a multiple of 8 and at least 8 pixels, got {value}")


def _check_range(field: str, value: float, low: float, high: float) -> None:
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
    _check_range("steps", params.steps, 1, MAX_STEPS)
    _check_range("count", params.count, 1, MAX_COUNT)
    _check_range("guidance", params.guidance, 0.0, MAX_GUIDANCE)
    if params.seed < 0 or params.seed + params.count - 1 > MAX_SEED:
        raise InvalidParameter(
            "seed",
            f"seed must be between 0 and {MAX_SEED - params.count + 1} for {params.count} image(s), got {params.seed}",
        )
    check_sampler(params.scheduler)
