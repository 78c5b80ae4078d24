"""Filling in and checking vision jobs: detect, export, benchmark and train on YOLO models."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from imagine import types as t
from daemon.errors import InvalidRequest, ModelUnknown
from daemon.model_refs import default_engine, engine_model, resolve_pipeline
from daemon.validate import Context

VISION_MODEL_KINDS = ("yolo", "onnx")
DEFAULT_VISION_MODEL = "tiny-yolo"
TASKS = ("detect", "segment", "pose", "classify")
ENGINES = ("pytorch", "onnxruntime")
MAX_IMAGES = 64


def resolve_vision(model: str, models_dir: Path) -> str:
    """The model as the job records it: a registered name, a built-in, or a .pt/.onnx file or export folder."""
    from daemon.model_registry import registered
    from models.errors import ModelNotFound
    from models.vision.registry import resolve_vision_model

    from models.catalog import BUILTIN_MODELS

    if model in registered(models_dir) or model in BUILTIN_MODELS:  # BUILTIN_MODELS: refused, with its kind
        return resolve_pipeline(model, models_dir, VISION_MODEL_KINDS)[1]
    try:
        resolve_vision_model(model, models_dir)
    except ModelNotFound as exc:
        raise ModelUnknown(str(exc)) from exc
    return model


def _checked(kind: str, check: Callable[[], None]) -> None:
    from models.errors import InvalidParameter

    try:
        check()
    except InvalidParameter as exc:
        message = str(exc)
        raise InvalidRequest(f"{kind}.{exc.field}", f"{kind}.{message if message.startswith(exc.field) else f'{exc.field}: {message}'}") from exc


def _range(field: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise InvalidRequest(field, f"{field} must be between {low:g} and {high:g}, got {value:g}")


def _imgsz(field: str, value: int) -> None:
    if value and (value % 32 or not 32 <= value <= 4096):
        raise InvalidRequest(field, f"{field} must be a multiple of 32 between 32 and 4096, got {value}")


def _folder(field: str, value: str, what: str) -> str:
    path = Path(value).expanduser()
    if not path.is_dir():
        raise InvalidRequest(field, f"{field}: {value!r} is not a folder on the daemon's machine; give {what}")
    return str(path.resolve())


def _new_name(field: str, name: str, models_dir: Path) -> str:
    from daemon.model_registry import check_name, registered

    try:
        name = check_name(name)
    except InvalidRequest as exc:
        raise InvalidRequest(field, f"{field}: {exc}") from exc
    if name in registered(models_dir):
        raise InvalidRequest(field, f"{field}: a model named '{name}' is already registered; choose another name")
    return name


def fill(spec: t.JobSpec, ctx: Context) -> t.JobSpec:
    from models.vision.registry import DEFAULT_MODEL_FOR_TASK

    task = spec.task
    wanted = task.task.strip().lower() if isinstance(task, t.Detect) else ""
    model = resolve_vision(spec.model.strip() or DEFAULT_MODEL_FOR_TASK.get(wanted, DEFAULT_VISION_MODEL), ctx.models_dir)
    if isinstance(task, t.Detect):
        task = _detect(task, ctx, default_engine(model, ctx.models_dir))
        engine_model(model, task.engine, ctx.models_dir)  # an engine the model cannot run on is refused now
    elif isinstance(task, t.Export):
        task = _export(task, model, ctx)
    elif isinstance(task, t.Benchmark):
        task = _benchmark(task, ctx)
    elif isinstance(task, t.Train):
        task = _train(task, model, ctx)
        if spec.priority is t.Priority.NORMAL:
            spec = dataclasses.replace(spec, priority=t.Priority.LOW)  # training yields to interactive work
    return dataclasses.replace(spec, model=model, task=task)


def _detect(task: t.Detect, ctx: Context, engine_by_default: str) -> t.Detect:
    from models.vision.params import DetectParams, check_detect

    if not task.images:
        raise InvalidRequest("detect.images", "detect.images is empty; give at least one image")
    if len(task.images) > MAX_IMAGES:
        raise InvalidRequest("detect.images", f"detect.images: at most {MAX_IMAGES} images per job, got {len(task.images)}")
    kind = task.task.strip().lower()
    if kind and kind not in TASKS:
        raise InvalidRequest("detect.task", f"detect.task must be one of {', '.join(TASKS)}, got {task.task!r}")
    engine = task.engine.strip().lower() or engine_by_default
    if engine not in ENGINES:
        raise InvalidRequest("detect.engine", f"detect.engine must be one of {', '.join(ENGINES)}, got {task.engine!r}")
    conf = 0.25 if task.conf is None else task.conf
    iou = 0.7 if task.iou is None else task.iou
    classes = tuple(c.strip() for c in task.classes if c.strip())
    params = DetectParams(task=kind or "detect", conf=conf, iou=iou, classes=classes, imgsz=task.imgsz or None, max_det=task.max_det or 300)
    _checked("detect", lambda: check_detect(params))
    images = tuple(ctx.image(image, f"detect.images[{i}]") for i, image in enumerate(task.images))
    return dataclasses.replace(
        task, images=images, task=kind, engine=engine, conf=conf, iou=iou, max_det=task.max_det or 300, classes=classes
    )


def _export(task: t.Export, model: str, ctx: Context) -> t.Export:
    fmt = task.format.strip().lower() or "onnx"
    if fmt != "onnx":
        raise InvalidRequest("export.format", f"export.format: only onnx is supported, not {task.format!r}")
    _imgsz("export.imgsz", task.imgsz)
    calibration = _folder("export.int8_calibration", task.int8_calibration, "a folder of calibration images") if task.int8_calibration else ""
    if calibration and task.half:
        raise InvalidRequest("export.half", "export.half and export.int8_calibration exclude each other: choose one precision")
    suffix = "-int8" if calibration else "-fp16" if task.half else ""
    name = _new_name("export.name", task.name.strip() or f"{Path(model).stem}-onnx{suffix}", ctx.models_dir)
    return dataclasses.replace(task, format=fmt, int8_calibration=calibration, name=name)


def _benchmark(task: t.Benchmark, ctx: Context) -> t.Benchmark:
    from models.vision.params import BENCH_ENGINES

    engines = tuple(e.strip().lower() for e in task.engines)
    unknown = [e for e in engines if e not in BENCH_ENGINES]
    if unknown:
        raise InvalidRequest(
            "benchmark.engines", f"benchmark.engines: unknown {', '.join(unknown)}; use {', '.join(BENCH_ENGINES)}"
        )
    batch_sizes = task.batch_sizes or (1, 4)
    for size in batch_sizes:
        _range("benchmark.batch_sizes", size, 1, 64)
    runs, warmup = task.runs or 20, task.warmup or 3
    _range("benchmark.runs", runs, 1, 1000)
    _range("benchmark.warmup", warmup, 0, 100)
    _imgsz("benchmark.imgsz", task.imgsz)
    tolerance = 0.02 if task.tolerance is None else task.tolerance
    _range("benchmark.tolerance", tolerance, 0.0, 1.0)
    validation = _folder("benchmark.validation", task.validation, "a YOLO dataset folder") if task.validation else ""
    return dataclasses.replace(
        task, engines=engines, batch_sizes=tuple(batch_sizes), runs=runs, warmup=warmup, tolerance=tolerance,
        validation=validation,
    )


def _train(task: t.Train, model: str, ctx: Context) -> t.Train:
    from models.vision.dataset import validate_dataset

    dataset = _folder("train.dataset", task.dataset, "a YOLO-format dataset folder (data.yaml, images/, labels/)")
    problems = validate_dataset(Path(dataset))
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise InvalidRequest("train.dataset", f"train.dataset {dataset} cannot be trained on: {shown}")
    epochs = task.epochs or 10
    _range("train.epochs", epochs, 1, 10000)
    _imgsz("train.imgsz", task.imgsz)
    _range("train.batch", task.batch or 8, 1, 1024)
    _range("train.tune", task.tune, 0, 1000)
    name = _new_name("train.name", task.name.strip() or f"{Path(model).stem}-{Path(dataset).name}", ctx.models_dir)
    return dataclasses.replace(
        task, dataset=dataset, epochs=epochs, imgsz=task.imgsz or 640, batch=task.batch or 8, name=name
    )
