"""The model cache's policy (budget, LRU, keep-alive, CPU tier, out of memory) with fake models.

Fake loaders of declared sizes stand in for diffusers pipelines, a fake clock for time and a
fake move for `.to(device)`, so these tests need no torch models and no GPU.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from models.errors import Cancelled, OutOfDeviceMemory
from models.loading import PipelineCache
from models.sources import ModelSource

MB = 1024 * 1024
CUDA = torch.device("cuda")  # only a name here: nothing touches a real device
CPU = torch.device("cpu")


def src(name: str) -> ModelSource:
    return ModelSource(name=name, kind="folder", location=f"/nowhere/{name}")


@dataclass
class FakePipe:
    name: str
    size: int
    device: str = "cuda"


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Harness:
    sizes: dict[str, int]
    loads: list[str] = field(default_factory=list)
    moves: list[tuple[str, str]] = field(default_factory=list)
    empties: int = 0
    clock: Clock = field(default_factory=Clock)
    resident_at_load: list[set[str]] = field(default_factory=list)
    cache: PipelineCache | None = None

    def loader(self, source: ModelSource, models_dir: Path, device: torch.device) -> FakePipe:
        self.loads.append(source.name)
        assert self.cache is not None
        self.resident_at_load.append(on_device(self.cache))
        return FakePipe(source.name, self.sizes[source.name], device.type)

    def move(self, pipe: FakePipe, device: torch.device) -> FakePipe:
        self.moves.append((pipe.name, device.type))
        pipe.device = device.type
        return pipe

    def empty_cache(self) -> None:
        self.empties += 1

    def make(self, budget: int, device: torch.device = CUDA, **kwargs: object) -> PipelineCache:
        self.cache = PipelineCache(
            Path("/nowhere"),
            device,
            budget_bytes=budget,
            loader=self.loader,
            size_of=lambda pipe: pipe.size,
            estimate=lambda source: self.sizes[source.name],
            move=self.move,
            clock=self.clock,
            empty_cache=self.empty_cache,
            **kwargs,  # type: ignore[arg-type]
        )
        return self.cache


def on_device(cache: PipelineCache) -> set[str]:
    return {m.name for m in cache.loaded() if m.tier == "device"}


def use(h: Harness, cache: PipelineCache, name: str, seconds: float = 1.0) -> float:
    """A job on `name` that takes `seconds` of fake time; returns its load_ms."""
    with cache.use(src(name)) as (pipe, load_ms):
        assert pipe.name == name and pipe.device == cache.device.type
        h.clock.advance(seconds)
    h.clock.advance(0.5)
    return load_ms


# -- budget and LRU -----------------------------------------------------------------


def test_budget_that_fits_one_model_evicts_the_other_each_time() -> None:
    h = Harness({"a": 60 * MB, "b": 60 * MB})
    cache = h.make(100 * MB)
    for name in ["a", "b", "a", "a", "b"]:
        use(h, cache, name)
        assert on_device(cache) == {name}
    assert h.loads == ["a", "b", "a", "b"]  # the second "a" in a row was already loaded
    assert h.resident_at_load == [set(), set(), set(), set()]  # evicted *before* loading: never two at once


def test_budget_that_fits_two_evicts_least_recently_used() -> None:
    h = Harness({"a": 40 * MB, "b": 40 * MB, "c": 40 * MB})
    cache = h.make(100 * MB)
    use(h, cache, "a")
    use(h, cache, "b")
    use(h, cache, "a")  # a is now more recent than b
    use(h, cache, "c")
    assert on_device(cache) == {"a", "c"}
    use(h, cache, "b")  # evicts a, the least recently used of a and c
    assert on_device(cache) == {"b", "c"}
    assert h.loads == ["a", "b", "c", "b"]


def test_second_use_of_a_loaded_model_costs_nothing() -> None:
    h = Harness({"a": 10 * MB})
    cache = h.make(100 * MB)
    assert use(h, cache, "a") > 0.0
    assert use(h, cache, "a") == 0.0
    assert h.loads == ["a"]


def test_model_in_use_is_never_evicted() -> None:
    h = Harness({"a": 60 * MB, "b": 60 * MB, "c": 60 * MB})
    cache = h.make(100 * MB)
    with cache.use(src("a")):
        use(h, cache, "b")  # does not fit beside a, but a is busy: both stay, over budget
        assert on_device(cache) == {"a", "b"}
        [a] = [m for m in cache.loaded() if m.name == "a"]
        assert a.in_use and a.keep_alive_until is None
    assert on_device(cache) == {"a", "b"}  # nothing evicts a loaded model that is used again
    assert use(h, cache, "a") == 0.0 and use(h, cache, "b") == 0.0
    use(h, cache, "c")  # needs room: both a and b are idle now, and both go
    assert on_device(cache) == {"c"}
    assert h.loads == ["a", "b", "c"]


def test_model_larger_than_the_budget_loads_alone_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    h = Harness({"small": 10 * MB, "other": 10 * MB, "huge": 500 * MB})
    cache = h.make(100 * MB)
    use(h, cache, "small")
    use(h, cache, "other")
    with caplog.at_level(logging.WARNING, logger="models.loading"):
        use(h, cache, "huge")
    assert on_device(cache) == {"huge"}
    assert "more than the whole memory budget" in caplog.text and "huge" in caplog.text


def test_measured_size_larger_than_the_estimate_still_keeps_the_budget() -> None:
    h = Harness({"a": 60 * MB, "b": 60 * MB})
    cache = PipelineCache(
        Path("/nowhere"),
        CUDA,
        budget_bytes=100 * MB,
        loader=h.loader,
        size_of=lambda pipe: pipe.size,
        estimate=lambda source: 0,  # unknown before loading (a hub model)
        move=h.move,
        clock=h.clock,
        empty_cache=h.empty_cache,
    )
    h.cache = cache
    use(h, cache, "a")
    use(h, cache, "b")
    assert on_device(cache) == {"b"}


# -- keep-alive -------------------------------------------------------------------


def test_keep_alive_starts_when_the_model_goes_idle() -> None:
    h = Harness({"a": 10 * MB})
    cache = h.make(100 * MB, keep_alive=5.0)
    with cache.use(src("a")):
        h.clock.advance(100)  # a long job: the timer is not running
        assert cache.expire() == []
        [a] = cache.loaded()
        assert a.in_use and a.keep_alive_until is None
    [a] = cache.loaded()
    assert not a.in_use and a.keep_alive_until == h.clock.now + 5.0 and a.last_used == h.clock.now
    h.clock.advance(4.9)
    assert cache.expire() == []
    h.clock.advance(0.2)
    assert cache.expire() == ["a"]
    assert cache.loaded() == [] and h.empties == 1


def test_use_refreshes_keep_alive() -> None:
    h = Harness({"a": 10 * MB})
    cache = h.make(100 * MB, keep_alive=5.0)
    use(h, cache, "a", seconds=0)
    h.clock.advance(4)
    assert use(h, cache, "a", seconds=0) == 0.0
    h.clock.advance(4)
    assert cache.expire() == []  # 8 s after the first use, 4.5 after the second
    h.clock.advance(2)
    assert cache.expire() == ["a"]


def test_keep_alive_per_load_and_forever() -> None:
    h = Harness({"a": 10 * MB, "b": 10 * MB, "c": 10 * MB})
    cache = h.make(100 * MB, keep_alive=5.0)
    assert cache.load(src("a"), keep_alive=None) > 0.0  # forever
    cache.load(src("b"), keep_alive=60.0)
    cache.load(src("c"))  # the default, 5 s
    by_name = {m.name: m for m in cache.loaded()}
    assert by_name["a"].keep_alive_until is None
    assert by_name["b"].keep_alive_until == h.clock.now + 60.0
    assert by_name["c"].keep_alive_until == h.clock.now + 5.0
    h.clock.advance(10)
    assert cache.expire() == ["c"]
    h.clock.advance(100)
    assert cache.expire() == ["b"]
    h.clock.advance(10**6)
    assert cache.expire() == [] and on_device(cache) == {"a"}
    use(h, cache, "a")  # a job keeps the keep-alive a load gave it
    h.clock.advance(10**6)
    assert cache.expire() == []
    assert cache.load(src("a"), keep_alive=1.0) == 0.0  # a new load request overrides it
    h.clock.advance(2)
    assert cache.expire() == ["a"]


def test_keep_alive_zero_unloads_at_the_next_check() -> None:
    h = Harness({"a": 10 * MB})
    cache = h.make(100 * MB, keep_alive=0.0)
    use(h, cache, "a")
    assert cache.expire() == ["a"]


def test_unload_by_name() -> None:
    h = Harness({"a": 10 * MB, "b": 10 * MB})
    cache = h.make(100 * MB)
    use(h, cache, "a")
    use(h, cache, "b")
    assert cache.unload("a") and not cache.unload("a")
    assert on_device(cache) == {"b"}


# -- the CPU RAM tier -------------------------------------------------------------


def test_evicted_model_waits_in_cpu_ram_and_comes_back_cheaply() -> None:
    h = Harness({"a": 60 * MB, "b": 60 * MB})
    cache = h.make(100 * MB, cpu_tier=True, cpu_budget_bytes=1000 * MB)
    use(h, cache, "a")
    use(h, cache, "b")
    tiers = {m.name: (m.tier, m.device) for m in cache.loaded()}
    assert tiers == {"a": ("cpu", "cpu"), "b": ("device", "cuda")}
    assert h.moves == [("a", "cpu")]
    assert use(h, cache, "a") > 0.0  # a "load", from RAM
    assert h.loads == ["a", "b"]  # not from disk again
    assert h.moves == [("a", "cpu"), ("b", "cpu"), ("a", "cuda")]  # b made room first
    assert {m.name: m.tier for m in cache.loaded()} == {"a": "device", "b": "cpu"}


def test_cpu_tier_has_its_own_budget_and_lru() -> None:
    h = Harness({"a": 60 * MB, "b": 60 * MB, "c": 60 * MB, "d": 60 * MB})
    cache = h.make(100 * MB, cpu_tier=True, cpu_budget_bytes=130 * MB)  # two fit in RAM
    for name in "abcd":
        use(h, cache, name)
    assert {m.name: m.tier for m in cache.loaded()} == {"b": "cpu", "c": "cpu", "d": "device"}
    use(h, cache, "a")  # gone from both tiers: from disk again
    assert h.loads == ["a", "b", "c", "d", "a"]
    assert {m.name: m.tier for m in cache.loaded()} == {"c": "cpu", "d": "cpu", "a": "device"}


def test_cpu_tier_entries_keep_their_keep_alive() -> None:
    h = Harness({"a": 60 * MB, "b": 60 * MB})
    cache = h.make(100 * MB, keep_alive=5.0, cpu_tier=True, cpu_budget_bytes=1000 * MB)
    use(h, cache, "a", seconds=0)
    use(h, cache, "b", seconds=0)
    h.clock.advance(4.2)  # a went idle at t+0, b at t+0.5; now t+5.2
    assert cache.expire() == ["a"]  # the one in RAM, idle longest
    h.clock.advance(1)
    assert cache.expire() == ["b"]


def test_cpu_tier_is_a_no_op_on_a_cpu_device() -> None:
    h = Harness({"a": 60 * MB, "b": 60 * MB})
    cache = h.make(100 * MB, device=CPU, cpu_tier=True, cpu_budget_bytes=1000 * MB)
    use(h, cache, "a")
    use(h, cache, "b")
    assert [m.name for m in cache.loaded()] == ["b"] and h.moves == []


# -- out of device memory ---------------------------------------------------------


def test_out_of_memory_evicts_the_others_and_retries_once() -> None:
    h = Harness({"a": 10 * MB, "b": 10 * MB, "c": 10 * MB})
    cache = h.make(100 * MB)
    use(h, cache, "a")
    use(h, cache, "b")
    calls: list[set[str]] = []

    def run() -> str:
        calls.append(on_device(cache))
        if len(calls) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return "images"

    with cache.use(src("c")):
        empties = h.empties
        assert cache.run_with_retry(src("c"), run, "1 image(s) of 1024x1024") == "images"
    assert calls == [{"a", "b", "c"}, {"c"}]
    assert h.empties == empties + 1


def test_out_of_memory_twice_is_a_clear_failure() -> None:
    h = Harness({"a": 10 * MB, "big": 300 * MB})
    cache = h.make(1000 * MB)
    use(h, cache, "a")
    attempts = 0

    def run() -> None:
        nonlocal attempts
        attempts += 1
        raise OutOfDeviceMemory("cuda:0 ran out of memory generating a 2048x2048 image")

    with cache.use(src("big")), pytest.raises(OutOfDeviceMemory) as failure:
        cache.run_with_retry(src("big"), run, "4 image(s) of 2048x2048")
    assert attempts == 2
    message = str(failure.value)
    for words in ("4 image(s) of 2048x2048", "'big'", "300.0 MB", "1 other model", "smaller width and height",
                  "lower count", "unload other models"):
        assert words in message
    assert on_device(cache) == {"big"}


def test_other_errors_are_not_retried() -> None:
    h = Harness({"a": 10 * MB, "b": 10 * MB})
    cache = h.make(100 * MB)
    use(h, cache, "a")
    attempts = 0

    def run() -> None:
        nonlocal attempts
        attempts += 1
        raise Cancelled("job cancelled after step 1 of 2")

    with cache.use(src("b")), pytest.raises(Cancelled):
        cache.run_with_retry(src("b"), run, "1 image(s) of 64x64")
    assert attempts == 1 and on_device(cache) == {"a", "b"}


def test_out_of_memory_while_loading_evicts_and_retries() -> None:
    h = Harness({"a": 10 * MB, "b": 10 * MB})
    cache = h.make(100 * MB)
    use(h, cache, "a")
    real_loader = h.loader
    failures = [torch.OutOfMemoryError("CUDA out of memory")]

    def flaky(source: ModelSource, models_dir: Path, device: torch.device) -> FakePipe:
        if failures:
            raise failures.pop()
        return real_loader(source, models_dir, device)

    cache._loader = flaky  # swap the loader after the first model is in
    use(h, cache, "b")
    assert on_device(cache) == {"b"}
