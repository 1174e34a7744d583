"""Plots of a χ² combination result, as a combination paper shows it: the summary of the inputs
and the combination, the ranked uncertainty breakdown, pulls and constraints of the sources,
the correlation of the combined values, and differential spectra with a ratio panel.

Every function draws into ``ax=`` (or new axes) and returns the ``Figure``; it uses the active
matplotlib style (see :mod:`hepcombine.plots.style`) and changes no global state. Labels come
from the combination (names, a differential result's binning and quantity) and can be given;
``exp_label=`` adds an experiment label (none by default). matplotlib and mplhep are imported
when a plot is made; nothing here fits anything.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import ArrayLike

from ..binning import as_1d
from ..exceptions import InvalidArgument, UnknownName
from ..formatting import stat_error, total_errors
from . import _style
from ._style import Row
from .style import COMBINED, INPUT, ExperimentLabel

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..differential import DifferentialResult
    from ..measurement import Measurement
    from ..result import CombinationResult

__all__ = [
    "display_names",
    "inputs_for",
    "plot_breakdown",
    "plot_correlation",
    "plot_differential",
    "plot_pulls",
    "plot_spectrum",
    "plot_summary",
]

Inputs = Mapping[str, Mapping[str, tuple[float, ...]]]
Label = ExperimentLabel | Mapping[str, Any] | str | None


# ---------------------------------------------------------------------- inputs
def inputs_for(
    combiner_or_measurements: Any,
    result: CombinationResult | None = None,
    *,
    observables: Mapping[str, Sequence[Any]] | None = None,
    stat: bool = False,
) -> dict[str, dict[str, tuple[float, ...]]]:
    """The inputs of each combined observable, ``{observable: {"meas:est": (value, error)}}``
    (``stat=True``: ``(value, error, stat error)``), for :func:`plot_summary`.

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
            if 0 <= p < len(obj.observables):  # −1: an estimate of a linear quantity
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
    stats = {
        m: dict(
            zip(
                meas.estimate_names,
                np.sqrt(np.clip(np.diag(meas.stat_covariance), 0, None)).tolist(),
                strict=True,
            )
        )
        for m, meas in measurements.items()
    }
    values = {
        m: dict(zip(meas.estimate_names, meas.estimates.tolist(), strict=True))
        for m, meas in measurements.items()
    }
    out: dict[str, dict[str, tuple[float, ...]]] = {
        o: {
            f"{m}:{e}": (float(values[m][e]), float(errors[m][e]))
            + ((float(stats[m][e]),) if stat else ())
            for m, e in refs
        }
        for o, refs in mapping.items()
    }
    if result is not None:
        out = {o: out.get(o, {}) for o in result.observables}
    return out


def display_names(refs: Sequence[str]) -> list[str]:
    """Labels for inputs ``"measurement:estimate"``: the measurement names alone when they
    are unique and every input is an estimate of the same name (``"ATLAS"``, ``"CMS"``), else
    the references as they are."""
    parts = [r.split(":", 1) for r in refs]
    if parts and all(len(p) == 2 for p in parts):
        meas = [p[0] for p in parts]
        if len({p[1] for p in parts}) == 1 and len(set(meas)) == len(meas):
            return meas
    return list(refs)


def _chi2_text(result: Any) -> str:
    if getattr(result, "ndf", 0) <= 0 or not math.isfinite(result.chi2):
        return ""
    return f"$\\chi^2$/ndf = {result.chi2:.2f}/{result.ndf}"


