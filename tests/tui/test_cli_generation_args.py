"""`imagine run`, `vary` and `upscale`: every generation option lands in the JobSpec; mistakes are usage errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from imagine import types as t
from tests.tui.builders import NOW, make_job
from tests.tui.cli_helpers import parse, usage_error
from tui import cli
from tui.commands.derive import upscale_spec, vary_spec
from tui.commands.jobs import job_lines
from tui.commands.run import spec_from_args

OUTPUT_ID = "3f2a9c1b7d4e-0"


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    files = {}
    for name, data in (("init", b"init-bytes"), ("mask", b"mask-bytes"), ("edges", b"edge-bytes")):
        files[name] = tmp_path / f"{name}.png"
        files[name].write_bytes(data)
    return files


def test_init_and_strength_make_img2img_with_the_files_bytes(images: dict[str, Path]) -> None:
    spec = spec_from_args(parse("run", "a fox at night", "--init", str(images["init"]), "--strength", "0.3", "--seed", "4"))
    assert spec.kind == "img2img"
    assert spec.task == t.Img2Img("a fox at night", seed=4, init_image=t.ImageInput(data=b"init-bytes"), strength=0.3)


def test_an_output_id_is_sent_as_output_id() -> None:
    spec = spec_from_args(parse("run", "again", "--init", OUTPUT_ID, "--strength", "0"))
    assert isinstance(spec.task, t.Img2Img)
    assert spec.task.init_image == t.ImageInput(output_id=OUTPUT_ID) and spec.task.strength == 0.0


def test_mask_makes_inpaint(images: dict[str, Path]) -> None:
    spec = spec_from_args(
        parse("run", "a red door", "--init", str(images["init"]), "--mask", str(images["mask"]), "--mask-blur", "8")
    )
    assert spec.kind == "inpaint"
    assert spec.task == t.Inpaint(
        "a red door", init_image=t.ImageInput(data=b"init-bytes"), mask=t.ImageInput(data=b"mask-bytes"), mask_blur=8
    )


def test_loras_controlnets_vae_and_previews(images: dict[str, Path]) -> None:
    spec = spec_from_args(parse(
        "run", "a knight <lora:ink:0.7>", "--lora", "detail", "--lora", "style:0.5", "--lora", "neg:-1.5",
        "--controlnet", f"tiny-controlnet={images['edges']}:0.8", "--controlnet", f"depth-net={OUTPUT_ID}",
        "--control-preprocessor", "none", "--vae", "better-vae", "--previews",
    ))  # fmt: skip
    task = spec.task
    assert isinstance(task, t.Txt2Img)
    assert task.prompt == "a knight <lora:ink:0.7>"  # the daemon reads the tags
    assert task.loras == (t.Lora("detail"), t.Lora("style", 0.5), t.Lora("neg", -1.5))
    assert task.controlnets == (
        t.ControlNet("tiny-controlnet", t.ImageInput(data=b"edge-bytes"), "none", 0.8),
        t.ControlNet("depth-net", t.ImageInput(output_id=OUTPUT_ID), "none", None),
    )
    assert task.vae == "better-vae" and spec.previews


def test_hires_options() -> None:
    spec = spec_from_args(parse("run", "a valley", "--hires", "2", "--hires-steps", "5", "--hires-denoise", "0.4", "--hires-upscaler", "pixel"))
    assert isinstance(spec.task, t.Txt2Img) and spec.task.hires == t.Hires(2.0, 5, 0.4, "pixel")
    assert spec_from_args(parse("run", "a valley", "--hires", "1.5")).task.hires == t.Hires(1.5)  # type: ignore[union-attr]


def test_a_preview_file_asks_for_previews(tmp_path: Path) -> None:
    spec = spec_from_args(parse("run", "x", "--preview-file", str(tmp_path / "p.png")))
    assert spec.previews
    assert not spec_from_args(parse("run", "x")).previews


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--init", "missing.png"], ["--init missing.png", "no such file"]),
        (["--init", "."], ["--init", "folder"]),
        (["--mask", OUTPUT_ID], ["--mask needs --init"]),
        (["--init", OUTPUT_ID, "--mask", "nope.png"], ["--mask nope.png", "no such file"]),
        (["--strength", "0.5"], ["--strength", "--init"]),
        (["--init", OUTPUT_ID, "--strength", "1.5"], ["--strength", "between 0 and 1"]),
        (["--init", OUTPUT_ID, "--mask-blur", "3"], ["--mask-blur", "--mask"]),
        (["--lora", "detail:heavy"], ["--lora", "detail:heavy", "weight", "NAME:WEIGHT"]),
        (["--lora", "detail:9"], ["--lora", "between -4 and 4"]),
        (["--lora", ":0.5"], ["--lora", "LoRA name"]),
        (["--controlnet", "edges.png"], ["--controlnet", "MODEL=IMAGE"]),
        (["--controlnet", "cn=missing.png"], ["--controlnet missing.png", "no such file"]),
        (["--controlnet", f"cn={OUTPUT_ID}:3"], ["--controlnet", "scale", "between 0 and 2"]),
        (["--control-preprocessor", "none"], ["--control-preprocessor", "--controlnet"]),
        (["--hires", "1"], ["--hires", "more than 1"]),
        (["--hires-denoise", "0.3"], ["--hires-denoise", "--hires SCALE"]),
        (["--hires", "2", "--init", OUTPUT_ID], ["--hires", "--init"]),
        (["--hires", "2", "--hires-upscaler", "bicubic"], ["--hires-upscaler"]),
        (["--preview-file", "/no/such/dir/p.png"], ["--preview-file", "does not exist"]),
        (["--detach", "--preview-file", "p.png"], ["--preview-file", "--detach"]),
    ],
)
def test_mistakes_are_one_sentence_naming_the_option(capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str]) -> None:
    err = usage_error(capsys, "run", "a fox", *argv)
    for word in words:
        assert word in err, (word, err)


def test_vary_and_upscale_specs() -> None:
    spec = vary_spec(parse("vary", OUTPUT_ID, "-n", "2", "--strength", "0.25", "--seed", "7", "--priority", "high"))
    assert spec.task == t.Variations(OUTPUT_ID, count=2, strength=0.25, seed=7)
    assert spec.priority is t.Priority.HIGH and spec.model == "" and spec.request_id
    assert vary_spec(parse("vary", OUTPUT_ID)).task == t.Variations(OUTPUT_ID)
    spec = upscale_spec(parse("upscale", OUTPUT_ID, "--scale", "3", "--denoise", "0.2", "--steps", "30", "--previews"))
    assert spec.task == t.Upscale(OUTPUT_ID, scale=3.0, denoise=0.2, steps=30) and spec.previews
    assert upscale_spec(parse("upscale", OUTPUT_ID)).task == t.Upscale(OUTPUT_ID, scale=2.0)


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["vary", OUTPUT_ID, "-n", "0"], "-n/--count"),
        (["vary", OUTPUT_ID, "-n", "17"], "-n/--count"),
        (["vary", OUTPUT_ID, "--strength", "2"], "--strength"),
        (["upscale", OUTPUT_ID, "--scale", "5"], "--scale"),
        (["upscale", OUTPUT_ID, "--scale", "1"], "--scale"),
        (["upscale", OUTPUT_ID, "--denoise", "-0.1"], "--denoise"),
        (["upscale"], "OUTPUT_ID"),
    ],
)
def test_vary_and_upscale_mistakes(capsys: pytest.CaptureFixture[str], argv: list[str], option: str) -> None:
    assert option in usage_error(capsys, *argv)


def test_a_file_output_for_four_variations_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert "give a folder" in usage_error(capsys, "vary", OUTPUT_ID, "-o", str(tmp_path / "one.png"))


def test_new_commands_have_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for words in (["vary"], ["upscale"], ["samplers"], ["detect"], ["bench"], ["train"], ["models", "export"]):
        assert cli.main([*words, "--help"]) == 0
        out = capsys.readouterr().out
        assert f"usage: imagine {' '.join(words)}" in out
        assert "example" in out and f"imagine {' '.join(words)}" in out.split("example", 1)[1], words


def test_jobs_show_lists_the_images_adapters_and_hires() -> None:
    base = make_job()
    inpaint = t.Inpaint(
        "a red door", width=64, height=64, steps=2, seed=1, loras=(t.Lora("ink", 0.7),), vae="my-vae",
        controlnets=(t.ControlNet("tiny-controlnet", t.ImageInput(output_id=OUTPUT_ID), "none", 0.8),),
        init_image=t.ImageInput(input_id="abc"), strength=0.9, mask=t.ImageInput(input_id="def"), mask_blur=8,
    )  # fmt: skip
    lines = [" ".join(line.split()) for line in job_lines(dataclasses.replace(base, spec=t.JobSpec(inpaint)), now=NOW)]
    for expected in (
        ["kind", "inpaint"], ["init image", "upload abc"], ["strength", "0.9"], ["mask", "upload def"],
        ["mask blur", "8"], ["loras", "ink:0.7"], ["vae", "my-vae"],
        ["controlnet", f"tiny-controlnet on output {OUTPUT_ID}, none, scale 0.8"],
    ):  # fmt: skip
        assert " ".join(expected) in lines, expected
    hires = t.Txt2Img("a valley", hires=t.Hires(2.0, 10, 0.4, "pixel"))
    text = "\n".join(job_lines(dataclasses.replace(base, spec=t.JobSpec(hires)), now=NOW))
    assert "x2, 10 steps, denoise 0.4, pixel upscaler" in text
