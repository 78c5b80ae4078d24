"""Built-in tiny models, made on this machine from configs and seeded random weights."""

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from models.errors import ModelError, ModelNotFound

PIPELINE_KINDS = ("sd15", "sd2", "sdxl", "turbo", "pipeline")  # the kinds that make images on their own


@dataclass(frozen=True)
class ModelDefaults:
    width: int
    height: int
    steps: int
    guidance: float
    scheduler: str


@dataclass(frozen=True)
class BuiltinModel:
    name: str
    kind: str
    description: str
    defaults: ModelDefaults  # for a ControlNet: those of the model it was made for
    build: Callable[[Path], None]
    marker: str = "model_index.json"  # the file whose presence says the build finished

    def is_complete(self, folder: Path) -> bool:
        return (folder / self.marker).is_file()


def _build_tiny_sd(folder: Path) -> None:
    from models.tiny_sd import build_tiny_sd  # torch and diffusers are imported only when a model is built

    build_tiny_sd(folder, BUILTIN_MODELS["tiny-sd"].defaults.width)


def _build_tiny_sdxl(folder: Path) -> None:
    from models.tiny_sdxl import build_tiny_sdxl

    build_tiny_sdxl(folder, BUILTIN_MODELS["tiny-sdxl"].defaults.width)


def _build_tiny_controlnet(folder: Path) -> None:
    from models.tiny_controlnet import build_tiny_controlnet

    build_tiny_controlnet(folder, BUILTIN_MODELS["tiny-sd"].defaults.width)


BUILTIN_MODELS: dict[str, BuiltinModel] = {
    "tiny-sd": BuiltinModel(
        name="tiny-sd",
        kind="sd15",
        description=(
            "A tiny Stable Diffusion 1.x-shaped model with random weights: it makes noise, not pictures. "
            "It exists for tests and demos, and runs in about a second on a CPU."
        ),
        defaults=ModelDefaults(width=256, height=256, steps=20, guidance=7.0, scheduler="euler"),
        build=_build_tiny_sd,
    ),
    "tiny-sdxl": BuiltinModel(
        name="tiny-sdxl",
        kind="sdxl",
        description=(
            "A tiny Stable Diffusion XL-shaped model (two text encoders, size conditioning) with random weights: "
            "it makes noise, not pictures. It exists for tests and demos of the SDXL code paths."
        ),
        defaults=ModelDefaults(width=256, height=256, steps=20, guidance=5.0, scheduler="euler"),
        build=_build_tiny_sdxl,
    ),
    "tiny-controlnet": BuiltinModel(
        name="tiny-controlnet",
        kind="controlnet",
        description=(
            "A tiny ControlNet for tiny-sd with random weights (its zero convolutions too, so the control image "
            "changes the output). It exists for tests and demos; use it in a job's controlnets, not as its model."
        ),
        defaults=ModelDefaults(width=256, height=256, steps=20, guidance=7.0, scheduler="euler"),
        build=_build_tiny_controlnet,
        marker="config.json",
    ),
}


def ensure_builtin(name: str, models_dir: Path) -> Path:
    """The folder of built-in model `name` under models_dir, built there on first use."""
    model = BUILTIN_MODELS.get(name)
    if model is None:
        raise ModelNotFound(f"unknown built-in model '{name}'; the built-in models are: {', '.join(BUILTIN_MODELS)}")
    return build_once(name, models_dir, model.build, model.is_complete)


def build_once(name: str, models_dir: Path, build: Callable[[Path], None], is_complete: Callable[[Path], bool]) -> Path:
    """models_dir/name, made by build(folder) unless is_complete already holds for it."""
    target = models_dir / name
    if is_complete(target):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename it into place, so the target is either absent or complete.
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.building-", dir=models_dir))
    staging.chmod(0o755)  # mkdtemp makes it private; the installed model should not be
    try:
        build(staging)
        try:
            os.rename(staging, target)
        except OSError:
            if not is_complete(target):  # not a lost race: something else is in the way
                raise ModelError(
                    f"cannot install built-in model '{name}': {target} exists but is not a complete model; "
                    "remove that folder and try again"
                ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # a no-op after a successful rename
    return target
