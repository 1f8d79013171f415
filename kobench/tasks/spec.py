"""TaskSpec: a benchmark as validated data. Unknown keys and wrong types are errors with the YAML line."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from jinja2 import Environment, TemplateSyntaxError
from jinja2.parser import Parser
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from kobench.errors import BadInputError
from kobench.files.text import read_utf8


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _as_alternatives(value: Any) -> Any:
    # A column may be named by one string or by a list of alternatives (first present wins),
    # so one task file reads both the Hub layout and an upstream layout of the same data.
    return [value] if isinstance(value, str) else value


# Only to check an expression's syntax (kobench.tasks.prompt, which imports this module, evaluates it).
_SYNTAX = Environment()


def _parses(expression: str) -> str:
    # Checked when the task file is read, so a typo names its file, line and key before any data is read.
    # Environment.compile_expression's own parse, without compiling (which would also look up filters).
    try:
        parser = Parser(_SYNTAX, expression, state="variable")
        parser.parse_expression()
        if not parser.stream.eos:
            raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno)
    except TemplateSyntaxError as exc:
        raise ValueError(f"not a Jinja expression: {exc.message}") from exc
    return expression


# A Jinja expression over a row (its columns as names, and `row[...]`), as kobench.tasks.prompt evaluates it.
Expression = Annotated[str, AfterValidator(_parses)]


def _template_parses(template: str) -> str:
    # A template's syntax, checked as the file is read (its errors at render time name the row: prepare).
    try:
        _SYNTAX.parse(template)
    except TemplateSyntaxError as exc:
        raise ValueError(f"not a Jinja template: {exc.message} (template line {exc.lineno})") from exc
    return template


# A Jinja template over a row, as kobench.tasks.prompt renders it.
Template = Annotated[str, AfterValidator(_template_parses)]


class DatasetSpec(_Strict):
    hub_id: str | None = Field(default=None, pattern=r"^[\w.-]+/[\w.-]+$")
    user_data: bool = False  # no public dataset: the user points the task at their own (--data-path)
    split: str
    subset: str | None = None
    # Several configs read as one task, in this order, each row tagged with its config in the column
    # `subset` (KMMLU's 45 subjects, HAE-RAE's 5 parts: lm-eval runs each as a subtask).
    subsets: list[str] | None = None
    # Subtasks that each keep some rows of the same split, as lm-eval subtasks filter one split with their
    # own `process_docs`: subtask name -> an expression, true for the rows that subtask keeps. A row is read
    # once per subtask that keeps it (so twice where two do, never where none does), tagged with the name in
    # the column `subtask`, subtask after subtask in this order, rows in file order (CLIcK's 11 subtasks).
    subtasks: dict[str, Expression] | None = None
    # Where few-shot examples come from (a prompt version with `fewshot`), when not `split` itself.
    fewshot_split: str | None = None
    # The Hub revision read: a commit where a public source names one; "unpinned" where none does (the
    # commit resolved when the data is loaded from the Hub is recorded in every result, dataset.revision).
    revision: str | None = None
    size: int | None = None
    license: str | None = None
    generator: str | None = None  # a built-in generator that can write this dataset (no download)
    # Where a task without a Hub copy looks under --data-dir (DATA_DIR/<local_dir>/), e.g. coco-ko.
    local_dir: str | None = Field(default=None, pattern=r"^[\w.-]+$")
    # How the files in that folder are laid out: "auto" detects parquet/TSV/JSON(L)/save_to_disk;
    # the others are the layouts users already have (kobench/data/layouts.py), tried first when present.
    layout: Literal["auto", "aihub-coco-ko", "xm3600", "komt-bench"] = "auto"
    # A column whose cell holds a list of records (or its Python/JSON literal): each record is read as a row
    # of its own, with the row's other columns, the record's keys and `record` (its position in the list),
    # after `subtasks` and before `derived` (MTVQA's qa_pairs, as lmms-eval flattens them: data/records.py).
    records: str | None = None

    @model_validator(mode="after")
    def _has_a_source(self) -> DatasetSpec:
        if self.hub_id is None and not self.user_data:
            raise ValueError(
                "dataset needs hub_id (or user_data: true for a task run on the user's own data)"
            )
        if self.subset is not None and self.subsets is not None:
            raise ValueError("give either dataset.subset or dataset.subsets, not both")
        if self.subsets is not None and (not self.subsets or len(set(self.subsets)) != len(self.subsets)):
            raise ValueError("dataset.subsets must name each config once")
        if self.subtasks is not None and not self.subtasks:
            raise ValueError("dataset.subtasks must name at least one subtask")
        return self

    @property
    def configs(self) -> list[str | None]:
        """The configs read, in order (one None: the dataset's only or default config)."""
        return list(self.subsets) if self.subsets is not None else [self.subset]


# The roles a column may play (all but `options` and `breakdown`, which are lists of columns anyway).
COLUMN_ROLES = (
    "id",
    "image",
    "question",
    "answer",
    "answers",
    "text",
    "references",
    "box",
    "width",
    "height",
    "options_list",
    "instructions",  # instruction following: the row's instruction ids (IFEval's instruction_id_list)
    "instruction_kwargs",  # and their arguments, one mapping per instruction (IFEval's kwargs)
    "turns",  # a conversation's user turns, asked one after another (MT-Bench)
)


class ColumnsSpec(_Strict):
    """Which dataset column plays which role; each family says which roles it needs."""

    id: list[str] | None = None
    image: list[str] | None = None  # every task of modality "image" names it; text tasks have none
    question: list[str] | None = None
    answer: list[str] | None = None  # one answer (a letter for multiple choice)
    answers: list[str] | None = None  # a list of accepted answers (document/chart VQA)
    text: list[str] | None = None  # text to read (OCR) or to find (grounding)
    references: list[str] | None = None  # a list of reference captions (captioning)
    box: list[str] | None = None  # [x1, y1, x2, y2] in 0-1: the region to read, or the box to find
    width: list[str] | None = None  # image size in pixels, for the absolute-pixel box convention
    height: list[str] | None = None
    options: list[str] | None = None  # one column per option letter, in letter order
    options_list: list[str] | None = None  # one column holding the list of option texts
    instructions: list[str] | None = None  # a list of instruction ids to check (instruction following)
    instruction_kwargs: list[str] | None = None  # a list of the instructions' arguments, in their order
    turns: list[str] | None = None  # a list of user turns: one request per turn, each after the answers
    breakdown: list[str] = []  # category columns reported separately (data_type, category, ...)

    _alternatives = field_validator(*COLUMN_ROLES, mode="before")(_as_alternatives)

    @model_validator(mode="after")
    def _one_option_source(self) -> ColumnsSpec:
        if self.options is not None and self.options_list is not None:
            raise ValueError("give either columns.options or columns.options_list, not both")
        return self


class PromptVersion(_Strict):
    template: Template
    max_new_tokens: int | None = Field(default=None, gt=0)  # every generating version names it
    stop: list[str] = []
    system: str | None = None
    source: str  # where the exact string comes from
    # Multiple choice: the published parser that goes with this prompt, where it is not
    # scoring.protocol_parser (K-MMStar's lmms-eval-0.7.2 prompt: lmms-eval v0.7.2's extract_mcq_answer).
    protocol_parser: str | None = None
    # How the answer is had: "generate" (the model writes it; a parser reads it) or "loglikelihood" (each
    # choice is scored as a continuation of the prompt; the likeliest is the answer: lm-evaluation-harness's
    # `output_type: multiple_choice`). The fields below are lm-eval's names for the same things.
    method: Literal["generate", "loglikelihood"] = "generate"
    # Log-likelihood: the choices (doc_to_choice), a list of strings or a Jinja expression over the row that
    # gives one; the target (doc_to_target), a Jinja expression giving the gold choice's index or its text.
    choices: list[str] | str | None = None
    target: str | None = None
    target_delimiter: str = " "  # between the prompt and each choice (and a few-shot example's answer)
    fewshot: int = Field(default=0, ge=0)  # examples before the question (`--num_fewshot`)
    fewshot_delimiter: str = "\n\n"  # after each example
    fewshot_seed: int = 1234  # lm-eval's default `fewshot_random_seed`
    # Examples come from rows with the same value in this column (a subject's own dev split), and each such
    # group draws from its own random generator, as each lm-eval subtask does.
    fewshot_within: str | None = None

    @model_validator(mode="after")
    def _method_fields(self) -> PromptVersion:
        if self.method == "generate":
            if self.max_new_tokens is None:
                raise ValueError("a generating prompt version needs max_new_tokens")
            if self.choices is not None or self.target is not None or self.fewshot:
                raise ValueError("choices, target and fewshot belong to method: loglikelihood")
        elif self.choices is None or self.target is None:
            raise ValueError("method: loglikelihood needs choices and target")
        return self


class PromptSpec(_Strict):
    default: str
    versions: dict[str, PromptVersion]

    @model_validator(mode="after")
    def _default_exists(self) -> PromptSpec:
        if self.default not in self.versions:
            raise ValueError(f"prompt.default {self.default!r} is not one of prompt.versions")
        return self


BoxConvention = Literal["normalized", "qwen2vl", "pixels"]


class ScoringSpec(_Strict):
    protocol_parser: str | None = None  # multiple choice: a name in kobench.extract.protocol.PROTOCOL_PARSERS
    aggregate: Literal["mean", "macro", "circular"] = "mean"
    macro_over: str | None = None  # column whose groups are averaged with equal weight
    answer_format: Literal["letter", "index", "auto"] = "letter"
    box_convention: BoxConvention = "normalized"  # how box answers are read unless --box-convention says
    # Multiple choice: what the task reports besides accuracy, as its published metric_list does
    # (accuracy_norm: log-likelihood versions only; macro_f1: KoBEST's f1 with average "macro").
    metrics: list[Literal["accuracy_norm", "macro_f1"]] = []

    @model_validator(mode="after")
    def _macro_needs_column(self) -> ScoringSpec:
        if self.aggregate == "macro" and not self.macro_over:
            raise ValueError("scoring.aggregate 'macro' needs scoring.macro_over")
        return self


class JudgeSpec(_Strict):
    """An LLM judge's protocol: byte-exact messages, how its verdict is read, its judge of record."""

    version: str
    source: str  # where the exact strings come from
    default_model: str | None = None  # the judge of record the published numbers used (never called silently)
    system: Template | None = None
    template: Template  # Jinja: row columns, `prediction`, `variables`; `| lines` joins a list with newlines
    variables: dict[str, str] = {}  # long protocol constants (a rubric) the template names
    parse: Literal["two_scores", "score_1_10", "binary", "true_false", "koffvqa", "checklist", "mt_bench"]
    temperature: float = 0.0
    # null: the request names no limit (KMMMU's judge call sends none; reasoning models refuse max_tokens)
    max_tokens: int | None = Field(default=1024, gt=0)
    attempts: int = Field(default=3, ge=1)  # fresh calls per judgement when a call fails or is unparseable
    # Rule stages that decide some answers before the judge sees them (kobench.judge.rules, by name):
    # KMMMU's boxed answer, then Math-Verify equivalence; the judge gets the rest.
    rules: str | None = None


class TaskSpec(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    family: Literal[
        "multiple_choice",
        "ocr_read",
        "ocr_grounding",
        "doc_vqa",
        "caption",
        "judged",
        "text_vqa",
        "ocr_read_ccocr",
        "instruction_following",
        "math",
    ]
    # What the rows hold besides text: tables group by it first (a model card's image table and its text
    # table), then by category, so a text benchmark is never averaged with image ones.
    modality: Literal["image", "text"] = "image"
    category: str  # leaderboard group, e.g. "General", "Document", "Culture"
    description: str
    source: str  # citation: paper / dataset card / evaluation code
    dataset: DatasetSpec
    columns: ColumnsSpec
    letters: list[str] = ["A", "B", "C", "D"]
    min_options: int | None = None  # default: every letter must have an option
    # Which option values are options, as the published code treats them (multiple choice):
    # "kobench": None, NaN, "" and the string "nan" are no option (tasks with no published code to follow);
    # "every-column": only a missing value (None, NaN) is no option, "" and "nan" are options as written
    #   (K-SEED, K-DTCBench: their doc_to_text formats every column, whatever it holds);
    # "mmbench": the prompt shows a value that is true, not NaN and not "nan" (create_options_prompt);
    #   the protocol's text matcher sees every value that is not NaN, "" and "nan" too (build_choices).
    option_values: Literal["kobench", "every-column", "mmbench"] = "kobench"
    prompt: PromptSpec
    scoring: ScoringSpec = ScoringSpec()
    primary_metric: str | None = None  # one of the family's metrics; default: the family's first
    judge: JudgeSpec | None = None  # the judged family: how an LLM judges each answer
    # The request kind (what an adapter is asked to do); default by family.
    kind: Literal["choice", "read", "ground", "open", "caption"] | None = None
    # Columns computed from each row before anything reads it: name -> a Jinja expression over the row
    # (KMMLU's supercategory, from its subject; CLIcK's lm-eval group, from its `dataset.subtasks` subtask).
    derived: dict[str, str] = {}
    path: str | None = Field(default=None, exclude=True)
    # The prompt version a run uses, set by `for_prompt_version` (None: the default).
    run_version: str | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _judge_and_parser(self) -> TaskSpec:
        # Whether the columns and the primary metric fit the family is the family's to check
        # (kobench.families.check_fits): a spec knows no family.
        if (self.family == "judged") != (self.judge is not None):
            raise ValueError("a judged task needs `judge:`, and only judged tasks take one")
        generating = [v for v in self.prompt.versions.values() if v.method == "generate"]
        if self.family == "multiple_choice" and generating and not self.scoring.protocol_parser:
            raise ValueError("multiple_choice tasks need scoring.protocol_parser")
        if self.family != "multiple_choice" and len(generating) < len(self.prompt.versions):
            raise ValueError("only multiple_choice tasks take a prompt version with method: loglikelihood")
        if self.family != "multiple_choice" and any(v.protocol_parser for v in self.prompt.versions.values()):
            raise ValueError("only multiple_choice tasks take a prompt version's protocol_parser")
        return self

    @model_validator(mode="after")
    def _modality_fits_columns(self) -> TaskSpec:
        if self.modality == "image" and self.columns.image is None:
            raise ValueError("columns.image: Field required (a task of modality text has no image column)")
        if self.modality == "text" and self.columns.image is not None:
            raise ValueError("a task of modality text has no columns.image")
        text_families = ("multiple_choice", "instruction_following", "judged", "math")
        if self.modality == "text" and self.family not in text_families:
            raise ValueError(f"family {self.family} has no text-only tasks yet (multiple_choice has)")
        return self

    @model_validator(mode="after")
    def _one_column_per_letter(self) -> TaskSpec:
        if self.columns.options is not None and len(self.columns.options) != len(self.letters):
            raise ValueError(
                f"columns.options names {len(self.columns.options)} columns for "
                f"{len(self.letters)} letters {self.letters}"
            )
        return self

    @property
    def required_options(self) -> int:
        return self.min_options if self.min_options is not None else len(self.letters)

    def protocol_parser_for(self, version: str) -> str | None:
        """The published parser that scores answers to prompt version `version`."""
        return self.prompt.versions[version].protocol_parser or self.scoring.protocol_parser

    def for_prompt_version(self, version: str) -> TaskSpec:
        """The task as run with prompt version `version`: `running` is that version, and
        scoring.protocol_parser that version's parser, so everything that scores or names the protocol
        pipeline (and so the signature) sees it."""
        parser = self.protocol_parser_for(version)
        if parser == self.scoring.protocol_parser and version == (self.run_version or self.prompt.default):
            return self
        return self.model_copy(
            update={
                "scoring": self.scoring.model_copy(update={"protocol_parser": parser}),
                "run_version": version,
            }
        )

    @property
    def running(self) -> PromptVersion:
        """The prompt version a run uses: the one `for_prompt_version` chose, else the default."""
        return self.prompt.versions[self.run_version or self.prompt.default]


# libyaml's loader where PyYAML was built with it: every run reads every task file, and the pure-Python
# loader alone was about 8% of a short run's wall time.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Follow a pydantic error location through the composed YAML to the line it points at."""
    line = None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == key), None)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line


