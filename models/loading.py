"""Loading diffusers pipelines and keeping them loaded between jobs."""

import gc
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import AutoPipelineForText2Image, DiffusionPipeline, StableDiffusionPipeline

from models.builtin import ensure_builtin
from models.device import preferred_dtype
from models.errors import ModelError
from models.sources import ModelSource, check_hub_available


@dataclass(frozen=True)
class LoadedModel:
    name: str
    device: str
    memory_bytes: int
    last_used: float  # time.time() of the last get()


def _load_hub(source: ModelSource, dtype: torch.dtype, device: torch.device) -> DiffusionPipeline:
    check_hub_available(source)
    if device.type == "cuda":
        try:  # half-size fp16 weights, where the repo has them
            return AutoPipelineForText2Image.from_pretrained(
                source.location, revision=source.revision, dtype=dtype, variant="fp16"
            )
        except (OSError, ValueError):
            pass
    return AutoPipelineForText2Image.from_pretrained(source.location, revision=source.revision, dtype=dtype)


def _load(source: ModelSource, models_dir: Path, device: torch.device) -> DiffusionPipeline:
    dtype = preferred_dtype(device)
    if source.kind == "builtin":
        return StableDiffusionPipeline.from_pretrained(ensure_builtin(source.name, models_dir), dtype=dtype)
    if source.kind == "folder":
        return AutoPipelineForText2Image.from_pretrained(source.location, dtype=dtype)
    if source.kind == "hub":
        return _load_hub(source, dtype, device)
    if source.kind == "single_file":
        return StableDiffusionPipeline.from_single_file(source.location, dtype=dtype)
    raise ValueError(f"unknown model source kind '{source.kind}'")


_LOAD_ADVICE = {
    "folder": "check that the folder holds a complete diffusers text-to-image model",
    "single_file": (
        "check that it is a Stable Diffusion 1.x/2.x checkpoint; loading one also needs that model family's "
        "config files, from the Hugging Face cache or the network"
    ),
}


def load_pipeline(source: ModelSource, models_dir: Path, device: torch.device) -> DiffusionPipeline:
    try:
        pipe = _load(source, models_dir, device)
    except ModelError:
        raise
    except (OSError, ValueError) as exc:
        advice = _LOAD_ADVICE.get(source.kind, "check that it is a complete Stable Diffusion model")
        raise ModelError(
            f"could not load model '{source.name}' ({source.kind} {source.location}): {exc}; {advice}"
        ) from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def pipeline_memory_bytes(pipe: DiffusionPipeline) -> int:
    """Bytes held by the parameters and buffers of every torch module in the pipeline."""
    total = 0
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            tensors = [*component.parameters(), *component.buffers()]
            total += sum(t.numel() * t.element_size() for t in tensors)
    return total


@dataclass
class _Entry:
    pipeline: DiffusionPipeline
    last_used: float


class PipelineCache:
    """Loaded pipelines for one device, kept until unloaded. Safe to share between threads."""

    def __init__(self, models_dir: Path, device: torch.device) -> None:
        self.models_dir = models_dir
        self.device = device
        self._entries: dict[ModelSource, _Entry] = {}
        self._lock = threading.Lock()  # guards _entries; never held while loading
        self._load_lock = threading.Lock()  # one load at a time, so a model is never loaded twice

    def get(self, source: ModelSource) -> tuple[DiffusionPipeline, float]:
        """The pipeline for source and how long loading it took in ms (0.0 when it was already loaded)."""
        pipe = self._touch(source)
        if pipe is not None:
            return pipe, 0.0
        with self._load_lock:
            pipe = self._touch(source)  # another thread may have loaded it while we waited
            if pipe is not None:
                return pipe, 0.0
            started = time.perf_counter()
            pipe = load_pipeline(source, self.models_dir, self.device)
            load_ms = (time.perf_counter() - started) * 1000.0
            with self._lock:
                self._entries[source] = _Entry(pipe, time.time())
            return pipe, load_ms

    def _touch(self, source: ModelSource) -> DiffusionPipeline | None:
        with self._lock:
            entry = self._entries.get(source)
            if entry is None:
                return None
            entry.last_used = time.time()
            return entry.pipeline

    def loaded(self) -> list[LoadedModel]:
        with self._lock:
            return [
                LoadedModel(source.name, str(self.device), pipeline_memory_bytes(e.pipeline), e.last_used)
                for source, e in self._entries.items()
            ]

    def unload(self, name: str) -> bool:
        """Drop every loaded pipeline the user called `name`; False if there was none."""
        with self._lock:
            doomed = [source for source in self._entries if source.name == name]
            for source in doomed:
                del self._entries[source]
        if doomed:
            gc.collect()
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
        return bool(doomed)
