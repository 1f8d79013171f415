"""Text reading (OCR): read the text of an image, or of a given box. Scored by corpus CER (edits over
reference length, as a weighted mean of row CER), bag-of-characters F1 and character IoU."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kobench.extract.reading import READING_CLEANER_VERSION, clean_reading
from kobench.families.base import AnswerScore, MetricDef, ScoringSettings
from kobench.families.common import PerRow, Row, images_of
from kobench.families.items import Item
from kobench.metrics.text import (
    CER_VERSION,
    CHAR_BAG_VERSION,
    cer_counts,
    char_bag_prf,
    char_iou,
    normalize_text,
)
from kobench.tasks.spec import TaskSpec


def valid_box(value: Any) -> tuple[float, float, float, float] | str:
    """A 0-1 [x1, y1, x2, y2] box from the data, or why it is not one (a counted row failure)."""
    if not isinstance(value, list | tuple) or len(value) != 4:
        return f"box {value!r} is not [x1, y1, x2, y2]"
    try:
        x1, y1, x2, y2 = (float(v) for v in value)
    except (TypeError, ValueError):
        return f"box {value!r} is not four numbers"
    if not all(0.0 <= v <= 1.0 for v in (x1, y1, x2, y2)):
        return f"box {list(value)} is outside 0-1"
    if x2 <= x1 or y2 <= y1:
        return f"box {list(value)} has no area (x2 <= x1 or y2 <= y1)"
    return x1, y1, x2, y2


def box_text(box: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in box) + "]"


class Reading(PerRow):
    name = "ocr_read"
    roles = ("text",)
    metrics = (
        MetricDef("cer", "cer", "lower", CER_VERSION, weight="ref_len"),
        MetricDef("char_f1", "char_f1", "higher", CHAR_BAG_VERSION),
        MetricDef("char_precision", "char_precision", "higher", CHAR_BAG_VERSION),
        MetricDef("char_recall", "char_recall", "higher", CHAR_BAG_VERSION),
        MetricDef("char_iou", "char_iou", "higher", CHAR_BAG_VERSION),
    )
    default_kind = "read"

    def item(self, row: Row) -> Item:
        cols = row.cols
        target = row.get(cols.text)
        if not isinstance(target, str) or not normalize_text(target):
            return row.failed("missing reference text")
        region = None
        if cols.box and row.get(cols.box) is not None:
            region = valid_box(row.get(cols.box))
            if isinstance(region, str):
                return row.failed(region, target)
        images = images_of(row.get(cols.image))
        if isinstance(images, str):
            return row.failed(images, target)
        extra = {"box_text": box_text(region) if region else ""}
        request = row.request(images[0], "read", region=region, extra=extra)
        return row.asked(request, target)

    def score_answer(
        self, task: TaskSpec, item: Item, text: str, settings: ScoringSettings
    ) -> dict[str, AnswerScore]:
        verdicts = {}
        for pipeline, read in (
            ("protocol", normalize_text(text)),
            ("kobench", normalize_text(clean_reading(text))),
        ):
            edits, ref_len = cer_counts(read, item.target)
            precision, recall, f1 = char_bag_prf(read, item.target)
            verdicts[pipeline] = {
                "parsed": read or None,
                "cer": edits / ref_len,
                "ref_len": ref_len,
                "char_f1": f1,
                "char_precision": precision,
                "char_recall": recall,
                "char_iou": char_iou(read, item.target),
            }
        return verdicts

    def parser_names(self, task: TaskSpec) -> dict[str, str]:
        return {"protocol": "nfc-whitespace@1", "kobench": f"clean-reading@{READING_CLEANER_VERSION}"}
