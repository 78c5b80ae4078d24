"""`imagine models ...`: the models the daemon can run; pulling, adding, removing, loading and unloading them."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from typing import TYPE_CHECKING

from imagine import types as t

from tui import options, render
from tui.commands import vision
from tui.session import CommandFailed, print_json, say, with_client

if TYPE_CHECKING:
    from imagine.client import Client, ModelList


def _add(sub: argparse._SubParsersAction, name: str, help: str, description: str, examples: str) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    return sub.add_parser(
        name,
        help=help,
        description=description,
        epilog="examples:\n" + "\n".join(f"  {e}" for e in examples.splitlines()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "models",
        help="the models the daemon can run: pull, add, list, show, rm, load, unload, ps, export",
        description="The models the daemon knows: pull one from a hub or a URL, add a local one, "
        "see what they are, remove them, and load or unload them in the worker's memory.",
        epilog="examples:\n  imagine models list\n  imagine models pull org/name\n  imagine models add ~/models/my-sd15\n"
        "  imagine models ps\n  imagine models unload tiny-sd",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=lambda args: options.missing_command(parser))
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    p = _add(
        sub,
        "list",
        "name, kind, source, installed, loaded, default and description of each model",
        "Each model with its kind, source, whether it is installed and loaded, and what "
        "it is for; * marks the default model. Ends with the scheduler names --scheduler accepts.",
        "imagine models list\nimagine models list --json",
    )
    p.add_argument("--json", action="store_true", help='print {"models": [...], "schedulers": [...]}')
    p.set_defaults(func=cmd_list)
    p = _add(
        sub,
        "pull",
        "download a model from a hub or a URL into the daemon's model store",
        "Download a diffusers pipeline from the hub the daemon is pointed at ($HF_ENDPOINT and $HF_TOKEN in "
        "the daemon's environment; huggingface.co by default), or one file such as a .safetensors checkpoint "
        "from a URL; then probe and register it. The pull runs in the daemon: Ctrl-C cancels it (what was "
        "downloaded is kept, so pulling again resumes), and if this command is killed the pull goes on; run the "
        "same command again to follow it.",
        "imagine models pull stabilityai/sd-turbo\nimagine models pull org/name@v1.0 --name mine\n"
        "imagine models pull https://example.com/model.safetensors --sha256 9f86d08...",
    )
    p.add_argument("source", metavar="REPO_ID[@REV]|URL", help="a hub repo id (org/name, optionally @branch, tag or commit) or an http(s) URL")
    p.add_argument("--name", default="", help="what to call it (default: the repo id, or the URL's file name without suffix)")
    p.add_argument("--sha256", default="", help="URLs only: the file's expected sha256; the pull fails if it differs")
    p.add_argument("--json", action="store_true", help="no progress; print the registered model as JSON")
    p.set_defaults(func=cmd_pull)
    p = _add(
        sub,
        "add",
        "register a model folder or file on the daemon's machine, where it is",
        "Probe a local diffusers folder, component folder or .safetensors/.ckpt/.pt/.onnx file and register it "
        "under a name (a link to it appears in the model store). Its files stay where they are and are never "
        "deleted by `imagine models rm`.",
        "imagine models add ~/models/my-sd15\nimagine models add ./lora.safetensors --name my-lora\n"
        "imagine models add ./dreamy.safetensors --config ~/models/sd15-diffusers --vae my-vae",
    )
    p.add_argument("path", metavar="PATH", help="a folder or file; relative paths are taken from the current directory")
    p.add_argument("--name", default="", help="what to call it (default: the folder's or file's name without suffix)")
    p.add_argument("--config", default="", metavar="FOLDER|BUILTIN",
                   help="single-file checkpoints: a diffusers folder (or built-in such as tiny-sd) of the same "
                        "architecture, so it loads without the hub")  # fmt: skip
    p.add_argument("--vae", default="", metavar="NAME", help="pipelines: the VAE its jobs use unless they name one")
    p.add_argument("--json", action="store_true", help="print the registered model as JSON")
    p.set_defaults(func=cmd_add)
    p = _add(
        sub,
        "show",
        "everything about one model: kind, source, origin, location, defaults, size, files and sha256s",
        "Everything the daemon knows about one model, its files and their sha256 checksums included.",
        "imagine models show tiny-sd\nimagine models show org/name --json",
    )
    p.add_argument("name", metavar="NAME", help="a model listed by `imagine models list`")
    p.add_argument("--json", action="store_true", help="print the model as JSON")
    p.set_defaults(func=cmd_show)
    p = _add(
        sub,
        "rm",
        "forget a model, deleting its files if they are in the model store",
        "Forget a model and delete its files when the daemon downloaded or built them; an added model's own "
        "folder or file stays. Refused while queued or running jobs name it, unless --force (they then fail). "
        "A removed built-in model is built again on next use.",
        "imagine models rm org/name\nimagine models rm my-sd15 --force",
    )
    p.add_argument("name", metavar="NAME", help="a model listed by `imagine models list`")
    p.add_argument("--force", action="store_true", help="remove it even while queued or running jobs name it")
    p.set_defaults(func=cmd_rm)
    p = _add(
        sub,
        "load",
        "load a model into the worker now, and keep it loaded for a while",
        "Load a model into the worker's memory ahead of the jobs that need it, and keep it there while "
        "unused for --keep-alive (default: the daemon's own keep-alive).",
        "imagine models load tiny-sd\nimagine models load org/name --keep-alive 30m\n"
        "imagine models load tiny-sd --keep-alive forever",
    )
    p.add_argument("name", metavar="NAME", help="a model name, path or hub id, as `imagine run -m` takes")
    p.add_argument(
        "--keep-alive",
        type=parse_keep_alive,
        default=0.0,
        metavar="DURATION",
        help="how long to keep it while unused: 30s, 10m, 2h, or forever (default: the daemon's)",
    )
    p.set_defaults(func=cmd_load)
    p = _add(
        sub,
        "unload",
        "free the memory a loaded model holds",
        "Drop a loaded model from the worker's memory; the next job that needs it loads it again.",
        "imagine models unload tiny-sd",
    )
    p.add_argument("name", metavar="NAME", help="a model listed by `imagine models ps`")
    p.set_defaults(func=cmd_unload)
    p = _add(
        sub,
        "ps",
        "the models loaded now: device, memory, keep-alive left, in use",
        "The models held in the worker's memory now: the device and tier they are on, the memory they take, "
        "how long until they are unloaded if unused (or forever), and whether a job is using them.",
        "imagine models ps\nimagine models ps --json",
    )
    p.add_argument("--json", action="store_true", help='print {"loaded": [...]}')
    p.set_defaults(func=cmd_ps)
    vision.register_export(sub)


_DURATION = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>ms|s|m|h|d)?")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_keep_alive(text: str) -> float:
    """Seconds: "forever" (or -1) is -1.0; "30s", "10m", "2h", "1d" or plain seconds."""
    value = text.strip().lower()
    if value in ("forever", "inf", "-1"):
        return -1.0
    match = _DURATION.fullmatch(value)
    if match is None or float(match["n"]) <= 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration: use e.g. 30s, 10m, 2h or forever")
    return float(match["n"]) * _UNITS[match["unit"] or "s"]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def models_lines(listing: ModelList, *, width: int) -> list[str]:
    """The table (descriptions wrapped, never cut) and the scheduler names."""
    rows = [
        [
            "*" if m.is_default else "",
            m.name,
            m.kind or "-",
            m.source or "-",
            _yes(m.installed),
            _yes(m.loaded),
            m.description or "-",
        ]
        for m in listing.models
    ]
    lines = (
        render.render_table(
            ("", "NAME", "KIND", "SOURCE", "INSTALLED", "LOADED", "DESCRIPTION"),
            rows,
            width=width,
            overflow="wrap",
            gap=2,
        )
        if rows
        else ["no models"]
    )
    if any(m.is_default for m in listing.models):
        lines.append("* the default model, used when a job names none")
    if listing.schedulers:
        lines.append("")
        lines.append("schedulers: " + ", ".join(listing.schedulers))
    return lines


def cmd_list(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        listing = await client.list_models()
        if args.json:
            print_json(
                {"models": [t.to_jsonable(m) for m in listing.models], "schedulers": list(listing.schedulers)}
            )
        else:
            print("\n".join(models_lines(listing, width=render.terminal_width())))
        return 0

    return with_client(args, body)


def cmd_unload(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        await client.unload_model(args.name)
        print(f"unloaded {args.name}")
        return 0

    return with_client(args, body)


def show_lines(model: t.Model, *, now: float) -> list[str]:
    d = model.defaults
    fields = [
        ("name", model.name + ("  (the default model)" if model.is_default else "")),
        ("kind", model.kind or "-"),
        ("source", model.source or "-"),
        ("origin", model.origin or "-"),
        ("location", model.location or "-"),
        ("installed", _yes(model.installed) + (f", {render.format_timestamp(model.installed_at, now)}" if model.installed_at else "")),
        ("loaded", _yes(model.loaded)),
        ("size", render.format_bytes(model.size_bytes) if model.size_bytes else "-"),
        ("last used", render.format_relative(model.last_used_at, now) if model.last_used_at else "never"),
        (
            "defaults",
            f"{d.width}x{d.height}, {d.steps} steps, guidance {d.guidance:g}, scheduler {d.scheduler}" if d else "-",
        ),
        ("description", model.description or "-"),
    ]
    lines = render.render_fields(fields)
    if model.files:
        lines.append("")
        lines.append(f"files ({len(model.files)}):")
        for name in model.files:
            digest = model.sha256.get(name)
            lines.append(f"  {name}" + (f"  sha256 {digest}" if digest else ""))
    return lines


def pull_line(p: t.PullProgress) -> str:
    """file, bytes, percent, rate: `unet/diffusion_pytorch_model.safetensors  1.2/3.4 MiB  35%  2.1 MiB/s  (3/7 files)`."""
    done = render.format_bytes(p.bytes_done)
    total = f"/{render.format_bytes(p.bytes_total)}" if p.bytes_total else ""
    percent = f"  {100 * p.bytes_done / p.bytes_total:3.0f}%" if p.bytes_total else ""
    rate = f"  {render.format_bytes(p.rate_bytes_per_s)}/s" if p.rate_bytes_per_s else ""
    files = f"  ({p.files_done}/{p.files_total} files)" if p.files_total else ""
    return f"{p.file or 'starting'}  {done}{total}{percent}{rate}{files}"


def default_pull_name(source: str) -> str:
    """The name the daemon gives a pull that names none: the repo id, or the URL's file name without suffix."""
    source = source.strip()
    if source.startswith(("http://", "https://")):
        from urllib.parse import unquote, urlsplit

        return unquote(urlsplit(source).path.rsplit("/", 1)[-1]).rsplit(".", 1)[0]
    return source.split("@", 1)[0]


