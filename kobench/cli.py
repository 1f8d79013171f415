"""The command line: parses, calls the library, prints, sets the exit code. No logic of its own."""

from __future__ import annotations

import inspect
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, get_args

import typer

from kobench.config import BoxConvention, DeviceMap, Dtype, GenerationDefaults
from kobench.errors import EXIT_INCOMPLETE, KobenchError

# The choices the config accepts, spelled once (kobench.config): typer shows and checks them (exit 2).
DtypeChoice = Enum("DtypeChoice", {v: v for v in get_args(Dtype)}, type=str)
GenerationDefaultsChoice = Enum(
    "GenerationDefaultsChoice", {v: v for v in get_args(GenerationDefaults)}, type=str
)
DeviceMapChoice = Enum("DeviceMapChoice", {v: v for v in get_args(DeviceMap)}, type=str)
BoxChoice = Enum("BoxChoice", {v: v for v in get_args(BoxConvention)}, type=str)

app = typer.Typer(
    help="Evaluate vision-language models on Korean benchmarks: published protocols and Korean-aware "
    "scoring side by side.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

TaskDirs = Annotated[
    list[Path], typer.Option("--task-dir", help="Extra folder of task YAML files (repeatable).")
]
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="KOBENCH_DATA_DIR",
        help="Local dataset mirror: DIR/<owner>/<name>/ is used before the Hub.",
    ),
]
SplitFiles = Annotated[
    list[str],
    typer.Option(
        help="TASK=FILE: only the rows whose image FILE lists (Karpathy's dataset_coco.json: its test "
        "images; or one file name per line), e.g. coco-ko=dataset_coco.json (repeatable)."
    ),
]
Embedder = Annotated[
    str | None,
    typer.Option(
        help="Captioning's sentence-embedding model: a sentence-transformers id or folder "
        "(default snunlp/KR-SBERT-V40K-klueNLI-augSTS), or builtin:use-multilingual-v3 (ships with "
        "kobench, works offline; not comparable with KR-SBERT numbers)."
    ),
]
Judge = Annotated[
    str | None,
    typer.Option(
        help="LLM judge for judged tasks (k-llava-w, ko-ocr-complex): MODEL@BASE_URL of an OpenAI-compatible "
        "server, or MODEL alone for api.openai.com. A judged task without it stops before any work."
    ),
]
JudgeKeyEnv = Annotated[
    str, typer.Option(help="Environment variable holding the judge's API key (never stored).")
]
JudgeConcurrency = Annotated[int, typer.Option(min=1, help="Judge requests in flight at once.")]
MaxFailedJudgements = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=1.0,
        help="A judged task with more failed judgements than this share is incomplete (exit 5).",
    ),
]
DataPaths = Annotated[
    list[str], typer.Option(help="TASK=DIR: run TASK on your own data in DIR (repeatable).")
]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Folder for results.json and samples/.")]
# Options that `run` and `speed` share.
VllmPython = Annotated[
    str | None,
    typer.Option(help="vllm: models: a Python with vLLM (default: $KOBENCH_VLLM_PYTHON, else this one)."),
]
EngineArgs = Annotated[
    list[str], typer.Option(help="vllm: a further `vllm serve` argument, as it is (repeatable).")
]
VllmStartTimeout = Annotated[
    float,
    typer.Option(
        min=1.0,
        help="vllm: seconds the engine may take to answer once started (it downloads and loads the weights"
        " meanwhile: a 72B model from the Hub wants more).",
    ),
]
ApiKeyEnv = Annotated[
    str, typer.Option(help="API models: the environment variable holding the key (never stored).")
]
RequestTimeout = Annotated[float, typer.Option(min=0.001, help="API models: seconds per request.")]
MaxPromptChars = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="The most characters one rendered prompt may have (default 200,000, room for KMMLU 5-shot); a "
        "longer one stops the run before any work, naming the task file and row.",
    ),
]
MaxRetryAfter = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=86400.0,
        help="API models and the judge: the longest wait a server's Retry-After (429, 503) is granted, in "
        "seconds; a longer one is capped (and logged). Recorded in the results (run.concurrency).",
    ),
]
DtypeOption = Annotated[DtypeChoice, typer.Option(help="auto: bf16 on CUDA, fp32 on CPU.")]
DeviceOption = Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:1, ...")]
TrustRemoteCode = Annotated[bool, typer.Option(help="Allow a model's own Python code to run.")]
ModelRevision = Annotated[str | None, typer.Option(help="Pin a Hub model revision.")]


def _fail(exc: KobenchError) -> None:
    typer.secho(f"error: {exc}", fg="red", err=True)
    raise typer.Exit(exc.exit_code)


def _modalities(value: str) -> str:
    """--modalities is a usage error (exit 2) unless it lists text and image only."""
    given = [m.strip() for m in value.split(",")]
    if any(m not in ("text", "image") for m in given) or "text" not in given:
        raise typer.BadParameter(f"{value!r}: expected text or text,image")
    return value


def _auto_or_count(value: str) -> str:
    """--batch-size and --concurrency are usage errors (exit 2) unless auto or a number of requests."""
    if value.strip() != "auto" and not (value.strip().isdigit() and int(value) >= 1):
        raise typer.BadParameter(f"{value!r}: expected auto or a number of requests (at least 1)")
    return value.strip()


