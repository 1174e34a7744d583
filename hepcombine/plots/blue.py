"""Plots of BLUE combinations: the summary of inputs and combination, and correlation scans.

Every function draws into ``ax=``/``axes=`` (or a new figure) and returns the ``Figure``, with
the active matplotlib style and no change to global state; matplotlib and mplhep are imported
when a plot is made. The ranked breakdown of a BLUE result is
:func:`hepcombine.plots.result.plot_breakdown` (``plot_breakdown(blue.result)``). The functions ending in ``_values`` take plain numbers; the others take a
:class:`~hepcombine.blue.Blue` or its :class:`~hepcombine.blue.CorrelationScan`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import ArrayLike

from ..exceptions import InvalidArgument, UnknownName
from . import _style
from ._style import Row
from .style import ExperimentLabel

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..blue import Blue, CorrelationScan

__all__ = [
    "plot_correlation_scan",
    "plot_correlation_scan_values",
    "plot_summary",
    "plot_summary_values",
]


def plot_summary_values(
    names: Sequence[str],
    values: ArrayLike,
    uncertainties: ArrayLike,
    combined: float,
    combined_uncertainty: float,
    *,
    stat_uncertainties: ArrayLike | None = None,
    combined_stat: float | None = None,
    label: str = "Combination",
    xlabel: str = "value",
    unit: str = "",
    chi2: str = "",
    theory: Sequence[float] | None = None,
    theory_label: str = "Theory",
    ax: Axes | None = None,
    exp_label: ExperimentLabel | Mapping[str, Any] | str | None = None,
) -> Figure:
    """Summary plot from numbers: inputs with total (and, given, statistical) error bars, the
    combination as a band, the values printed at the right (PDG-rounded), a legend saying
    which bar is which; ``chi2`` is text for the combination's legend entry; ``theory`` a
    ``(value, error)`` or ``(value, low, high)`` band."""
    v = np.asarray(values, dtype=float)
    e = np.asarray(uncertainties, dtype=float)
    s = None if stat_uncertainties is None else np.asarray(stat_uncertainties, dtype=float)
    rows = [
        Row(str(n), float(v[i]), float(e[i]), float(e[i]), None if s is None else float(s[i]))
        for i, n in enumerate(names)
    ]
    comb = Row(label, float(combined), combined_uncertainty, combined_uncertainty, combined_stat)
    fig, ax = _style.axes_or_new(ax, (_style.summary_width(), _style.summary_height(len(rows) + 1)))
    _style.draw_summary(
        ax,
        rows,
        comb,
        xlabel=_style.title(xlabel, unit),
        chi2=chi2,
        theory=_style.check_theory(theory),
        theory_label=theory_label,
    )
    _style.label(ax, exp_label)
    return fig


def plot_summary(
    blue: Blue,
    observable: str | None = None,
    *,
    xlabel: str | None = None,
    unit: str = "",
    label: str = "Combination",
    theory: Sequence[float] | None = None,
    theory_label: str = "Theory",
    ax: Axes | None = None,
    exp_label: ExperimentLabel | Mapping[str, Any] | str | None = None,
) -> Figure:
    """Summary plot of a :class:`~hepcombine.blue.Blue` for one observable (default: the
    first): its inputs with total and statistical error bars (when the combination has
    statistical sources), the combination as a band with its statistical part, values printed
    at the right, χ²/ndf in the legend."""
    obs = list(blue.observables)
    o = obs[0] if observable is None else observable
    if o not in obs:
        raise UnknownName(f"{o!r} is not a combined observable; observables are {obs}")
    j = obs.index(o)
    of = blue.observable_of
    sigma = blue.uncertainties
    total = np.sqrt(np.diag(blue.total_covariance))
    stat_idx = [k for k, s in enumerate(blue.sources) if s in blue.statistical_sources]
    stat = np.sqrt((sigma[:, stat_idx] ** 2).sum(axis=1)) if stat_idx else None
    res = blue.result
    cstat = None
    if stat_idx:
        vk = blue.source_covariances
        cstat = float(np.sqrt(abs(sum(vk[blue.sources[k]][j, j] for k in stat_idx))))
    idx = [i for i, m in enumerate(blue.measurements) if of[m] == o]
    chi2 = f"$\\chi^2$/ndf = {res.chi2:.2f}/{res.ndf}" if res.ndf > 0 else ""
    return plot_summary_values(
        [blue.measurements[i] for i in idx],
        blue.values[idx],
        total[idx],
        res.values[o],
        res.errors[o],
        stat_uncertainties=None if stat is None else stat[idx],
        combined_stat=cstat,
        label=label,
        xlabel=o if xlabel is None else xlabel,
        unit=unit,
        chi2=chi2,
        theory=theory,
        theory_label=theory_label,
        ax=ax,
        exp_label=exp_label,
    )


def plot_correlation_scan_values(
    factors: ArrayLike,
    value_shifts: ArrayLike,
    uncertainty_shifts: ArrayLike,
    *,
    labels: Sequence[str] | None = None,
    title: str | None = None,
    axes: Sequence[Axes] | None = None,
    exp_label: ExperimentLabel | Mapping[str, Any] | str | None = None,
) -> Figure:
    """Shift of the combined value (top) and of its uncertainty (bottom) against the factor
    multiplying the scanned correlations. Arrays: one row per factor, one column per
    observable (1-d for one observable). ``axes``: two axes to draw into."""
    f = np.asarray(factors, dtype=float)
    dv = np.asarray(value_shifts, dtype=float).reshape(len(f), -1)
    de = np.asarray(uncertainty_shifts, dtype=float).reshape(len(f), -1)
    names = list(labels) if labels is not None else [f"observable {j}" for j in range(dv.shape[1])]
    if axes is None:
        import matplotlib as mpl

        w, h = mpl.rcParams["figure.figsize"]
        fig, (top, bottom) = _style.figure((float(w), float(h) * 1.2), nrows=2, sharex=True)
    else:
        if len(axes) != 2:
            raise InvalidArgument(f"plot_correlation_scan draws into 2 axes, got {len(axes)}")
        top, bottom = axes
        fig = cast("Figure", top.figure)
    for j, name in enumerate(names):
        top.plot(f, dv[:, j], "o-", label=name)
        bottom.plot(f, de[:, j], "o-", label=name)
    for a in (top, bottom):
        a.axhline(0.0, color="grey", lw=1, ls="--")
        a.axvline(1.0, color="grey", lw=1, ls=":")
    top.set_ylabel("Δ value")
    bottom.set_ylabel("Δ uncertainty")
    bottom.set_xlabel("correlation scale factor")
    top.legend(fontsize="small")
    if title:
        top.text(0.02, 0.04, title, transform=top.transAxes, fontsize="small", va="bottom")
    _style.label(top, exp_label)
    return fig


def plot_correlation_scan(
    scan: CorrelationScan,
    *,
    axes: Sequence[Axes] | None = None,
    exp_label: ExperimentLabel | Mapping[str, Any] | str | None = None,
) -> Figure:
    """Plot a :class:`~hepcombine.blue.CorrelationScan` (points where the scaled covariance is
    not positive definite are left out)."""
    ok = np.asarray(scan.valid)
    what = f"source {scan.source}" if scan.source else "all sources"
    if scan.pairs:
        what += ", pairs " + ", ".join(f"{a}–{b}" for a, b in scan.pairs)
    return plot_correlation_scan_values(
        np.asarray(scan.factors)[ok],
        np.asarray(scan.value_shifts)[ok],
        np.asarray(scan.uncertainty_shifts)[ok],
        labels=scan.observables,
        title=f"correlation scan: {what}",
        axes=axes,
        exp_label=exp_label,
    )


def __dir__() -> list[str]:
    return list(__all__)
