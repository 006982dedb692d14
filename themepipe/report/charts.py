"""Inline SVG for the report: a sequential colour scale, its legend and interval bar charts.

Plain strings, no JavaScript and no external resources, so the report opens from disk
and renders identically everywhere.  Every chart also prints its numbers, so nothing is
conveyed by colour alone.
"""

from __future__ import annotations

import math
from html import escape

# A light-to-dark blue ramp (the ColorBrewer "Blues" hues, Harrower & Brewer 2003):
# sequential, monotone in lightness, readable for the common colour-vision deficiencies.
RAMP = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5",
        "#08519c", "#08306b"]
BAR_COLOUR = "#5b8cc0"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif"


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def scale_max(values) -> float:
    """Upper end of a share axis: the largest value rounded up to a tenth (at least 0.1)."""
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    top = max(finite, default=0.0)
    return min(1.0, max(0.1, math.ceil(round(top * 10, 9)) / 10))


def colour(value: float, top: float) -> str:
    """Colour of ``value`` on the ramp scaled to [0, ``top``], as ``#rrggbb``."""
    t = min(max(value / top, 0.0), 1.0) if top > 0 else 0.0
    position = t * (len(RAMP) - 1)
    low = min(int(position), len(RAMP) - 2)
    frac = position - low
    a, b = _rgb(RAMP[low]), _rgb(RAMP[low + 1])
    return "#" + "".join(f"{round(x + (y - x) * frac):02x}" for x, y in zip(a, b))


