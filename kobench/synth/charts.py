"""ko-chart-synth: generated Korean bar, line and pie charts with questions about them.

Charts are drawn with matplotlib in a Korean font (Debian's fonts-nanum) with Korean titles,
axis labels, categories (regions, months, products, departments) and units (억 원, 만 명, %, 개,
톤, 명). Most charts print their values on bars, points and wedges, as report charts do; the rest
do not, and get only questions that the picture answers without reading exact values (largest,
smallest, trend).

Two splits share the chart images:
- ``mc``: K-DTCBench-style four-option questions (value lookup, largest/smallest, trend); the
  distractors of a value lookup are nearby values printed nowhere in the chart; the correct
  letters are balanced over A-D.
- ``qa``: open questions with accepted answer variants: values, differences and sums computed
  from the data (numeric), and the category with the largest/smallest value (text).

Deterministic from the seed (chart i does not depend on how many charts are generated; PNGs are
written without version metadata). ``build_charts`` and ``chart_items`` expose the data behind
every chart and question so tests can check them.
"""

from __future__ import annotations

import io
import itertools
import random
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from kobench.synth.common import image_cell, korean_fonts, write_splits
from kobench.synth.korean_text import has_batchim

CHART_GENERATOR_VERSION = "1"
KINDS = ("bar", "line", "pie")
DEFAULT_COUNT = 60  # 20 of each kind
LETTERS = "ABCD"

REGIONS = ("서울", "부산", "대구", "인천", "광주", "대전", "울산", "세종", "경기", "강원", "제주")
PRODUCTS = ("스마트폰", "노트북", "태블릿", "스마트워치", "무선 이어폰", "모니터", "프린터")
DEPARTMENTS = ("영업부", "개발부", "인사부", "마케팅부", "총무부", "재무부", "생산부", "고객지원부")
STORES = ("강남점", "홍대점", "잠실점", "판교점", "해운대점", "수원점", "일산점")
FACTORIES = ("울산공장", "구미공장", "평택공장", "광양공장", "창원공장", "아산공장")
MONTHS = tuple(f"{m}월" for m in range(1, 13))
QUARTERS = ("1분기", "2분기", "3분기", "4분기")
PATTERNS = {
    "up": "꾸준히 증가했다",
    "down": "꾸준히 감소했다",
    "up-down": "증가하다가 감소했다",
    "down-up": "감소하다가 증가했다",
}
PAIR_TREND = ("증가했다", "감소했다", "변화가 없다", "절반 이하로 감소했다")


@dataclass(frozen=True)
class Theme:
    title: str  # may hold {year}
    metric: str  # 매출, 방문객 수, ...
    unit: str  # 억 원, 만 명, %, 개, 톤, 명
    decimals: int  # 0 or 1
    low: float
    high: float
    x_name: str  # what a category is: 지역, 달, 해, 항목 ...
    which: str  # 어디 | 무엇 | 언제
    pool: tuple[str, ...]  # categories to draw from
    more: str = "높은"  # 높은 | 많은 | 큰
    less: str = "낮은"
    ordered: bool = False  # keep the pool's order (months, years, age groups)


