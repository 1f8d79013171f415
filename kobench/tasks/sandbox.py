"""The Jinja environment task templates render in: sandboxed (no Python internals), undefined names are
errors, and every render has a budget, so a task file cannot hang a run or exhaust its memory.

Jinja's own sandbox refuses code execution and a single `range` over 100,000 numbers; it does not bound
what a template may build. Here each render (`bounded`) may write at most `chars` characters (the rendered
prompt's cap, ScoringOptions.max_prompt_chars) and perform at most MAX_OPERATIONS operations (calls, and
the numbers every `range` counts through: nested loops add up). What could build a value larger than the
cap before anything is written is checked first: `*` and `**`, `%` and `str.format` widths, padding
(`center`, `ljust`, `indent`, ...), `replace` and `join`, a `namespace` attribute, and every call's
arguments. Each refusal is a `TemplateLimit` naming the limit.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any

from jinja2 import StrictUndefined
from jinja2.filters import FILTERS
from jinja2.sandbox import SandboxedEnvironment, safe_range
from jinja2.utils import Namespace

# The most characters one rendered prompt may have (ScoringOptions.max_prompt_chars overrides it). The
# longest built-in prompt on the fixtures (tests/fixtures/mirrors) is CLIcK 5-shot at 961 characters,
# KMMLU 5-shot 685; real 5-shot rows run to a few thousand. 200,000 is far above both, and above what a
# 128k-token context window holds of Korean text.
MAX_PROMPT_CHARS = 200_000
# The most calls and `range` steps one render may take: a prompt takes tens, one `range` at most 100,000.
MAX_OPERATIONS = 200_000


class TemplateLimit(Exception):
    """A render refused for what it would cost (characters or operations)."""


@dataclass
class _Budget:
    chars: int
    operations: int = MAX_OPERATIONS

    def spend(self, operations: int) -> None:
        self.operations -= operations
        if self.operations < 0:
            raise TemplateLimit(f"the template takes more than {MAX_OPERATIONS:,} operations (loops, calls)")

    def allow(self, size: int, what: str) -> None:
        if size > self.chars:
            raise TemplateLimit(
                f"{what} would hold about {size:,} characters, more than the {self.chars:,} a prompt may "
                "have (--max-prompt-chars)"
            )


_LIMIT: ContextVar[int] = ContextVar("kobench_prompt_chars", default=MAX_PROMPT_CHARS)
_BUDGET: ContextVar[_Budget | None] = ContextVar("kobench_render_budget", default=None)


@contextmanager
def prompt_limit(chars: int) -> Iterator[None]:
    """Renders inside this block may write (and build) at most `chars` characters."""
    token = _LIMIT.set(chars)
    try:
        yield
    finally:
        _LIMIT.reset(token)


def current_limit() -> int:
    return _LIMIT.get()


@contextmanager
def bounded() -> Iterator[_Budget]:
    """One render's budget: the characters `prompt_limit` allows, MAX_OPERATIONS operations."""
    budget = _Budget(_LIMIT.get())
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


def _budget() -> _Budget:
    return _BUDGET.get() or _Budget(_LIMIT.get())


def weight(value: Any, depth: int = 0) -> int:
    """About how many characters `value` holds (nested lists counted through; deeper than 3, 1 each)."""
    if isinstance(value, str):
        return len(value)
    if depth < 3 and isinstance(value, list | tuple | dict):
        items = list(value.items()) if isinstance(value, dict) else value
        return len(items) + sum(weight(v, depth + 1) for v in items)
    return 1


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# printf-style widths and precisions (`%10000d`, `%.*f`), and a str.format spec (`{:>10000}`)
_PRINTF = re.compile(r"%[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")
_NESTED_SPEC = re.compile(r"\{[^{}]*:[^{}]*\{")


def _check_widths(text: str, args: Any, nested: bool, budget: _Budget) -> None:
    numbers = [int(n) for spec in _FORMAT_SPEC.findall(text) for n in re.findall(r"\d+", spec)]
    numbers += [int(n) for match in _PRINTF.findall(text) for n in match if n.isdigit()]
    if nested:  # a width given as an argument
        numbers += [a for a in args if _is_int(a)]
    for number in numbers:
        budget.allow(number, "a formatted value")


def _check_binop(operator: str, left: Any, right: Any, budget: _Budget) -> None:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and _is_int(times):
                budget.allow(weight(seq) * max(times, 0), "a repeated value")
    elif operator == "**" and _is_int(left) and _is_int(right) and abs(left) > 1 and right > 0:
        budget.allow(int(right * (abs(left).bit_length() - 1) * 0.30103), "a power")  # its decimal digits
    elif operator == "%" and isinstance(left, str):
        args = right if isinstance(right, tuple) else (right,)
        _check_widths(left, args, "*" in left, budget)


