"""models.download against a loopback hub imitation (tests/models/hub_server.py); nothing leaves 127.0.0.1."""

import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from models.download import PulledModel, PullProgress, pull_hub, pull_url, select_pipeline_files
from models.errors import Cancelled, DownloadFailed, ModelError, ModelNotFound
from tests.models.hub_server import FakeHub, Repo, running_hub

REPO = "tester/tiny-sd"
UNET = "unet/diffusion_pytorch_model.safetensors"
VAE_FP16 = "vae/diffusion_pytorch_model.fp16.safetensors"
TEXT_ENCODER = "text_encoder/model.safetensors"


def _files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def tiny_sd_files(tiny_sd_dir: Path) -> dict[str, bytes]:
    return _files_of(tiny_sd_dir)


@pytest.fixture(scope="session")
def repo_files(tiny_sd_files: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """tiny-sd as a hub repo would hold it, with the decoys a real repo has beside what a pipeline needs."""
    files = dict(tiny_sd_files)
    vae = load_file_bytes(files["vae/diffusion_pytorch_model.safetensors"], tmp_path_factory.mktemp("fp16"))
    files[VAE_FP16] = vae  # a real half-precision variant, so the pulled pipeline still loads
    files["unet/diffusion_pytorch_model.bin"] = b"pickled duplicate " * 4096
    files["text_encoder/pytorch_model.bin"] = b"pickled duplicate " * 2048
    files["unet/diffusion_flax_model.msgpack"] = b"flax" * 1000
    files["vae/diffusion_pytorch_model.ckpt"] = b"ckpt" * 1000
    files["onnx/unet/model.onnx"] = b"\x08\x07" + b"onnx" * 1000
    files["v1-5-pruned-emaonly.ckpt"] = b"single file checkpoint" * 1000
    files["README.md"] = b"# tiny-sd\n"
    files["sample.png"] = b"\x89PNG not really"
    files[".gitattributes"] = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
    return files


def load_file_bytes(data: bytes, tmp: Path) -> bytes:
    """The same safetensors weights stored as float16."""
    (tmp / "full.safetensors").write_bytes(data)
    half = {k: v.astype(np.float16) for k, v in load_file(tmp / "full.safetensors").items()}
    save_file(half, tmp / "half.safetensors")
    return (tmp / "half.safetensors").read_bytes()


@pytest.fixture
def hub(repo_files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHub]:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    fake = FakeHub(repos={REPO: Repo(files=dict(repo_files))})
    with running_hub(fake) as running:
        yield running


def _key(hub: FakeHub, name: str, repo: str = REPO) -> str:
    return f"/{repo}/resolve/{hub.repos[repo].sha}/{name}"


class Recorder:
    def __init__(self) -> None:
        self.events: list[PullProgress] = []

    def __call__(self, progress: PullProgress) -> None:
        self.events.append(progress)


def _pull(hub: FakeHub, dest: Path, repo: str = REPO, **kwargs: object) -> PulledModel:
    kwargs.setdefault("on_progress", Recorder())
    kwargs.setdefault("should_cancel", lambda: False)
    return pull_hub(repo, kwargs.pop("revision", None), dest, endpoint=hub.url, **kwargs)  # type: ignore[arg-type]


def test_pull_fetches_what_a_pipeline_needs_with_monotonic_progress(
    hub: FakeHub, tiny_sd_files: dict[str, bytes], repo_files: dict[str, bytes], tmp_path: Path
) -> None:
    progress = Recorder()
    dest = tmp_path / "models" / "tiny"
    pulled = _pull(hub, dest, on_progress=progress)

    assert pulled.path == dest
    assert set(pulled.files) == set(tiny_sd_files)  # same names as tiny-sd: the fp16 vae under the plain name
    assert pulled.sources == {"vae/diffusion_pytorch_model.safetensors": VAE_FP16}
    assert _files_of(dest) == {
        **tiny_sd_files,
        "vae/diffusion_pytorch_model.safetensors": repo_files[VAE_FP16],
    }
    assert pulled.revision == hub.repos[REPO].sha
    assert pulled.sha256 == {name: hashlib.sha256(data).hexdigest() for name, data in _files_of(dest).items()}
    assert pulled.size_bytes == sum(len(d) for d in _files_of(dest).values())
    assert [p.name for p in dest.parent.iterdir()] == ["tiny"]  # the staging folder is gone

    done = [p.bytes_done for p in progress.events]
    assert done == sorted(done)
    assert [p.files_done for p in progress.events] == sorted(p.files_done for p in progress.events)
    assert {(p.files_total, p.bytes_total) for p in progress.events} == {(len(pulled.files), pulled.size_bytes)}
    assert progress.events[0].file == "model_index.json"
    last = progress.events[-1]
    assert last.bytes_done == last.bytes_total == pulled.size_bytes
    assert last.files_done == last.files_total == len(pulled.files)
    assert all(p.bytes_total == pulled.size_bytes for p in progress.events if p.files_total == len(pulled.files))
    assert all(p.rate_bytes_per_s >= 0 for p in progress.events)

    fetched = {r.path.rsplit("/resolve/", 1)[-1].split("/", 1)[1] for r in hub.served("/resolve/")}
    assert fetched == set(tiny_sd_files) - {"vae/diffusion_pytorch_model.safetensors"} | {VAE_FP16}
    assert all("Authorization" not in r.headers for r in hub.requests)
    assert [r.path for r in hub.served("/api/")] == [f"/api/models/{REPO}?blobs=true"]  # the default branch


def test_pulled_folder_loads_and_generates(hub: FakeHub, tmp_path: Path) -> None:
    import torch

    from models.diffusion import Txt2ImgParams, txt2img
    from models.loading import load_pipeline
    from models.sources import ModelSource

    pulled = _pull(hub, tmp_path / "tiny")
    source = ModelSource(name="pulled", kind="folder", location=str(pulled.path))
    pipe = load_pipeline(source, tmp_path, torch.device("cpu"))
    params = Txt2ImgParams(prompt="a lighthouse", negative_prompt="", width=64, height=64, steps=2, guidance=7.0,
                           seed=1, count=1, scheduler="euler")  # fmt: skip
    images = txt2img(pipe, params, on_step=lambda done, total: None, should_cancel=lambda: False)
    assert [im.size for im in images] == [(64, 64)]


def test_selection_prefers_fp16_then_safetensors_then_bin_and_never_two_formats() -> None:
    index = {"_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"],
             "vae": ["diffusers", "AutoencoderKL"], "text_encoder": ["transformers", "CLIPTextModel"],
             "tokenizer": ["transformers", "CLIPTokenizer"], "safety_checker": [None, None],
             "transformer": ["diffusers", "SD3Transformer2DModel"]}  # fmt: skip
    listing = [
        "model_index.json", "README.md", "v1-5.ckpt", "v1-5.safetensors",
        "unet/config.json", "unet/diffusion_pytorch_model.bin", "unet/diffusion_pytorch_model.safetensors",
        "unet/diffusion_pytorch_model.fp16.safetensors", "unet/diffusion_pytorch_model.non_ema.safetensors",
        "unet/diffusion_flax_model.msgpack", "unet/diffusion_pytorch_model.fp16.bin",
        "vae/config.json", "vae/diffusion_pytorch_model.bin", "vae/diffusion_pytorch_model.ckpt",
        "text_encoder/config.json", "text_encoder/model.safetensors", "text_encoder/pytorch_model.bin",
        "text_encoder/tf_model.h5", "text_encoder/flax_model.msgpack",
        "tokenizer/vocab.json", "tokenizer/merges.txt", "tokenizer/special_tokens_map.json",
        "safety_checker/config.json", "safety_checker/model.safetensors",
        "transformer/config.json", "transformer/diffusion_pytorch_model.safetensors.index.json",
        "transformer/diffusion_pytorch_model-00001-of-00002.safetensors",
        "transformer/diffusion_pytorch_model-00002-of-00002.safetensors",
        "transformer/diffusion_pytorch_model.safetensors.index.fp16.json",
        "transformer/diffusion_pytorch_model.fp16-00001-of-00002.safetensors",
        "transformer/diffusion_pytorch_model.fp16-00002-of-00002.safetensors",
        "onnx/unet/model.onnx", "flax/unet/model.msgpack",
    ]  # fmt: skip
    chosen = dict(select_pipeline_files(listing, index))
    assert chosen == {
        "model_index.json": "model_index.json",
        "unet/config.json": "unet/config.json",
        "unet/diffusion_pytorch_model.fp16.safetensors": "unet/diffusion_pytorch_model.safetensors",
        "vae/config.json": "vae/config.json",
        "vae/diffusion_pytorch_model.bin": "vae/diffusion_pytorch_model.bin",
        "text_encoder/config.json": "text_encoder/config.json",
        "text_encoder/model.safetensors": "text_encoder/model.safetensors",
        "tokenizer/vocab.json": "tokenizer/vocab.json",
        "tokenizer/merges.txt": "tokenizer/merges.txt",
        "tokenizer/special_tokens_map.json": "tokenizer/special_tokens_map.json",
        "transformer/config.json": "transformer/config.json",
        "transformer/diffusion_pytorch_model.safetensors.index.fp16.json":
            "transformer/diffusion_pytorch_model.safetensors.index.json",
        "transformer/diffusion_pytorch_model.fp16-00001-of-00002.safetensors":
            "transformer/diffusion_pytorch_model.fp16-00001-of-00002.safetensors",
        "transformer/diffusion_pytorch_model.fp16-00002-of-00002.safetensors":
            "transformer/diffusion_pytorch_model.fp16-00002-of-00002.safetensors",
    }  # fmt: skip
    for folder in ("unet", "vae", "text_encoder", "transformer"):
        formats = {Path(local).suffix for local in chosen.values() if local.startswith(folder + "/")} - {".json"}
        assert len(formats) == 1, folder


