import dataclasses
import json
from pathlib import Path

import onnxruntime
import pytest
import torch
from ultralytics.engine.results import Results

from models.errors import InvalidParameter
from models.vision.bench import (
    BenchReport,
    EngineAccuracy,
    EngineRun,
    agreement,
    benchmark,
    matched_boxes,
    select_engine,
)
from models.vision.params import BenchParams
from models.vision.providers import choose_providers
from models.vision.registry import resolve_vision_model


@pytest.fixture(scope="module")
def report(models_dir: Path, onnx_exports: dict[str, Path], int8_export: Path, dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> BenchReport:
    params = BenchParams(
        batch_sizes=(1, 2), warmup=1, runs=3, validation=dataset, validation_images=4, conf=0.1,
        exports=(str(onnx_exports["detect"]), str(int8_export)), device="cpu",
    )  # fmt: skip
    return benchmark(resolve_vision_model("tiny-yolo", models_dir), models_dir, tmp_path_factory.mktemp("bench"), params)


def test_report_has_every_engine_available_here_at_every_batch_size(report: BenchReport) -> None:
    expected = {"pytorch", "onnxruntime", "onnxruntime-int8"}  # torch and onnxruntime are both installed
    assert {(run.engine, run.batch_size) for run in report.runs} == {(e, b) for e in expected for b in (1, 2)}
    onnx_provider = choose_providers(onnxruntime.get_available_providers(), "cpu")[0]
    for run in report.runs:
        assert run.runs == 3
        assert 0 < run.p50_ms <= run.p95_ms <= run.p99_ms
        assert run.images_per_second > 0
        assert run.peak_memory_bytes >= 0
        assert run.memory_kind == "rss_growth_sampled" if run.provider in {"cpu", "CPUExecutionProvider"} else run.memory_kind.startswith("cuda")
        assert run.peak_memory_bytes > 0  # an engine that loads weights and runs takes memory
        assert run.provider == ("cpu" if run.engine == "pytorch" else onnx_provider)
    assert all(run.memory_kind in report.memory_note for run in report.runs)
    assert set(report.models) == expected


def test_accuracy_is_measured_against_pytorch(report: BenchReport) -> None:
    scores = {a.engine: a.agreement for a in report.accuracy}
    assert scores["pytorch"] == 1.0
    assert scores["onnxruntime"] >= 0.9  # same weights in fp32: nearly every box matches
    assert 0.0 <= scores["onnxruntime-int8"] <= 1.0
    assert all(a.images == 4 for a in report.accuracy)


def test_a_dataset_folder_also_gives_map_against_its_labels(report: BenchReport) -> None:
    for accuracy in report.accuracy:
        assert accuracy.map50 is not None and accuracy.map50_95 is not None
        assert 0.0 <= accuracy.map50_95 <= accuracy.map50 <= 1.0


def test_report_is_json(report: BenchReport) -> None:
    decoded = json.loads(json.dumps(dataclasses.asdict(report)))
    assert decoded["runs"][0]["engine"] == "pytorch"


def _run(engine: str, ips: float, batch: int = 1) -> EngineRun:
    return EngineRun(engine, "cpu", batch, 10, 1.0, 2.0, 3.0, ips, 0, "rss_growth_sampled")


def _report(runs: list[EngineRun], scores: dict[str, float]) -> BenchReport:
    return BenchReport(
        model="m", task="detect", imgsz=320, device="cpu", runs=runs,
        accuracy=[EngineAccuracy(e, s, 8) for e, s in scores.items()], accuracy_metric="f1", memory_note="",
        models={run.engine: f"/models/{run.engine}" for run in runs},
    )  # fmt: skip


def test_select_engine_takes_the_fastest_that_stays_accurate() -> None:
    report = _report(
        [_run("pytorch", 10), _run("pytorch", 14, batch=4), _run("onnxruntime", 12), _run("onnxruntime-int8", 30)],
        {"pytorch": 1.0, "onnxruntime": 0.99, "onnxruntime-int8": 0.80},
    )
    assert select_engine(report, 0.05).engine == "pytorch"  # 14 images/s at batch 4 beats onnxruntime's 12
    choice = select_engine(report, 0.25)
    assert (choice.engine, choice.model, choice.images_per_second, choice.agreement) == ("onnxruntime-int8", "/models/onnxruntime-int8", 30, 0.80)
    faster_onnx = _report([_run("pytorch", 10), _run("onnxruntime", 12)], {"pytorch": 1.0, "onnxruntime": 0.99})
    assert select_engine(faster_onnx, 0.05).engine == "onnxruntime"
    assert select_engine(faster_onnx, 0.0).engine == "pytorch"  # 0.99 is below pytorch's 1.0
    with pytest.raises(InvalidParameter) as caught:
        select_engine(report, -0.1)
    assert caught.value.field == "tolerance"


def test_select_engine_on_the_measured_report(report: BenchReport) -> None:
    choice = select_engine(report, 0.1)
    scores = {a.engine: a.agreement for a in report.accuracy}
    assert scores[choice.engine] >= 0.9
    eligible = [run for run in report.runs if scores[run.engine] >= 0.9]
    assert choice.images_per_second == max(run.images_per_second for run in eligible)


def _results(boxes: list[list[float]]) -> Results:
    image = torch.zeros(100, 100, 3, dtype=torch.uint8).numpy()
    return Results(image, path="x", names={0: "a", 1: "b"}, boxes=torch.tensor(boxes).reshape(-1, 6))


def test_box_matching_needs_the_same_class_and_enough_overlap() -> None:
    reference = _results([[10, 10, 50, 50, 0.9, 0], [60, 60, 90, 90, 0.8, 1]])
    same = _results([[11, 10, 50, 51, 0.7, 0], [60, 60, 90, 90, 0.8, 1]])
    other_class = _results([[10, 10, 50, 50, 0.9, 1]])
    shifted = _results([[30, 30, 70, 70, 0.9, 0]])  # IoU 0.14
    assert matched_boxes(reference, same) == 2
    assert matched_boxes(reference, other_class) == 0
    assert matched_boxes(reference, shifted) == 0
    assert agreement([reference], [same]) == 1.0
    assert agreement([reference], [other_class]) == 0.0
    assert agreement([reference], [_results([[10, 10, 50, 50, 0.9, 0]])]) == pytest.approx(2 / 3)
