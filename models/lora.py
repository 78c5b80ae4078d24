"""LoRA adapters applied to a loaded pipeline for one job, without ever reloading the base model.

Each LoRA file is loaded once into the pipeline as a named peft adapter (named from the file's path,
size and modification time, so an edited file is loaded afresh) and stays there, switched off, for
the next job that wants it; at most MAX_LOADED_ADAPTERS are kept, least recently used dropped first.
While a job runs exactly its adapters are active with its weights; afterwards every adapter is
disabled, and peft's disabled layers compute only their base layer, so a plain job gives bit for
bit what it gave before any LoRA was loaded.
"""

import hashlib
import logging
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from transformers.utils import logging as transformers_logging

from models.errors import InvalidParameter, ModelError, UnknownModelLayout
from models.params import LoraParams
from models.probe import classify_tensor_names, safetensors_header, weights_file_of

log = logging.getLogger(__name__)
MAX_LOADED_ADAPTERS = 8
# Adapter names per denoiser in the order jobs last used them; adapters live in the shared modules,
# so pipelines derived with from_pipe see the same ones.
_recently_used: "weakref.WeakKeyDictionary[Any, OrderedDict[str, None]]" = weakref.WeakKeyDictionary()


def adapter_name(path: Path) -> str:
    """A peft adapter name for the file as it is now: the same file unchanged always gets the same name."""
    stat = path.stat()
    key = f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}"
    return "lora_" + hashlib.sha256(key.encode()).hexdigest()[:16]


def loaded_adapters(pipe: Any) -> set[str]:
    if not hasattr(pipe, "get_list_adapters"):
        return set()
    return {name for names in pipe.get_list_adapters().values() for name in names}


def _check_file(lora: LoraParams) -> Path:
    """The LoRA's weights file: lora.path itself (links followed), or the one .safetensors file of a LoRA folder."""
    path = Path(lora.path).expanduser().resolve()
    if path.is_dir():
        weights = weights_file_of(path)
        if weights is None:
            raise ModelError(
                f"LoRA '{lora.name}': folder {path} holds no single .safetensors file; point at the LoRA file itself"
            )
        path = weights
    if not path.is_file():
        raise ModelError(
            f"LoRA '{lora.name}': file {path} does not exist; check the name or path, or add it with "
            "`imagine models add`"
        )
    if path.suffix.lower() != ".safetensors":
        raise ModelError(f"LoRA '{lora.name}': {path} is not a .safetensors file; LoRAs are loaded from .safetensors")
    try:
        found = classify_tensor_names(safetensors_header(path))
    except UnknownModelLayout as exc:
        raise ModelError(f"LoRA '{lora.name}': {exc}; the file is damaged or not a LoRA") from exc
    kind = found[0] if found else "lora"  # names probe does not know: diffusers reads more LoRA dialects
    if kind != "lora":
        raise ModelError(f"LoRA '{lora.name}': {path} is a {kind} model, not a LoRA; give a LoRA file")
    return path


def _forget_oldest(pipe: Any, keep: set[str]) -> None:
    recent = _recently_used.setdefault(pipe.unet, OrderedDict())
    present = loaded_adapters(pipe)
    for name in [n for n in recent if n not in present]:
        del recent[name]
    while len(present) >= MAX_LOADED_ADAPTERS:
        oldest = next((n for n in recent if n not in keep), None)
        if oldest is None:
            return
        pipe.delete_adapters(oldest)
        del recent[oldest]
        present.discard(oldest)
        log.info("dropped LoRA adapter %s: more than %d loaded", oldest, MAX_LOADED_ADAPTERS)


def _load(pipe: Any, lora: LoraParams, path: Path, name: str) -> None:
    if not hasattr(pipe, "load_lora_weights"):
        raise ModelError(f"LoRA '{lora.name}': {type(pipe).__name__} models cannot take LoRAs")
    try:
        with _quiet_adapter_loading():
            pipe.load_lora_weights(str(path), adapter_name=name)
    except (ValueError, RuntimeError, KeyError, OSError, TypeError) as exc:
        if name in loaded_adapters(pipe):
            pipe.delete_adapters(name)
        raise ModelError(
            f"LoRA '{lora.name}' ({path}) does not fit this model: {_first_line(exc)}; "
            "use a LoRA trained for this model's family (SD 1.x, SD 2.x or SDXL)"
        ) from exc
    if name not in loaded_adapters(pipe):
        raise ModelError(
            f"LoRA '{lora.name}' ({path}) changed none of this model's layers; it was trained for a different "
            "model family (SD 1.x, SD 2.x or SDXL), or is not a LoRA"
        )
    log.info("loaded LoRA %s from %s as adapter %s", lora.name, path, name)


@contextmanager
def _quiet_adapter_loading() -> Iterator[None]:
    """Silence what peft and transformers say on every correct adapter load.

    peft warns that a model already has adapters (that is the point), and transformers reports an
    adapter's own weights as "MISSING" from the text encoder's checkpoint while it loads them.
    Failures still raise.
    """
    verbosity = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Already found a `peft_config` attribute")
            warnings.filterwarnings("ignore", message="Adapter .* was active which is now deleted")
            yield
    finally:
        transformers_logging.set_verbosity(verbosity)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines[:2])[:300] or type(exc).__name__


def _adapter_for(pipe: Any, lora: LoraParams, keep: set[str]) -> str:
    path = _check_file(lora)
    name = adapter_name(path)
    if name not in loaded_adapters(pipe):
        _forget_oldest(pipe, keep)
        _load(pipe, lora, path, name)
    recent = _recently_used.setdefault(pipe.unet, OrderedDict())
    recent[name] = None
    recent.move_to_end(name)
    return name


def _adapter_names(pipe: Any, loras: Sequence[LoraParams]) -> list[str]:
    names: list[str] = []
    for lora in loras:
        name = _adapter_for(pipe, lora, keep=set(names))
        if name in names:
            raise InvalidParameter(
                "loras", f"LoRA '{lora.name}' is the same file as another LoRA of this job; give each LoRA once"
            )
        names.append(name)
    return names


@contextmanager
def applied_loras(pipe: Any, loras: Sequence[LoraParams]) -> Iterator[None]:
    """Run the block with exactly these LoRAs active at their weights; all LoRAs are off again afterwards."""
    if not loras:
        yield
        return
    names = _adapter_names(pipe, loras)
    try:
        pipe.enable_lora()
        pipe.set_adapters(names, adapter_weights=[lora.weight for lora in loras])
        yield
    finally:
        pipe.disable_lora()
