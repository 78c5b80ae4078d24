"""What people ask for: options, Slack command text, button ids."""

from __future__ import annotations

import pytest
from imagine import types as t

from bots.config import Defaults
from bots.policy import Refused
from bots.requests import (
    Action,
    ActionKind,
    ImagineRequest,
    parse_command_text,
    reroll_spec,
)

DEFAULTS = Defaults(model="tiny-sd", size="", steps=0, count=1, max_count=4, max_steps=50, max_side=1024)


def test_a_request_becomes_a_job_spec() -> None:
    spec = ImagineRequest("a cat", "blur", "", "512x768", 20, 7, 2).to_spec(DEFAULTS, t.Priority.HIGH, {"via": "discord"})
    assert spec.task == t.Txt2Img("a cat", "blur", 512, 768, 20, seed=7, count=2)
    assert (spec.model, spec.priority, dict(spec.labels)) == ("tiny-sd", t.Priority.HIGH, {"via": "discord"})


def test_left_out_options_take_the_bots_defaults() -> None:
    spec = ImagineRequest("a cat").to_spec(Defaults(size="256x256", steps=9, count=2), t.Priority.NORMAL, {})
    assert (spec.task.width, spec.task.height, spec.task.steps, spec.task.count, spec.model) == (256, 256, 9, 2, "")


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (ImagineRequest("  "), "prompt: say what to draw"),
        (ImagineRequest("x", size="big"), "size: write it as WIDTHxHEIGHT"),
        (ImagineRequest("x", size="2048x512"), "size: each side must be a multiple of 8 from 64 to 1024"),
        (ImagineRequest("x", size="500x512"), "size: each side must be a multiple of 8"),
        (ImagineRequest("x", steps=51), "steps: choose 1 to 50, not 51"),
        (ImagineRequest("x", count=5), "count: choose 1 to 4 images, not 5"),
        (ImagineRequest("x", seed=2**32), "seed: choose a whole number from 0 to 4294967295"),
    ],
)
def test_bad_options_are_refused_naming_the_option(request_: ImagineRequest, message: str) -> None:
    with pytest.raises(Refused, match=message):
        request_.to_spec(DEFAULTS, t.Priority.NORMAL, {})


def test_slack_text_takes_flags_anywhere() -> None:
    request = parse_command_text('a "red fox" --steps 20 in snow --size 512x512 --no "blur, text" --seed 3 --count 2 --model sd')
    assert request == ImagineRequest("a red fox in snow", "blur, text", "sd", "512x512", 20, 3, 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [("a cat --stepz 3", "--stepz is not an option"), ("a cat --steps", "--steps needs a value"), ("a cat --seed x", "--seed takes a whole number")],
)
def test_bad_slack_flags_are_named(text: str, message: str) -> None:
    with pytest.raises(Refused, match=message):
        parse_command_text(text)


def test_button_ids_carry_the_action() -> None:
    action = Action(ActionKind.UPSCALE, "out-123")
    assert action.custom_id == "imagine:up:out-123"
    assert Action.parse(action.custom_id) == action
    assert Action.parse("imagine:zoom:out-1") is None and Action.parse("other:up:x") is None and Action.parse("imagine:up:") is None


def test_a_reroll_keeps_the_recipe_but_not_the_seed() -> None:
    job = t.Job("j1", t.JobSpec(t.Txt2Img("a cat", steps=5, seed=42), model="m", request_id="r1"), "discord:1", t.JobState.SUCCEEDED)
    spec = reroll_spec(job, t.Priority.LOW)
    assert spec.task.prompt == "a cat" and spec.task.steps == 5 and spec.model == "m"
    assert spec.task.seed is not None and spec.task.seed != 42 and spec.request_id == "" and spec.priority is t.Priority.LOW
