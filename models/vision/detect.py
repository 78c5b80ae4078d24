"""Detection, segmentation, pose and classification jobs: decode, batch, run, describe, draw."""

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import cv2
import numpy as np
import torch

from models.errors import Cancelled, InvalidParameter, OutOfDeviceMemory
from models.vision.engines import Thresholds, VisionModel
from models.vision.params import DetectParams, check_detect, resolve_classes
from models.vision.registry import DEFAULT_MODEL_FOR_TASK
from models.vision.results import DetectResult, ImageResult, to_image_result

ImagesProgress = Callable[[int, int], None]  # (images done, images in the job)


def _never() -> bool:
    return False


def decode_images(images: Sequence[bytes]) -> list[np.ndarray]:
    """BGR uint8 arrays, as ultralytics and OpenCV hold images."""
    if not images:
        raise InvalidParameter("images", "no images given; a vision job needs at least one image")
    decoded = []
    for number, data in enumerate(images, start=1):
        array = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR) if data else None
        if array is None:
            raise InvalidParameter(
                "images", f"image {number} of {len(images)} ({len(data)} bytes) is not an image OpenCV can read; send PNG, JPEG, WebP or BMP"
            )
        decoded.append(array)
    return decoded


def check_model_task(model: VisionModel, task: str) -> None:
    if model.task != task:
        raise InvalidParameter(
            "model",
            f"model '{model.name}' is a {model.task} model, so it cannot run a {task} job; "
            f"use a {task} model such as {DEFAULT_MODEL_FOR_TASK[task]}",
        )


def thresholds_for(model: VisionModel, params: DetectParams) -> Thresholds:
    return Thresholds(
        conf=params.conf,
        iou=params.iou,
        imgsz=params.imgsz or model.imgsz,
        max_det=params.max_det,
        classes=resolve_classes(params.classes, model.names),
    )


def _is_out_of_memory(exc: BaseException) -> bool:
    message = str(exc).lower()
    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in message or "failed to allocate memory" in message


@contextmanager
def device_memory_errors(model: VisionModel, what: str) -> Iterator[None]:
    """Turn an engine's out-of-memory failure (torch or ONNX Runtime) into OutOfDeviceMemory with advice."""
    try:
        yield
    except Exception as exc:
        if not _is_out_of_memory(exc):
            raise
        raise OutOfDeviceMemory(
            f"{model.provider} ran out of memory {what} with '{model.name}'; use a smaller batch or imgsz, or unload other models"
        ) from exc


def detect(
    model: VisionModel,
    images: Sequence[bytes],
    params: DetectParams,
    progress: ImagesProgress | None = None,
    should_cancel: Callable[[], bool] = _never,
    annotate: bool = True,
) -> DetectResult:
    """Run params.task on every image, params.batch images per forward pass.

    progress(done, total) after each batch; should_cancel() before each batch (raises Cancelled).
    """
    check_detect(params)
    check_model_task(model, params.task)
    thresholds = thresholds_for(model, params)
    arrays = decode_images(images)
    results: list[ImageResult] = []
    inference_seconds = 0.0
    for start in range(0, len(arrays), params.batch):
        if should_cancel():
            raise Cancelled(f"job cancelled after {start} of {len(arrays)} images")
        chunk = arrays[start : start + params.batch]
        began = time.perf_counter()
        with device_memory_errors(model, f"running {len(chunk)} images of {thresholds.imgsz} pixels"):
            predicted = model.predict(chunk, thresholds)
        inference_seconds += time.perf_counter() - began
        results.extend(to_image_result(start + i, r, annotate) for i, r in enumerate(predicted))
        if progress is not None:
            progress(len(results), len(arrays))
    return DetectResult(
        task=model.task,
        model=model.name,
        engine=model.engine,
        provider=model.provider,
        images=results,
        inference_ms=inference_seconds * 1000.0,
    )
