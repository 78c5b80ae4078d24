"""Loading diffusers pipelines and keeping them loaded between jobs: the model cache.

The cache keeps pipelines on the device within a memory budget. Before a model
is loaded, least-recently-used idle pipelines are evicted until it fits (never
one a running job is using); a model larger than the whole budget still loads,
alone. Each model has a keep-alive that starts when it goes idle; `expire()`
drops the models whose keep-alive has run out. On CUDA an evicted pipeline can
move to CPU RAM (the CPU tier, within its own budget) and come back with
`.to(device)`, which is much cheaper than loading from disk. When a job runs
out of device memory, `run_with_retry` evicts every other idle model, empties
the allocator cache and tries once more.
"""

import gc
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import diffusers
import torch
from diffusers import AutoPipelineForText2Image, DiffusionPipeline

from models.builtin import BUILTIN_MODELS, PIPELINE_KINDS, ensure_builtin
from models.device import preferred_dtype
from models.errors import ModelError, OutOfDeviceMemory
from models.single_file import load_single_file
from models.sources import ModelSource, check_hub_available

log = logging.getLogger(__name__)
T = TypeVar("T")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".pt", ".pth")


@dataclass(frozen=True)
class LoadedModel:
    name: str
    device: str  # where the weights are now: the cache's device, or "cpu" for the CPU tier
    memory_bytes: int
    last_used: float  # epoch seconds: when a job or load last used it
    keep_alive_until: float | None = None  # epoch seconds; None = forever, or in use right now
    tier: str = "device"  # "device" | "cpu"
    in_use: bool = False


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


DEFAULT = _Default()  # "the cache's own keep-alive", as opposed to None = forever


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


def _load_builtin(source: ModelSource, models_dir: Path, dtype: torch.dtype) -> DiffusionPipeline:
    builtin = BUILTIN_MODELS[source.name]
    if builtin.kind not in PIPELINE_KINDS:
        raise ModelError(
            f"built-in model '{source.name}' is a {builtin.kind}, not a model that makes images; "
            "name it in a job's controlnets and run a model such as tiny-sd"
        )
    return AutoPipelineForText2Image.from_pretrained(ensure_builtin(source.name, models_dir), dtype=dtype)


def _load(source: ModelSource, models_dir: Path, device: torch.device) -> DiffusionPipeline:
    dtype = preferred_dtype(device)
    if source.kind == "builtin":
        return _load_builtin(source, models_dir, dtype)
    if source.kind == "folder":
        return AutoPipelineForText2Image.from_pretrained(source.location, dtype=dtype)
    if source.kind == "hub":
        return _load_hub(source, dtype, device)
    if source.kind == "single_file":
        return load_single_file(Path(source.location), dtype, source.config)
    raise ValueError(f"unknown model source kind '{source.kind}'")


_LOAD_ADVICE = {
    "folder": "check that the folder holds a complete diffusers text-to-image model",
    "single_file": (
        "check that it is a Stable Diffusion 1.x/2.x/XL checkpoint; loading one also needs that model family's "
        "diffusers config files: from a local diffusers folder of the same architecture given as the model's "
        "config, or from the Hugging Face cache or the network"
    ),
}


def load_pipeline(source: ModelSource, models_dir: Path, device: torch.device) -> DiffusionPipeline:
    try:
        pipe = _load(source, models_dir, device)
    except ModelError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        advice = _LOAD_ADVICE.get(source.kind, "check that it is a complete Stable Diffusion model")
        raise ModelError(
            f"could not load model '{source.name}' ({source.kind} {source.location}): {exc}; {advice}"
        ) from exc
    pipe.set_progress_bar_config(disable=True)
    _loaded_scheduler_configs[pipe] = pipe.scheduler.config
    return pipe.to(device)


# Each loaded pipeline's scheduler config as it came from the model's files, before any sampler replaced it.
_loaded_scheduler_configs: "weakref.WeakKeyDictionary[DiffusionPipeline, Any]" = weakref.WeakKeyDictionary()


def loaded_scheduler(pipe: DiffusionPipeline) -> Any:
    """A fresh scheduler as the model's files configure it, whatever sampler jobs have given pipe since."""
    config = _loaded_scheduler_configs.get(pipe, pipe.scheduler.config)
    cls = getattr(diffusers, str(config.get("_class_name", "")), None) or type(pipe.scheduler)
    return cls.from_config(config)


