import pytest
from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline

from models.errors import InvalidParameter
from models.samplers import SAMPLERS, make_scheduler, sampler_label, sampler_names

REQUIRED = {"euler", "euler_a", "dpmpp_2m", "ddim", "heun", "dpm2", "dpmpp_2m_karras", "unipc", "lcm", "pndm"}


def test_required_samplers_exist() -> None:
    assert set(sampler_names()) >= REQUIRED
    assert sampler_names() == list(SAMPLERS)


@pytest.mark.parametrize("name", sampler_names())
def test_make_scheduler_builds_the_named_class(name: str, tiny_pipe: StableDiffusionPipeline) -> None:
    cls, _ = SAMPLERS[name]
    scheduler = make_scheduler(name, tiny_pipe.scheduler.config)
    assert type(scheduler) is cls
    assert scheduler.config.beta_schedule == "scaled_linear"  # the model's training settings carry over


def test_karras_only_where_asked(tiny_pipe: StableDiffusionPipeline) -> None:
    karras = make_scheduler("dpmpp_2m_karras", tiny_pipe.scheduler.config)
    assert isinstance(karras, DPMSolverMultistepScheduler) and karras.config.use_karras_sigmas
    plain = make_scheduler("dpmpp_2m", karras.config)
    assert not plain.config.use_karras_sigmas


def test_unknown_sampler_lists_the_choices(tiny_pipe: StableDiffusionPipeline) -> None:
    with pytest.raises(InvalidParameter) as info:
        make_scheduler("euler_b", tiny_pipe.scheduler.config)
    assert info.value.field == "scheduler"
    assert "'euler_b'" in str(info.value)
    assert all(name in str(info.value) for name in sampler_names())


@pytest.mark.parametrize("name", sampler_names())
def test_every_sampler_has_a_display_name(name: str) -> None:
    assert sampler_label(name) != name
