"""Shared look of hepcombine's plots: the style context, number formatting and the summary
panel (inputs with error bars, the combination as a band, values printed at the right).

The BLUE plots (:mod:`hepcombine.plots.blue`) use the same conventions with their own
private copies; they could use these helpers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: colour of combined results (band, markers, printed values)
COMBINED = "tab:blue"
#: colour of inputs
INPUT = "black"


def style() -> Any:
    """Context manager with the mplhep ROOT style (imports matplotlib and mplhep)."""
    import matplotlib.pyplot as plt
    import mplhep

    return plt.style.context(mplhep.style.ROOT)


def digits_for(error: float) -> int:
    """Decimal places that show two significant digits of ``error``."""
    if not (np.isfinite(error) and error > 0):
        return 3
    return max(0, 1 - int(np.floor(np.log10(abs(error)))))


def fmt(value: float, low: float, high: float | None = None, digits: int | None = None) -> str:
    """``"v ± e"``, or ``"v −lo +hi"`` when the two errors differ at the printed precision."""
    if not np.isfinite(value):
        return "n/a"
    if high is None:
        high = low
    if digits is None:
        digits = digits_for(min(low, high))
    a, b = f"{low:.{digits}f}", f"{high:.{digits}f}"
    if a == b:
        return f"{value:.{digits}f} ± {a}"
    return f"{value:.{digits}f} −{a} +{b}"


def draw_summary(
    ax: Axes,
    names: Sequence[str],
    values: np.ndarray,
    errors: np.ndarray,
    combined: float,
    combined_low: float,
    combined_high: float,
    *,
    label: str,
    xlabel: str,
    digits: int | None = None,
) -> None:
    """Inputs (one row each, from the top) with total error bars, the combination at the
    bottom as a marker and a vertical band, the numbers printed right of the axes.
    ``combined_low``/``combined_high`` are the distances of the band's edges from the value."""
    n = len(names)
    rows = np.arange(n, 0, -1, dtype=float)
    ax.axvspan(
        combined - combined_low,
        combined + combined_high,
        color=COMBINED,
        alpha=0.25,
        lw=0,
        label=label,
    )
    ax.axvline(combined, color=COMBINED, lw=1.5)
    if n:
        ax.errorbar(values, rows, xerr=errors, fmt="o", color=INPUT, capsize=3, label="inputs")
    ax.errorbar(
        [combined],
        [0.0],
        xerr=[[combined_low], [combined_high]],
        fmt="s",
        color=COMBINED,
        capsize=3,
    )
    ax.set_yticks([*rows, 0.0], [*names, label])
    ax.set_ylim(-0.8, n + 0.8)
    ax.set_xlabel(xlabel, loc="center")  # the right end holds the ×10ⁿ offset
    lo = min([combined - combined_low, *(values - errors)])
    hi = max([combined + combined_high, *(values + errors)])
    pad = 0.15 * (hi - lo if hi > lo else 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.tick_params(axis="y", which="both", left=False, right=False)
    # a few ticks with an offset/scientific factor, so long tick labels never overlap
    from matplotlib.ticker import MaxNLocator, ScalarFormatter

    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    formatter = ScalarFormatter(useOffset=True, useMathText=True)
    formatter.set_powerlimits((-3, 4))
    ax.xaxis.set_major_formatter(formatter)
    trans = ax.get_yaxis_transform()  # x in axes units, y in data units
    for y, v, e in zip(rows, values, errors, strict=True):
        ax.text(1.03, y, fmt(v, e, digits=digits), transform=trans, va="center", fontsize="small")
    ax.text(
        1.03,
        0.0,
        fmt(combined, combined_low, combined_high, digits),
        transform=trans,
        va="center",
        color=COMBINED,
        fontweight="bold",
        fontsize="small",
    )
