"""Bad input caught before any work (issue 18, point 6): every prompt of a run, the judge's included, is
rendered before a model is loaded, so a template that fails on any row, or would write more than a prompt
may have, ends the run with exit 4 naming the task file, the key and the row; a text file that is not UTF-8
is named with its line; options out of range are usage errors (exit 2). In every case the model is never
loaded: the adapter here fails the test if it is, and a judge or model server on loopback sees no request."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from kobench.cli import app
from kobench.config import DataOptions, JudgeOptions, ScoringOptions, build_config
from kobench.errors import BadInputError
from kobench.families import resolve_tasks
from kobench.models import registry
from kobench.models.registry import AdapterEntry
from kobench.run import run
from kobench.run.prepare import prepare_task, prompt_size
from kobench.tasks.prompt import TemplateFailed, render
from kobench.tasks.sandbox import MAX_PROMPT_CHARS
from kobench.testing.fake_openai import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[1]
MIRRORS = ROOT / "tests" / "fixtures" / "mirrors"
GOOD = "{{ question }}\nA. {{ A }}\nB. {{ B }}\n답:"
KEY = "prompt.versions.v1.template"
ROWS = (
    {"id": "q1", "question": "하늘은?", "A": "파랑", "B": "빨강", "answer": "A", "n": 1},
    {"id": "q2", "question": "바다는?", "A": "파랑", "B": "빨강", "answer": "A", "n": 0},
)


def choice_task(template: str = GOOD) -> dict[str, Any]:
    return {
        "name": "mini",
        "family": "multiple_choice",
        "modality": "text",
        "category": "Test",
        "description": "two questions",
        "source": "tests",
        "dataset": {"user_data": True, "split": "test"},
        "columns": {"id": "id", "question": "question", "answer": "answer", "options": ["A", "B"]},
        "letters": ["A", "B"],
        "prompt": {
            "default": "v1",
            "versions": {"v1": {"source": "t", "max_new_tokens": 8, "template": template}},
        },
        "scoring": {"protocol_parser": "first-char"},
    }


def judged_task(
    template: str = "{{ question }}", judge: str = "{{ question }} {{ prediction }}"
) -> dict[str, Any]:
    return {
        "name": "mini",
        "family": "judged",
        "modality": "text",
        "category": "Test",
        "description": "judged questions",
        "source": "tests",
        "dataset": {"user_data": True, "split": "test"},
        "columns": {"id": "id", "question": "question"},
        "prompt": {
            "default": "v1",
            "versions": {"v1": {"source": "t", "max_new_tokens": 8, "template": template}},
        },
        "judge": {"version": "1", "source": "t", "template": judge, "parse": "score_1_10"},
    }


def conversation_task(template: str = "{{ turn }}", judge: str = "{{ prediction }}") -> dict[str, Any]:
    task = judged_task(template, judge)
    task["columns"] = {"id": "id", "turns": "turns"}
    return task


TURNS = ({"id": "c1", "turns": ["첫 질문", "둘째 질문"], "n": 0},)


def with_version(**fields: Any) -> Callable[[dict], None]:
    def edit(task: dict) -> None:
        task["prompt"]["versions"]["v1"].update(fields)

    return edit


def with_key(*path: str, value: Any) -> Callable[[dict], None]:
    def edit(task: dict) -> None:
        node = task
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value

    return edit


@dataclass(frozen=True)
class Case:
    task: dict = field(default_factory=choice_task)
    rows: tuple = ROWS
    expect: tuple[str, ...] = ()  # fragments of the message, besides the task file's path
    edit: Callable[[dict], None] | None = None
    judged: bool = False  # pass a judge (a loopback server that must see no request)
    exit_code: int = 4


def template_case(template: str, *expect: str, row: str = "row 1 (id q1)") -> Case:
    return Case(choice_task(template), expect=(KEY, row, *expect))


CASES = {
    # Jinja runtime errors in the model's prompt: file, key and row named
    "template-zero-division": template_case("{{ 1/0 }}", "ZeroDivisionError"),
    "template-str-plus-int": template_case("{{ question + 1 }}", "TypeError", "can only concatenate"),
    "template-fails-on-row-2-only": template_case(
        "{{ question }} {{ 1 / n }}", "ZeroDivisionError", row="row 2 (id q2)"
    ),
    "template-undefined-column": template_case("{{ nope }}", "'nope' is undefined"),
    "template-undefined-attribute-call": template_case("{{ question.nope() }}", "UndefinedError"),
    "template-index-out-of-range": template_case("{{ [1][5] + 1 }}", "UndefinedError"),
    "template-int-of-text": template_case("{{ question|int + [] }}", "TypeError"),
    "template-recursion": template_case(
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "prompt template failed"
    ),
    # what would hang or exhaust memory is refused at once, naming the limit
    "template-huge-range": template_case("{% for i in range(10**9) %}x{% endfor %}", "Range too big"),
    "template-nested-ranges": template_case(
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}", "200,000 operations"
    ),
    "template-loop-writing-too-much": template_case(
        "{% for i in range(99999) %}xxxxx{% endfor %}", "the rendered text", "--max-prompt-chars"
    ),
    "template-string-repeat": template_case("{{ 'x' * 10**10 }}", "repeated value", "--max-prompt-chars"),
    "template-list-repeat": template_case("{{ (['x' * 1000] * 10**6)|join }}", "repeated value"),
    "template-huge-power": template_case("{{ 10 ** (10 ** 10) }}", "a power", "--max-prompt-chars"),
    "template-printf-width": template_case("{{ '%1000000000d' % 1 }}", "formatted value"),
    "template-format-width": template_case("{{ '{:>1000000000}'.format(1) }}", "formatted value"),
    "template-format-nested-width": template_case("{{ '{:{w}}'.format(1, w=10**9) }}", "formatted value"),
    "template-center-method": template_case("{{ question.center(10**9) }}", "str.center"),
    "template-ljust-method": template_case("{{ question.ljust(10**9) }}", "str.ljust"),
    "template-center-filter": template_case("{{ question|center(10**9) }}", "filter's result"),
    "template-indent-filter": template_case("{{ question|indent(10**9, true) }}", "filter's result"),
    "template-batch-fill": template_case("{{ [1]|batch(10**9, 0)|list }}", "filter's result"),
    "template-replace-blowup": template_case("{{ ('x' * 150000)|replace('', 'yy') }}", "replace's result"),
    "template-namespace-doubling": template_case(
        "{% set ns = namespace(x='x') %}{% for i in range(64) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}",
        "namespace attribute 'x'",
    ),
    "template-macro-doubling": template_case(
        "{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('x') }}", "a call's argument"
    ),
    "template-macro-fan-out": template_case(
        "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}", "operations"
    ),
    "template-lipsum": template_case("{{ lipsum(10**9) }}", "'lipsum' is undefined"),
    # a prompt longer than a prompt may have: the row named
    "prompt-too-long-row-2": Case(
        rows=(ROWS[0], {**ROWS[1], "question": "가" * (MAX_PROMPT_CHARS + 1)}),
        expect=(KEY, "row 2 (id q2)", f"{MAX_PROMPT_CHARS:,}", "--max-prompt-chars"),
    ),
    # the task file itself, caught as it is read
    "template-syntax-error": Case(choice_task("{% for x in %}"), expect=(KEY, "not a Jinja template")),
    "unknown-protocol-parser": Case(
        edit=with_key("scoring", "protocol_parser", value="bogus"),
        expect=("scoring.protocol_parser", "'bogus' is not a protocol parser"),
    ),
    "unknown-version-protocol-parser": Case(
        edit=with_version(protocol_parser="bogus"),
        expect=("prompt.versions.v1.protocol_parser", "'bogus' is not a protocol parser"),
    ),
    "derived-column-fails-on-a-row": Case(
        edit=with_key("derived", value={"inverse": "1 / n"}),
        expect=("derived.inverse", "row 2", "ZeroDivisionError"),
    ),
    "subtask-expression-fails": Case(
        edit=with_key("dataset", "subtasks", value={"sky": "question.nope()"}),
        expect=("dataset.subtasks.sky", "row 1", "UndefinedError"),
    ),
    # the judge's messages, rendered with a placeholder for the answer they judge
    "judge-template-fails-on-row-2": Case(
        judged_task(judge="{{ prediction }} {{ 1 / n }}"),
        expect=("judge.template", "row 2 (id q2)", "judge template failed", "ZeroDivisionError"),
        judged=True,
    ),
    "judge-template-undefined": Case(
        judged_task(judge="{{ prediction }} {{ reference }}"),
        expect=("judge.template", "row 1 (id q1)", "'reference' is undefined"),
        judged=True,
    ),
    "judge-system-fails": Case(
        judged_task(),
        edit=with_key("judge", "system", value="{{ 1 / n }}"),
        expect=("judge.system", "row 2 (id q2)", "judge system message failed"),
        judged=True,
    ),
    "judge-template-huge-range": Case(
        judged_task(judge="{% for i in range(10**9) %}{{ prediction }}{% endfor %}"),
        expect=("judge.template", "row 1", "Range too big"),
        judged=True,
    ),
    # a second turn: its prompt and its judge's (with the earlier answer a placeholder) tried before any work
    "second-turn-prompt-fails": Case(
        conversation_task(template="{% if turn_number == 2 %}{{ 1 / n }}{% endif %}{{ turn }}"),
        rows=TURNS,
        expect=(KEY, "row 1 (id c1)", "ZeroDivisionError"),
        judged=True,
    ),
    "second-turn-judge-fails": Case(
        conversation_task(
            judge="{% if turn_number == 2 %}{{ answer_1 ~ (1 / n) }}{% endif %}{{ prediction }}"
        ),
        rows=TURNS,
        expect=("judge.template", "row 1 (id c1:turn2)", "ZeroDivisionError"),
        judged=True,
    ),
}


@pytest.fixture()
def tripwire(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`--model tripwire:x`: named and fingerprinted as any adapter, but loading it fails the test."""
    loads: list[str] = []

    def load(target: str, options: Any) -> Any:
        loads.append(target)
        raise AssertionError("the model was loaded before the bad input was caught")

    entry = AdapterEntry(fingerprint=lambda target, options: "tripwire:1", load=load)
    monkeypatch.setitem(registry.BUILTIN_ADAPTERS, "tripwire", entry)
    return loads