# fmt: off
# Theme(title, metric, unit, decimals, low, high, x_name, which, pool, more, less, ordered)
MANY, BIG = ("많은", "적은"), ("큰", "작은")  # counts and shares are 많다/크다, not 높다
BAR_THEMES = (
    Theme("{year}년 지역별 매출", "매출", "억 원", 0, 120, 2400, "지역", "어디", REGIONS),
    Theme("{year}년 제품별 판매량", "판매량", "개", 0, 150, 4800, "제품", "무엇", PRODUCTS, *MANY),
    Theme("{year}년 부서별 인원", "인원", "명", 0, 8, 160, "부서", "어디", DEPARTMENTS, *MANY),
    Theme("{year}년 지점별 방문객 수", "방문객 수", "만 명", 1, 3, 95, "지점", "어디", STORES, *MANY),
    Theme("{year}년 공장별 생산량", "생산량", "톤", 0, 300, 5200, "공장", "어디", FACTORIES, *MANY),
    Theme("{year}년 부서별 예산 집행률", "집행률", "%", 1, 45, 98, "부서", "어디", DEPARTMENTS),
    Theme("{year}년 지역별 신규 가입자 수", "신규 가입자 수", "만 명", 1, 2, 60, "지역", "어디", REGIONS,
          *MANY),
)
LINE_THEMES = (  # an empty pool: consecutive years
    Theme("{year}년 월별 방문객 수", "방문객 수", "만 명", 1, 5, 80, "달", "언제", MONTHS, *MANY, True),
    Theme("연도별 매출 추이", "매출", "억 원", 0, 300, 4000, "해", "언제", (), ordered=True),
    Theme("{year}년 월별 판매량", "판매량", "개", 0, 200, 3000, "달", "언제", MONTHS, *MANY, True),
    Theme("연도별 신규 가입자 수", "신규 가입자 수", "만 명", 1, 3, 90, "해", "언제", (), *MANY, True),
    Theme("{year}년 분기별 생산량", "생산량", "톤", 0, 800, 9000, "분기", "언제", QUARTERS, *MANY, True),
    Theme("연도별 재활용률", "재활용률", "%", 1, 35, 88, "해", "언제", (), ordered=True),
)
PIE_THEMES = (  # shares in %, summing to 100
    Theme("{year}년 지역별 매출 비중", "매출 비중", "%", 1, 0, 0, "지역", "어디", REGIONS, *BIG),
    Theme("출퇴근 교통수단 이용 비율", "이용 비율", "%", 1, 0, 0, "교통수단", "무엇",
          ("버스", "지하철", "자가용", "택시", "도보·자전거")),
    Theme("연령대별 회원 구성", "회원 비율", "%", 1, 0, 0, "연령대", "무엇",
          ("10대", "20대", "30대", "40대", "50대 이상"), ordered=True),
    Theme("발전원별 발전량 비중", "발전량 비중", "%", 0, 0, 0, "발전원", "무엇",
          ("원자력", "석탄", "LNG", "신재생", "수력", "석유"), *BIG),
    Theme("가계 지출 구성", "지출 비중", "%", 1, 0, 0, "항목", "무엇",
          ("식비", "주거비", "교통비", "교육비", "여가비", "의료비"), *BIG),
    Theme("고객 만족도 조사 결과", "응답 비율", "%", 0, 0, 0, "응답", "무엇",
          ("매우 만족", "만족", "보통", "불만족", "매우 불만족"), ordered=True),
    Theme("{year}년 부서별 예산 비중", "예산 비중", "%", 1, 0, 0, "부서", "어디", DEPARTMENTS, *BIG),
    Theme("{year}년 제품별 시장 점유율", "점유율", "%", 1, 0, 0, "제품", "무엇", PRODUCTS),
)
# fmt: on
PALETTES = (
    ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3"),
    ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"),
    ("#2E5A87", "#F2A541", "#7FB069", "#D1495B", "#66A5AD", "#A77DC2", "#EDAE49"),
    ("#3A6EA5", "#C0504D", "#9BBB59", "#8064A2", "#4BACC6", "#F79646", "#7F7F7F"),
)


# --- structured charts -------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    name: str  # "" for a chart with one series
    raw: tuple[int, ...]  # values times 10**decimals


@dataclass(frozen=True)
class Chart:
    chart_id: str
    kind: str  # bar | line | pie
    theme: Theme
    title: str
    period: str  # "2023년" when the title names a year and the chart has one series, else ""
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    labelled: bool  # values printed on the bars / points / wedges
    horizontal: bool
    pattern: str  # overall trend of a one-series line chart (a PATTERNS key), else ""
    font: str  # a label from common.KOREAN_FONTS
    palette: int
    unit_in_label: bool  # "매출(억 원)" as the axis label, else "(단위: 억 원)" in the corner
    label_style: int  # pie value labels: 0 white inside, 1 dark inside (lighter wedges), 2 outside

    @property
    def decimals(self) -> int:
        return self.theme.decimals

    def fmt(self, raw: int) -> str:
        return fmt(raw, self.decimals)


def fmt(raw: int, decimals: int) -> str:
    """A scaled integer as printed: 12345 -> "12,345" (0 decimals) or "1,234.5" (1 decimal)."""
    if decimals == 0:
        return f"{raw:,}"
    sign = "-" if raw < 0 else ""
    whole, frac = divmod(abs(raw), 10**decimals)
    return f"{sign}{whole:,}.{frac:0{decimals}d}"


def _unique_extremes(values: list[int], margin: float) -> bool:
    ordered = sorted(values)
    return ordered[-1] - ordered[-2] >= margin and ordered[1] - ordered[0] >= margin


def _bar_values(rng: random.Random, theme: Theme, n: int) -> list[int]:
    scale = 10**theme.decimals
    lo, hi = int(theme.low * scale), int(theme.high * scale)
    while True:
        values = [rng.randint(lo, hi) for _ in range(n)]
        if _unique_extremes(values, 0.04 * (hi - lo)):
            return values


