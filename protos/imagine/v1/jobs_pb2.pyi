import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Priority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PRIORITY_UNSPECIFIED: _ClassVar[Priority]
    PRIORITY_LOW: _ClassVar[Priority]
    PRIORITY_NORMAL: _ClassVar[Priority]
    PRIORITY_HIGH: _ClassVar[Priority]

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]
PRIORITY_UNSPECIFIED: Priority
PRIORITY_LOW: Priority
PRIORITY_NORMAL: Priority
PRIORITY_HIGH: Priority
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState

class ImageInput(_message.Message):
    __slots__ = ("data", "output_id", "input_id")
    DATA_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_ID_FIELD_NUMBER: _ClassVar[int]
    INPUT_ID_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    output_id: str
    input_id: str
    def __init__(self, data: _Optional[bytes] = ..., output_id: _Optional[str] = ..., input_id: _Optional[str] = ...) -> None: ...

class Lora(_message.Message):
    __slots__ = ("name", "weight")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    name: str
    weight: float
    def __init__(self, name: _Optional[str] = ..., weight: _Optional[float] = ...) -> None: ...

class Hires(_message.Message):
    __slots__ = ("scale", "steps", "denoise", "upscaler")
    SCALE_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    DENOISE_FIELD_NUMBER: _ClassVar[int]
    UPSCALER_FIELD_NUMBER: _ClassVar[int]
    scale: float
    steps: int
    denoise: float
    upscaler: str
    def __init__(self, scale: _Optional[float] = ..., steps: _Optional[int] = ..., denoise: _Optional[float] = ..., upscaler: _Optional[str] = ...) -> None: ...

class ControlNet(_message.Message):
    __slots__ = ("model", "image", "preprocessor", "scale", "low_threshold", "high_threshold")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    PREPROCESSOR_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    LOW_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    HIGH_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    model: str
    image: ImageInput
    preprocessor: str
    scale: float
    low_threshold: int
    high_threshold: int
    def __init__(self, model: _Optional[str] = ..., image: _Optional[_Union[ImageInput, _Mapping]] = ..., preprocessor: _Optional[str] = ..., scale: _Optional[float] = ..., low_threshold: _Optional[int] = ..., high_threshold: _Optional[int] = ...) -> None: ...

class Txt2Img(_message.Message):
    __slots__ = ("prompt", "negative_prompt", "width", "height", "steps", "guidance", "seed", "count", "scheduler", "loras", "controlnets", "vae", "hires")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_PROMPT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    GUIDANCE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    LORAS_FIELD_NUMBER: _ClassVar[int]
    CONTROLNETS_FIELD_NUMBER: _ClassVar[int]
    VAE_FIELD_NUMBER: _ClassVar[int]
    HIRES_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    negative_prompt: str
    width: int
    height: int
    steps: int
    guidance: float
    seed: int
    count: int
    scheduler: str
    loras: _containers.RepeatedCompositeFieldContainer[Lora]
    controlnets: _containers.RepeatedCompositeFieldContainer[ControlNet]
    vae: str
    hires: Hires
    def __init__(self, prompt: _Optional[str] = ..., negative_prompt: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., steps: _Optional[int] = ..., guidance: _Optional[float] = ..., seed: _Optional[int] = ..., count: _Optional[int] = ..., scheduler: _Optional[str] = ..., loras: _Optional[_Iterable[_Union[Lora, _Mapping]]] = ..., controlnets: _Optional[_Iterable[_Union[ControlNet, _Mapping]]] = ..., vae: _Optional[str] = ..., hires: _Optional[_Union[Hires, _Mapping]] = ...) -> None: ...

