"""Plot of a correlation scan (as the Convino paper's Figs. 14–15): the combined value against
the scanned correlation with its uncertainty as a shaded band, the nominal result as an open
marker with its error bar, and χ²_min in a lower panel.

matplotlib and mplhep are imported when a plot is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import UnknownName
from ._style import COMBINED, INPUT, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..scan import ScanResult

__all__ = ["plot_scan"]


def _band(value: np.ndarray, error: np.ndarray, low: np.ndarray, high: np.ndarray):
    """Band edges: the profile interval where known, value ± error otherwise."""
    lo = np.where(np.isfinite(low), low, value - error)
    hi = np.where(np.isfinite(high), high, value + error)
    return lo, hi


def plot_scan(scan: ScanResult, observable: str) -> Figure:
    """Combined value of ``observable`` against the scanned correlation of ``scan``.

    The x axis is the correlation of the group's first pair (the others move with it). The
    band is the 68 % profile interval (or ±σ where no interval was computed). Points with
    invalid assumptions are left out and counted in a note.
    """
    import matplotlib.pyplot as plt

    if observable not in scan.values:
        raise UnknownName(
            f"{observable!r} is not an observable of scan {scan.name!r}; "
            f"observables are {list(scan.observables)}"
        )
    x = np.asarray(scan.rho[:, 0], dtype=float)
    ok = np.asarray(scan.valid, dtype=bool)
    v = np.where(ok, scan.values[observable], np.nan)
    e = np.where(ok, scan.errors[observable], np.nan)
    lo, hi = _band(v, e, scan.interval_low[observable], scan.interval_high[observable])
    a, b = scan.pairs[0][:2]
    xlabel = f"ρ({a}, {b})"
    if len(scan.pairs) > 1:
        xlabel += f"  [+ {len(scan.pairs) - 1} more pair{'s' if len(scan.pairs) > 2 else ''}]"

    with style():
        fig, (top, bottom) = plt.subplots(
            2,
            1,
            sharex=True,
            figsize=(9, 7),
            gridspec_kw={"height_ratios": [3, 1]},
            layout="constrained",
        )
        top.fill_between(x, lo, hi, color=COMBINED, alpha=0.25, lw=0, label="68% CL along the scan")
        top.plot(x, v, "-", color=COMBINED, lw=1.5, label="combined value")
        nv = scan.nominal_values[observable]
        if np.isfinite(nv):
            ne = scan.nominal_errors[observable]
            nlo, nhi = scan.nominal_interval[observable]
            yerr = (
                [[nv - nlo], [nhi - nv]] if np.isfinite(nlo) and np.isfinite(nhi) else [[ne], [ne]]
            )
            top.errorbar(
                [scan.nominal_rho[0]],
                [nv],
                yerr=yerr,
                fmt="o",
                mfc="white",
                mec=INPUT,
                color=INPUT,
                ms=8,
                capsize=4,
                label="nominal assumption",
                zorder=3,
            )
        top.set_ylabel(observable)
        # room above the curves for the legend
        ends = [lo, hi]
        if np.isfinite(nv):
            ends.append(np.array([nv - yerr[0][0], nv + yerr[1][0]]))
        y0 = min(float(np.nanmin(a)) for a in ends if np.any(np.isfinite(a)))
        y1 = max(float(np.nanmax(a)) for a in ends if np.any(np.isfinite(a)))
        span = y1 - y0 if y1 > y0 else max(abs(y1), 1.0) * 0.1
        top.set_ylim(y0 - 0.1 * span, y1 + 0.55 * span)
        top.set_title(f"correlation scan: {scan.name}", fontsize="medium", loc="left")

        bottom.plot(x, np.where(ok, scan.chi2, np.nan), "o-", color=COMBINED, ms=4)
        if np.isfinite(scan.nominal_chi2):
            bottom.plot(
                [scan.nominal_rho[0]], [scan.nominal_chi2], "o", mfc="white", mec=INPUT, ms=7
            )
        bottom.set_ylabel(r"$\chi^2_{\mathrm{min}}$")
        bottom.set_xlabel(xlabel)
        bottom.set_xlim(min(x.min(), x.max()), max(x.min(), x.max()))

        n_bad = int(np.sum(~ok))
        if n_bad:
            top.plot(
                [],
                [],
                "x",
                color="tab:red",
                label=f"invalid, left out ({n_bad} of {len(ok)} points)",
            )
            bottom.plot(
                x[~ok],
                np.zeros(n_bad),
                "x",
                color="tab:red",
                ms=7,
                transform=bottom.get_xaxis_transform(),
                clip_on=False,
            )
        top.legend(loc="upper left", fontsize="small")
    return fig


def __dir__() -> list[str]:
    return list(__all__)
