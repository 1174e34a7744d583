"""Plots of compatibility diagnostics (:class:`~hepcombine.compat.CompatibilityResult`):
the pulls of the inputs, the significance of the shifts without each measurement, and the
PDG ideogram of one combined value.

Each function draws into ``ax`` when given, or into a new figure sized for the active style,
and returns the Figure; the active matplotlib style is used and nothing global is changed, as
every hepcombine plot. The pulls and shifts are drawn over ±1 (green) and ±2 (yellow) bands,
one row per input, or, given the ``binning`` of a differential combination, against the bins
with one marker series per measurement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import InvalidArgument, UnknownName
from ..names import did_you_mean, some_names
from . import _style
from .style import COMBINED, INPUT, ExperimentLabel

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..binning import Binning
    from ..compat.result import CompatibilityResult

__all__ = ["plot_ideogram", "plot_leave_one_out", "plot_pulls"]

Label = ExperimentLabel | Mapping[str, Any] | str | None

#: the ±1 and ±2 bands (as the pulls of the sources, :func:`hepcombine.plots.result.plot_pulls`)
ONE_SIGMA = "#8fd694"
TWO_SIGMA = "#ffe066"
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")


class _Entry:
    """One standardised number to draw: its series (measurement), the combined value's index,
    a row label, the number (NaN: not computed) and the text printed next to it."""

    __slots__ = ("group", "index", "label", "number", "text")

    def __init__(self, group: str, index: int, label: str, number: float, text: str) -> None:
        self.group, self.index, self.label, self.number, self.text = (
            group,
            index,
            label,
            number,
            text,
        )


def _check_binning(result: CompatibilityResult, binning: Binning | None) -> None:
    if binning is not None and binning.n_bins != len(result.observables):
        raise InvalidArgument(
            f"the binning has {binning.n_bins} bins but the combination has "
            f"{len(result.observables)} combined values"
        )


def _bands(ax: Axes, horizontal: bool) -> None:
    span = ax.axhspan if horizontal else ax.axvspan
    line = ax.axhline if horizontal else ax.axvline
    span(-2, 2, color=TWO_SIGMA, lw=0, zorder=0)
    span(-1, 1, color=ONE_SIGMA, lw=0, zorder=0)
    line(0, color="grey", ls="--", lw=1, zorder=1)


def _limit(numbers: np.ndarray) -> float:
    finite = np.abs(numbers[np.isfinite(numbers)])
    reach = float(finite.max()) if finite.size else 0.0
    return max(3.0, math.ceil(reach * 1.15 + 0.2))


def _draw_rows(ax: Axes, entries: Sequence[_Entry], xlabel: str) -> None:
    n = len(entries)
    y = np.arange(n, 0, -1, dtype=float)
    _bands(ax, horizontal=False)
    numbers = np.array([e.number for e in entries], dtype=float)
    ok = np.isfinite(numbers)
    if ok.any():
        ax.plot(numbers[ok], y[ok], "o", color=INPUT, ms=5, zorder=3)
    ax.set_yticks(y, [e.label for e in entries], fontsize="x-small" if n > 25 else "small")
    ax.tick_params(axis="y", which="both", left=False, right=False)
    ax.set_ylim(0.4, n + 0.6)
    lim = _limit(numbers)
    ax.set_xlim(-lim, lim)
    ax.set_xlabel(xlabel)
    trans = ax.get_yaxis_transform()
    for e, yy in zip(entries, y, strict=True):
        ax.text(1.02, yy, e.text, transform=trans, va="center", ha="left", fontsize="x-small")


def _draw_bins(
    ax: Axes, entries: Sequence[_Entry], binning: Binning, ylabel: str, legend_title: str
) -> None:
    groups = list(dict.fromkeys(e.group for e in entries))
    centres = np.asarray(binning.bin_centers, dtype=float)
    widths = np.asarray(binning.widths, dtype=float)
    _bands(ax, horizontal=True)
    for k, g in enumerate(groups):
        mine = [e for e in entries if e.group == g]
        offset = (k - 0.5 * (len(groups) - 1)) / max(len(groups), 1) * 0.5
        x = np.array([centres[e.index] + offset * widths[e.index] for e in mine])
        v = np.array([e.number for e in mine], dtype=float)
        ok = np.isfinite(v)
        ax.plot(x[ok], v[ok], _MARKERS[k % len(_MARKERS)], ms=5, label=g, zorder=3)
    numbers = np.array([e.number for e in entries], dtype=float)
    lim = _limit(numbers)
    ax.set_ylim(-lim, lim * 1.35)
    ax.set_xlim(float(binning.low[0]), float(binning.high[-1]))
    if binning.is_index:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("bin")
    else:
        ax.set_xlabel(binning.title)
    ax.set_ylabel(ylabel)
    ax.legend(
        title=legend_title,
        fontsize="small",
        title_fontsize="small",
        ncols=min(len(groups), 4),
        loc="upper center",
        frameon=False,
    )


def _figure(ax: Axes | None, rows: int | None) -> tuple[Any, Axes]:
    import matplotlib as mpl

    if rows is None:
        w, h = mpl.rcParams["figure.figsize"]
        return _style.axes_or_new(ax, (float(w) * 1.3, float(h)))
    fi = _style.font_inches()
    return _style.axes_or_new(ax, (_style.summary_width() * 0.85, 2.0 * fi * max(rows, 3) + 8 * fi))


def _chi2_title(result: CompatibilityResult) -> str:
    if result.ndf <= 0:
        return ""
    return f"$\\chi^2$/ndf = {result.chi2:.2f}/{result.ndf}, S = {result.scale_factor:.2f}"


def plot_pulls(
    result: CompatibilityResult,
    *,
    binning: Binning | None = None,
    ax: Axes | None = None,
    exp_label: Label = None,
) -> Figure:
    """The pull of every input, (x̂ − x̄)/√Var(x̂ − x̄): one row per input (its pull and normal
    p-value printed at the right; inputs without a pull say why), or against the bins of
    ``binning`` (one bin per combined value, in order) with a marker series per measurement.
    The pulls of the bins of one measurement are correlated
    (``result.pull_correlation``)."""
    _check_binning(result, binning)
    index = {o: i for i, o in enumerate(result.observables)}
    entries = []
    for key, p in result.pulls.items():
        label = key if p.estimate == p.observable else f"{key} → {p.observable}"
        text = f"{p.pull:+.2f} (p = {p.pvalue:.2g})" if math.isfinite(p.pull) else "no pull"
        entries.append(_Entry(p.measurement, index[p.observable], label, p.pull, text))
    fig, ax = _figure(ax, None if binning is not None else len(entries))
    xlabel = r"pull $(\hat{x} - \bar{x})/\sigma(\hat{x} - \bar{x})$"
    if binning is None:
        _draw_rows(ax, entries, xlabel)
        title = _chi2_title(result)
        if title:
            ax.set_title(title, fontsize="small")
    else:
        _draw_bins(ax, entries, binning, xlabel, _chi2_title(result))
    _style.label(ax, exp_label)
    return fig


def plot_leave_one_out(
    result: CompatibilityResult,
    *,
    binning: Binning | None = None,
    ax: Axes | None = None,
    exp_label: Label = None,
) -> Figure:
    """The significance of the shift of every combined value when one measurement is left
    out, (x̄^(−α) − x̄)/√Var(shift): one row per measurement and value (the shift printed at the
    right), or against the bins of ``binning`` with a marker series per measurement left out.
    Values a measurement alone measures are left out of its series (listed as such in rows)."""
    _check_binning(result, binning)
    entries = []
    for m, loo in result.leave_one_out.items():
        for i, o in enumerate(result.observables):
            st = loo.value_status.get(o, loo.status)
            sig = float(loo.significance.get(o, math.nan))
            if loo.status != "ok":
                text = loo.status
            elif st == "ok":
                text = f"{sig:+.2f} (Δ = {loo.shifts[o]:.3g})"
            else:
                text = st
            label = f"without {m}" if len(result.observables) == 1 else f"without {m}: {o}"
            entries.append(_Entry(f"without {m}", i, label, sig, text))
    if not entries:
        raise InvalidArgument("no measurement was left out: there is nothing to plot")
    fig, ax = _figure(ax, None if binning is not None else len(entries))
    xlabel = r"shift significance $(\bar{x}^{(-\alpha)} - \bar{x})/\sigma(\mathrm{shift})$"
    if binning is None:
        _draw_rows(ax, entries, xlabel)
    else:
        _draw_bins(ax, entries, binning, xlabel, "")
    _style.label(ax, exp_label)
    return fig


def plot_ideogram(
    result: CompatibilityResult,
    observable: str | None = None,
    *,
    xlabel: str | None = None,
    unit: str = "",
    ax: Axes | None = None,
    exp_label: Label = None,
) -> Figure:
    """The ideogram of one combined value (default: the first), as the Review of Particle
    Physics draws it: every input a Gaussian of its value and uncertainty σ_in with area
    proportional to 1/σ_in (dashed), their sum (solid), the combined value with its error
    (band) and, when S > 1 and the scaled combination was computed, its S-scaled error (lighter
    band); the legend gives each input's value and pull."""
    obs = list(result.observables)
    o = obs[0] if observable is None else observable
    if o not in obs:
        raise UnknownName(
            f"{o!r} is not a combined value{did_you_mean(o, obs)}; they are {some_names(obs)}"
        )
    inputs = [p for p in result.inputs_of(o) if math.isfinite(p.input_error) and p.input_error > 0]
    comb = result.combination
    v, e = float(comb.values[o]), float(comb.errors[o])
    scaled = result.scaled
    s_err = None
    if scaled is not None and scaled is not comb and math.isfinite(result.scale_factor):
        s_err = float(scaled.errors[o])
    lows = [p.value - 3 * p.input_error for p in inputs] + [v - 3 * max(e, s_err or 0.0)]
    highs = [p.value + 3 * p.input_error for p in inputs] + [v + 3 * max(e, s_err or 0.0)]
    x = np.linspace(min(lows), max(highs), 800)
    import matplotlib as mpl
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from scipy.stats import norm

    from ..formatting import format_value

    w, h = mpl.rcParams["figure.figsize"]
    fig, ax = _style.axes_or_new(ax, (float(w) * 1.2, float(h)))
    total = np.zeros_like(x)
    handles: list[Any] = []
    for p in inputs:
        curve = norm.pdf(x, p.value, p.input_error) / p.input_error  # area ∝ 1/σ
        total += curve
        (line,) = ax.plot(x, curve, ls="--", lw=1.2)
        pull = f", pull {p.pull:+.2f}" if math.isfinite(p.pull) else ""
        handles.append(
            Line2D(
                [],
                [],
                color=line.get_color(),
                ls="--",
                label=f"{p.measurement}: {format_value(p.value, p.input_error)}{pull}",
            )
        )
    ax.plot(x, total, color=INPUT, lw=1.8, zorder=3)
    handles.insert(0, Line2D([], [], color=INPUT, lw=1.8, label="sum of the inputs"))
    top = float(total.max()) if total.size and total.max() > 0 else 1.0
    if s_err is not None:
        ax.axvspan(v - s_err, v + s_err, color=COMBINED, alpha=0.15, lw=0, zorder=0)
        handles.append(
            Patch(
                color=COMBINED,
                alpha=0.15,
                lw=0,
                label=f"error scaled by S = {result.scale_factor:.2f}: ± {s_err:.2g}",
            )
        )
    ax.axvspan(v - e, v + e, color=COMBINED, alpha=0.35, lw=0, zorder=0)
    ax.axvline(v, color=COMBINED, lw=1.5, zorder=1)
    chi2 = f" ($\\chi^2$/ndf = {result.chi2:.2f}/{result.ndf})" if result.ndf > 0 else ""
    handles.append(
        Patch(color=COMBINED, alpha=0.35, lw=0, label=f"combination: {format_value(v, e)}{chi2}")
    )
    ax.set_ylim(0, top * (1.45 + 0.08 * len(handles)))
    ax.set_xlim(float(x[0]), float(x[-1]))
    ax.set_yticks([])
    ax.set_ylabel("ideogram (area ∝ 1/σ)")
    ax.set_xlabel(_style.title(o if xlabel is None else xlabel, unit))
    ax.legend(handles=handles, loc="upper left", fontsize="x-small", frameon=False)
    _style.label(ax, exp_label)
    return fig


def __dir__() -> list[str]:
    return list(__all__)