def _pattern_values(rng: random.Random, theme: Theme, n: int, pattern: str) -> list[int]:
    scale = 10**theme.decimals
    lo, hi = theme.low * scale, theme.high * scale
    span = hi - lo
    turn = rng.randint(1, n - 2) if "-" in pattern else n
    signs = []
    for k in range(1, n):
        first = pattern.split("-")[0]
        up = (first == "up") if k <= turn else (first != "up")
        signs.append(1 if up else -1)
    steps = [s * rng.uniform(0.06, 0.2) * span for s in signs]
    path = [0.0]
    for step in steps:
        path.append(path[-1] + step)
    width = max(path) - min(path)
    if width > 0.9 * span:
        path = [p * 0.9 * span / width for p in path]
        width = 0.9 * span
    start = lo + rng.uniform(0, span - width) - min(path)
    return [round(start + p) for p in path]


def _walk(rng: random.Random, n: int, lo: float, hi: float) -> list[int]:
    """A random walk in [lo, hi] whose every step is visible (at least 4% of the band)."""
    span = hi - lo
    while True:
        values = [rng.uniform(lo + 0.2 * span, hi - 0.2 * span)]
        for _ in range(n - 1):
            step = rng.uniform(0.05, 0.22) * span * rng.choice((-1, 1))
            nxt = values[-1] + step
            if not lo <= nxt <= hi:
                nxt = values[-1] - step
            values.append(nxt)
        raw = [round(v) for v in values]
        if _unique_extremes(raw, 0.03 * span):
            return raw


def _pie_values(rng: random.Random, theme: Theme, n: int) -> list[int]:
    total = 100 * 10**theme.decimals
    floor = 5 * 10**theme.decimals
    while True:
        weights = [rng.uniform(0.6, 4.0) for _ in range(n)]
        scale = (total - floor * n) / sum(weights)
        values = [floor + int(w * scale) for w in weights]
        values[values.index(max(values))] += total - sum(values)
        if _unique_extremes(values, 1.5 * 10**theme.decimals):
            return values


def build_chart(seed: int, index: int) -> Chart:
    """Chart ``index`` of the set generated from ``seed`` (independent of the set's size)."""
    rng = random.Random(f"kochart/{seed}/{index}")
    kind = KINDS[index % 3]
    nth = index // 3  # index among charts of its kind
    labelled = nth % 4 != 3  # 15 of every 20 print their values
    year = rng.randint(2019, 2024)
    fonts = [label for _, label in korean_fonts() if label in ("gothic", "barun-gothic", "square")]
    font = rng.choice(fonts or [korean_fonts()[0][1]])
    palette = rng.randrange(len(PALETTES))
    horizontal, pattern, period = False, "", ""
    if kind == "bar":
        theme = BAR_THEMES[rng.randrange(len(BAR_THEMES))]
        categories = tuple(rng.sample(theme.pool, rng.randint(4, min(7, len(theme.pool)))))
        horizontal = nth % 5 == 2
        if nth % 3 == 1:  # two years side by side
            first = _bar_values(rng, theme, len(categories))
            scale = 10**theme.decimals
            hi = int(theme.high * scale)
            while True:
                second = []
                for v in first:
                    factor = rng.uniform(0.78, 0.96) if rng.random() < 0.4 else rng.uniform(1.04, 1.25)
                    second.append(min(hi, max(1, round(v * factor))))
                if _unique_extremes(second, 0.04 * hi) and all(
                    a != b for a, b in zip(first, second, strict=True)
                ):
                    break
            series = (Series(f"{year - 1}년", tuple(first)), Series(f"{year}년", tuple(second)))
            title = theme.title.replace("{year}년 ", "") + f" ({year - 1}~{year}년)"
        else:
            series = (Series("", tuple(_bar_values(rng, theme, len(categories)))),)
            title = theme.title.format(year=year)
            period = f"{year}년" if "{year}" in theme.title else ""
    elif kind == "line":
        theme = LINE_THEMES[rng.randrange(len(LINE_THEMES))]
        if theme.pool == MONTHS:
            categories = MONTHS[: rng.choice((6, 8, 10, 12, 12))]
        elif theme.pool:
            categories = theme.pool
        else:
            length = rng.randint(6, 9)
            categories = tuple(f"{y}년" for y in range(2024 - length + 1, 2025))
        scale = 10**theme.decimals
        lo, hi = theme.low * scale, theme.high * scale
        two = nth % 3 == 1 and (len(categories) <= 8 or not labelled)
        if two:
            if theme.pool in (MONTHS, QUARTERS):
                names = (f"{year - 1}년", f"{year}년")
                upper_first = False
            else:
                names = tuple(rng.sample(REGIONS[:4] if theme.unit != "%" else ("서울", "부산", "대구"), 2))
                upper_first = True
            # the second series follows the first's shape at 60-85% of its level, so the lines never
            # cross and the value labels (above the upper line, below the lower) never collide
            while True:
                upper = _walk(rng, len(categories), lo + 0.3 * (hi - lo), hi)
                lower = [round(v * rng.uniform(0.6, 0.85)) for v in upper]
                if _unique_extremes(lower, 0.03 * (hi - lo)) and all(
                    a != b for a, b in itertools.pairwise(lower)
                ):
                    break
            pairs = (upper, lower) if upper_first else (lower, upper)
            series = tuple(Series(name, tuple(v)) for name, v in zip(names, pairs, strict=True))
            title = theme.title.replace("{year}년 ", "")
        else:
            pattern = rng.choice(sorted(PATTERNS))
            if len(categories) < 4:
                pattern = pattern.split("-")[0]
            series = (Series("", tuple(_pattern_values(rng, theme, len(categories), pattern))),)
            title = theme.title.format(year=year)
            period = f"{year}년" if "{year}" in theme.title else ""
    else:
        theme = PIE_THEMES[rng.randrange(len(PIE_THEMES))]
        count = rng.randint(4, min(6, len(theme.pool)))
        categories = theme.pool if theme.ordered else tuple(rng.sample(theme.pool, count))
        series = (Series("", tuple(_pie_values(rng, theme, len(categories)))),)
        title = theme.title.format(year=year)
        period = f"{year}년" if "{year}" in theme.title else ""
    return Chart(
        chart_id=f"kochart-{index:03d}",
        kind=kind,
        theme=theme,
        title=title,
        period=period,
        categories=tuple(categories),
        series=series,
        labelled=labelled,
        horizontal=horizontal,
        pattern=pattern,
        font=font,
        palette=palette,
        unit_in_label=rng.random() < 0.6,
        label_style=rng.randrange(3),
    )