def test_resume_after_the_connection_drops_mid_file(hub: FakeHub, repo_files: dict[str, bytes], tmp_path: Path) -> None:
    size = len(repo_files[UNET])
    hub.drop_once[_key(hub, UNET)] = size // 2
    dest = tmp_path / "tiny"
    with pytest.raises(DownloadFailed, match="pull again to resume") as failed:
        _pull(hub, dest)
    assert UNET in str(failed.value) and "127.0.0.1" in str(failed.value)
    assert not dest.exists()
    part = tmp_path / ".tiny.pulling" / (UNET + ".part")
    assert part.stat().st_size == size // 2

    hub.clear()
    pulled = _pull(hub, dest)
    unet_requests = [r for r in hub.served(UNET) if r.status in (200, 206)]
    assert len(unet_requests) == 1
    assert unet_requests[0].headers.get("Range") == f"bytes={size // 2}-"
    assert unet_requests[0].status == 206 and unet_requests[0].body_bytes == size - size // 2
    assert (dest / UNET).read_bytes() == repo_files[UNET]
    assert pulled.sha256[UNET] == hashlib.sha256(repo_files[UNET]).hexdigest()
    # files finished before the drop (in sorted order, before unet/) were kept, not fetched again
    assert not [r for r in hub.requests if "/resolve/" in r.path and "/diffusion_pytorch_model" not in r.path
                and "/vae/" not in r.path]  # fmt: skip
    assert hub.served("/vae/config.json")  # after unet/ in sorted order: the first pull never got there


