"""OutputPreview: one image, drawn with textual-image (Kitty or Sixel graphics where the terminal has them, text cells otherwise)."""

from __future__ import annotations

import io

from PIL import Image as PILImage
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static
from textual_image.widget import Image


class OutputPreview(Widget):
    """Set `data` to PNG (or any PIL-readable) bytes; empty bytes show `placeholder`."""

    DEFAULT_CSS = """
    OutputPreview { height: 1fr; align: center middle; border: round $primary; border-title-color: $text; }
    OutputPreview Image { width: auto; height: 1fr; }
    OutputPreview #preview-placeholder { color: $text-muted; width: 1fr; content-align: center middle; height: 1fr; }
    """

    data: reactive[bytes] = reactive(b"")
    placeholder: reactive[str] = reactive("no image")

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Preview"

    def compose(self) -> ComposeResult:
        yield Static(self.placeholder, id="preview-placeholder")
        yield Image(None, id="preview-image")

    def watch_placeholder(self, text: str) -> None:
        if self.is_mounted:
            self.query_one("#preview-placeholder", Static).update(text)

    def watch_data(self, data: bytes) -> None:
        if not self.is_mounted:
            return
        image = self.query_one("#preview-image", Image)
        placeholder = self.query_one("#preview-placeholder", Static)
        try:
            picture = PILImage.open(io.BytesIO(data)) if data else None
            if picture is not None:
                picture.load()
        except (OSError, ValueError):
            picture, self.placeholder = None, "not an image this terminal can show"
        image.image = picture
        image.display = picture is not None
        placeholder.display = picture is None

    def on_mount(self) -> None:
        self.watch_data(self.data)

    @property
    def showing(self) -> bool:
        """Whether an image is on screen (not the placeholder)."""
        return bool(self.query_one("#preview-image", Image).image)
