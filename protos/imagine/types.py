"""Plain data types of the imagine.v1 contract, free of protobuf."""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Mapping, TypeVar, Union

_T = TypeVar("_T")


class Priority(str, enum.Enum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2}


class JobState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class ImageInput:
    """An image given to a job: set exactly one of the three."""

    data: bytes = b""  # PNG, JPEG or WebP bytes
    output_id: str = ""  # an earlier job's output
    input_id: str = ""  # an upload the daemon stored; recorded specs refer to uploads this way

    @property
    def given(self) -> bool:
        return bool(self.data or self.output_id or self.input_id)


@dataclass(frozen=True)
class Lora:
    name: str
    weight: float | None = None  # None = 1.0


@dataclass(frozen=True)
class Hires:
    scale: float = 2.0
    steps: int = 0  # 0 = as many as the first pass
    denoise: float | None = None  # None = 0.5
    upscaler: str = ""  # "latent" (default) or "pixel"


@dataclass(frozen=True)
class ControlNet:
    model: str
    image: ImageInput
    preprocessor: str = ""  # "canny" (default) or "none"
    scale: float | None = None  # None = 1.0
    low_threshold: int = 0  # 0 = 100
    high_threshold: int = 0  # 0 = 200


@dataclass(frozen=True)
class _Diffusion:
    """What every generation task has. Zero / empty / None fields take the model's defaults."""

    prompt: str
    negative_prompt: str = ""
    width: int = 0
    height: int = 0
    steps: int = 0
    guidance: float | None = None
    seed: int | None = None
    count: int = 0
    scheduler: str = ""
    loras: tuple[Lora, ...] = ()
    controlnets: tuple[ControlNet, ...] = ()
    vae: str = ""


@dataclass(frozen=True)
class Txt2Img(_Diffusion):
    hires: Hires | None = None


@dataclass(frozen=True)
class Img2Img(_Diffusion):
    init_image: ImageInput = ImageInput()
    strength: float | None = None  # None = 0.75


@dataclass(frozen=True)
class Inpaint(Img2Img):
    mask: ImageInput = ImageInput()
    mask_blur: int | None = None  # None = 4


@dataclass(frozen=True)
class Variations:
    """New images like an earlier output; the daemon records the Img2Img it becomes."""

    output_id: str
    count: int = 0  # 0 = 4
    strength: float | None = None  # None = 0.4
    seed: int | None = None


@dataclass(frozen=True)
class Upscale:
    """A larger version of an earlier output; the daemon records the Img2Img it becomes."""

    output_id: str
    scale: float = 2.0
    denoise: float | None = None  # None = 0.35
    steps: int = 0


@dataclass(frozen=True)
class Detect:
    images: tuple[ImageInput, ...]
    task: str = ""  # detect, segment, pose, classify; "" = the model's own
    conf: float | None = None
    iou: float | None = None
    classes: tuple[str, ...] = ()
    imgsz: int = 0
    max_det: int = 0
    engine: str = ""  # pytorch, onnxruntime; "" = the model's default engine


@dataclass(frozen=True)
class Export:
    format: str = ""  # "" = onnx
    half: bool = False
    int8_calibration: str = ""  # folder of images on the daemon's machine
    name: str = ""
    imgsz: int = 0


@dataclass(frozen=True)
class Benchmark:
    engines: tuple[str, ...] = ()
    batch_sizes: tuple[int, ...] = ()
    runs: int = 0
    warmup: int = 0
    imgsz: int = 0
    select: bool = False
    tolerance: float | None = None
    validation: str = ""


@dataclass(frozen=True)
class Train:
    dataset: str
    epochs: int = 0
    imgsz: int = 0
    batch: int = 0
    tune: int = 0
    name: str = ""


Task = Union[Txt2Img, Img2Img, Inpaint, Variations, Upscale, Detect, Export, Benchmark, Train]
TASK_KINDS: dict[type, str] = {
    Txt2Img: "txt2img",
    Img2Img: "img2img",
    Inpaint: "inpaint",
    Variations: "variations",
    Upscale: "upscale",
    Detect: "detect",
    Export: "export",
    Benchmark: "benchmark",
    Train: "train",
}
TASK_TYPES: dict[str, type] = {kind: cls for cls, kind in TASK_KINDS.items()}
GENERATION_KINDS = frozenset({"txt2img", "img2img", "inpaint"})
VISION_KINDS = frozenset({"detect", "export", "benchmark", "train"})


@dataclass(frozen=True)
class JobSpec:
    task: Task
    model: str = ""
    priority: Priority = Priority.NORMAL
    labels: Mapping[str, str] = field(default_factory=dict)
    request_id: str = ""
    timeout_seconds: int = 0
    previews: bool = False

    @property
    def kind(self) -> str:
        return TASK_KINDS[type(self.task)]

    @property
    def prompt(self) -> str:
        """The prompt of a generation task; "" for others."""
        return self.task.prompt if isinstance(self.task, _Diffusion) else ""


@dataclass(frozen=True)
class Timings:
    queue_ms: float = 0.0
    load_ms: float = 0.0
    run_ms: float = 0.0
    encode_ms: float = 0.0
    total_ms: float = 0.0


@dataclass(frozen=True)
class Output:
    id: str
    job_id: str
    index: int
    seed: int
    width: int
    height: int
    path: str
    sha256: str
    size_bytes: int
    flagged: bool = False
    detections: Detections | None = None
    mime_type: str = "image/png"


@dataclass(frozen=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True)
class Keypoint:
    x: float
    y: float
    confidence: float


@dataclass(frozen=True)
class Detection:
    class_id: int
    class_name: str
    score: float
    x1: float
    y1: float
    x2: float
    y2: float
    polygon: tuple[Point, ...] = ()
    keypoints: tuple[Keypoint, ...] = ()


