"""Parameters of vision jobs and their limits; light (no torch) so the daemon checks them at submit time."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from models.errors import InvalidParameter
from models.params import check_range
from models.vision.registry import TASKS

MAX_IMGSZ = 4096
MAX_DET = 10_000
MAX_BATCH = 256
MAX_EPOCHS = 10_000
BENCH_ENGINES = ("pytorch", "onnxruntime", "onnxruntime-fp16", "onnxruntime-int8")  # engine and precision
STRIDE = 32  # YOLO's largest stride: image sizes are multiples of it


@dataclass(frozen=True)
class DetectParams:
    task: str = "detect"  # detect | segment | pose | classify; the model must be made for it
    conf: float = 0.25
    iou: float = 0.7
    classes: tuple[str | int, ...] = ()  # keep only these classes, by name or id; empty keeps all
    imgsz: int | None = None  # None: the model's own size
    max_det: int = 300
    batch: int = 8  # images per forward pass
    device: str = "auto"


@dataclass(frozen=True)
class ExportParams:
    half: bool | None = None  # fp16 weights: None = where the device runs fp16 (CUDA); True fails elsewhere
    int8_calibration: Path | None = None  # a folder of images: quantize to int8 with them
    imgsz: int | None = None  # None: the model's own size
    calibration_images: int = 32  # at most this many images of the folder are used
    device: str = "auto"


@dataclass(frozen=True)
class BenchParams:
    batch_sizes: tuple[int, ...] = (1,)
    warmup: int = 3
    runs: int = 20
    imgsz: int | None = None
    engines: tuple[str, ...] = ()  # empty: every engine available here
    validation: Path | None = None  # folder of images, or a YOLO dataset (its val split; adds mAP); None: synthetic
    validation_images: int = 32  # at most this many are compared
    conf: float = 0.25
    device: str = "auto"
    exports: tuple[str, ...] = ()  # existing ONNX exports of the model to measure too (fp32 is made if none is)
    int8_calibration: Path | None = None  # a folder of images: also make and measure an int8 export


@dataclass(frozen=True)
class TrainParams:
    dataset: Path
    base_model: str = "tiny-yolo"
    epochs: int = 10
    imgsz: int = 640
    batch: int = 16
    device: str = "auto"
    workers: int = 0  # data loader processes; 0 loads in the training thread
    seed: int = 0
    # Mixed precision on CUDA. Off unless asked: ultralytics checks AMP by downloading yolo26n.pt into its weights
    # folder, and jobs never download at run time; put that file there first to turn it on.
    amp: bool = False
    extra: dict[str, float] = field(default_factory=dict)  # further ultralytics hyperparameters (lr0, mosaic, ...)


def check_task(task: str) -> None:
    if task not in TASKS:
        raise InvalidParameter("task", f"unknown vision task '{task}'; use one of: {', '.join(TASKS)}")


def check_imgsz(value: int | None, name: str = "imgsz") -> None:
    if value is None:
        return
    if not STRIDE <= value <= MAX_IMGSZ or value % STRIDE != 0:
        raise InvalidParameter(
            name, f"{name} must be a multiple of {STRIDE} between {STRIDE} and {MAX_IMGSZ} (such as 320 or 640), got {value}"
        )


def check_classes(classes: Sequence[str | int]) -> None:
    for item in classes:
        if isinstance(item, bool) or not isinstance(item, (str, int)) or item == "" or (isinstance(item, int) and item < 0):
            raise InvalidParameter("classes", f"classes holds {item!r}; give class names or ids (0 or more)")


def check_detect(params: DetectParams) -> None:
    """Raise InvalidParameter for the first parameter no model could run with."""
    check_task(params.task)
    check_range("conf", params.conf, 0.0, 1.0)
    check_range("iou", params.iou, 0.0, 1.0)
    check_imgsz(params.imgsz)
    check_range("max_det", params.max_det, 1, MAX_DET)
    check_range("batch", params.batch, 1, MAX_BATCH)
    check_classes(params.classes)


def resolve_classes(classes: Sequence[str | int], names: Sequence[str]) -> list[int] | None:
    """Class ids for a filter given by names or ids; None keeps every class."""
    if not classes:
        return None
    ids: list[int] = []
    for item in classes:
        if isinstance(item, str) and item.isdigit():
            item = int(item)
        if isinstance(item, int):
            if item >= len(names):
                raise InvalidParameter("classes", f"class id {item} is out of range: this model has ids 0 to {len(names) - 1}")
            ids.append(item)
        elif item in names:
            ids.append(names.index(item))
        else:
            shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
            raise InvalidParameter("classes", f"this model has no class '{item}'; its classes are: {shown}")
    return ids


def check_export(params: ExportParams) -> None:
    check_imgsz(params.imgsz)
    if params.half and params.int8_calibration is not None:
        raise InvalidParameter("half", "choose either half (fp16) or int8 quantization, not both")
    if params.int8_calibration is not None and not Path(params.int8_calibration).is_dir():
        raise InvalidParameter(
            "int8_calibration", f"calibration folder '{params.int8_calibration}' does not exist; give a folder of images"
        )
    check_range("calibration_images", params.calibration_images, 1, 10_000)


def check_bench(params: BenchParams) -> None:
    if not params.batch_sizes:
        raise InvalidParameter("batch_sizes", "give at least one batch size to measure")
    for size in params.batch_sizes:
        check_range("batch_sizes", size, 1, MAX_BATCH)
    check_range("warmup", params.warmup, 0, 1000)
    check_range("runs", params.runs, 1, 100_000)
    check_imgsz(params.imgsz)
    check_range("conf", params.conf, 0.0, 1.0)
    for engine in params.engines:
        if engine not in BENCH_ENGINES:
            raise InvalidParameter("engines", f"unknown engine '{engine}'; use {', '.join(BENCH_ENGINES)}")
    for name in ("validation", "int8_calibration"):
        folder = getattr(params, name)
        if folder is not None and not Path(folder).is_dir():
            raise InvalidParameter(name, f"{name} folder '{folder}' does not exist; give a folder of images")
    check_range("validation_images", params.validation_images, 1, 10_000)


def check_train(params: TrainParams) -> None:
    if not Path(params.dataset).is_dir():
        raise InvalidParameter("dataset", f"dataset folder '{params.dataset}' does not exist; give a YOLO-format folder")
    check_range("epochs", params.epochs, 1, MAX_EPOCHS)
    check_imgsz(params.imgsz)
    check_range("batch", params.batch, 1, MAX_BATCH)
    check_range("workers", params.workers, 0, 64)
