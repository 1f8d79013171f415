"""Text reading scored as CC-OCR scores it, beside kobench's reading metrics: each image's character F1 as
the CC-OCR evaluator computes it (`ccocr_macro_f1`, its mean: the primary, the number VLMEvalKit reports for
a subset and lmms-eval's `macro_f1`), lmms-eval's `micro_f1` (`ccocr_micro_f1`), then corpus CER, char F1 /
precision / recall and char IoU as in `ocr_read`.

Pipelines: protocol scores the response as the model wrote it (the CC-OCR tokeniser sees it raw; CER and
the char-bag metrics see it NFC- and whitespace-normalised, as `ocr_read`'s protocol does); kobench scores
the cleaned reading (`clean_reading`: think blocks, code fences, a preamble, wrapping quotes removed), NFC.
"""

from __future__ import annotations

from kobench.extract.reading import READING_CLEANER_VERSION, clean_reading
from kobench.families.base import AnswerScore, MetricDef, ScoringSettings
from kobench.families.items import Item
from kobench.families.reading import Reading
from kobench.metrics.ccocr import CCOCR_VERSION, ccocr_counts, ccocr_dice, ccocr_f1
from kobench.metrics.text import normalize_text
from kobench.tasks.spec import TaskSpec


class CCOCRReading(Reading):
    name = "ocr_read_ccocr"
    metrics = (
        MetricDef("ccocr_macro_f1", "ccocr_f1", "higher", CCOCR_VERSION),
        MetricDef("ccocr_micro_f1", "ccocr_dice", "higher", CCOCR_VERSION, weight="ccocr_tokens"),
        *Reading.metrics,
    )

    def score_answer(
        self, task: TaskSpec, item: Item, text: str, settings: ScoringSettings
    ) -> dict[str, AnswerScore]:
        verdicts = super().score_answer(task, item, text, settings)
        readings = {"protocol": text, "kobench": normalize_text(clean_reading(text))}
        for pipeline, read in readings.items():
            counts = ccocr_counts(read, item.target)
            dice, tokens = ccocr_dice(counts)
            verdicts[pipeline] = {
                **verdicts[pipeline],
                "ccocr_f1": ccocr_f1(counts),
                "ccocr_dice": dice,
                "ccocr_tokens": tokens,
            }
        return verdicts

    def parser_names(self, task: TaskSpec) -> dict[str, str]:
        return {"protocol": "as-written@1", "kobench": f"clean-reading@{READING_CLEANER_VERSION}"}
