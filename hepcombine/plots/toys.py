"""Plots of pseudo-experiments (:class:`~hepcombine.toys.ToyResult`): the pull distribution
with a fitted Gaussian, the coverage per observable, the χ²_min distribution.

Each function draws into ``ax`` when given, or into a new figure of the active style's size,
and returns the Figure; the active matplotlib style is used (``mplhep.style.use("CMS")`` or
``hepcombine.plots.style.use_style``), nothing global is changed, as every hepcombine plot. The Gaussian is fitted with iminuit
(:func:`hepcombine.toys.fit_gaussian`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import UnknownName
from . import _style
from ._style import COMBINED, INPUT

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..toys.summary import ToyResult

__all__ = ["plot_chi2_distribution", "plot_coverage", "plot_pull_distribution"]

OTHER = "tab:orange"


@contextlib.contextmanager
def _axes(ax: Axes | None, width: float = 1.0) -> Iterator[Axes]:
    """``ax`` as given, or the axes of a new figure of the active style's size (``width``
    times as wide)."""
    import matplotlib as mpl

    w, h = mpl.rcParams["figure.figsize"]
    yield _style.axes_or_new(ax, (width * float(w), float(h)))[1]


def _counts(ax: Axes, counts: np.ndarray, edges: np.ndarray, label: str) -> None:
    """A histogram of counts as points with √n error bars (mplhep)."""
    import mplhep

    mplhep.histplot(
        counts, edges, yerr=np.sqrt(counts), histtype="errorbar", color=INPUT, label=label, ax=ax
    )
    ax.set_ylim(0, 1.45 * max(float(counts.max(initial=0)), 1.0))
    ax.set_ylabel(f"toys / {edges[1] - edges[0]:.2g}")


def plot_pull_distribution(
    result: ToyResult,
    observable: str | None = None,
    *,
    ax: Axes | None = None,
    bins: int = 40,
    limits: tuple[float, float] = (-5.0, 5.0),
) -> Figure:
    """Histogram of the pulls (x̄ − truth)/σ of one observable (default: all, pooled) with a
    Gaussian fitted by binned maximum likelihood (iminuit) and the expected N(0, 1).

    Pooled pulls of correlated observables are not independent: the fit's errors (which
    assume they are) are then too small; judge the width per observable
    (``result.pull_width``) or with ``observable=``."""
    from scipy.stats import norm

    from ..toys.summary import fit_gaussian

    pulls = result.pulls(observable)
    edges = np.linspace(limits[0], limits[1], bins + 1)
    counts, _ = np.histogram(pulls, bins=edges)
    fit = fit_gaussian(pulls, edges)
    inside = int(counts.sum())
    width = edges[1] - edges[0]
    x = np.linspace(limits[0], limits[1], 400)

    def scaled(mu: float, sigma: float) -> np.ndarray:
        mass = norm.cdf(limits[1], mu, sigma) - norm.cdf(limits[0], mu, sigma)
        return inside * width * norm.pdf(x, mu, sigma) / max(mass, 1e-300)

    with _axes(ax) as a:
        _counts(a, counts, edges, f"{pulls.size} pulls")
        if fit.valid:
            a.plot(
                x,
                scaled(fit.mean, fit.sigma),
                color=COMBINED,
                label=(
                    f"fit: μ = {fit.mean:.3f} ± {fit.mean_error:.3f}\n"
                    f"      σ = {fit.sigma:.3f} ± {fit.sigma_error:.3f}"
                ),
            )
        a.plot(x, scaled(0.0, 1.0), color="grey", ls="--", label="N(0, 1)")
        a.set_xlim(*limits)
        what = observable if observable is not None else f"{len(result.observables)} observables"
        a.set_xlabel(r"pull $(\bar{x} - x_\mathrm{true})/\sigma$")
        a.set_title(f"{what}, {result.chi2_definition} χ²", fontsize="medium")
        a.legend(loc="upper right", fontsize="small")
        return a.figure  # type: ignore[return-value]


def plot_coverage(
    result: ToyResult,
    *,
    ax: Axes | None = None,
    observables: Sequence[str] | None = None,
    x: Sequence[float] | None = None,
    xlabel: str | None = None,
) -> Figure:
    """Coverage of the 68 % profile interval per observable, with binomial errors, against the
    expected 0.683 (band: its binomial spread for the number of pseudo-experiments). ``x``
    places the observables (e.g. bin centres; default their index, labelled by name for up to
    20 observables). The other χ² definition is drawn too when the result has it."""
    from ..toys.summary import COVERAGE_68

    names = list(result.observables if observables is None else observables)
    unknown = [o for o in names if o not in result.coverage]
    if unknown:
        raise UnknownName(
            f"observables {unknown[:5]} are not in the result; observables are {list(result.observables)[:10]}"
        )
    pos = np.arange(len(names), dtype=float) if x is None else np.asarray(x, dtype=float)
    if pos.shape != (len(names),):
        raise ValueError(f"x has {pos.size} entries for {len(names)} observables")
    n_iv = max([result.n_intervals[o] for o in names] + [1])
    spread = np.sqrt(COVERAGE_68 * (1 - COVERAGE_68) / n_iv)
    with _axes(ax, 1.1) as a:
        a.axhspan(COVERAGE_68 - spread, COVERAGE_68 + spread, color="grey", alpha=0.25, lw=0)
        a.axhline(COVERAGE_68, color="grey", ls="--", lw=1, label="68.3 %")
        sets: list[tuple[Any, str, str, float]] = [(result, COMBINED, "o", 0.0)]
        step = float(np.min(np.diff(np.sort(pos)))) if len(pos) > 1 else 1.0
        if result.other is not None:
            sets.append((result.other, OTHER, "s", 0.15 * step))
        if len(pos) and step > 0:  # half a step of margin (one observable: centred)
            a.set_xlim(float(pos.min()) - 0.5 * step, float(pos.max()) + 0.5 * step)
        for res, colour, marker, offset in sets:
            a.errorbar(
                pos + offset,
                [res.coverage[o] for o in names],
                yerr=[res.coverage_error[o] for o in names],
                fmt=marker,
                color=colour,
                ms=4,
                capsize=0,
                label=f"{res.chi2_definition} χ²",
            )
        if x is None and len(names) <= 20:
            a.set_xticks(pos, names, rotation=45 if len(names) > 5 else 0, ha="right")
            a.tick_params(axis="x", which="minor", bottom=False, top=False)
        a.set_xlabel(xlabel or ("observable" if x is None else ""))
        a.set_ylabel("coverage of the 68 % interval")
        lo = min([COVERAGE_68 - 3 * spread] + [result.coverage[o] for o in names])
        hi = max([COVERAGE_68 + 3 * spread] + [result.coverage[o] for o in names])
        if np.isfinite(lo) and np.isfinite(hi):
            a.set_ylim(lo - 0.1 * (hi - lo), hi + 0.45 * (hi - lo))
        a.legend(loc="upper right", fontsize="small", ncols=len(sets) + 1)
        a.set_title(f"{result.n} pseudo-experiments", fontsize="medium")
        return a.figure  # type: ignore[return-value]


def plot_chi2_distribution(result: ToyResult, *, ax: Axes | None = None, bins: int = 40) -> Figure:
    """Histogram of χ²_min over the pseudo-experiments with the χ²(ndf) density and the
    Kolmogorov–Smirnov p-value."""
    from matplotlib.ticker import MaxNLocator
    from scipy.stats import chi2 as chi2_dist

    values = result.chi2[~result.failed]
    values = values[np.isfinite(values)]
    ndf = result.ndf
    top = max(float(chi2_dist.ppf(0.999, max(ndf, 1))), float(np.max(values, initial=0.0)))
    edges = np.linspace(0.0, top, bins + 1)
    counts, _ = np.histogram(values, bins=edges)
    width = edges[1] - edges[0]
    with _axes(ax) as a:
        label = f"{values.size} pseudo-experiments\nmean {result.chi2_mean:.3g} ± {result.chi2_mean_error:.2g}"
        _counts(a, counts, edges, label)
        if ndf > 0:
            x = np.linspace(0.0, top, 400)[1:]
            a.plot(
                x,
                values.size * width * chi2_dist.pdf(x, ndf),
                color=COMBINED,
                label=f"χ²({ndf}), KS p = {result.chi2_ks_pvalue:.3g}",
            )
        a.set_xlim(0.0, top)
        a.xaxis.set_major_locator(MaxNLocator(6))
        a.set_xlabel(r"$\chi^2_\mathrm{min}$")
        a.legend(loc="upper right", fontsize="small")
        return a.figure  # type: ignore[return-value]


def __dir__() -> list[str]:
    return list(__all__)
