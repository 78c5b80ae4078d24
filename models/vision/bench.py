"""Benchmark a YOLO model on every engine available here, and pick the fastest one that stays accurate.

Latency is the whole predict call (pre-processing, forward pass, NMS) on a batch, as jobs pay it.
Accuracy is agreement with PyTorch on the same images: the F1 score of matching each engine's
detections to PyTorch's (same class, IoU >= 0.5), or top-1 agreement for classifiers. PyTorch scores 1.
"""

import models.vision._ultralytics  # noqa: F401  (sets ultralytics' environment: must come first)

# isort: split
import ctypes
import gc
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import psutil
import torch
from ultralytics import YOLO
from ultralytics.engine.results import Results

from models.device import select_device
from models.errors import InvalidParameter
from models.vision.dataset import IMAGE_SUFFIXES, find_data_yaml, read_layout
from models.vision.detect import device_memory_errors
from models.vision.engines import Thresholds, VisionModel, load_vision_model
from models.vision.export import StageProgress, export_onnx
from models.vision.params import BenchParams, ExportParams, check_bench
from models.vision.registry import (
    VisionModelSource,
    materialise,
    resolve_vision_model,
    weights_path,
)
from models.vision.synthetic import synthetic_image
from models.vision.train import prepared_data_yaml

MATCH_IOU = 0.5
MEMORY_SAMPLE_SECONDS = 0.005
MEMORY_NOTE = (
    "peak_memory_bytes is, by memory_kind: rss_growth_sampled, the process's resident memory sampled every 5 ms "
    "during the runs minus what it was before the engine loaded (freed heap is handed back to the OS first where "
    "glibc allows; elsewhere memory an earlier engine freed may be reused and later engines can read low); "
    "cuda_max_allocated, torch's peak CUDA allocation during the runs; cuda_used_growth_sampled (ONNX Runtime on a "
    "GPU), the device memory in use, sampled likewise, minus its value before loading: other processes on the GPU count too"
)


@dataclass(frozen=True)
class EngineRun:
    engine: str  # "pytorch", "onnxruntime", "onnxruntime-fp16" or "onnxruntime-int8"
    provider: str
    batch_size: int
    runs: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    images_per_second: float
    peak_memory_bytes: int
    memory_kind: str  # "rss_growth_sampled", "cuda_max_allocated" or "cuda_used_growth_sampled" (see MEMORY_NOTE)


@dataclass(frozen=True)
class EngineAccuracy:
    engine: str
    agreement: float  # 0..1 against PyTorch; PyTorch itself is 1
    images: int
    # Against the labels, when the validation folder is a YOLO dataset (data.yaml): ultralytics' own validation,
    # which runs ONNX models through its AutoBackend (its choice of provider; accuracy does not depend on it).
    map50: float | None = None
    map50_95: float | None = None


@dataclass(frozen=True)
class BenchReport:
    model: str
    task: str
    imgsz: int
    device: str
    runs: list[EngineRun]
    accuracy: list[EngineAccuracy]  # empty when there is no PyTorch model to compare with
    accuracy_metric: str
    memory_note: str
    models: dict[str, str]  # engine -> the model (folder or file) it measured, to register the chosen one


@dataclass(frozen=True)
class EngineChoice:
    engine: str
    model: str  # what BenchReport.models holds for it
    images_per_second: float
    agreement: float | None


def _dataset_map(candidate: VisionModelSource, task: str, data_yaml: Path, imgsz: int, device: str, work_dir: Path) -> tuple[float, float]:
    yolo = YOLO(str(weights_path(candidate)), task=task)
    metrics = yolo.val(
        data=str(data_yaml), imgsz=imgsz, batch=1, device=device, plots=False, verbose=False,
        project=str(work_dir), name=f"val-{candidate.path.name}", exist_ok=True,
    )  # fmt: skip
    return float(metrics.box.map50), float(metrics.box.map)


def _engine_label(source: VisionModelSource) -> str:
    if source.kind == "pt_file" or (source.info is not None and source.info.engine == "pytorch"):
        return "pytorch"
    precision = source.info.precision if source.info is not None else "fp32"
    return "onnxruntime" if precision == "fp32" else f"onnxruntime-{precision}"