def build_charts(seed: int = 0, n: int = DEFAULT_COUNT) -> list[Chart]:
    return [build_chart(seed, i) for i in range(n)]


# --- drawing -----------------------------------------------------------------------------------

_FAMILIES: dict[str, tuple[str, int]] = {}


def _family(label: str) -> tuple[str, int]:
    """Register the Korean font and its bold face with matplotlib; returns (family name, bold weight)."""
    if label not in _FAMILIES:
        from matplotlib import font_manager

        path = {lab: p for p, lab in korean_fonts()}[label]
        bold = path.with_name(path.stem[:-1] + "B.ttf" if path.stem.endswith("R") else path.stem + "Bold.ttf")
        for candidate in (path, bold):
            if candidate.is_file():
                font_manager.fontManager.addfont(str(candidate))
        name = font_manager.FontProperties(fname=str(path)).get_name()
        weights = [f.weight for f in font_manager.fontManager.ttflist if f.name == name]
        weight = max((int(w) for w in weights if str(w).isdigit()), default=400)
        _FAMILIES[label] = (name, weight)
    return _FAMILIES[label]


def _number_formatter(value: float, _pos: int) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 else f"{value:,.1f}"


def render_chart(chart: Chart) -> tuple[bytes, list[str]]:
    """The chart as PNG bytes, and every text drawn on it (title, labels, ticks, values, legend)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    family, bold = _family(chart.font)
    colours = PALETTES[chart.palette]
    scale = 10**chart.decimals
    theme = chart.theme
    rc = {
        "font.family": family,
        "axes.unicode_minus": False,
        "font.size": 11,
        "axes.titlesize": 15,
        "axes.titleweight": bold,  # Nanum's bold faces register as weight 600 or 700
        "axes.titlepad": 14,
    }
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(8, 5.5), dpi=120)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.set_title(chart.title)
        value_texts: list[str] = []
        if chart.kind in ("bar", "line"):
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            value_axis = ax.xaxis if chart.horizontal else ax.yaxis
            value_axis.set_major_formatter(FuncFormatter(_number_formatter))
            ax.grid(axis="x" if chart.horizontal else "y", linestyle="--", alpha=0.4)
            ax.set_axisbelow(True)
            label = f"{theme.metric}({theme.unit})" if chart.unit_in_label else theme.metric
            if chart.horizontal:
                ax.set_xlabel(label)
            else:
                ax.set_ylabel(label)
            if not chart.unit_in_label:
                ax.text(
                    1.0,
                    1.01,
                    f"(단위: {theme.unit})",
                    transform=ax.transAxes,
                    ha="right",
                    va="bottom",
                    fontsize=10,
                )
        if chart.kind == "bar":
            _draw_bars(ax, chart, colours, scale, value_texts)
        elif chart.kind == "line":
            _draw_lines(ax, chart, colours, scale, value_texts)
        else:
            _draw_pie(ax, chart, colours, scale, value_texts)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=120, metadata={"Software": None})  # no version, no date
        # saving drew the figure, so the tick labels are final (ticks outside the view are kept:
        # a distractor only has to avoid more numbers)
        texts = [chart.title, *chart.categories, *(s.name for s in chart.series), *value_texts]
        if chart.kind != "pie":
            texts.append(theme.unit)
            for axis_labels in (ax.get_xticklabels(), ax.get_yticklabels()):
                texts.extend(t.get_text() for t in axis_labels)
    return buf.getvalue(), texts


def _draw_bars(ax: Any, chart: Chart, colours: tuple[str, ...], scale: int, value_texts: list[str]) -> None:
    import numpy as np

    positions = np.arange(len(chart.categories))
    count = len(chart.series)
    width = 0.7 / count
    for k, series in enumerate(chart.series):
        offset = (k - (count - 1) / 2) * width
        values = [v / scale for v in series.raw]
        colour = colours[k] if count > 1 else colours[0]
        if chart.horizontal:
            bars = ax.barh(
                positions + offset, values, height=width * 0.92, color=colour, label=series.name or None
            )
        else:
            bars = ax.bar(
                positions + offset, values, width=width * 0.92, color=colour, label=series.name or None
            )
        if chart.labelled:
            labels = [chart.fmt(v) for v in series.raw]
            ax.bar_label(bars, labels=labels, padding=3, fontsize=10 if count == 1 else 9)
            value_texts.extend(labels)
    if chart.horizontal:
        ax.set_yticks(positions, chart.categories)
        ax.invert_yaxis()
        ax.margins(x=0.12)
    else:
        ax.set_xticks(positions, chart.categories)
        ax.margins(y=0.12)
    if count > 1:
        ax.legend(frameon=False, loc="upper right", bbox_to_anchor=(1.0, 1.0), ncols=count)
        lo, hi = ax.get_xlim() if chart.horizontal else ax.get_ylim()
        (ax.set_xlim if chart.horizontal else ax.set_ylim)(lo, hi * 1.12)


def _draw_lines(ax: Any, chart: Chart, colours: tuple[str, ...], scale: int, value_texts: list[str]) -> None:
    positions = list(range(len(chart.categories)))
    means = [sum(s.raw) / len(s.raw) for s in chart.series]
    markers = ("o", "s", "^")
    for k, series in enumerate(chart.series):
        values = [v / scale for v in series.raw]
        ax.plot(
            positions,
            values,
            marker=markers[k],
            color=colours[k],
            linewidth=2,
            markersize=6,
            label=series.name or None,
        )
        if chart.labelled:
            below = len(chart.series) > 1 and means[k] < max(means)
            for x, raw in zip(positions, series.raw, strict=True):
                text = chart.fmt(raw)
                ax.annotate(
                    text,
                    (x, raw / scale),
                    textcoords="offset points",
                    xytext=(0, -15 if below else 8),
                    ha="center",
                    va="top" if below else "bottom",
                    fontsize=9.5,
                )
                value_texts.append(text)
    ax.set_xticks(positions, chart.categories)
    ax.margins(x=0.06, y=0.18)
    if len(chart.series) > 1:
        ax.legend(frameon=False, loc="best")


def _draw_pie(ax: Any, chart: Chart, colours: tuple[str, ...], scale: int, value_texts: list[str]) -> None:
    import math

    from matplotlib.colors import to_rgb

    values = [v / scale for v in chart.series[0].raw]
    style = chart.label_style if chart.labelled else 0
    wedge_colours = [to_rgb(c) for c in colours[: len(values)]]
    if style == 1:  # pastel wedges under dark labels
        wedge_colours = [tuple(0.45 * x + 0.55 for x in c) for c in wedge_colours]
    printed = [f"{chart.fmt(raw)}%" for raw in chart.series[0].raw]
    labels = chart.categories
    if style == 2:
        labels = tuple(f"{name}\n{value}" for name, value in zip(chart.categories, printed, strict=True))
    wedges, _texts = ax.pie(
        values,
        labels=labels,
        colors=wedge_colours,
        startangle=90,
        counterclock=False,
        labeldistance=1.1,
        wedgeprops={"edgecolor": "white", "linewidth": 1.5},
        textprops={"fontsize": 11},
    )
    if chart.labelled:
        value_texts.extend(printed)
    if chart.labelled and style in (0, 1):
        for wedge, text in zip(wedges, printed, strict=True):
            angle = math.radians((wedge.theta1 + wedge.theta2) / 2)
            ax.text(
                0.66 * math.cos(angle),
                0.66 * math.sin(angle),
                text,
                ha="center",
                va="center",
                fontsize=11,
                color="white" if style == 0 else "#1a1a1a",
                fontweight=ax.title.get_fontweight(),
            )
    ax.set_aspect("equal")


# --- questions ---------------------------------------------------------------------------------


def _josa(word: str, with_final: str, without: str) -> str:
    return word + (with_final if has_batchim(word) else without)


def _point(chart: Chart, s: int, c: int) -> str:
    """How a question names one value: "2023년 서울", "3월 부산", "2024년 5월", "지하철"."""
    series = chart.series[s].name
    category = chart.categories[c]
    if not series:
        return f"{chart.period} {category}" if chart.period and chart.kind != "pie" else category
    return f"{series} {category}" if series.endswith("년") else f"{category} {series}"


def _with_unit(text: str, unit: str) -> str:
    return f"{text}{unit}"


def _group(chart: Chart, s: int, categories: list[int]) -> str:
    """Several values of one series: "2020년 구미공장과 창원공장", "서울의 1월, 3월과 5월"."""
    names = [chart.categories[k] for k in categories]
    joined = f"{_josa(', '.join(names[:-1]), '과', '와')} {names[-1]}"
    series = chart.series[s].name
    if series:
        return f"{series} {joined}" if series.endswith("년") else f"{series}의 {joined}"
    return f"{chart.period} {joined}" if chart.period and chart.kind != "pie" else joined


def _numeric_answers(raw: int, decimals: int, units: tuple[str, ...]) -> list[str]:
    printed = fmt(raw, decimals)
    plain = printed.replace(",", "")
    out = [printed, plain]
    for unit in units:
        for u in (unit, unit.replace(" ", "")):
            out += [f"{printed}{u}", f"{plain}{u}"]
    return list(dict.fromkeys(out))


def _printed_numbers(texts: list[str], decimals: int) -> set[int]:
    """Every number drawn on the chart, on the chart's scale (so a distractor can avoid them)."""
    found = set()
    for text in texts:
        for match in re.findall(r"\d[\d,]*(?:\.\d+)?", text):
            value = Fraction(match.replace(",", "")) * 10**decimals
            if value.denominator == 1:
                found.add(int(value))
    return found


