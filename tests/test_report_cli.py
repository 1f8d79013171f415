"""The `report` and `model-index` commands end to end on the committed demo results: the HTML page is
written without a local path in it, and the model-index block reads back through huggingface_hub's own
model-card parser."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from kobench.cli import app

DEMO = Path(__file__).resolve().parents[1] / "results" / "demo"


def test_kobench_report_writes_one_page_with_no_local_path(tmp_path: Path) -> None:
    out = tmp_path / "page" / "report.html"
    done = CliRunner().invoke(
        app, ["report", str(DEMO / "chance"), str(DEMO / "tiny-llava-ko"), "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    page = out.read_text(encoding="utf-8")
    assert "kobench-demo" in page and "tiny-llava-ko" in page
    assert str(Path.home()) not in page and str(DEMO) not in page
    bad = CliRunner().invoke(app, ["report", str(DEMO / "chance"), "--out", str(out), "--pipeline", "strict"])
    assert bad.exit_code == 2


def test_kobench_model_index_reads_back_through_huggingface_hub(tmp_path: Path) -> None:
    from huggingface_hub import ModelCard
    from huggingface_hub.repocard_data import model_index_to_eval_results

    done = CliRunner().invoke(app, ["model-index", str(DEMO / "chance"), "--model-name", "org/x"])
    assert done.exit_code == 0, done.output
    card = ModelCard(f"---\n{done.output}---\n\n# org/x\n")
    name, results = model_index_to_eval_results(card.data.to_dict()["model-index"])
    assert name == "org/x"
    demo = next(r for r in results if r.dataset_name == "kobench-demo")
    assert demo.metric_value == 5.0 and demo.dataset_split == "test"
    readme = tmp_path / "README.md"
    readme.write_text("---\nlicense: apache-2.0\n---\n\n# org/x\n\nMy text.\n", encoding="utf-8")
    merged = CliRunner().invoke(
        app, ["model-index", str(DEMO / "chance"), "--model-name", "org/x", "--readme", str(readme)]
    )
    assert merged.exit_code == 0 and "updated" in merged.output
    text = readme.read_text(encoding="utf-8")
    assert text.endswith("# org/x\n\nMy text.\n") and "license: apache-2.0" in text and "model-index:" in text
