from __future__ import annotations

from pathlib import Path

import pytest

from daemon.config import load_config


def test_defaults_work_with_no_file(tmp_path: Path) -> None:
    config = load_config(environ={}, config_file=None)
    assert config.device == "auto"
    assert config.socket is not None and config.socket.name == "imagined.sock"
    assert config.model_store == config.data_dir / "models"


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text('device = "cpu"\nmax_queue = 10\ndata_dir = "/srv/a"\n')
    env = {"IMAGINED_MAX_QUEUE": "20", "IMAGINED_DATA_DIR": "/srv/b"}
    config = load_config({"data_dir": "/srv/c"}, config_file=file, environ=env)
    assert config.device == "cpu"
    assert config.max_queue == 20
    assert config.data_dir == Path("/srv/c")


def test_listen_only_means_no_socket() -> None:
    assert load_config({"listen": "127.0.0.1:0"}, environ={}).socket is None


def test_bad_values_name_the_setting(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text("max_queue = 'many'\n")
    with pytest.raises(ValueError, match="many"):
        load_config(config_file=file, environ={})
    file.write_text("colour = 'blue'\n")
    with pytest.raises(ValueError, match="unknown setting.*colour"):
        load_config(config_file=file, environ={})
    with pytest.raises(ValueError, match="cannot read"):
        load_config(config_file=tmp_path / "missing.toml", environ={})


def test_cache_settings_from_the_environment() -> None:
    config = load_config(
        environ={"IMAGINED_CPU_TIER": "off", "IMAGINED_KEEP_ALIVE_SECONDS": "forever", "IMAGINED_MEMORY_BUDGET_BYTES": "1024"}
    )
    assert config.cpu_tier is False and config.keep_alive is None and config.memory_budget_bytes == 1024
    assert load_config(environ={"IMAGINED_CPU_TIER": "yes"}).cpu_tier is True
    with pytest.raises(ValueError, match="maybe"):
        load_config(environ={"IMAGINED_CPU_TIER": "maybe"})