# ---------------------------------------------------------------------- summary
def plot_summary(
    result: CombinationResult,
    inputs: Inputs | None = None,
    observable: str | None = None,
    *,
    ax: Axes | None = None,
    label: str = "Combination",
    xlabel: str | None = None,
    unit: str = "",
    names: Mapping[str, str] | None = None,
    theory: Sequence[float] | None = None,
    theory_label: str = "Theory",
    chi2: bool = True,
    exp_label: Label = None,
) -> Figure:
    """The summary of a combination: each input of ``observable`` (one row, from the top) with
    its total and statistical error bars, the combination below them and as a vertical band
    (its profile interval, or ± its error; the statistical part darker), every value printed
    at the right (PDG-rounded, ``value ± stat ± syst`` where the statistical part is known),
    χ²/ndf of the combination in the legend and, optionally, a theory band.

    Parameters
    ----------
    result:
        The combination.
    inputs:
        ``{observable: {"meas:est": (value, error[, stat])}}`` (:func:`inputs_for`, with
        ``stat=True`` for the statistical bars), or directly ``{"meas:est": (...)}`` for
        ``observable``; ``None`` draws the combination alone.
    observable:
        Which combined value (default: the first one).
    ax:
        Axes to draw into (default: a new figure).
    label:
        Name of the combination's row.
    xlabel, unit:
        Axis label (default: the observable's name) and its unit.
    names:
        Labels of the input rows by reference (default: :func:`display_names`).
    theory:
        ``(value, error)`` or ``(value, low, high)`` of a prediction, drawn as a hatched band
        named ``theory_label``.
    chi2:
        Show χ²/ndf of the combination (all its observables) in the legend.
    exp_label:
        Experiment label (:class:`~hepcombine.plots.style.ExperimentLabel`, a mapping of its
        fields or the experiment's name); none by default.
    """
    obs = result.observables[0] if observable is None else observable
    if obs not in result.values:
        raise UnknownName(
            f"{obs!r} is not a combined observable; observables are {list(result.observables)}"
        )
    rows_in: Mapping[str, tuple[float, ...]] = {}
    if inputs:
        first = next(iter(inputs.values()))
        rows_in = inputs.get(obs, {}) if isinstance(first, Mapping) else inputs
    refs = list(rows_in)
    shown = display_names(refs)
    if names:
        shown = [names.get(r, s) for r, s in zip(refs, shown, strict=True)]
    rows = []
    for ref, name in zip(refs, shown, strict=True):
        t = rows_in[ref]
        stat = float(t[2]) if len(t) > 2 else None
        rows.append(Row(name, float(t[0]), float(t[1]), float(t[1]), stat))
    low, high = total_errors(result, obs)
    combined = Row(label, float(result.values[obs]), low, high, stat_error(result, obs))
    fig, ax = _style.axes_or_new(ax, (_style.summary_width(), _style.summary_height(len(rows) + 1)))
    _style.draw_summary(
        ax,
        rows,
        combined,
        xlabel=_style.title(obs if xlabel is None else xlabel, unit),
        chi2=_chi2_text(result) if chi2 else "",
        theory=_style.check_theory(theory),
        theory_label=theory_label,
    )
    _style.label(ax, exp_label)
    return fig


