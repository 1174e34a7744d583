"""Plot of a correlation scan (as the Convino paper's Figs. 14–15): the combined value against
the scanned correlation with its uncertainty as a shaded band, the nominal result as an open
marker with its error bar, the shift Δvalue from the nominal result and χ²_min in lower panels.

matplotlib and mplhep are imported when a plot is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..exceptions import InvalidArgument, UnknownName
from . import _style
from .style import COMBINED, INPUT, ExperimentLabel

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..eps_scan import EpsScanResult
    from ..scan import ScanResult

__all__ = ["plot_eps_scan", "plot_scan"]


def _band(value: np.ndarray, error: np.ndarray, low: np.ndarray, high: np.ndarray):
    """Band edges: the profile interval where known, value ± error otherwise."""
    lo = np.where(np.isfinite(low), low, value - error)
    hi = np.where(np.isfinite(high), high, value + error)
    return lo, hi


def plot_scan(
    scan: ScanResult,
    observable: str,
    *,
    axes: Sequence[Axes] | None = None,
    ylabel: str | None = None,
    exp_label: ExperimentLabel | Mapping[str, Any] | str | None = None,
) -> Figure:
    """Combined value of ``observable`` against the scanned correlation of ``scan``, in three
    panels: the value with its 68 % band; Δvalue, its shift from the nominal result (with the
    nominal uncertainty as a band, so a shift can be read in units of it); and χ²_min.

    The x axis is the correlation of the group's first pair (the others move with it). The
    band is the profile interval (or ±σ where no interval was computed). Points with invalid
    assumptions are left out, marked on the x axis and counted in the legend. ``axes``: three
    axes to draw into (default: a new figure). ``ylabel``: the observable's label (default
    its name).
    """
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

    if axes is None:
        import matplotlib as mpl

        w, h = mpl.rcParams["figure.figsize"]
        fig, (top, mid, bottom) = _style.figure(
            (float(w), float(h) * 1.45),
            nrows=3,
            sharex=True,
            gridspec_kw={"height_ratios": [3, 1.4, 1.2]},
        )
    else:
        if len(axes) != 3:
            raise InvalidArgument(f"plot_scan draws into 3 axes, got {len(axes)}")
        top, mid, bottom = axes
        fig = cast("Figure", top.figure)
    top.fill_between(x, lo, hi, color=COMBINED, alpha=0.25, lw=0, label="68% CL along the scan")
    top.plot(x, v, "-", color=COMBINED, lw=1.5, label="combined value")
    nv = scan.nominal_values[observable]
    nominal_ok = bool(np.isfinite(nv))
    yerr: list[list[float]] = [[0.0], [0.0]]
    if nominal_ok:
        ne = scan.nominal_errors[observable]
        nlo, nhi = scan.nominal_interval[observable]
        yerr = [[nv - nlo], [nhi - nv]] if np.isfinite(nlo) and np.isfinite(nhi) else [[ne], [ne]]
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
    top.set_ylabel(observable if ylabel is None else ylabel)
    # headroom above the curves for the legend, which then never covers a point
    ends = [lo, hi]
    if nominal_ok:
        ends.append(np.array([nv - yerr[0][0], nv + yerr[1][0]]))
    y0 = min(float(np.nanmin(a)) for a in ends if np.any(np.isfinite(a)))
    y1 = max(float(np.nanmax(a)) for a in ends if np.any(np.isfinite(a)))
    span = y1 - y0 if y1 > y0 else max(abs(y1), 1.0) * 0.1
    top.set_ylim(y0 - 0.1 * span, y1 + 0.75 * span)

    # Δvalue: the shift from the nominal result, with the nominal uncertainty as a band
    if nominal_ok:
        mid.axhspan(-yerr[0][0], yerr[1][0], color="0.88", lw=0, label="nominal uncertainty")
        mid.plot(x, v - nv, "o-", color=COMBINED, ms=3.5, lw=1.2)
        mid.axhline(0.0, color=INPUT, lw=0.8, ls=":")
        reach = float(np.nanmax(np.abs(np.concatenate([v - nv, [yerr[0][0], yerr[1][0]]]))))
        mid.set_ylim(-1.25 * reach, 1.25 * reach)
    mid.set_ylabel("Δ value")

    bottom.plot(x, np.where(ok, scan.chi2, np.nan), "o-", color=COMBINED, ms=4)
    if np.isfinite(scan.nominal_chi2):
        bottom.plot([scan.nominal_rho[0]], [scan.nominal_chi2], "o", mfc="white", mec=INPUT, ms=7)
    bottom.set_ylabel(r"$\chi^2_{\mathrm{min}}$")
    bottom.set_xlabel(xlabel)
    bottom.set_xlim(min(x.min(), x.max()), max(x.min(), x.max()))
    top.set_xlabel("")
    mid.set_xlabel("")

    n_bad = int(np.sum(~ok))
    if n_bad:
        top.plot(
            [], [], "x", color="tab:red", label=f"invalid, left out ({n_bad} of {len(ok)} points)"
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
    top.legend(loc="upper left", fontsize="small", ncols=2)
    top.text(
        0.99,
        0.97,
        f"scan: {scan.name}",
        transform=top.transAxes,
        ha="right",
        va="top",
        fontsize="small",
    )
    _style.label(top, exp_label)
    return fig


def plot_eps_scan(
    scan: EpsScanResult,
    observable: str,
    *,
    axes: Sequence[Axes] | None = None,
    ylabel: str | None = None,
    exp_label: ExperimentLabel | Mapping[str, Any] | str | None = None,
) -> Figure:
    """Combined value of ``observable`` against ε of an errors-on-errors scan
    (:func:`hepcombine.eps_scan.scan_errors_on_errors`), in three panels: the value with its
    68 % band (the profile interval, Bartlett-corrected if the scan was); the two half-widths of
    the interval; and the goodness of fit: χ²_min and its p-value, with the Bartlett-corrected
    p-value. Failed points are left out and marked."""
    if observable not in scan.values:
        raise UnknownName(
            f"{observable!r} is not an observable of the scan; observables are "
            f"{list(scan.observables)}"
        )
    x = np.asarray(scan.eps, dtype=float)
    ok = np.asarray(scan.valid, dtype=bool)
    v = np.where(ok, scan.values[observable], np.nan)
    e = np.where(ok, scan.errors[observable], np.nan)
    lo, hi = _band(v, e, scan.interval_low[observable], scan.interval_high[observable])
    if axes is None:
        import matplotlib as mpl

        w, h = mpl.rcParams["figure.figsize"]
        fig, (top, mid, bottom) = _style.figure(
            (float(w), float(h) * 1.45),
            nrows=3,
            sharex=True,
            gridspec_kw={"height_ratios": [3, 1.4, 1.4]},
        )
    else:
        if len(axes) != 3:
            raise InvalidArgument(f"plot_eps_scan draws into 3 axes, got {len(axes)}")
        top, mid, bottom = axes
        fig = cast("Figure", top.figure)
    band = "68.3% CL (Bartlett-corrected)" if scan.bartlett else "68% CL (Δχ² = 1)"
    top.fill_between(x, lo, hi, color=COMBINED, alpha=0.25, lw=0, label=band)
    top.plot(x, v, "o-", color=COMBINED, lw=1.5, ms=3.5, label="combined value")
    top.set_ylabel(observable if ylabel is None else ylabel)
    finite = np.concatenate([lo[np.isfinite(lo)], hi[np.isfinite(hi)]])
    if finite.size:
        y0, y1 = float(finite.min()), float(finite.max())
        span = y1 - y0 if y1 > y0 else max(abs(y1), 1.0) * 0.1
        top.set_ylim(y0 - 0.1 * span, y1 + 0.6 * span)
    mid.plot(x, hi - v, "^-", color=COMBINED, ms=4, lw=1.2, label="upper")
    mid.plot(x, v - lo, "v--", color=INPUT, ms=4, lw=1.2, label="lower")
    mid.set_ylabel("half-width")
    mid.legend(loc="upper left", fontsize="small", ncols=2)
    bottom.plot(
        x,
        np.where(ok, scan.chi2, np.nan),
        "o-",
        color=COMBINED,
        ms=4,
        label=r"$\chi^2_{\mathrm{min}}$",
    )
    bottom.set_ylabel(r"$\chi^2_{\mathrm{min}}$")
    twin = bottom.twinx()
    twin.plot(x, np.where(ok, scan.pvalue, np.nan), ":", color=INPUT, lw=1.2, label="p-value")
    twin.plot(
        x,
        np.where(ok, scan.gof_pvalue, np.nan),
        "s-",
        color="tab:green",
        ms=3.5,
        lw=1.2,
        label="p-value, Bartlett-corrected",
    )
    twin.set_ylim(0.0, 1.05)
    twin.set_ylabel("p-value")
    handles = bottom.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    bottom.legend(handles[0] + more[0], handles[1] + more[1], loc="best", fontsize="x-small")
    label = ", ".join(scan.entries)
    bottom.set_xlabel(f"ε({label})" if len(label) < 40 else "ε")
    bottom.set_xlim(float(x.min()), float(x.max()))
    n_bad = int(np.sum(~ok))
    if n_bad:
        top.plot([], [], "x", color="tab:red", label=f"failed, left out ({n_bad} of {len(ok)})")
        bottom.plot(
            x[~ok],
            np.zeros(n_bad),
            "x",
            color="tab:red",
            ms=7,
            transform=bottom.get_xaxis_transform(),
            clip_on=False,
        )
    title = f"errors on errors: {label} ({scan.kind})"
    top.legend(loc="upper left", fontsize="small", ncols=2, title=title, title_fontsize="x-small")
    _style.label(top, exp_label)
    return fig


def __dir__() -> list[str]:
    return list(__all__)