def _finish(result, output: Path | None) -> None:
    from kobench.parallel import Ranks
    from kobench.report.summary import incomplete_reasons, loading_notes, markdown_table, run_summary

    if not Ranks.from_env().main:  # torchrun: rank 0 tells; the others only exit as it does
        if result.status != "complete":
            raise typer.Exit(EXIT_INCOMPLETE)
        return

    typer.echo(run_summary(result))
    if notes := loading_notes(result):
        typer.secho(notes, fg="cyan", err=True)
    for name, task in result.tasks.items():
        if task.n_failed:
            reasons = "; ".join(f"{n} x {why}" for why, n in task.failure_reasons.items())
            typer.secho(
                f"{name}: {task.n_failed} of {task.n_rows} rows failed: {reasons}", fg="yellow", err=True
            )
    if output:
        typer.echo(f"results: {output / 'results.json'}  samples: {output / 'samples'}\n")
    typer.echo(markdown_table([result]))
    if result.status != "complete":
        typer.secho(f"incomplete: {'; '.join(incomplete_reasons(result))}", fg="red", err=True)
        raise typer.Exit(EXIT_INCOMPLETE)


@app.command()
def run(
    model: Annotated[
        str, typer.Option("--model", "-m", help="ADAPTER:TARGET, e.g. hf:./my-model or hf:org/name.")
    ],
    tasks: Annotated[
        str, typer.Option("--tasks", "-t", help="Comma-separated task names (see `kobench tasks`).")
    ],
    output: Output = None,
    data_dir: DataDir = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Only the first N rows (questions for circular tasks).")
    ] = None,
    batch_size: Annotated[
        str,
        typer.Option(
            callback=_auto_or_count,
            help="Requests per model batch (the hf adapter's padded batches), or auto: from 64 on CUDA, "
            "halved on out-of-memory (the size reached is in the results).",
        ),
    ] = "8",
    task_dir: TaskDirs = [],  # noqa: B006 (typer reads the default, never mutates it)
    data_revision: Annotated[str | None, typer.Option(help="Pin a Hub dataset revision.")] = None,
    data_path: DataPaths = [],  # noqa: B006
    dtype: DtypeOption = "auto",
    device: DeviceOption = "auto",
    device_map: Annotated[
        DeviceMapChoice | None,
        typer.Option(
            help="hf: shard the model over every GPU (auto, balanced, balanced_low_0, sequential), for one "
            "too large for a single GPU."
        ),
    ] = None,
    max_new_tokens: Annotated[
        int | None,
        typer.Option(
            min=1, help="Override the prompt version's generation length (recorded in the signature)."
        ),
    ] = None,
    trust_remote_code: TrustRemoteCode = False,
    model_revision: ModelRevision = None,
    prompt_version: Annotated[
        list[str], typer.Option(help="VERSION for every task that has it, or TASK=VERSION (repeatable).")
    ] = [],  # noqa: B006
    box_convention: Annotated[
        BoxChoice | None,
        typer.Option(
            help="How the model writes boxes: normalized (0-1), qwen2vl (0-1000), pixels (default: per task)",
        ),
    ] = None,
    split_file: SplitFiles = [],  # noqa: B006
    embedder: Embedder = None,
    max_prompt_chars: MaxPromptChars = None,
    judge: Judge = None,
    judge_api_key_env: JudgeKeyEnv = "OPENAI_API_KEY",
    judge_concurrency: JudgeConcurrency = 16,
    max_failed_judgements: MaxFailedJudgements = 0.05,
    concurrency: Annotated[
        str,
        typer.Option(
            callback=_auto_or_count,
            help="API models (openai:...): requests in flight at once: auto (adapts to the server: more "
            "while answers keep their speed, fewer on 429/503 or timeouts) or a fixed number.",
        ),
    ] = "auto",
    max_concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="API models, --concurrency auto: the most requests in flight (default: 64; vllm: 64 for"
            " each --data-parallel-size replica).",
        ),
    ] = None,
    vllm_python: VllmPython = None,
    tensor_parallel_size: Annotated[int, typer.Option(min=1, help="vllm: GPUs per replica (tensor).")] = 1,
    pipeline_parallel_size: Annotated[int, typer.Option(min=1, help="vllm: pipeline stages.")] = 1,
    data_parallel_size: Annotated[
        int, typer.Option(min=1, help="vllm: replicas, load-balanced by vLLM behind one server.")
    ] = 1,
    max_model_len: Annotated[
        int | None, typer.Option(min=1, help="vllm: the engine's context length.")
    ] = None,
    gpu_memory_utilization: Annotated[
        float | None, typer.Option(help="vllm: the share of each GPU's memory the engine takes.")
    ] = None,
    limit_mm_per_prompt: Annotated[
        str | None, typer.Option(help="vllm: images (etc.) per prompt, vLLM's JSON: '{\"image\": 4}'.")
    ] = None,
    chat_template_content_format: Annotated[
        str | None,
        typer.Option(help="vllm: auto, string or openai (how message content reaches the template)."),
    ] = None,
    engine_arg: EngineArgs = [],  # noqa: B006
    vllm_start_timeout: VllmStartTimeout = 900.0,
    api_key_env: ApiKeyEnv = "OPENAI_API_KEY",
    request_timeout: RequestTimeout = 120.0,
    max_retry_after: MaxRetryAfter = 60.0,
    modalities: Annotated[
        str,
        typer.Option(
            callback=_modalities,
            help="API models: what the served model takes, text or text,image (a server does not say);"
            " a text model is refused image tasks before any work.",
        ),
    ] = "text,image",
    min_pixels: Annotated[
        int | None,
        typer.Option(min=1, help="hf, Qwen2-VL family: the fewest pixels an image is resized to."),
    ] = None,
    max_pixels: Annotated[
        int | None, typer.Option(min=1, help="hf, Qwen2-VL family: the most pixels an image is resized to.")
    ] = None,
    max_tiles: Annotated[
        int | None,
        typer.Option(min=1, help="hf, tiling families (InternVL, A.X 4.0 VL): tiles per image, at most."),
    ] = None,
    system_prompt: Annotated[
        str | None,
        typer.Option(help="hf: a system message for every request that has none (recorded with the model)."),
    ] = None,
    generation_defaults: Annotated[
        GenerationDefaultsChoice,
        typer.Option(
            help="hf: greedy (kobench's default), card (the model card's sampling settings, where kobench "
            "knows them) or checkpoint (the checkpoint's generation_config.json)."
        ),
    ] = "greedy",
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")
    ] = False,
    cache_dir: Annotated[Path | None, typer.Option(envvar="KOBENCH_CACHE_DIR", help="Cache folder.")] = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace results made with other settings in --output.")
    ] = False,
    max_failed_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Exit 5 when more rows than this share fail.")
    ] = 0.05,
    max_truncated_share: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Exit 5 when a task has more answers than this share cut off at max_new_tokens"
            " (default: no limit; the share is always reported).",
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar with ETA.")] = True,
) -> None:
    """Run tasks on a model and print the leaderboard; with --output, write results and samples."""
    from kobench.api import evaluate

    try:
        result = evaluate(
            model,
            tasks,
            output=output,
            data_dir=data_dir,
            limit=limit,
            batch_size=batch_size,
            device_map=DeviceMapChoice(device_map).value if device_map else None,
            task_dirs=task_dir,
            data_revision=data_revision,
            data_paths=data_path,
            dtype=DtypeChoice(dtype).value,
            device=device,
            trust_remote_code=trust_remote_code,
            model_revision=model_revision,
            max_new_tokens=max_new_tokens,
            prompt_versions=prompt_version,
            box_convention=BoxChoice(box_convention).value if box_convention else None,
            split_files=split_file,
            embedder=embedder,
            max_prompt_chars=max_prompt_chars,
            judge=judge,
            judge_api_key_env=judge_api_key_env,
            judge_concurrency=judge_concurrency,
            max_failed_judgements=max_failed_judgements,
            concurrency=concurrency,
            max_concurrency=max_concurrency,
            vllm={
                "python": vllm_python,
                "tensor_parallel_size": tensor_parallel_size,
                "pipeline_parallel_size": pipeline_parallel_size,
                "data_parallel_size": data_parallel_size,
                "max_model_len": max_model_len,
                "gpu_memory_utilization": gpu_memory_utilization,
                "limit_mm_per_prompt": limit_mm_per_prompt,
                "chat_template_content_format": chat_template_content_format,
                "engine_args": tuple(engine_arg),
                "start_timeout": vllm_start_timeout,
            },
            api_key_env=api_key_env,
            request_timeout=request_timeout,
            max_retry_after=max_retry_after,
            modalities=tuple(m.strip() for m in modalities.split(",") if m.strip()),
            min_pixels=min_pixels,
            max_pixels=max_pixels,
            max_tiles=max_tiles,
            system_prompt=system_prompt,
            generation_defaults=GenerationDefaultsChoice(generation_defaults).value,
            cache_dir=cache_dir,
            use_cache=not no_cache,
            overwrite=overwrite,
            max_failed_share=max_failed_share,
            max_truncated_share=max_truncated_share,
            progress=progress,
        )
    except KobenchError as exc:
        _fail(exc)
    _finish(result, output)


