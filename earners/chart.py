"""A server-rendered SVG bar chart of views and verifications per day (no JavaScript)."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from earners.selectors import Stats

WIDTH = 600
HEIGHT = 160
PAD = 20


def bars_svg(stats: Stats) -> SafeString:
    """Views (dark) and verifications (light) per day, each day a labelled pair of bars."""
    count = len(stats.days) or 1
    peak = max([1, *stats.views_by_day, *stats.verifications_by_day])
    slot = (WIDTH - 2 * PAD) / count
    bar = max(slot / 2 - 1, 1)
    scale = (HEIGHT - 2 * PAD) / peak
    rects = []
    for i, day in enumerate(stats.days):
        x = PAD + i * slot
        for offset, value, css in (
            (0.0, stats.views_by_day[i], "chart-views"),
            (bar, stats.verifications_by_day[i], "chart-checks"),
        ):
            height = value * scale
            rects.append(
                (
                    css,
                    f"{x + offset:.1f}",
                    f"{HEIGHT - PAD - height:.1f}",
                    f"{bar:.1f}",
                    f"{height:.1f}",
                    f"{day:%Y-%m-%d}: {value}",
                )
            )
    body = format_html_join(
        "",
        '<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
        rects,
    )
    first = stats.days[0] if stats.days else None
    last = stats.days[-1] if stats.days else None
    label = _("Views and verifications per day, %(views)s views, %(checks)s verifications") % {
        "views": stats.total_views,
        "checks": stats.total_verifications,
    }
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}"'
        ' xmlns="http://www.w3.org/2000/svg">'
        '<line x1="{p}" y1="{base}" x2="{right}" y2="{base}" stroke="#888"/>{body}'
        '<text x="{p}" y="{h}" font-size="11">{first}</text>'
        '<text x="{right}" y="{h}" font-size="11" text-anchor="end">{last}</text>'
        '<text x="{p}" y="12" font-size="11">{peak}</text></svg>',
        w=WIDTH,
        h=HEIGHT,
        label=label,
        p=PAD,
        base=HEIGHT - PAD,
        right=WIDTH - PAD,
        body=body,
        first=f"{first:%m-%d}" if first else "",
        last=f"{last:%m-%d}" if last else "",
        peak=peak,
    )
