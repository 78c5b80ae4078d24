"""Live previews on the command line: the latest one written to a file, and a half-block thumbnail for terminals.

A half-block thumbnail draws two pixels per character cell: `▀` in the upper
pixel's colour on the lower pixel's colour. Rich turns the colours into the
escape codes the terminal understands (true colour, 256 or 16 colours).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from tui.options import UsageError

THUMBNAIL_WIDTH = 24  # character cells: 12 rows for a square picture
UPPER_HALF = "▀"


def thumbnail_lines(png: bytes, *, width: int, color_system: str) -> list[str]:
    """The picture as lines of half blocks `width` cells wide (aspect kept), with colour escape codes; [] if unreadable."""
    from PIL import Image, UnidentifiedImageError
    from rich.color import Color
    from rich.console import Console
    from rich.style import Style
    from rich.text import Text

    try:
        with Image.open(io.BytesIO(png)) as opened:
            picture = opened.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError):
        return []
    rows = max(1, math.ceil(picture.height / picture.width * width / 2))  # a cell is about twice as tall as wide
    small = picture.resize((width, rows * 2), Image.Resampling.BILINEAR)
    pixels = small.load()
    assert pixels is not None
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system=color_system, width=width + 1)  # type: ignore[arg-type]
    for row in range(rows):
        line = Text(no_wrap=True)
        for x in range(width):
            upper, lower = pixels[x, 2 * row], pixels[x, 2 * row + 1]
            line.append(UPPER_HALF, Style(color=Color.from_rgb(*upper[:3]), bgcolor=Color.from_rgb(*lower[:3])))  # type: ignore[index]
        console.print(line)
    return buffer.getvalue().splitlines()


def terminal_color_system(stream: object) -> str | None:
    """What colours the terminal behind `stream` shows ("truecolor", "256", "standard"), or None (e.g. NO_COLOR)."""
    from rich.console import Console

    return Console(file=stream).color_system  # type: ignore[arg-type]


class PreviewFile:
    """`--preview-file PATH`: each new preview replaces the file in one step, so a viewer never reads half a PNG."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written = 0

    @classmethod
    def parse(cls, text: str | None) -> PreviewFile | None:
        """Check --preview-file before submitting."""
        if text is None:
            return None
        path = Path(text).expanduser()
        if path.is_dir():
            raise UsageError(f"--preview-file {text}: that is a folder; give a file name such as preview.png")
        if not path.parent.is_dir():
            raise UsageError(f"--preview-file {text}: the folder {path.parent} does not exist")
        return cls(path)

    def write(self, png: bytes) -> None:
        tmp = self.path.with_name(self.path.name + ".part")
        tmp.write_bytes(png)
        tmp.replace(self.path)
        self.written += 1
