"""What `jobs list`, `jobs show`, `status` and `models list` print, from client data types."""

from __future__ import annotations

import json

from imagine import types as t
from imagine.client import ModelList
from tests.tui.builders import NOW, make_job
from tui.commands.jobs import jobs_table, job_lines
from tui.commands.models import models_lines
from tui.commands.system import status_json, status_lines

GIB = 1024**3


def test_jobs_table_fits_the_terminal_and_cuts_only_the_prompt() -> None:
    long_prompt = "a lighthouse on a cliff at dusk, dramatic clouds, crashing waves, oil painting, highly detailed"
    jobs = [
        make_job("j-queued", state=t.JobState.QUEUED, prompt=long_prompt, seed=None, created_at=NOW - 42),
        make_job("j-done", prompt="a fox", created_at=NOW - 3 * 3600),
    ]
    lines = jobs_table(jobs, now=NOW, width=100)
    assert lines[0].split() == ["ID", "STATE", "OWNER", "KIND", "MODEL", "SIZE", "STEPS", "SEED", "CREATED", "PROMPT"]
    assert lines[1].split()[:9] == ["j-queued", "queued", "alice", "txt2img", "tiny-sd", "64x64", "2", "-", "42s"]
    assert lines[1].endswith("cliff…") and 98 <= len(lines[1]) <= 100
    assert lines[2].split()[:10] == ["j-done", "succeeded", "alice", "txt2img", "tiny-sd", "64x64", "2", "42", "3h", "ago"]
    assert lines[2].endswith("a fox")
    assert all(len(line) <= 100 for line in lines)
    assert jobs_table(jobs, now=NOW, width=300)[1].endswith(long_prompt)


def test_job_show_has_every_field() -> None:
    job = make_job(state=t.JobState.FAILED, error="CUDA out of memory; try a smaller --size", outputs=1)
    text = "\n".join(job_lines(job, now=NOW))
    for expected in [
        "id          job1", "state       failed", "owner       alice", "model       tiny-sd", "priority    normal",
        "prompt      a lighthouse", "size        64x64", "steps       2", "guidance    7.5", "scheduler   euler",
        "seed        42", "count       1", "request id  req-1", "attempts    1", "(3m ago)",
        "timings     queue 1.0s, load 0.5s, run 1.2s, encode 0.03s, total 2.7s",
        "error       CUDA out of memory; try a smaller --size",
        "outputs (1)", "  #0  /data/outputs/job1-0.png", "id out0  seed 42  64x64  12.1 KiB  sha256 " + "0" * 64,
    ]:  # fmt: skip
        assert expected in text, expected


def test_status_is_honest_about_the_cpu() -> None:
    status = t.Status(
        version="0.1.0",
        started_at=NOW - 3725,
        devices=(t.Device("AMD EPYC 7B13", "cpu", 0, 16 * GIB, 4 * GIB),),
        queue=t.QueueStats(queued=2, running=1, paused=True),
        loaded_models=(t.LoadedModel("tiny-sd", "cpu", 5 * 1024**2),),
        workers=(t.Worker(pid=4242, state="busy", job_id="j1", restarts=1),),
    )
    lines = status_lines(status, now=NOW, width=100)
    assert lines[0] == "imagined 0.1.0, up 1h 02m"
    assert lines[1] == "queue: 2 queued, 1 running; paused, start it with `imagine queue resume`"
    text = "\n".join(lines)
    assert "CPU     4.0/16.0 GiB RAM  -     AMD EPYC 7B13" in text
    assert "cuda" not in text.lower() and "gpu" not in text.lower()
    assert "4242        busy   j1   1" in text
    assert "tiny-sd       cpu     5.0 MiB" in text
    data = status_json(status, now=NOW)
    assert data["uptime_seconds"] == 3725 and data["devices"][0]["kind"] == "cpu"
    assert data["queue"] == {"queued": 2, "running": 1, "paused": True}
    json.dumps(data)


def test_status_of_a_gpu_and_of_an_idle_daemon() -> None:
    status = t.Status(
        version="0.1.0",
        started_at=NOW - 5,
        devices=(t.Device("NVIDIA RTX 4090", "cuda", 0, 24 * GIB, 3 * GIB, utilisation=35.0, temperature_c=61.5),),
        queue=t.QueueStats(0, 0),
    )
    text = "\n".join(status_lines(status, now=NOW, width=100))
    assert "CUDA 0  3.0/24.0 GiB  35% busy  62°C  NVIDIA RTX 4090" in text
    assert "no workers" in text and "no models loaded" in text
    assert "paused" not in text


def test_models_list_shows_the_whole_description_and_the_schedulers() -> None:
    noise = "Built here from random weights in seconds: it makes noise, not pictures. For tests and demos."
    listing = ModelList(
        models=(
            t.Model("tiny-sd", "sd15", "builtin", "", noise, installed=True, loaded=False, is_default=True),
            t.Model("sd15", "sd15", "hub", "runwayml/stable-diffusion-v1-5", "Stable Diffusion 1.5", False, False),
        ),
        schedulers=("euler", "euler_a", "ddim"),
    )
    lines = models_lines(listing, width=70)
    assert all(len(line) <= 70 for line in lines)
    assert lines[0].split() == ["NAME", "KIND", "SOURCE", "INSTALLED", "LOADED", "DESCRIPTION"]
    assert lines[1].split()[:6] == ["*", "tiny-sd", "sd15", "builtin", "yes", "no"]
    assert "makes noise, not pictures" in " ".join(" ".join(lines).split())
    assert any(line.split()[:5] == ["sd15", "sd15", "hub", "no", "no"] for line in lines)
    assert "* the default model, used when a job names none" in lines
    assert lines[-1] == "schedulers: euler, euler_a, ddim"
