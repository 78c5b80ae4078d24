"""What a model name in a job means: the pipeline a job runs, and the parts (LoRA, VAE, ControlNet) it adds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from imagine import types as t
from daemon.errors import InvalidRequest, ModelNotInstalled, ModelUnknown

if TYPE_CHECKING:
    from daemon.model_registry import Registered
    from models.catalog import ModelDefaults

PART_NAMES = {"lora": "LoRA", "vae": "VAE", "controlnet": "ControlNet"}
PART_SUFFIXES = {"lora": (".safetensors",), "vae": (".safetensors", ".ckpt", ".pt"), "controlnet": (".safetensors",)}


def resolve_pipeline(model: str, models_dir: Path, kinds: tuple[str, ...]) -> tuple[ModelDefaults | t.ModelDefaults, str]:
    """The defaults a job naming `model` inherits, and the model as the job records it.

    A registered model keeps its name, except a single-file one, recorded by its path because
    the worker finds only folders by name. Raises InvalidRequest, ModelUnknown or ModelNotInstalled.
    """
    from daemon.model_registry import registered

    from models.catalog import BUILTIN_MODELS

    entry = registered(models_dir).get(model)
    builtin = BUILTIN_MODELS.get(model)
    if entry is None and builtin is not None and builtin.kind not in kinds:
        entry_kind = builtin.kind
    elif entry is None:
        return _unregistered_defaults(model, models_dir), model
    else:
        entry_kind = entry.kind
    if entry_kind not in kinds:
        raise InvalidRequest(
            "model",
            f"model '{model}' is a {entry_kind}, not a model this job can run; name a "
            f"{', '.join(kinds)} model (`imagine models list` shows the kinds)",
        )
    assert entry is not None
    location = Path(entry.location)
    if not location.exists():
        raise ModelNotInstalled(
            f"the files of model '{model}' are gone from {location}; remove it with `imagine models rm {model}` "
            "and pull or add it again"
        )
    return entry.defaults, (str(location) if location.is_file() else model)


def _unregistered_defaults(model: str, models_dir: Path) -> ModelDefaults:
    from models import catalog

    try:
        source = catalog.resolve_model(model, models_dir)
        catalog.check_hub_available(source)
    except catalog.ModelNotInstalled as exc:
        raise ModelNotInstalled(str(exc)) from exc
    except catalog.ModelNotFound as exc:
        raise ModelUnknown(str(exc)) from exc
    return catalog.defaults_for(source)  # read from the model's files where they are here (see models.catalog)


def resolve_part(name: str, kind: str, models_dir: Path) -> str:
    """Where the LoRA / VAE / ControlNet a job names lives: a registered model, a built-in, a file or folder.

    Raises ModelUnknown saying how to install it.
    """
    from daemon.model_registry import registered
    from models.catalog import BUILTIN_MODELS

    label = PART_NAMES[kind]
    entry = registered(models_dir).get(name)
    if entry is not None:
        if entry.kind != kind:
            raise ModelUnknown(f"'{name}' is a {entry.kind} model, not a {label}")
        if not Path(entry.location).exists():
            raise ModelNotInstalled(f"the files of {label} '{name}' are gone from {entry.location}; add it again")
        return entry.location
    if name in BUILTIN_MODELS:
        return name
    path = Path(name).expanduser()
    if path.is_dir() or (path.is_file() and path.suffix.lower() in PART_SUFFIXES[kind]):
        return str(path.resolve())
    raise ModelUnknown(
        f"{label} '{name}' is not installed: add its file with `imagine models add FILE --name {name}` "
        f"(`imagine models list` shows what is installed)"
    )


def _weights_engine(model: str, entry: Registered | None) -> str:
    """The engine a vision model's own weights run on: onnxruntime for .onnx, pytorch for .pt."""
    onnx = entry.kind == "onnx" if entry is not None else model.endswith(".onnx")
    return "onnxruntime" if onnx else "pytorch"


def default_engine(model: str, models_dir: Path) -> str:
    """The engine a detect job on `model` uses when it names none: the registered choice, else its weights'."""
    from daemon.model_registry import registered

    entry = registered(models_dir).get(model)
    if entry is not None and entry.defaults.engine:
        return entry.defaults.engine.split("-")[0]  # onnxruntime-int8 runs on onnxruntime
    return _weights_engine(model, entry)


def engine_model(model: str, engine: str, models_dir: Path) -> str:
    """Where a detect job on `engine` runs: the model's registered export for it ("" = the model itself).

    InvalidRequest when the model's weights need another engine and it has no export for this one."""
    from daemon.model_registry import registered

    models = registered(models_dir)
    entry = models.get(model)
    if entry is not None and entry.engine_model and entry.defaults.engine.split("-")[0] == engine:
        export = models.get(entry.engine_model)
        if export is not None:
            return export.location
    weights_engine = _weights_engine(model, entry)
    if engine != weights_engine:
        raise InvalidRequest(
            "detect.engine",
            f"detect.engine: model '{model}' runs on {weights_engine}; for {engine}, export it first "
            f"(`imagine models export {model} --format onnx`) and detect with the exported model, "
            f"or let `imagine bench {model} --select` choose",
        )
    return ""
