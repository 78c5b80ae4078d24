"""Daemon settings: defaults that work with no file, then a TOML file, then
`IMAGINED_*` environment variables, then command-line flags."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import platformdirs

from imagine.address import APP_NAME, default_socket_path


@dataclass(frozen=True)
class Config:
    data_dir: Path
    socket: Path | None           # unix socket to listen on (None when only --listen is used)
    listen: str = ""              # HOST:PORT for TCP, "" for none
    device: str = "auto"          # auto | cpu | cuda | cuda:N
    models_dir: Path | None = None  # default: DATA_DIR/models
    max_queue: int = 1000         # queued jobs, all owners
    max_queue_per_owner: int = 100
    aging_seconds: float = 120.0  # a waiting job rises one priority class per this many seconds
    max_worker_deaths: int = 2    # a job that kills the worker this many times fails
    default_model: str = "tiny-sd"
    memory_budget_bytes: int = 0  # device memory for loaded models; 0 = 90% of free CUDA memory, or half the free RAM
    keep_alive_seconds: float = 300.0  # an idle model is unloaded after this; negative = never
    cpu_tier: bool = True         # CUDA only: evicted models wait in CPU RAM instead of being dropped
    cpu_tier_budget_bytes: int = 0  # RAM for that tier; 0 = half the free RAM
    max_batch_size: int = 4       # compatible queued txt2img jobs run as one pipeline call; 1 = never batch
    max_batch_pixels: int = 4 * 512 * 512  # a batch holds at most this many pixels (images x width x height)

    @property
    def keep_alive(self) -> float | None:
        """keep_alive_seconds as the worker takes it: None = forever."""
        return None if self.keep_alive_seconds < 0 else self.keep_alive_seconds

    @property
    def db_path(self) -> Path:
        return self.data_dir / "imagined.db"

    @property
    def outputs_dir(self) -> Path:
        return self.data_dir / "outputs"

    @property
    def inputs_dir(self) -> Path:
        """Images given to jobs (uploads and copies of outputs), kept by content."""
        return self.data_dir / "inputs"

    @property
    def runs_dir(self) -> Path:
        """Working folders of jobs that keep state between attempts (training checkpoints)."""
        return self.data_dir / "runs"

    @property
    def model_store(self) -> Path:
        return self.models_dir or self.data_dir / "models"


_ENV_FIELDS = {f"IMAGINED_{field.name.upper()}": field.name for field in dataclasses.fields(Config)}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def default_config_file() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in dataclasses.fields(Config)}[name]
    if value is None or value == "":
        return None if "None" in str(kind) else value
    if "Path" in str(kind):
        return Path(str(value)).expanduser()
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise ValueError(f"{name} must be true or false (1/0, yes/no, on/off), not {value!r}")
    if kind == "int":
        return int(value)
    if kind == "float":
        if name == "keep_alive_seconds" and str(value).strip().lower() in ("forever", "never", "none"):
            return -1.0
        return float(value)
    return str(value)


def load_config(
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Raises ValueError with a sentence naming the setting when a value is unusable."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    explicit = config_file or (Path(environ["IMAGINED_CONFIG"]) if environ.get("IMAGINED_CONFIG") else None)
    path = explicit or default_config_file()
    if explicit is not None or path.is_file():
        try:
            values.update(tomllib.loads(path.read_text()))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read the config file {path}: {exc}") from exc
    for env, name in _ENV_FIELDS.items():
        if env in environ:
            values[name] = environ[env]
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    known = {f.name for f in dataclasses.fields(Config)}
    unknown = set(values) - known
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    try:
        coerced = {k: _coerce(k, v) for k, v in values.items()}
    except ValueError as exc:
        raise ValueError(f"bad setting value: {exc}") from exc
    coerced.setdefault("data_dir", Path(platformdirs.user_data_dir(APP_NAME)))
    if "socket" not in coerced:
        coerced["socket"] = None if coerced.get("listen") else default_socket_path()
    return Config(**coerced)