def cmd_pull(args: argparse.Namespace) -> int:
    tty = sys.stderr.isatty() and not args.json

    async def body(client: Client) -> int:
        name = ""
        last_file = None
        model: t.Model | None = None
        try:
            async for progress in client.pull_model(args.source, name=args.name, sha256=args.sha256):
                name = progress.name
                if progress.done:
                    model = progress.model
                    if not args.json:
                        if tty:
                            sys.stderr.write("\r\x1b[K")
                        say(pull_line(progress))
                    break
                if args.json:
                    continue
                if tty:
                    sys.stderr.write("\r\x1b[K" + render.truncate(pull_line(progress), render.terminal_width() - 1))
                    sys.stderr.flush()
                elif progress.file != last_file and progress.file:
                    say(pull_line(progress))
                last_file = progress.file
        except asyncio.CancelledError:
            if tty:
                sys.stderr.write("\r\x1b[K")
            target = name or args.name or default_pull_name(args.source)
            if target:
                try:
                    await asyncio.shield(client.cancel_pull(target))
                except Exception:  # noqa: BLE001 - it may have just finished
                    pass
            raise CommandFailed(
                f"pull of {args.source} cancelled; what was downloaded is kept, so `imagine models pull {args.source}` resumes it",
                130,
            ) from None
        finally:
            if tty:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
        if model is None:
            raise CommandFailed(f"the daemon ended the pull of {args.source} without saying it was done; run it again")
        if args.json:
            print_json(t.to_jsonable(model))
        else:
            size = f", {render.format_bytes(model.size_bytes)}" if model.size_bytes else ""
            print(f"pulled {model.name} ({model.kind}{size}) into {model.location}")
        return 0

    return with_client(args, body)