# ---------------------------------------------------------------------- breakdown
def plot_breakdown(
    result: Any,
    observable: str | None = None,
    *,
    ax: Axes | None = None,
    relative: bool = False,
    max_components: int = 15,
    unit: str = "",
    exp_label: Label = None,
) -> Figure:
    """The uncertainty breakdown of one observable as a ranked horizontal bar chart: the total
    at the top, then the components (``stat``, the source groups, …) largest first, each value
    printed at its bar (two significant digits of the total). Components beyond
    ``max_components`` are summed in quadrature into one "others" bar. A component whose
    variance is negative (reported with its sign) is drawn hatched, to the left.

    ``result``: a :class:`~hepcombine.result.CombinationResult` or
    :class:`~hepcombine.blue.BlueResult` (anything with ``breakdown``, ``errors``, ``values``);
    a :class:`~hepcombine.differential.DifferentialResult` gives the breakdown per bin instead:
    the relative uncertainty of the total (grey) and of the largest components (lines) against
    the bins. ``relative``: in percent of the value.
    """
    if hasattr(result, "binning") and hasattr(result, "result"):
        return _breakdown_per_bin(result, ax=ax, max_components=max_components, exp_label=exp_label)
    obs = result.observables[0] if observable is None else observable
    if obs not in result.values:
        raise UnknownName(
            f"{obs!r} is not a combined observable; observables are {list(result.observables)}"
        )
    b = result.breakdown
    scale = 100.0 / abs(float(result.values[obs])) if relative else 1.0
    comps = sorted(((r, float(b[r, obs]) * scale) for r in b.rows), key=lambda c: -abs(c[1]))
    if len(comps) > max_components:
        rest = comps[max_components - 1 :]
        comps = comps[: max_components - 1]
        signed = sum(math.copysign(v * v, v) for _, v in rest)
        comps.append((f"{len(rest)} others", math.copysign(math.sqrt(abs(signed)), signed)))
    total = float(result.errors[obs]) * scale
    labels = ["Total", *(c for c, _ in comps)]
    values = np.array([total, *(v for _, v in comps)])
    n = len(labels)
    fig, ax = _style.axes_or_new(
        ax, (_style.summary_width() * 0.85, max(2.5, 2.1 * _style.font_inches() * (n + 2)))
    )
    y = np.arange(n)[::-1].astype(float)
    colours = [INPUT] + [COMBINED] * (n - 1)
    bars = ax.barh(y, np.abs(values), height=0.65, color=colours, alpha=0.85)
    for bar, v in zip(bars, values, strict=True):
        if v < 0:
            bar.set_hatch("///")
            bar.set_facecolor("white")
            bar.set_edgecolor(COMBINED)
    digits = max(0, 1 - math.floor(math.log10(total))) if total > 0 else 3
    for yy, v in zip(y, values, strict=True):
        ax.text(abs(v), yy, f"  {v:.{digits}f}", va="center", ha="left", fontsize="small")
    ax.set_yticks(y, labels)
    ax.tick_params(axis="y", which="both", left=False, right=False)
    ax.tick_params(axis="x", which="both", top=False)
    ax.set_xlim(0, 1.25 * max(np.abs(values).max(), 1e-300))
    ax.set_ylim(-0.7, n - 0.3)
    what = "uncertainty [%]" if relative else _style.title("uncertainty", unit)
    ax.set_xlabel(f"{obs}: {what}")
    _style.label(ax, exp_label)
    return fig


def _breakdown_per_bin(
    result: DifferentialResult, *, ax: Axes | None, max_components: int, exp_label: Label
) -> Figure:
    """Relative uncertainty per bin: the total as a grey band, the largest components as
    lines."""
    binning = as_1d(result.binning)
    values = np.abs(result.values)
    with np.errstate(divide="ignore", invalid="ignore"):
        total = 100.0 * result.errors / values
        comps = {k: 100.0 * np.abs(v) / values for k, v in result.breakdown().items()}
    ranked = sorted(comps, key=lambda k: -float(np.nanmax(comps[k])))[:max_components]
    fig, ax = _style.axes_or_new(ax, _default_size())
    _stairs(ax, binning, total, fill=True, color="0.85", label="Total")
    for i, k in enumerate(ranked):
        _stairs(
            ax,
            binning,
            comps[k],
            color=f"C{i % 10}",
            lw=1.8,
            ls="-" if i < 10 else "--",
            label=k,
        )
    ax.set_xlim(binning.low[0], binning.high[-1])
    top = float(np.nanmax(total)) if np.any(np.isfinite(total)) else 1.0
    ax.set_ylim(0, 1.45 * top)
    ax.set_ylabel("relative uncertainty [%]")
    ax.set_xlabel(_xlabel(binning))
    ax.legend(fontsize="small", ncols=2 if len(ranked) > 4 else 1, loc="upper left")
    _index_ticks(ax, binning)
    _style.label(ax, exp_label)
    return fig


