"""A server-rendered SVG bar chart of views and verifications per day (no JavaScript).

The vertical axis is labelled 0, a middle tick and a round top at or above the busiest day
(2, 5, 10, 20, 50 …); with nothing counted the chart says so instead of drawing an axis.
"""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from earners.selectors import Stats

WIDTH = 600
HEIGHT = 160
PAD = 20
LEFT = 44  # room for the axis labels


def nice_top(value: int) -> int:
    """The smallest of 2, 5, 10, 20, 50, 100 … that is at least ``value``."""
    top = 1
    while True:
        for step in (2, 5, 10):
            if top * step >= value:
                return top * step
        top *= 10


def _empty(label: str) -> SafeString:
    return format_html(
        '<svg class="chart chart-empty" viewBox="0 0 {w} {h}" role="img" aria-label="{label}"'
        ' xmlns="http://www.w3.org/2000/svg">'
        '<line x1="{p}" y1="{base}" x2="{right}" y2="{base}" stroke="#888"/>'
        '<text x="{mid}" y="{middle}" font-size="13" text-anchor="middle">{label}</text></svg>',
        w=WIDTH,
        h=HEIGHT,
        p=PAD,
        base=HEIGHT - PAD,
        right=WIDTH - PAD,
        mid=WIDTH // 2,
        middle=HEIGHT // 2,
        label=label,
    )


def bars_svg(stats: Stats) -> SafeString:
    """Views (dark) and verifications (light) per day, each day a labelled pair of bars."""
    if not stats.total_views and not stats.total_verifications:
        return _empty(
            _("Nothing viewed or verified in these %(days)s days.") % {"days": len(stats.days)}
        )
    count = len(stats.days) or 1
    peak = nice_top(max([*stats.views_by_day, *stats.verifications_by_day]))
    slot = (WIDTH - LEFT - PAD) / count
    bar = max(slot / 2 - 1, 1)
    base = HEIGHT - PAD
    scale = (HEIGHT - 2 * PAD) / peak
    rects = []
    for i, day in enumerate(stats.days):
        x = LEFT + i * slot
        for offset, value, css, fill in (
            (0.0, stats.views_by_day[i], "chart-views", "#1f4e79"),
            (bar, stats.verifications_by_day[i], "chart-checks", "#7fb3d5"),
        ):
            height = value * scale
            rects.append(
                (
                    css,
                    fill,
                    f"{x + offset:.1f}",
                    f"{base - height:.1f}",
                    f"{bar:.1f}",
                    f"{height:.1f}",
                    f"{day:%Y-%m-%d}: {value}",
                )
            )
    body = format_html_join(
        "",
        '<rect class="{}" fill="{}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
        rects,
    )
    ticks = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ddd"/>'
        '<text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>',
        (
            (
                LEFT,
                f"{base - t * scale:.1f}",
                WIDTH - PAD,
                f"{base - t * scale:.1f}",
                LEFT - 4,
                f"{base - t * scale + 4:.1f}",
                t,
            )
            for t in (peak // 2, peak)
        ),
    )
    first = stats.days[0] if stats.days else None
    last = stats.days[-1] if stats.days else None
    label = _("Views and verifications per day, %(views)s views, %(checks)s verifications") % {
        "views": stats.total_views,
        "checks": stats.total_verifications,
    }
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}"'
        ' xmlns="http://www.w3.org/2000/svg">{ticks}'
        '<line x1="{left}" y1="{base}" x2="{right}" y2="{base}" stroke="#888"/>{body}'
        '<text x="{zero_x}" y="{zero_y}" font-size="11" text-anchor="end">0</text>'
        '<text x="{left}" y="{h}" font-size="11">{first}</text>'
        '<text x="{right}" y="{h}" font-size="11" text-anchor="end">{last}</text></svg>',
        w=WIDTH,
        h=HEIGHT,
        label=label,
        left=LEFT,
        base=base,
        right=WIDTH - PAD,
        ticks=ticks,
        body=body,
        zero_x=LEFT - 4,
        zero_y=base + 4,
        first=f"{first:%Y-%m-%d}" if first else "",
        last=f"{last:%Y-%m-%d}" if last else "",
    )
