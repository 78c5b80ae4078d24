from pathlib import Path

import pytest

from models.errors import InvalidParameter
from models.vision.params import (
    BenchParams,
    DetectParams,
    ExportParams,
    TrainParams,
    check_bench,
    check_detect,
    check_export,
    check_train,
    resolve_classes,
)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (DetectParams(conf=1.5), "conf"),
        (DetectParams(conf=-0.1), "conf"),
        (DetectParams(iou=2.0), "iou"),
        (DetectParams(imgsz=100), "imgsz"),
        (DetectParams(imgsz=0), "imgsz"),
        (DetectParams(max_det=0), "max_det"),
        (DetectParams(batch=0), "batch"),
        (DetectParams(task="track"), "task"),
        (DetectParams(classes=("",)), "classes"),
        (DetectParams(classes=(-1,)), "classes"),
    ],
)
def test_bad_detect_params_name_their_field(params: DetectParams, field: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        check_detect(params)
    assert caught.value.field == field
    assert field in str(caught.value)


def test_good_detect_params_pass() -> None:
    check_detect(DetectParams(task="pose", conf=0.0, iou=1.0, imgsz=640, classes=("person", 3), max_det=1, batch=1))


def test_classes_resolve_by_name_or_id() -> None:
    names = ["red box", "green ellipse", "blue box"]
    assert resolve_classes((), names) is None
    assert resolve_classes(("blue box", 0, "1"), names) == [2, 0, 1]
    with pytest.raises(InvalidParameter, match="no class 'cat'.*red box, green ellipse, blue box") as caught:
        resolve_classes(("cat",), names)
    assert caught.value.field == "classes"
    with pytest.raises(InvalidParameter, match="ids 0 to 2"):
        resolve_classes((3,), names)


def test_bad_export_params_name_their_field(tmp_path: Path) -> None:
    cases = [
        (ExportParams(half=True, int8_calibration=tmp_path), "half"),
        (ExportParams(int8_calibration=tmp_path / "missing"), "int8_calibration"),
        (ExportParams(imgsz=33), "imgsz"),
    ]
    for params, field in cases:
        with pytest.raises(InvalidParameter) as caught:
            check_export(params)
        assert caught.value.field == field


def test_bad_bench_and_train_params_name_their_field(tmp_path: Path) -> None:
    cases = [
        (lambda: check_bench(BenchParams(batch_sizes=())), "batch_sizes"),
        (lambda: check_bench(BenchParams(batch_sizes=(0,))), "batch_sizes"),
        (lambda: check_bench(BenchParams(engines=("tensorflow",))), "engines"),
        (lambda: check_bench(BenchParams(runs=0)), "runs"),
        (lambda: check_bench(BenchParams(validation=tmp_path / "missing")), "validation"),
        (lambda: check_train(TrainParams(dataset=tmp_path / "missing")), "dataset"),
        (lambda: check_train(TrainParams(dataset=tmp_path, epochs=0)), "epochs"),
        (lambda: check_train(TrainParams(dataset=tmp_path, imgsz=65)), "imgsz"),
        (lambda: check_train(TrainParams(dataset=tmp_path, batch=0)), "batch"),
    ]
    for check, field in cases:
        with pytest.raises(InvalidParameter) as caught:
            check()
        assert caught.value.field == field