_PADDING = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def _check_call(obj: Any, args: tuple, kwargs: dict, budget: _Budget) -> None:
    for value in (*args, *kwargs.values()):
        budget.allow(weight(value), "a call's argument")
    target = inspect.unwrap(obj)  # the sandbox wraps str.format
    text, name = getattr(target, "__self__", None), getattr(target, "__name__", "")
    if not isinstance(text, str):
        return
    values = (*args, *kwargs.values())
    if name in _PADDING:
        for number in (v for v in values if _is_int(v)):
            budget.allow(number, f"str.{name}'s result")
    elif name in ("format", "format_map"):
        mapped = args[0].values() if name == "format_map" and args and isinstance(args[0], dict) else ()
        _check_widths(text, (*values, *mapped), bool(_NESTED_SPEC.search(text)), budget)
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        count = text.count(args[0]) if args[0] else len(text) + 1
        budget.allow(len(text) + count * max(len(args[1]) - len(args[0]), 0), "str.replace's result")
    elif name == "join" and args and isinstance(args[0], list | tuple):
        budget.allow(weight(args[0]) + len(text) * len(args[0]), "str.join's result")


def _range(*args: int) -> range:
    numbers = safe_range(*args)  # Jinja's own: at most 100,000 numbers in one range
    _budget().spend(len(numbers))
    return numbers


class _Namespace(Namespace):
    """`namespace()`, whose attributes cannot grow past the cap (`ns.x = ns.x ~ ns.x` in a loop)."""

    def __setitem__(self, name: str, value: Any) -> None:
        _budget().allow(weight(value), f"namespace attribute {name!r}")
        super().__setitem__(name, value)


class _BoundedSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = _budget()
        budget.spend(1)
        _check_binop(operator, left, right, budget)
        return super().call_binop(context, operator, left, right)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        budget.spend(1)
        _check_call(obj, args, kwargs, budget)
        return super().call(context, obj, *args, **kwargs)


def _bounded_filter(name: str, check: Callable[[tuple, _Budget], None]) -> Callable[..., Any]:
    original = FILTERS[name]

    @wraps(original)  # keeps Jinja's pass_context / pass_eval_context mark
    def bounded_filter(*args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        budget.spend(1)
        check((*args, *kwargs.values()), budget)
        return original(*args, **kwargs)

    return bounded_filter


def _widths(args: tuple, budget: _Budget) -> None:
    for number in (a for a in args if _is_int(a)):
        budget.allow(number, "a filter's result")


def _format_filter(args: tuple, budget: _Budget) -> None:
    if args and isinstance(args[0], str):
        _check_widths(args[0], args[1:], "*" in args[0], budget)


def _replace_filter(args: tuple, budget: _Budget) -> None:
    texts = [a for a in args if isinstance(a, str)]  # eval context first, then s, old, new
    if len(texts) >= 3:
        text, old, new = texts[:3]
        count = text.count(old) if old else len(text) + 1
        budget.allow(len(text) + count * max(len(new) - len(old), 0), "replace's result")


def _join_filter(args: tuple, budget: _Budget) -> None:
    # eval context, then the items, then the separator
    at = next((i for i, a in enumerate(args) if isinstance(a, list | tuple)), None)
    if at is not None:
        items, rest = args[at], args[at + 1 :]
        separator = rest[0] if rest and isinstance(rest[0], str) else ""
        budget.allow(weight(items) + len(separator) * len(items), "join's result")


def environment() -> SandboxedEnvironment:
    """The environment every task template and expression renders in."""
    # keep_trailing_newline: protocol strings are byte-exact, and Jinja drops a final newline by default
    # (the K-LLaVA-W judge message ends with two newlines).
    env = _BoundedSandbox(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
    env.globals["range"] = _range
    env.globals["namespace"] = _Namespace
    del env.globals["lipsum"]  # lorem ipsum of any length: nothing a prompt needs
    for name in ("center", "indent", "batch", "slice"):  # a width, or a count of items made
        env.filters[name] = _bounded_filter(name, _widths)
    env.filters["format"] = _bounded_filter("format", _format_filter)
    env.filters["replace"] = _bounded_filter("replace", _replace_filter)
    env.filters["join"] = _bounded_filter("join", _join_filter)
    return env
