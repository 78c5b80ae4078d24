"""`imagine bot discord|slack` is plugged into the `imagine` command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.cli import main


@pytest.fixture(autouse=True)
def no_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "IMAGINE_BOT_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_the_bot_command_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bot", "--help"]) == 0
    assert "{discord,slack}" in capsys.readouterr().out


def test_a_missing_token_says_which_variable_to_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bot", "discord"]) == 2
    assert "set DISCORD_TOKEN" in capsys.readouterr().err


def test_slack_needs_an_app_token_for_socket_mode_and_a_signing_secret_for_http(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert main(["bot", "slack"]) == 2
    assert "set SLACK_APP_TOKEN" in capsys.readouterr().err
    assert main(["bot", "slack", "--http"]) == 2
    assert "set SLACK_SIGNING_SECRET" in capsys.readouterr().err


def test_a_bad_config_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "bots.toml"
    config.write_text("[limits]\nburst = -2\n")
    assert main(["bot", "discord", "--config", str(config)]) == 2
    assert "[limits] burst must be a number of zero or more" in capsys.readouterr().err
