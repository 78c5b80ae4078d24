from dataclasses import replace
from pathlib import Path

import pytest
from diffusers import StableDiffusionPipeline

from models import builtin
from models.builtin import BUILTIN_MODELS, ensure_builtin
from models.errors import ModelNotFound
from models.tiny_sd import byte_to_unicode


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_is_deterministic(tiny_sd_dir: Path, tmp_path: Path) -> None:
    again = _files(ensure_builtin("tiny-sd", tmp_path))
    first = _files(tiny_sd_dir)
    weights = [name for name in first if name.endswith(".safetensors")]
    assert len(weights) == 3  # unet, vae, text encoder
    assert again == first


def test_built_model_is_small_and_complete(tiny_sd_dir: Path) -> None:
    size = sum(len(data) for data in _files(tiny_sd_dir).values())
    assert size < 4 * 1024 * 1024
    for part in ("unet", "vae", "text_encoder", "tokenizer", "scheduler"):
        assert (tiny_sd_dir / part).is_dir(), part


def test_built_model_has_sd_shapes(tiny_pipe: StableDiffusionPipeline) -> None:
    assert tiny_pipe.vae_scale_factor == 8
    assert tiny_pipe.tokenizer.model_max_length == 77
    assert tiny_pipe.safety_checker is None
    assert tiny_pipe.unet.config.cross_attention_dim == tiny_pipe.text_encoder.config.hidden_size


def test_tokenizer_covers_every_byte(tiny_pipe: StableDiffusionPipeline) -> None:
    tokenizer = tiny_pipe.tokenizer
    ids = tokenizer("a café, 東京 🙂!").input_ids
    assert ids[0] == tokenizer.convert_tokens_to_ids("<|startoftext|>")
    assert ids[-1] == tokenizer.convert_tokens_to_ids("<|endoftext|>")
    assert tokenizer.unk_token_id not in ids[1:-1]
    assert len(tokenizer) == 2 * len(byte_to_unicode()) + 2


def test_description_says_it_makes_noise() -> None:
    model = BUILTIN_MODELS["tiny-sd"]
    assert "noise" in model.description and "test" in model.description
    assert model.kind == "sd15"


def test_ensure_builtin_reuses_existing_model(tiny_sd_dir: Path) -> None:
    before = (tiny_sd_dir / "model_index.json").stat().st_mtime_ns
    assert ensure_builtin("tiny-sd", tiny_sd_dir.parent) == tiny_sd_dir
    assert (tiny_sd_dir / "model_index.json").stat().st_mtime_ns == before


def test_unknown_builtin_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="tiny-sd"):
        ensure_builtin("huge-sd", tmp_path)


def _with_build(monkeypatch: pytest.MonkeyPatch, build: builtin.BuiltinModel) -> None:
    monkeypatch.setitem(BUILTIN_MODELS, "tiny-sd", build)


def test_crash_mid_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(folder: Path) -> None:
        (folder / "model_index.json").write_text("{}")
        raise RuntimeError("disk on fire")

    _with_build(monkeypatch, replace(BUILTIN_MODELS["tiny-sd"], build=crash))
    with pytest.raises(RuntimeError, match="disk on fire"):
        ensure_builtin("tiny-sd", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_losing_a_build_race_keeps_the_winner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def build_while_another_process_wins(folder: Path) -> None:
        winner = tmp_path / "tiny-sd"
        winner.mkdir()
        (winner / "model_index.json").write_text("winner")
        (folder / "model_index.json").write_text("loser")

    _with_build(monkeypatch, replace(BUILTIN_MODELS["tiny-sd"], build=build_while_another_process_wins))
    target = ensure_builtin("tiny-sd", tmp_path)
    assert (target / "model_index.json").read_text() == "winner"
    assert [p.name for p in tmp_path.iterdir()] == ["tiny-sd"]
