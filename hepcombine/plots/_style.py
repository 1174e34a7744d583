"""Shared pieces of hepcombine's plots: new axes (or the caller's), sizes that follow the
active style's font size, and the summary panel the χ² and BLUE summaries both draw (inputs
with total and statistical bars, the combination as a band, values printed at the right).

Nothing here changes global matplotlib state: no style context, no rcParams written.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import InvalidArgument
from .style import COMBINED, INPUT, STAT, THEORY, ExperimentLabel, draw_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__: list[str] = []


def font_inches() -> float:
    """The active style's font size in inches (sizes of figures follow it)."""
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties

    return float(FontProperties(size=mpl.rcParams["font.size"]).get_size_in_points()) / 72.0


def figure(figsize: tuple[float, float], **subplots: Any) -> tuple[Figure, Any]:
    """``plt.subplots`` with constrained layout (a pyplot figure, so Jupyter shows it)."""
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize, layout="constrained", **subplots)


def axes_or_new(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Any, Axes]:
    """``(ax.figure, ax)`` for the caller's axes, else a new figure of ``figsize``."""
    if ax is not None:
        return ax.figure, ax
    fig, new = figure(figsize)
    return fig, new


def label(ax: Axes, exp_label: ExperimentLabel | Mapping[str, Any] | str | None) -> None:
    draw_label(ax, exp_label)


def title(label: str, unit: str) -> str:
    """``"label [unit]"``."""
    return f"{label} [{unit}]" if unit else label


# ---------------------------------------------------------------------- the summary panel
@dataclass(frozen=True)
class Row:
    """One row of a summary: a value with its total (low, high) and statistical errors."""

    name: str
    value: float
    low: float
    high: float
    stat: float | None = None

    @property
    def syst(self) -> tuple[float, float] | None:
        if self.stat is None or not (0 < self.stat < min(self.low, self.high)):
            return None
        return (math.sqrt(self.low**2 - self.stat**2), math.sqrt(self.high**2 - self.stat**2))

    def text(self) -> str:
        from ..formatting import format_value

        syst = self.syst
        if syst is not None:
            assert self.stat is not None
            return format_value(self.value, self.stat, syst)
        return format_value(self.value, (self.low, self.high))


def summary_height(n_rows: int) -> float:
    return 3.4 * font_inches() * (n_rows + 3.2)


def summary_width() -> float:
    import matplotlib as mpl

    return max(float(mpl.rcParams["figure.figsize"][0]) * 1.35, 62 * font_inches())


def draw_summary(
    ax: Axes,
    rows: Sequence[Row],
    combined: Row,
    *,
    xlabel: str,
    chi2: str = "",
    theory: tuple[float, float, float] | None = None,
    theory_label: str = "Theory",
) -> None:
    """Inputs (one row each, from the top) with total error bars (thin, black) and statistical
    ones (thick, red) where known; the combination at the bottom with the same bars, and as a
    vertical band (total; the statistical part darker) across all rows; an optional theory
    band ``(value, low, high)``; every value printed right of the axes (PDG-rounded, stat and
    syst separately where the statistical part is known); χ²/ndf in the legend."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    n = len(rows)
    y = np.arange(n, 0, -1, dtype=float)
    c = combined
    ax.axvspan(c.value - c.low, c.value + c.high, color=COMBINED, alpha=0.25, lw=0, zorder=0)
    if c.stat is not None and c.stat > 0:
        ax.axvspan(c.value - c.stat, c.value + c.stat, color=COMBINED, alpha=0.35, lw=0, zorder=0)
    ax.axvline(c.value, color=COMBINED, lw=1.5, zorder=1)
    handles: list[Any] = []
    if theory is not None:
        tv, tlo, thi = theory
        ax.axvspan(
            tv - tlo, tv + thi, facecolor="none", edgecolor=THEORY, hatch="///", lw=0, zorder=0
        )
        ax.axvline(tv, color=THEORY, lw=1.5, ls="--", zorder=1)
        handles.append(Patch(facecolor="none", edgecolor=THEORY, hatch="///", label=theory_label))

    all_rows = [*rows, c]
    ys = [*y, 0.0]
    colours = [INPUT] * n + [COMBINED]
    markers = ["o"] * n + ["s"]
    for r, yy, col, mk in zip(all_rows, ys, colours, markers, strict=True):
        ax.errorbar(
            [r.value],
            [yy],
            xerr=[[r.low], [r.high]],
            fmt=mk,
            color=col,
            ms=6,
            capsize=4,
            lw=1.3,
            zorder=3,
        )
        if r.stat is not None and r.stat > 0:
            ax.errorbar(
                [r.value], [yy], xerr=[[r.stat], [r.stat]], fmt="none", color=STAT, lw=3.5, zorder=2
            )
    has_stat = any(r.stat is not None for r in all_rows)
    handles.insert(0, Line2D([], [], color=INPUT, marker="o", lw=1.3, label="total uncertainty"))
    if has_stat:
        handles.insert(1, Line2D([], [], color=STAT, lw=3.5, label="stat. uncertainty"))
    comb_label = c.name + (f" ({chi2})" if chi2 else "")
    handles.append(Patch(color=COMBINED, alpha=0.35, lw=0, label=comb_label))

    ax.set_yticks([*y, 0.0], [r.name for r in rows] + [c.name])
    ax.tick_params(axis="y", which="both", left=False, right=False)
    ax.tick_params(axis="x", which="both", top=False)
    ax.set_ylim(-0.8, n + 0.8 + (1.1 if len(handles) <= 2 else 1.9))
    ax.set_xlabel(xlabel)
    lows = [r.value - r.low for r in all_rows]
    highs = [r.value + r.high for r in all_rows]
    if theory is not None:
        lows.append(theory[0] - theory[1])
        highs.append(theory[0] + theory[2])
    lo, hi = min(lows), max(highs)
    pad = 0.12 * (hi - lo if hi > lo else max(abs(hi), 1.0))
    ax.set_xlim(lo - pad, hi + pad)
    from matplotlib.ticker import MaxNLocator, ScalarFormatter

    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))
    formatter = ScalarFormatter(useOffset=False, useMathText=True)
    formatter.set_powerlimits((-3, 5))
    ax.xaxis.set_major_formatter(formatter)
    ax.legend(handles=handles, loc="upper center", ncols=2, fontsize="small", frameon=False)

    trans = ax.get_yaxis_transform()  # x in axes units, y in data units
    header = "value ± stat ± syst" if has_stat else "value ± total"
    ax.text(1.03, n + 0.8, header, transform=trans, va="center", ha="left", fontsize="x-small")
    for r, yy in zip(rows, y, strict=True):
        ax.text(1.03, yy, r.text(), transform=trans, va="center", ha="left", fontsize="small")
    ax.text(
        1.03,
        0.0,
        c.text(),
        transform=trans,
        va="center",
        ha="left",
        color=COMBINED,
        fontweight="bold",
        fontsize="small",
    )


def check_theory(theory: Any) -> tuple[float, float, float] | None:
    """``(value, error)`` or ``(value, low, high)`` → ``(value, low, high)``."""
    if theory is None:
        return None
    t = [float(x) for x in theory]
    if len(t) == 2:
        return t[0], t[1], t[1]
    if len(t) == 3:
        return t[0], t[1], t[2]
    raise InvalidArgument(f"theory must be (value, error) or (value, low, high), got {theory!r}")