@app.command()
def score(
    task: Annotated[str, typer.Option("--task", "-t", help="Task name.")],
    predictions: Annotated[Path, typer.Option(help="JSONL with `id` and `prediction` per line.")],
    output: Output = None,
    data_dir: DataDir = None,
    task_dir: TaskDirs = [],  # noqa: B006
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N rows.")] = None,
    prompt_version: Annotated[
        list[str], typer.Option(help="Prompt version the answers were made with.")
    ] = [],  # noqa: B006
    model_name: Annotated[
        str | None, typer.Option(help="Column name in tables (default: file name).")
    ] = None,
    data_path: DataPaths = [],  # noqa: B006
    split_file: SplitFiles = [],  # noqa: B006
    embedder: Embedder = None,
    max_prompt_chars: MaxPromptChars = None,
    max_failed_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Exit 5 when more rows than this share fail.")
    ] = 0.05,
    overwrite: Annotated[
        bool,
        typer.Option(help="Replace results in --output made with other settings (another model or file)."),
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar with ETA.")] = True,
) -> None:
    """Score answers produced elsewhere, writing the same results and samples as `run`; into an --output
    folder scored under the same --model-name, the task joins the others there."""
    from kobench.run.predictions import score_predictions

    try:
        result = score_predictions(
            task,
            predictions,
            output=output,
            data_dir=data_dir,
            task_dirs=tuple(task_dir),
            limit=limit,
            prompt_versions=tuple(prompt_version),
            model_name=model_name,
            data_paths=tuple(data_path),
            split_files=tuple(split_file),
            embedder=embedder,
            max_prompt_chars=max_prompt_chars,
            max_failed_share=max_failed_share,
            overwrite=overwrite,
            progress=progress,
        )
    except KobenchError as exc:
        _fail(exc)
    _finish(result, output)