def cmd_add(args: argparse.Namespace) -> int:
    import os

    async def body(client: Client) -> int:
        config = args.config
        if config and (os.sep in config or config.startswith((".", "~"))):
            config = os.path.abspath(os.path.expanduser(config))  # a folder; else a built-in name
        model = await client.add_model(
            os.path.abspath(os.path.expanduser(args.path)), name=args.name, config=config, vae=args.vae
        )
        if args.json:
            print_json(t.to_jsonable(model))
        else:
            print(f"added {model.name} ({model.kind}, {render.format_bytes(model.size_bytes)}) from {model.location}")
        return 0

    return with_client(args, body)


def cmd_show(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        model = await client.show_model(args.name)
        if args.json:
            print_json(t.to_jsonable(model))
        else:
            print("\n".join(show_lines(model, now=time.time())))
        return 0

    return with_client(args, body)


def cmd_rm(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        deleted = await client.remove_model(args.name, force=args.force)
        print(f"removed {args.name}" + ("" if deleted else " (its files were left where they are)"))
        return 0

    return with_client(args, body)


def cmd_load(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        load_ms = await client.load_model(args.name, keep_alive=args.keep_alive)
        took = f"in {render.format_ms(load_ms)}" if load_ms else "(it was already loaded)"
        if args.keep_alive < 0:
            keep = "kept until unloaded"
        elif args.keep_alive > 0:
            keep = f"kept {render.format_duration(args.keep_alive)} while unused"
        else:
            keep = "kept for the daemon's keep-alive while unused"
        print(f"loaded {args.name} {took}; {keep}")
        return 0

    return with_client(args, body)


def ps_lines(loaded: tuple[t.LoadedModel, ...], *, now: float, width: int) -> list[str]:
    if not loaded:
        return ["no models loaded"]
    rows = [
        [
            m.name,
            m.device or "-",
            m.tier or "-",
            render.format_bytes(m.memory_bytes) if m.memory_bytes else "-",
            render.keep_alive_text(m, now),
            _yes(m.in_use),
        ]
        for m in loaded
    ]
    return render.render_table(("NAME", "DEVICE", "TIER", "MEMORY", "KEEP-ALIVE", "IN USE"), rows, width=width, flex=0)


def cmd_ps(args: argparse.Namespace) -> int:
    async def body(client: Client) -> int:
        loaded = await client.list_loaded()
        if args.json:
            print_json({"loaded": [t.to_jsonable(m) for m in loaded]})
        else:
            print("\n".join(ps_lines(loaded, now=time.time(), width=render.terminal_width())))
        return 0

    return with_client(args, body)