class Img2Img(_message.Message):
    __slots__ = ("prompt", "negative_prompt", "width", "height", "steps", "guidance", "seed", "count", "scheduler", "loras", "controlnets", "vae", "init_image", "strength")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_PROMPT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    GUIDANCE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    LORAS_FIELD_NUMBER: _ClassVar[int]
    CONTROLNETS_FIELD_NUMBER: _ClassVar[int]
    VAE_FIELD_NUMBER: _ClassVar[int]
    INIT_IMAGE_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    negative_prompt: str
    width: int
    height: int
    steps: int
    guidance: float
    seed: int
    count: int
    scheduler: str
    loras: _containers.RepeatedCompositeFieldContainer[Lora]
    controlnets: _containers.RepeatedCompositeFieldContainer[ControlNet]
    vae: str
    init_image: ImageInput
    strength: float
    def __init__(self, prompt: _Optional[str] = ..., negative_prompt: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., steps: _Optional[int] = ..., guidance: _Optional[float] = ..., seed: _Optional[int] = ..., count: _Optional[int] = ..., scheduler: _Optional[str] = ..., loras: _Optional[_Iterable[_Union[Lora, _Mapping]]] = ..., controlnets: _Optional[_Iterable[_Union[ControlNet, _Mapping]]] = ..., vae: _Optional[str] = ..., init_image: _Optional[_Union[ImageInput, _Mapping]] = ..., strength: _Optional[float] = ...) -> None: ...

class Inpaint(_message.Message):
    __slots__ = ("prompt", "negative_prompt", "width", "height", "steps", "guidance", "seed", "count", "scheduler", "loras", "controlnets", "vae", "init_image", "strength", "mask", "mask_blur")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_PROMPT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    GUIDANCE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    LORAS_FIELD_NUMBER: _ClassVar[int]
    CONTROLNETS_FIELD_NUMBER: _ClassVar[int]
    VAE_FIELD_NUMBER: _ClassVar[int]
    INIT_IMAGE_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    MASK_BLUR_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    negative_prompt: str
    width: int
    height: int
    steps: int
    guidance: float
    seed: int
    count: int
    scheduler: str
    loras: _containers.RepeatedCompositeFieldContainer[Lora]
    controlnets: _containers.RepeatedCompositeFieldContainer[ControlNet]
    vae: str
    init_image: ImageInput
    strength: float
    mask: ImageInput
    mask_blur: int
    def __init__(self, prompt: _Optional[str] = ..., negative_prompt: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., steps: _Optional[int] = ..., guidance: _Optional[float] = ..., seed: _Optional[int] = ..., count: _Optional[int] = ..., scheduler: _Optional[str] = ..., loras: _Optional[_Iterable[_Union[Lora, _Mapping]]] = ..., controlnets: _Optional[_Iterable[_Union[ControlNet, _Mapping]]] = ..., vae: _Optional[str] = ..., init_image: _Optional[_Union[ImageInput, _Mapping]] = ..., strength: _Optional[float] = ..., mask: _Optional[_Union[ImageInput, _Mapping]] = ..., mask_blur: _Optional[int] = ...) -> None: ...

class Variations(_message.Message):
    __slots__ = ("output_id", "count", "strength", "seed")
    OUTPUT_ID_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    output_id: str
    count: int
    strength: float
    seed: int
    def __init__(self, output_id: _Optional[str] = ..., count: _Optional[int] = ..., strength: _Optional[float] = ..., seed: _Optional[int] = ...) -> None: ...

class Upscale(_message.Message):
    __slots__ = ("output_id", "scale", "denoise", "steps")
    OUTPUT_ID_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    DENOISE_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    output_id: str
    scale: float
    denoise: float
    steps: int
    def __init__(self, output_id: _Optional[str] = ..., scale: _Optional[float] = ..., denoise: _Optional[float] = ..., steps: _Optional[int] = ...) -> None: ...

