"""The vision commands: their JobSpecs, and how detections, benchmarks and training read on the terminal."""

from __future__ import annotations

import dataclasses
import io
import json
import os
from pathlib import Path

import pytest

from imagine import types as t
from tests.tui.builders import NOW, event, make_job
from tests.tui.cli_helpers import parse, usage_error
from tests.tui.test_cli_follow import FakeClient, args
from tui.commands.jobs import job_lines, jobs_table
from tui.commands.vision import bench_spec, detect_spec, export_spec, train_spec
from tui.display import ProgressDisplay
from tui.follow import follow_and_report
from tui.progress import JobProgress
from tui.results import result_lines, summary
from tui.vision_text import benchmark_lines, detections_lines, report_lines, stage_line

OUTPUT_ID = "3f2a9c1b7d4e-0"


# -- specs ---------------------------------------------------------------------------


def test_detect_spec(tmp_path: Path) -> None:
    photo = tmp_path / "street.jpg"
    photo.write_bytes(b"jpeg-bytes")
    spec = detect_spec(parse(
        "detect", str(photo), OUTPUT_ID, "-m", "yolo11n", "--task", "segment", "--conf", "0.4", "--iou", "0.5",
        "--classes", "person, car", "--imgsz", "320", "--max-det", "10", "--engine", "onnxruntime",
    ))  # fmt: skip
    assert spec.model == "yolo11n" and spec.kind == "detect"
    assert spec.task == t.Detect(
        images=(t.ImageInput(data=b"jpeg-bytes"), t.ImageInput(output_id=OUTPUT_ID)),
        task="segment", conf=0.4, iou=0.5, classes=("person", "car"), imgsz=320, max_det=10, engine="onnxruntime",
    )  # fmt: skip
    assert detect_spec(parse("detect", OUTPUT_ID)).task == t.Detect(images=(t.ImageInput(output_id=OUTPUT_ID),))


def test_bench_spec_sends_folders_as_absolute_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    spec = bench_spec(parse(
        "bench", "tiny-yolo", "--engines", "pytorch,ONNXRuntime", "--batch-sizes", "1,8", "--runs", "5", "--warmup", "0",
        "--imgsz", "64", "--select", "--tolerance", "0.01", "--validation", "val",
    ))  # fmt: skip
    assert spec.model == "tiny-yolo"
    assert spec.task == t.Benchmark(("pytorch", "onnxruntime"), (1, 8), 5, 0, 64, True, 0.01, str(tmp_path / "val"))
    assert bench_spec(parse("bench", "tiny-yolo")).task == t.Benchmark()


def test_train_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    spec = train_spec(parse("train", "shapes", "-m", "tiny-yolo", "--epochs", "2", "--imgsz", "64", "--batch", "4", "--tune", "3", "--name", "shapes-v1"))
    assert spec.task == t.Train(str(tmp_path / "shapes"), 2, 64, 4, 3, "shapes-v1")
    assert spec.model == "tiny-yolo" and spec.priority is t.Priority.LOW
    assert train_spec(parse("train", "/data/set", "--priority", "high")).priority is t.Priority.HIGH


def test_export_spec() -> None:
    spec = export_spec(parse("models", "export", "tiny-yolo", "--format", "onnx", "--half", "--name", "fast"))
    assert spec.model == "tiny-yolo" and spec.task == t.Export("onnx", True, "", "fast", 0)
    spec = export_spec(parse("models", "export", "tiny-yolo", "--int8", "calib"))
    assert spec.task == t.Export("onnx", False, os.path.abspath("calib"))  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["detect"], ["IMAGE"]),
        (["detect", "nope.jpg"], ["IMAGE nope.jpg", "no such file"]),
        (["detect", OUTPUT_ID, "--task", "track"], ["--task"]),
        (["detect", OUTPUT_ID, "--conf", "3"], ["--conf", "between 0 and 1"]),
        (["detect", OUTPUT_ID, "--imgsz", "100"], ["--imgsz", "multiple of 32"]),
        (["detect", OUTPUT_ID, "--engine", "tensorrt"], ["--engine"]),
        (["bench", "m", "--engines", "tensorrt"], ["--engines", "tensorrt", "pytorch or onnxruntime"]),
        (["bench", "m", "--batch-sizes", "1,x"], ["--batch-sizes", "'x'"]),
        (["bench", "m", "--tolerance", "0.1"], ["--tolerance", "--select"]),
        (["train", "d", "--epochs", "0"], ["--epochs"]),
        (["train", "d", "--priority", "normal"], ["--priority"]),
        (["models", "export", "m", "--format", "tflite"], ["--format"]),
        (["models", "export", "m", "--half", "--int8", "calib"], ["--half", "--int8"]),
    ],
)
def test_vision_mistakes(capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str]) -> None:
    err = usage_error(capsys, *argv)
    for word in words:
        assert word in err, (word, err)