def pipeline_memory_bytes(pipe: DiffusionPipeline) -> int:
    """Bytes held by the parameters and buffers of every torch module in the pipeline."""
    total = 0
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            tensors = [*component.parameters(), *component.buffers()]
            total += sum(t.numel() * t.element_size() for t in tensors)
    return total


def estimate_source_bytes(source: ModelSource) -> int:
    """Bytes of weights on disk: a guess at a model's size before it is loaded (0 when unknown, e.g. hub)."""
    path = Path(source.location)
    try:
        if path.is_file():
            return path.stat().st_size
        if not path.is_dir():
            return 0
        files = [f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in WEIGHT_SUFFIXES]
    except OSError:
        return 0
    full = [f for f in files if ".fp16." not in f.name]  # a folder may hold both variants; one is loaded
    return sum(f.stat().st_size for f in (full or files))


def _available_ram_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import os

        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


def default_budget_bytes(device: torch.device) -> int:
    """The automatic budget: 90% of the free memory of a CUDA device now; half the available RAM otherwise."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free * 0.9)
    return _available_ram_bytes() // 2


def default_cpu_tier_budget_bytes() -> int:
    return _available_ram_bytes() // 2


def release_device_memory(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, OutOfDeviceMemory | torch.OutOfMemoryError):
        return True
    message = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in message or "can't allocate memory" in message)


def human_bytes(n: int | None) -> str:
    if not n:
        return "unknown size"
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"  # pragma: no cover


def _move_pipeline(pipe: Any, device: torch.device) -> Any:
    return pipe.to(device)


@dataclass
class _Entry:
    source: ModelSource
    pipeline: Any
    size: int
    last_used: float
    keep_alive: float | None  # seconds after it goes idle; None = forever
    tier: str = "device"
    users: int = 0  # running jobs (or loads) holding it

    def expires_at(self) -> float | None:
        if self.users or self.keep_alive is None:
            return None
        return self.last_used + self.keep_alive


class PipelineCache:
    """Loaded pipelines for one device, within a memory budget. Safe to share between threads.

    Loads and evictions happen on one thread at a time (the worker's main thread); `expire`,
    `unload` and `loaded` may be called from others. The loader, the size measure, the
    device move, the clock and the cache emptying are injectable so that the policy can be
    tested without torch models.
    """

    def __init__(
        self,
        models_dir: Path,
        device: torch.device,
        *,
        budget_bytes: int = 0,
        keep_alive: float | None = 300.0,
        cpu_tier: bool = False,
        cpu_budget_bytes: int = 0,
        loader: Callable[[ModelSource, Path, torch.device], Any] | None = None,
        size_of: Callable[[Any], int] | None = None,
        estimate: Callable[[ModelSource], int] | None = None,
        move: Callable[[Any, torch.device], Any] | None = None,
        clock: Callable[[], float] = time.time,
        empty_cache: Callable[[], None] | None = None,
    ) -> None:
        self.models_dir = models_dir
        self.device = device
        self.budget_bytes = budget_bytes or default_budget_bytes(device)
        self.keep_alive = keep_alive
        self.cpu_tier = cpu_tier and device.type == "cuda"  # on CPU (or MPS's shared memory) there is nowhere cheaper
        self.cpu_budget_bytes = (cpu_budget_bytes or default_cpu_tier_budget_bytes()) if self.cpu_tier else 0
        self._loader = loader or load_pipeline
        self._size_of = size_of or pipeline_memory_bytes
        self._estimate = estimate or estimate_source_bytes
        self._move = move or _move_pipeline
        self._clock = clock
        self._empty_cache = empty_cache or (lambda: release_device_memory(device))
        self._entries: dict[ModelSource, _Entry] = {}
        self._known_sizes: dict[ModelSource, int] = {}
        self._lock = threading.Lock()  # guards _entries; never held while loading or moving
        self._load_lock = threading.RLock()  # one load or eviction at a time

    # -- using models -----------------------------------------------------------

    @contextmanager
    def use(self, source: ModelSource, keep_alive: float | None | _Default = DEFAULT) -> Iterator[tuple[Any, float]]:
        """Hold the pipeline for source while the block runs (it is never evicted meanwhile).

        Yields (pipeline, load_ms); load_ms is 0.0 when it was already on the device. Its
        keep-alive starts when the block ends.
        """
        entry, load_ms = self._acquire(source, keep_alive)
        try:
            yield entry.pipeline, load_ms
        finally:
            self._release(entry)

    def get(self, source: ModelSource, keep_alive: float | None | _Default = DEFAULT) -> tuple[Any, float]:
        """The pipeline for source and how long loading it took in ms (0.0 when it was already loaded)."""
        with self.use(source, keep_alive) as (pipe, load_ms):
            return pipe, load_ms

    def load(self, source: ModelSource, keep_alive: float | None | _Default = DEFAULT) -> float:
        """Load source onto the device (or refresh it) and set its keep-alive; returns load_ms."""
        return self.get(source, keep_alive)[1]

    def run_with_retry(self, source: ModelSource, fn: Callable[[], T], what: str) -> T:
        """fn() using source's pipeline; out of device memory once → evict every other idle model, retry once.

        `what` names the work for the error, e.g. "2 images of 512x512".
        """

        def failure(evicted: int, size: int | None) -> str:
            return (
                f"{what} with model '{source.name}' ({human_bytes(size)}) did not fit in the memory of "
                f"{self.device}, even after unloading {evicted} other model(s) and trying again; "
                "try a smaller width and height or a lower count, or unload other models "
                "(or stop other programs using the device)"
            )

        return self._retry_on_oom(source, fn, failure)

    def _retry_on_oom(self, source: ModelSource, fn: Callable[[], T], failure: Callable[[int, int | None], str]) -> T:
        try:
            return fn()
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            log.warning("%s ran out of memory (%s); unloading other idle models and trying once more", source.name, exc)
        evicted = self.free_device_memory(keep=source)
        try:
            return fn()
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            raise OutOfDeviceMemory(failure(evicted, self._known_sizes.get(source))) from exc

    def _acquire(self, source: ModelSource, keep_alive: float | None | _Default) -> tuple[_Entry, float]:
        with self._load_lock:
            with self._lock:
                entry = self._entries.get(source)
                if entry is not None:
                    entry.users += 1
                    entry.last_used = self._clock()
                    if not isinstance(keep_alive, _Default):
                        entry.keep_alive = keep_alive
                    if entry.tier == "device":
                        return entry, 0.0
            started = time.perf_counter()
            if entry is not None:  # in the CPU tier: back to the device
                try:
                    self._to_device(entry)
                except BaseException:
                    self._release(entry)
                    raise
            else:
                entry = self._load_new(source, self.keep_alive if isinstance(keep_alive, _Default) else keep_alive)
            return entry, (time.perf_counter() - started) * 1000.0

    def _to_device(self, entry: _Entry) -> None:
        source = entry.source
        self._make_room(entry.size, keep=source)

        def failure(evicted: int, size: int | None) -> str:
            return (
                f"model '{source.name}' ({human_bytes(size)}) does not fit in the memory of {self.device}, "
                f"even after unloading {evicted} other model(s); unload other models or use a smaller model"
            )

        entry.pipeline = self._retry_on_oom(source, lambda: self._move(entry.pipeline, self.device), failure)
        with self._lock:
            entry.tier = "device"
        log.info("moved %s (%s) from CPU RAM back to %s", source.name, human_bytes(entry.size), self.device)
        self._make_room(0, keep=source)

    def _load_new(self, source: ModelSource, keep_alive: float | None) -> _Entry:
        estimate = self._known_sizes.get(source) or self._estimate(source)
        self._make_room(estimate, keep=source)

        def failure(evicted: int, size: int | None) -> str:
            return (
                f"model '{source.name}' ({human_bytes(size or estimate)}) does not fit in the memory of "
                f"{self.device}, even after unloading {evicted} other model(s); unload other models or use "
                "a smaller model"
            )

        pipe = self._retry_on_oom(source, lambda: self._loader(source, self.models_dir, self.device), failure)
        size = self._size_of(pipe)
        self._known_sizes[source] = size
        entry = _Entry(source, pipe, size, self._clock(), keep_alive, users=1)
        with self._lock:
            self._entries[source] = entry
        if size > self.budget_bytes:
            log.warning(
                "model %s needs %s, more than the whole memory budget of %s: it is loaded alone",
                source.name,
                human_bytes(size),
                human_bytes(self.budget_bytes),
            )
        else:
            log.info("loaded %s (%s) on %s", source.name, human_bytes(size), self.device)
        self._make_room(0, keep=source)  # the measured size may exceed the estimate
        return entry

    def _release(self, entry: _Entry) -> None:
        with self._lock:
            entry.users = max(0, entry.users - 1)
            entry.last_used = self._clock()

    # -- eviction ---------------------------------------------------------------

    def _device_used(self) -> int:
        return sum(e.size for e in self._entries.values() if e.tier == "device")

    def _make_room(self, needed: int, keep: ModelSource | None) -> None:
        """Evict least-recently-used idle device pipelines (never `keep`) until `needed` more bytes fit."""
        evicted = False
        with self._load_lock:
            while True:
                with self._lock:
                    if self._device_used() + needed <= self.budget_bytes:
                        break
                    idle = [
                        e
                        for e in self._entries.values()
                        if e.tier == "device" and e.users == 0 and e.source != keep
                    ]
                    if not idle:
                        break  # the rest is in use, or it is larger than the whole budget: load it anyway
                    victim = min(idle, key=lambda e: e.last_used)
                    del self._entries[victim.source]
                self._evict(victim, reason="to make room")
                evicted = True
            if evicted:
                self._empty_cache()

    def _evict(self, entry: _Entry, reason: str) -> None:
        """entry is already out of _entries: to the CPU tier if there is one, else dropped."""
        if not self.cpu_tier:
            log.info("unloaded %s (%s) %s", entry.source.name, human_bytes(entry.size), reason)
            return
        if entry.size > self.cpu_budget_bytes:
            budget = human_bytes(self.cpu_budget_bytes)
            log.info("unloaded %s: larger than the CPU RAM budget of %s", entry.source.name, budget)
            return
        try:
            entry.pipeline = self._move(entry.pipeline, torch.device("cpu"))
        except Exception as exc:  # noqa: BLE001 - a failed move only means the model is dropped
            log.warning("could not move %s to CPU RAM (%s); unloaded it", entry.source.name, exc)
            return
        with self._lock:
            cpu = [e for e in self._entries.values() if e.tier == "cpu"]
            used = sum(e.size for e in cpu)
            for old in sorted((e for e in cpu if e.users == 0), key=lambda e: e.last_used):
                if used + entry.size <= self.cpu_budget_bytes:
                    break
                del self._entries[old.source]
                used -= old.size
                log.info("unloaded %s from CPU RAM to make room", old.source.name)
            if used + entry.size > self.cpu_budget_bytes:
                return
            entry.tier = "cpu"
            self._entries[entry.source] = entry
        log.info("moved %s (%s) to CPU RAM %s", entry.source.name, human_bytes(entry.size), reason)

    def free_device_memory(self, keep: ModelSource | None = None) -> int:
        """Evict every idle pipeline on the device except `keep`, then empty the allocator cache."""
        with self._load_lock:
            with self._lock:
                doomed = [
                    e for e in self._entries.values() if e.tier == "device" and e.users == 0 and e.source != keep
                ]
                for entry in doomed:
                    del self._entries[entry.source]
            for entry in sorted(doomed, key=lambda e: e.last_used, reverse=True):  # most recent first into CPU RAM
                self._evict(entry, reason="to free device memory")
            self._empty_cache()
            return len(doomed)

    def expire(self) -> list[str]:
        """Unload every idle model whose keep-alive has run out; returns their names."""
        now = self._clock()
        with self._lock:
            doomed = [e for e in self._entries.values() if (until := e.expires_at()) is not None and until <= now]
            for entry in doomed:
                del self._entries[entry.source]
        for entry in doomed:
            log.info("unloaded %s: idle for its keep-alive of %g s", entry.source.name, entry.keep_alive)
        if doomed:
            self._empty_cache()
        return [e.source.name for e in doomed]

    def unload(self, name: str) -> bool:
        """Drop every loaded pipeline the user called `name` (either tier); False if there was none.

        A job using it right now keeps its own reference until it ends.
        """
        with self._lock:
            doomed = [source for source in self._entries if source.name == name]
            for source in doomed:
                del self._entries[source]
        if doomed:
            self._empty_cache()
        return bool(doomed)

    # -- reporting --------------------------------------------------------------

    def loaded(self) -> list[LoadedModel]:
        with self._lock:
            return [
                LoadedModel(
                    name=source.name,
                    device=str(self.device) if e.tier == "device" else "cpu",
                    memory_bytes=e.size,
                    last_used=e.last_used,
                    keep_alive_until=e.expires_at(),
                    tier=e.tier,
                    in_use=e.users > 0,
                )
                for source, e in self._entries.items()
            ]
