"""Plain data types of the imagine.v1 contract, free of protobuf."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any, Mapping, Union


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
class Txt2Img:
    """Text to image. Zero / empty / None fields take the model's defaults."""

    prompt: str
    negative_prompt: str = ""
    width: int = 0
    height: int = 0
    steps: int = 0
    guidance: float | None = None
    seed: int | None = None
    count: int = 0
    scheduler: str = ""


Task = Txt2Img


@dataclass(frozen=True)
class JobSpec:
    task: Task
    model: str = ""
    priority: Priority = Priority.NORMAL
    labels: Mapping[str, str] = field(default_factory=dict)
    request_id: str = ""
    timeout_seconds: int = 0

    @property
    def kind(self) -> str:
        return "txt2img"


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


@dataclass(frozen=True)
class Progress:
    step: int
    total: int
    preview: bytes = b""


@dataclass(frozen=True)
class Finished:
    state: JobState
    error: str = ""
    timings: Timings = Timings()


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
    """What `to_jsonable` gives for a JobSpec, written out for speed (it is stored on every state change)."""
    return {
        "task": dict(vars(spec.task)),
        "model": spec.model,
        "priority": spec.priority.value,
        "labels": dict(spec.labels),
        "request_id": spec.request_id,
        "timeout_seconds": spec.timeout_seconds,
        "kind": spec.kind,
    }


def spec_from_jsonable(data: Mapping[str, Any]) -> JobSpec:
    """The inverse of `to_jsonable` for a JobSpec."""
    return JobSpec(
        task=Txt2Img(**data["task"]),
        model=data.get("model", ""),
        priority=Priority(data.get("priority", "normal")),
        labels=dict(data.get("labels", {})),
        request_id=data.get("request_id", ""),
        timeout_seconds=int(data.get("timeout_seconds", 0)),
    )