def write_case(tmp_path: Path, task: dict, rows: tuple, edit: Callable[[dict], None] | None = None) -> Path:
    task = json.loads(json.dumps(task))  # a copy to edit
    if edit:
        edit(task)
    (tmp_path / "tasks").mkdir()
    path = tmp_path / "tasks" / "mini.yaml"
    path.write_text(yaml.safe_dump(task, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (tmp_path / "data").mkdir()
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    (tmp_path / "data" / "test.jsonl").write_text(lines, encoding="utf-8")
    return path


def invoke_args(tmp_path: Path, model: str, *extra: str) -> list[str]:
    args = ["run", "--model", model, "--tasks", "mini", "--task-dir", str(tmp_path / "tasks")]
    args += ["--data-path", f"mini={tmp_path / 'data'}", "--cache-dir", str(tmp_path / "cache")]
    return [*args, "--output", str(tmp_path / "out"), *extra]


def invoke(tmp_path: Path, model: str, *extra: str):
    return CliRunner().invoke(app, invoke_args(tmp_path, model, *extra))


def assert_caught(result: Any, exit_code: int, *fragments: str) -> None:
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a message, never a traceback
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_caught_before_the_model_loads(case: Case, tmp_path: Path, tripwire: list[str]) -> None:
    path = write_case(tmp_path, case.task, case.rows, case.edit)
    with FakeOpenAIServer() as judge:
        extra = ("--judge", f"judge@{judge.base_url}") if case.judged else ()
        result = invoke(tmp_path, "tripwire:x", *extra)
    assert_caught(result, case.exit_code, str(path), *case.expect)
    assert tripwire == [] and judge.calls == 0
    assert not (tmp_path / "out").exists()  # nothing written: no work was started


def test_a_judge_template_that_fails_only_on_a_real_answer_fails_that_judgement(tmp_path: Path) -> None:
    """Rendered with a placeholder before any work, the judge template passes; one real answer (a single
    character) then breaks it. That judgement fails, counted and its reason shown, the other is asked and
    kept, and the run ends incomplete (exit 5), never in a traceback."""
    from kobench.testing.fake_openai import Reply

    write_case(tmp_path, judged_task(judge="{{ 10 // (prediction | length - 1) }} {{ prediction }}"), ROWS)
    with (
        FakeOpenAIServer(
            lambda body, index: Reply(
                text="A" if "하늘" in json.dumps(body, ensure_ascii=False) else "좋은 답"
            )
        ) as model,
        FakeOpenAIServer(lambda body, index: Reply(text="8")) as judge,
    ):
        result = invoke(
            tmp_path, f"openai:m@{model.base_url}", "--judge", f"judge@{judge.base_url}", "--no-progress"
        )
        judge_calls = judge.calls
    assert result.exit_code == 5, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert judge_calls == 1  # the answer whose judgement could be rendered
    samples = [
        json.loads(line) for line in (tmp_path / "out" / "samples" / "mini.jsonl").open(encoding="utf-8")
    ]
    by_id = {r["id"]: r for r in samples}
    failed = by_id["q1"]["kobench"]["judgement"]
    assert failed["status"] == "failed" and failed["attempts"] == 0
    assert (
        "judge template failed on this answer" in failed["reason"] and "ZeroDivisionError" in failed["reason"]
    )
    assert by_id["q2"]["kobench"]["judgement"]["status"] == "ok"


def test_the_same_task_with_good_templates_runs(tmp_path: Path) -> None:
    """The cases' control: their task, data and options as they are, but for the fault, run to the end."""
    write_case(tmp_path, choice_task(), ROWS)
    result = invoke(tmp_path, "constant:A")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "results.json").is_file()


# --- text files that are not UTF-8 (a Korean file saved as CP949): the file and the line named -----------

NOT_UTF8 = "바다는?".encode("cp949")


def _encoded_rows(kind: str) -> bytes:
    rows = [dict(r) for r in ROWS]
    marker = "@@MARK@@"
    rows[1]["question"] = marker
    if kind == "jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    elif kind == "json":
        text = json.dumps(rows, ensure_ascii=False, indent=1)
    else:
        sep = "\t" if kind == "tsv" else ","
        text = sep.join(rows[0]) + "\n" + "".join(sep.join(str(v) for v in r.values()) + "\n" for r in rows)
    return text.encode("utf-8").replace(marker.encode("utf-8"), NOT_UTF8)


# kind -> the line of the second row's question in that layout
ENCODINGS = {
    "data-jsonl": ("jsonl", 2),
    "data-json": ("json", 12),
    "data-tsv": ("tsv", 3),
    "data-csv": ("csv", 3),
}


@pytest.mark.parametrize(("kind", "line"), ENCODINGS.values(), ids=ENCODINGS.keys())
def test_a_data_file_that_is_not_utf8_names_its_line(
    kind: str, line: int, tmp_path: Path, tripwire: list[str]
) -> None:
    write_case(tmp_path, choice_task(), ROWS)
    data = tmp_path / "data"
    (data / "test.jsonl").unlink()
    (data / f"test.{kind}").write_bytes(_encoded_rows(kind))
    result = invoke(tmp_path, "tripwire:x")
    assert_caught(result, 4, f"{data / f'test.{kind}'}: line {line}, column", "not UTF-8", "0xb9")
    assert tripwire == []


def test_a_task_file_that_is_not_utf8_names_its_line(tmp_path: Path, tripwire: list[str]) -> None:
    path = write_case(tmp_path, choice_task(), ROWS)
    text = path.read_text(encoding="utf-8").replace("two questions", "바다는?")
    path.write_bytes(text.encode("cp949"))
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if "바다는?" in ln)
    result = invoke(tmp_path, "tripwire:x")
    assert_caught(result, 4, f"{path}: line {line}, column 14", "not UTF-8")
    assert tripwire == []