@app.command("judge")
def judge_command(
    results: Annotated[Path, typer.Argument(help="A results folder written by `kobench run --output`.")],
    judge: Annotated[
        str, typer.Option(help="MODEL@BASE_URL of an OpenAI-compatible judge (MODEL alone: api.openai.com).")
    ],
    tasks: Annotated[str | None, typer.Option(help="Comma-separated judged tasks (default: all).")] = None,
    judge_api_key_env: JudgeKeyEnv = "OPENAI_API_KEY",
    judge_concurrency: JudgeConcurrency = 16,
    max_failed_judgements: MaxFailedJudgements = 0.05,
    max_retry_after: MaxRetryAfter = 60.0,
    task_dir: TaskDirs = [],  # noqa: B006
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write judgements.")] = False,
    cache_dir: Annotated[Path | None, typer.Option(envvar="KOBENCH_CACHE_DIR", help="Cache folder.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar with ETA.")] = True,
) -> None:
    """Judge a results folder's answers again (another judge, or failed judgements), not regenerating.

    Rewrites the folder's samples and results."""
    from kobench.config import default_cache_dir
    from kobench.run.rejudge import rejudge

    cache = (cache_dir or default_cache_dir()) / "judgements.sqlite"
    try:
        result = rejudge(
            results,
            judge,
            api_key_env=judge_api_key_env,
            concurrency=judge_concurrency,
            tasks=tuple(t for t in (tasks or "").split(",") if t),
            task_dirs=tuple(task_dir),
            cache_path=None if no_cache else cache,
            max_failed_judgements=max_failed_judgements,
            max_retry_after=max_retry_after,
            progress=progress,
        )
    except KobenchError as exc:
        _fail(exc)
    typer.echo(f"judge calls: {result.run.judge_calls} ({result.run.judge_cache_hits} from the cache)")
    _finish(result, results)


@app.command("tasks")
def list_tasks(task_dir: TaskDirs = []) -> None:  # noqa: B006
    """List the known tasks: modality, category, source, split, size, metric and prompt versions."""
    from tabulate import tabulate

    from kobench.families import load_tasks
    from kobench.report.catalog import HEADERS, task_rows

    try:
        registry = load_tasks(task_dir)
    except KobenchError as exc:
        _fail(exc)
    typer.echo(tabulate(task_rows(registry), headers=HEADERS, tablefmt="simple"))


TableFormat = Annotated[str, typer.Option("--format", help="markdown, csv, html or latex.")]
Pipeline = Annotated[str, typer.Option(help="kobench (Korean-aware) or protocol (published parsers).")]
GroupBy = Annotated[str, typer.Option(help="category (rows grouped under categories) or none.")]
WithCI = Annotated[bool, typer.Option("--ci", help="Add ± half the 95% bootstrap interval.")]
AllRuns = Annotated[
    bool,
    typer.Option(
        "--all-runs",
        help="One column per results file (default: one per model, the newest run of each task).",
    ),
]
NoAverage = Annotated[bool, typer.Option("--no-average", help="Leave out the average row.")]
ResultsArgs = Annotated[
    list[Path],
    typer.Argument(
        help="results.json files, tokens.json / speed.json (kobench tokens / speed --output), lmms-eval's"
        " results JSON or VLMEvalKit's *_acc / *_score .csv / .xlsx, or folders holding them."
    ),
]


def _load_all(paths: list[Path]):
    from kobench.report.inputs import load_report_inputs

    return load_report_inputs(paths)


def _table_text(paths, fmt, pipeline, group_by, ci, all_runs, no_average) -> str:
    from kobench.report.leaderboard import render_table

    if pipeline not in ("kobench", "protocol"):
        raise typer.BadParameter("--pipeline must be kobench or protocol")
    if fmt not in ("markdown", "csv", "html", "latex"):
        raise typer.BadParameter("--format must be markdown, csv, html or latex")
    if group_by not in ("category", "none"):
        raise typer.BadParameter("--group-by must be category or none")
    inputs = _load_all(paths)
    return render_table(
        inputs.results,
        efficiency=inputs.efficiency,
        imported=inputs.imported,
        fmt=fmt,
        pipeline=pipeline,
        group_by=group_by,
        with_ci=ci,
        merge=not all_runs,
        average=not no_average,
    )


