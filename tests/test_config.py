"""One validated config: a bad value is refused before any work, naming the option: exit 2 on the command
line (typer), BadInputError (exit 4) from Python; the failed-row rule is the run's, not the CLI's."""

from __future__ import annotations

from pathlib import Path

import pytest
from scripted_model import ScriptedModel, register
from typer.testing import CliRunner

import kobench
from kobench.cli import app
from kobench.config import RunConfig, build_config, option_name
from kobench.errors import EXIT_BAD_INPUT, EXIT_INCOMPLETE, BadInputError

BAD_VALUES = [
    (["--batch-size", "0"], {"batch_size": 0}, "--batch-size"),
    (["--box-convention", "foo"], {"box_convention": "foo"}, "--box-convention"),
    (["--max-failed-share", "2"], {"max_failed_share": 2.0}, "--max-failed-share"),
    (["--limit", "-1"], {"limit": -1}, "--limit"),
    (["--concurrency", "0"], {"concurrency": 0}, "--concurrency"),
    (["--max-new-tokens", "0"], {"max_new_tokens": 0}, "--max-new-tokens"),
    (["--judge-concurrency", "0"], {"judge_concurrency": 0}, "--judge-concurrency"),
    (["--max-failed-judgements", "-0.1"], {"max_failed_judgements": -0.1}, "--max-failed-judgements"),
    (["--dtype", "fp8"], {"dtype": "fp8"}, "--dtype"),
]


@pytest.mark.parametrize(("argv", "_kwargs", "option"), BAD_VALUES)
def test_a_bad_value_on_the_command_line_is_a_usage_error(argv, _kwargs, option, tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["run", "--model", "chance", "--tasks", "kobench-demo", "--output", str(out), *argv]
    result = CliRunner().invoke(app, [*argv, "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 2, result.output
    assert option in result.output and "Traceback" not in result.output
    assert not out.exists() and not (tmp_path / "cache").exists()  # refused before any work


@pytest.mark.parametrize(("_argv", "kwargs", "option"), BAD_VALUES)
def test_a_bad_value_from_python_names_the_option_before_any_work(
    _argv, kwargs, option, tmp_path: Path, monkeypatch
) -> None:
    model = ScriptedModel(lambda r: "A")
    register(monkeypatch, model)
    with pytest.raises(BadInputError) as err:
        kobench.evaluate("scripted:x", "kobench-demo", cache_dir=tmp_path, output=tmp_path / "out", **kwargs)
    assert option in str(err.value) and err.value.exit_code == EXIT_BAD_INPUT
    assert model.calls == [] and not (tmp_path / "out").exists()


def test_malformed_pairs_and_judge_endpoints_are_refused_where_they_enter() -> None:
    with pytest.raises(BadInputError, match=r"--data-path: 'k-seed': expected TASK=DIR"):
        build_config(model="chance", tasks=("k-seed",), data={"data_paths": ("k-seed",)})
    with pytest.raises(BadInputError, match=r"--split-file: 'coco-ko=': expected TASK=FILE"):
        build_config(model="chance", tasks=("coco-ko",), data={"split_files": ("coco-ko=",)})
    with pytest.raises(BadInputError, match=r"--judge: bad model endpoint"):
        kobench.evaluate("chance", "k-llava-w", judge="gpt-4o@localhost:8000/v1")


def test_the_config_is_frozen_and_typed() -> None:
    config = build_config(model="chance", tasks=("kobench-demo",), options={"batch_size": 4})
    assert isinstance(config, RunConfig) and config.options.batch_size == 4
    with pytest.raises(Exception, match="frozen"):
        config.options.batch_size = 0  # type: ignore[misc]
    # what results record is the flat shape every results file has
    assert config.arguments()["batch_size"] == 4 and config.arguments()["max_failed_share"] == 0.05
    assert option_name(("options", "batch_size")) == "--batch-size"
    assert option_name(("policy", "use_cache")) == "--no-cache"


def test_too_many_failed_rows_make_the_run_incomplete_from_python_too(tmp_path: Path, monkeypatch) -> None:
    # Every fourth answer fails: 25% failed rows, above a 10% threshold.
    model = ScriptedModel(lambda r: None if int(r.id.split("-")[-1]) % 4 == 0 else "A")
    register(monkeypatch, model)
    strict = kobench.evaluate(
        "scripted:x", "kobench-demo", limit=8, cache_dir=tmp_path / "a", max_failed_share=0.1
    )
    assert strict.tasks["kobench-demo"].failed_share == 0.25 and strict.status == "incomplete"
    lenient = kobench.evaluate(
        "scripted:x", "kobench-demo", limit=8, cache_dir=tmp_path / "b", max_failed_share=0.5
    )
    assert lenient.status == "complete"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--model",
            "scripted:x",
            "--tasks",
            "kobench-demo",
            "--limit",
            "8",
            "--cache-dir",
            str(tmp_path / "c"),
            "--max-failed-share",
            "0.1",
        ],
    )
    assert result.exit_code == EXIT_INCOMPLETE, result.output
    assert "failed rows above --max-failed-share 10% in kobench-demo" in result.output
