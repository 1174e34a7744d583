"""Scans over ε: the combination redone with the errors on errors of some sources varied.

:func:`scan_errors_on_errors` sets ε of the named sources (a source, a bare name for every
source of that name, or a pattern, as in :mod:`hepcombine.errors_on_errors`) to each value of a
grid, on top of the combiner's own errors on errors, and records per point the combined values,
their profile intervals (at Δχ² = 1, or at the Bartlett factor with ``bartlett=True``), χ²_min,
the Bartlett factors and the corrected goodness of fit: how the result and its compatibility
depend on how uncertain those uncertainties are assumed to be (Canonero et al.,
arXiv:2407.05322, Figs. of the top-quark mass).

With ``workers=``, ``client=`` or ``scheduler=`` the points run as Dask tasks through the same
runner as the correlation scans and the pseudo-experiments (``run_chunks``); the numbers are
those of the in-process scan, bit for bit; with ``output=DIR`` they stream to a run directory
that a restarted scan resumes from. A point whose fit fails is recorded as invalid with
the reason, never as a number.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .combiner import Combiner
from .errors_on_errors import ErrorOnError
from .exceptions import FitError, InvalidArgument, InvalidCorrelation
from .names import Ref

__all__ = ["EpsScanResult", "scan_errors_on_errors"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
_PER_OBS = ("values", "errors", "low", "high", "level", "b_profile")
_SCALARS = ("chi2", "b_chi2", "gof", "gof_pvalue", "pvalue")


@dataclass(frozen=True, eq=False, repr=False)
class EpsScanResult:
    """The combination against ε of the sources ``entries``. Arrays have one entry per point.

    Attributes
    ----------
    entries: the names or patterns whose ε is scanned.
    kind: ``"dependent"`` or ``"independent"``.
    eps: ε at each point.
    observables: the combined observables.
    values, errors: ``{observable: array}`` combined value and symmetric (Hesse) error.
    interval_low, interval_high: ``{observable: array}`` the profile interval (NaN where not
        computed or failed), at the level ``delta_chi2``.
    delta_chi2: ``{observable: array}`` the level of each interval (1, or the Bartlett factor
        with ``bartlett=True``).
    b_profile: ``{observable: array}`` the Bartlett factor of the profile statistic (1 at ε = 0).
    chi2: χ²_min (−2 ln L of the gamma variance model) at each point; ``pvalue`` its
        uncorrected p-value for ``ndf``.
    b_chi2, goodness_of_fit, gof_pvalue: the Bartlett factor of χ²_min (ndf at ε = 0), the
        corrected statistic χ²_min · ndf / b_χ² and its p-value.
    ndf: degrees of freedom.
    bartlett: whether the intervals are the Bartlett-corrected ones.
    valid, reasons: whether each point's fit succeeded, and why not.
    """

    entries: tuple[str, ...]
    kind: str
    eps: NDArray[np.float64]
    observables: tuple[str, ...]
    values: Mapping[str, NDArray[np.float64]]
    errors: Mapping[str, NDArray[np.float64]]
    interval_low: Mapping[str, NDArray[np.float64]]
    interval_high: Mapping[str, NDArray[np.float64]]
    delta_chi2: Mapping[str, NDArray[np.float64]]
    b_profile: Mapping[str, NDArray[np.float64]]
    chi2: NDArray[np.float64]
    pvalue: NDArray[np.float64]
    b_chi2: NDArray[np.float64]
    goodness_of_fit: NDArray[np.float64]
    gof_pvalue: NDArray[np.float64]
    ndf: int
    bartlett: bool
    valid: NDArray[np.bool_]
    reasons: tuple[str, ...]

    def __post_init__(self) -> None:
        for f in ("values", "errors", "interval_low", "interval_high", "delta_chi2", "b_profile"):
            object.__setattr__(self, f, MappingProxyType(dict(getattr(self, f))))

    @property
    def n_points(self) -> int:
        return len(self.eps)

    def to_table(self) -> str:
        """A plain-text table per observable: ε, value, error, interval, its level, χ²_min and
        the corrected goodness of fit with its p-value."""
        label = ", ".join(self.entries)
        lines = [
            f"errors-on-errors scan of {label} ({self.kind}): {self.n_points} points, "
            f"ndf = {self.ndf}, intervals at "
            + ("the Bartlett-corrected level" if self.bartlett else "Δχ² = 1")
        ]
        head = (
            f"  {'eps':>6} {'value':>13} {'error':>11} {'low':>13} {'high':>13} {'Δχ²':>7}"
            f" {'chi2':>9} {'gof':>9} {'p(gof)':>8}"
        )
        for o in self.observables:
            lines += ["", o, head]
            for i in range(self.n_points):
                if not self.valid[i]:
                    lines.append(f"  {self.eps[i]:6.3f} failed: {self.reasons[i]}")
                    continue
                lines.append(
                    f"  {self.eps[i]:6.3f} {self.values[o][i]:13.6g} {self.errors[o][i]:11.4g}"
                    f" {self.interval_low[o][i]:13.6g} {self.interval_high[o][i]:13.6g}"
                    f" {self.delta_chi2[o][i]:7.4f} {self.chi2[i]:9.4g}"
                    f" {self.goodness_of_fit[i]:9.4g} {self.gof_pvalue[i]:8.4f}"
                )
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN as ``None``)."""
        from .outputs.json import finite_or_none

        return finite_or_none(
            {
                "entries": list(self.entries),
                "kind": self.kind,
                "eps": self.eps.tolist(),
                "ndf": self.ndf,
                "bartlett": self.bartlett,
                "valid": [bool(v) for v in self.valid],
                "reasons": list(self.reasons),
                "chi2": self.chi2.tolist(),
                "pvalue": self.pvalue.tolist(),
                "b_chi2": self.b_chi2.tolist(),
                "goodness_of_fit": self.goodness_of_fit.tolist(),
                "gof_pvalue": self.gof_pvalue.tolist(),
                "observables": {
                    o: {
                        "value": self.values[o].tolist(),
                        "error": self.errors[o].tolist(),
                        "interval_low": self.interval_low[o].tolist(),
                        "interval_high": self.interval_high[o].tolist(),
                        "delta_chi2": self.delta_chi2[o].tolist(),
                        "b_profile": self.b_profile[o].tolist(),
                    }
                    for o in self.observables
                },
            }
        )

    def __repr__(self) -> str:
        return (
            f"EpsScanResult(entries={list(self.entries)}, points={self.n_points}, "
            f"valid={int(np.sum(self.valid))})"
        )


