"""Shared figure conventions: µg in labels, plain log ticks, time in days.

Every blinapk figure follows the same rules: axes are labelled with the
quantity and its unit; micrograms are written µg; a time axis that spans a
treatment cycle is in days with weekly ticks; logarithmic axes carry plain
numbers (10, 100, 1000), not powers of ten; lines are not drawn across
treatment gaps (a NaN in the data breaks them).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

__all__ = ["BLQ_STYLE", "DAY", "day_axis", "micro", "plain_log"]

#: Marker of a value below the LLOQ (drawn at the LLOQ).
BLQ_STYLE = dict(marker="v", facecolor="none", edgecolor="tab:red", s=26, zorder=4,
                 linewidths=0.9)
#: Hours per day.
DAY = 24.0
_UG = re.compile(r"(?<![A-Za-z])ug(?=[/ )\]]|$)")


def micro(text: str) -> str:
    """Write micrograms as µg in a label (``ug/day`` -> ``µg/day``).

    Examples
    --------
    >>> micro("rate (ug/day)"), micro("9 ug/m2/day"), micro("drug")
    ('rate (µg/day)', '9 µg/m2/day', 'drug')
    """
    return _UG.sub("µg", str(text))


def _plain(value: float, _pos: Any = None) -> str:
    if value <= 0 or not np.isfinite(value):
        return ""
    return f"{value:g}" if 1e-3 <= value < 1e6 else f"{value:.0e}"


def plain_log(ax: Any, axis: str = "y") -> None:
    """Log scale with plain tick labels (1, 2, 5, 10, 20, 50 ... when the range allows).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes.
    axis : {"x", "y", "both"}
        Which axis.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for name in ("x", "y") if axis == "both" else (axis,):
        getattr(ax, f"set_{name}scale")("log")
        target = ax.xaxis if name == "x" else ax.yaxis
        lo, hi = (ax.get_xlim() if name == "x" else ax.get_ylim())
        decades = np.log10(max(hi, 1e-300) / max(lo, 1e-300)) if lo > 0 else 10
        subs = (1.0, 2.0, 5.0) if decades <= 3.5 else (1.0,)
        target.set_major_locator(LogLocator(base=10, subs=subs))
        target.set_major_formatter(FuncFormatter(_plain))
        target.set_minor_formatter(NullFormatter())


def day_axis(ax: Any, span_days: float, label: str = "time since first dose (day)",
             max_ticks: int = 12) -> None:
    """Label a time axis in days with ticks at whole weeks (1, 2, 4 or 8 weeks apart).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The axes (x values already in days).
    span_days : float
        Range shown, days.
    label : str
        Axis label.
    max_ticks : int, default 12
        Most ticks wanted (fewer for narrow panels).
    """
    from matplotlib.ticker import MultipleLocator

    step = next((s for s in (7.0, 14.0, 28.0, 56.0) if span_days / s <= max_ticks), 112.0)
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.set_xlabel(label)
