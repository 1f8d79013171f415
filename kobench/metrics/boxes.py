"""Text grounding: box IoU and the grounding scores. Pure functions; values are 0-1.

A `Box` is (x1, y1, x2, y2), top-left then bottom-right corner, in 0-1 image coordinates. Reading a
box out of a response, in the model's own coordinate convention, is `kobench.extract.boxes`.
"""

from __future__ import annotations

from collections.abc import Sequence

IOU_VERSION = "1"

Box = tuple[float, float, float, float]


def box_iou(a: Box, b: Box) -> float:
    """Intersection area / union area; 0.0 when the boxes do not overlap or either has no area."""
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    if a[2] <= a[0] or a[3] <= a[1] or b[2] <= b[0] or b[3] <= b[1]:
        return 0.0
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    intersection = width * height
    return intersection / (area_a + area_b - intersection)


def grounding_scores(ious: Sequence[float]) -> dict[str, float]:
    """Mean IoU and the shares of rows with IoU >= 0.5 and >= 0.75 (nan for no rows).

    Every row must be passed in: the caller scores a prediction that gave no parseable box as IoU 0
    (the seed dropped them from the mean, which rewards refusing to answer). A value outside 0-1
    (nan included) raises ValueError, so a missing box cannot slip in as nan.
    """
    for iou in ious:
        if not 0.0 <= iou <= 1.0:
            raise ValueError(f"IoU must be in [0, 1], got {iou!r} (score an unparseable box as 0)")
    if not ious:
        nan = float("nan")
        return {"mean_iou": nan, "share_iou_ge_0.5": nan, "share_iou_ge_0.75": nan}
    n = len(ious)
    return {
        "mean_iou": sum(ious) / n,
        "share_iou_ge_0.5": sum(iou >= 0.5 for iou in ious) / n,
        "share_iou_ge_0.75": sum(iou >= 0.75 for iou in ious) / n,
    }