def test_detect_output_must_be_a_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    file = tmp_path / "a.png"
    file.write_bytes(b"x")
    assert "give a folder" in usage_error(capsys, "detect", OUTPUT_ID, "-o", str(file))


# -- fixed results -------------------------------------------------------------------


def detections() -> t.Detections:
    return t.Detections(
        image_index=0, width=640, height=480, engine="onnxruntime", provider="CPUExecutionProvider", inference_ms=12.4,
        objects=(
            t.Detection(0, "person", 0.912, 12.2, 40.0, 200.4, 380.0),
            t.Detection(2, "car", 0.5, 300, 200, 620, 470, polygon=(t.Point(300, 200), t.Point(620, 200), t.Point(620, 470))),
        ),
    )  # fmt: skip


def test_detections_table() -> None:
    lines = detections_lines(detections(), "street.jpg", width=100)
    assert lines[0] == "street.jpg: 640x480, 2 objects (onnxruntime CPUExecutionProvider, 12 ms)"
    assert lines[1].split() == ["CLASS", "SCORE", "BOX", "x1,", "y1,", "x2,", "y2"]
    assert lines[2].split(maxsplit=2) == ["person", "0.91", "12, 40, 200, 380"]
    assert lines[3].split(maxsplit=2) == ["car", "0.50", "300, 200, 620, 470  outline of 3 points"]
    assert lines[2].index("0.91") == lines[3].index("0.50")


def test_a_long_list_of_objects_is_cut_with_a_count() -> None:
    many = t.Detections(0, 64, 64, objects=tuple(t.Detection(0, "dot", 0.9 - i / 100, i, i, i + 1, i + 1) for i in range(45)))
    lines = detections_lines(many, "dots.png", width=80)
    assert len(lines) == 1 + 1 + 40 + 1 and lines[-1] == "  … and 5 more (--json lists them all)"
    assert lines[-2].split()[:2] == ["dot", "0.51"]  # the best 40, in the daemon's order


def test_export_and_benchmark_phases() -> None:
    job = t.Job("b1", t.JobSpec(t.Benchmark(), model="tiny-yolo"), "alice", t.JobState.QUEUED)
    events = [event(t.Snapshot(job), 1, NOW, "b1"), event(t.Started("w1", 0.0, 1), 2, NOW, "b1")]
    for i, phase in enumerate(["export onnxruntime", "measure pytorch b1", "measure pytorch b1", "done"]):
        events.append(event(t.Progress(min(i, 2), 2, stage=phase), 3 + i, NOW + i, "b1"))
    stream = io.StringIO()
    display = ProgressDisplay(stream, tty=False)
    progress = JobProgress("b1")
    for ev in events:
        progress.apply(ev)
        display.update(ev, progress)
    assert stream.getvalue().splitlines()[2:] == [
        "[----------] 0/2 phases  export onnxruntime",
        "[#####-----] 1/2 phases  measure pytorch b1",
        "[##########] 2/2 phases  done",
    ]


def test_pose_classify_and_nothing_found() -> None:
    pose = t.Detections(0, 64, 64, objects=(t.Detection(0, "person", 0.8, 1, 2, 30, 60, keypoints=(t.Keypoint(5, 5, 0.9), t.Keypoint(6, 6, 0.1))),))
    assert detections_lines(pose, "p.png", width=80)[2].endswith("1/2 keypoints")
    top = t.Detections(0, 64, 64, top=(t.ClassScore(3, "tabby", 0.7), t.ClassScore(4, "tiger", 0.2)), engine="pytorch")
    lines = detections_lines(top, "cat.png", width=80)
    assert lines[0] == "cat.png: 64x64, top 2 classes (pytorch)"
    assert [line.split() for line in lines[1:]] == [["CLASS", "SCORE"], ["tabby", "0.70"], ["tiger", "0.20"]]
    assert detections_lines(t.Detections(0, 64, 64), "empty.png", width=80) == ["empty.png: 64x64, 0 objects", "  nothing found"]


def bench_report(select: str = "onnxruntime") -> t.Report:
    return t.Report(
        benchmark=(
            t.BenchmarkRow("pytorch", "", 1, 20.26, 25.0, 31.5, 49.4, 150 * 1024**2, "process RSS growth", 1.0),
            t.BenchmarkRow("onnxruntime", "CPUExecutionProvider", 4, 8.04, 9.5, 120.25, 497.5, 40 * 1024**2, "process RSS growth", 0.995),
        ),
        selected_engine=select,
        summary="onnxruntime is 2.5x faster than pytorch at batch 4",
    )  # fmt: skip


