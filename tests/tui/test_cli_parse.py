"""Parsing the `imagine` command line: options, usage errors, entry-point commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from imagine import types as t
from tests.tui.builders import make_job, make_output
from tests.tui.cli_helpers import parse, usage_error
from tui import cli, options
from tui.commands.jobs import rerun_spec
from tui.commands.run import spec_from_args
from tui.results import OutputTarget
from tui.options import UsageError


@pytest.mark.parametrize(
    ("text", "size"), [("512x512", (512, 512)), ("64X128", (64, 128)), (" 768 x 512 ", (768, 512)), ("256", (256, 256))]
)
def test_parse_size(text: str, size: tuple[int, int]) -> None:
    assert options.parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "why"),
    [("12x", "WIDTHxHEIGHT"), ("x64", "WIDTHxHEIGHT"), ("64x64x64", "WIDTHxHEIGHT"), ("big", "WIDTHxHEIGHT"), ("0x64", "positive"), ("100x64", "multiples of 8"), ("-64x64", "WIDTHxHEIGHT")],
)
def test_parse_size_rejects(text: str, why: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=why):
        options.parse_size(text)


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["run", "x", "--size", "12x"], "--size"),
        (["run", "x", "--priority", "urgent"], "--priority"),
        (["run", "x", "--steps", "0"], "--steps"),
        (["run", "x", "--steps", "many"], "--steps"),
        (["run", "x", "--seed", "-1"], "--seed"),
        (["run", "x", "--guidance", "99"], "--guidance"),
        (["run", "x", "--count", "two"], "--count"),
        (["jobs", "list", "--state", "done"], "--state"),
        (["jobs", "list", "--limit", "0"], "--limit"),
        (["--socket", "/a", "--address", "b:1", "status"], "--address"),
    ],
)
def test_usage_errors_name_the_option(capsys: pytest.CaptureFixture[str], argv: list[str], option: str) -> None:
    assert option in usage_error(capsys, *argv)


def test_usage_error_for_missing_prompt_and_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert "PROMPT" in usage_error(capsys, "run")
    assert "frobnicate" in usage_error(capsys, "frobnicate")


def test_blank_prompt_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert "PROMPT is blank" in usage_error(capsys, "run", "   ")


def test_output_file_with_several_images_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    err = usage_error(capsys, "run", "x", "--count", "3", "-o", str(tmp_path / "a.png"))
    assert "give a folder" in err


def test_output_into_a_missing_folder_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert "does not exist" in usage_error(capsys, "run", "x", "-o", str(tmp_path / "nope" / "a.png"))


def test_detach_with_output_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert "--detach" in usage_error(capsys, "run", "x", "--detach", "-o", str(tmp_path))


def test_no_command_prints_help_and_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "usage: imagine" in capsys.readouterr().err
    assert cli.main(["jobs"]) == 2
    assert "imagine jobs" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == "imagine 0.1.0"


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    commands = [
        ["run"], ["jobs"], ["jobs", "list"], ["jobs", "show"], ["jobs", "watch"], ["jobs", "cancel"],
        ["jobs", "rerun"], ["jobs", "rm"], ["status"], ["models"], ["models", "list"], ["queue"],
        ["queue", "pause"], ["queue", "resume"],
    ]  # fmt: skip
    for words in commands:
        assert cli.main([*words, "--help"]) == 0
        out = capsys.readouterr().out
        assert f"usage: imagine {' '.join(words)}" in out
        assert "example" in out and f"imagine {words[0]}" in out.split("example", 1)[1], words


def test_global_options_and_run_options() -> None:
    args = parse("--socket", "/tmp/x.sock", "run", "a fox", "-m", "tiny-sd", "--negative", "blur", "--steps", "2",
                 "--size", "64x32", "--seed", "7", "--count", "2", "--guidance", "3.5", "--scheduler", "euler",
                 "--priority", "high", "--json")  # fmt: skip
    assert args.socket == "/tmp/x.sock" and args.address is None and args.json and not args.detach
    spec = spec_from_args(args)
    assert spec.task == t.Txt2Img("a fox", "blur", 64, 32, 2, 3.5, 7, 2, "euler")
    assert spec.model == "tiny-sd" and spec.priority is t.Priority.HIGH
    assert len(spec.request_id) == 36


def test_run_defaults_leave_choices_to_the_daemon() -> None:
    spec = spec_from_args(parse("run", "a fox"))
    assert spec.task == t.Txt2Img("a fox")
    assert spec.model == "" and spec.priority is t.Priority.NORMAL
    assert spec.request_id != spec_from_args(parse("run", "a fox")).request_id


def test_jobs_options() -> None:
    args = parse("jobs", "list", "--state", "queued", "--state", "running", "--limit", "5", "--owner", "bob", "--search", "fox")
    assert (args.state, args.limit, args.owner, args.search, args.json) == (["queued", "running"], 5, "bob", "fox", False)
    args = parse("jobs", "rerun", "j1", "--new-seed", "--detach")
    assert args.job_id == "j1" and args.new_seed and args.detach and args.func.__name__ == "cmd_rerun"
    assert parse("jobs", "watch", "j1", "-o", "out/").output == "out/"
    assert parse("jobs", "rm", "j1").func.__name__ == "cmd_rm"
    assert parse("queue", "pause").func.__name__ == "cmd_pause"


def test_rerun_keeps_the_recorded_seed_unless_asked() -> None:
    job = make_job(seed=1234)
    same = rerun_spec(job, new_seed=False)
    assert same.task == job.spec.task and same.model == job.spec.model
    assert same.request_id and same.request_id != job.spec.request_id
    assert rerun_spec(job, new_seed=True).task.seed is None
    # a record without the seed filled in: the first image's seed is the base seed
    unseeded = make_job(seed=None, outputs=2)
    assert rerun_spec(unseeded, new_seed=False).task.seed == unseeded.outputs[0].seed


def test_output_target(tmp_path: Path) -> None:
    assert OutputTarget.parse(None, count=1) is None
    folder = OutputTarget.parse(str(tmp_path), count=4)
    assert folder is not None and folder.is_dir
    outs = (make_output(0), make_output(1))
    assert folder.destinations(outs) == [tmp_path / "out0.png", tmp_path / "out1.png"]
    new_folder = OutputTarget.parse(str(tmp_path / "new") + "/", count=4)
    assert new_folder is not None and new_folder.is_dir
    file = OutputTarget.parse(str(tmp_path / "a.png"), count=1)
    assert file is not None and not file.is_dir
    assert file.destinations(outs[:1]) == [tmp_path / "a.png"]
    with pytest.raises(UsageError, match="give a folder"):
        file.destinations(outs)


class FakeEntryPoint:
    def __init__(self, name: str, register: object) -> None:
        self.name = name
        self._register = register

    def load(self) -> object:
        return self._register


def test_commands_from_entry_points(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
        p = subparsers.add_parser("serve", help="run the daemon")
        p.add_argument("--data-dir")
        p.set_defaults(func=lambda args: print(f"serving {args.data_dir} on {args.socket}") or 0)

    def broken(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
        raise ImportError("No module named 'discord'")

    seen: list[str] = []

    def fake_entry_points(group: str) -> list[FakeEntryPoint]:
        seen.append(group)
        return [FakeEntryPoint("serve", register), FakeEntryPoint("bot", broken)]

    monkeypatch.setattr(cli, "entry_points", fake_entry_points)
    assert cli.main(["--socket", "/nonexistent", "jobs", "--help"]) == 0
    assert seen == []  # built-in commands load no plugin
    capsys.readouterr()
    assert cli.main(["--socket", "/tmp/s", "serve", "--data-dir", "/d"]) == 0
    assert seen == ["imagine.commands"]
    assert capsys.readouterr().out == "serving /d on /tmp/s\n"
    assert cli.main(["--help"]) == 0
    assert "serve" in capsys.readouterr().out
    # a broken plugin does not break the other commands, and says what is wrong when used
    seen.clear()
    assert cli.main(["bot", "discord"]) == 1
    assert capsys.readouterr().err == "imagine: the `bot` command could not be loaded (ImportError: No module named 'discord')\n"


def test_command_word() -> None:
    assert cli.command_word(["--socket", "/s", "status", "--json"]) == "status"
    assert cli.command_word(["--socket=/s", "serve"]) == "serve"
    assert cli.command_word(["--address", "h:1", "--help"]) is None
    assert cli.command_word([]) is None


def test_status_imports_neither_grpc_nor_torch_nor_the_daemon_before_it_runs() -> None:
    import subprocess

    code = (
        "import sys; from tui import cli; cli.build_parser(['status']).parse_args(['status']); "
        "bad = [m for m in ('grpc', 'torch', 'imagine.client', 'daemon', 'models') if m in sys.modules]; "
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
