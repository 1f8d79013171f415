"""An independent re-implementation of IFEval's scoring, for the tests: written from lm-evaluation-harness
(commit 4e7e0d4) lm_eval/tasks/ifeval/utils.py and instructions.py, one class per registered instruction with
IFEval's build_description / check_following split, statement by statement, and nothing from kobench.

Where the published code needs what is not installable here, the reference takes the substitute kobench
documents, written separately: sentences are counted by Kiwi's split_into_sents (IFEval: nltk punkt),
langdetect runs with its own seeded factory (IFEval: unseeded), and the constrained-response options are the
Korean adaptation's. Where IFEval draws a missing argument at random, the reference raises: the tests give
every argument.
"""

from __future__ import annotations

import collections
import functools
import json
import re

_COMPARISON_RELATION = ("less than", "at least")
_CONSTRAINED_RESPONSE_OPTIONS = ("제 답변은 예입니다.", "제 답변은 아니요입니다.", "제 답변은 아마도입니다.")


@functools.lru_cache(maxsize=1)
def _kiwi():
    from kiwipiepy import Kiwi

    return Kiwi(model_type="cong", load_multi_dict=False)


@functools.lru_cache(maxsize=1)
def _lang_factory():
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(0)
    return factory


class LangDetectException(Exception):
    pass


def langdetect_detect(text):
    from langdetect.lang_detect_exception import LangDetectException as Raised

    detector = _lang_factory().create()
    detector.append(text)
    try:
        return detector.detect()
    except Raised as exc:
        raise LangDetectException(str(exc)) from exc


def count_words(text):
    # nltk.tokenize.RegexpTokenizer(r"\w+").tokenize(text)
    tokens = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.DOTALL).findall(text)
    return len(tokens)


def count_sentences(text):
    return len(_kiwi().split_into_sents(text))


class Instruction:
    def __init__(self, instruction_id):
        self.id = instruction_id

    def get_instruction_args(self):
        return None


class ResponseLanguageChecker(Instruction):
    def build_description(self, *, language=None):
        if language is None:
            raise ValueError("random language")
        self._language = language

    def get_instruction_args(self):
        return {"language": self._language}

    def check_following(self, value):
        assert isinstance(value, str)
        try:
            return langdetect_detect(value) == self._language
        except LangDetectException:
            return True


class _Counted(Instruction):
    """Relation handling as NumberOfSentences, KeywordFrequencyChecker and NumberOfWords write it."""

    def _relation(self, relation):
        if relation is None:
            raise ValueError("random relation")
        elif relation not in _COMPARISON_RELATION:
            raise ValueError(f"{relation} is given.")
        return relation

    def _compare(self, actual, threshold):
        if self._comparison_relation == _COMPARISON_RELATION[0]:
            return actual < threshold
        elif self._comparison_relation == _COMPARISON_RELATION[1]:
            return actual >= threshold


class NumberOfSentences(_Counted):
    def build_description(self, *, num_sentences=None, relation=None):
        self._num_sentences_threshold = num_sentences
        if self._num_sentences_threshold is None or self._num_sentences_threshold < 0:
            raise ValueError("random num_sentences")
        self._comparison_relation = self._relation(relation)

    def check_following(self, value):
        return self._compare(count_sentences(value), self._num_sentences_threshold)


class PlaceholderChecker(Instruction):
    def build_description(self, *, num_placeholders=None):
        if num_placeholders is None or num_placeholders < 0:
            raise ValueError("random num_placeholders")
        self._num_placeholders = num_placeholders

    def check_following(self, value):
        placeholders = re.findall(r"\[.*?\]", value)
        num_placeholders = len(placeholders)
        return num_placeholders >= self._num_placeholders


class BulletListChecker(Instruction):
    def build_description(self, *, num_bullets=None):
        if num_bullets is None or num_bullets < 0:
            raise ValueError("random num_bullets")
        self._num_bullets = num_bullets

    def check_following(self, value):
        bullet_lists = re.findall(r"^\s*\*[^\*].*$", value, flags=re.MULTILINE)
        bullet_lists_2 = re.findall(r"^\s*-.*$", value, flags=re.MULTILINE)
        num_bullet_lists = len(bullet_lists) + len(bullet_lists_2)
        return num_bullet_lists == self._num_bullets