@app.command()
def table(
    results: ResultsArgs,
    fmt: TableFormat = "markdown",
    pipeline: Pipeline = "kobench",
    group_by: GroupBy = "category",
    ci: WithCI = False,
    all_runs: AllRuns = False,
    no_average: NoAverage = False,
) -> None:
    """Print a leaderboard: Category | Benchmark | one column per model, best value in bold."""
    try:
        text = _table_text(results, fmt, pipeline, group_by, ci, all_runs, no_average)
    except KobenchError as exc:
        _fail(exc)
    typer.echo(text, nl=False)


@app.command()
def tokens(
    model: Annotated[
        list[str],
        typer.Option(
            "--model",
            "-m",
            help="hf:PATH_OR_ID, or tiktoken:[NAME=]PATH (NAME: o200k_base, cl100k_base; a local ranks"
            " file), whose tokenizer to measure (repeatable).",
        ),
    ],
    corpus: Annotated[
        list[Path], typer.Option(help="A UTF-8 text file, one text per line (repeatable).", exists=True)
    ] = [],  # noqa: B006 (typer reads the default, never mutates it)
    no_builtin_corpus: Annotated[
        bool,
        typer.Option(
            "--no-builtin-corpus",
            help="Leave out the Constitution of the Republic of Korea that ships with kobench.",
        ),
    ] = False,
    image_sizes: Annotated[
        str,
        typer.Option(
            help="Visual tokens per image at these sizes (WxH,...; '' for none), vision models only."
        ),
    ] = "448x448,896x896,1280x720",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write OUTPUT/<model>/tokens.json.")
    ] = None,
    tasks: Annotated[
        str | None, typer.Option("--tasks", "-t", help="Also the rendered prompts of these tasks (a,b).")
    ] = None,
    data_dir: DataDir = None,
    task_dir: TaskDirs = [],  # noqa: B006
    limit: Annotated[int | None, typer.Option(min=1, help="Only each task's first N rows.")] = None,
    reference: Annotated[
        str | None, typer.Option(help="A model's name: every row also shows its tokens against this one's.")
    ] = None,
    trust_remote_code: Annotated[
        bool, typer.Option(help="Allow a tokenizer's own Python code to run.")
    ] = False,
    fmt: Annotated[
        str, typer.Option("--format", help="A tabulate format: github, simple, latex, ...")
    ] = "github",
) -> None:
    """Tokenizer efficiency on the same Korean text (the Constitution of the Republic of Korea, shipped, and
    any corpus or task prompts): tokens per 1,000 characters and morphemes, side by side, and against a
    reference model; and visual tokens per image at standard sizes. Loads tokenizers, configs and
    processors only: no weights, no model call."""
    from kobench.api import token_efficiency

    try:
        text = token_efficiency(
            model,
            corpora=corpus,
            tasks=[t for t in (tasks or "").split(",") if t.strip()],
            data_dir=data_dir,
            task_dirs=task_dir,
            limit=limit,
            reference=reference,
            trust_remote_code=trust_remote_code,
            fmt=fmt,
            builtin_corpus=not no_builtin_corpus,
            image_sizes=image_sizes,
            output=output,
        )
    except KobenchError as exc:
        _fail(exc)
    typer.echo(text)


def _batch_sizes(value: str) -> str:
    """--batch-sizes is a usage error (exit 2) unless it is a list of whole numbers of at least 1."""
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts or not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise typer.BadParameter(f"expected batch sizes of at least 1, e.g. 1,8,32; got {value!r}")
    return value


@app.command()
def speed(
    model: Annotated[
        str, typer.Option("--model", "-m", help="hf:PATH_OR_ID, openai:MODEL@BASE_URL or vllm:MODEL_OR_PATH.")
    ],
    tasks: Annotated[
        str, typer.Option("--tasks", "-t", help="Whose requests to time (default: the built-in demo).")
    ] = "kobench-demo",
    batch_sizes: Annotated[
        str,
        typer.Option(
            callback=_batch_sizes,
            help="Batch sizes to measure (hf: padded batches; servers: that many requests at once).",
        ),
    ] = "1,8,32",
    limit: Annotated[
        int, typer.Option(min=1, help="Each task's first N rows (repeated to fill a larger batch).")
    ] = 32,
    warmup: Annotated[
        int, typer.Option(min=0, help="Untimed batches before each batch size's timed ones.")
    ] = 1,
    max_new_tokens: Annotated[
        int | None, typer.Option(min=1, help="Override the prompt version's generation length.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write OUTPUT/<model>/speed.json.")
    ] = None,
    data_dir: DataDir = None,
    task_dir: TaskDirs = [],  # noqa: B006
    dtype: DtypeOption = "auto",
    device: DeviceOption = "auto",
    trust_remote_code: TrustRemoteCode = False,
    model_revision: ModelRevision = None,
    vllm_python: VllmPython = None,
    engine_arg: EngineArgs = [],  # noqa: B006
    vllm_start_timeout: VllmStartTimeout = 900.0,
    api_key_env: ApiKeyEnv = "OPENAI_API_KEY",
    request_timeout: RequestTimeout = 120.0,
    cache_dir: Annotated[Path | None, typer.Option(envvar="KOBENCH_CACHE_DIR", help="Cache folder.")] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="A tabulate format: github, simple, latex, ...")
    ] = "github",
) -> None:
    """Latency and throughput on real benchmark inputs: time to first token, decode tokens/s, latency
    p50/p90/p99, requests/s and peak memory per batch size, after warm-up, the device synchronised before
    every clock read. Device, dtype, batch size and versions are recorded with the numbers."""
    from kobench.api import speed as measure_speed

    try:
        _result, text = measure_speed(
            model,
            tasks,
            batch_sizes=[int(b) for b in batch_sizes.split(",") if b.strip()],
            limit=limit,
            warmup=warmup,
            max_new_tokens=max_new_tokens,
            output=output,
            data_dir=data_dir,
            task_dirs=task_dir,
            dtype=DtypeChoice(dtype).value,
            device=device,
            trust_remote_code=trust_remote_code,
            model_revision=model_revision,
            vllm={
                "python": vllm_python,
                "engine_args": tuple(engine_arg),
                "start_timeout": vllm_start_timeout,
            },
            api_key_env=api_key_env,
            request_timeout=request_timeout,
            cache_dir=cache_dir,
            fmt=fmt,
        )
    except KobenchError as exc:
        _fail(exc)
    typer.echo(text)


