"""`imagine run PROMPT`: submit a generation job (text to image, image to image, inpainting) and follow it to the end."""

from __future__ import annotations

import argparse
import uuid
from typing import Any

from imagine import types as t

from tui import options
from tui.follow import add_follow_options, add_preview_options, preview_target, submit_and_follow
from tui.inputs import image_input
from tui.options import UsageError
from tui.results import OutputTarget
from tui.session import with_client

EPILOG = """\
examples:
  imagine run "a lighthouse at dusk" --steps 20 --size 512x512 --seed 42
  imagine run "a red fox" --count 4 -o foxes/
  imagine run "a castle" --detach            # prints the job id; see `imagine jobs watch ID`
  imagine run "the same, at night" --init photo.png --strength 0.6
  imagine run "a red door" --init house.png --mask door-mask.png --mask-blur 8
  imagine run "a knight <lora:ink-style:0.7>" --lora detail:0.5 --vae better-vae
  imagine run "a dancer" --controlnet tiny-controlnet=pose.png:0.8 --control-preprocessor none
  imagine run "a valley" --hires 2 --hires-denoise 0.4 --previews --preview-file /tmp/now.png

--init and --mask take an image file (PNG, JPEG or WebP) or an earlier output's
id such as 3f2a9c1b7d4e-0 (`imagine jobs show JOB` lists them).

Prints one line per image on stdout: its path on the daemon's machine, or the
file written with -o. Progress goes to stderr. Exit status: 0 when the job
succeeded, 1 when it failed or was cancelled, 2 for a usage mistake, 130 when
you stop watching with Ctrl-C (the job keeps running).
"""


