"""LoadedModels: the models the worker holds in memory, one a row (the cursor picks the one to unload)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import DataTable

from imagine import types as t

from tui import render


class LoadedModels(DataTable[str | Text]):
    DEFAULT_CSS = """
    LoadedModels { height: 6; overflow-x: hidden; border: round $primary; border-title-color: $text; }
    LoadedModels:focus { border: round $accent; }
    """

    models: reactive[tuple[t.LoadedModel, ...]] = reactive(tuple)

    def __init__(self, id: str | None = None) -> None:
        super().__init__(cursor_type="row", show_header=False, id=id)
        self.border_title = "Models"

    def on_mount(self) -> None:
        self.add_column("name", key="name")
        self.add_column("memory", key="memory")
        self.add_column("left", key="left")
        self.watch_models(self.models)

    def watch_models(self, models: Sequence[t.LoadedModel]) -> None:
        if not self.columns:
            return
        selected = self.selected_name
        self.clear()
        for model in models:
            left = "in use" if model.in_use else render.keep_alive_text(model, time.time())
            self.add_row(Text(model.name), render.format_bytes(model.memory_bytes), left, key=model.name)
        names = [m.name for m in models]
        if selected in names:
            self.move_cursor(row=names.index(selected), animate=False)
        self.border_subtitle = "" if models else "none loaded"

    @property
    def selected_name(self) -> str | None:
        names = [str(key.value) for key in self.rows]
        return names[self.cursor_row] if names and 0 <= self.cursor_row < len(names) else None
