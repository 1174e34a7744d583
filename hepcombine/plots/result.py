"""Plots of a χ² combination result: summary of inputs and combination, pulls and constraints
of the sources, correlation of the combined values, and differential spectra.

Every function returns a matplotlib ``Figure``; matplotlib and mplhep are imported when a plot
is made. The functions take a :class:`~hepcombine.result.CombinationResult` and/or plain
numbers; nothing here fits anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..exceptions import InvalidArgument, UnknownName
from ._style import COMBINED, INPUT, draw_summary, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..measurement import Measurement
    from ..result import CombinationResult

__all__ = [
    "inputs_for",
    "plot_correlation",
    "plot_pulls",
    "plot_spectrum",
    "plot_summary",
]

Inputs = Mapping[str, Mapping[str, tuple[float, float]]]


# ---------------------------------------------------------------------- inputs
def inputs_for(
    combiner_or_measurements: Any,
    result: CombinationResult | None = None,
    *,
    observables: Mapping[str, Sequence[Any]] | None = None,
) -> dict[str, dict[str, tuple[float, float]]]:
    """The inputs of each combined observable, ``{observable: {"meas:est": (value, error)}}``,
    for :func:`plot_summary`.

    ``combiner_or_measurements``: a :class:`~hepcombine.combiner.Combiner`, a
    :class:`~hepcombine.spec.CombinationSpec`, or ``{name: Measurement}`` (then
    ``observables`` maps observables to estimate references; without it estimates of the same
    name form one observable, as in the combiner). The error is the estimate's total
    (symmetrised) uncertainty, :attr:`Measurement.errors`. With ``result`` only its observables
    are kept, in its order.
    """
    from ..combiner import Combiner
    from ..names import Names
    from ..spec import CombinationSpec

    obj = combiner_or_measurements
    mapping: dict[str, list[tuple[str, str]]] = {}
    if isinstance(obj, Combiner):
        measurements: Mapping[str, Measurement] = obj.measurements
        refs = [(m, e) for m, meas in measurements.items() for e in meas.estimate_names]
        # the combiner's own estimate → fitted-parameter map (observables first)
        params = obj._param_of_estimate
        for (m, e), p in zip(refs, params, strict=True):
            if p < len(obj.observables):
                mapping.setdefault(obj.observables[p], []).append((m, e))
    else:
        if isinstance(obj, CombinationSpec):
            measurements = obj.measurements
            observables = observables or obj.observables or None
        elif isinstance(obj, Mapping):
            measurements = obj
        else:
            raise InvalidArgument(
                "inputs_for needs a Combiner, a CombinationSpec or {name: Measurement}, "
                f"not {type(obj).__name__}"
            )
        if observables:
            names = Names(measurements)
            for o, rs in observables.items():
                mapping[str(o)] = [names.estimates[names.estimate(r)] for r in rs]
        else:
            for m, meas in measurements.items():
                for e in meas.estimate_names:
                    mapping.setdefault(e, []).append((m, e))
    errors = {m: meas.errors for m, meas in measurements.items()}
    values = {
        m: dict(zip(meas.estimate_names, meas.estimates.tolist(), strict=True))
        for m, meas in measurements.items()
    }
    out = {
        o: {f"{m}:{e}": (float(values[m][e]), float(errors[m][e])) for m, e in refs}
        for o, refs in mapping.items()
    }
    if result is not None:
        out = {o: out.get(o, {}) for o in result.observables}
    return out


# ---------------------------------------------------------------------- summary
def plot_summary(
    result: CombinationResult,
    inputs: Inputs | None = None,
    observable: str | None = None,
    *,
    label: str = "Combination",
    xlabel: str | None = None,
    digits: int | None = None,
) -> Figure:
    """Inputs of one observable (value ± total error, one row each), the combination as a
    vertical band (its profile interval, or ± its error), values printed at the right.

    ``inputs``: ``{observable: {"meas:est": (value, error)}}`` (see :func:`inputs_for`), or
    directly ``{"meas:est": (value, error)}`` for ``observable``; ``None`` draws the
    combination alone. ``observable`` defaults to the first (or only) one of the result.
    """
    import matplotlib.pyplot as plt

    obs = result.observables[0] if observable is None else observable
    if obs not in result.values:
        raise UnknownName(
            f"{obs!r} is not a combined observable; observables are {list(result.observables)}"
        )
    rows: Mapping[str, tuple[float, float]] = {}
    if inputs:
        first = next(iter(inputs.values()))
        rows = inputs.get(obs, {}) if isinstance(first, Mapping) else inputs
    names = list(rows)
    values = np.array([float(rows[n][0]) for n in names])
    errors = np.array([float(rows[n][1]) for n in names])
    v = result.values[obs]
    e = result.errors[obs]
    lo, hi = result.intervals.get(obs, (np.nan, np.nan))
    ok = result.has_interval(obs) and bool(np.isfinite(lo) and np.isfinite(hi))
    low, high = (v - lo, hi - v) if ok else (e, e)
    with style():
        fig, ax = plt.subplots(figsize=(10, 2.2 + 0.6 * (len(names) + 1)), layout="constrained")
        draw_summary(
            ax,
            names,
            values,
            errors,
            v,
            low,
            high,
            label=label,
            xlabel=obs if xlabel is None else xlabel,
            digits=digits,
        )
        chi = f"χ²/ndf = {result.chi2:.3g}/{result.ndf}" if result.ndf > 0 else ""
        if chi:
            ax.set_title(chi, fontsize="small", loc="left")
    return fig


# ---------------------------------------------------------------------- pulls
def plot_pulls(result: CombinationResult, sources: Sequence[str] | None = None) -> Figure:
    """Pulls of the sources (post-fit λ) with their constraints (post-fit σ) as error bars,
    one row per source, over ±1 (green) and ±2 (yellow) bands. ``sources`` selects and orders
    the rows (qualified ``"meas:source"`` names); default all, in the result's order."""
    import matplotlib.pyplot as plt

    names = list(result.pulls if sources is None else sources)
    unknown = [s for s in names if s not in result.pulls]
    if unknown:
        raise UnknownName(
            f"sources {unknown[:5]} are not in the result; sources are {list(result.pulls)[:10]}"
        )
    pulls = np.array([result.pulls[s] for s in names], dtype=float)
    cons = np.array([result.constraints[s] for s in names], dtype=float)
    n = len(names)
    y = np.arange(n)[::-1].astype(float)  # first source at the top
    with style():
        fig, ax = plt.subplots(figsize=(8, 1.6 + 0.28 * max(n, 3)), layout="constrained")
        ax.axvspan(-2, 2, color="yellow", lw=0)
        ax.axvspan(-1, 1, color="limegreen", lw=0)
        ax.axvline(0, color="grey", ls="--", lw=1)
        if n:
            ax.errorbar(pulls, y, xerr=cons, fmt="o", color=INPUT, ms=4, capsize=0)
        ax.set_yticks(y, names, fontsize="x-small" if n > 30 else "small")
        ax.tick_params(axis="y", which="minor", left=False, right=False)
        ax.set_ylim(-0.6, n - 0.4)
        reach = np.max(np.abs(pulls) + cons) if n else 0.0
        lim = max(3.0, float(np.ceil(reach * 1.1)) if np.isfinite(reach) else 3.0)
        ax.set_xlim(-lim, lim)
        ax.set_xlabel(r"pull $(\hat\lambda - \lambda_0)/\Delta\lambda$ and constraint")
    return fig