def test_a_split_file_that_is_not_utf8_names_its_line(tmp_path: Path, tripwire: list[str]) -> None:
    write_case(tmp_path, choice_task(), ROWS)
    listed = tmp_path / "split.txt"
    listed.write_bytes(b"a.png\n" + NOT_UTF8 + b".png\n")
    result = invoke(tmp_path, "tripwire:x", "--split-file", f"mini={listed}")
    assert_caught(result, 4, f"{listed}: line 2, column 1", "not UTF-8")
    assert tripwire == []


def test_a_predictions_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    write_case(tmp_path, choice_task(), ROWS)
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_bytes(
        b'{"id": "q1", "prediction": "A"}\n{"id": "q2", "prediction": "' + NOT_UTF8 + b'"}\n'
    )
    args = [
        "score",
        "--task",
        "mini",
        "--task-dir",
        str(tmp_path / "tasks"),
        "--predictions",
        str(predictions),
    ]
    args += ["--data-path", f"mini={tmp_path / 'data'}", "--output", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert_caught(result, 4, f"{predictions}: line 2, column 29", "not UTF-8")
    assert not (tmp_path / "out").exists()


# --- options out of range: usage errors, before anything is read ----------------------------------------

USAGE = {
    "box-convention-bogus": (("--box-convention", "bogus"), "--box-convention"),
    "max-new-tokens-0": (("--max-new-tokens", "0"), "--max-new-tokens"),
}


@pytest.mark.parametrize(("args", "option"), USAGE.values(), ids=USAGE.keys())
def test_an_option_out_of_range_is_a_usage_error(
    args: tuple, option: str, tmp_path: Path, tripwire: list[str]
) -> None:
    write_case(tmp_path, choice_task(), ROWS)
    result = invoke(tmp_path, "tripwire:x", *args)
    assert_caught(result, 2, option)
    assert tripwire == []


# --- the prompt cap: configurable, and far above the longest built-in prompt -----------------------------


def test_the_prompt_cap_counts_the_whole_request_and_is_configurable(
    tmp_path: Path, tripwire: list[str]
) -> None:
    """Each render below the cap, the request above it (a system message sent besides): the row is named."""
    path = write_case(tmp_path, choice_task(), ROWS, with_version(system="시" * 50))
    config = build_config(
        model="tripwire:x",
        tasks=("mini",),
        data={"task_dirs": (tmp_path / "tasks",), "data_paths": (f"mini={tmp_path / 'data'}",)},
        scoring={"max_prompt_chars": 60},
        policy={"cache_dir": tmp_path / "cache", "progress": False},
    )
    with pytest.raises(BadInputError) as info:
        run(config)
    message = str(info.value)
    assert str(path) in message and KEY in message and "row 1 (id q1)" in message
    assert "the prompt has 69 characters, more than the 60" in message and "--max-prompt-chars" in message
    assert tripwire == []
    roomy = config.model_copy(update={"scoring": ScoringOptions(max_prompt_chars=10_000)})
    with pytest.raises(AssertionError, match="the model was loaded"):  # caught nothing: the model is asked
        run(roomy)


@pytest.mark.parametrize("name", ["kmmlu", "click", "haerae"])
def test_the_longest_builtin_few_shot_prompts_are_far_below_the_cap(name: str, tmp_path: Path) -> None:
    task = resolve_tasks([name])[0]
    prepared = prepare_task(
        task, DataOptions(data_dir=MIRRORS), ScoringOptions(), JudgeOptions(), tmp_path, for_scoring=False
    )
    assert prepared.version == "lm-eval-5shot" and task.prompt.versions[prepared.version].fewshot == 5
    longest = max(prompt_size(item) for item in prepared.items)
    assert 300 < longest < MAX_PROMPT_CHARS / 100  # the fixtures' 5-shot prompts: hundreds of characters


# --- the sandbox itself: what a template may not do, refused without rendering it -------------------------

REFUSED = {
    "repeat": "{{ 'ab' * 100001 }}",
    "repeat-list-of-long-strings": "{{ ['x' * 1000] * 1000 }}",
    "power": "{{ 7 ** 1000000 }}",
    "zfill": "{{ 'x'.zfill(10**9) }}",
    "expandtabs": "{{ '\\t'.expandtabs(10**9) }}",
    "join-method": "{{ ''.join(['x' * 100000] * 2 + ['y']) ~ ''.join(['x' * 150000, 'x' * 150000]) }}",
    "format-map": "{{ '{a:>{w}}'.format_map({'a': 1, 'w': 10**9}) }}",
    "printf-star": "{{ '%*d' % (10**9, 1) }}",
}


@pytest.mark.parametrize("template", REFUSED.values(), ids=REFUSED.keys())
def test_the_sandbox_refuses_what_would_exhaust_memory(template: str) -> None:
    with pytest.raises(TemplateFailed, match="--max-prompt-chars"):
        render(template, {}, [])


def test_ordinary_templates_render_as_before() -> None:
    template = "{% for o in options %}{{ o.letter }}. {{ o.text }}\n{% endfor %}"
    template += "{{ '%03d' % n }} {{ 'ab' * 2 }} {{ 2 ** 10 }} {{ '{:>4}'.format(n) }}"
    assert render(template, {"n": 7}, [("A", "하나"), ("B", "둘")]) == "A. 하나\nB. 둘\n007 abab 1024    7"


def test_a_real_cli_run_against_a_loopback_model_server_sends_it_nothing(tmp_path: Path) -> None:
    """The real command in its own process: exit 4 on stderr, one line, and the model's server sees no
    request, neither a completion nor a listing of its models."""
    write_case(tmp_path, choice_task("{{ question }} {{ 1 / n }}"), ROWS)
    with FakeOpenAIServer() as server:
        out = subprocess.run(
            [sys.executable, "-m", "kobench", *invoke_args(tmp_path, f"openai:m@{server.base_url}")],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
    assert out.returncode == 4, out.stderr
    assert "Traceback" not in out.stderr and "row 2 (id q2)" in out.stderr and KEY in out.stderr
    assert server.calls == 0