def test_benchmark_table_is_aligned() -> None:
    lines = benchmark_lines(bench_report(), width=120)
    header, first, second = lines[:3]
    assert header.split() == ["ENGINE", "PROVIDER", "BATCH", "P50", "MS", "P95", "MS", "P99", "MS", "IMG/S", "PEAK", "MEMORY", "ACCURACY"]
    assert first.split() == ["pytorch", "-", "1", "20.3", "25.0", "31.5", "49.4", "150.0", "MiB", "1.000"]
    assert second.split() == ["onnxruntime", "CPUExecutionProvider", "4", "8.0", "9.5", "120.2", "497.5", "40.0", "MiB", "0.995"]
    for column in ("P50 MS", "P99 MS", "IMG/S", "ACCURACY"):  # numbers end where their header ends
        end = header.index(column) + len(column)
        assert first[end - 1] != " " and second[end - 1] != " " and first[end : end + 1] in (" ", "")
    assert lines[3] == "peak memory: process RSS growth"
    assert lines[4] == "selected engine: onnxruntime"
    assert lines[5] == "onnxruntime is 2.5x faster than pytorch at batch 4"
    assert not any("selected" in line for line in benchmark_lines(bench_report(select=""), width=120))
    assert "selected engine: none (the model's default engine is unchanged)" in benchmark_lines(
        bench_report(select=""), width=120, selecting=True
    )


def test_training_lines() -> None:
    metrics = {"mAP50": 0.1234567, "box_loss": 1.5, "cls_loss": 2.25, "mAP50-95": 0.05}
    assert stage_line("epoch", 3, 10, metrics) == "epoch 3/10  box_loss 1.5  cls_loss 2.25  mAP50 0.1235  mAP50-95 0.05"
    assert stage_line("tune", 1, 5, {}) == "tune generation 1/5"
    raw = {"metrics/mAP50(B)": 0.25, "mAP50": 0.25, "metrics/recall(B)": 0.5, "train/box_loss": 1.0}
    assert stage_line("epoch", 1, 2, raw) == "epoch 1/2  train/box_loss 1  mAP50 0.25  recall 0.5"
    report = t.Report(model="shapes-v1", metrics={"mAP50": 0.61, "precision": 0.7}, summary="2 epochs on shapes")
    assert report_lines(report) == ["mAP50      0.61", "precision  0.7", "registered model shapes-v1", "2 epochs on shapes"]


def train_events() -> list[t.JobEvent]:
    job = t.Job("tr1", t.JobSpec(t.Train("/data/shapes", epochs=2), model="tiny-yolo"), "alice", t.JobState.QUEUED)
    report = t.Report(model="tiny-yolo-shapes", metrics={"mAP50": 0.5})
    return [
        event(t.Snapshot(job), 1, NOW, "tr1"),
        event(t.Started("w1", 0.0, 1), 2, NOW + 1, "tr1"),
        event(t.Progress(1, 2, stage="epoch", metrics={"box_loss": 1.2, "mAP50": 0.2}), 3, NOW + 5, "tr1"),
        event(t.Progress(2, 2, stage="epoch", metrics={"box_loss": 0.9, "mAP50": 0.5}), 4, NOW + 9, "tr1"),
        event(t.Finished(t.JobState.SUCCEEDED, timings=t.Timings(total_ms=9000), report=report), 5, NOW + 10, "tr1"),
    ]


EPOCH_LINES = ["epoch 1/2  box_loss 1.2  mAP50 0.2", "epoch 2/2  box_loss 0.9  mAP50 0.5"]


@pytest.mark.parametrize("tty", [False, True])
def test_training_progress_is_a_line_per_epoch(tty: bool) -> None:
    stream = io.StringIO()
    display = ProgressDisplay(stream, tty=tty)
    progress = JobProgress("tr1")
    for ev in train_events():
        progress.apply(ev)
        display.update(ev, progress)
    if tty:  # the queue line is redrawn and wiped; each epoch stays as a whole line
        assert all(f"\n{line}\n" in stream.getvalue() for line in EPOCH_LINES)
    else:
        assert stream.getvalue().splitlines() == ["queued", "started on worker w1", *EPOCH_LINES, "succeeded in 9.0s"]
    job = progress.result()
    assert job.report is not None and job.report.model == "tiny-yolo-shapes"
    assert progress.metrics == {"box_loss": 0.9, "mAP50": 0.5} and progress.stage == "epoch"