def _distractors(true: int, printed: set[int], rng: random.Random, decimals: int) -> list[int]:
    """Three nearby values, none of them drawn anywhere in the chart. How many of them lie below the
    true value is drawn uniformly from 0-3, so the true value's rank among the options tells nothing."""
    sides: dict[int, list[int]] = {-1: [], 1: []}
    for sign, side in sides.items():
        for frac in (0.04, 0.06, 0.08, 0.1, 0.12, 0.15, 0.18, 0.22, 0.26, 0.3, 0.35):
            delta = max(1, round(abs(true) * frac))
            if decimals == 0 and abs(true) >= 1000:
                delta = max(10, round(delta, -1))
            candidate = true + sign * delta
            if candidate > 0 and candidate not in printed and candidate not in side:
                side.append(candidate)
        rng.shuffle(side)
    below = min(rng.randint(0, 3), len(sides[-1]))
    below = max(below, 3 - len(sides[1]))
    out = sides[-1][:below] + sides[1][: 3 - below]
    if len(out) != 3:
        raise AssertionError(f"no distractors for {true}")  # unreachable for the values generated here
    return out


def _extreme(chart: Chart, s: int, largest: bool) -> int:
    raw = chart.series[s].raw
    return raw.index(max(raw) if largest else min(raw))