class Detect(_message.Message):
    __slots__ = ("images", "task", "conf", "iou", "classes", "imgsz", "max_det", "engine")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    CONF_FIELD_NUMBER: _ClassVar[int]
    IOU_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    IMGSZ_FIELD_NUMBER: _ClassVar[int]
    MAX_DET_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[ImageInput]
    task: str
    conf: float
    iou: float
    classes: _containers.RepeatedScalarFieldContainer[str]
    imgsz: int
    max_det: int
    engine: str
    def __init__(self, images: _Optional[_Iterable[_Union[ImageInput, _Mapping]]] = ..., task: _Optional[str] = ..., conf: _Optional[float] = ..., iou: _Optional[float] = ..., classes: _Optional[_Iterable[str]] = ..., imgsz: _Optional[int] = ..., max_det: _Optional[int] = ..., engine: _Optional[str] = ...) -> None: ...

class Export(_message.Message):
    __slots__ = ("format", "half", "int8_calibration", "name", "imgsz")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    HALF_FIELD_NUMBER: _ClassVar[int]
    INT8_CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    IMGSZ_FIELD_NUMBER: _ClassVar[int]
    format: str
    half: bool
    int8_calibration: str
    name: str
    imgsz: int
    def __init__(self, format: _Optional[str] = ..., half: _Optional[bool] = ..., int8_calibration: _Optional[str] = ..., name: _Optional[str] = ..., imgsz: _Optional[int] = ...) -> None: ...

class Benchmark(_message.Message):
    __slots__ = ("engines", "batch_sizes", "runs", "warmup", "imgsz", "select", "tolerance", "validation")
    ENGINES_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZES_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    WARMUP_FIELD_NUMBER: _ClassVar[int]
    IMGSZ_FIELD_NUMBER: _ClassVar[int]
    SELECT_FIELD_NUMBER: _ClassVar[int]
    TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FIELD_NUMBER: _ClassVar[int]
    engines: _containers.RepeatedScalarFieldContainer[str]
    batch_sizes: _containers.RepeatedScalarFieldContainer[int]
    runs: int
    warmup: int
    imgsz: int
    select: bool
    tolerance: float
    validation: str
    def __init__(self, engines: _Optional[_Iterable[str]] = ..., batch_sizes: _Optional[_Iterable[int]] = ..., runs: _Optional[int] = ..., warmup: _Optional[int] = ..., imgsz: _Optional[int] = ..., select: _Optional[bool] = ..., tolerance: _Optional[float] = ..., validation: _Optional[str] = ...) -> None: ...

