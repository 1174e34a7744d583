"""Plots of BLUE combinations: the summary of inputs and combination, and correlation scans.

Every function returns a matplotlib ``Figure``; matplotlib and mplhep are imported when a plot
is made. The functions ending in ``_values`` take plain numbers; the others take a
:class:`~hepcombine.blue.Blue` or its :class:`~hepcombine.blue.CorrelationScan`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

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


def _style() -> Any:
    import matplotlib.pyplot as plt
    import mplhep

    return plt.style.context(mplhep.style.ROOT)


def _fmt(value: float, error: float, digits: int | None) -> str:
    if digits is None:  # two significant digits of the uncertainty
        digits = max(0, 1 - int(np.floor(np.log10(abs(error))))) if error > 0 else 3
    return f"{value:.{digits}f} ± {error:.{digits}f}"


def _draw_summary(
    ax: Axes,
    names: Sequence[str],
    values: np.ndarray,
    errors: np.ndarray,
    combined: float,
    combined_error: float,
    stat: np.ndarray | None,
    combined_stat: float | None,
    label: str,
    xlabel: str,
    digits: int | None,
) -> None:
    n = len(names)
    rows = np.arange(n, 0, -1, dtype=float)  # inputs from the top, combination at 0
    ax.axvspan(
        combined - combined_error,
        combined + combined_error,
        color="tab:blue",
        alpha=0.25,
        lw=0,
        label=f"{label} (total)",
    )
    ax.axvline(combined, color="tab:blue", lw=1.5)
    ax.errorbar(values, rows, xerr=errors, fmt="o", color="black", capsize=3, label="total")
    ax.errorbar([combined], [0.0], xerr=[combined_error], fmt="s", color="tab:blue", capsize=3)
    if stat is not None:
        ax.errorbar(values, rows, xerr=stat, fmt="none", color="tab:red", lw=3, label="stat")
        if combined_stat is not None:
            ax.errorbar([combined], [0.0], xerr=[combined_stat], fmt="none", color="tab:red", lw=3)
    ax.set_yticks([*rows, 0.0], [*names, label])
    ax.set_ylim(-0.8, n + 0.8)
    ax.set_xlabel(xlabel)
    lo = min(np.min(values - errors), combined - combined_error)
    hi = max(np.max(values + errors), combined + combined_error)
    pad = 0.15 * (hi - lo if hi > lo else 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.tick_params(axis="y", which="both", left=False, right=False)
    trans = ax.get_yaxis_transform()  # x in axes units, y in data units
    for y, v, e in zip(rows, values, errors, strict=True):
        ax.text(
            1.03, y, _fmt(v, e, digits), transform=trans, va="center", ha="left", fontsize="small"
        )
    ax.text(
        1.03,
        0.0,
        _fmt(combined, combined_error, digits),
        transform=trans,
        va="center",
        ha="left",
        color="tab:blue",
        fontweight="bold",
        fontsize="small",
    )


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
    digits: int | None = None,
) -> Figure:
    """Summary plot from numbers: inputs with (total, optionally statistical) error bars, the
    combination as a band, values printed at the right-hand side."""
    import matplotlib.pyplot as plt

    v = np.asarray(values, dtype=float)
    e = np.asarray(uncertainties, dtype=float)
    s = None if stat_uncertainties is None else np.asarray(stat_uncertainties, dtype=float)
    with _style():
        fig, ax = plt.subplots(figsize=(10, 2.5 + 0.7 * len(names)), layout="constrained")
        _draw_summary(
            ax, names, v, e, combined, combined_uncertainty, s, combined_stat, label, xlabel, digits
        )
    return fig


def plot_summary(
    blue: Blue,
    *,
    xlabel: str | None = None,
    unit: str = "",
    label: str = "Combination",
    digits: int | None = None,
) -> Figure:
    """Summary plot of a :class:`~hepcombine.blue.Blue`: one panel per observable. The
    statistical error bars are drawn when the combination has statistical sources."""
    import matplotlib.pyplot as plt

    obs = blue.observables
    of = blue.observable_of
    sigma = blue.uncertainties
    total = np.sqrt(np.diag(blue.total_covariance))
    stat_idx = [k for k, s in enumerate(blue.sources) if s in blue.statistical_sources]
    stat = np.sqrt((sigma[:, stat_idx] ** 2).sum(axis=1)) if stat_idx else None
    x = blue.combined_result
    err = blue.combined_uncertainty
    vk = blue.source_covariances
    with _style():
        fig, axes = plt.subplots(
            len(obs),
            1,
            figsize=(10, 1.5 + sum(0.7 * (1 + list(of.values()).count(o)) for o in obs)),
            squeeze=False,
            layout="constrained",
        )
        for j, o in enumerate(obs):
            idx = [i for i, m in enumerate(blue.measurements) if of[m] == o]
            xo = x[o] if isinstance(x, dict) else x
            eo = err[o] if isinstance(err, dict) else err
            cstat = None
            if stat_idx:
                cstat = float(np.sqrt(abs(sum(vk[blue.sources[k]][j, j] for k in stat_idx))))
            lab = xlabel if xlabel is not None else o
            _draw_summary(
                axes[j, 0],
                [blue.measurements[i] for i in idx],
                blue.values[idx],
                total[idx],
                xo,
                eo,
                None if stat is None else stat[idx],
                cstat,
                label,
                f"{lab} [{unit}]" if unit else lab,
                digits,
            )
    return fig


def plot_correlation_scan_values(
    factors: ArrayLike,
    value_shifts: ArrayLike,
    uncertainty_shifts: ArrayLike,
    *,
    labels: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """Shift of the combined value (top) and of its uncertainty (bottom) against the factor
    multiplying the scanned correlations. Arrays: one row per factor, one column per
    observable (1-d for one observable)."""
    import matplotlib.pyplot as plt

    f = np.asarray(factors, dtype=float)
    dv = np.asarray(value_shifts, dtype=float).reshape(len(f), -1)
    de = np.asarray(uncertainty_shifts, dtype=float).reshape(len(f), -1)
    names = list(labels) if labels is not None else [f"observable {j}" for j in range(dv.shape[1])]
    with _style():
        fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 7), layout="constrained")
        for j, name in enumerate(names):
            top.plot(f, dv[:, j], "o-", label=name)
            bottom.plot(f, de[:, j], "o-", label=name)
        for ax in (top, bottom):
            ax.axhline(0.0, color="grey", lw=1, ls="--")
            ax.axvline(1.0, color="grey", lw=1, ls=":")
        top.set_ylabel("Δ value")
        bottom.set_ylabel("Δ uncertainty")
        bottom.set_xlabel("correlation scale factor")
        top.legend()
        if title:
            top.set_title(title, fontsize="medium")
    return fig


def plot_correlation_scan(scan: CorrelationScan) -> Figure:
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
    )


def __dir__() -> list[str]:
    return list(__all__)