def _extreme_question(chart: Chart, s: int, largest: bool) -> str:
    theme = chart.theme
    name = chart.series[s].name
    if name:
        prefix = f"{name}에 " if name.endswith("년") else f"{name}의 "
    else:
        prefix = f"{chart.period}에 " if chart.period and chart.kind == "bar" else ""
    adjective = theme.more if largest else theme.less
    return (
        f"{prefix}{_josa(theme.metric, '이', '가')} 가장 {adjective} "
        f"{_josa(theme.x_name, '은', '는')} {theme.which}입니까?"
    )


@dataclass
class Item:
    """One question with what it was derived from (kept out of the parquet rows)."""

    chart: Chart
    qtype: str  # lookup | max | min | trend | pattern | value | diff | sum
    question: str
    truth: str  # the correct option (mc) or the first accepted answer (qa)
    options: list[str]  # mc: the four options (in their final order once letters are set); qa: the answers
    ref: tuple[int, ...]  # (series, category, ...) the question is about
    answer_type: str = "text"
    answer: str = ""  # mc: the correct letter


def _mc_items(chart: Chart, printed: set[int], rng: random.Random, count: int) -> list[Item]:
    theme = chart.theme
    kinds: list[str] = []
    if chart.labelled:
        kinds.append("lookup")
    if chart.kind == "line":
        kinds.append("pattern" if chart.pattern else "trend")
    elif chart.kind == "bar" and len(chart.series) > 1:
        kinds.append("trend")
    kinds += ["max", "min"]
    chosen = [kinds[0], rng.choice(kinds[1:])] if count > 1 else [rng.choice(kinds[:2])]
    items = []
    for qtype in chosen:
        s = rng.randrange(len(chart.series))
        if qtype == "lookup":
            c = rng.randrange(len(chart.categories))
            true = chart.series[s].raw[c]
            question = f"{_point(chart, s, c)}의 {_josa(theme.metric, '은', '는')} 얼마입니까?"
            options = [
                _with_unit(chart.fmt(v), theme.unit)
                for v in [true, *_distractors(true, printed, rng, chart.decimals)]
            ]
            items.append(Item(chart, qtype, question, options[0], options, (s, c)))
        elif qtype in ("max", "min"):
            c = _extreme(chart, s, qtype == "max")
            others = [x for k, x in enumerate(chart.categories) if k != c]
            options = [chart.categories[c], *rng.sample(others, 3)]
            items.append(
                Item(chart, qtype, _extreme_question(chart, s, qtype == "max"), options[0], options, (s, c))
            )
        elif qtype == "pattern":
            first, last = chart.categories[0], chart.categories[-1]
            when = f"{chart.period} " if chart.period else ""
            question = (
                f"{when}{first}부터 {last}까지 {theme.metric}의 전체적인 추세로 가장 알맞은 것은 무엇입니까?"
            )
            options = list(PATTERNS.values())
            truth = PATTERNS[chart.pattern]
            options.remove(truth)
            items.append(Item(chart, qtype, question, truth, [truth, *options], (0,)))
        else:  # trend between two values
            if chart.kind == "line":
                raw = chart.series[s].raw
                span = max(max(x.raw) for x in chart.series) - min(min(x.raw) for x in chart.series)
                visible = [
                    k
                    for k in range(len(raw) - 1)
                    if abs(raw[k + 1] - raw[k]) >= 0.05 * span and 2 * raw[k + 1] > raw[k]
                ]
                c = rng.choice(visible or [k for k in range(len(raw) - 1) if raw[k] != raw[k + 1]])
                a, b = raw[c], raw[c + 1]
                name = chart.series[s].name
                where = f"{name}의 " if name and not name.endswith("년") else ""
                when = f"{name} " if name.endswith("년") else (f"{chart.period} " if chart.period else "")
                question = (
                    f"{where}{_josa(theme.metric, '은', '는')} {when}{chart.categories[c]}에서 "
                    f"{chart.categories[c + 1]} 사이에 어떻게 변했습니까?"
                )
                ref = (s, c, s, c + 1)
            else:
                first, second = chart.series[0].raw, chart.series[1].raw
                top = max(max(first), max(second))
                visible = [k for k in range(len(first)) if abs(second[k] - first[k]) >= 0.05 * top]
                c = rng.choice(visible or list(range(len(first))))
                a, b = chart.series[0].raw[c], chart.series[1].raw[c]
                question = (
                    f"{chart.series[0].name} 대비 {chart.series[1].name} {chart.categories[c]}의 "
                    f"{_josa(theme.metric, '은', '는')} 어떻게 변했습니까?"
                )
                ref = (0, c, 1, c)
            truth = PAIR_TREND[0] if b > a else PAIR_TREND[1]
            assert b != a and (b > a or 2 * b > a), "trend values are generated distinct and within half"
            items.append(
                Item(chart, qtype, question, truth, [truth, *(t for t in PAIR_TREND if t != truth)], ref)
            )
    return items


