"""What a vision job returns: plain dataclasses, made from ultralytics Results whichever engine ran."""

import models.vision._ultralytics  # noqa: F401  (sets ultralytics' environment: must come first)

# isort: split
from dataclasses import dataclass, field

import cv2
import numpy as np
from ultralytics.engine.results import Results

from models.errors import ModelError


@dataclass(frozen=True)
class Keypoint:
    x: float
    y: float
    confidence: float | None  # None when the model predicts positions only


@dataclass(frozen=True)
class Detection:
    """One object: its box in image pixels (x1, y1, x2, y2), and, by task, its outline or its keypoints."""

    box: tuple[float, float, float, float]
    class_id: int
    class_name: str
    score: float
    polygon: list[tuple[float, float]] | None = None  # segment: the mask outline in image pixels
    keypoints: list[Keypoint] | None = None  # pose


@dataclass(frozen=True)
class ClassScore:
    class_id: int
    class_name: str
    score: float


@dataclass(frozen=True)
class ImageResult:
    index: int  # position of the image in the job
    width: int
    height: int
    detections: list[Detection] = field(default_factory=list)
    top5: list[ClassScore] = field(default_factory=list)  # classify only, best first
    annotated_png: bytes = b""


@dataclass(frozen=True)
class DetectResult:
    task: str
    model: str
    engine: str  # "pytorch" or "onnxruntime"
    provider: str  # where it ran: "cpu", "cuda:0", or the ONNX Runtime execution provider
    images: list[ImageResult]
    inference_ms: float  # forward passes with pre- and post-processing, without decoding or drawing


def _polygon(points: np.ndarray) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in points]


def _keypoints(xy: np.ndarray, conf: np.ndarray | None) -> list[Keypoint]:
    confidences = [None] * len(xy) if conf is None else [float(c) for c in conf]
    return [Keypoint(float(x), float(y), c) for (x, y), c in zip(xy, confidences)]


def _detections(result: Results) -> list[Detection]:
    boxes = result.boxes
    if boxes is None:
        return []
    xyxy = boxes.xyxy.cpu().numpy()
    ids = boxes.cls.cpu().numpy().astype(int)
    scores = boxes.conf.cpu().numpy()
    polygons = result.masks.xy if result.masks is not None else None
    keypoints = result.keypoints
    kpt_xy = keypoints.xy.cpu().numpy() if keypoints is not None else None
    kpt_conf = keypoints.conf.cpu().numpy() if keypoints is not None and keypoints.conf is not None else None
    return [
        Detection(
            box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
            class_id=int(class_id),
            class_name=result.names[int(class_id)],
            score=float(score),
            polygon=_polygon(polygons[i]) if polygons is not None else None,
            keypoints=_keypoints(kpt_xy[i], kpt_conf[i] if kpt_conf is not None else None) if kpt_xy is not None else None,
        )
        for i, (box, class_id, score) in enumerate(zip(xyxy, ids, scores))
    ]


def _top5(result: Results) -> list[ClassScore]:
    if result.probs is None:
        return []
    ids = [int(i) for i in result.probs.top5]
    scores = result.probs.top5conf.cpu().numpy()
    return [ClassScore(i, result.names[i], float(s)) for i, s in zip(ids, scores)]


def encode_png(image_bgr: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image_bgr)
    if not ok:
        raise ModelError("could not encode the annotated image as PNG")
    return encoded.tobytes()


def to_image_result(index: int, result: Results, annotate: bool = True) -> ImageResult:
    height, width = result.orig_shape
    return ImageResult(
        index=index,
        width=int(width),
        height=int(height),
        detections=_detections(result),
        top5=_top5(result),
        annotated_png=encode_png(result.plot()) if annotate else b"",
    )
