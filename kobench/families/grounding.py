"""Text grounding: give the box of a given text. Scored by box IoU: mean, share >= 0.5 and >= 0.75.
An unparseable box scores 0 and is counted, never dropped. How the model writes coordinates
(0-1, Qwen2-VL's 0-1000, absolute pixels) is a setting recorded in the signature."""

from __future__ import annotations

from collections.abc import Sequence

from kobench.extract.boxes import BOX_PARSER_VERSION, parse_box, parse_box_protocol, to_normalized
from kobench.families.base import AnswerScore, MetricDef, ScoringSettings
from kobench.families.common import PerRow, Row, images_of
from kobench.families.items import Item
from kobench.families.reading import valid_box
from kobench.metrics.boxes import IOU_VERSION, box_iou
from kobench.tasks.spec import TaskSpec


class Grounding(PerRow):
    name = "ocr_grounding"
    roles = ("text", "box")
    metrics = (
        MetricDef("mean_iou", "iou", "higher", IOU_VERSION),
        MetricDef("iou_at_0.5", "iou50", "higher", IOU_VERSION),
        MetricDef("iou_at_0.75", "iou75", "higher", IOU_VERSION),
    )
    default_kind = "ground"

    def item(self, row: Row) -> Item:
        cols = row.cols
        query = row.get(cols.text)
        box = valid_box(row.get(cols.box))
        images = images_of(row.get(cols.image))
        if not isinstance(query, str) or not query.strip():
            return row.failed("missing query text")
        if isinstance(box, str):
            return row.failed(box)
        if isinstance(images, str):
            return row.failed(images)
        width = row.get(cols.width) if cols.width else None
        height = row.get(cols.height) if cols.height else None
        size = images[1] or (0, 0)
        target = {"box": list(box), "width": int(width or size[0]), "height": int(height or size[1])}
        request = row.request(images[0], "ground", question=query)
        return row.asked(request, target)

    def score_answer(
        self, task: TaskSpec, item: Item, text: str, settings: ScoringSettings
    ) -> dict[str, AnswerScore]:
        convention, size = settings.box_convention, (item.target["width"], item.target["height"])
        raw = parse_box_protocol(text)
        try:
            protocol = to_normalized(raw, convention, *size) if raw is not None else None
        except (ValueError, ZeroDivisionError):  # pixel boxes on an image of unknown size
            protocol = None
        verdicts = {}
        for pipeline, box in (("protocol", protocol), ("kobench", parse_box(text, convention, *size))):
            iou = box_iou(box, tuple(item.target["box"])) if box is not None else 0.0
            verdicts[pipeline] = {
                "parsed": list(box) if box is not None else None,
                "iou": iou,
                "iou50": float(iou >= 0.5),
                "iou75": float(iou >= 0.75),
            }
        return verdicts

    def parser_names(self, task: TaskSpec) -> dict[str, str]:
        return {"protocol": "first-bracketed-box@1", "kobench": f"kobench-box@{BOX_PARSER_VERSION}"}

    def signature_extra(self, task: TaskSpec, settings: ScoringSettings) -> Sequence[str]:
        return (f"box:{settings.box_convention}",)
