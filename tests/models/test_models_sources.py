from pathlib import Path

import huggingface_hub.constants
import pytest

from models.diffusion import ModelSource, check_hub_available, resolve_model
from models.errors import ModelNotFound, ModelNotInstalled


def test_builtin_resolves_without_building(tmp_path: Path) -> None:
    source = resolve_model("tiny-sd", tmp_path)
    assert source == ModelSource(name="tiny-sd", kind="builtin", location=str(tmp_path / "tiny-sd"))
    assert list(tmp_path.iterdir()) == []


def test_diffusers_folder(tiny_sd_dir: Path, tmp_path: Path) -> None:
    source = resolve_model(str(tiny_sd_dir), tmp_path)
    assert (source.kind, source.location, source.name) == ("folder", str(tiny_sd_dir), str(tiny_sd_dir))


def test_folder_inside_models_dir(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "model_index.json").write_text("{}")
    source = resolve_model("mine", tmp_path)
    assert (source.kind, source.location) == ("folder", str(tmp_path / "mine"))


def test_folder_without_model_index(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match=r"model_index\.json"):
        resolve_model(str(tmp_path), tmp_path / "models")


@pytest.mark.parametrize("suffix", [".safetensors", ".ckpt"])
def test_single_file(tmp_path: Path, suffix: str) -> None:
    checkpoint = tmp_path / f"model{suffix}"
    checkpoint.write_bytes(b"not really")
    source = resolve_model(str(checkpoint), tmp_path / "models")
    assert (source.kind, source.location) == ("single_file", str(checkpoint))


def test_missing_checkpoint_file(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="does not exist"):
        resolve_model(str(tmp_path / "gone.safetensors"), tmp_path)


def test_other_file_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ModelNotFound, match=r"\.safetensors"):
        resolve_model(str(tmp_path / "notes.txt"), tmp_path)


@pytest.mark.parametrize(
    ("ref", "repo", "revision"),
    [
        ("runwayml/stable-diffusion-v1-5", "runwayml/stable-diffusion-v1-5", None),
        ("org/name@fp16", "org/name", "fp16"),
        ("Org.X/some_model-2@0123abcd", "Org.X/some_model-2", "0123abcd"),
    ],
)
def test_hub_repo_id(tmp_path: Path, ref: str, repo: str, revision: str | None) -> None:
    source = resolve_model(ref, tmp_path)
    assert source == ModelSource(name=ref, kind="hub", location=repo, revision=revision)


@pytest.mark.parametrize("ref", ["", "no-such-model", "a/b/c", "/no/such/folder", "./x/y", "org/"])
def test_unknown_model(tmp_path: Path, ref: str) -> None:
    with pytest.raises(ModelNotFound) as info:
        resolve_model(ref, tmp_path)
    message = str(info.value)
    assert f"'{ref}'" in message and "tiny-sd" in message and "org/name" in message


def _hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def test_hub_model_missing_from_cache_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _hub_cache(tmp_path, monkeypatch)
    with pytest.raises(ModelNotInstalled) as info:
        check_hub_available(resolve_model("org/name", tmp_path))
    assert "org/name" in str(info.value) and "HF_HUB_OFFLINE" in str(info.value)


def test_hub_model_in_cache_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = _hub_cache(tmp_path, monkeypatch)
    repo = cache / "models--org--name"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "model_index.json").write_text("{}")
    check_hub_available(resolve_model("org/name", tmp_path))
    with pytest.raises(ModelNotInstalled):
        check_hub_available(resolve_model("org/name@other-branch", tmp_path))


def test_hub_check_skipped_online(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _hub_cache(tmp_path, monkeypatch)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    check_hub_available(resolve_model("org/name", tmp_path))
