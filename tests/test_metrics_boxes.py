"""Box IoU, coordinate conventions and box parsers against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from kobench.extract.boxes import parse_box, parse_box_protocol, to_normalized
from kobench.metrics.boxes import box_iou, grounding_scores


def test_box_iou_partial_overlap() -> None:
    # intersection 0.25..0.5 x 0.25..0.5 = 0.0625; areas 0.25 + 0.25; union 0.4375; 0.0625 / 0.4375 = 1/7
    assert box_iou((0.0, 0.0, 0.5, 0.5), (0.25, 0.25, 0.75, 0.75)) == pytest.approx(1 / 7)
    # intersection x 0.3..0.5 (0.2) * y 0.4..0.6 (0.2) = 0.04; areas 0.4*0.4 = 0.16 and 0.6*0.4 = 0.24;
    # union 0.16 + 0.24 - 0.04 = 0.36; 0.04 / 0.36 = 1/9
    assert box_iou((0.1, 0.2, 0.5, 0.6), (0.3, 0.4, 0.9, 0.8)) == pytest.approx(1 / 9)
    # containment: intersection = inner area 0.5*0.5 = 0.25; union = outer area 1; 0.25
    assert box_iou((0.0, 0.0, 1.0, 1.0), (0.25, 0.25, 0.75, 0.75)) == pytest.approx(0.25)


def test_box_iou_edge_cases() -> None:
    assert box_iou((0.1, 0.2, 0.5, 0.6), (0.1, 0.2, 0.5, 0.6)) == pytest.approx(1.0)
    assert box_iou((0.0, 0.0, 0.5, 0.5), (0.5, 0.0, 1.0, 0.5)) == 0.0  # touching edges
    assert box_iou((0.0, 0.0, 0.2, 0.2), (0.6, 0.6, 0.8, 0.8)) == 0.0  # disjoint
    assert box_iou((0.2, 0.2, 0.2, 0.5), (0.2, 0.2, 0.2, 0.5)) == 0.0  # zero width
    assert box_iou((0.5, 0.5, 0.1, 0.1), (0.0, 0.0, 1.0, 1.0)) == 0.0  # inverted corners


def test_to_normalized_each_convention() -> None:
    assert to_normalized([0.1, 0.2, 0.5, 0.6], "normalized") == (0.1, 0.2, 0.5, 0.6)
    # 0-1000 grid: divide by 1000
    assert to_normalized([100, 250, 500, 1000], "qwen2vl") == (0.1, 0.25, 0.5, 1.0)
    # pixels of a 640 x 480 image: 64/640, 48/480, 320/640, 240/480
    assert to_normalized([64, 48, 320, 240], "pixels", 640, 480) == (0.1, 0.1, 0.5, 0.5)


def test_to_normalized_errors() -> None:
    with pytest.raises(ValueError, match="width and height"):
        to_normalized([1, 2, 3, 4], "pixels")
    with pytest.raises(ValueError, match="unknown box convention"):
        to_normalized([1, 2, 3, 4], "percent")
    with pytest.raises(ValueError, match="4 coordinates"):
        to_normalized([1, 2, 3], "normalized")


def test_parse_box_protocol() -> None:
    text = "The box is [0.1, 0.2, 0.3, 0.4] and also [0.5,0.6,0.7,0.8]"
    assert parse_box_protocol(text) == [0.1, 0.2, 0.3, 0.4]  # the first one
    assert parse_box_protocol("[10, 20, 30, 40]") == [10.0, 20.0, 30.0, 40.0]  # as is, no conversion
    assert parse_box_protocol("<think>[1, 2, 3, 4]</think>") == [1.0, 2.0, 3.0, 4.0]  # no think handling
    assert parse_box_protocol("[1, 2, 3] then [0.1, 0.2, 0.3, 0.4]") == [0.1, 0.2, 0.3, 0.4]
    assert parse_box_protocol("[1, 2, 3]") is None
    assert parse_box_protocol("(0.1, 0.2), (0.3, 0.4)") is None
    assert parse_box_protocol("모르겠습니다") is None


QWEN_BOX = (0.1, 0.2, 0.5, 0.6)  # (100, 200, 500, 600) / 1000
PIXEL_BOX = (0.1, 0.1, 0.5, 0.5)  # (64, 48, 320, 240) / (640, 480, 640, 480)


@pytest.mark.parametrize(
    ("text", "convention", "expected"),
    [
        ("[0.1, 0.2, 0.5, 0.6]", "normalized", (0.1, 0.2, 0.5, 0.6)),
        ("(0.1, 0.2, 0.5, 0.6)", "normalized", (0.1, 0.2, 0.5, 0.6)),
        ('{"bbox": [0.1, 0.2, 0.5, 0.6]}', "normalized", (0.1, 0.2, 0.5, 0.6)),
        ("(100, 200), (500, 600)", "qwen2vl", QWEN_BOX),
        (
            "<|object_ref_start|>출구<|object_ref_end|><|box_start|>(100,200),(500,600)<|box_end|>",
            "qwen2vl",
            QWEN_BOX,
        ),
        ("[[100, 200], [500, 600]]", "qwen2vl", QWEN_BOX),
        ("(100, 200)에서 (500, 600)까지", "qwen2vl", QWEN_BOX),
        ("x1=100, y1=200, x2=500, y2=600", "qwen2vl", QWEN_BOX),
        ('```json\n[{"bbox_2d": [64, 48, 320, 240], "label": "출구"}]\n```', "pixels", PIXEL_BOX),
        ('{"x_min": 64, "y_min": 48, "x_max": 320, "y_max": 240}', "pixels", PIXEL_BOX),
        ('{"x1": 64, "y1": 48, "x2": 320, "y2": 240}', "pixels", PIXEL_BOX),
    ],
)
def test_parse_box_formats(text: str, convention: str, expected: tuple[float, ...]) -> None:
    box = parse_box(text, convention, 640, 480)
    assert box == pytest.approx(expected)


def test_parse_box_think_and_repeats() -> None:
    assert parse_box("<think>maybe [0.9, 0.9, 1, 1]</think>[0.1, 0.2, 0.5, 0.6]", "normalized") == (
        pytest.approx((0.1, 0.2, 0.5, 0.6))
    )
    assert parse_box("<think>[0.1, 0.2, 0.5, 0.6]", "normalized") is None  # never finished thinking
    # the same box twice, in two forms, is one box
    assert parse_box("[100, 200, 500, 600]. 최종: (100, 200), (500, 600)", "qwen2vl") == pytest.approx(
        QWEN_BOX
    )


def test_parse_box_never_guesses() -> None:
    assert parse_box("[0.1, 0.2, 0.5, 0.6] 또는 [0.2, 0.2, 0.5, 0.6]", "normalized") is None  # two boxes
    assert parse_box("모르겠습니다", "normalized") is None
    assert parse_box("[0.1, 0.2]", "normalized") is None  # a point is not a box


def test_parse_box_malformed() -> None:
    assert parse_box("[0.5, 0.2, 0.1, 0.6]", "normalized") is None  # x2 < x1
    assert parse_box("[0.1, 0.6, 0.5, 0.2]", "normalized") is None  # y2 < y1
    assert parse_box("[0.3, 0.2, 0.3, 0.6]", "normalized") == (0.3, 0.2, 0.3, 0.6)  # zero width is kept


def test_parse_box_range_and_clipping() -> None:
    # the wrong scale is rejected, not rescaled: 100 > 1 + 0.01
    assert parse_box("[100, 200, 500, 600]", "normalized") is None
    # 0-1000 grid, tolerance 10: 1005 <= 1010 is clipped to 1000 -> 1.0; 1011 > 1010 is rejected
    assert parse_box("[100, 200, 1005, 600]", "qwen2vl") == pytest.approx((0.1, 0.2, 1.0, 0.6))
    assert parse_box("[100, 200, 1011, 600]", "qwen2vl") is None
    # 0-1, tolerance 0.01: -0.005 -> 0.0 and 1.008 -> 1.0; -0.02 is rejected
    assert parse_box("[-0.005, 0.2, 0.5, 1.008]", "normalized") == pytest.approx((0.0, 0.2, 0.5, 1.0))
    assert parse_box("[-0.02, 0.2, 0.5, 0.6]", "normalized") is None
    # pixels 640 x 480, tolerance 6.4 and 4.8: x2 646 <= 646.4 -> 1.0; y1 -4 >= -4.8 -> 0.0; 647 rejected
    assert parse_box("[64, -4, 646, 240]", "pixels", 640, 480) == pytest.approx((0.1, 0.0, 1.0, 0.5))
    assert parse_box("[64, 48, 647, 240]", "pixels", 640, 480) is None
    with pytest.raises(ValueError, match="width and height"):
        parse_box("[64, 48, 320, 240]", "pixels")


def test_grounding_scores() -> None:
    scores = grounding_scores([1.0, 0.8, 0.5, 0.3, 0.0])
    assert scores["mean_iou"] == pytest.approx(0.52)  # (1 + 0.8 + 0.5 + 0.3 + 0) / 5 = 2.6 / 5
    assert scores["share_iou_ge_0.5"] == pytest.approx(0.6)  # 1.0, 0.8, 0.5 -> 3 / 5
    assert scores["share_iou_ge_0.75"] == pytest.approx(0.4)  # 1.0, 0.8 -> 2 / 5
    assert all(math.isnan(v) for v in grounding_scores([]).values())


def test_grounding_scores_rejects_missing_boxes() -> None:
    with pytest.raises(ValueError, match="unparseable"):
        grounding_scores([0.5, float("nan")])
    with pytest.raises(ValueError):
        grounding_scores([1.2])