@functools.lru_cache(maxsize=512)
def parse_task(text: str, path: str) -> TaskSpec:
    """Validate one task file's text. Raises BadInputError naming the file, line and key.

    Memoised on (text, path): a frozen spec is a pure function of both, and every run resolves its tasks from
    the whole registry, so a process that runs several (a notebook, a sweep, `kobench.evaluate` in a loop)
    parsed all 42 built-in files each time (~30 ms a run)."""
    try:
        data = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        raise BadInputError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: a task file must be a YAML mapping")
    try:
        return TaskSpec.model_validate({**data, "path": path})
    except ValidationError as exc:
        node = yaml.compose(text, Loader=_SafeLoader)  # only now: the lines the errors point at
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            line = _line_of(node, loc)
            key = ".".join(str(p) for p in loc) or "(top level)"
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{path}:{line or '?'}: {key}: {msg}")
        raise BadInputError("invalid task file\n" + "\n".join(problems)) from None


def key_line(path: str | None, loc: tuple[Any, ...]) -> int | None:
    """The line of the key at `loc` in the task file at `path` (None when unknown)."""
    try:
        text = read_utf8(Path(path)) if path else None
        return _line_of(yaml.compose(text, Loader=_SafeLoader), loc) if text is not None else None
    except (OSError, yaml.YAMLError, BadInputError):
        return None


def load_task_file(path: Path) -> TaskSpec:
    try:
        text = read_utf8(path)  # BadInputError naming the line that is not UTF-8
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read task file: {exc}") from exc
    return parse_task(text, str(path))