# ---------------------------------------------------------------------- correlation
def plot_correlation(result: CombinationResult) -> Figure:
    """Correlation matrix of the combined values (colour scale −1 … 1); the numbers are
    written in the cells for up to 20 observables."""
    import matplotlib.pyplot as plt

    names = list(result.correlation.names)
    c = np.asarray(result.correlation.matrix, dtype=float)
    n = len(names)
    size = min(4.0 + 0.55 * n, 20.0)
    with style():
        fig, ax = plt.subplots(figsize=(size + 1.5, size), layout="constrained")
        im = ax.imshow(c, cmap="RdBu_r", vmin=-1, vmax=1, origin="upper", aspect="auto")
        fig.colorbar(im, ax=ax, label="correlation")
        fs = "small" if n <= 10 else "x-small"
        ax.set_xticks(np.arange(n), names, rotation=45 if n <= 20 else 90, ha="right", fontsize=fs)
        ax.set_yticks(np.arange(n), names, fontsize=fs)
        ax.tick_params(which="minor", bottom=False, top=False, left=False, right=False)
        ax.tick_params(top=False, right=False)
        if n <= 20:
            for i in range(n):
                for j in range(n):
                    ax.text(
                        j,
                        i,
                        f"{c[i, j]:.2f}",
                        ha="center",
                        va="center",
                        fontsize="small" if n <= 8 else "x-small",
                        color="white" if abs(c[i, j]) > 0.6 else "black",
                    )
    return fig