def _qa_items(chart: Chart, rng: random.Random) -> list[Item]:
    theme = chart.theme
    nth = int(chart.chart_id.rsplit("-", 1)[1]) // 3
    units = (theme.unit,)
    if chart.labelled:
        plan = (("value", "arith"), ("value", "text"), ("arith", "text"))[nth % 3]
    else:
        plan = ("max", "min")
    items = []
    for qtype in plan:
        s = rng.randrange(len(chart.series))
        if qtype == "value":
            c = rng.randrange(len(chart.categories))
            raw = chart.series[s].raw[c]
            question = f"{_point(chart, s, c)}의 {_josa(theme.metric, '은', '는')} 몇 {theme.unit}입니까?"
            answers = _numeric_answers(raw, chart.decimals, units)
            items.append(Item(chart, "value", question, answers[0], answers, (s, c), "numeric"))
        elif qtype == "arith":
            n = len(chart.categories)
            if rng.random() < 0.5 or (theme.unit == "%" and chart.kind != "pie"):  # rates do not add up
                a, b = sorted(rng.sample(range(n), 2))
                values = chart.series[s].raw
                raw = abs(values[a] - values[b])
                unit = "%p" if theme.unit == "%" else theme.unit
                answer_units = ("%p", "%") if theme.unit == "%" else units
                question = f"{_group(chart, s, [a, b])}의 {theme.metric} 차이는 몇 {unit}입니까?"
                answers = _numeric_answers(raw, chart.decimals, answer_units)
                items.append(Item(chart, "diff", question, answers[0], answers, (s, a, b), "numeric"))
            else:
                picked = sorted(rng.sample(range(n), rng.choice((2, 3)) if n > 3 else 2))
                raw = sum(chart.series[s].raw[k] for k in picked)
                question = (
                    f"{_group(chart, s, picked)}의 {_josa(theme.metric, '을', '를')} 모두 더하면 "
                    f"몇 {theme.unit}입니까?"
                )
                answers = _numeric_answers(raw, chart.decimals, units)
                items.append(Item(chart, "sum", question, answers[0], answers, (s, *picked), "numeric"))
        else:
            largest = qtype != "min" if qtype in ("max", "min") else rng.random() < 0.6
            c = _extreme(chart, s, largest)
            answers = [chart.categories[c]]
            bare = re.fullmatch(r"(\d+)(?:년|월|분기)", answers[0])
            if bare:  # "2023년" may be answered "2023"
                answers.append(bare.group(1))
            items.append(
                Item(
                    chart,
                    "max" if largest else "min",
                    _extreme_question(chart, s, largest),
                    answers[0],
                    answers,
                    (s, c),
                )
            )
    return items