@app.command()
def readme(
    readme_path: Annotated[Path, typer.Argument(metavar="README", help="The file to update.")],
    results: ResultsArgs,
    marker: Annotated[
        str,
        typer.Option(
            help="Replace what is between <!-- kobench:NAME:start --> and <!-- kobench:NAME:end -->."
        ),
    ] = "leaderboard",
    pipeline: Pipeline = "kobench",
    group_by: GroupBy = "category",
    ci: WithCI = False,
    all_runs: AllRuns = False,
    no_average: NoAverage = False,
) -> None:
    """Put the leaderboard (Markdown) into README between kobench markers; nothing else changes."""
    from kobench.report.readme import update_readme

    try:
        text = _table_text(results, "markdown", pipeline, group_by, ci, all_runs, no_average)
        changed = update_readme(readme_path, marker, text)
    except KobenchError as exc:
        _fail(exc)
    typer.echo(f"{readme_path}: {'updated' if changed else 'already up to date'} ({marker})")


@app.command()
def gate(
    baseline: Annotated[Path, typer.Option(help="Baseline results.json (or a folder holding one).")],
    candidate: Annotated[Path, typer.Option(help="Candidate results.json (or a folder holding one).")],
    max_drop: Annotated[
        float, typer.Option(help="Tolerated drop of a primary metric, in points (values are x100).")
    ] = 1.0,
    alpha: Annotated[float, typer.Option(help="The paired bootstrap CI is at level 1 - alpha.")] = 0.05,
    tasks: Annotated[
        str | None, typer.Option(help="Comma-separated tasks (default: every task in both results).")
    ] = None,
    pipeline: Annotated[
        str, typer.Option(help="kobench (Korean-aware) or protocol (published parsers).")
    ] = "kobench",
    json_out: Annotated[
        str | None,
        typer.Option(
            "--json",
            help="Also write a machine-readable report to this file ('-': stdout; the table then goes "
            "to stderr).",
        ),
    ] = None,
    max_efficiency_loss: Annotated[
        float | None,
        typer.Option(
            help="Also compare the folders' tokens.json / speed.json: exit 1 when a value is worse by more"
            " than this many percent (default: efficiency is not gated)."
        ),
    ] = None,
) -> None:
    """CI regression gate: paired bootstrap of each task's primary metric, baseline vs candidate.

    Exit 1 on a significant drop beyond --max-drop, 3 when a task is not comparable."""
    from kobench.files.output_file import check_output_file
    from kobench.report.efficiency_gate import load_folder
    from kobench.report.gate import compare, format_report, load_run, report_json, write_report

    try:
        if json_out and json_out != "-":
            check_output_file(Path(json_out), "--json")  # before the comparison, never after it
        measured = None
        if max_efficiency_loss is not None:
            measured = (load_folder(baseline), load_folder(candidate))
        report = compare(
            load_run(baseline),
            load_run(candidate),
            max_drop=max_drop,
            alpha=alpha,
            tasks=[t.strip() for t in (tasks or "").split(",") if t.strip()] or None,
            pipeline=pipeline,
            efficiency=measured,
            max_efficiency_loss=max_efficiency_loss,
        )
        if json_out and json_out != "-":
            write_report(report, Path(json_out))
    except KobenchError as exc:
        _fail(exc)
    typer.echo(format_report(report), err=json_out == "-")
    if json_out == "-":
        typer.echo(report_json(report))
    raise typer.Exit(report.exit_code)