def add_priority(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--priority",
        choices=options.PRIORITIES,
        default="normal",
        metavar="LEVEL",
        help="queue priority: low, normal or high (default: normal)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "run",
        help="generate images from a prompt (optionally from an init image, a mask, LoRAs, ControlNets)",
        description="Submit a generation job to the daemon and follow it until it ends: text to image, "
        "or image to image with --init, or inpainting with --init and --mask.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("prompt", metavar="PROMPT", help="what to draw; <lora:NAME:WEIGHT> tags apply LoRAs")
    parser.add_argument("-m", "--model", default="", metavar="NAME", help="model name or path (default: the daemon's default)")
    parser.add_argument("--negative", default="", metavar="TEXT", help="negative prompt: what to avoid")
    parser.add_argument("--steps", type=options.positive_int, metavar="N", help="denoising steps (default: the model's)")
    parser.add_argument(
        "--size", type=options.parse_size, metavar="WxH", help="image size, multiples of 8, e.g. 512x512 (default: the model's, or the init image's)"
    )
    parser.add_argument("--seed", type=options.seed, metavar="N", help="random seed (default: a random one, recorded)")
    parser.add_argument("--count", type=options.positive_int, metavar="N", help="number of images; image i uses seed+i")
    parser.add_argument("--guidance", type=options.guidance, metavar="SCALE", help="guidance scale, 0..50 (default: the model's)")
    parser.add_argument("--scheduler", default="", metavar="NAME", help="sampler, e.g. euler; see `imagine samplers`")
    add_priority(parser)
    image = parser.add_argument_group("image to image and inpainting")
    image.add_argument("--init", metavar="IMAGE", help="start from this image (a file, or an output id): image to image")
    image.add_argument(
        "--strength", type=options.fraction, metavar="F",
        help="how much to change the init image: 0 keeps it, 1 ignores it (default: 0.75; 1 when inpainting)",
    )
    image.add_argument("--mask", metavar="IMAGE", help="inpaint: repaint only where this mask is white (needs --init, same size)")
    image.add_argument(
        "--mask-blur", type=options.whole_between(0, 64), metavar="N", help="feather the mask's edge by N pixels, 0..64 (default: 4)"
    )
    adapters = parser.add_argument_group("LoRA, ControlNet and VAE")
    adapters.add_argument(
        "--lora", type=options.lora, action="append", default=[], metavar="NAME[:WEIGHT]",
        help="apply a LoRA (a registered name or a .safetensors path) at WEIGHT -4..4, default 1; repeatable",
    )
    adapters.add_argument(
        "--controlnet", type=options.controlnet, action="append", default=[], metavar="MODEL=IMAGE[:SCALE]",
        help="guide the composition with ControlNet MODEL and a control IMAGE (file or output id) at SCALE 0..2, default 1; repeatable",
    )
    adapters.add_argument(
        "--control-preprocessor", choices=("canny", "none"), default="", metavar="canny|none",
        help="canny: find edges in the control images (default); none: they already are control maps",
    )
    adapters.add_argument("--vae", default="", metavar="NAME", help="use this VAE (a registered name, folder or file)")
    hires = parser.add_argument_group("hires fix (text to image)")
    hires.add_argument(
        "--hires", type=options.number_between(1.0, 4.0, above=True), metavar="SCALE",
        help="generate, upscale by SCALE (>1..4), then repaint at the larger size",
    )
    hires.add_argument("--hires-steps", type=options.positive_int, metavar="N", help="steps of the second pass (default: as the first)")
    hires.add_argument("--hires-denoise", type=options.fraction, metavar="F", help="strength of the second pass, 0..1 (default: 0.5)")
    hires.add_argument("--hires-upscaler", choices=("latent", "pixel"), default="", metavar="latent|pixel", help="upscale latents (default) or pixels")
    add_preview_options(parser)
    add_follow_options(parser, detach=True)
    parser.set_defaults(func=run)


def _check_combinations(args: argparse.Namespace) -> None:
    if args.mask and not args.init:
        raise UsageError("--mask needs --init: the image whose masked part is repainted")
    if args.mask_blur is not None and not args.mask:
        raise UsageError("--mask-blur feathers the --mask; give a mask too")
    if args.strength is not None and not args.init:
        raise UsageError("--strength says how much to change the --init image; give an init image too")
    hires_detail = [o for o, v in (("--hires-steps", args.hires_steps), ("--hires-denoise", args.hires_denoise), ("--hires-upscaler", args.hires_upscaler)) if v]
    if hires_detail and args.hires is None:
        raise UsageError(f"{hires_detail[0]} sets up the hires fix; add --hires SCALE")
    if args.hires is not None and args.init:
        raise UsageError("--hires works on text to image; with --init, ask for the larger --size directly")
    if args.control_preprocessor and not args.controlnet:
        raise UsageError("--control-preprocessor applies to --controlnet images; give a --controlnet too")


def generation_task(args: argparse.Namespace) -> t.Txt2Img | t.Img2Img | t.Inpaint:
    """The task the options describe; files are read here, so a missing one stops before anything is sent."""
    if not args.prompt.strip():
        raise UsageError("PROMPT is blank; say what to draw")
    _check_combinations(args)
    width, height = args.size or (0, 0)
    common: dict[str, Any] = dict(
        prompt=args.prompt,
        negative_prompt=args.negative,
        width=width,
        height=height,
        steps=args.steps or 0,
        guidance=args.guidance,
        seed=args.seed,
        count=args.count or 0,
        scheduler=args.scheduler,
        loras=tuple(args.lora),
        controlnets=tuple(
            t.ControlNet(c.model, image_input(c.image, "--controlnet"), args.control_preprocessor, c.scale)
            for c in args.controlnet
        ),
        vae=args.vae,
    )
    if args.init is None:
        hires = None
        if args.hires is not None:
            hires = t.Hires(args.hires, args.hires_steps or 0, args.hires_denoise, args.hires_upscaler)
        return t.Txt2Img(**common, hires=hires)
    init = image_input(args.init, "--init")
    if args.mask is None:
        return t.Img2Img(**common, init_image=init, strength=args.strength)
    mask = image_input(args.mask, "--mask")
    return t.Inpaint(**common, init_image=init, strength=args.strength, mask=mask, mask_blur=args.mask_blur)


def spec_from_args(args: argparse.Namespace) -> t.JobSpec:
    """The job `imagine run` submits, with a fresh request id."""
    return t.JobSpec(
        task=generation_task(args),
        model=args.model,
        priority=t.Priority(args.priority),
        request_id=str(uuid.uuid4()),
        previews=bool(args.previews or args.preview_file),
    )


def check_detach(args: argparse.Namespace) -> None:
    if args.detach and args.output:
        raise UsageError("-o waits for the images, --detach does not; use one of them")
    if args.detach and args.preview_file:
        raise UsageError("--preview-file is written while watching, --detach does not watch; use one of them")


def run(args: argparse.Namespace) -> int:
    check_detach(args)
    preview_target(args)
    spec = spec_from_args(args)
    target = OutputTarget.parse(args.output, count=spec.task.count or 1)
    return with_client(args, lambda client: submit_and_follow(client, spec, args, target))
