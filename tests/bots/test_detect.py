"""/detect without a daemon: which attachments are refused before download, and the summary lines."""

from __future__ import annotations

import pytest
from imagine import types as t

from bots.detect import (
    Attachment,
    DetectRequest,
    parse_mention_text,
    summaries,
    summary,
)
from bots.policy import Refused


def test_a_summary_names_the_best_objects_first_and_groups_a_class_seen_more_than_once() -> None:
    def box(name: str, score: float) -> t.Detection:
        return t.Detection(0, name, score, 0, 0, 1, 1)

    found = t.Detections(0, 10, 10, objects=(box("dog", 0.88), box("cat", 0.4), box("person", 0.91)))
    assert summary(found) == "3 objects: person 0.91, dog 0.88, cat 0.40"
    cars = t.Detections(0, 10, 10, objects=(box("car", 0.3), box("dog", 0.5), box("car", 0.7)))
    assert summary(cars) == "3 objects: car ×2 (up to 0.70), dog 0.50"
    many = t.Detections(0, 10, 10, objects=tuple(box(f"c{n}", n / 100) for n in range(10)))
    assert summary(many).endswith(", and 2 more classes") and summary(many).startswith("10 objects: c9 0.09, c8 0.08")
    assert summary(t.Detections(0, 10, 10, objects=(box("cat", 0.5),))) == "1 object: cat 0.50"
    assert summary(t.Detections(0, 10, 10)) == "nothing found"


@pytest.mark.parametrize(("attachment", "named"), [
    (Attachment("notes.pdf", 2000, "application/pdf"), "application/pdf"),
    (Attachment("song.mp3", 2000), "audio/mpeg"),
    (Attachment("huge.png", 21 * 2**20, "image/png"), "21.0 MiB"),
])  # fmt: skip
def test_a_non_image_or_too_large_attachment_is_refused_before_download(attachment: Attachment, named: str) -> None:
    with pytest.raises(Refused, match="image: ") as refused:
        attachment.check()
    assert named in str(refused.value) and attachment.filename in str(refused.value)


def test_an_image_attachment_within_the_limit_passes() -> None:
    Attachment("cat.JPG", 2000).check()
    Attachment("cat", 2000, "image/webp").check()


def test_several_images_get_numbered_lines() -> None:
    found = t.Detections(0, 10, 10, top=(t.ClassScore(3, "tabby", 0.7),))
    outputs = [t.Output(f"o{n}", "j", n, 0, 10, 10, "", "", 0, detections=found) for n in range(2)]
    assert summaries(outputs) == "1. top classes: tabby 0.70\n2. top classes: tabby 0.70"


def test_a_mention_reads_detect_and_its_options() -> None:
    request = parse_mention_text('<@UBOT> detect --task segment --conf 0.3 --classes "person, dog" --model my-yolo')
    assert request == DetectRequest((), task="segment", conf=0.3, classes="person, dog", model="my-yolo")
    assert parse_mention_text("<@UBOT|imagine> DETECT") == DetectRequest(())
    assert parse_mention_text("<@UBOT> hello there") is None


@pytest.mark.parametrize(("text", "message"), [
    ("<@UBOT> detect --conf high", "--conf takes a number"),
    ("<@UBOT> detect --colour red", "--colour is not an option"),
    ("<@UBOT> detect cats", "“cats” is neither"),
])  # fmt: skip
def test_a_bad_mention_is_refused_naming_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(Refused, match=message):
        parse_mention_text(text)