def _luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    def linear(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in _rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def text_colour(value: float, top: float) -> str:
    """Black or white, whichever contrasts more with :func:`colour` of ``value``.

    The WCAG 2 contrast ratio of the chosen text is at least 4.5:1 on any colour of the
    ramp (the two ratios cross at a luminance of about 0.18, where both are 4.58).
    """
    lum = _luminance(colour(value, top))
    return "#ffffff" if (1.05 / (lum + 0.05)) > ((lum + 0.05) / 0.05) else "#000000"


def _ticks(top: float) -> list[float]:
    step = 0.05 if top <= 0.2 else 0.1 if top <= 0.5 else 0.2
    count = round(top / step)
    return [round(i * step, 6) for i in range(count + 1)]


def percent(value: float, decimals: int = 0) -> str:
    """``0.25`` -> ``25%``."""
    return f"{100 * value:.{decimals}f}%"


def legend_svg(top: float, label: str) -> str:
    """A horizontal colour bar for [0, ``top``] with percentage ticks.

    Parameters
    ----------
    top : float
        Upper end of the scale (a share in (0, 1]).
    label : str
        Text under the bar (escaped here).
    """
    width, bar_x, bar_w = 380, 14, 340
    stops = "".join(f'<stop offset="{i / (len(RAMP) - 1):.3f}" stop-color="{c}"/>'
                    for i, c in enumerate(RAMP))
    ticks = []
    for value in _ticks(top):
        x = bar_x + bar_w * value / top
        ticks.append(f'<line x1="{x:.1f}" y1="30" x2="{x:.1f}" y2="35" stroke="#333"/>'
                     f'<text x="{x:.1f}" y="48" text-anchor="middle">{percent(value)}</text>')
    return (f'<svg class="legend" role="img" aria-label="{escape(label)}" width="{width}" '
            f'height="70" viewBox="0 0 {width} 70" font-family="{escape(FONT)}" '
            f'font-size="11" fill="#222" xmlns="http://www.w3.org/2000/svg">'
            f'<defs><linearGradient id="legend-ramp" x1="0" x2="1" y1="0" y2="0">{stops}'
            f'</linearGradient></defs>'
            f'<rect x="{bar_x}" y="10" width="{bar_w}" height="20" fill="url(#legend-ramp)" '
            f'stroke="#888" stroke-width="0.5"/>{"".join(ticks)}'
            f'<text x="{bar_x}" y="64">{escape(label)}</text></svg>')


def _clip(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def interval_bars_svg(chart_id: str, title: str, rows: list[tuple[str, float, float, float]],
                      top: float) -> str:
    """Horizontal bars with interval whiskers, one bar per group.

    Parameters
    ----------
    chart_id : str
        Unique id prefix for the title and description elements.
    title : str
        Chart title (escaped here).
    rows : list of (label, value, low, high)
        One bar per row, in order; shares in [0, 1] (NaN draws no bar and prints ``n/a``).
    top : float
        Upper end of the x axis, shared between charts so they can be compared.

    Returns
    -------
    str
        An ``<svg role="img">`` element whose ``<desc>`` lists every value and interval.
    """
    label_w = min(230, 16 + 6.6 * max((len(_clip(r[0])) for r in rows), default=4))
    plot_w, right, row_h, head, foot = 180, 48, 24, 30, 34
    width = label_w + plot_w + right
    height = head + row_h * len(rows) + foot

    def x_of(v: float) -> float:
        return label_w + plot_w * min(max(v, 0.0), top) / top

    parts = []
    for value in _ticks(top):
        x = x_of(value)
        parts.append(f'<line x1="{x:.1f}" y1="{head - 4}" x2="{x:.1f}" '
                     f'y2="{height - foot + 4}" stroke="#ddd"/>'
                     f'<text x="{x:.1f}" y="{height - foot + 18}" text-anchor="middle" '
                     f'fill="#555">{percent(value)}</text>')
    described = []
    for i, (label, value, low, high) in enumerate(rows):
        y = head + i * row_h
        parts.append(f'<text x="{label_w - 8:.1f}" y="{y + row_h / 2 + 4:.1f}" '
                     f'text-anchor="end">{escape(_clip(label))}</text>')
        if not math.isfinite(value):
            parts.append(f'<text x="{label_w + 4:.1f}" y="{y + row_h / 2 + 4:.1f}" '
                         'fill="#555">n/a</text>')
            described.append(f"{label}: no segments")
            continue
        parts.append(f'<rect x="{label_w:.1f}" y="{y + 5}" width="{x_of(value) - label_w:.1f}"'
                     f' height="{row_h - 10}" fill="{BAR_COLOUR}"/>')
        end = x_of(value)
        text = f"{label}: {percent(value, 1)}"
        if math.isfinite(low) and math.isfinite(high):
            x1, x2, ym = x_of(low), x_of(high), y + row_h / 2
            parts.append(f'<g stroke="#111" stroke-width="1.5"><line x1="{x1:.1f}" '
                         f'y1="{ym:.1f}" x2="{x2:.1f}" y2="{ym:.1f}"/><line x1="{x1:.1f}" '
                         f'y1="{ym - 5:.1f}" x2="{x1:.1f}" y2="{ym + 5:.1f}"/><line '
                         f'x1="{x2:.1f}" y1="{ym - 5:.1f}" x2="{x2:.1f}" y2="{ym + 5:.1f}"/>'
                         '</g>')
            end = max(end, x2)
            text += f" (95% interval {percent(low, 1)} to {percent(high, 1)})"
        parts.append(f'<text x="{end + 5:.1f}" y="{y + row_h / 2 + 4:.1f}" fill="#111">'
                     f'{percent(value, 1)}</text>')
        described.append(text)
    axis_y = height - foot + 4
    parts.append(f'<line x1="{label_w:.1f}" y1="{axis_y}" x2="{label_w + plot_w:.1f}" '
                 f'y2="{axis_y}" stroke="#888"/>')
    return (f'<svg class="bars" role="img" aria-labelledby="{chart_id}-title '
            f'{chart_id}-desc" width="{width:.0f}" height="{height}" '
            f'viewBox="0 0 {width:.0f} {height}" font-family="{escape(FONT)}" font-size="12" '
            f'fill="#222" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{chart_id}-title">{escape(title)}</title>'
            f'<desc id="{chart_id}-desc">{escape("; ".join(described))}</desc>'
            f'<text x="0" y="16" font-weight="bold" font-size="13">{escape(_clip(title, 60))}'
            f'</text>{"".join(parts)}</svg>')