def detect_job() -> t.Job:
    output = t.Output("d1-0", "d1", 0, 0, 640, 480, "/out/d1-0.png", "0" * 64, 100, detections=detections())
    spec = t.JobSpec(t.Detect(images=(t.ImageInput(input_id="abc"),)), model="tiny-yolo")
    return t.Job("d1", spec, "alice", t.JobState.SUCCEEDED, outputs=(output,))


def test_result_lines_per_kind() -> None:
    lines = result_lines(detect_job(), ["saved/d1-0.png"], width=100, names=["street.jpg"])
    assert lines[0].startswith("street.jpg: 640x480, 2 objects") and lines[-1] == "  annotated: saved/d1-0.png"
    assert result_lines(detect_job(), None, width=100)[0].startswith("image 1: ")
    bench = t.Job("b1", t.JobSpec(t.Benchmark(), model="tiny-yolo"), "alice", t.JobState.SUCCEEDED, report=bench_report())
    assert result_lines(bench, None, width=120) == benchmark_lines(bench_report(), width=120)
    export = t.Job("e1", t.JobSpec(t.Export(), model="tiny-yolo"), "alice", t.JobState.SUCCEEDED, report=t.Report(model="tiny-yolo-onnx"))
    assert result_lines(export, None, width=100) == ["registered model tiny-yolo-onnx"]
    plots = tuple(t.Output(f"tr-{i}", "tr", i, 0, 64, 64, f"/out/tr-{i}.png", "", 1) for i in range(3))
    train = t.Job("tr", t.JobSpec(t.Train("/d")), "alice", t.JobState.SUCCEEDED, outputs=plots, report=t.Report(model="m"))
    assert result_lines(train, None, width=100) == ["registered model m", "plots: 3 images in /out"]


def test_summary_json_has_detections_and_report() -> None:
    data = summary(detect_job())
    assert data["outputs"][0]["detections"]["objects"][0]["class_name"] == "person"
    assert "report" not in data
    bench = t.Job("b1", t.JobSpec(t.Benchmark(), model="tiny-yolo"), "alice", t.JobState.SUCCEEDED, report=bench_report())
    data = summary(bench)
    assert data["report"]["selected_engine"] == "onnxruntime" and data["report"]["benchmark"][1]["batch_size"] == 4
    assert data["seed"] is None
    json.dumps(data)


def test_jobs_list_and_show_of_vision_jobs() -> None:
    bench = t.Job("b1", t.JobSpec(t.Benchmark(engines=("pytorch",)), model="tiny-yolo"), "alice", t.JobState.SUCCEEDED, report=bench_report())
    lines = jobs_table([detect_job(), bench, make_job()], now=NOW, width=140)
    assert lines[1].split()[:4] == ["d1", "succeeded", "alice", "detect"] and lines[1].endswith("detect in 1 image")
    assert lines[2].split()[3] == "benchmark" and lines[2].endswith("tiny-yolo on pytorch")
    text = "\n".join(job_lines(bench, now=NOW))
    assert ["kind", "benchmark"] in [line.split() for line in text.splitlines()]
    assert ["engines", "pytorch"] in [line.split() for line in text.splitlines()]
    assert "selected engine: onnxruntime" in text


async def test_following_a_detect_job_prints_tables_or_json(capsys: pytest.CaptureFixture[str]) -> None:
    job = detect_job()
    queued = dataclasses.replace(job, state=t.JobState.QUEUED, outputs=())
    events = [
        event(t.Snapshot(queued), 1, NOW, "d1"),
        event(t.Progress(1, 1, stage="detect"), 2, NOW + 1, "d1"),
        event(job.outputs[0], 3, NOW + 2, "d1"),
        event(t.Finished(t.JobState.SUCCEEDED, timings=t.Timings(total_ms=50)), 4, NOW + 3, "d1"),
    ]
    display = ProgressDisplay(io.StringIO(), tty=False)
    assert await follow_and_report(FakeClient(events), "d1", args(json=True), display, None, ["street.jpg"]) == 0  # type: ignore[arg-type]
    data = json.loads(capsys.readouterr().out)
    assert data["inputs"] == ["street.jpg"] and data["outputs"][0]["detections"]["objects"][1]["class_name"] == "car"
    stream = io.StringIO()
    await follow_and_report(FakeClient(events), "d1", args(), ProgressDisplay(stream, tty=False), None, ["street.jpg"])  # type: ignore[arg-type]
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("street.jpg: 640x480, 2 objects") and out[-1] == "  annotated: /out/d1-0.png"
    assert stream.getvalue().splitlines() == ["queued", "[##########] 1/1 images", "succeeded in 0.05s"]