@app.command()
def report(
    results: ResultsArgs,
    out: Annotated[
        Path, typer.Option("--out", "--output", "-o", help="The HTML file to write (its folder is created).")
    ],
    with_images: Annotated[
        bool,
        typer.Option(
            "--with-images",
            help="Thumbnails of each row's images, read again from the task's data as the run read it (off by"
            " default: many benchmarks' images may not be redistributed).",
        ),
    ] = False,
    max_mb: Annotated[
        float,
        typer.Option(
            min=0.1, help="The page stays under this many MB; rows beyond it are left out, and it says so."
        ),
    ] = 20.0,
    pipeline: Pipeline = "kobench",
    title: Annotated[str | None, typer.Option(help="The page's title.")] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="With --with-images: the local mirror the runs' data is in now (default: the run's)."
        ),
    ] = None,
    data_path: Annotated[
        list[str],
        typer.Option(help="With --with-images: TASK=DIR, the task's own data is in DIR (repeatable)."),
    ] = [],  # noqa: B006
    task_dir: TaskDirs = [],  # noqa: B006
    cache_dir: Annotated[
        Path | None,
        typer.Option(envvar="KOBENCH_CACHE_DIR", help="Cache folder (generated benchmarks' data)."),
    ] = None,
) -> None:
    """Write one self-contained HTML file (opens offline, fetches nothing): the leaderboard and its charts,
    each task's signature, n, unparsed, failed and CI, and a sample browser: each row's prompt, target and,
    per model, the answer, each pipeline's parse and score and the judge's text; filters by category, by
    verdict and by text; two models side by side on the rows where they disagree."""
    from kobench.api import report as write_report

    if pipeline not in ("kobench", "protocol"):
        raise typer.BadParameter("--pipeline must be kobench or protocol")
    try:
        info = write_report(
            results,
            out,
            with_images=with_images,
            max_bytes=int(max_mb * 1_000_000),
            pipeline=pipeline,
            title=title,
            data_dir=data_dir,
            data_paths=data_path,
            task_dirs=task_dir,
            cache_dir=cache_dir,
        )
    except KobenchError as exc:
        _fail(exc)
    for task in info.tasks:
        if task.shown < task.total:
            typer.echo(f"{task.task}: {task.shown:,} of {task.total:,} rows on the page (--max-mb)", err=True)
    for note in info.notes:
        typer.echo(note, err=True)
    typer.echo(f"{info.path} ({info.size / 1e6:.1f} MB)")


@app.command("model-index")
def model_index(
    results: Annotated[
        list[Path], typer.Argument(help="One model's results.json files, or folders holding them.")
    ],
    model_name: Annotated[
        str | None,
        typer.Option(help="The model's name in the block, e.g. its Hub id (default: the runs' model name)."),
    ] = None,
    pipeline: Pipeline = "kobench",
    readme: Annotated[
        Path | None,
        typer.Option(
            "--readme",
            help="Merge into this model card's YAML front matter instead of printing: only its model-index"
            " key changes, and there only kobench's results for this model.",
        ),
    ] = None,
    source_url: Annotated[
        str | None, typer.Option(help="Each result's source.url (default: kobench's project URL).")
    ] = None,
) -> None:
    """Print the model-index YAML of a Hugging Face model card (the Hub's evaluation widgets read it)."""
    from kobench.report.inputs import load_inputs
    from kobench.report.model_index import build_model_index, update_card

    if pipeline not in ("kobench", "protocol"):
        raise typer.BadParameter("--pipeline must be kobench or protocol")
    try:
        runs, _ = load_inputs(results)  # kobench's own runs: another harness's file is refused by name
        index = build_model_index(runs, model_name=model_name, pipeline=pipeline, url=source_url)
        changed = update_card(readme, index) if readme is not None else False
    except KobenchError as exc:
        _fail(exc)
    for task, why in index.skipped.items():
        typer.secho(f"left out {task}: {why}", fg="yellow", err=True)
    if readme is None:
        typer.echo(index.to_yaml(), nl=False)
    else:
        typer.echo(f"{readme}: {'updated' if changed else 'already up to date'} (model-index)")


data_app = typer.Typer(help="Built-in generated benchmarks.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("synth")
def data_synth(
    out: Annotated[
        Path, typer.Option("--out", "--output", "-o", help="Folder to write DIR/kobench/<name>/ into.")
    ],
    seed: Annotated[int, typer.Option(help="Generator seed (the same seed gives the same data).")] = 0,
    only: Annotated[list[str], typer.Option(help="Only these generators (repeatable).")] = [],  # noqa: B006
) -> None:
    """Write the generated benchmarks; `kobench run --data-dir DIR` then finds them."""
    from kobench.synth.registry import synth_all

    try:
        written = synth_all(out, seed, only or None)
    except KobenchError as exc:
        _fail(exc)
    for name, path in written.items():
        typer.echo(f"{name}: {path}")


@app.command()
def demo(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Folder for the demo's results, replaced each run.",
            show_default="CACHE/demo, e.g. ~/.cache/kobench/demo",
        ),
    ] = None,
    cache_dir: Annotated[Path | None, typer.Option(envvar="KOBENCH_CACHE_DIR", help="Cache folder.")] = None,
) -> None:
    """Run the built-in demo (generated benchmarks, real baselines, a tiny model; no download).

    Generated Korean benchmarks, real OCR baselines, chance and blind-caption baselines and a tiny random
    model built locally; ends with the leaderboard. Writes into the cache, never into the checkout (its
    results/demo/ is regenerated by scripts/results.sh only); a second run is answered from the cache."""
    from kobench.demo import demo_output, run_demo
    from kobench.report.summary import markdown_table, run_summary

    try:
        results, notes = run_demo(output, cache_dir, say=typer.echo)
    except KobenchError as exc:
        _fail(exc)
    for result in results:
        typer.echo(f"\n{result.run.model.name}")
        typer.echo(run_summary(result))
    typer.echo(markdown_table(results))
    typer.secho(notes, fg="yellow")
    typer.echo(f"\nresults and samples: {output or demo_output(cache_dir)}/<model>/")


