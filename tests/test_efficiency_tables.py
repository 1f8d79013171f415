"""Efficiency in tables and plots (issue 16, point 4): tokens.json / speed.json beside the runs, an
Efficiency table after the benchmarks, each row direction-aware (fewer tokens, more tokens per second),
a value measured under other conditions marked, and none of it in an Average."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kobench.cli import app
from kobench.efficiency import EfficiencyResult, EfficiencyValue, load_efficiency, save_efficiency
from kobench.errors import BadInputError
from kobench.report.inputs import load_inputs
from kobench.report.leaderboard import render_table
from kobench.results import load_results

OLD_RESULTS = Path(__file__).parent / "fixtures" / "results-536af2d.json"  # model "old_tiny"


def _value(metric: str, benchmark: str, value: float, direction: str, **conditions) -> EfficiencyValue:
    return EfficiencyValue(
        metric=metric,
        benchmark=benchmark,
        value=value,
        unit="tokens",
        direction=direction,  # type: ignore[arg-type]
        n=10,
        conditions=conditions,
    )


def _measured(model: str, kind: str, values: list[EfficiencyValue], at: str = "2026-12-01T00:00:00Z"):
    return EfficiencyResult(
        kind=kind,  # type: ignore[arg-type]
        model=model,
        spec=f"hf:./{model}",
        kobench_version="test",
        created_at=at,
        environment={},
        values=values,
    )


def _tokens(model: str, per_1k: float, visual: float) -> EfficiencyResult:
    return _measured(
        model,
        "tokens",
        [
            _value("tokens_per_1k_characters", "Tokens / 1k chars (constitution)", per_1k, "lower"),
            _value("visual_tokens_per_image", "Visual tokens (448×448)", visual, "lower", size="448x448"),
        ],
    )


def _speed(model: str, rate: float, device: str = "cpu") -> EfficiencyResult:
    return _measured(
        model,
        "speed",
        [_value("decode_tokens_per_second", "Decode tokens/s (batch 1)", rate, "higher", device=device)],
    )


def _markdown_rows(text: str, section: str) -> dict[str, list[str]]:
    body = text.split(f"**{section}**", 1)[1]
    rows = {}
    for line in body.splitlines():
        if line.startswith("|") and not line.startswith("|-"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[1]] = cells[2:]
    return rows


def test_an_efficiency_table_follows_the_benchmarks_with_the_best_in_each_direction() -> None:
    results = [load_results(OLD_RESULTS)]
    measured = [_tokens("old_tiny", 812.5, 256), _tokens("other", 640.0, 64), _speed("old_tiny", 30.0)]
    measured.append(_speed("other", 45.5))
    text = render_table(results, efficiency=measured)
    assert text.index("**Image benchmarks**") < text.index("**Efficiency**")
    rows = _markdown_rows(text, "Efficiency")
    header = rows.pop("Benchmark")
    assert header == ["old_tiny", "other"]  # the model measured for efficiency only gets a column
    # fewer tokens win, more tokens per second win; order: tokenizer, visual tokens, speed
    assert list(rows) == [
        "Tokens / 1k chars (constitution) ↓",
        "Visual tokens (448×448) ↓",
        "Decode tokens/s (batch 1)",
    ]
    assert rows["Tokens / 1k chars (constitution) ↓"] == ["812.5", "**640.0**"]
    assert rows["Visual tokens (448×448) ↓"] == ["256.0", "**64.0**"]
    assert rows["Decode tokens/s (batch 1)"] == ["30.0", "**45.5**"]
    assert "Average" not in rows and "| Average" not in text.split("**Efficiency**", 1)[1]


def test_efficiency_never_changes_the_average_of_the_benchmarks() -> None:
    results = [load_results(OLD_RESULTS)]
    plain = render_table(results)
    with_efficiency = render_table(
        results, efficiency=[_tokens("old_tiny", 1.0, 1.0), _speed("old_tiny", 9e9)]
    )
    assert "**Efficiency**" not in plain
    average = [line for line in plain.splitlines() if line.startswith("| Average")]
    assert len(average) == 1
    assert [line for line in with_efficiency.splitlines() if line.startswith("| Average")] == average


def test_a_value_measured_under_other_conditions_is_marked() -> None:
    text = render_table([], efficiency=[_speed("a", 10.0, device="cpu"), _speed("b", 20.0, device="cuda:0")])
    rows = _markdown_rows("**Efficiency**\n" + text, "Efficiency")
    assert rows["Decode tokens/s (batch 1)"] == ["10.0", "**20.0** †"]
    assert "other conditions than the first value in its row (device, dtype" in text


def test_the_newest_measurement_of_a_model_wins() -> None:
    older = _measured("a", "speed", [_value("ttft_ms", "TTFT ms (batch 1)", 50.0, "lower")], "2026-01-01")
    newer = _measured("a", "speed", [_value("ttft_ms", "TTFT ms (batch 1)", 40.0, "lower")], "2026-06-01")
    rows = _markdown_rows("**Efficiency**\n" + render_table([], efficiency=[newer, older]), "Efficiency")
    assert rows["TTFT ms (batch 1) ↓"] == ["40.0"]


def test_csv_rows_say_they_are_efficiency() -> None:
    text = render_table(
        [load_results(OLD_RESULTS)], efficiency=[_tokens("old_tiny", 800.0, 100.0)], fmt="csv"
    )
    rows = list(csv.reader(io.StringIO(text)))
    efficiency = [r for r in rows if r[0] == "efficiency"]
    assert [r[2] for r in efficiency] == ["Tokens / 1k chars (constitution) ↓", "Visual tokens (448×448) ↓"]
    assert efficiency[0][3] == "800.0"


def test_folders_give_their_results_and_efficiency_files(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(OLD_RESULTS, run / "results.json")
    save_efficiency(_tokens("old_tiny", 700.0, 10.0), run)
    only = tmp_path / "tokens-only"
    save_efficiency(_tokens("other", 600.0, 20.0), only)
    results, measured = load_inputs([run, only / "tokens.json"])
    assert [r.run.model.name for r in results] == ["old_tiny"]
    assert sorted(m.model for m in measured) == ["old_tiny", "other"]
    assert load_efficiency(only / "tokens.json") == measured[1]
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match=r"empty: no results\.json, tokens\.json or speed\.json"):
        load_inputs([tmp_path / "empty"])
    done = CliRunner().invoke(app, ["table", str(run), str(only)])
    assert done.exit_code == 0, done.output
    assert "**Efficiency**" in done.output and "**600.0**" in done.output


def test_a_broken_efficiency_file_names_the_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "speed.json"
    data = _speed("a", 1.0).model_dump(mode="json")
    data["values"][0]["direction"] = "sideways"
    bad.write_text(__import__("json").dumps(data), encoding="utf-8")
    with pytest.raises(BadInputError, match=r"speed.json: field values\.0\.direction"):
        load_efficiency(bad)
    done = CliRunner().invoke(app, ["table", str(bad)])
    assert done.exit_code == 4 and "values.0.direction" in done.output


def test_the_plot_draws_each_efficiency_row_on_its_own_scale(tmp_path: Path) -> None:
    from kobench.report.plot import build_figure, plot_results

    measured = [_tokens("old_tiny", 812.5, 256.0), _speed("old_tiny", 30.0), _speed("other", 45.5)]
    fig = build_figure([load_results(OLD_RESULTS)], efficiency=measured)
    bars = {
        p.get_gid(): (p.get_height(), ax)
        for ax in fig.axes
        for p in ax.patches
        if (p.get_gid() or "").startswith("bar:")
    }
    height, tokens_axis = bars["bar:Tokens / 1k chars (constitution):0"]
    assert height == 812.5
    rate, rate_axis = bars["bar:Decode tokens/s (batch 1):1"]
    assert rate == 45.5 and rate_axis is not tokens_axis
    assert tokens_axis.get_ylim()[1] == pytest.approx(812.5 * 1.12)  # its own scale, not the scores' 100
    assert rate_axis.get_ylim()[1] == pytest.approx(45.5 * 1.12)
    score_axis = bars["bar:kobench-demo:0"][1]
    assert score_axis.get_ylim()[1] == pytest.approx(112.0)
    written = plot_results([load_results(OLD_RESULTS)], tmp_path / "p.png", efficiency=measured)
    assert written[0].stat().st_size > 0


# --- The gate: efficiency ignored unless asked ---


def _run_folder(root: Path, *measured: EfficiencyResult) -> Path:
    root.mkdir(parents=True)
    shutil.copy(OLD_RESULTS, root / "results.json")
    for result in measured:
        save_efficiency(result, root)
    return root


def test_the_gate_ignores_efficiency_unless_asked(tmp_path: Path) -> None:
    base = _run_folder(tmp_path / "base", _speed("old_tiny", 100.0))
    cand = _run_folder(tmp_path / "cand", _speed("old_tiny", 10.0))  # ten times slower
    plain = CliRunner().invoke(app, ["gate", "--baseline", str(base), "--candidate", str(cand)])
    assert plain.exit_code == 0, plain.output
    assert "efficiency" not in plain.output
    asked = ["gate", "--baseline", str(base), "--candidate", str(cand), "--max-efficiency-loss", "5"]
    gated = CliRunner().invoke(app, asked)
    assert gated.exit_code == 1, gated.output
    assert "Decode tokens/s (batch 1)" in gated.output and "-90.0%" in gated.output
    assert "regression" in gated.output


def test_efficiency_gate_verdicts_by_hand() -> None:
    from kobench.report.efficiency_gate import compare_efficiency

    base = [_tokens("m", 800.0, 256.0), _speed("m", 50.0)]
    # tokens 2% fewer (better), visual tokens 10% more (worse), speed 4% slower (within 5%)
    cand = [_tokens("m", 784.0, 281.6), _speed("m", 48.0)]
    rows, notes = compare_efficiency(base, cand, max_loss_pct=5.0)
    by = {r.benchmark: r for r in rows}
    assert by["Tokens / 1k chars (constitution)"].change_pct == pytest.approx(2.0)
    assert by["Tokens / 1k chars (constitution)"].verdict == "better"
    assert by["Visual tokens (448×448)"].change_pct == pytest.approx(-10.0)
    assert by["Visual tokens (448×448)"].verdict == "regression"
    assert by["Decode tokens/s (batch 1)"].change_pct == pytest.approx(-4.0)
    assert by["Decode tokens/s (batch 1)"].verdict == "worse within tolerance"
    assert notes == []
    other_device, notes = compare_efficiency([_speed("m", 50.0)], [_speed("m", 50.0, device="cuda:0")], 5.0)
    assert (
        other_device[0].verdict == "incompatible"
        and "device: 'cpu' vs 'cuda:0'" in other_device[0].differences
    )
    rows, notes = compare_efficiency([_speed("m", 1.0)], [_tokens("m", 1.0, 1.0)], 5.0)
    assert rows == [] and notes[0] == "Decode tokens/s (batch 1) measured for the baseline only"


def test_asking_without_efficiency_files_is_a_usage_error(tmp_path: Path) -> None:
    base, cand = _run_folder(tmp_path / "b"), _run_folder(tmp_path / "c")
    done = CliRunner().invoke(
        app, ["gate", "--baseline", str(base), "--candidate", str(cand), "--max-efficiency-loss", "5"]
    )
    assert done.exit_code == 2 and "tokens.json or speed.json" in done.output