def _row(combiner: Combiner, entries: Sequence[str], kind: str, eps: float, intervals: bool):
    """One point: the combination with ε = ``eps`` on ``entries``."""
    k = len(combiner.observables)
    spec = ErrorOnError(float(eps), kind)  # type: ignore[arg-type]
    try:
        comb = combiner.with_errors_on_errors(
            {**combiner.errors_on_errors, **dict.fromkeys(entries, spec)}
        )
        res = comb.combine(intervals=intervals, decompositions=False)
    except (FitError, InvalidCorrelation) as exc:
        nan = np.full(k, np.nan)
        out: dict[str, Any] = dict.fromkeys(_PER_OBS, nan)
        out.update(dict.fromkeys(_SCALARS, math.nan))
        return out | {"valid": False, "reason": str(exc)}
    obs = res.observables
    low = np.array([res.intervals[o][0] if res.has_interval(o) else np.nan for o in obs])
    high = np.array([res.intervals[o][1] if res.has_interval(o) else np.nan for o in obs])
    b = res.bartlett
    return {
        "values": np.array([res.values[o] for o in obs]),
        "errors": np.array([res.errors[o] for o in obs]),
        "low": low,
        "high": high,
        "level": np.array([res.interval_levels[o] for o in obs]),
        "b_profile": np.array([1.0 if b is None else b.profile[o] for o in obs]),
        "chi2": float(res.chi2),
        "pvalue": float(res.pvalue),
        "b_chi2": float(res.ndf) if b is None else float(b.chi2),
        "gof": float(res.chi2) if b is None else float(b.goodness_of_fit),
        "gof_pvalue": float(res.pvalue) if b is None else float(b.pvalue),
        "valid": True,
        "reason": "",
    }


def _stack(rows: Sequence[Mapping[str, Any]]) -> dict[str, NDArray[Any]]:
    return {f: np.array([r[f] for r in rows]) for f in (*_PER_OBS, *_SCALARS, "valid", "reason")}


class _EpsTask:
    """Points ``start … stop − 1`` of an ε scan (a task for ``run_chunks``; nothing is
    drawn, the seed is unused; the fingerprint is that of the content: the combination, the
    entries, their kind, the grid and ``intervals``)."""

    kind = "eps-scan"

    def __init__(
        self,
        combiner: Combiner,
        entries: Sequence[str],
        kind: str,
        eps: NDArray[np.float64],
        intervals: bool,
    ) -> None:
        self.combiner = combiner
        self.entries = tuple(entries)
        self.eoe_kind = kind
        self.eps = eps
        self.intervals = intervals
        self.n = len(eps)

    def fingerprint(self) -> str:
        from .execution import content_fingerprint
        from .scan import _combiner_identity

        return content_fingerprint(
            "hepcombine-eps-scan/1",
            _combiner_identity(self.combiner),
            self.entries,
            self.eoe_kind,
            self.eps,
            self.intervals,
        )

    def describe(self) -> dict[str, Any]:
        return {"entries": list(self.entries), "eps": self.eps.tolist()}

    def __call__(self, start: int, stop: int, seed: int) -> dict[str, NDArray[Any]]:
        return _stack(
            [
                _row(self.combiner, self.entries, self.eoe_kind, float(e), self.intervals)
                for e in self.eps[start:stop]
            ]
        )


