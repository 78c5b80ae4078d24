"""Vision jobs through a real daemon: detect, export, benchmark, and training that yields to other work."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from imagine import errors
from imagine import types as t
from models.vision.registry import ensure_vision_builtin
from models.vision.synthetic import make_synthetic_dataset
from tests.e2e.daemon_process import DaemonProcess
from tests.e2e.jobs_helpers import events_until_end, pixels, run_to_end, spec

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("shapes")
    make_synthetic_dataset(folder, train=8, val=4, size=96, seed=1)
    return folder


def images_of(dataset: Path, count: int) -> tuple[t.ImageInput, ...]:
    files = sorted((dataset / "images" / "val").glob("*.png"))[:count]
    return tuple(t.ImageInput(data=f.read_bytes()) for f in files)


def boxes(job: t.Job) -> list[list[tuple[float, float, float, float]]]:
    found = []
    for output in job.outputs:
        assert output.detections is not None
        found.append(sorted((o.x1, o.y1, o.x2, o.y2) for o in output.detections.objects))
    return found


async def test_detect_returns_structured_results_and_annotated_images(daemon: DaemonProcess, dataset: Path) -> None:
    async with daemon.client() as client:
        job = await run_to_end(client, t.JobSpec(t.Detect(images_of(dataset, 3), conf=0.01)))
        assert job.state == t.JobState.SUCCEEDED, job.error
        assert job.spec.model == "tiny-yolo" and job.spec.task.engine == "pytorch"
        assert [o.index for o in job.outputs] == [0, 1, 2]
        for output in job.outputs:
            d = output.detections
            assert d is not None and (d.width, d.height) == (96, 96) and d.engine == "pytorch"
            assert pixels(await client.read_output(output.id)).shape == (96, 96, 3)
            for found in d.objects:
                assert 0 <= found.x1 <= found.x2 <= 96 and 0 <= found.y1 <= found.y2 <= 96
                assert 0.01 <= found.score <= 1 and found.class_name
        assert sum(len(o.detections.objects) for o in job.outputs) > 0  # type: ignore[union-attr]
        listed = await client.get(job.id)  # structured results are in the history too
        assert boxes(listed) == boxes(job)


@pytest.mark.parametrize(("task", "check"), [
    ("segment", lambda d: all(len(o.polygon) >= 3 for o in d.objects)),
    ("pose", lambda d: all(len(o.keypoints) == 17 for o in d.objects)),
    ("classify", lambda d: len(d.top) == 5 and not d.objects),
])  # fmt: skip
async def test_segment_pose_and_classify_use_their_own_models(daemon: DaemonProcess, dataset: Path, task: str, check) -> None:  # type: ignore[no-untyped-def]
    async with daemon.client() as client:
        job = await run_to_end(client, t.JobSpec(t.Detect(images_of(dataset, 1), task=task, conf=0.01)))
    assert job.state == t.JobState.SUCCEEDED, job.error
    assert job.spec.model == {"segment": "tiny-yolo-seg", "pose": "tiny-yolo-pose", "classify": "tiny-yolo-cls"}[task]
    assert check(job.outputs[0].detections)


async def test_bad_detect_input_is_refused_naming_the_field(daemon: DaemonProcess, dataset: Path) -> None:
    async with daemon.client() as client:
        with pytest.raises(errors.InvalidArgument, match="detect.conf"):
            await client.submit(t.JobSpec(t.Detect(images_of(dataset, 1), conf=1.5)))
        with pytest.raises(errors.InvalidArgument, match="detect.images"):
            await client.submit(t.JobSpec(t.Detect(())))
        with pytest.raises(errors.InvalidArgument, match="export it first"):
            await client.submit(t.JobSpec(t.Detect(images_of(dataset, 1), engine="onnxruntime")))
        with pytest.raises(errors.InvalidArgument, match="is a sd15, not a model this job can run"):
            await client.submit(t.JobSpec(t.Detect(images_of(dataset, 1)), model="tiny-sd"))


async def test_an_onnx_export_is_registered_and_finds_what_pytorch_finds(daemon: DaemonProcess, dataset: Path) -> None:
    async with daemon.client() as client:
        exported = await run_to_end(client, t.JobSpec(t.Export(name="tiny-yolo-onnx"), model="tiny-yolo"))
        assert exported.state == t.JobState.SUCCEEDED, exported.error
        assert exported.report is not None and exported.report.model == "tiny-yolo-onnx"
        model = await client.show_model("tiny-yolo-onnx")
        assert model.kind == "onnx" and "model.onnx" in model.files
        images = images_of(dataset, 2)
        torch_job = await run_to_end(client, t.JobSpec(t.Detect(images, conf=0.01), model="tiny-yolo"))
        onnx_job = await run_to_end(client, t.JobSpec(t.Detect(images, conf=0.01), model="tiny-yolo-onnx"))
    assert onnx_job.state == t.JobState.SUCCEEDED, onnx_job.error
    assert onnx_job.outputs[0].detections.engine == "onnxruntime"  # type: ignore[union-attr]
    assert onnx_job.outputs[0].detections.provider == "CPUExecutionProvider"  # type: ignore[union-attr]
    for a, b in zip(boxes(torch_job), boxes(onnx_job)):
        assert len(a) == len(b)
        if a:
            assert np.abs(np.array(a) - np.array(b)).max() < 1.0  # pixels


async def test_a_benchmark_reports_every_engine_and_select_sets_the_default(daemon: DaemonProcess, dataset: Path, tmp_path: Path) -> None:
    weights = tmp_path / "mine"
    shutil.copytree(ensure_vision_builtin("tiny-yolo", daemon.models_dir), weights)  # a registered copy keeps the choice
    async with daemon.client() as client:
        await client.add_model(str(weights), name="my-yolo")
        job = await run_to_end(
            client,
            t.JobSpec(t.Benchmark(batch_sizes=(1, 2), runs=3, warmup=1, select=True, imgsz=96), model="my-yolo"),
            timeout=600,
        )
        assert job.state == t.JobState.SUCCEEDED, job.error
        report = job.report
        assert report is not None
        assert {"pytorch", "onnxruntime"} <= {row.engine for row in report.benchmark}
        assert {row.batch_size for row in report.benchmark} == {1, 2}
        for row in report.benchmark:
            assert row.p50_ms <= row.p95_ms <= row.p99_ms and row.images_per_second > 0 and row.memory_kind
        assert report.selected_engine in {row.engine for row in report.benchmark}
        fastest = max((r for r in report.benchmark if r.accuracy is None or r.accuracy >= 0.98), key=lambda r: r.images_per_second)
        assert report.selected_engine == fastest.engine
        chosen = await client.show_model("my-yolo")
        assert chosen.defaults is not None and chosen.defaults.engine == report.selected_engine
        detect = await run_to_end(client, t.JobSpec(t.Detect(images_of(dataset, 1), conf=0.01), model="my-yolo"))
    assert detect.state == t.JobState.SUCCEEDED, detect.error
    assert detect.spec.task.engine == report.selected_engine.split("-")[0]


async def test_a_broken_dataset_is_refused_with_its_problems(daemon: DaemonProcess, dataset: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(dataset, broken)
    data = yaml.safe_load((broken / "data.yaml").read_text())
    data["path"] = str(broken)
    (broken / "data.yaml").write_text(yaml.safe_dump(data))
    first_label = sorted((broken / "labels" / "train").glob("*.txt"))[0]
    first_label.write_text("7 0.5 0.5 0.2 0.2\n")  # no class 7
    sorted((broken / "labels" / "val").glob("*.txt"))[0].unlink()  # an image without labels
    async with daemon.client() as client:
        with pytest.raises(errors.InvalidArgument, match="train.dataset") as refused:
            await client.submit(t.JobSpec(t.Train(str(broken), epochs=1, imgsz=64)))
    message = str(refused.value)
    assert "class" in message and "label" in message


async def test_training_registers_a_model_and_yields_to_a_high_priority_job(daemon: DaemonProcess, dataset: Path) -> None:
    async with daemon.client("trainer") as trainer, daemon.client("painter") as painter:
        train = await trainer.submit(t.JobSpec(t.Train(str(dataset), epochs=3, imgsz=64, batch=4, name="shapes-yolo")))
        assert train.job.spec.priority == t.Priority.LOW
        stream = trainer.watch(train.job.id)
        epochs_before = 0
        async for event in stream:
            if isinstance(event.kind, t.Progress) and event.kind.stage == "epoch":
                epochs_before = event.kind.step
                assert "metrics/mAP50(B)" in event.kind.metrics or any("map" in k.lower() for k in event.kind.metrics)
                break
        urgent = await painter.submit(spec("an urgent lighthouse", priority=t.Priority.HIGH))
        urgent_events = await events_until_end(painter, urgent.job.id, timeout=300)
        rest = [event async for event in stream]
        final = await trainer.get(train.job.id)
        urgent_job = await painter.get(urgent.job.id)
        assert final.state == t.JobState.SUCCEEDED, final.error
        epoch_events = [e for e in rest if isinstance(e.kind, t.Progress) and e.kind.stage == "epoch"]
        epochs = [e.kind.step for e in epoch_events]  # type: ignore[union-attr]
        assert urgent_job.finished_at is not None and urgent_job.started_at is not None
        assert epochs and epochs[-1] == 3 and epochs_before < 3
        # training stepped aside at an epoch boundary: no epoch ended while the urgent job ran, and it went on after
        assert not [e for e in epoch_events if urgent_job.started_at <= e.time <= urgent_job.finished_at]
        assert [e for e in epoch_events if e.time > urgent_job.finished_at]
        assert final.attempts >= 2  # it stepped aside once and resumed from its checkpoint
        assert final.report is not None and final.report.model == "shapes-yolo" and final.report.metrics
        assert any(o.mime_type.startswith("image/") for o in final.outputs)  # training plots
        assert isinstance(urgent_events[-1].kind, t.Finished)
        detect = await run_to_end(trainer, t.JobSpec(t.Detect(images_of(dataset, 1), conf=0.01), model="shapes-yolo"))
    assert detect.state == t.JobState.SUCCEEDED, detect.error
    assert detect.outputs[0].detections is not None


async def test_training_killed_with_its_worker_resumes_from_its_last_epoch(daemon: DaemonProcess, dataset: Path) -> None:
    import os
    import signal

    async with daemon.client("trainer-2") as client:
        train = await client.submit(t.JobSpec(t.Train(str(dataset), epochs=3, imgsz=64, batch=4, name="shapes-yolo-2")))
        stream = client.watch(train.job.id)
        async for event in stream:
            if isinstance(event.kind, t.Progress) and event.kind.stage == "epoch":
                break  # epoch 1 is checkpointed
        worker = (await client.status()).workers[0].pid
        os.kill(worker, signal.SIGKILL)
        rest = [event async for event in stream]
        final = await client.get(train.job.id)
    assert final.state == t.JobState.SUCCEEDED, final.error
    assert final.attempts == 2
    assert not (daemon.data_dir / "runs" / final.id).exists()  # checkpoints go once the model is registered
    epochs = [e.kind.step for e in rest if isinstance(e.kind, t.Progress) and e.kind.stage == "epoch"]
    assert epochs and epochs[0] >= 2 and epochs[-1] == 3  # went on from its checkpoint, did not start over