class Train(_message.Message):
    __slots__ = ("dataset", "epochs", "imgsz", "batch", "tune", "name")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    IMGSZ_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    TUNE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    dataset: str
    epochs: int
    imgsz: int
    batch: int
    tune: int
    name: str
    def __init__(self, dataset: _Optional[str] = ..., epochs: _Optional[int] = ..., imgsz: _Optional[int] = ..., batch: _Optional[int] = ..., tune: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class JobSpec(_message.Message):
    __slots__ = ("model", "priority", "labels", "request_id", "timeout_seconds", "previews", "txt2img", "img2img", "inpaint", "variations", "upscale", "detect", "export", "benchmark", "train")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PREVIEWS_FIELD_NUMBER: _ClassVar[int]
    TXT2IMG_FIELD_NUMBER: _ClassVar[int]
    IMG2IMG_FIELD_NUMBER: _ClassVar[int]
    INPAINT_FIELD_NUMBER: _ClassVar[int]
    VARIATIONS_FIELD_NUMBER: _ClassVar[int]
    UPSCALE_FIELD_NUMBER: _ClassVar[int]
    DETECT_FIELD_NUMBER: _ClassVar[int]
    EXPORT_FIELD_NUMBER: _ClassVar[int]
    BENCHMARK_FIELD_NUMBER: _ClassVar[int]
    TRAIN_FIELD_NUMBER: _ClassVar[int]
    model: str
    priority: Priority
    labels: _containers.ScalarMap[str, str]
    request_id: str
    timeout_seconds: int
    previews: bool
    txt2img: Txt2Img
    img2img: Img2Img
    inpaint: Inpaint
    variations: Variations
    upscale: Upscale
    detect: Detect
    export: Export
    benchmark: Benchmark
    train: Train
    def __init__(self, model: _Optional[str] = ..., priority: _Optional[_Union[Priority, str]] = ..., labels: _Optional[_Mapping[str, str]] = ..., request_id: _Optional[str] = ..., timeout_seconds: _Optional[int] = ..., previews: _Optional[bool] = ..., txt2img: _Optional[_Union[Txt2Img, _Mapping]] = ..., img2img: _Optional[_Union[Img2Img, _Mapping]] = ..., inpaint: _Optional[_Union[Inpaint, _Mapping]] = ..., variations: _Optional[_Union[Variations, _Mapping]] = ..., upscale: _Optional[_Union[Upscale, _Mapping]] = ..., detect: _Optional[_Union[Detect, _Mapping]] = ..., export: _Optional[_Union[Export, _Mapping]] = ..., benchmark: _Optional[_Union[Benchmark, _Mapping]] = ..., train: _Optional[_Union[Train, _Mapping]] = ...) -> None: ...

class Timings(_message.Message):
    __slots__ = ("queue_ms", "load_ms", "run_ms", "encode_ms", "total_ms")
    QUEUE_MS_FIELD_NUMBER: _ClassVar[int]
    LOAD_MS_FIELD_NUMBER: _ClassVar[int]
    RUN_MS_FIELD_NUMBER: _ClassVar[int]
    ENCODE_MS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    queue_ms: float
    load_ms: float
    run_ms: float
    encode_ms: float
    total_ms: float
    def __init__(self, queue_ms: _Optional[float] = ..., load_ms: _Optional[float] = ..., run_ms: _Optional[float] = ..., encode_ms: _Optional[float] = ..., total_ms: _Optional[float] = ...) -> None: ...

class Output(_message.Message):
    __slots__ = ("id", "job_id", "index", "seed", "width", "height", "path", "sha256", "size_bytes", "flagged", "detections", "mime_type")
    ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    FLAGGED_FIELD_NUMBER: _ClassVar[int]
    DETECTIONS_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    job_id: str
    index: int
    seed: int
    width: int
    height: int
    path: str
    sha256: str
    size_bytes: int
    flagged: bool
    detections: Detections
    mime_type: str
    def __init__(self, id: _Optional[str] = ..., job_id: _Optional[str] = ..., index: _Optional[int] = ..., seed: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., path: _Optional[str] = ..., sha256: _Optional[str] = ..., size_bytes: _Optional[int] = ..., flagged: _Optional[bool] = ..., detections: _Optional[_Union[Detections, _Mapping]] = ..., mime_type: _Optional[str] = ...) -> None: ...

class Point(_message.Message):
    __slots__ = ("x", "y")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class Keypoint(_message.Message):
    __slots__ = ("x", "y", "confidence")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    confidence: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ..., confidence: _Optional[float] = ...) -> None: ...

class Detection(_message.Message):
    __slots__ = ("class_id", "class_name", "score", "x1", "y1", "x2", "y2", "polygon", "keypoints")
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    X1_FIELD_NUMBER: _ClassVar[int]
    Y1_FIELD_NUMBER: _ClassVar[int]
    X2_FIELD_NUMBER: _ClassVar[int]
    Y2_FIELD_NUMBER: _ClassVar[int]
    POLYGON_FIELD_NUMBER: _ClassVar[int]
    KEYPOINTS_FIELD_NUMBER: _ClassVar[int]
    class_id: int
    class_name: str
    score: float
    x1: float
    y1: float
    x2: float
    y2: float
    polygon: _containers.RepeatedCompositeFieldContainer[Point]
    keypoints: _containers.RepeatedCompositeFieldContainer[Keypoint]
    def __init__(self, class_id: _Optional[int] = ..., class_name: _Optional[str] = ..., score: _Optional[float] = ..., x1: _Optional[float] = ..., y1: _Optional[float] = ..., x2: _Optional[float] = ..., y2: _Optional[float] = ..., polygon: _Optional[_Iterable[_Union[Point, _Mapping]]] = ..., keypoints: _Optional[_Iterable[_Union[Keypoint, _Mapping]]] = ...) -> None: ...