# ---------------------------------------------------------------------- pulls
def plot_pulls(
    result: CombinationResult,
    sources: Sequence[str] | None = None,
    *,
    ax: Axes | None = None,
    exp_label: Label = None,
) -> Figure:
    """Pulls of the sources (post-fit λ) with their constraints (post-fit σ) as error bars,
    one row per source, over ±1 (green) and ±2 (yellow) bands. ``sources`` selects and orders
    the rows (qualified ``"meas:source"`` names); default all, in the result's order."""
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
    fi = _style.font_inches()
    fig, ax = _style.axes_or_new(ax, (_style.summary_width() * 0.8, 2.0 * fi * max(n, 3) + 8 * fi))
    ax.axvspan(-2, 2, color="#ffe066", lw=0)
    ax.axvspan(-1, 1, color="#8fd694", lw=0)
    ax.axvline(0, color="grey", ls="--", lw=1)
    if n:
        ax.errorbar(pulls, y, xerr=cons, fmt="o", color=INPUT, ms=4, capsize=0)
    ax.set_yticks(y, names, fontsize="x-small" if n > 30 else "small")
    ax.tick_params(axis="y", which="both", left=False, right=False)
    ax.set_ylim(-0.6, n - 0.4)
    reach = np.max(np.abs(pulls) + cons) if n else 0.0
    lim = max(3.0, float(np.ceil(reach * 1.1)) if np.isfinite(reach) else 3.0)
    ax.set_xlim(-lim, lim)
    ax.set_xlabel(r"pull $(\hat\lambda - \lambda_0)/\Delta\lambda$ and constraint")
    _style.label(ax, exp_label)
    return fig


# ---------------------------------------------------------------------- correlation
def plot_correlation(
    result: CombinationResult | DifferentialResult,
    *,
    ax: Axes | None = None,
    observables: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    exp_label: Label = None,
) -> Figure:
    """Correlation matrix of the combined values (colour scale −1 … 1), the numbers written in
    the cells for up to 20 observables. The bins of a
    :class:`~hepcombine.differential.DifferentialResult` are labelled by their ranges (the
    axis title, with its unit, names the axes). A single observable has no correlation matrix
    (:class:`~hepcombine.exceptions.InvalidArgument`)."""
    axis_title = ""
    if hasattr(result, "binning") and hasattr(result, "result"):
        names = list(result.observables)
        binning = as_1d(result.binning)
        if labels is None:
            labels = _bin_labels(binning)
        if not binning.is_index:
            axis_title = binning.title
        inner = result.result
    else:
        inner = result
        names = list(inner.correlation.names if observables is None else observables)
    if observables is not None and hasattr(result, "binning"):
        names = list(observables)
    if len(names) < 2:
        raise InvalidArgument(
            f"a correlation matrix needs at least two observables, got {names}: a single "
            "observable has none to show"
        )
    shown = list(labels) if labels is not None else names
    if len(shown) != len(names):
        raise InvalidArgument(f"{len(shown)} labels for {len(names)} observables")
    c = inner.correlation.sub(names).matrix
    n = len(names)
    fi = _style.font_inches()
    size = min(max(4.5, 1.1 * fi * 6 * (n + 3)), 22.0)
    fig, ax = _style.axes_or_new(ax, (size * 1.15, size))
    im = ax.imshow(c, cmap="RdBu_r", vmin=-1, vmax=1, origin="upper", aspect="equal")
    ax.figure.colorbar(im, ax=ax, label="correlation", fraction=0.046, pad=0.03)
    fs = "small" if n <= 10 else "x-small"
    ax.set_xticks(np.arange(n), shown, rotation=45 if n <= 20 else 90, ha="right", fontsize=fs)
    ax.set_yticks(np.arange(n), shown, fontsize=fs)
    ax.tick_params(which="minor", bottom=False, top=False, left=False, right=False)
    ax.tick_params(top=False, right=False)
    if axis_title:
        ax.set_xlabel(axis_title)
        ax.set_ylabel(axis_title)
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
    _style.label(ax, exp_label)
    return fig


# ---------------------------------------------------------------------- spectra
def _default_size() -> tuple[float, float]:
    import matplotlib as mpl

    w, h = mpl.rcParams["figure.figsize"]
    return float(w), float(h)