class ConstrainedResponseChecker(Instruction):
    def build_description(self):
        self._constrained_responses = _CONSTRAINED_RESPONSE_OPTIONS

    def check_following(self, value):
        value = value.strip()
        for constrained_response in self._constrained_responses:  # noqa: SIM110 (as published)
            if constrained_response in value:
                return True
        return False


class HighlightSectionChecker(Instruction):
    def build_description(self, *, num_highlights=None):
        if num_highlights is None or num_highlights < 0:
            raise ValueError("random num_highlights")
        self._num_highlights = num_highlights

    def check_following(self, value):
        num_highlights = 0
        highlights = re.findall(r"\*[^\n\*]*\*", value)
        double_highlights = re.findall(r"\*\*[^\n\*]*\*\*", value)
        for highlight in highlights:
            if highlight.strip("*").strip():
                num_highlights += 1
        for highlight in double_highlights:
            if highlight.removeprefix("**").removesuffix("**").strip():
                num_highlights += 1
        return num_highlights >= self._num_highlights


class SectionChecker(Instruction):
    def build_description(self, *, section_spliter=None, num_sections=None):
        self._section_spliter = (
            section_spliter.strip() if isinstance(section_spliter, str) else section_spliter
        )
        if self._section_spliter is None or num_sections is None or num_sections < 0:
            raise ValueError("random section")
        self._num_sections = num_sections

    def check_following(self, value):
        section_splitter_patten = r"\s?" + self._section_spliter + r"\s?\d+\s?"
        sections = re.split(section_splitter_patten, value)
        num_sections = len(sections) - 1
        return num_sections >= self._num_sections


class ParagraphChecker(Instruction):
    def build_description(self, *, num_paragraphs=None):
        if num_paragraphs is None or num_paragraphs < 0:
            raise ValueError("random num_paragraphs")
        self._num_paragraphs = num_paragraphs

    def check_following(self, value):
        paragraphs = re.split(r"\s?\*\*\*\s?", value)
        num_paragraphs = len(paragraphs)
        for index, paragraph in enumerate(paragraphs):
            if not paragraph.strip():
                if index == 0 or index == len(paragraphs) - 1:
                    num_paragraphs -= 1
                else:
                    return False
        return num_paragraphs == self._num_paragraphs


class PostscriptChecker(Instruction):
    def build_description(self, *, postscript_marker=None):
        self._postscript_marker = (
            postscript_marker.strip() if isinstance(postscript_marker, str) else postscript_marker
        )
        if self._postscript_marker is None:
            raise ValueError("random marker")

    def check_following(self, value):
        value = value.lower()
        if self._postscript_marker == "P.P.S":
            postscript_pattern = r"\s*p\.\s?p\.\s?s.*$"
        elif self._postscript_marker == "P.S.":
            postscript_pattern = r"\s*p\.\s?s\..*$"
        else:
            postscript_pattern = r"\s*" + self._postscript_marker.lower() + r".*$"
        postscript = re.findall(postscript_pattern, value, flags=re.MULTILINE)
        return bool(postscript)


class KeywordChecker(Instruction):
    def build_description(self, *, keywords=None):
        if not keywords:
            raise ValueError("random keywords")
        self._keywords = sorted(keywords)

    def check_following(self, value):
        for keyword in self._keywords:  # noqa: SIM110 (as published)
            if not re.search(keyword, value, flags=re.IGNORECASE):
                return False
        return True


class KeywordFrequencyChecker(_Counted):
    def build_description(self, *, keyword=None, frequency=None, relation=None):
        if not keyword:
            raise ValueError("random keyword")
        self._keyword = keyword.strip()
        self._frequency = frequency
        if self._frequency is None or self._frequency < 0:
            raise ValueError("random frequency")
        self._comparison_relation = self._relation(relation)

    def check_following(self, value):
        actual_occurrences = len(re.findall(self._keyword, value, flags=re.IGNORECASE))
        return self._compare(actual_occurrences, self._frequency)


class NumberOfWords(_Counted):
    def build_description(self, *, num_words=None, relation=None):
        self._num_words = num_words
        if self._num_words is None or self._num_words < 0:
            raise ValueError("random num_words")
        self._comparison_relation = self._relation(relation)

    def check_following(self, value):
        return self._compare(count_words(value), self._num_words)


