"""`imagine` end to end: the real command line against a real daemon (and its worker) on a temporary socket.

The daemon is started once for the module with `imagine serve`; every command
runs as its own subprocess, exactly as a person would type it.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

IMAGINE = [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())"]
START_TIMEOUT = 240.0



class Imagine:
    """Runs `imagine --socket S ...` against the module's daemon."""

    def __init__(self, socket: Path, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env

    def argv(self, *args: str) -> list[str]:
        return [*IMAGINE, "--socket", str(self.socket), *args]

    def __call__(self, *args: str, check: int | None = 0, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self.argv(*args), capture_output=True, text=True, env=self.env, timeout=timeout)
        if check is not None:
            assert result.returncode == check, f"imagine {' '.join(args)} -> {result.returncode}\n{result.stderr}"
        if result.returncode:
            assert result.stderr.startswith("imagine: ") and "Traceback" not in result.stderr, result.stderr
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env
        )


@pytest.fixture(scope="module")
def imagine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imagine]:
    data = tmp_path_factory.mktemp("data")
    socket = Path(tempfile.mkdtemp(prefix="im", dir="/tmp")) / "d.sock"  # unix socket paths are short
    env = os.environ | {"HF_HUB_OFFLINE": "1"}
    env.pop("IMAGINED_ADDRESS", None)
    log_path = data / "daemon.log"
    with open(log_path, "wb") as log:
        daemon = subprocess.Popen(
            [*IMAGINE, "serve", "--socket", str(socket), "--data-dir", str(data / "d"), "--device", "cpu"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    cli = Imagine(socket, env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while cli("status", check=None).returncode != 0:
            if daemon.poll() is not None:
                pytest.fail(f"imagine serve exited with {daemon.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"imagine serve not ready in {START_TIMEOUT}s:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield cli
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def pixels(path: str | Path) -> bytes:
    from PIL import Image

    with Image.open(path) as image:
        return image.tobytes()


SMALL = ("--steps", "2", "--size", "64x64")


@pytest.fixture(scope="module")
def first(imagine: Imagine) -> dict[str, Any]:
    """`imagine run "a lighthouse" --steps 2 --size 64x64 --json`, once for the module."""
    return imagine.json("run", "a lighthouse", *SMALL)


def test_run_json(first: dict[str, Any]) -> None:
    assert list(first) == ["job_id", "state", "seed", "outputs", "timings", "error"]
    assert first["state"] == "succeeded" and first["error"] == ""
    assert isinstance(first["seed"], int)
    [output] = first["outputs"]
    assert set(output) == {"id", "path", "seed", "width", "height", "sha256"}
    assert (output["width"], output["height"], output["seed"]) == (64, 64, first["seed"])
    assert sha256(output["path"]) == output["sha256"]  # the daemon runs on this machine
    assert first["timings"]["total_ms"] > 0


def test_run_prints_one_path_per_image(imagine: Imagine) -> None:
    result = imagine("run", "a red fox", *SMALL, "--count", "2", "--seed", "5")
    paths = result.stdout.splitlines()
    assert len(paths) == 2 and all(Path(p).is_file() for p in paths)
    assert "succeeded" in result.stderr and "\r" not in result.stderr  # not a terminal: plain lines
    assert "submitted job" in result.stderr


def test_run_downloads_with_output(imagine: Imagine, tmp_path: Path) -> None:
    file = tmp_path / "one.png"
    result = imagine("run", "a castle", *SMALL, "-o", str(file))
    assert result.stdout.splitlines() == [str(file)]
    assert file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    folder = tmp_path / "many"
    data = imagine.json("run", "a castle", *SMALL, "--count", "2", "-o", f"{folder}/")
    assert [Path(o["path"]) for o in data["outputs"]] == [folder / f"{o['id']}.png" for o in data["outputs"]]
    assert all(sha256(o["path"]) == o["sha256"] for o in data["outputs"])


def test_jobs_list(imagine: Imagine, first: dict[str, Any]) -> None:
    data = imagine.json("jobs", "list")
    assert set(data) == {"jobs"}
    job = next(j for j in data["jobs"] if j["id"] == first["job_id"])
    assert job["state"] == "succeeded" and job["spec"]["task"]["prompt"] == "a lighthouse"
    table = imagine("jobs", "list", "--search", "lighthouse").stdout.splitlines()
    assert table[0].split()[:3] == ["ID", "STATE", "OWNER"]
    assert any(line.startswith(first["job_id"]) and "a lighthouse" in line for line in table[1:])
    assert imagine.json("jobs", "list", "--state", "failed", "--search", "lighthouse") == {"jobs": []}
    assert len(imagine.json("jobs", "list", "--limit", "1")["jobs"]) == 1


def test_jobs_show(imagine: Imagine, first: dict[str, Any]) -> None:
    text = imagine("jobs", "show", first["job_id"]).stdout
    assert "state       succeeded" in text and "prompt      a lighthouse" in text
    assert f"seed        {first['seed']}" in text and first["outputs"][0]["path"] in text
    data = imagine.json("jobs", "show", first["job_id"])
    assert data["id"] == first["job_id"] and data["spec"]["task"]["seed"] == first["seed"]


def test_jobs_watch_a_finished_job_prints_its_outputs(imagine: Imagine, first: dict[str, Any]) -> None:
    result = imagine("jobs", "watch", first["job_id"])
    assert result.stdout.splitlines() == [first["outputs"][0]["path"]]


def test_jobs_rerun_gives_the_same_image(imagine: Imagine, first: dict[str, Any]) -> None:
    again = imagine.json("jobs", "rerun", first["job_id"])
    assert again["job_id"] != first["job_id"] and again["seed"] == first["seed"]
    assert pixels(again["outputs"][0]["path"]) == pixels(first["outputs"][0]["path"])
    assert again["outputs"][0]["sha256"] == first["outputs"][0]["sha256"], (
        "same pixels, different files: the PNG's embedded recipe differs (e.g. the request_id)"
    )
    other = imagine.json("jobs", "rerun", first["job_id"], "--new-seed")
    assert other["state"] == "succeeded" and other["seed"] != first["seed"]


def test_detach_then_cancel(imagine: Imagine) -> None:
    imagine("queue", "pause")
    try:
        detached = imagine.json("run", "a ship", *SMALL, "--detach")
        assert set(detached) == {"job_id", "state"} and detached["state"] == "queued"
        job_id = imagine("run", "a boat", *SMALL, "--detach").stdout.strip()
        assert job_id and "\n" not in job_id
        assert imagine("jobs", "cancel", job_id).stdout.strip() == f"cancelled job {job_id}"
        imagine("jobs", "cancel", detached["job_id"])
        assert imagine.json("jobs", "show", job_id)["state"] == "cancelled"
        watched = imagine("jobs", "watch", job_id, check=1)
        assert watched.stderr.strip() == f"imagine: job {job_id} was cancelled"
    finally:
        imagine("queue", "resume")


def test_ctrl_c_leaves_the_job_running(imagine: Imagine) -> None:
    imagine("queue", "pause")
    try:
        proc = imagine.popen("run", "a harbour", *SMALL)
        assert proc.stderr is not None
        first_line = proc.stderr.readline()  # "submitted job ID", then "queued: ..."
        assert first_line.startswith("submitted job "), first_line
        job_id = first_line.split()[-1]
        assert proc.stderr.readline().startswith("queued")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert out == ""
        assert err.startswith("imagine: ") and f"job {job_id} keeps running" in err
        assert f"imagine jobs watch {job_id}" in err and f"imagine jobs cancel {job_id}" in err
        assert "Traceback" not in err
    finally:
        imagine("queue", "resume")
    done = imagine.json("jobs", "watch", job_id)
    assert done["state"] == "succeeded" and len(done["outputs"]) == 1


def test_jobs_rm(imagine: Imagine) -> None:
    job_id = imagine.json("run", "a tower", *SMALL)["job_id"]
    assert imagine("jobs", "rm", job_id).stdout.strip() == f"deleted job {job_id}"
    missing = imagine("jobs", "show", job_id, check=1)
    assert missing.stderr.count("\n") == 1 and job_id in missing.stderr


def test_daemon_errors_are_one_sentence(imagine: Imagine) -> None:
    assert imagine("jobs", "show", "no-such-job", check=1).stderr.startswith("imagine: ")
    bad = imagine("run", "x", *SMALL, "--scheduler", "no-such-sampler", check=1)
    assert "scheduler" in bad.stderr and bad.stderr.count("\n") == 1
    unknown = imagine("run", "x", *SMALL, "-m", "no-such-model", check=1)
    assert "no-such-model" in unknown.stderr


def test_status(imagine: Imagine) -> None:
    data = imagine.json("status")
    assert data["version"] and data["uptime_seconds"] >= 0
    assert data["devices"] and data["devices"][0]["kind"] == "cpu"
    assert set(data["queue"]) == {"queued", "running", "paused"} and data["queue"]["paused"] is False
    assert data["workers"] and data["workers"][0]["pid"] > 0
    text = imagine("status").stdout
    assert text.startswith(f"imagined {data['version']}, up ")
    assert "\nCPU " in text and "GiB" in text and "WORKER PID" in text


def test_models_list(imagine: Imagine) -> None:
    text = imagine("models", "list").stdout
    lines = text.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "SOURCE", "INSTALLED", "LOADED", "DESCRIPTION"]
    assert any(line.split()[:2] == ["*", "tiny-sd"] for line in lines)
    assert "noise" in text
    assert lines[-1].startswith("schedulers: ")
    data = imagine.json("models", "list")
    tiny = next(m for m in data["models"] if m["name"] == "tiny-sd")
    assert tiny["is_default"] and "noise" in tiny["description"]
    assert data["schedulers"]


# -- samplers, image to image, variations, upscale, previews --------------------------------


def test_samplers(imagine: Imagine) -> None:
    data = imagine.json("samplers")
    names = {s["name"]: s["label"] for s in data["samplers"]}
    assert {"euler", "euler_a", "dpmpp_2m_karras", "ddim", "lcm"} <= set(names)
    assert names["dpmpp_2m_karras"] == "DPM++ 2M Karras"
    lines = imagine("samplers").stdout.splitlines()
    assert lines[0].split() == ["NAME", "LABEL"]
    assert any(line.split(maxsplit=1) == ["dpmpp_2m_karras", "DPM++ 2M Karras"] for line in lines)


def gradient_png(path: Path, size: int = 64) -> Path:
    """A picture tiny-sd would never paint: smooth red and green ramps over blue."""
    from PIL import Image

    ramp = Image.linear_gradient("L").resize((size, size))
    Image.merge("RGB", (ramp, ramp.rotate(90), Image.new("L", (size, size), 200))).save(path)
    return path


def mean_difference(a: str | Path, b: str | Path) -> float:
    from PIL import Image, ImageChops, ImageStat

    with Image.open(a) as one, Image.open(b) as other:
        diff = ImageChops.difference(one.convert("RGB"), other.convert("RGB"))
        return sum(ImageStat.Stat(diff).mean) / 3


def test_run_init_at_strength_0_keeps_the_init_image(imagine: Imagine, tmp_path: Path) -> None:
    init = gradient_png(tmp_path / "init.png")
    kept = imagine.json("run", "a lighthouse", "--steps", "2", "--init", str(init), "--strength", "0")
    [output] = kept["outputs"]
    assert (output["width"], output["height"]) == (64, 64)
    assert mean_difference(output["path"], init) < 4  # what the VAE round trip changes, at most
    repainted = imagine.json("run", "a lighthouse", "--steps", "2", "--init", str(init), "--strength", "1", "--seed", "3")
    assert mean_difference(repainted["outputs"][0]["path"], init) > 20
    shown = imagine.json("jobs", "show", kept["job_id"])
    assert shown["spec"]["kind"] == "img2img" and shown["spec"]["task"]["strength"] == 0


def test_run_init_from_an_output_id(imagine: Imagine, first: dict[str, Any]) -> None:
    source = first["outputs"][0]
    again = imagine.json("run", "a lighthouse", "--steps", "2", "--init", source["id"], "--strength", "0")
    assert mean_difference(again["outputs"][0]["path"], source["path"]) < 4


def test_vary_saves_new_images_like_the_output(imagine: Imagine, first: dict[str, Any], tmp_path: Path) -> None:
    source = first["outputs"][0]
    # the source ran 2 steps: at the default strength 0.4 img2img would run int(2 x 0.4) = 0 of them
    result = imagine("vary", source["id"], "-n", "2", "--seed", "5", "--strength", "0.9", "-o", f"{tmp_path}/")
    paths = result.stdout.splitlines()
    assert len(paths) == 2 and all(Path(p).parent == tmp_path and Path(p).is_file() for p in paths)
    assert pixels(paths[0]) != pixels(paths[1])  # new seeds
    job_id = Path(paths[0]).stem.rsplit("-", 1)[0]
    shown = imagine.json("jobs", "show", job_id)
    assert shown["spec"]["kind"] == "img2img" and shown["spec"]["labels"]["variation_of"] == source["id"]
    assert shown["spec"]["task"]["init_image"]["input_id"]


def test_upscale_doubles_the_size(imagine: Imagine, first: dict[str, Any]) -> None:
    data = imagine.json("upscale", first["outputs"][0]["id"], "--steps", "2")
    [output] = data["outputs"]
    assert data["state"] == "succeeded" and (output["width"], output["height"]) == (128, 128)


def test_previews_go_to_the_preview_file(imagine: Imagine, tmp_path: Path) -> None:
    preview = tmp_path / "now.png"
    result = imagine("run", "a lighthouse", *SMALL, "--preview-file", str(preview))
    assert preview.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "\x1b" not in result.stderr and "▀" not in result.stderr  # not a terminal: plain lines only


def test_jobs_watch_writes_the_previews_of_a_job_that_asked(imagine: Imagine, tmp_path: Path) -> None:
    watched = tmp_path / "watched.png"
    imagine("queue", "pause")
    try:
        job_id = imagine("run", "a lighthouse", *SMALL, "--previews", "--detach").stdout.strip()
        watcher = imagine.popen("jobs", "watch", job_id, "--preview-file", str(watched))
        assert watcher.stderr is not None and watcher.stderr.readline().startswith("queued")
    finally:
        imagine("queue", "resume")
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert watched.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_daemon_refusals_of_images_are_its_sentence(imagine: Imagine, tmp_path: Path) -> None:
    init = gradient_png(tmp_path / "init.png")
    mask = gradient_png(tmp_path / "mask.png", size=32)
    bad = imagine("run", "a door", "--init", str(init), "--mask", str(mask), check=1)
    assert "mask" in bad.stderr and "32x32" in bad.stderr and bad.stderr.count("\n") == 1
    unknown = imagine("vary", "000000000000-0", check=1)
    assert "000000000000-0" in unknown.stderr and unknown.stderr.count("\n") == 1


# -- vision: detect, export, bench, train -----------------------------------------------------


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small YOLO-format dataset of drawn shapes with known boxes."""
    from models.vision.synthetic import make_synthetic_dataset

    folder = tmp_path_factory.mktemp("shapes")
    make_synthetic_dataset(folder, train=8, val=4, size=64, seed=0)
    return folder


def test_detect_prints_a_table_per_image_and_saves_the_annotated_ones(imagine: Imagine, shapes: Path, tmp_path: Path) -> None:
    images = sorted(str(p) for p in (shapes / "images" / "val").glob("*.png"))[:2]
    data = imagine.json("detect", *images, "--conf", "0.01", "-o", str(tmp_path / "annotated"))
    assert data["state"] == "succeeded" and len(data["outputs"]) == 2
    for output in data["outputs"]:
        found = output["detections"]
        assert (found["width"], found["height"]) == (64, 64) and found["engine"]
        assert all(0 <= o["score"] <= 1 and o["x1"] <= o["x2"] and o["class_name"] for o in found["objects"])
        assert Path(output["path"]).parent == tmp_path / "annotated"
        assert Path(output["path"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = imagine("detect", *images, "--conf", "0.01").stdout.splitlines()
    assert text[0].startswith(f"{images[0]}: 64x64, ")
    assert any(line.startswith(f"{images[1]}: 64x64, ") for line in text)
    assert sum(1 for line in text if line.strip().startswith("annotated: ")) == 2


def test_export_registers_the_onnx_model(imagine: Imagine) -> None:
    result = imagine("models", "export", "tiny-yolo", "--format", "onnx", "--name", "tiny-yolo-cli-onnx")
    assert "registered model tiny-yolo-cli-onnx" in result.stdout.splitlines()
    names = [m["name"] for m in imagine.json("models", "list")["models"]]
    assert "tiny-yolo-cli-onnx" in names


def test_bench_reports_every_engine(imagine: Imagine) -> None:
    data = imagine.json("bench", "tiny-yolo", "--batch-sizes", "1", "--runs", "2", "--warmup", "0", "--imgsz", "64")
    rows = data["report"]["benchmark"]
    assert {r["engine"] for r in rows} == {"pytorch", "onnxruntime"}  # both are installed here
    assert all(r["batch_size"] == 1 and 0 < r["p50_ms"] <= r["p99_ms"] and r["images_per_second"] > 0 for r in rows)
    table = imagine("bench", "tiny-yolo", "--batch-sizes", "1", "--runs", "2", "--warmup", "0", "--imgsz", "64").stdout
    header, *lines = table.splitlines()
    assert header.split()[:3] == ["ENGINE", "PROVIDER", "BATCH"] and header.rstrip().endswith("ACCURACY")
    assert {line.split()[0] for line in lines[:2]} == {"pytorch", "onnxruntime"}


def test_train_follows_each_epoch_and_registers_the_model(imagine: Imagine, shapes: Path) -> None:
    result = imagine("train", str(shapes), "--epochs", "2", "--imgsz", "64", "--batch", "4", "--name", "shapes-cli", timeout=300)
    epochs = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epochs] == ["1/2", "2/2"] and all("loss" in line for line in epochs)
    assert "registered model shapes-cli" in result.stdout.splitlines()
    image = sorted((shapes / "images" / "val").glob("*.png"))[0]
    assert imagine.json("detect", str(image), "-m", "shapes-cli")["state"] == "succeeded"


def test_a_broken_dataset_gets_the_list_of_problems(imagine: Imagine, shapes: Path, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(shapes, broken)
    data_yaml = broken / "data.yaml"
    data_yaml.write_text(data_yaml.read_text().replace(str(shapes.resolve()), str(broken.resolve())))
    shutil.rmtree(broken / "labels" / "val")
    result = imagine("train", str(broken), "--epochs", "1", check=1)
    assert "cannot be trained on" in result.stderr and "label" in result.stderr
    assert result.stderr.count("\n") == 1
