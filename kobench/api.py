"""The Python entry points (for notebooks and scripts); the CLI calls exactly these."""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kobench.config import build_config, default_cache_dir
from kobench.errors import BadInputError
from kobench.llm.endpoint import Endpoint
from kobench.results import RunResult


@contextmanager
def refusing_unsafe_weights(model: str) -> Iterator[None]:
    """A pickled weights file that would run code as it loads (a `__reduce__` payload), or is no pickle of
    tensors at all, is refused by torch's weights-only loader: said in one line naming the model and what
    the loader found (exit 4), not as a traceback. Nothing of it ran."""
    try:
        yield
    except pickle.UnpicklingError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        boilerplate = ("Weights only load failed", "Check the documentation", "Please file an issue")
        found = [line for line in lines if not line.startswith(boilerplate)]
        raise BadInputError(
            f"--model {model}: its weights were refused, not loaded: torch's safe loader found a pickle that"
            f" is not plain tensors ({(found or lines or ['?'])[-1][:160]}): a file that would run code as it"
            " loads, or a damaged one. Use weights you trust; safetensors files cannot run code"
        ) from None


def writable_folder(output: str | Path | None) -> None:
    """`kobench tokens` / `speed --output DIR`: a folder that can be made and written, checked before any
    work (a file of that name, a read-only place: one line, exit 4)."""
    if output is None:
        return
    if Path(output).exists() and not Path(output).is_dir():
        raise BadInputError(f"--output {output}: a file, not a folder")
    try:
        Path(output).mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=output).close()
    except OSError as exc:
        raise BadInputError(f"--output {output}: cannot write there ({exc.strerror or exc})") from None


def evaluate(
    model: str,
    tasks: str | Sequence[str],
    *,
    output: str | Path | None = None,
    data_dir: str | Path | None = None,
    limit: int | None = None,
    batch_size: int | str = 8,
    device_map: str | None = None,
    task_dirs: Sequence[str | Path] = (),
    data_revision: str | None = None,
    data_paths: Sequence[str] = (),
    dtype: str = "auto",
    device: str = "auto",
    trust_remote_code: bool = False,
    model_revision: str | None = None,
    max_new_tokens: int | None = None,
    prompt_versions: Sequence[str] = (),
    box_convention: str | None = None,
    split_files: Sequence[str] = (),
    embedder: str | None = None,
    max_prompt_chars: int | None = None,
    judge: str | None = None,
    judge_api_key_env: str = "OPENAI_API_KEY",
    judge_concurrency: int = 16,
    max_failed_judgements: float = 0.05,
    concurrency: int | str = "auto",
    max_concurrency: int | None = None,
    vllm: Mapping[str, Any] | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    request_timeout: float = 120.0,
    max_retry_after: float = 60.0,
    modalities: Sequence[str] = ("text", "image"),
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    max_tiles: int | None = None,
    system_prompt: str | None = None,
    generation_defaults: str = "greedy",
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    overwrite: bool = False,
    max_failed_share: float = 0.05,
    max_truncated_share: float | None = None,
    progress: bool = False,
) -> RunResult:
    """Evaluate `model` ("hf:PATH_OR_ID") on `tasks` and return the results object.

    `data_dir` defaults to $KOBENCH_DATA_DIR: local copies are looked for at DATA_DIR/<owner>/<name>/
    before the Hub. With `output`, results.json and samples/<task>.jsonl are written there and a
    re-run resumes. See `kobench run --help` for every option. A bad value (batch_size=0, a share outside
    0-1, an unknown box convention) raises BadInputError naming the option before any work; a run with
    more failed rows than `max_failed_share` (or, where set, more answers cut off at max_new_tokens than
    `max_truncated_share` in a task) comes back with status "incomplete". `modalities` says what an API
    model takes; a model that takes no images is refused image tasks before any work. `vllm` holds the
    `vllm:` adapter's engine options (kobench.config.VLLMOptions: python, tensor_parallel_size, ...).
    `min_pixels`, `max_pixels`, `max_tiles`, `system_prompt` and `generation_defaults` ("greedy", "card",
    "checkpoint") are the hf adapter's per-family settings (kobench.models.family_settings).

    >>> result = evaluate("hf:./my-model", "k-seed,k-dtcbench", data_dir="./mirror", limit=50)
    >>> result.primary("k-seed").value        # accuracy in percent, kobench pipeline
    """
    from kobench.run import run

    names = tuple(tasks.split(",")) if isinstance(tasks, str) else tuple(tasks)
    try:
        endpoint = Endpoint.parse(judge, judge_api_key_env) if judge else None
    except BadInputError as exc:
        raise BadInputError(f"--judge: {exc}") from None
    config = build_config(
        model=model,
        tasks=names,
        output=Path(output) if output else None,
        data={
            "task_dirs": tuple(Path(p) for p in task_dirs),
            "data_dir": _data_dir(data_dir),
            "data_revision": data_revision,
            "data_paths": tuple(data_paths),
            "split_files": tuple(split_files),
            "limit": limit,
        },
        options={
            "dtype": dtype,
            "device": device,
            "trust_remote_code": trust_remote_code,
            "revision": model_revision,
            "batch_size": batch_size,
            "device_map": device_map,
            "concurrency": concurrency,
            "max_concurrency": max_concurrency,
            "vllm": dict(vllm or {}),
            "api_key_env": api_key_env,
            "request_timeout": request_timeout,
            "max_retry_after": max_retry_after,
            "modalities": tuple(modalities),
            "min_pixels": min_pixels,
            "max_pixels": max_pixels,
            "max_tiles": max_tiles,
            "system_prompt": system_prompt,
            "generation_defaults": generation_defaults,
        },
        scoring={
            "prompt_versions": tuple(prompt_versions),
            "max_new_tokens": max_new_tokens,
            "box_convention": box_convention,
            "embedder": embedder,
            "max_prompt_chars": max_prompt_chars,
        },
        judge={
            "endpoint": endpoint,
            "concurrency": judge_concurrency,
            "max_failed_share": max_failed_judgements,
            "max_retry_after": max_retry_after,
        },
        policy={
            "cache_dir": Path(cache_dir) if cache_dir else default_cache_dir(),
            "use_cache": use_cache,
            "overwrite": overwrite,
            "max_failed_share": max_failed_share,
            "max_truncated_share": max_truncated_share,
            "progress": progress,
        },
    )
    with refusing_unsafe_weights(model):
        return run(config)