@dataclass(frozen=True)
class ClassScore:
    class_id: int
    class_name: str
    score: float


@dataclass(frozen=True)
class Detections:
    image_index: int
    width: int
    height: int
    objects: tuple[Detection, ...] = ()
    top: tuple[ClassScore, ...] = ()
    engine: str = ""
    provider: str = ""
    inference_ms: float = 0.0


@dataclass(frozen=True)
class BenchmarkRow:
    engine: str
    provider: str
    batch_size: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    images_per_second: float
    peak_memory_bytes: int
    memory_kind: str
    accuracy: float | None = None


@dataclass(frozen=True)
class Report:
    model: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)
    benchmark: tuple[BenchmarkRow, ...] = ()
    selected_engine: str = ""
    summary: str = ""


@dataclass(frozen=True)
class Job:
    id: str
    spec: JobSpec
    owner: str
    state: JobState
    attempts: int = 0
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    timings: Timings = Timings()
    error: str = ""
    outputs: tuple[Output, ...] = ()
    queue_position: int = 0
    last_seq: int = 0
    eta_seconds: float | None = None
    report: Report | None = None


@dataclass(frozen=True)
class Snapshot:
    job: Job


@dataclass(frozen=True)
class Queued:
    position: int
    eta_seconds: float | None = None


@dataclass(frozen=True)
class Started:
    worker: str
    load_ms: float
    attempt: int
    batch_size: int = 1


@dataclass(frozen=True)
class Progress:
    step: int
    total: int
    preview: bytes = b""
    stage: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Finished:
    state: JobState
    error: str = ""
    timings: Timings = Timings()
    report: Report | None = None


EventKind = Union[Snapshot, Queued, Started, Progress, Output, Finished]


@dataclass(frozen=True)
class JobEvent:
    job_id: str
    seq: int
    time: float
    kind: EventKind


@dataclass(frozen=True)
class Device:
    name: str
    kind: str
    index: int
    memory_total: int
    memory_used: int
    utilisation: float | None = None
    temperature_c: float | None = None


@dataclass(frozen=True)
class Worker:
    pid: int
    state: str
    job_id: str = ""
    restarts: int = 0


@dataclass(frozen=True)
class LoadedModel:
    name: str
    device: str
    memory_bytes: int
    tier: str = ""
    in_use: bool = False
    last_used_at: float = 0.0
    keep_alive_until: float = 0.0  # unix seconds; 0 unknown, negative = kept forever


@dataclass(frozen=True)
class QueueStats:
    queued: int
    running: int
    paused: bool = False


@dataclass(frozen=True)
class Status:
    version: str
    started_at: float
    devices: tuple[Device, ...]
    queue: QueueStats
    loaded_models: tuple[LoadedModel, ...] = ()
    workers: tuple[Worker, ...] = ()


@dataclass(frozen=True)
class ModelDefaults:
    width: int
    height: int
    steps: int
    guidance: float
    scheduler: str
    vae: str = ""
    engine: str = ""


@dataclass(frozen=True)
class Model:
    name: str
    kind: str
    source: str
    location: str
    description: str
    installed: bool
    loaded: bool
    defaults: ModelDefaults | None = None
    is_default: bool = False
    origin: str = ""
    size_bytes: int = 0
    installed_at: float = 0.0
    last_used_at: float = 0.0
    files: tuple[str, ...] = ()
    sha256: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sampler:
    name: str  # what a generation task's scheduler field takes
    label: str  # AUTOMATIC1111's name for it


@dataclass(frozen=True)
class PullProgress:
    name: str
    file: str = ""
    file_bytes: int = 0
    file_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    files_done: int = 0
    files_total: int = 0
    rate_bytes_per_s: float = 0.0
    done: bool = False
    model: Model | None = None


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums and bytes as plain JSON values (bytes become their length)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, JobSpec):
            data["kind"] = value.kind
        return data
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return len(value)
    return value


def spec_to_jsonable(spec: JobSpec) -> dict[str, Any]:
    return to_jsonable(spec)  # type: ignore[no-any-return]


def spec_from_jsonable(data: Mapping[str, Any]) -> JobSpec:
    """The inverse of `to_jsonable` for a JobSpec."""
    task_data = {k: v for k, v in data["task"].items()}
    kind = data.get("kind", "txt2img")
    return JobSpec(
        task=from_jsonable(TASK_TYPES[kind], task_data),
        model=data.get("model", ""),
        priority=Priority(data.get("priority", "normal")),
        labels=dict(data.get("labels", {})),
        request_id=data.get("request_id", ""),
        timeout_seconds=int(data.get("timeout_seconds", 0)),
        previews=bool(data.get("previews", False)),
    )


def from_jsonable(cls: type[_T], data: Any) -> _T:
    """A dataclass of `cls` from what `to_jsonable` made of one (bytes come back empty)."""
    hints = field_types(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _value_from_jsonable(hints[f.name], data[f.name])
    return cls(**kwargs)


def _value_from_jsonable(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    inner = optional_inner(hint)
    if inner is not None:
        return _value_from_jsonable(inner, value)
    origin = typing.get_origin(hint)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return tuple(_value_from_jsonable(item, v) for v in value)
    if origin in (Mapping, dict, collections.abc.Mapping):
        return dict(value)
    if dataclasses.is_dataclass(hint):
        return from_jsonable(hint, value)  # type: ignore[arg-type]
    if hint is bytes:
        return b""
    return value


@functools.cache
def field_types(cls: type) -> dict[str, Any]:
    """The resolved type of each field of a dataclass of this module."""
    return typing.get_type_hints(cls)


def optional_inner(hint: Any) -> Any:
    """X for `X | None`, else None."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return args[0]
    return None
