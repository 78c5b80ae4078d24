"""`imagine models ...` as a person types it, against a real daemon pulling from a loopback hub."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.daemon_process import DaemonProcess
from tests.e2e.test_models import running_slow_hub
from tests.models.hub_server import FakeHub, Repo

IMAGINE = [sys.executable, "-c", "import sys; from tui.cli import main; sys.exit(main())"]
REPO = "tester/cli-pipe"


class Cli:
    def __init__(self, daemon: DaemonProcess) -> None:
        self.daemon = daemon
        self.env = os.environ | {"COLUMNS": "160"}
        self.env.pop("IMAGINED_ADDRESS", None)

    def __call__(self, *args: str, check: int | None = 0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*IMAGINE, "--socket", str(self.daemon.socket), *args], capture_output=True, text=True, env=self.env, timeout=120
        )
        if check is not None:
            assert result.returncode == check, f"imagine {' '.join(args)} -> {result.returncode}\n{result.stderr}"
        if result.returncode:
            assert result.stderr.startswith("imagine: ") and "Traceback" not in result.stderr, result.stderr
        return result


@pytest.fixture(scope="module")
def shared_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory, shared_models_dir: Path) -> Iterator[Cli]:
    from models.builtin import ensure_builtin

    tiny = ensure_builtin("tiny-sd", shared_models_dir)
    files = {p.relative_to(tiny).as_posix(): p.read_bytes() for p in sorted(tiny.rglob("*")) if p.is_file()}
    store = tmp_path_factory.mktemp("store")
    (store / "tiny-sd").symlink_to(tiny, target_is_directory=True)
    with running_slow_hub(FakeHub(repos={REPO: Repo(files=files), "tester/slow": Repo(files=files)})) as hub:
        proc = DaemonProcess(tmp_path_factory.mktemp("data"), store, env={"HF_ENDPOINT": hub.url})
        asyncio.run(proc.start())
        try:
            yield Cli(proc)
        finally:
            proc.stop()


@pytest.fixture(scope="module")
def tiny_sd(shared_models_dir: Path) -> Path:
    return shared_models_dir / "tiny-sd"


def test_pull_prints_progress_then_the_model(cli: Cli) -> None:
    result = cli("models", "pull", REPO, "--name", "pulled")
    assert result.stdout.startswith("pulled pulled (sd15, ") and str(cli.daemon.models_dir / "pulled") in result.stdout
    lines = result.stderr.splitlines()
    assert "100%" in lines[-1] and lines[-1].endswith("files)"), lines  # file, bytes, %, rate, files
    assert any("MiB" in line or "KiB" in line for line in lines), result.stderr
    listed = json.loads(cli("models", "list", "--json").stdout)
    assert {m["name"]: m["source"] for m in listed["models"]}["pulled"] == "hub"
    shown = cli("models", "show", "pulled").stdout
    assert "origin" in shown and f"{REPO}@" in shown and "sha256 " in shown and "unet/config.json" in shown
    data = json.loads(cli("models", "show", "pulled", "--json").stdout)
    assert data["kind"] == "sd15" and data["sha256"]
    run = cli("run", "by name", "-m", "pulled", "--steps", "2", "--size", "64x64", "--json")
    assert json.loads(run.stdout)["state"] == "succeeded"
    assert cli("models", "rm", "pulled").stdout.strip() == "removed pulled"
    assert not (cli.daemon.models_dir / "pulled").exists()


def test_pull_of_an_unknown_repo_fails_with_a_sentence(cli: Cli) -> None:
    result = cli("models", "pull", "tester/missing", check=1)
    assert "not found" in result.stderr


def test_add_show_rm_a_local_folder(cli: Cli, tiny_sd: Path, tmp_path: Path) -> None:
    copy = tmp_path / "local-copy"
    shutil.copytree(tiny_sd, copy)
    out = cli("models", "add", str(copy), "--name", "mine").stdout
    assert out.startswith("added mine (sd15, ") and str(copy) in out
    assert "local" in cli("models", "list").stdout
    bad = cli("models", "add", str(tmp_path), "--name", "bad", check=1)
    assert "expected a diffusers pipeline folder" in bad.stderr
    assert cli("models", "rm", "mine").stdout.strip() == "removed mine (its files were left where they are)"
    assert copy.is_dir()
    assert "no model named 'mine'" in cli("models", "show", "mine", check=1).stderr


def test_add_a_single_file_with_its_config_and_a_default_vae(cli: Cli, tiny_sd: Path, tmp_path: Path) -> None:
    from models.ldm_checkpoint import save_checkpoint, sd_folder_to_ldm

    checkpoint = save_checkpoint(sd_folder_to_ldm(tiny_sd), tmp_path / "single.safetensors")
    vae = tmp_path / "own-vae"
    shutil.copytree(tiny_sd / "vae", vae)
    assert cli("models", "add", str(vae), "--name", "cli-vae").stdout.startswith("added cli-vae (vae, ")
    cli("models", "add", str(checkpoint), "--name", "cli-single", "--config", str(tiny_sd), "--vae", "cli-vae")
    shown = json.loads(cli("models", "show", "cli-single", "--json").stdout)
    assert shown["kind"] == "sd15" and shown["defaults"]["vae"] == "cli-vae"
    refused = cli("models", "add", str(checkpoint), "--name", "cli-single-2", "--config", str(tmp_path), check=1)
    assert "is not a diffusers folder" in refused.stderr


def test_load_ps_unload(cli: Cli) -> None:
    loaded = cli("models", "load", "tiny-sd", "--keep-alive", "forever", check=None)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith("loaded tiny-sd") and "kept until unloaded" in loaded.stdout
    ps = cli("models", "ps").stdout.splitlines()
    assert ps[0].split() == ["NAME", "DEVICE", "TIER", "MEMORY", "KEEP-ALIVE", "IN", "USE"]
    row = next(line for line in ps[1:] if line.startswith("tiny-sd"))
    assert "cpu" in row and row.split()[-1] == "no"
    assert json.loads(cli("models", "ps", "--json").stdout)["loaded"][0]["name"] == "tiny-sd"
    assert cli("models", "unload", "tiny-sd").stdout.strip() == "unloaded tiny-sd"
    assert cli("models", "ps").stdout.strip() == "no models loaded"


def test_keep_alive_must_be_a_duration(cli: Cli) -> None:
    result = cli("models", "load", "tiny-sd", "--keep-alive", "soon", check=2)
    assert "not a duration" in result.stderr


def test_ctrl_c_cancels_the_pull(cli: Cli) -> None:
    proc = subprocess.Popen(
        [*IMAGINE, "--socket", str(cli.daemon.socket), "models", "pull", "tester/slow", "--name", "interrupted"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli.env,
    )  # fmt: skip
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the first file's progress line: the pull is under way
    assert "files)" in first, first
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert out == "" and "imagine: pull of tester/slow cancelled" in err and "resumes it" in err
    assert "Traceback" not in err
    assert "no model named 'interrupted'" in cli("models", "show", "interrupted", check=1).stderr
