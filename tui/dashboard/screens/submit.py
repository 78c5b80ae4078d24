"""SubmitScreen: the form for a new text-to-image job; Enter submits, Escape closes."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Select, Static

from imagine import types as t
from imagine.client import ModelList

from tui.dashboard.form import DEFAULT, FormError, FormValues, spec_from_form

INPUTS = ("prompt", "negative", "size", "steps", "seed", "count")
SELECTS = ("model", "sampler", "priority")
ORDER = ("prompt", "negative", "size", "steps", "seed", "count", "model", "sampler", "priority")  # typed fields first
LABELS = {"negative": "negative", "size": "size WxH"}


def model_options(models: ModelList | None) -> list[tuple[str, str]]:
    options = [("daemon's default", DEFAULT)]
    for model in models.models if models else ():
        note = " (default)" if model.is_default else ("" if model.installed else " (not installed)")
        options.append((model.name + note, model.name))
    return options


def placeholders(models: ModelList | None) -> dict[str, str]:
    defaults = next((m.defaults for m in models.models if m.is_default and m.defaults), None) if models else None
    if defaults is None:
        return {"size": "model default", "steps": "model default"}
    return {"size": f"{defaults.width}x{defaults.height}", "steps": str(defaults.steps)}


class SubmitScreen(ModalScreen[t.JobSpec | None]):
    """Dismisses with the JobSpec to submit, or None."""

    DEFAULT_CSS = """
    SubmitScreen { align: center middle; }
    SubmitScreen > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    SubmitScreen Grid { grid-size: 2; grid-columns: 12 1fr; grid-rows: 1; grid-gutter: 0 1; height: auto; }
    SubmitScreen Label { width: 12; text-align: right; color: $text-muted; }
    SubmitScreen #form-error { color: $error; height: auto; }
    SubmitScreen #form-hint { color: $text-muted; }
    """

    BINDINGS = [
        Binding("enter", "submit", "Submit", tooltip="submit the job (from any field)", priority=False),
        Binding("escape", "close", "Close", tooltip="close the form without submitting"),
    ]

    def __init__(self, models: ModelList | None, initial: FormValues | None = None) -> None:
        super().__init__()
        self.models = models
        self.initial = initial or FormValues(prompt="")

    def compose(self) -> ComposeResult:
        hints = placeholders(self.models)
        schedulers = self.models.schedulers if self.models else ()
        with Vertical() as box:
            box.border_title = "New job"
            box.border_subtitle = "Enter submits · Esc closes · Tab moves"
            with Grid():
                for name in ORDER:
                    yield Label(LABELS.get(name, name))
                    yield self._field(name, hints, schedulers)
                yield Label("previews")
                yield Checkbox("show the image while it is made", self.initial.previews, compact=True, id="previews")
            yield Static("", id="form-error")

    def _field(self, name: str, hints: dict[str, str], schedulers: Sequence[str]) -> Input | Select[str]:
        value = str(getattr(self.initial, name))
        if name == "model":
            return Select(model_options(self.models), value=value, allow_blank=False, compact=True, id=name)
        if name == "sampler":
            choices = [("model's default", DEFAULT)] + [(s, s) for s in schedulers]
            return Select(choices, value=value if value in schedulers else DEFAULT, allow_blank=False, compact=True, id=name)
        if name == "priority":
            choices = [(p.value, p.value) for p in t.Priority]
            return Select(choices, value=value, allow_blank=False, compact=True, id=name)
        placeholder = hints.get(name, {"seed": "random", "count": "1", "prompt": "what to draw"}.get(name, ""))
        return Input(value, placeholder=placeholder, compact=True, id=name)

    def values(self) -> FormValues:
        found: dict[str, str] = {}
        for name in INPUTS:
            found[name] = self.query_one(f"#{name}", Input).value
        for name in SELECTS:
            value = self.query_one(f"#{name}", Select).value
            found[name] = value if isinstance(value, str) else DEFAULT
        return FormValues(**found, previews=self.query_one("#previews", Checkbox).value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_submit(self) -> None:
        try:
            spec = spec_from_form(self.values())
        except FormError as exc:
            self.query_one("#form-error", Static).update(Text(str(exc)))
            return
        self.dismiss(spec)

    def action_close(self) -> None:
        self.dismiss(None)
