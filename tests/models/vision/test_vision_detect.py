from pathlib import Path

import pytest

from models.errors import Cancelled, InvalidParameter
from models.vision.detect import detect
from models.vision.engines import VisionModel, load_vision_model
from models.vision.params import DetectParams
from models.vision.registry import resolve_vision_model
from models.vision.results import DetectResult

from .conftest import decode_png

LOW_CONF = 0.05  # random weights: a low threshold makes sure there are objects to check


def _check_common(result: DetectResult, images: list[bytes], model: VisionModel) -> None:
    assert [image.index for image in result.images] == list(range(len(images)))
    assert result.engine == "pytorch" and result.provider == "cpu" and result.model == model.name
    for image in result.images:
        annotated = decode_png(image.annotated_png)
        assert annotated.shape[:2] == (image.height, image.width)
    assert (result.images[2].width, result.images[2].height) == (128, 96)  # the cropped image keeps its own size


@pytest.mark.parametrize("task", ["detect", "segment", "pose"])
def test_object_tasks_return_boxes_inside_each_image(loaded: dict[str, VisionModel], image_bytes: list[bytes], task: str) -> None:
    model = loaded[task]
    result = detect(model, image_bytes, DetectParams(task=task, conf=LOW_CONF, max_det=50, batch=2))
    _check_common(result, image_bytes, model)
    assert result.task == task
    assert any(image.detections for image in result.images)
    for image in result.images:
        assert image.top5 == []
        for found in image.detections:
            x1, y1, x2, y2 = found.box
            assert 0 <= x1 <= x2 <= image.width and 0 <= y1 <= y2 <= image.height
            assert found.class_name == model.names[found.class_id]
            assert LOW_CONF <= found.score <= 1.0
            if task == "segment":
                assert found.polygon and all(0 <= x <= image.width and 0 <= y <= image.height for x, y in found.polygon)
            else:
                assert found.polygon is None
            if task == "pose":
                assert found.keypoints is not None and len(found.keypoints) == 17
                assert all(k.confidence is not None and 0 <= k.confidence <= 1 for k in found.keypoints)
            else:
                assert found.keypoints is None


def test_classify_returns_the_top5_best_first(loaded: dict[str, VisionModel], image_bytes: list[bytes]) -> None:
    model = loaded["classify"]
    result = detect(model, image_bytes, DetectParams(task="classify"))
    _check_common(result, image_bytes, model)
    for image in result.images:
        assert image.detections == []
        assert len(image.top5) == 5
        scores = [c.score for c in image.top5]
        assert scores == sorted(scores, reverse=True) and sum(scores) <= 1.0 + 1e-5
        assert all(c.class_name == model.names[c.class_id] for c in image.top5)


def test_class_filter_by_name_keeps_only_that_class(loaded: dict[str, VisionModel], image_bytes: list[bytes]) -> None:
    model = loaded["detect"]
    everything = detect(model, image_bytes, DetectParams(), annotate=False)
    common = max(model.names, key=lambda name: sum(d.class_name == name for i in everything.images for d in i.detections))
    filtered = detect(model, image_bytes, DetectParams(classes=(common,)), annotate=False)
    kept = [d for i in filtered.images for d in i.detections]
    assert kept and all(d.class_name == common for d in kept)
    assert len(kept) < sum(len(i.detections) for i in everything.images)


def test_max_det_and_conf_limit_the_detections(loaded: dict[str, VisionModel], image_bytes: list[bytes]) -> None:
    model = loaded["detect"]
    capped = detect(model, image_bytes, DetectParams(conf=LOW_CONF, max_det=2), annotate=False)
    assert all(len(image.detections) <= 2 for image in capped.images)
    strict = detect(model, image_bytes, DetectParams(conf=0.9), annotate=False)
    assert all(d.score >= 0.9 for i in strict.images for d in i.detections)


def test_progress_is_reported_per_batch(loaded: dict[str, VisionModel], image_bytes: list[bytes]) -> None:
    calls: list[tuple[int, int]] = []
    detect(loaded["detect"], image_bytes, DetectParams(batch=2), progress=lambda done, total: calls.append((done, total)), annotate=False)
    assert calls == [(2, 3), (3, 3)]


def test_cancellation_stops_between_batches(loaded: dict[str, VisionModel], image_bytes: list[bytes]) -> None:
    calls: list[int] = []
    with pytest.raises(Cancelled, match="after 1 of 3"):
        detect(loaded["detect"], image_bytes, DetectParams(batch=1), progress=lambda d, t: calls.append(d), should_cancel=lambda: len(calls) == 1)
    assert calls == [1]


def test_bad_input_names_the_field(loaded: dict[str, VisionModel], image_bytes: list[bytes]) -> None:
    cases = [
        (loaded["detect"], [image_bytes[0], b"not an image"], DetectParams(), "images", "image 2 of 2"),
        (loaded["detect"], [], DetectParams(), "images", "at least one image"),
        (loaded["detect"], image_bytes, DetectParams(task="segment"), "model", "tiny-yolo-seg"),
        (loaded["detect"], image_bytes, DetectParams(classes=("unicorn",)), "classes", "unicorn"),
        (loaded["detect"], image_bytes, DetectParams(conf=7.0), "conf", "between"),
    ]
    for model, images, params, field, words in cases:
        with pytest.raises(InvalidParameter, match=words) as caught:
            detect(model, images, params)
        assert caught.value.field == field


def test_loading_picks_the_engine_from_the_weights(models_dir: Path, onnx_exports: dict[str, Path]) -> None:
    onnx = load_vision_model(resolve_vision_model(str(onnx_exports["detect"]), models_dir), models_dir, "cpu")
    assert (onnx.engine, onnx.task, onnx.provider) == ("onnxruntime", "detect", "CPUExecutionProvider")
    bare = load_vision_model(resolve_vision_model(str(onnx_exports["detect"] / "model.onnx"), models_dir), models_dir, "cpu")
    assert bare.names == onnx.names and bare.imgsz == onnx.imgsz
