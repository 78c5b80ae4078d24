import pytest

from models.errors import InvalidParameter
from models.lora_syntax import extract_loras


def test_tags_are_taken_out_of_the_prompt_with_their_weights() -> None:
    prompt, loras = extract_loras("a castle <lora:pixel-art:0.6>, at night <lora:Moody Light>")
    assert prompt == "a castle , at night"
    assert loras == [("pixel-art", 0.6), ("Moody Light", 1.0)]


def test_a_prompt_without_tags_is_unchanged() -> None:
    assert extract_loras("a castle, at night") == ("a castle, at night", [])


def test_keyword_weights_are_understood() -> None:
    assert extract_loras("x <lora:a:unet=0.5> <lora:b:te=0.25:unet=0.25> <LORA:c:-1>")[1] == [
        ("a", 0.5),
        ("b", 0.25),
        ("c", -1.0),
    ]


@pytest.mark.parametrize(
    ("prompt", "words"),
    [
        ("x <lora:>", "no name"),
        ("x <lora::0.5>", "no name"),
        ("x <lora:name:strong>", "not a number"),
        ("x <lora:name:0.5:0.7>", "more than one weight"),
        ("x <lora:name:te=0.5:unet=1>", "different te= and unet="),
        ("x <lora:name:dyn=4>", "unknown option 'dyn'"),
        ("x <lora:name:0.5", "not closed"),
        ("x <lora:name:nan>", "between"),
        ("x <lora:name:99>", "between"),
        ("<lora:a:1> <lora:a:0.5> x", "named twice"),
    ],
)
def test_malformed_tags_are_refused_with_a_reason(prompt: str, words: str) -> None:
    with pytest.raises(InvalidParameter, match=words) as caught:
        extract_loras(prompt)
    assert caught.value.field == "prompt"
