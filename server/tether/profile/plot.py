"""The posterior of every class as one SVG: density, credible interval, mean and moving average.

Plain string building with no plotting library, so the language server can draw the side
panel's picture without importing matplotlib. Text and axes use `currentColor`, so the
drawing follows the editor's theme when inlined and is black on white as a file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from xml.sax.saxutils import escape, quoteattr

from tether.profile import beta
from tether.profile.profile import Profile
from tether.profile.view import ClassView, profile_view

MODE_COLOURS = {"auto": "#2e7d32", "ask": "#c77800", "quiet": "#757575"}
LABEL_WIDTH = 250
ROW_HEIGHT = 36
TOP = 48
BOTTOM = 72
RIGHT = 24
GRID = 120
LABEL_CHARS = 34

Scale = Callable[[float], float]


def profile_svg(
    profile: Profile, pins: Mapping[str, str] | None = None, *, width: int = 760
) -> str:
    """An interval-and-density plot with one row per class, coloured by the current policy."""
    view = profile_view(profile, pins)
    x0, x1 = LABEL_WIDTH, width - RIGHT
    rows = view.classes
    height = TOP + max(len(rows), 1) * ROW_HEIGHT + BOTTOM

    def sx(p: float) -> float:
        return x0 + (x1 - x0) * min(max(p, 0.0), 1.0)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" '
        'role="img" aria-label="Tether profile: approval posterior per decision class">',
        f"<title>Tether profile: {len(rows)} classes, {view.decisions} decisions</title>",
        _text(
            8,
            20,
            f"Approval per decision class ({view.credible_mass:.0%} intervals) — profile "
            f"{'mature' if view.mature else 'not mature'}, {view.mature_share:.0%} of traffic "
            f"in mature classes",
            weight="bold",
        ),
    ]
    bottom_y = TOP + max(len(rows), 1) * ROW_HEIGHT
    out += _axis(sx, bottom_y)
    out += _threshold(sx(view.auto_threshold), bottom_y, "auto", view.auto_threshold)
    out += _threshold(sx(view.quiet_threshold), bottom_y, "quiet", view.quiet_threshold)
    if not rows:
        out.append(_text(x0, TOP + ROW_HEIGHT / 2 + 4, "no decisions yet", opacity=0.7))
    for i, row in enumerate(rows):
        out += _row(row, TOP + i * ROW_HEIGHT, sx)
    out += _legend(x0, bottom_y + 52)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _row(row: ClassView, top: float, sx: Scale) -> list[str]:
    colour = MODE_COLOURS[row.policy]
    mid = top + ROW_HEIGHT / 2
    label = (
        row.class_key
        if len(row.class_key) <= LABEL_CHARS
        else row.class_key[: LABEL_CHARS - 1] + "…"
    )
    detail = f"n={row.n} · {row.policy}" + (f" · pinned {row.pin}" if row.pin else "")
    if row.mature:
        detail += " · mature"
    parts = [
        f'<g class="class-row" data-class={quoteattr(row.class_key)} data-mode="{row.policy}">',
        f"<title>{escape(row.class_key)}\n{escape(row.reason)}</title>",
        _text(8, mid - 2, label),
        _text(8, mid + 12, detail, size=10, opacity=0.7),
    ]
    parts.append(
        f'<path d="{_density_path(row.alpha, row.beta, top + 4, mid + 10, sx)}" '
        f'fill="{colour}" fill-opacity="0.18" stroke="{colour}" stroke-opacity="0.5"/>'
    )
    parts.append(
        f'<line x1="{sx(row.lower):.1f}" y1="{mid + 10:.1f}" x2="{sx(row.upper):.1f}" '
        f'y2="{mid + 10:.1f}" stroke="{colour}" stroke-width="4" stroke-linecap="round"/>'
    )
    parts.append(
        f'<circle cx="{sx(row.mean):.1f}" cy="{mid + 10:.1f}" r="4.5" fill="{colour}" '
        'stroke="white" stroke-width="1"/>'
    )
    if row.ema is not None:
        x, y = sx(row.ema), mid + 10
        parts.append(
            f'<path d="M{x:.1f},{y - 5:.1f} L{x + 4:.1f},{y:.1f} L{x:.1f},{y + 5:.1f} '
            f'L{x - 4:.1f},{y:.1f} Z" fill="none" stroke="currentColor" stroke-width="1.2"/>'
        )
    parts.append("</g>")
    return parts


def _density_path(a: float, b: float, top: float, base: float, sx: Scale) -> str:
    """The Beta(a, b) density scaled to the row's height, as a closed path over [0, 1]."""
    xs = [(i + 0.5) / GRID for i in range(GRID)]
    logs = [beta.log_pdf(x, a, b) for x in xs]
    peak = max(logs)
    ys = [math.exp(v - peak) if math.isfinite(v) else 0.0 for v in logs]
    points = " ".join(
        f"L{sx(x):.1f},{base - (base - top) * y:.1f}" for x, y in zip(xs, ys, strict=True)
    )
    return f"M{sx(0.0):.1f},{base:.1f} {points} L{sx(1.0):.1f},{base:.1f} Z"


def _axis(sx: Scale, y: float) -> list[str]:
    parts = [
        f'<line x1="{sx(0.0):.1f}" y1="{y:.1f}" x2="{sx(1.0):.1f}" y2="{y:.1f}" '
        'stroke="currentColor" stroke-opacity="0.6"/>'
    ]
    for i in range(11):
        p = i / 10
        parts.append(
            f'<line x1="{sx(p):.1f}" y1="{y:.1f}" x2="{sx(p):.1f}" y2="{y + 4:.1f}" '
            'stroke="currentColor" stroke-opacity="0.6"/>'
        )
        parts.append(_text(sx(p), y + 16, f"{p:.1f}", size=10, anchor="middle"))
    parts.append(_text(sx(0.5), y + 30, "probability the user approves", size=10, anchor="middle"))
    return parts


def _threshold(x: float, bottom: float, name: str, value: float) -> list[str]:
    colour = MODE_COLOURS[name]
    return [
        f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="{colour}" '
        'stroke-dasharray="4 3" stroke-width="1"/>',
        _text(x, TOP - 10, f"{name} {value:.2f}", size=10, anchor="middle", fill=colour),
    ]


def _legend(x: float, y: float) -> list[str]:
    parts = []
    for mode, colour in MODE_COLOURS.items():
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(x + 14, y, mode, size=10))
        x += 60
    parts.append(f'<circle cx="{x + 5:.1f}" cy="{y - 4:.1f}" r="4" fill="currentColor"/>')
    parts.append(_text(x + 14, y, "mean", size=10))
    x += 60
    parts.append(
        f'<path d="M{x + 5:.1f},{y - 9:.1f} L{x + 9:.1f},{y - 4:.1f} L{x + 5:.1f},{y + 1:.1f} '
        f'L{x + 1:.1f},{y - 4:.1f} Z" fill="none" stroke="currentColor"/>'
    )
    parts.append(_text(x + 14, y, "recent (moving average)", size=10))
    return parts


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: int = 12,
    anchor: str = "start",
    weight: str = "normal",
    opacity: float = 1.0,
    fill: str = "currentColor",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'font-weight="{weight}" fill="{fill}" fill-opacity="{opacity:g}">{escape(content)}</text>'
    )
