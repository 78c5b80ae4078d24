"""A small YOLO-format dataset of coloured shapes on noise, with exactly known boxes; seeded."""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

# (name, BGR colour, shape): each class is one shape in one colour, so a detector can learn it in a few epochs.
SHAPE_CLASSES = (
    ("red box", (40, 40, 220), "rectangle"),
    ("green ellipse", (60, 200, 60), "ellipse"),
    ("blue box", (220, 90, 30), "rectangle"),
)


@dataclass(frozen=True)
class SyntheticBox:
    class_id: int
    x1: int
    y1: int
    x2: int
    y2: int


def _draw(image: np.ndarray, rng: np.random.Generator, class_id: int) -> SyntheticBox:
    height, width = image.shape[:2]
    _, colour, shape = SHAPE_CLASSES[class_id]
    box_w = int(rng.integers(width // 6, width // 2))
    box_h = int(rng.integers(height // 6, height // 2))
    x1 = int(rng.integers(0, width - box_w))
    y1 = int(rng.integers(0, height - box_h))
    x2, y2 = x1 + box_w - 1, y1 + box_h - 1
    if shape == "rectangle":
        cv2.rectangle(image, (x1, y1), (x2, y2), colour, thickness=-1)
    else:
        centre = ((x1 + x2) // 2, (y1 + y2) // 2)
        cv2.ellipse(image, centre, ((x2 - x1) // 2, (y2 - y1) // 2), 0, 0, 360, colour, thickness=-1)
    return SyntheticBox(class_id, x1, y1, x2 + 1, y2 + 1)


def synthetic_image(rng: np.random.Generator, size: int, max_objects: int = 3) -> tuple[np.ndarray, list[SyntheticBox]]:
    """A noise background with 1..max_objects shapes; later shapes may cover earlier ones a little."""
    image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    image = cv2.GaussianBlur(image, (5, 5), 0)  # soft noise, so shapes stand out as they would in a photo
    count = int(rng.integers(1, max_objects + 1))
    return image, [_draw(image, rng, int(rng.integers(0, len(SHAPE_CLASSES)))) for _ in range(count)]


def label_lines(boxes: list[SyntheticBox], size: int) -> list[str]:
    lines = []
    for box in boxes:
        cx, cy = (box.x1 + box.x2) / 2 / size, (box.y1 + box.y2) / 2 / size
        w, h = (box.x2 - box.x1) / size, (box.y2 - box.y1) / size
        lines.append(f"{box.class_id} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return lines


def make_synthetic_dataset(folder: Path, train: int = 16, val: int = 8, size: int = 128, seed: int = 0) -> Path:
    """Write folder/images/{train,val}, folder/labels/{train,val} and folder/data.yaml; return the data.yaml path."""
    rng = np.random.default_rng(seed)
    for split, count in (("train", train), ("val", val)):
        (folder / "images" / split).mkdir(parents=True, exist_ok=True)
        (folder / "labels" / split).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            image, boxes = synthetic_image(rng, size)
            cv2.imwrite(str(folder / "images" / split / f"{index:04d}.png"), image)
            (folder / "labels" / split / f"{index:04d}.txt").write_text("\n".join(label_lines(boxes, size)) + "\n")
    data = {
        "path": str(folder.resolve()),
        "train": "images/train",
        "val": "images/val",
        "names": {i: name for i, (name, _, _) in enumerate(SHAPE_CLASSES)},
    }
    data_yaml = folder / "data.yaml"
    data_yaml.write_text(yaml.safe_dump(data, sort_keys=False))
    return data_yaml
