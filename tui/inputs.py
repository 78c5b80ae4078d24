"""Images given on the command line: a file to upload, or the id of an earlier output."""

from __future__ import annotations

import re
from pathlib import Path

from imagine import types as t

from tui.options import UsageError

OUTPUT_ID = re.compile(r"^[0-9a-f]{12}-\d+$")  # <job id>-<index>, as `imagine jobs show` lists them
MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # what the client accepts in one message; the daemon's pixel cap is stricter


def image_input(text: str, option: str) -> t.ImageInput:
    """An existing file's bytes, or an output id like `3f2a9c1b7d4e-0`; a UsageError naming `option` otherwise."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise UsageError(f"{option} {text}: that is a folder; give an image file (PNG, JPEG or WebP)")
    if path.exists():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"{option} {text}: cannot read it ({exc.strerror or exc})") from None
        if not data:
            raise UsageError(f"{option} {text}: the file is empty; give an image file (PNG, JPEG or WebP)")
        if len(data) > MAX_UPLOAD_BYTES:
            raise UsageError(f"{option} {text}: {len(data)} bytes is too large to send (the limit is 64 MiB)")
        return t.ImageInput(data=data)
    if OUTPUT_ID.match(text):
        return t.ImageInput(output_id=text)
    raise UsageError(
        f"{option} {text}: no such file, and not an output id (like 3f2a9c1b7d4e-0, see `imagine jobs show JOB`)"
    )
