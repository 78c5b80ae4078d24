"""A model's safety checker: what it flags is marked on the image, so outputs and chat bots can say so."""

from dataclasses import replace

import torch
from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
from transformers import CLIPConfig, CLIPImageProcessor

from models.generate import generate
from models.params import GenerateParams

PARAMS = GenerateParams(
    prompt="a lighthouse", negative_prompt="", width=64, height=64, steps=2, guidance=7.0, seed=1, count=2,
    scheduler="euler",
)  # fmt: skip


def tiny_safety_checker(threshold: float) -> StableDiffusionSafetyChecker:
    """diffusers' own checker with a tiny CLIP; every concept score is above -threshold, so a large threshold flags all."""
    config = CLIPConfig(
        text_config={"hidden_size": 16, "intermediate_size": 32, "num_attention_heads": 2, "num_hidden_layers": 1},
        vision_config={"hidden_size": 16, "intermediate_size": 32, "num_attention_heads": 2, "num_hidden_layers": 1,
                       "image_size": 32, "patch_size": 8},
        projection_dim=8,
    )  # fmt: skip
    torch.manual_seed(0)
    checker = StableDiffusionSafetyChecker(config).eval()
    with torch.no_grad():
        checker.concept_embeds_weights.fill_(-threshold)
        checker.special_care_embeds_weights.fill_(-threshold)
    return checker


def test_flagged_images_carry_the_mark_and_unflagged_do_not(tiny_pipe) -> None:  # type: ignore[no-untyped-def]
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    plain = generate(tiny_pipe, PARAMS, lambda done, total: None, lambda: False)
    assert not any(image.info.get("nsfw") for image in plain)
    checked = replace_components(tiny_pipe, tiny_safety_checker(threshold=10.0), processor)
    flagged = generate(checked, PARAMS, lambda done, total: None, lambda: False)
    assert [image.info.get("nsfw") for image in flagged] == [True, True]
    assert all(image.getbbox() is None for image in flagged)  # diffusers blanks what its checker flags
    lenient = replace_components(tiny_pipe, tiny_safety_checker(threshold=-10.0), processor)
    assert not any(image.info.get("nsfw") for image in generate(lenient, replace(PARAMS, count=1), lambda d, t: None, lambda: False))


def replace_components(pipe, checker, processor):  # type: ignore[no-untyped-def]
    """The same weights with a safety checker: from_pipe shares every other component."""
    from diffusers import StableDiffusionPipeline

    return StableDiffusionPipeline.from_pipe(pipe, safety_checker=checker, feature_extractor=processor, requires_safety_checker=True)
