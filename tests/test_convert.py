"""Every task, result and event survives the trip through protobuf (and through JSON, as the store keeps specs)."""

from __future__ import annotations

import pytest

from imagine import convert
from imagine import types as t

IMAGE = t.ImageInput(data=b"\x89PNG fake bytes")
TASKS = [
    t.Txt2Img("a lighthouse"),
    t.Txt2Img(
        "a lighthouse", "blurry", 512, 768, 30, 7.5, 42, 2, "dpmpp_2m_karras",
        loras=(t.Lora("ink", 0.8), t.Lora("film")),
        controlnets=(t.ControlNet("tiny-controlnet", t.ImageInput(output_id="abc-0"), "canny", 0.5, 50, 150),),
        vae="better-vae", hires=t.Hires(2.0, 10, 0.45, "pixel"),
    ),  # fmt: skip
    t.Txt2Img("a lighthouse", guidance=0.0, seed=0, hires=t.Hires()),  # zeros that mean something stay set
    t.Img2Img("a boat", init_image=t.ImageInput(input_id="f" * 64), strength=0.0),
    t.Inpaint("a boat", init_image=IMAGE, mask=t.ImageInput(output_id="abc-1"), mask_blur=0, strength=1.0),
    t.Variations("abc-0", count=4, strength=0.3, seed=7),
    t.Upscale("abc-0", scale=2.0, denoise=0.35, steps=12),
    t.Detect((IMAGE, t.ImageInput(output_id="x-0")), "segment", 0.1, 0.5, ("person", "3"), 640, 100, "onnxruntime"),
    t.Export("onnx", True, "/data/calib", "tiny-onnx", 320),
    t.Benchmark(("pytorch", "onnxruntime-int8"), (1, 8), 30, 5, 640, True, 0.05, "/data/val"),
    t.Train("/data/shapes", 5, 320, 16, 2, "shapes-yolo"),
]


@pytest.mark.parametrize("task", TASKS, ids=lambda task: type(task).__name__)
def test_every_task_round_trips_through_protobuf(task: t.Task) -> None:
    spec = t.JobSpec(task, model="m", priority=t.Priority.HIGH, labels={"a": "b"}, request_id="r", previews=True)
    assert convert.spec_from_pb(convert.spec_to_pb(spec)) == spec


@pytest.mark.parametrize("task", TASKS, ids=lambda task: type(task).__name__)
def test_every_recorded_task_round_trips_through_json(task: t.Task) -> None:
    spec = t.JobSpec(task, model="m")
    back = t.spec_from_jsonable(t.to_jsonable(spec))
    assert back.kind == spec.kind and type(back.task) is type(task)
    if not IMAGE.data or IMAGE not in _images(task):  # uploads are never stored as bytes: the daemon keeps files
        assert back == spec


def _images(task: object) -> list[t.ImageInput]:
    found = []
    for value in vars(task).values():
        items = value if isinstance(value, tuple) else (value,)
        found += [v for v in items if isinstance(v, t.ImageInput)]
    return found


def test_an_unset_task_is_refused_naming_the_choices() -> None:
    from imagine.v1 import jobs_pb2

    with pytest.raises(ValueError, match="spec.task: set one task: txt2img, img2img, inpaint"):
        convert.spec_from_pb(jobs_pb2.JobSpec(model="m"))


def test_results_and_events_round_trip() -> None:
    detections = t.Detections(
        0, 640, 480,
        objects=(t.Detection(1, "dog", 0.9, 1.5, 2.5, 100.0, 200.0, polygon=(t.Point(1, 2), t.Point(3, 4), t.Point(5, 1)),
                             keypoints=(t.Keypoint(1, 2, 0.5),)),),
        top=(t.ClassScore(3, "cat", 0.25),), engine="onnxruntime", provider="CPUExecutionProvider", inference_ms=12.5,
    )  # fmt: skip
    output = t.Output("j-0", "j", 0, 7, 640, 480, "/p.png", "ab", 10, flagged=True, detections=detections)
    report = t.Report(
        model="new", metrics={"mAP50": 0.5},
        benchmark=(t.BenchmarkRow("pytorch", "cpu", 1, 1.0, 2.0, 3.0, 100.0, 1 << 20, "rss", None),
                   t.BenchmarkRow("onnxruntime", "CPUExecutionProvider", 8, 1.0, 2.0, 3.0, 900.0, 1 << 21, "rss", 0.99)),
        selected_engine="onnxruntime", summary="fast",
    )  # fmt: skip
    kinds: list[t.EventKind] = [
        output,
        t.Progress(3, 10, b"png", "epoch", {"loss": 0.25}),
        t.Started("worker-1", 12.0, 1, 3),
        t.Finished(t.JobState.SUCCEEDED, "", t.Timings(1, 2, 3, 4, 5), report),
        t.Finished(t.JobState.FAILED, "broken"),
    ]
    for kind in kinds:
        event = t.JobEvent("j", 5, 1700000000.0, kind)
        assert convert.event_from_pb(convert.event_to_pb(event)) == event
    job = t.Job("j", t.JobSpec(TASKS[1]), "me", t.JobState.SUCCEEDED, outputs=(output,), report=report)
    assert convert.job_from_pb(convert.job_to_pb(job)) == job