def _runs(binning: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """The contiguous runs of bins: ``[(bin indices, their n + 1 edges)]`` (one run without
    gaps), so that lines break at a gap instead of dropping to the axis."""
    low, high = np.asarray(binning.low, dtype=float), np.asarray(binning.high, dtype=float)
    breaks = [0, *(i + 1 for i in range(len(low) - 1) if low[i + 1] != high[i]), len(low)]
    return [
        (np.arange(a, b), np.append(low[a:b], high[b - 1])) for a, b in itertools.pairwise(breaks)
    ]


def _stairs(ax: Axes, binning: Any, values: np.ndarray, **kw: Any) -> None:
    """``ax.stairs`` over each contiguous run of bins (``baseline`` may be an array); only the
    first run carries the label."""
    baseline = kw.pop("baseline", None)
    for k, (idx, edges) in enumerate(_runs(binning)):
        extra = dict(kw)
        if k:
            extra.pop("label", None)
        if baseline is not None:
            extra["baseline"] = np.asarray(baseline)[idx]
        elif not kw.get("fill", False):
            extra["baseline"] = None  # a line: no vertical edges down to zero at the ends
        ax.stairs(np.asarray(values)[idx], edges, **extra)


def _bin_labels(binning: Any) -> list[str]:
    if binning.is_index:
        return [f"bin {i}" for i in range(binning.n_bins)]
    return [f"[{a:g}, {b:g})" for a, b in zip(binning.low, binning.high, strict=True)]


def _xlabel(binning: Any) -> str:
    return "bin" if binning.is_index and not binning.label.strip("bin") else binning.title


def _index_ticks(ax: Axes, binning: Any) -> None:
    if binning.is_index:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _as_binning(edges: Any) -> Any:
    from ..binning import Binning, Binning2D

    if isinstance(edges, Binning2D):  # the numbered cells, x inner
        return as_1d(edges)
    if isinstance(edges, Binning):
        return edges
    e = np.asarray(edges, dtype=float)
    return Binning.from_edges(e)


def _in_bins(target: Any, binning: Any, values: np.ndarray) -> np.ndarray:
    """The combined spectrum (piecewise constant on ``binning``) averaged over each bin of
    ``target``, weighted by the overlap: the combination's value in an input's own bins, for
    its ratio (NaN where they do not overlap)."""
    lo = np.maximum(target.low[:, None], binning.low[None, :])
    hi = np.minimum(target.high[:, None], binning.high[None, :])
    w = np.clip(hi - lo, 0.0, None)
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (w @ values) / total, np.nan)


def _choose_log(values: np.ndarray) -> bool:
    """A log scale when every value is positive and they span more than a decade."""
    v = values[np.isfinite(values)]
    return bool(len(v) and np.all(v > 0) and v.max() / v.min() > 10.0)