def token_efficiency(
    models: Sequence[str],
    *,
    corpora: Sequence[str | Path] = (),
    tasks: Sequence[str] = (),
    data_dir: str | Path | None = None,
    task_dirs: Sequence[str | Path] = (),
    limit: int | None = None,
    reference: str | None = None,
    trust_remote_code: bool = False,
    fmt: str = "github",
    cache_dir: str | Path | None = None,
    builtin_corpus: bool = True,
    image_sizes: str | Sequence[tuple[int, int]] = "448x448,896x896,1280x720",
    output: str | Path | None = None,
) -> str:
    """The `kobench tokens` tables: each model's tokenizer (hf:PATH_OR_ID, or tiktoken:[NAME=]PATH for a
    local tiktoken encoding) on the Constitution of the Republic of Korea that ships with kobench (unless
    `builtin_corpus` is False), on each corpus file (one text per line) and on the rendered prompts of each
    task (its default prompt version, images left out); and each vision model's visual tokens per image at
    `image_sizes` ("WxH,..."; empty: none). Tokenizers, configs and processors only, no weights. With
    `output`, OUTPUT/<model>/tokens.json for `kobench table`.

    >>> print(token_efficiency(["hf:./a", "hf:./b"], corpora=["ko.txt"], tasks=["k-seed"], reference="a"))
    """
    from kobench.models.visual_tokens import parse_image_sizes
    from kobench.report.builtin_corpus import builtin_corpus as constitution
    from kobench.report.token_efficiency import Corpus, read_corpus
    from kobench.report.token_report import token_report
    from kobench.run.prepare import prepare_task
    from kobench.tasks.registry import resolve_tasks

    writable_folder(output)
    found = ([constitution()] if builtin_corpus else []) + [read_corpus(Path(p)) for p in corpora]
    if tasks:
        config = build_config(
            model="hf:tokenizers",
            tasks=tuple(tasks),
            data={
                "task_dirs": tuple(Path(p) for p in task_dirs),
                "data_dir": _data_dir(data_dir),
                "limit": limit,
            },
        )
        cache = Path(cache_dir) if cache_dir else default_cache_dir()
        for spec in resolve_tasks(config.tasks, config.data.task_dirs):
            prepared = prepare_task(spec, config.data, config.scoring, config.judge, cache, for_scoring=False)
            prompts = tuple(item.prompt for item in prepared.items if item.prompt and item.prompt.strip())
            if not prompts:
                raise BadInputError(f"--tasks {spec.name}: no prompt text in its rows")
            found.append(Corpus(f"{spec.name} prompts", prompts))
    sizes = (
        (parse_image_sizes(image_sizes) if image_sizes.strip() else [])
        if isinstance(image_sizes, str)
        else list(image_sizes)
    )
    report = token_report(
        models,
        found,
        image_sizes=sizes,
        reference=reference,
        trust_remote_code=trust_remote_code,
        fmt=fmt,
        output=Path(output) if output else None,
    )
    written = "".join(f"\ntoken results: {path}" for path in report.paths)
    return report.text + ("\n" + written if written else "")