def test_a_corrupted_file_fails_its_checksum_and_leaves_no_model(
    hub: FakeHub, repo_files: dict[str, bytes], tmp_path: Path
) -> None:
    good = repo_files[TEXT_ENCODER]
    hub.corrupt[_key(hub, TEXT_ENCODER)] = bytes(b ^ 0xFF for b in good[:100]) + good[100:]
    dest = tmp_path / "tiny"
    with pytest.raises(DownloadFailed, match="checksum mismatch") as failed:
        _pull(hub, dest)
    assert TEXT_ENCODER in str(failed.value)
    assert not dest.exists()
    assert not (tmp_path / ".tiny.pulling" / (TEXT_ENCODER + ".part")).exists()
    assert not (tmp_path / ".tiny.pulling" / TEXT_ENCODER).exists()

    hub.corrupt.clear()  # the hub is fixed: the next pull fetches that file afresh and finishes
    pulled = _pull(hub, dest)
    assert (pulled.path / TEXT_ENCODER).read_bytes() == good


def test_unknown_repo_and_unknown_revision_are_not_found(hub: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="tester/nope: repo or revision not found on http://127.0.0.1"):
        _pull(hub, tmp_path / "a", repo="tester/nope")
    with pytest.raises(ModelNotFound, match="revision not found"):
        _pull(hub, tmp_path / "b", revision="v9")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_named_branch_resolves_to_its_commit(hub: FakeHub, tmp_path: Path) -> None:
    pulled = _pull(hub, tmp_path / "tiny", revision="main")
    assert pulled.revision == hub.repos[REPO].sha
    assert all(f"/resolve/{pulled.revision}/" in r.path for r in hub.served(f"{REPO}/resolve/"))