class ClassScore(_message.Message):
    __slots__ = ("class_id", "class_name", "score")
    CLASS_ID_FIELD_NUMBER: _ClassVar[int]
    CLASS_NAME_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    class_id: int
    class_name: str
    score: float
    def __init__(self, class_id: _Optional[int] = ..., class_name: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class Detections(_message.Message):
    __slots__ = ("image_index", "width", "height", "objects", "top", "engine", "provider", "inference_ms")
    IMAGE_INDEX_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    INFERENCE_MS_FIELD_NUMBER: _ClassVar[int]
    image_index: int
    width: int
    height: int
    objects: _containers.RepeatedCompositeFieldContainer[Detection]
    top: _containers.RepeatedCompositeFieldContainer[ClassScore]
    engine: str
    provider: str
    inference_ms: float
    def __init__(self, image_index: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., objects: _Optional[_Iterable[_Union[Detection, _Mapping]]] = ..., top: _Optional[_Iterable[_Union[ClassScore, _Mapping]]] = ..., engine: _Optional[str] = ..., provider: _Optional[str] = ..., inference_ms: _Optional[float] = ...) -> None: ...

class BenchmarkRow(_message.Message):
    __slots__ = ("engine", "provider", "batch_size", "p50_ms", "p95_ms", "p99_ms", "images_per_second", "peak_memory_bytes", "memory_kind", "accuracy")
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    P50_MS_FIELD_NUMBER: _ClassVar[int]
    P95_MS_FIELD_NUMBER: _ClassVar[int]
    P99_MS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    PEAK_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_KIND_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    engine: str
    provider: str
    batch_size: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    images_per_second: float
    peak_memory_bytes: int
    memory_kind: str
    accuracy: float
    def __init__(self, engine: _Optional[str] = ..., provider: _Optional[str] = ..., batch_size: _Optional[int] = ..., p50_ms: _Optional[float] = ..., p95_ms: _Optional[float] = ..., p99_ms: _Optional[float] = ..., images_per_second: _Optional[float] = ..., peak_memory_bytes: _Optional[int] = ..., memory_kind: _Optional[str] = ..., accuracy: _Optional[float] = ...) -> None: ...

class Report(_message.Message):
    __slots__ = ("model", "metrics", "benchmark", "selected_engine", "summary")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    BENCHMARK_FIELD_NUMBER: _ClassVar[int]
    SELECTED_ENGINE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    model: str
    metrics: _containers.ScalarMap[str, float]
    benchmark: _containers.RepeatedCompositeFieldContainer[BenchmarkRow]
    selected_engine: str
    summary: str
    def __init__(self, model: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., benchmark: _Optional[_Iterable[_Union[BenchmarkRow, _Mapping]]] = ..., selected_engine: _Optional[str] = ..., summary: _Optional[str] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "spec", "owner", "state", "attempts", "created_at", "started_at", "finished_at", "timings", "error", "outputs", "queue_position", "last_seq", "eta_seconds", "report")
    ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_POSITION_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    id: str
    spec: JobSpec
    owner: str
    state: JobState
    attempts: int
    created_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    timings: Timings
    error: str
    outputs: _containers.RepeatedCompositeFieldContainer[Output]
    queue_position: int
    last_seq: int
    eta_seconds: float
    report: Report
    def __init__(self, id: _Optional[str] = ..., spec: _Optional[_Union[JobSpec, _Mapping]] = ..., owner: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., attempts: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., timings: _Optional[_Union[Timings, _Mapping]] = ..., error: _Optional[str] = ..., outputs: _Optional[_Iterable[_Union[Output, _Mapping]]] = ..., queue_position: _Optional[int] = ..., last_seq: _Optional[int] = ..., eta_seconds: _Optional[float] = ..., report: _Optional[_Union[Report, _Mapping]] = ...) -> None: ...

class Queued(_message.Message):
    __slots__ = ("position", "eta_known", "eta_seconds")
    POSITION_FIELD_NUMBER: _ClassVar[int]
    ETA_KNOWN_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    position: int
    eta_known: bool
    eta_seconds: float
    def __init__(self, position: _Optional[int] = ..., eta_known: _Optional[bool] = ..., eta_seconds: _Optional[float] = ...) -> None: ...

class Started(_message.Message):
    __slots__ = ("worker", "load_ms", "attempt", "batch_size")
    WORKER_FIELD_NUMBER: _ClassVar[int]
    LOAD_MS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    worker: str
    load_ms: float
    attempt: int
    batch_size: int
    def __init__(self, worker: _Optional[str] = ..., load_ms: _Optional[float] = ..., attempt: _Optional[int] = ..., batch_size: _Optional[int] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("step", "total", "preview", "stage", "metrics")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    step: int
    total: int
    preview: bytes
    stage: str
    metrics: _containers.ScalarMap[str, float]
    def __init__(self, step: _Optional[int] = ..., total: _Optional[int] = ..., preview: _Optional[bytes] = ..., stage: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ...) -> None: ...

class Finished(_message.Message):
    __slots__ = ("state", "error", "timings", "report")
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    state: JobState
    error: str
    timings: Timings
    report: Report
    def __init__(self, state: _Optional[_Union[JobState, str]] = ..., error: _Optional[str] = ..., timings: _Optional[_Union[Timings, _Mapping]] = ..., report: _Optional[_Union[Report, _Mapping]] = ...) -> None: ...

class JobEvent(_message.Message):
    __slots__ = ("job_id", "seq", "time", "snapshot", "queued", "started", "progress", "output", "finished")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    seq: int
    time: _timestamp_pb2.Timestamp
    snapshot: Job
    queued: Queued
    started: Started
    progress: Progress
    output: Output
    finished: Finished
    def __init__(self, job_id: _Optional[str] = ..., seq: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., snapshot: _Optional[_Union[Job, _Mapping]] = ..., queued: _Optional[_Union[Queued, _Mapping]] = ..., started: _Optional[_Union[Started, _Mapping]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., output: _Optional[_Union[Output, _Mapping]] = ..., finished: _Optional[_Union[Finished, _Mapping]] = ...) -> None: ...

class SubmitRequest(_message.Message):
    __slots__ = ("spec",)
    SPEC_FIELD_NUMBER: _ClassVar[int]
    spec: JobSpec
    def __init__(self, spec: _Optional[_Union[JobSpec, _Mapping]] = ...) -> None: ...

class SubmitResponse(_message.Message):
    __slots__ = ("job", "created")
    JOB_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    job: Job
    created: bool
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("job_id", "after_seq")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    after_seq: int
    def __init__(self, job_id: _Optional[str] = ..., after_seq: _Optional[int] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("states", "owner", "text", "page_size", "page_token")
    STATES_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedScalarFieldContainer[JobState]
    owner: str
    text: str
    page_size: int
    page_token: str
    def __init__(self, states: _Optional[_Iterable[_Union[JobState, str]]] = ..., owner: _Optional[str] = ..., text: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class UpdateJobRequest(_message.Message):
    __slots__ = ("job_id", "priority")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    priority: Priority
    def __init__(self, job_id: _Optional[str] = ..., priority: _Optional[_Union[Priority, str]] = ...) -> None: ...

class DeleteJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class DeleteJobResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetOutputRequest(_message.Message):
    __slots__ = ("output_id",)
    OUTPUT_ID_FIELD_NUMBER: _ClassVar[int]
    output_id: str
    def __init__(self, output_id: _Optional[str] = ...) -> None: ...

class OutputChunk(_message.Message):
    __slots__ = ("data", "offset", "total_size", "mime_type")
    DATA_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    offset: int
    total_size: int
    mime_type: str
    def __init__(self, data: _Optional[bytes] = ..., offset: _Optional[int] = ..., total_size: _Optional[int] = ..., mime_type: _Optional[str] = ...) -> None: ...