def speed(
    model: str,
    tasks: str | Sequence[str] = ("kobench-demo",),
    *,
    batch_sizes: Sequence[int] = (1, 8, 32),
    limit: int | None = 32,
    warmup: int = 1,
    max_new_tokens: int | None = None,
    output: str | Path | None = None,
    data_dir: str | Path | None = None,
    task_dirs: Sequence[str | Path] = (),
    dtype: str = "auto",
    device: str = "auto",
    trust_remote_code: bool = False,
    model_revision: str | None = None,
    vllm: Mapping[str, Any] | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    request_timeout: float = 120.0,
    cache_dir: str | Path | None = None,
    fmt: str = "github",
) -> tuple[Any, str]:
    """`kobench speed`: latency and throughput of `model` (hf:, openai:, vllm:) on the tasks' own requests
    (the first `limit` rows of each; default the built-in demo), `warmup` untimed batches first at each
    batch size. Returns the speed result (kobench.efficiency.EfficiencyResult) and its table; with
    `output`, writes OUTPUT/<model>/speed.json, which `kobench table` shows under Efficiency.

    >>> result, table = speed("hf:./my-model", "k-seed", batch_sizes=[1, 8], data_dir="./mirror")
    """
    from kobench.efficiency import save_efficiency
    from kobench.run.prepare import prepare_task
    from kobench.speed.backends import load_timed
    from kobench.speed.report import speed_table
    from kobench.speed.run import run_speed
    from kobench.tasks.registry import resolve_tasks

    names = tuple(t for t in (tasks.split(",") if isinstance(tasks, str) else tasks) if t.strip())
    writable_folder(output)
    config = build_config(
        model=model,
        tasks=names,
        data={
            "task_dirs": tuple(Path(p) for p in task_dirs),
            "data_dir": _data_dir(data_dir),
            "limit": limit,
        },
        options={
            "dtype": dtype,
            "device": device,
            "trust_remote_code": trust_remote_code,
            "revision": model_revision,
            "vllm": dict(vllm or {}),
            "api_key_env": api_key_env,
            "request_timeout": request_timeout,
        },
        scoring={"max_new_tokens": max_new_tokens},
    )
    cache = Path(cache_dir) if cache_dir else default_cache_dir()

    def prepare(config):  # the tasks' rows and prompts, nothing scoring needs
        specs = resolve_tasks(config.tasks, config.data.task_dirs)
        return [
            prepare_task(s, config.data, config.scoring, config.judge, cache, for_scoring=False)
            for s in specs
        ]

    with refusing_unsafe_weights(model):
        result, measured = run_speed(config, batch_sizes, warmup, prepare, load_timed)
    text = speed_table(result, measured, fmt)
    if output:
        from kobench.efficiency import model_folder

        path = save_efficiency(result, model_folder(Path(output), result.model))
        text += f"\n\nspeed results: {path}"
    return result, text


def report(
    results: Sequence[str | Path],
    out: str | Path,
    *,
    with_images: bool = False,
    max_bytes: int = 20_000_000,
    pipeline: str = "kobench",
    title: str | None = None,
    data_dir: str | Path | None = None,
    data_paths: Sequence[str] = (),
    task_dirs: Sequence[str | Path] = (),
    cache_dir: str | Path | None = None,
) -> Any:
    """`kobench report`: one self-contained HTML file of the results (results.json files or folders, their
    samples/ beside them): the leaderboard and charts, a per-task summary, and a sample browser. Returns
    kobench.report.html_report.ReportInfo (the rows shown of each task, the page's size).

    `with_images` adds downscaled thumbnails, read again from each task's data the way its run read it (the
    run's recorded data options; `data_dir`, `data_paths` ("TASK=DIR") and `task_dirs` where the data or
    the task files are elsewhere now); rows whose data is not the run's (another identity) get none, and
    the page says why. The page stays under `max_bytes`. The values of environment variables named like
    secrets (*KEY*, *TOKEN*, ...) are written [redacted] wherever they occur.

    >>> info = report(["results/a", "results/b"], "report.html", with_images=True)
    """
    from kobench.report.html_page import secret_values
    from kobench.report.html_report import write_report
    from kobench.run.task_images import TaskImages

    dirs = tuple(Path(p) for p in task_dirs)
    images = TaskImages(
        cache_dir=Path(cache_dir) if cache_dir else default_cache_dir(),
        data_dir=Path(data_dir) if data_dir else None,
        data_paths=tuple(data_paths),
        task_dirs=dirs,
    )
    return write_report(
        [Path(p) for p in results],
        Path(out),
        with_images=with_images,
        images=images,
        max_bytes=max_bytes,
        pipeline=pipeline,
        title=title,
        task_dirs=dirs,
        secrets=secret_values(os.environ),
    )


def _data_dir(given: str | Path | None) -> Path | None:
    """The local mirror: the one given, else $KOBENCH_DATA_DIR, else none (the Hub)."""
    found = given or os.environ.get("KOBENCH_DATA_DIR")
    return Path(found) if found else None
