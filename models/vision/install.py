"""Turn YOLO weights (a training run's best.pt, a downloaded yolo11n.pt) into a vision model folder."""

import models.vision._ultralytics  # noqa: F401  (sets ultralytics' environment: must come first)

# isort: split
import shutil
from pathlib import Path

from models.vision.engines import checkpoint_imgsz, class_names, load_yolo
from models.vision.registry import (
    WEIGHT_FILES,
    VisionModelInfo,
    new_model_folder,
    write_info,
)


def install_weights(weights: Path, target: Path, source: str) -> VisionModelInfo:
    """Copy weights into the new folder target with its vision.json; resolve_vision_model(str(target)) then finds it."""
    yolo = load_yolo(weights)
    info = VisionModelInfo(
        task=str(yolo.task),
        names=class_names(yolo),
        imgsz=checkpoint_imgsz(yolo),
        engine="pytorch",
        source=source,
        kpt_shape=list(yolo.model.kpt_shape) if yolo.task == "pose" else None,
    )
    with new_model_folder(target) as staging:
        shutil.copyfile(weights, staging / WEIGHT_FILES["pytorch"])
        write_info(staging, info)
    return info
