"""Task files: strict validation with file/line in errors, registry, user task folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from kobench.errors import BadInputError
from kobench.tasks.registry import builtin_task_dir, load_registry, resolve_tasks
from kobench.tasks.spec import load_task_file

BUILTIN = ["k-dtcbench", "k-mmbench", "k-mmstar", "k-seed", "k-viscuit"]


def test_builtin_tasks_are_registered_with_hub_ids() -> None:
    registry = load_registry()
    assert set(BUILTIN) <= set(registry)
    assert registry["k-seed"].dataset.hub_id == "NCSOFT/K-SEED"
    assert registry["k-mmbench"].scoring.aggregate == "circular"
    assert registry["k-mmstar"].prompt.default == "ncsoft-original"


def user_task(tmp_path: Path, extra: str = "", name: str = "my-task") -> Path:
    seed = (builtin_task_dir() / "k-seed.yaml").read_text(encoding="utf-8")
    folder = tmp_path / "user-tasks"
    folder.mkdir(exist_ok=True)
    text = seed.replace("name: k-seed", f"name: {name}").replace(
        "hub_id: NCSOFT/K-SEED", "hub_id: me/my-data"
    )
    path = folder / f"{name}.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return folder


def test_user_task_folder_adds_a_task_without_python(tmp_path: Path) -> None:
    folder = user_task(tmp_path)
    specs = resolve_tasks(["my-task"], [folder])
    assert specs[0].dataset.hub_id == "me/my-data"


def test_unknown_key_names_file_and_line(tmp_path: Path) -> None:
    folder = user_task(tmp_path, extra="colour: blue\n")
    with pytest.raises(BadInputError) as err:
        load_registry([folder])
    message = str(err.value)
    assert "my-task.yaml" in message and "colour: unknown key" in message
    line = len((folder / "my-task.yaml").read_text(encoding="utf-8").splitlines())
    assert f":{line}:" in message


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    folder = user_task(tmp_path)
    path = folder / "my-task.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("size: 2971", "size: many"), encoding="utf-8")
    with pytest.raises(BadInputError, match=r"dataset\.size"):
        load_task_file(path)


def test_duplicate_task_name_is_refused(tmp_path: Path) -> None:
    folder = user_task(tmp_path, name="k-seed")
    with pytest.raises(BadInputError, match="defined twice"):
        load_registry([folder])


def test_unknown_task_lists_known_ones() -> None:
    with pytest.raises(BadInputError, match=r"unknown task.*k-nope.*k-seed"):
        resolve_tasks(["k-nope"])


def test_a_task_that_does_not_fit_its_family_names_file_line_and_key(tmp_path: Path) -> None:
    from kobench.families import load_tasks, resolve_tasks

    folder = user_task(tmp_path, extra="primary_metric: cider_d\n")
    path = folder / "my-task.yaml"
    line = len(path.read_text(encoding="utf-8").splitlines())
    expected = rf"my-task\.yaml:{line}: primary_metric: 'cider_d' is not one of"
    with pytest.raises(BadInputError, match=expected):
        load_tasks([folder])
    text = path.read_text(encoding="utf-8").replace("primary_metric: cider_d\n", "")
    path.write_text(text.replace("  question: question\n", ""), encoding="utf-8")
    expected = r"my-task\.yaml:\d+: columns: family multiple_choice needs columns\.question"
    with pytest.raises(BadInputError, match=expected):
        resolve_tasks(["my-task"], [folder])