def plot_spectrum(
    edges: ArrayLike | Any,
    inputs: Mapping[str, tuple[Any, ...]],
    combined: tuple[ArrayLike, ArrayLike, ArrayLike],
    *,
    axis_label: str = "",
    ratio: bool | None = None,
    ylabel: str = "value",
    logy: bool | None = None,
    stat: ArrayLike | None = None,
    label: str = "Combination",
    ax: Axes | None = None,
    rax: Axes | None = None,
    exp_label: Label = None,
) -> Figure:
    """Differential spectra from arrays: each input ``{name: (values, errors)}`` as points
    (spread within the bin so they do not overlap), the combination ``(values, err_low,
    err_high)`` as a line with a band (its statistical part ``stat`` darker), and a ratio
    panel with everything divided by the combined values. An input in bins of its own
    (measurements in different binnings) is ``(values, errors, its edges or Binning)``: drawn
    in its bins (horizontal bars over each), its ratio to the combination averaged over each
    of its bins.

    ``edges``: the ``n + 1`` bin edges or a :class:`~hepcombine.binning.Binning` (bins with
    gaps are drawn with the gaps empty). ``logy=None`` chooses a log scale when the combined
    values are positive and span more than a decade. ``ax``/``rax``: the axes of the spectrum
    and of the ratio (default: a new figure with both; ``ratio=False`` or ``ax`` without
    ``rax``: no ratio panel).
    """
    binning = _as_binning(edges)
    nb = binning.n_bins
    cv, clo, chi = (np.asarray(a, dtype=float).reshape(-1) for a in combined)
    for what, arr in (("combined values", cv), ("lower errors", clo), ("upper errors", chi)):
        if arr.shape != (nb,):
            raise InvalidArgument(f"{what}: {arr.shape[0]} entries for {nb} bins")
    st = None if stat is None else np.asarray(stat, dtype=float).reshape(-1)
    if st is not None and st.shape != (nb,):
        raise InvalidArgument(f"stat: {st.shape[0]} entries for {nb} bins")
    ins = {}
    own: dict[str, Any] = {}  # inputs drawn in their own bins
    for name, given in inputs.items():
        vals, errs, *rest = given
        v = np.asarray(vals, dtype=float).reshape(-1)
        er = np.asarray(errs, dtype=float).reshape(-1)
        b_in = _as_binning(rest[0]) if rest and rest[0] is not None else None
        n_in = nb if b_in is None else b_in.n_bins
        if v.shape != (n_in,) or er.shape != (n_in,):
            raise InvalidArgument(f"input {name!r}: values and errors need {n_in} entries")
        ins[name] = (v, er)
        if b_in is not None and not b_in.same_bins(binning):
            own[name] = b_in
    if ratio is None:
        ratio = ax is None or rax is not None
    if logy is None:
        logy = _choose_log(cv)
    if ax is None:
        w, h = _default_size()
        if ratio:
            fig, (ax, rax) = _style.figure(
                (w, h * 1.25),
                nrows=2,
                sharex=True,
                gridspec_kw={"height_ratios": [3, 1]},
            )
        else:
            fig, ax = _style.figure((w, h))
            rax = None
    else:
        fig = cast("Figure", ax.figure)
        if not ratio:
            rax = None
    assert ax is not None
    centres = binning.bin_centers
    widths = binning.widths
    k = len(ins)
    offsets = (np.arange(k) - (k - 1) / 2) * (0.5 / max(k, 1)) if k else np.zeros(0)
    colours = [f"C{(i + 1) % 10}" for i in range(k)]  # C0 is close to the combination's blue
    markers = ["o", "s", "^", "v", "D", "P", "X", "<", ">"]

    def band(a: Axes, lo: np.ndarray, hi: np.ndarray, alpha: float, lab: str | None) -> None:
        _stairs(
            a,
            binning,
            hi,
            baseline=lo,
            fill=True,
            color=COMBINED,
            alpha=alpha,
            lw=0,
            label=lab,
        )

    band(ax, cv - clo, cv + chi, 0.3, f"{label} (total unc.)")
    if st is not None:
        band(ax, cv - st, cv + st, 0.45, f"{label} (stat. unc.)")
    _stairs(ax, binning, cv, color=COMBINED, lw=1.8, label=label)

    def where(i: int, name: str) -> tuple[np.ndarray, np.ndarray | None]:
        """x of the points of input i and, for an input in its own bins, the bars that span
        each of its bins (the points spread inside them)."""
        if name in own:
            b_in = own[name]
            x = b_in.bin_centers + offsets[i] * b_in.widths
            return x, np.vstack([x - b_in.low, b_in.high - x])
        return centres + offsets[i] * widths, None

    for i, (name, (v, er)) in enumerate(ins.items()):
        x, xerr = where(i, name)
        ax.errorbar(
            x,
            v,
            yerr=er,
            xerr=xerr,
            fmt=markers[i % len(markers)],
            color=colours[i],
            ms=5,
            capsize=0,
            label=name,
        )
    ax.set_ylabel(ylabel)
    tops = np.concatenate([cv + chi, *(v + er for v, er in ins.values())])
    ymax = float(np.nanmax(tops))
    if logy:
        ax.set_yscale("log")
        bottoms = np.concatenate([cv - clo, *(v - er for v, er in ins.values())])
        pos = bottoms[np.isfinite(bottoms) & (bottoms > 0)]
        ymin = float(pos.min()) if pos.size else float(cv.min())
        ax.set_ylim(0.5 * ymin, ymax * (ymax / ymin) ** 0.45)  # room for the legend
    else:
        bottoms = np.concatenate([cv - clo])
        ymin = min(0.0, float(np.nanmin(bottoms)))
        ax.set_ylim(ymin, ymax + 0.45 * (ymax - ymin))
    ax.set_xlim(binning.low[0], binning.high[-1])
    handles, labels_ = ax.get_legend_handles_labels()
    order = [labels_.index(label), *(i for i, t in enumerate(labels_) if t != label)]
    ax.legend(
        [handles[i] for i in order],
        [labels_[i] for i in order],
        fontsize="small",
        ncols=2 if len(order) > 3 else 1,
        loc="upper right",
    )
    xlabel = axis_label or ("bin" if binning.is_index else binning.title)
    if rax is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            band(rax, 1 - clo / cv, 1 + chi / cv, 0.3, None)
            if st is not None:
                band(rax, 1 - st / cv, 1 + st / cv, 0.45, None)
            rax.axhline(1.0, color=COMBINED, lw=1.5)
            reach = [np.abs(clo / cv), np.abs(chi / cv)]
            for i, (name, (v, er)) in enumerate(ins.items()):
                ref = cv if name not in own else _in_bins(own[name], binning, cv)
                r, re = v / ref, er / np.abs(ref)
                x, xerr = where(i, name)
                rax.errorbar(
                    x,
                    r,
                    yerr=re,
                    xerr=xerr,
                    fmt=markers[i % len(markers)],
                    color=colours[i],
                    ms=4,
                    capsize=0,
                )
                reach.append(np.abs(r - 1) + re)
        span = float(np.nanmax(np.concatenate(reach))) if reach else 0.1
        span = min(max(span, 0.02), 1.0)
        rax.set_ylim(1 - 1.15 * span, 1 + 1.15 * span)
        rax.set_ylabel("ratio to comb.")
        rax.set_xlabel(xlabel)
        ax.set_xlabel("")
        _index_ticks(rax, binning)
    else:
        ax.set_xlabel(xlabel)
        _index_ticks(ax, binning)
    _style.label(ax, exp_label)
    return fig