class JsonFormat(Instruction):
    def build_description(self):
        pass

    def check_following(self, value):
        value = (
            value.strip()
            .removeprefix("```json")
            .removeprefix("```Json")
            .removeprefix("```JSON")
            .removeprefix("```")
            .removesuffix("```")
            .strip()
        )
        try:
            json.loads(value)
        except ValueError:
            return False
        return True


class ParagraphFirstWordCheck(Instruction):
    def build_description(self, num_paragraphs=None, nth_paragraph=None, first_word=None):
        self._num_paragraphs = num_paragraphs
        self._nth_paragraph = nth_paragraph
        if (
            num_paragraphs is None
            or num_paragraphs < 0
            or nth_paragraph is None
            or nth_paragraph <= 0
            or nth_paragraph > num_paragraphs
            or first_word is None
        ):
            raise ValueError("random paragraph arguments")
        self._first_word = first_word.lower()

    def check_following(self, value):
        paragraphs = re.split(r"\n\n", value)
        num_paragraphs = len(paragraphs)
        for paragraph in paragraphs:
            if not paragraph.strip():
                num_paragraphs -= 1
        if self._nth_paragraph <= num_paragraphs:
            paragraph = paragraphs[self._nth_paragraph - 1].strip()
            if not paragraph:
                return False
        else:
            return False
        first_word = ""
        punctuation = {".", ",", "?", "!", "'", '"'}
        word = paragraph.split()[0].strip()
        word = word.lstrip("'")
        word = word.lstrip('"')
        for letter in word:
            if letter in punctuation:
                break
            first_word += letter.lower()
        return num_paragraphs == self._num_paragraphs and first_word == self._first_word


class ForbiddenWords(Instruction):
    def build_description(self, forbidden_words=None):
        if not forbidden_words:
            raise ValueError("random forbidden words")
        self._forbidden_words = sorted(set(forbidden_words))

    def check_following(self, value):
        for word in self._forbidden_words:
            if re.search(r"\b" + word + r"\b", value, flags=re.IGNORECASE):
                return False
        return True


class TwoResponsesChecker(Instruction):
    def build_description(self):
        pass

    def check_following(self, value):
        valid_responses = []
        responses = value.split("******")
        for index, response in enumerate(responses):
            if not response.strip():
                if index != 0 and index != len(responses) - 1:
                    return False
            else:
                valid_responses.append(response)
        return len(valid_responses) == 2 and valid_responses[0].strip() != valid_responses[1].strip()


class RepeatPromptThenAnswer(Instruction):
    def build_description(self, *, prompt_to_repeat=None):
        if not prompt_to_repeat:
            raise ValueError("prompt_to_repeat must be set.")
        self._prompt_to_repeat = prompt_to_repeat

    def get_instruction_args(self):
        return {"prompt_to_repeat": self._prompt_to_repeat}

    def check_following(self, value):
        return bool(value.strip().lower().startswith(self._prompt_to_repeat.strip().lower()))


class EndChecker(Instruction):
    def build_description(self, *, end_phrase=None):
        self._end_phrase = end_phrase.strip() if isinstance(end_phrase, str) else end_phrase
        if self._end_phrase is None:
            raise ValueError("random end phrase")

    def check_following(self, value):
        value = value.strip().strip('"').lower()
        self._end_phrase = self._end_phrase.strip().lower()
        return value.endswith(self._end_phrase)


class TitleChecker(Instruction):
    def build_description(self):
        pass

    def check_following(self, value):
        pattern = r"<<[^\n]+>>"
        re_pattern = re.compile(pattern)
        titles = re.findall(re_pattern, value)
        return any(title.lstrip("<").rstrip(">").strip() for title in titles)


class LetterFrequencyChecker(Instruction):
    def build_description(self, *, letter=None, let_frequency=None, let_relation=None):
        if not letter or len(letter) > 1 or ord(letter.lower()) < 97 or ord(letter.lower()) > 122:
            raise ValueError("random letter")
        self._letter = letter.strip().lower()
        self._frequency = let_frequency
        if self._frequency is None or self._frequency < 0:
            raise ValueError("random frequency")
        if let_relation is None or let_relation not in _COMPARISON_RELATION:
            raise ValueError("relation")
        self._comparison_relation = let_relation

    def check_following(self, value):
        value = value.lower()
        letters = collections.Counter(value)
        if self._comparison_relation == _COMPARISON_RELATION[0]:
            return letters[self._letter] < self._frequency
        else:
            return letters[self._letter] >= self._frequency