def _validation_images(params: BenchParams, imgsz: int) -> list[np.ndarray]:
    if params.validation is None:
        rng = np.random.default_rng(0)
        return [synthetic_image(rng, imgsz)[0] for _ in range(params.validation_images)]
    folder = Path(params.validation)
    layout = read_layout(folder, []) if find_data_yaml(folder) else None
    roots = [p for p in layout.splits.get("val", []) if p.is_dir()] if layout is not None else []
    files = sorted(p for root in roots or [folder] for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    images = [image for image in (cv2.imread(str(p), cv2.IMREAD_COLOR) for p in files[: params.validation_images]) if image is not None]
    if not images:
        raise InvalidParameter("validation", f"validation folder '{params.validation}' holds no readable images")
    return images


def _rss() -> int:
    return int(psutil.Process().memory_info().rss)


def _release_freed_memory() -> None:
    """Collect garbage and hand freed heap back to the OS (glibc's malloc_trim), so the next engine's growth
    is measured from what is really in use rather than hidden by memory the last engine freed."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: growth may read low, as the memory note says
        pass


def _cuda_used() -> int:
    free, total = torch.cuda.mem_get_info()
    return int(total - free)


@dataclass(frozen=True)
class _Memory:
    """How one engine's memory is read: a probe sampled against its value before the engine loaded,
    or (PyTorch on CUDA) torch's own peak allocation counter."""

    kind: str
    probe: Callable[[], int]
    baseline: int


def _memory_before_load(cuda: bool) -> dict[str, _Memory]:
    probes = {"rss_growth_sampled": _Memory("rss_growth_sampled", _rss, _rss())}
    if cuda:
        probes["cuda_used_growth_sampled"] = _Memory("cuda_used_growth_sampled", _cuda_used, _cuda_used())
        probes["cuda_max_allocated"] = _Memory("cuda_max_allocated", torch.cuda.max_memory_allocated, 0)
    return probes


def _memory_for(model: VisionModel, probes: dict[str, _Memory]) -> _Memory:
    if "cuda_max_allocated" not in probes or model.provider in {"cpu", "CPUExecutionProvider"}:
        return probes["rss_growth_sampled"]
    # torch counts its own CUDA allocations; ONNX Runtime's live in its arena, seen only as device memory in use.
    return probes["cuda_max_allocated" if model.engine == "pytorch" else "cuda_used_growth_sampled"]


@contextmanager
def _peak(memory: _Memory, peak: list[int]) -> Iterator[None]:
    """Sample memory.probe while the block runs; peak[0] becomes the largest growth over memory.baseline."""
    if memory.kind == "cuda_max_allocated":
        torch.cuda.reset_peak_memory_stats()
    done = threading.Event()

    def sample() -> None:
        while not done.wait(MEMORY_SAMPLE_SECONDS):
            peak[0] = max(peak[0], memory.probe() - memory.baseline)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield
    finally:
        done.set()
        sampler.join()
        peak[0] = max(peak[0], memory.probe() - memory.baseline)


def _time_runs(model: VisionModel, batch: list[np.ndarray], thresholds: Thresholds, params: BenchParams) -> list[float]:
    for _ in range(params.warmup):
        model.predict(batch, thresholds)
    latencies = []
    for _ in range(params.runs):
        began = time.perf_counter()
        model.predict(batch, thresholds)
        latencies.append((time.perf_counter() - began) * 1000.0)
    return latencies


def _measure(label: str, model: VisionModel, images: list[np.ndarray], thresholds: Thresholds, params: BenchParams, memory: _Memory) -> list[EngineRun]:
    runs = []
    for size in params.batch_sizes:
        batch = [images[i % len(images)] for i in range(size)]
        peak = [0]
        with device_memory_errors(model, f"benchmarking batch {size}"), _peak(memory, peak):
            latencies = _time_runs(model, batch, thresholds, params)
        p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
        runs.append(
            EngineRun(
                engine=label, provider=model.provider, batch_size=size, runs=len(latencies),
                p50_ms=float(p50), p95_ms=float(p95), p99_ms=float(p99),
                images_per_second=size * 1000.0 / float(np.mean(latencies)),
                peak_memory_bytes=peak[0], memory_kind=memory.kind,
            )
        )  # fmt: skip
    return runs


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in a (N, 4) with every box in b (M, 4), xyxy."""
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(bottom_right - top_left, 0, None).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).prod(-1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def matched_boxes(reference: Results, candidate: Results, iou: float = MATCH_IOU) -> int:
    """Greedy one-to-one matches, best candidate score first: same class and IoU >= iou."""
    if reference.boxes is None or candidate.boxes is None or not len(reference.boxes) or not len(candidate.boxes):
        return 0
    ref_boxes, ref_cls = reference.boxes.xyxy.cpu().numpy(), reference.boxes.cls.cpu().numpy()
    cand_boxes, cand_cls = candidate.boxes.xyxy.cpu().numpy(), candidate.boxes.cls.cpu().numpy()
    overlaps = _iou(cand_boxes, ref_boxes) * (cand_cls[:, None] == ref_cls[None, :])
    taken = np.zeros(len(ref_boxes), dtype=bool)
    matches = 0
    for row in np.argsort(-candidate.boxes.conf.cpu().numpy()):
        free = np.where(~taken & (overlaps[row] >= iou))[0]
        if len(free):
            taken[free[np.argmax(overlaps[row, free])]] = True
            matches += 1
    return matches


def agreement(reference: Sequence[Results], candidate: Sequence[Results]) -> float:
    """F1 of box matching over all images (top-1 agreement for classification); 1.0 when both find nothing."""
    if reference and reference[0].probs is not None:
        same = [int(r.probs.top1) == int(c.probs.top1) for r, c in zip(reference, candidate)]
        return sum(same) / len(same)
    matches = sum(matched_boxes(r, c) for r, c in zip(reference, candidate))
    found = sum(len(r.boxes) for r in reference) + sum(len(c.boxes) for c in candidate)
    return 1.0 if found == 0 else 2.0 * matches / found


def _candidates(source: VisionModelSource, models_dir: Path, work_dir: Path, params: BenchParams, progress: StageProgress) -> dict[str, VisionModelSource]:
    """engine label -> model source: the model itself, the given exports, and exports made here when missing."""
    found = {_engine_label(source): source}
    for ref in params.exports:
        export = resolve_vision_model(ref, models_dir)
        found[_engine_label(export)] = export
    pytorch = found.get("pytorch")
    # By default: everything given, plus fp32 ONNX (made here if missing), plus int8 when a calibration folder is given.
    wanted = set(params.engines) or {*found, "onnxruntime", *({"onnxruntime-int8"} if params.int8_calibration else ())}
    if pytorch is not None and "onnxruntime" in wanted and "onnxruntime" not in found:
        progress("export onnxruntime", 0, 1)
        folder = export_onnx(pytorch, models_dir, work_dir / "onnx-fp32", ExportParams(half=False, imgsz=params.imgsz, device=params.device)).folder
        found["onnxruntime"] = resolve_vision_model(str(folder), models_dir)
    if pytorch is not None and "onnxruntime-int8" in wanted and "onnxruntime-int8" not in found and params.int8_calibration:
        progress("export onnxruntime-int8", 0, 1)
        int8 = ExportParams(half=False, int8_calibration=params.int8_calibration, imgsz=params.imgsz, device=params.device)
        found["onnxruntime-int8"] = resolve_vision_model(str(export_onnx(pytorch, models_dir, work_dir / "onnx-int8", int8).folder), models_dir)
    return {label: found[label] for label in sorted(found, key=lambda e: (e != "pytorch", e)) if label in wanted}


def benchmark(
    source: VisionModelSource, models_dir: Path, work_dir: Path, params: BenchParams, progress: StageProgress | None = None
) -> BenchReport:
    """Measure each engine in turn (one loaded at a time); exports it needs are written under work_dir."""
    check_bench(params)
    report = progress or (lambda stage, done, total: None)
    device = select_device(params.device)
    cuda = device.type == "cuda"
    source = materialise(source, models_dir)
    candidates = _candidates(source, models_dir, work_dir, params, report)
    runs: list[EngineRun] = []
    predictions: dict[str, list[Results]] = {}
    task, imgsz = "", 0
    for done, (label, candidate) in enumerate(candidates.items()):
        report(f"measure {label}", done, len(candidates))
        _release_freed_memory()
        probes = _memory_before_load(cuda)
        model = load_vision_model(candidate, models_dir, params.device)
        task, imgsz = model.task, params.imgsz or model.imgsz
        images = _validation_images(params, imgsz)
        thresholds = Thresholds(conf=params.conf, iou=0.7, imgsz=imgsz, max_det=300, classes=None)
        runs.extend(_measure(label, model, images, thresholds, params, _memory_for(model, probes)))
        predictions[label] = [r for image in images for r in model.predict([image], thresholds)]
        del model
    report("done", len(candidates), len(candidates))
    reference = predictions.get("pytorch")
    data_yaml = None
    if reference is not None and task != "classify" and params.validation and find_data_yaml(Path(params.validation)):
        data_yaml = prepared_data_yaml(Path(params.validation), work_dir)
    accuracy = []
    for label, found in predictions.items() if reference is not None else ():
        scores = _dataset_map(candidates[label], task, data_yaml, imgsz, str(device), work_dir) if data_yaml else (None, None)
        accuracy.append(EngineAccuracy(label, agreement(reference, found), len(found), *scores))
    return BenchReport(
        model=source.name, task=task, imgsz=imgsz, device=str(device), runs=runs, accuracy=accuracy,
        accuracy_metric="top-1 agreement with pytorch" if task == "classify" else f"F1 of box matches with pytorch (same class, IoU >= {MATCH_IOU})",
        memory_note=MEMORY_NOTE,
        models={label: str(candidate.path) for label, candidate in candidates.items()},
    )  # fmt: skip


def select_engine(report: BenchReport, tolerance: float) -> EngineChoice:
    """The engine with the highest images/second (at any batch size) whose agreement is within tolerance of PyTorch's.

    Without an accuracy figure (no PyTorch model to compare with) every engine qualifies.
    """
    if not 0.0 <= tolerance <= 1.0:
        raise InvalidParameter("tolerance", f"tolerance is a drop in agreement between 0 and 1, got {tolerance}")
    scores = {a.engine: a.agreement for a in report.accuracy}
    floor = scores.get("pytorch", 1.0) - tolerance
    eligible = [run for run in report.runs if not scores or scores.get(run.engine, -1.0) >= floor]
    if not eligible:
        raise InvalidParameter("tolerance", f"no engine stays within {tolerance} of pytorch's accuracy; the report has none to pick")
    best = max(eligible, key=lambda run: run.images_per_second)
    return EngineChoice(best.engine, report.models[best.engine], best.images_per_second, scores.get(best.engine))