def plot_differential(
    result: DifferentialResult,
    inputs: Sequence[Any] | Mapping[str, tuple[Any, ...]] | None = None,
    *,
    ratio: bool | None = None,
    logy: bool | None = None,
    ylabel: str | None = None,
    label: str = "Combination",
    ax: Axes | None = None,
    rax: Axes | None = None,
    exp_label: Label = None,
) -> Figure:
    """The differential spectrum of a combination in one call: its inputs as points with their
    total errors, the combination with its profile intervals (total band, statistical part
    darker), and the ratio to the combination in a lower panel.

    Parameters
    ----------
    result:
        A :class:`~hepcombine.differential.DifferentialResult`; its binning gives the bins
        (gaps stay empty), the x label (label and unit) and, for bin numbers only, an axis of
        bin numbers.
    inputs:
        The :class:`~hepcombine.measurement.DifferentialMeasurement` objects that were combined
        (each drawn in its own bins, which may differ from the result's: measurements in
        different binnings), or ``{name: (values, errors[, binning])}`` (bin order).
    ylabel:
        Default: the quantity of the result or of the first input (``label [unit]``), else
        ``"value"``.
    ratio, logy, label, ax, rax, exp_label:
        As for :func:`plot_spectrum` (a log scale when the values span more than a decade).
    """
    binning = as_1d(result.binning)
    arrays: dict[str, tuple[Any, ...]] = {}
    quantity = getattr(result, "quantity", None)
    if isinstance(inputs, Mapping):
        arrays = dict(inputs)
    elif inputs is not None:
        for m in inputs:
            meas = m.measurement
            arrays[m.name or f"input {len(arrays)}"] = (
                meas.estimates,
                np.sqrt(np.clip(np.diag(meas.covariance), 0, None)),
                as_1d(m.binning),  # drawn in its own bins when they are not the result's
            )
            if quantity is None or not getattr(quantity, "title", ""):
                quantity = m.quantity
    lo, hi = result.asymmetric_errors(invalid="nan")
    err = result.errors
    lo = np.where(np.isfinite(lo), lo, err)
    hi = np.where(np.isfinite(hi), hi, err)
    stat = None
    bd = result.breakdown()
    if "stat" in bd:
        stat = np.abs(bd["stat"])
    if ylabel is None:
        ylabel = getattr(quantity, "title", "") or "value"
    return plot_spectrum(
        binning,
        arrays,
        (result.values, lo, hi),
        ratio=ratio,
        ylabel=ylabel,
        logy=logy,
        stat=stat,
        label=label,
        ax=ax,
        rax=rax,
        exp_label=exp_label,
    )


def __dir__() -> list[str]:
    return list(__all__)