# ---------------------------------------------------------------------- spectra
def plot_spectrum(
    edges: ArrayLike,
    inputs: Mapping[str, tuple[ArrayLike, ArrayLike]],
    combined: tuple[ArrayLike, ArrayLike, ArrayLike],
    *,
    axis_label: str = "",
    ratio: bool = True,
    ylabel: str = "value",
    logy: bool | None = None,
) -> Figure:
    """Differential spectra: each input ``{name: (values, errors)}`` as points (spread within
    the bin so they do not overlap), the combination ``(values, err_low, err_high)`` as a step
    line with a shaded band, and (``ratio=True``) a lower panel with everything divided by the
    combined values. ``logy=None`` chooses a log scale when positive values span more than
    two decades."""
    import matplotlib.pyplot as plt
    import mplhep

    e = np.asarray(edges, dtype=float)
    nb = len(e) - 1
    cv, clo, chi = (np.asarray(a, dtype=float).reshape(-1) for a in combined)
    for what, arr in (("combined values", cv), ("lower errors", clo), ("upper errors", chi)):
        if arr.shape != (nb,):
            raise InvalidArgument(f"{what}: {arr.shape[0]} entries for {nb} bins")
    ins = {}
    for name, (vals, errs) in inputs.items():
        v = np.asarray(vals, dtype=float).reshape(-1)
        er = np.asarray(errs, dtype=float).reshape(-1)
        if v.shape != (nb,) or er.shape != (nb,):
            raise InvalidArgument(f"input {name!r}: values and errors need {nb} entries")
        ins[name] = (v, er)
    centres = 0.5 * (e[1:] + e[:-1])
    widths = np.diff(e)
    k = len(ins)
    offsets = (np.arange(k) - (k - 1) / 2) * (0.5 / max(k, 1)) if k else np.zeros(0)
    if logy is None:
        pos = cv[cv > 0]
        logy = bool(len(pos) == nb and pos.max() / pos.min() > 100)
    colours = [f"C{i + 1}" for i in range(k)]
    markers = ["o", "s", "^", "v", "D", "P", "X", "<", ">"]

    with style():
        if ratio:
            fig, (ax, rax) = plt.subplots(
                2,
                1,
                sharex=True,
                figsize=(9, 8),
                gridspec_kw={"height_ratios": [3, 1]},
                layout="constrained",
            )
        else:
            fig, ax = plt.subplots(figsize=(9, 6), layout="constrained")
            rax = None
        ax.stairs(cv + chi, e, baseline=cv - clo, fill=True, color=COMBINED, alpha=0.3, lw=0)
        mplhep.histplot(cv, e, ax=ax, histtype="step", color=COMBINED, lw=1.5, label="Combination")
        for i, (name, (v, er)) in enumerate(ins.items()):
            ax.errorbar(
                centres + offsets[i] * widths,
                v,
                yerr=er,
                fmt=markers[i % len(markers)],
                color=colours[i],
                ms=5,
                capsize=0,
                label=name,
            )
        ax.set_ylabel(ylabel)
        tops = [cv + chi, *(v + er for v, er in ins.values())]
        ymax = float(np.nanmax(np.concatenate(tops)))
        if logy:
            ax.set_yscale("log")
            bottoms = np.concatenate([cv - clo, *(v - er for v, er in ins.values())])
            ymin = float(np.min(bottoms[bottoms > 0], initial=cv.min()))
            ax.set_ylim(0.5 * ymin, ymax * (ymax / ymin) ** 0.3)  # room for the legend
        else:
            ymin = min(0.0, float(np.nanmin(np.concatenate([cv - clo]))))
            ax.set_ylim(ymin, ymax + 0.3 * (ymax - ymin))
        ax.set_xlim(e[0], e[-1])
        ax.legend(fontsize="small")
        if rax is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                rax.stairs(
                    1 + chi / cv,
                    e,
                    baseline=1 - clo / cv,
                    fill=True,
                    color=COMBINED,
                    alpha=0.3,
                    lw=0,
                )
                rax.axhline(1.0, color=COMBINED, lw=1.5)
                for i, (v, er) in enumerate(ins.values()):
                    rax.errorbar(
                        centres + offsets[i] * widths,
                        v / cv,
                        yerr=er / np.abs(cv),
                        fmt=markers[i % len(markers)],
                        color=colours[i],
                        ms=4,
                        capsize=0,
                    )
            rax.set_ylabel("ratio to comb.")
            rax.set_xlabel(axis_label)
        else:
            ax.set_xlabel(axis_label)
    return fig


def __dir__() -> list[str]:
    return list(__all__)
