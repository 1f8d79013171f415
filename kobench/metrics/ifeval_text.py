"""What IFEval's checks count and detect in a response: words, sentences, its language.

IFEval (google-research instruction_following_eval/instructions_util.py, as lm-evaluation-harness copies it
in lm_eval/tasks/ifeval/instructions_util.py) counts

- words with nltk's `RegexpTokenizer(r"\\w+")`: a plain regular expression, reproduced here exactly
  (`re.findall(r"\\w+")`; Hangul syllables are `\\w`, so a Korean word with its particles is one word and
  "3.5%" is two);
- sentences with nltk's English punkt model, which nltk downloads from outside the package index. kobench
  splits sentences with Kiwi (kiwipiepy ships its model) instead: a deviation from the published protocol,
  named in every score's signature (`sentences:kiwi...`), and punkt's English abbreviations mean nothing for
  Korean anyway;
- the response language with `langdetect.detect`, which samples at random unless seeded: kobench seeds its
  own detector (seed 0, the global one is left alone), so the same response always gets the same language.
"""

from __future__ import annotations

import re
import threading
from importlib import metadata
from typing import Any

from kobench.metrics.morphemes import KIWI_MODEL_TYPE

_WORD = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.DOTALL)  # RegexpTokenizer's flags
LANGDETECT_SEED = 0


def count_words(text: str) -> int:
    """Words as IFEval counts them: runs of word characters."""
    return len(_WORD.findall(text))


class _Lazy:
    """One instance of an expensive object (Kiwi's model, langdetect's profiles), made on first use and
    used under a lock: neither library documents its objects as thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value: Any = None


_KIWI = _Lazy()
_LANGDETECT = _Lazy()


def count_sentences(text: str) -> int:
    """Kiwi's sentences in `text` (0 for an empty one); Kiwi is loaded once (1-2 s)."""
    with _KIWI.lock:
        if _KIWI.value is None:
            from kiwipiepy import Kiwi

            _KIWI.value = Kiwi(model_type=KIWI_MODEL_TYPE, load_multi_dict=False)
        return len(_KIWI.value.split_into_sents(text))


def detect_language(text: str) -> str | None:
    """langdetect's language code for `text` (seeded), or None where it finds no features to go by (IFEval
    then counts the instruction as followed)."""
    from langdetect.lang_detect_exception import LangDetectException

    with _LANGDETECT.lock:
        if _LANGDETECT.value is None:
            from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

            factory = DetectorFactory()
            factory.load_profile(PROFILES_DIRECTORY)
            factory.set_seed(LANGDETECT_SEED)
            _LANGDETECT.value = factory
        detector = _LANGDETECT.value.create()
        detector.append(text)
        try:
            return detector.detect()
        except LangDetectException:
            return None


def missing_package(module: str) -> str | None:
    """Why `module` cannot be used here (None when it can), with the install line."""
    try:
        __import__(module)
    except ImportError:
        package = {"kiwipiepy": "kiwipiepy", "langdetect": "langdetect"}[module]
        return f"needs the package {package} (pip install {package})"
    return None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "missing"


def counting_signature() -> tuple[str, ...]:
    """How words, sentences and languages were counted: part of every IFEval score's signature."""
    return (
        "words:regex-w+",
        f"sentences:kiwi({_version('kiwipiepy')},model={_version('kiwipiepy_model')},type={KIWI_MODEL_TYPE})"
        "-not-punkt",
        f"langdetect:{_version('langdetect')},seed={LANGDETECT_SEED}",
    )
