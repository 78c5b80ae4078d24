from pathlib import Path

import cv2
import pytest
import yaml

from models.vision.dataset import validate_dataset
from models.vision.synthetic import SHAPE_CLASSES, make_synthetic_dataset

from .conftest import copy_dataset


@pytest.fixture
def copy(dataset: Path, tmp_path: Path) -> Path:
    return copy_dataset(dataset, tmp_path / "data")


def test_the_synthetic_dataset_is_valid(dataset: Path) -> None:
    assert validate_dataset(dataset) == []


def test_synthetic_labels_match_the_drawn_shapes(dataset: Path) -> None:
    for label in sorted((dataset / "labels" / "train").glob("*.txt"))[:6]:
        image = cv2.imread(str(dataset / "images" / "train" / f"{label.stem}.png"))
        size = image.shape[0]
        lines = label.read_text().split("\n")
        last = [float(v) for v in [line for line in lines if line][-1].split()]  # drawn last: nothing covers it
        class_id, cx, cy = int(last[0]), last[1] * size, last[2] * size
        assert tuple(int(c) for c in image[int(cy), int(cx)]) == SHAPE_CLASSES[class_id][1]


def test_synthetic_datasets_are_seeded(tmp_path: Path) -> None:
    make_synthetic_dataset(tmp_path / "a", train=2, val=1, seed=3)
    make_synthetic_dataset(tmp_path / "b", train=2, val=1, seed=3)
    for label in (tmp_path / "a" / "labels" / "train").glob("*.txt"):
        assert label.read_text() == (tmp_path / "b" / "labels" / "train" / label.name).read_text()


def _one_problem_like(problems: list[str], *words: str) -> None:
    assert any(all(w in p for w in words) for p in problems), f"no problem mentions {words}: {problems}"


def test_missing_or_unreadable_data_yaml(copy: Path) -> None:
    (copy / "data.yaml").unlink()
    _one_problem_like(validate_dataset(copy), "no data.yaml")
    (copy / "data.yaml").write_text("names: [a\n  - b: {")
    _one_problem_like(validate_dataset(copy), "cannot be read as YAML")
    assert validate_dataset(copy / "nowhere") == [f"dataset folder {copy / 'nowhere'} does not exist"]


def test_missing_and_empty_splits(copy: Path) -> None:
    data = yaml.safe_load((copy / "data.yaml").read_text())
    del data["val"]
    (copy / "data.yaml").write_text(yaml.safe_dump(data))
    _one_problem_like(validate_dataset(copy), "no 'val' split")
    data["val"] = "images/val"
    (copy / "data.yaml").write_text(yaml.safe_dump(data))
    for image in (copy / "images" / "val").iterdir():
        image.unlink()
    problems = validate_dataset(copy)
    _one_problem_like(problems, "val split", "holds no images")
    data["train"] = "images/elsewhere"
    (copy / "data.yaml").write_text(yaml.safe_dump(data))
    _one_problem_like(validate_dataset(copy), "train split", "does not exist")


def test_every_kind_of_label_problem_is_listed(copy: Path) -> None:
    labels = copy / "labels" / "train"
    (labels / "0000.txt").unlink()  # an image without labels
    (labels / "9999.txt").write_text("0 0.5 0.5 0.1 0.1\n")  # labels without an image
    (labels / "0001.txt").write_text("zero 0.5 0.5 0.1 0.1\n")
    (labels / "0002.txt").write_text("0 0.5 0.5 0.1\n")
    (labels / "0003.txt").write_text(f"{len(SHAPE_CLASSES)} 0.5 0.5 0.1 0.1\n")
    (labels / "0004.txt").write_text("1 1.5 0.5 0.1 0.1\n")
    (copy / "images" / "train" / "0005.png").write_bytes(b"not a png")
    problems = validate_dataset(copy)
    _one_problem_like(problems, "0000.png", "has no labels")
    _one_problem_like(problems, "9999.txt", "no image")
    _one_problem_like(problems, "0001.txt line 1", "with numbers")
    _one_problem_like(problems, "0002.txt line 1", "4 numbers")
    _one_problem_like(problems, "0003.txt line 1", "class id 3 is out of range")
    _one_problem_like(problems, "0004.txt line 1", "between 0 and 1")
    _one_problem_like(problems, "0005.png", "cannot be opened")
    assert len(problems) == 7
