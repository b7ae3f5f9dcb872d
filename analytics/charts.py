"""Server-rendered, accessible SVG charts of the console's figures (no JavaScript).

Each chart is drawn from a :class:`Chart`: the same headers and rows are shown as a table
beside it and downloaded as CSV, so what the picture says can always be read exactly. An SVG
has ``role="img"``, a ``<title>`` and a ``<desc>`` that sums it up; each point or bar has its
own ``<title>`` (a tooltip). Lines differ in dash as well as colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 480
LEFT = 44
RIGHT = 16
TOP = 14
BOTTOM = 30
LINES_HEIGHT = 240
EMPTY_HEIGHT = 100
BAR_ROW = 44
LABEL_MAX = 40

#: Colour and dash of each series, in order (dark blue, orange, green, purple, grey).
STYLES = (
    ("#1f4e79", ""),
    ("#c05a00", "6 3"),
    ("#2e7d32", "2 3"),
    ("#7b1fa2", "8 3 2 3"),
    ("#555555", "1 2"),
)


@dataclass
class Series:
    label: str
    values: list[int]


@dataclass
class Chart:
    """A chart's data: ``key`` names its CSV download; ``headers`` and ``rows`` are its
    table (the first column the category or period, then one column per series)."""

    key: str
    title: str
    description: str
    headers: list[str]
    rows: list[list[object]]
    series: list[Series] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    kind: str = "lines"  # or "bars"
    svg: str = ""  # the drawn chart (a SafeString from format_html), "" until drawn

    @property
    def display_rows(self) -> list[list[object]]:
        """The table as shown: the latest period first (the CSV keeps time order)."""
        return list(reversed(self.rows)) if self.kind == "lines" else self.rows

    def legend(self) -> list[tuple[str, str, str]]:
        return [(s.label, *STYLES[i % len(STYLES)]) for i, s in enumerate(self.series)]


def nice_top(value: int) -> int:
    """The smallest of 2, 5, 10, 20, 50, 100 … that is at least ``value``."""
    top = 1
    while True:
        for step in (2, 5, 10):
            if top * step >= value:
                return top * step
        top *= 10


def _frame(chart: Chart, height: int, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart analytics-chart" viewBox="0 0 {w} {h}" role="img" '
        'aria-labelledby="chart-{key}-title chart-{key}-desc" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<title id="chart-{key}-title">{title}</title>'
        '<desc id="chart-{key}-desc">{desc}</desc>{body}</svg>',
        w=WIDTH,
        h=height,
        key=chart.key,
        title=chart.title,
        desc=chart.description,
        body=body,
    )


def lines_svg(chart: Chart, empty: str) -> SafeString:
    """One line per series over ``chart.categories`` (periods), with 0, middle and top
    ticks; the first, middle and last period named below."""
    height = LINES_HEIGHT
    base = height - BOTTOM
    count = len(chart.categories)
    peak = max((v for s in chart.series for v in s.values), default=0)
    if not peak:
        return _frame(
            chart,
            EMPTY_HEIGHT,
            format_html(
                '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#888"/>'
                '<text x="{mid}" y="{y}" font-size="14" text-anchor="middle">{empty}</text>',
                l=LEFT,
                b=EMPTY_HEIGHT - BOTTOM,
                r=WIDTH - RIGHT,
                mid=WIDTH // 2,
                y=EMPTY_HEIGHT // 2,
                empty=empty,
            ),
        )
    top = nice_top(peak)
    scale = (base - TOP) / top
    step = (WIDTH - LEFT - RIGHT) / max(count - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step if count > 1 else (LEFT + WIDTH - RIGHT) / 2

    ticks = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
        '<text x="{}" y="{}" font-size="14" text-anchor="end">{}</text>',
        (
            (
                LEFT,
                f"{base - t * scale:.1f}",
                WIDTH - RIGHT,
                f"{base - t * scale:.1f}",
                "#888" if t == 0 else "#ddd",
                LEFT - 6,
                f"{base - t * scale + 4:.1f}",
                t,
            )
            for t in (0, top // 2, top)
        ),
    )
    named = sorted({0, count // 2, count - 1}) if count > 2 else list(range(count))
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="14" text-anchor="{}">{}</text>',
        (
            (
                f"{x(i):.1f}",
                height - 8,
                "start" if i == 0 and count > 1 else "end" if i == count - 1 else "middle",
                chart.categories[i],
            )
            for i in named
        ),
    )
    drawn: list[SafeString] = []
    for n, series in enumerate(chart.series):
        colour, dash = STYLES[n % len(STYLES)]
        points = " ".join(f"{x(i):.1f},{base - v * scale:.1f}" for i, v in enumerate(series.values))
        dots = format_html_join(
            "",
            '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}</title></circle>',
            (
                (
                    f"{x(i):.1f}",
                    f"{base - v * scale:.1f}",
                    colour,
                    f"{series.label}, {chart.categories[i]}: {v}",
                )
                for i, v in enumerate(series.values)
            )
            if count <= 62
            else (),
        )
        drawn.append(
            format_html(
                '<polyline fill="none" stroke="{}" stroke-width="2.5" stroke-dasharray="{}" '
                'points="{}"/>{}',
                colour,
                dash or "none",
                points,
                dots,
            )
        )
    lines = format_html_join("", "{}", ((d,) for d in drawn))
    return _frame(chart, height, format_html("{}{}{}", ticks, labels, lines))


def _short(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def bars_svg(chart: Chart, empty: str, notes: Sequence[str] = ()) -> SafeString:
    """A horizontal bar per category (the first series), its name above it and its value
    (with ``notes[i]``, e.g. a percentage) after it."""
    values = chart.series[0].values if chart.series else []
    height = TOP + BAR_ROW * max(len(values), 1) + 8
    peak = max(values, default=0)
    if not peak:
        return _frame(
            chart,
            height + 20,
            format_html(
                '<text x="{}" y="{}" font-size="14" text-anchor="middle">{}</text>',
                WIDTH // 2,
                (height + 20) // 2,
                empty,
            ),
        )
    span = WIDTH - 8 - RIGHT - 130
    rows = []
    for i, value in enumerate(values):
        y = TOP + i * BAR_ROW
        length = max(value / peak * span, 1.5 if value else 0)
        note = f" ({notes[i]})" if i < len(notes) and notes[i] else ""
        colour = STYLES[0][0]
        rows.append(
            (
                8,
                y + 13,
                _short(chart.categories[i]),
                8,
                y + 19,
                f"{length:.1f}",
                colour,
                f"{chart.categories[i]}: {value}{note}",
                f"{8 + length + 6:.1f}",
                y + 32,
                f"{value}{note}",
            )
        )
    body = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="14">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="16" fill="{}"><title>{}</title></rect>'
        '<text x="{}" y="{}" font-size="14">{}</text>',
        rows,
    )
    return _frame(chart, height, body)
