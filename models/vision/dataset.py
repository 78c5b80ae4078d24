"""Checking a YOLO-format dataset folder before training, so a broken one is refused with a list of what is wrong.

Light: PyYAML and the file system only (images are checked by their headers with Pillow, not decoded).
"""

import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
MAX_PROBLEMS = 50  # a dataset with more problems than this is listed up to here, then counted


@dataclass(frozen=True)
class DatasetLayout:
    root: Path  # what split paths are relative to
    splits: dict[str, list[Path]]  # "train"/"val" -> the folders or list files data.yaml names
    names: list[str]
    kpt_shape: tuple[int, int] | None


def _names(data: dict[str, object]) -> list[str] | None:
    names = data.get("names")
    if isinstance(names, list):
        return [str(n) for n in names]
    if isinstance(names, dict) and all(isinstance(k, int) for k in names):
        return [str(names[k]) for k in sorted(names)] if sorted(names) == list(range(len(names))) else None
    if isinstance(data.get("nc"), int):
        return [f"class{i}" for i in range(int(data["nc"]))]  # type: ignore[arg-type]
    return None


def find_data_yaml(folder: Path) -> Path | None:
    for name in ("data.yaml", "data.yml", "dataset.yaml"):
        if (folder / name).is_file():
            return folder / name
    return None


def read_layout(folder: Path, problems: list[str]) -> DatasetLayout | None:
    data_yaml = find_data_yaml(folder)
    if data_yaml is None:
        problems.append(f"{folder} has no data.yaml: write one with path, train, val and names")
        return None
    try:
        data = yaml.safe_load(data_yaml.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(f"{data_yaml} cannot be read as YAML: {exc}")
        return None
    if not isinstance(data, dict):
        problems.append(f"{data_yaml} is not a mapping of keys (path, train, val, names)")
        return None
    names = _names(data)
    if not names:
        problems.append(f"{data_yaml} has no class names: add names as a list or as {{0: name, 1: name}}")
    root = Path(str(data.get("path") or folder))
    if not root.is_absolute():
        root = (folder / root).resolve()
    splits: dict[str, list[Path]] = {}
    for split in ("train", "val"):
        value = data.get(split)
        if not value:
            problems.append(f"{data_yaml} has no '{split}' split: name a folder of images for it")
            continue
        entries = value if isinstance(value, list) else [value]
        splits[split] = [Path(str(e)) if Path(str(e)).is_absolute() else root / str(e) for e in entries]
    kpt = data.get("kpt_shape")
    kpt_shape = (int(kpt[0]), int(kpt[1])) if isinstance(kpt, list) and len(kpt) == 2 else None
    return DatasetLayout(root=root, splits=splits, names=names or [], kpt_shape=kpt_shape)


def label_path(image: Path) -> Path:
    """Where YOLO keeps an image's labels: the last /images/ in its path becomes /labels/, the suffix .txt."""
    text = str(image)
    marker = f"{os.sep}images{os.sep}"
    if marker in text:
        head, _, tail = text.rpartition(marker)
        text = f"{head}{os.sep}labels{os.sep}{tail}"
    return Path(text).with_suffix(".txt")


def _split_images(entry: Path, problems: list[str], split: str) -> list[Path]:
    if entry.is_dir():
        return sorted(p for p in entry.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if entry.is_file() and entry.suffix == ".txt":
        base = entry.parent
        lines = [line.strip() for line in entry.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [Path(line) if Path(line).is_absolute() else (base / line).resolve() for line in lines]
    problems.append(f"the {split} split '{entry}' does not exist")
    return []


def _check_line(line: str, where: str, classes: int, kpt_shape: tuple[int, int] | None) -> str | None:
    parts = line.split()
    try:
        class_id = int(parts[0])
        values = [float(v) for v in parts[1:]]
    except (ValueError, IndexError):
        return f"{where}: '{line}' is not 'class x_centre y_centre width height' with numbers"
    if kpt_shape is not None:
        expected = 4 + kpt_shape[0] * kpt_shape[1]
        if len(values) != expected:
            return f"{where}: pose labels need {expected} numbers after the class id, this line has {len(values)}"
        coordinates = values[:4] + [v for i, v in enumerate(values[4:]) if kpt_shape[1] == 2 or i % 3 != 2]
    elif len(values) == 4 or (len(values) >= 6 and len(values) % 2 == 0):  # a box, or a polygon of 3+ points
        coordinates = values
    else:
        return f"{where}: a label line needs 4 numbers (a box) or an even number of 6 or more (a polygon), got {len(values)}"
    if not 0 <= class_id < classes:
        return f"{where}: class id {class_id} is out of range; data.yaml names {classes} classes (ids 0 to {classes - 1})"
    if any(not 0.0 <= v <= 1.0 for v in coordinates):
        return f"{where}: coordinates must be fractions of the image size between 0 and 1"
    return None


def _check_image(image: Path, problems: list[str], layout: DatasetLayout) -> None:
    try:
        with Image.open(image) as opened:
            opened.verify()
    except (OSError, UnidentifiedImageError):
        problems.append(f"image {image} cannot be opened as an image")
        return
    labels = label_path(image)
    if not labels.is_file():
        problems.append(f"image {image} has no labels: expected {labels} (an empty file marks an image with no objects)")
        return
    lines = labels.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        if line.strip():
            problem = _check_line(line, f"{labels} line {number}", len(layout.names), layout.kpt_shape)
            if problem:
                problems.append(problem)


def _orphan_labels(images: list[Path], problems: list[str]) -> None:
    expected = {label_path(image) for image in images}
    folders = {label.parent for label in expected}
    for folder in sorted(folders):
        for label in sorted(folder.glob("*.txt")):
            if label not in expected:
                problems.append(f"labels {label} have no image beside them in the images folder")


def validate_dataset(folder: Path) -> list[str]:
    """Every problem found, each a sentence naming the file; an empty list means the dataset can be trained on."""
    problems: list[str] = []
    if not folder.is_dir():
        return [f"dataset folder {folder} does not exist"]
    layout = read_layout(folder, problems)
    if layout is None:
        return problems
    for split, entries in layout.splits.items():
        images = [image for entry in entries for image in _split_images(entry, problems, split)]
        if not images and all(entry.exists() for entry in entries):
            problems.append(f"the {split} split ({', '.join(map(str, entries))}) holds no images")
        for image in images:
            if len(problems) > MAX_PROBLEMS:
                break
            _check_image(image, problems, layout)
        _orphan_labels(images, problems)
    if len(problems) > MAX_PROBLEMS:
        return [*problems[:MAX_PROBLEMS], f"... and {len(problems) - MAX_PROBLEMS} more problems"]
    return problems