def scan_errors_on_errors(
    combiner: Combiner,
    sources: Ref | Sequence[Ref],
    eps: Sequence[float] | NDArray[np.float64] | None = None,
    *,
    kind: str = "dependent",
    intervals: bool = True,
    progress: Progress | None = None,
    workers: int | None = None,
    client: Any = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    output: str | os.PathLike[str] | None = None,
) -> EpsScanResult:
    """The combination at each ε of ``eps`` for the errors on errors of ``sources``.

    Parameters
    ----------
    combiner:
        The combination (its ``bartlett`` option decides the level of the intervals; its own
        errors on errors of other sources stay).
    sources:
        A source, bare name or pattern, or several; each gets ε (``kind``: ``"dependent"``:
        one ε per entry for all the sources it names; ``"independent"``: one per source).
    eps:
        The grid of ε (default 0, 0.1, …, 1), each ≥ 0.
    intervals:
        Compute the profile intervals at every point (default; ``False`` is faster).
    progress:
        Called as ``progress(done, n)``.
    workers, client, scheduler, chunk_size:
        Run the points as Dask tasks, as :func:`hepcombine.scan.scan_all` does.
    output:
        A run directory the points stream to chunk by chunk (``eps-scan.npz`` at the end); the
        same scan started again resumes from it with the numbers of one uninterrupted scan
        (:func:`hepcombine.scan.scan_correlations`).
    """
    from .scan import _Execution

    entries = [sources] if isinstance(sources, str | tuple) else list(sources)
    labels = [":".join(map(str, e)) if isinstance(e, tuple) else str(e) for e in entries]
    if not labels:
        raise InvalidArgument("scan_errors_on_errors: name at least one source")
    grid = np.linspace(0.0, 1.0, 11) if eps is None else np.asarray(eps, dtype=float)
    if grid.ndim != 1 or grid.size < 2:
        raise InvalidArgument("scan_errors_on_errors: give at least two values of ε")
    for e in grid:
        ErrorOnError(float(e), kind)  # type: ignore[arg-type]
    execution = _Execution(workers, client, scheduler, chunk_size, output)
    execution.check()
    # the names are checked once, before any point
    combiner.with_errors_on_errors(
        {**combiner.errors_on_errors, **dict.fromkeys(labels, ErrorOnError(0.0, kind))}  # type: ignore[arg-type]
    )
    task = _EpsTask(combiner, labels, kind, grid, intervals)
    if execution.chunked():
        rows = execution.run(task, progress)
    else:
        parts = []
        for i in range(task.n):
            parts.append(task(i, i + 1, 0))
            if progress is not None:
                progress(i + 1, task.n)
        rows = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    obs = tuple(combiner.observables)
    valid = np.asarray(rows["valid"], dtype=bool)
    for bad in np.flatnonzero(~valid):
        log.warning("errors-on-errors scan: ε = %g failed: %s", grid[bad], rows["reason"][bad])
    per = {f: np.asarray(rows[f], dtype=float).reshape(task.n, len(obs)) for f in _PER_OBS}
    ndf = (
        sum(len(m.estimate_names) for m in combiner.measurements.values())
        - len(obs)
        - len(combiner.spectators)
    )
    return EpsScanResult(
        entries=tuple(labels),
        kind=kind,
        eps=grid,
        observables=obs,
        values={o: per["values"][:, j].copy() for j, o in enumerate(obs)},
        errors={o: per["errors"][:, j].copy() for j, o in enumerate(obs)},
        interval_low={o: per["low"][:, j].copy() for j, o in enumerate(obs)},
        interval_high={o: per["high"][:, j].copy() for j, o in enumerate(obs)},
        delta_chi2={o: per["level"][:, j].copy() for j, o in enumerate(obs)},
        b_profile={o: per["b_profile"][:, j].copy() for j, o in enumerate(obs)},
        chi2=np.asarray(rows["chi2"], dtype=float),
        pvalue=np.asarray(rows["pvalue"], dtype=float),
        b_chi2=np.asarray(rows["b_chi2"], dtype=float),
        goodness_of_fit=np.asarray(rows["gof"], dtype=float),
        gof_pvalue=np.asarray(rows["gof_pvalue"], dtype=float),
        ndf=int(ndf),
        bartlett=combiner.bartlett,
        valid=valid,
        reasons=tuple(str(r) for r in rows["reason"]),
    )


def __dir__() -> list[str]:
    return list(__all__)