def chart_items(
    seed: int = 0, n: int = DEFAULT_COUNT
) -> tuple[list[Chart], list[bytes], list[Item], list[Item]]:
    """Charts, their PNGs, and the mc and qa questions (mc options in final order, letters set)."""
    charts = build_charts(seed, n)
    images, mc, qa = [], [], []
    for index, chart in enumerate(charts):
        image, texts = render_chart(chart)
        images.append(image)
        rng = random.Random(f"kochart-questions/{seed}/{index}")
        mc.extend(_mc_items(chart, _printed_numbers(texts, chart.decimals), rng, 2 if index % 2 == 0 else 1))
        qa.extend(_qa_items(chart, rng))
    # balanced letters: each letter equally often (within one), in a seeded order
    letters = [LETTERS[k % 4] for k in range(len(mc))]
    random.Random(f"kochart-letters/{seed}/{n}").shuffle(letters)
    for item, letter in zip(mc, letters, strict=True):
        position = LETTERS.index(letter)
        rest = [o for o in item.options if o != item.truth]
        random.Random(f"kochart-order/{seed}/{item.question}/{item.chart.chart_id}").shuffle(rest)
        item.options = [*rest[:position], item.truth, *rest[position:]]
        item.answer = letter
    return charts, images, mc, qa


def chart_rows(
    charts: list[Chart], images: list[bytes], mc: list[Item], qa: list[Item]
) -> dict[str, list[dict[str, Any]]]:
    """The parquet rows of both splits from ``chart_items``' output; both splits share each chart's image."""
    cells = {c.chart_id: image_cell(img, f"{c.chart_id}.png") for c, img in zip(charts, images, strict=True)}
    mc_rows = [
        {
            "index": k,
            "question": item.question,
            **{f"choice_{x}": o for x, o in zip("abcd", item.options, strict=True)},
            "answer": item.answer,
            "category": item.chart.kind,
            "image": cells[item.chart.chart_id],
        }
        for k, item in enumerate(mc)
    ]
    counter: dict[str, int] = {}
    qa_rows = []
    for item in qa:
        j = counter[item.chart.chart_id] = counter.get(item.chart.chart_id, -1) + 1
        qa_rows.append(
            {
                "id": f"{item.chart.chart_id}-qa{j}",
                "question": item.question,
                "answers": item.options,
                "answer_type": item.answer_type,
                "category": item.chart.kind,
                "image": cells[item.chart.chart_id],
            }
        )
    return {"mc": mc_rows, "qa": qa_rows}


def generate_ko_chart(
    root: Path, hub_id: str = "kobench/ko-chart-synth", seed: int = 0, n: int = DEFAULT_COUNT
) -> Path:
    """Write splits mc and qa as ROOT/<hub_id>/data/<split>-00000-of-00001.parquet; returns ROOT/<hub_id>."""
    return write_splits(Path(root), hub_id, chart_rows(*chart_items(seed, n)))