def test_private_repo_needs_a_token_and_gets_it(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hub.repos[REPO].token = "hf_secret"
    with pytest.raises(DownloadFailed, match="needs a token: set HF_TOKEN"):
        _pull(hub, tmp_path / "a")
    with pytest.raises(DownloadFailed, match="refused the token"):
        _pull(hub, tmp_path / "b", token="hf_wrong")

    hub.clear()
    _pull(hub, tmp_path / "c", token="hf_secret")
    assert hub.requests and all(r.headers.get("Authorization") == "Bearer hf_secret" for r in hub.requests)

    hub.clear()
    monkeypatch.setenv("HF_TOKEN", "hf_secret")  # the token defaults to $HF_TOKEN
    _pull(hub, tmp_path / "d")
    assert all(r.headers.get("Authorization") == "Bearer hf_secret" for r in hub.requests)


def test_endpoint_defaults_to_hf_endpoint(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.url + "/")
    pulled = pull_hub(REPO, None, tmp_path / "tiny", on_progress=lambda p: None, should_cancel=lambda: False)
    assert (pulled.path / "model_index.json").is_file()


def test_cancel_mid_file_raises_and_a_later_pull_resumes(
    hub: FakeHub, repo_files: dict[str, bytes], tmp_path: Path
) -> None:
    stop = False

    def on_progress(p: PullProgress) -> None:
        nonlocal stop
        stop = stop or (p.file == UNET and p.file_bytes >= 256 * 1024)

    dest = tmp_path / "tiny"
    with pytest.raises(Cancelled):
        _pull(hub, dest, on_progress=on_progress, should_cancel=lambda: stop)
    assert not dest.exists()
    kept = (tmp_path / ".tiny.pulling" / (UNET + ".part")).stat().st_size
    assert 256 * 1024 <= kept < len(repo_files[UNET])

    hub.clear()
    _pull(hub, dest)
    resumed = [r for r in hub.served(UNET) if r.status == 206]
    assert [r.headers.get("Range") for r in resumed] == [f"bytes={kept}-"]
    assert resumed[0].body_bytes == len(repo_files[UNET]) - kept
    assert (dest / UNET).read_bytes() == repo_files[UNET]


def test_a_repo_without_model_index_is_not_a_pipeline(hub: FakeHub, tmp_path: Path) -> None:
    hub.repos["tester/single"] = Repo(files={"model.safetensors": b"x" * 100, "README.md": b"hi"})
    with pytest.raises(ModelNotFound, match="not a diffusers pipeline.*no model_index.json.*model.safetensors"):
        _pull(hub, tmp_path / "s", repo="tester/single")


def test_an_existing_dest_is_never_overwritten(hub: FakeHub, tmp_path: Path) -> None:
    (tmp_path / "tiny").mkdir()
    with pytest.raises(ModelError, match="already exists"):
        _pull(hub, tmp_path / "tiny")
    assert not hub.requests


def test_an_unreachable_endpoint_is_named(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.raises(DownloadFailed, match=f"cannot reach {endpoint}"):
        pull_hub(REPO, None, tmp_path / "x", endpoint=endpoint, on_progress=lambda p: None, should_cancel=lambda: False)


# ----------------------------------------------------------------------------- pull_url


def test_pull_url_checks_sha256_and_uses_the_content_disposition_name(hub: FakeHub, tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000
    hub.plain_files["dl?id=7"] = (data, {"Content-Disposition": 'attachment; filename="my-lora.safetensors"'})
    hub.plain_files["weights/v1.safetensors"] = (data, {})
    progress = Recorder()
    digest = hashlib.sha256(data).hexdigest()

    pulled = pull_url(f"{hub.url}/files/dl%3Fid=7", tmp_path, sha256=digest, on_progress=progress,
                      should_cancel=lambda: False)  # fmt: skip
    assert pulled.path == tmp_path / "my-lora.safetensors" and pulled.path.read_bytes() == data
    assert pulled.files == ("my-lora.safetensors",) and pulled.sha256 == {"my-lora.safetensors": digest}
    assert pulled.size_bytes == len(data) and pulled.revision is None
    assert progress.events[-1].bytes_done == progress.events[-1].bytes_total == len(data)

    named = pull_url(f"{hub.url}/files/weights/v1.safetensors", tmp_path / "sub", sha256=None,
                     on_progress=lambda p: None, should_cancel=lambda: False)  # fmt: skip
    assert named.path == tmp_path / "sub" / "v1.safetensors"
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["v1.safetensors"]


def test_pull_url_rejects_a_wrong_sha256_and_keeps_nothing(hub: FakeHub, tmp_path: Path) -> None:
    hub.plain_files["x.safetensors"] = (b"abc" * 1000, {})
    with pytest.raises(DownloadFailed, match="checksum mismatch"):
        pull_url(f"{hub.url}/files/x.safetensors", tmp_path, sha256="0" * 64, on_progress=lambda p: None,
                 should_cancel=lambda: False)  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_pull_url_resumes_after_a_drop(hub: FakeHub, tmp_path: Path) -> None:
    data = bytes(range(256)) * 2000
    hub.plain_files["big.safetensors"] = (data, {})
    hub.drop_once["/files/big.safetensors"] = 100_000
    url = f"{hub.url}/files/big.safetensors"
    with pytest.raises(DownloadFailed, match="pull again to resume"):
        pull_url(url, tmp_path, sha256=None, on_progress=lambda p: None, should_cancel=lambda: False)
    hub.clear()
    pulled = pull_url(url, tmp_path, sha256=hashlib.sha256(data).hexdigest(), on_progress=lambda p: None,
                      should_cancel=lambda: False)  # fmt: skip
    assert pulled.path.read_bytes() == data
    assert [(r.headers.get("Range"), r.body_bytes) for r in hub.requests] == [("bytes=100000-", len(data) - 100_000)]


def test_pull_url_sends_the_token_and_reports_a_missing_file(hub: FakeHub, tmp_path: Path) -> None:
    hub.plain_files["t.safetensors"] = (b"t" * 10, {})
    pull_url(f"{hub.url}/files/t.safetensors", tmp_path, sha256=None, token="hf_abc", on_progress=lambda p: None,
             should_cancel=lambda: False)  # fmt: skip
    assert hub.requests[-1].headers.get("Authorization") == "Bearer hf_abc"
    with pytest.raises(ModelNotFound, match="not found"):
        pull_url(f"{hub.url}/files/missing.safetensors", tmp_path, sha256=None, on_progress=lambda p: None,
                 should_cancel=lambda: False)  # fmt: skip


def test_the_hub_listing_json_is_what_the_client_reads(hub: FakeHub) -> None:
    """Guard the imitation itself: the listing has the hub's fields for the files it serves."""
    from urllib.request import urlopen

    with urlopen(f"{hub.url}/api/models/{REPO}/revision/main?blobs=true", timeout=5) as response:
        info = json.loads(response.read())
    assert info["sha"] == hub.repos[REPO].sha
    unet = next(s for s in info["siblings"] if s["rfilename"] == UNET)
    assert unet["lfs"]["sha256"] == hashlib.sha256(hub.repos[REPO].files[UNET]).hexdigest()


def test_pull_url_starts_over_when_the_server_ignores_range(hub: FakeHub, tmp_path: Path) -> None:
    data = bytes(range(256)) * 800
    hub.plain_files["r.safetensors"] = (data, {})
    hub.drop_once["/files/r.safetensors"] = 50_000
    url = f"{hub.url}/files/r.safetensors"
    with pytest.raises(DownloadFailed):
        pull_url(url, tmp_path, sha256=None, on_progress=lambda p: None, should_cancel=lambda: False)
    hub.clear()
    hub.ignore_range = True
    pulled = pull_url(url, tmp_path, sha256=None, on_progress=lambda p: None, should_cancel=lambda: False)
    assert [(r.headers.get("Range"), r.status, r.body_bytes) for r in hub.requests] == [
        ("bytes=50000-", 200, len(data))
    ]
    assert pulled.path.read_bytes() == data