@app.command()
def plot(
    results: ResultsArgs,
    out: Annotated[
        Path, typer.Option("--out", "--output", "-o", help="The PNG to write (its folder is created).")
    ],
    pipeline: Pipeline = "kobench",
    radar: Annotated[
        bool, typer.Option("--radar", help="Also write a radar chart to OUT's stem + '-radar.png'.")
    ] = False,
    title: Annotated[str | None, typer.Option(help="Figure title.")] = None,
) -> None:
    """Draw the leaderboard as grouped bars: one panel per category, one bar per model."""
    from kobench.report.plot import plot_results

    if pipeline not in ("kobench", "protocol"):
        raise typer.BadParameter("--pipeline must be kobench or protocol")
    try:
        inputs = _load_all(results)
        written = plot_results(
            inputs.results,
            out,
            pipeline=pipeline,
            radar=radar,
            title=title,
            efficiency=inputs.efficiency,
            imported=inputs.imported,
        )
    except KobenchError as exc:
        _fail(exc)
    for path in written:
        typer.echo(str(path))


TYPER_INTERRUPTED = 130  # what typer exits with when Ctrl-C reaches it (kobench says 5: interrupted)


def _on_interrupt(exit_code: int | None) -> None:
    """What Ctrl-C does from now on. None (the command's work): the first raises KeyboardInterrupt (a run
    stops, writes what finished and exits 5), any later one ends the process at once with 5. An exit code
    (the work is done, the interpreter shuts down): Ctrl-C ends it at once with that code, and is ignored
    in the last steps of the shutdown, where Python hands the signal back to the OS. Never a traceback.
    Samples and cache are written as answers arrive and results atomically, so what finished is on disk
    however it ends: the same command resumes. Left alone where Ctrl-C is ignored (nohup, background jobs)."""
    import atexit
    import contextlib
    import os
    import signal

    def stop_now(code: int, say: str = "") -> None:
        with contextlib.suppress(Exception):  # a closed or broken stream: exit all the same
            sys.stdout.flush()
            sys.stderr.write(say)
            sys.stderr.flush()
        os._exit(code)

    def first(signum: int, frame: object) -> None:
        again = "\ninterrupted again: stopping now; re-run the same command to resume\n"
        signal.signal(signal.SIGINT, lambda *_: stop_now(EXIT_INCOMPLETE, again))
        raise KeyboardInterrupt

    if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, None):
        return
    if exit_code is None:
        signal.signal(signal.SIGINT, first)
        return
    signal.signal(signal.SIGINT, lambda *_: stop_now(exit_code))
    atexit.register(signal.signal, signal.SIGINT, signal.SIG_IGN)  # atexit runs it first (last in, first out)


def _summaries_as_paragraphs(*apps: typer.Typer) -> None:
    """Typer's command list shows a docstring's first paragraph with its line breaks (those of the source);
    joined, it wraps at the terminal's width instead."""
    for each in apps:
        for command in each.registered_commands:
            text = command.help if command.help is not None else inspect.getdoc(command.callback)
            if text:
                first, *rest = text.split("\n\n")
                command.help = "\n\n".join([" ".join(first.splitlines()), *rest])


_summaries_as_paragraphs(app, data_app)


def main() -> None:
    import gc

    _on_interrupt(None)
    code: int | str | None = 0
    try:
        app()
    except KeyboardInterrupt:  # before typer took over
        code = EXIT_INCOMPLETE
    except SystemExit as exc:
        code = exc.code
        if code == TYPER_INTERRUPTED:  # Ctrl-C outside a run's own handling (loading data, another command)
            typer.secho("interrupted", fg="red", err=True)
            code = EXIT_INCOMPLETE
    finally:
        # Everything is written and closed by now. At exit the interpreter garbage-collects what is still
        # alive again and again as it clears each module (torch and transformers bring some 230,000 objects):
        # 1.3-1.5 s after a run on two cores. Frozen, the collector skips them (0.3 s); each object is still
        # released, atexit handlers and weakref finalizers still run, the streams are still flushed.
        gc.freeze()
    # A Ctrl-C while the interpreter shuts down ends it with the code already decided, not a traceback.
    _on_interrupt(code if isinstance(code, int) else int(code is not None))
    # CPython remembers a KeyboardInterrupt that ended code run from a string (exec/eval of a str: dataclass
    # and namedtuple bodies, templates) even when a caller caught it, and `python -m` then kills the process
    # with SIGINT at exit instead of exiting with our code. Each string eval clears that flag: this one says
    # the interrupt was handled.
    exec("None")
    sys.exit(code)