class CapitalLettersEnglishChecker(Instruction):
    def build_description(self):
        pass

    def check_following(self, value):
        assert isinstance(value, str)
        try:
            return value.isupper() and langdetect_detect(value) == "en"
        except LangDetectException:
            return True


class LowercaseLettersEnglishChecker(Instruction):
    def build_description(self):
        pass

    def check_following(self, value):
        assert isinstance(value, str)
        try:
            return value.islower() and langdetect_detect(value) == "en"
        except LangDetectException:
            return True


class CommaChecker(Instruction):
    def build_description(self):
        pass

    def check_following(self, value):
        return not re.search(r"\,", value)


class QuotationChecker(Instruction):
    def build_description(self):
        pass

    def check_following(self, value):
        value = value.strip()
        return len(value) > 1 and value[0] == '"' and value[-1] == '"'


INSTRUCTION_DICT = {
    "keywords:existence": KeywordChecker,
    "keywords:frequency": KeywordFrequencyChecker,
    "keywords:forbidden_words": ForbiddenWords,
    "keywords:letter_frequency": LetterFrequencyChecker,
    "language:response_language": ResponseLanguageChecker,
    "length_constraints:number_sentences": NumberOfSentences,
    "length_constraints:number_paragraphs": ParagraphChecker,
    "length_constraints:number_words": NumberOfWords,
    "length_constraints:nth_paragraph_first_word": ParagraphFirstWordCheck,
    "detectable_content:number_placeholders": PlaceholderChecker,
    "detectable_content:postscript": PostscriptChecker,
    "detectable_format:number_bullet_lists": BulletListChecker,
    "detectable_format:constrained_response": ConstrainedResponseChecker,
    "detectable_format:number_highlighted_sections": HighlightSectionChecker,
    "detectable_format:multiple_sections": SectionChecker,
    "detectable_format:json_format": JsonFormat,
    "detectable_format:title": TitleChecker,
    "combination:two_responses": TwoResponsesChecker,
    "combination:repeat_prompt": RepeatPromptThenAnswer,
    "startend:end_checker": EndChecker,
    "change_case:english_capital": CapitalLettersEnglishChecker,
    "change_case:english_lowercase": LowercaseLettersEnglishChecker,
    "punctuation:no_comma": CommaChecker,
    "startend:quotation": QuotationChecker,
}


def _instruction(instruction_id, kwargs, prompt):
    instruction = INSTRUCTION_DICT[instruction_id](instruction_id)
    # Remove None values from kwargs to avoid unexpected keyword argument errors in build_description method.
    kwargs = {k: v for k, v in kwargs.items() if v}
    instruction.build_description(**kwargs)
    args = instruction.get_instruction_args()
    if args and "prompt" in args:
        instruction.build_description(prompt=prompt)
    return instruction


def test_instruction_following_strict(instruction_id_list, kwargs, prompt, response):
    is_following_list = []
    for index, instruction_id in enumerate(instruction_id_list):
        instruction = _instruction(instruction_id, kwargs[index], prompt)
        if response.strip() and instruction.check_following(response):
            is_following_list.append(True)
        else:
            is_following_list.append(False)
    return all(is_following_list), is_following_list


def test_instruction_following_loose(instruction_id_list, kwargs, prompt, response):
    r = response.split("\n")
    response_remove_first = "\n".join(r[1:]).strip()
    response_remove_last = "\n".join(r[:-1]).strip()
    response_remove_both = "\n".join(r[1:-1]).strip()
    revised_response = response.replace("*", "")
    revised_response_remove_first = response_remove_first.replace("*", "")
    revised_response_remove_last = response_remove_last.replace("*", "")
    revised_response_remove_both = response_remove_both.replace("*", "")
    all_responses = [
        response,
        revised_response,
        response_remove_first,
        response_remove_last,
        response_remove_both,
        revised_response_remove_first,
        revised_response_remove_last,
        revised_response_remove_both,
    ]
    is_following_list = []
    for index, instruction_id in enumerate(instruction_id_list):
        instruction = _instruction(instruction_id, kwargs[index], prompt)
        is_following = False
        for r in all_responses:
            if r.strip() and instruction.check_following(r):
                is_following = True
                break
        is_following_list.append(is_following)
    return all(is_following_list), is_following_list


def agg_inst_level_acc(items):
    flat_items = [item for sublist in items for item in sublist]
    return sum(flat_items) / len(flat_items)
