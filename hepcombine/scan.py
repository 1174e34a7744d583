"""Scans of correlation assumptions: the combination repeated along a line of assumptions.

A :class:`~hepcombine.spec.ScanGroup` names pairs of sources whose assumed correlation is
varied together (one line of a Convino ``[correlations]`` block with ``& from : to`` ranges).
At point ``i`` of ``n`` every pair of the group is set to ``start + i (stop − start)/(n − 1)``
on top of the nominal assumptions, and the combination is redone. A point whose assumptions
do not form a positive semi-definite correlation matrix (or whose fit fails) is recorded as
invalid, with the reason; it never stops the scan and never produces a number.

Speed: a scan point needs only the combined values, their uncertainties (and, on request,
their profile intervals) and χ²_min, so it skips the uncertainty breakdown, the weights and the
impacts that :meth:`Combiner.combine` computes. For a non-quadratic χ² the profile (Minos)
intervals are the expensive part; they are computed only with ``intervals=True``. For a
quadratic χ² they are exact and free, and always reported.

Resume: with ``output=DIR`` the points stream to a run directory chunk by chunk, as
pseudo-experiments do (:mod:`hepcombine.execution`); a scan started again with the same
arguments computes only the points not yet on disk, and its numbers are those of one
uninterrupted scan, bit for bit.

Scale-out: with ``workers=``, ``client=`` or ``scheduler=`` the points of all groups run as
Dask tasks through the runner of the pseudo-experiments (:func:`hepcombine.execution.run_chunks`):
one task is a chunk of consecutive points, the combiner is sent to the cluster once, the nominal
combination is done once in the calling process. The numbers are those of the in-process scan,
bit for bit, whatever the number of workers or ``chunk_size``. Without these arguments the scan
runs in-process and Dask is not imported.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .combiner import Combiner
from .exceptions import ConfigError, FitError, InvalidArgument, InvalidCorrelation
from .names import Ref
from .spec import CombinationSpec, ScanGroup

__all__ = ["ScanResult", "scan_all", "scan_correlations"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True, eq=False, repr=False)
class ScanResult:
    """The combination along one scan group. Arrays have one entry per scan point.

    Attributes
    ----------
    name:
        The scan group's name.
    pairs:
        ``(source_a, source_b, start, stop)`` of each scanned pair, as given in the group.
    rho:
        Assumed correlation of each pair at each point, shape ``(n_points, n_pairs)``.
    nominal_rho:
        The nominal assumption of each pair (0 where the nominal mapping has none),
        shape ``(n_pairs,)``.
    observables:
        Names of the combined observables, in the combination's order.
    values, errors:
        ``{observable: array}``: combined value and symmetric (Hesse) uncertainty at each
        point; NaN at invalid points.
    interval_low, interval_high:
        ``{observable: array}``: endpoints of the 68 % profile-likelihood interval at each
        point; NaN at invalid points, where Minos failed, and for a non-quadratic χ² scanned
        without ``intervals=True``.
    chi2:
        χ²_min at each point (NaN at invalid points).
    ndf:
        Degrees of freedom of the combination (the same at every point).
    valid:
        Whether the point's assumptions were valid and its combination succeeded.
    reasons:
        Why a point is invalid; ``""`` for a valid point, or a note when the combiner's opt-in
        repair changed the point's assumptions.
    nominal_values, nominal_errors:
        ``{observable: float}`` of the combination with the nominal assumptions (NaN if the
        nominal assumptions themselves are invalid, see ``nominal_reason``).
    nominal_interval:
        ``{observable: (low, high)}`` profile interval of the nominal combination (NaN when not
        available).
    nominal_chi2:
        χ²_min of the nominal combination.
    nominal_reason:
        ``""``, or why the nominal combination could not be done.
    """

    name: str
    pairs: tuple[tuple[str, str, float, float], ...]
    rho: NDArray[np.float64]
    nominal_rho: NDArray[np.float64]
    observables: tuple[str, ...]
    values: Mapping[str, NDArray[np.float64]]
    errors: Mapping[str, NDArray[np.float64]]
    interval_low: Mapping[str, NDArray[np.float64]]
    interval_high: Mapping[str, NDArray[np.float64]]
    chi2: NDArray[np.float64]
    ndf: int
    valid: NDArray[np.bool_]
    reasons: tuple[str, ...]
    nominal_values: Mapping[str, float]
    nominal_errors: Mapping[str, float]
    nominal_interval: Mapping[str, tuple[float, float]]
    nominal_chi2: float
    nominal_reason: str = ""

    def __post_init__(self) -> None:
        for f in (
            "values",
            "errors",
            "interval_low",
            "interval_high",
            "nominal_values",
            "nominal_errors",
            "nominal_interval",
        ):
            object.__setattr__(self, f, MappingProxyType(dict(getattr(self, f))))
        arrays = [self.rho, self.nominal_rho, self.chi2, self.valid]
        for m in (self.values, self.errors, self.interval_low, self.interval_high):
            arrays.extend(m.values())
        for a in arrays:
            a.setflags(write=False)

    @property
    def n_points(self) -> int:
        """Number of scan points."""
        return int(self.rho.shape[0])

    def pair_labels(self) -> list[str]:
        """``"a ~ b"`` for each scanned pair."""
        return [f"{a} ~ {b}" for a, b, _, _ in self.pairs]

    # ------------------------------------------------------------------ output
    def to_table(self, observables: Sequence[str] | None = None) -> str:
        """A plain-text table: for each observable, one line per point with the scanned
        correlation(s), value, symmetric error, profile interval and χ²_min."""
        obs = list(self.observables if observables is None else observables)
        n_show = min(len(self.pairs), 3)
        lines = [
            f"correlation scan {self.name!r}: {len(self.pairs)} pair(s), {self.n_points} points, "
            f"ndf = {self.ndf}"
        ]
        for k, (label, (_, _, start, stop)) in enumerate(
            zip(self.pair_labels(), self.pairs, strict=True)
        ):
            lines.append(
                f"  ρ{k + 1}: {label}  from {start:g} to {stop:g} (nominal {self.nominal_rho[k]:g})"
            )
        if len(self.pairs) > n_show:
            lines.append(f"  (the table shows ρ1 … ρ{n_show} of {len(self.pairs)})")
        if self.nominal_reason:
            lines.append(f"  nominal combination not available: {self.nominal_reason}")
        rho_head = "".join(f"{f'ρ{k + 1}':>9}" for k in range(n_show))
        head = (
            f"  {'point':>5}{rho_head}  {'value':>13} {'error':>11} {'low':>13} {'high':>13}"
            f" {'chi2':>10}"
        )
        for o in obs:
            nv, ne = self.nominal_values[o], self.nominal_errors[o]
            lines.append("")
            lines.append(f"{o}   nominal: {nv:.6g} ± {ne:.4g}  (χ² = {self.nominal_chi2:.5g})")
            lines.append(head)
            for i in range(self.n_points):
                rhos = "".join(f"{self.rho[i, k]:9.4f}" for k in range(n_show))
                if not self.valid[i]:
                    lines.append(f"  {i:>5}{rhos}  invalid (see below)")
                    continue
                lines.append(
                    f"  {i:>5}{rhos}  {self.values[o][i]:13.6g} {self.errors[o][i]:11.4g}"
                    f" {self.interval_low[o][i]:13.6g} {self.interval_high[o][i]:13.6g}"
                    f" {self.chi2[i]:10.5g}"
                )
        notes = [(i, r) for i, r in enumerate(self.reasons) if r]
        if notes:
            lines.append("")
            lines.append("notes:")
            for i, r in notes:
                state = "valid" if self.valid[i] else "invalid"
                lines.append(f"  point {i} ({state}): {r}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN written as ``None``)."""

        def num(x: float) -> float | None:
            x = float(x)
            return x if math.isfinite(x) else None

        def arr(a: NDArray) -> list[float | None]:
            return [num(x) for x in a]

        return {
            "name": self.name,
            "pairs": [
                {"a": a, "b": b, "start": s, "stop": t, "nominal": num(self.nominal_rho[k])}
                for k, (a, b, s, t) in enumerate(self.pairs)
            ],
            "rho": [arr(r) for r in self.rho],
            "valid": [bool(v) for v in self.valid],
            "reasons": list(self.reasons),
            "chi2": arr(self.chi2),
            "ndf": self.ndf,
            "observables": {
                o: {
                    "value": arr(self.values[o]),
                    "error": arr(self.errors[o]),
                    "interval_low": arr(self.interval_low[o]),
                    "interval_high": arr(self.interval_high[o]),
                    "nominal_value": num(self.nominal_values[o]),
                    "nominal_error": num(self.nominal_errors[o]),
                    "nominal_interval": [num(x) for x in self.nominal_interval[o]],
                }
                for o in self.observables
            },
            "nominal_chi2": num(self.nominal_chi2),
            "nominal_reason": self.nominal_reason,
        }

    def __repr__(self) -> str:
        return (
            f"ScanResult(name={self.name!r}, pairs={len(self.pairs)}, points={self.n_points}, "
            f"valid={int(np.sum(self.valid))}, observables={len(self.observables)})"
        )


# ---------------------------------------------------------------------- one combination
@dataclass(frozen=True)
class _Point:
    values: NDArray[np.float64]
    errors: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    chi2: float
    ndf: int
    note: str


def _combine_point(combiner: Combiner, intervals: bool) -> _Point:
    """Values, errors, intervals and χ²_min of ``combiner`` (no breakdown, weights or
    impacts)."""
    res = combiner.combine(intervals=intervals, decompositions=False)
    obs = res.observables
    values = np.array([res.values[o] for o in obs], dtype=float)
    errors = np.array([res.errors[o] for o in obs], dtype=float)
    low = np.full(len(obs), np.nan)
    high = np.full(len(obs), np.nan)
    for j, o in enumerate(obs):
        if res.has_interval(o):
            low[j], high[j] = res.intervals[o]
    note = (
        f"assumptions repaired: {dict(res.correlation_repairs)}" if res.correlation_repairs else ""
    )
    return _Point(values, errors, low, high, float(res.chi2), int(res.ndf), note)


def _index_pairs(
    combiner: Combiner, correlations: Mapping[tuple[Any, Any], float]
) -> dict[tuple[int, int], float]:
    """Resolve a correlation mapping to ``{(i, j): ρ}`` on the combiner's source indices."""
    return dict(combiner.with_correlations(correlations).correlations)


def _as_references(
    combiner: Combiner, pairs: Mapping[tuple[int, int], float]
) -> dict[tuple[Ref, Ref], float]:
    names = combiner.sources
    return {(names[i], names[j]): rho for (i, j), rho in pairs.items()}


class _Scanner:
    """Shared state of the scans of one combiner: the resolved nominal assumptions and the
    nominal combination (done once for all groups)."""

    def __init__(
        self, combiner: Combiner, nominal: Mapping | None, intervals: bool, total: int
    ) -> None:
        self.combiner = combiner
        self.intervals = intervals
        self.nominal = (
            dict(combiner.correlations) if nominal is None else _index_pairs(combiner, nominal)
        )
        self.done = 0
        self.total = total
        try:
            self.nominal_point: _Point | None = _combine_point(
                combiner.with_correlations(_as_references(combiner, self.nominal)), intervals
            )
            self.nominal_reason = ""
        except (InvalidCorrelation, FitError) as exc:
            log.warning("correlation scan: the nominal combination failed: %s", exc)
            self.nominal_point = None
            self.nominal_reason = str(exc)

    def plan(self, group: ScanGroup, n_points: int | None) -> _Plan:
        """The scanned pairs of ``group`` as source indices and the assumed ρ at each point
        (the group's errors raised before any point is combined)."""
        comb = self.combiner
        n = group.n_points if n_points is None else int(n_points)
        if n < 2:
            raise InvalidArgument(
                f"scan group {group.name!r}: n_points must be at least 2, not {n}"
            )
        if not group.pairs:
            raise InvalidCorrelation(f"scan group {group.name!r} has no pairs to scan")
        keys = []
        for a, b, _, _ in group.pairs:
            (key,) = _index_pairs(comb, {(a, b): 0.0})
            keys.append(key)
        if len(set(keys)) != len(keys):
            raise InvalidCorrelation(f"scan group {group.name!r} lists a pair of sources twice")
        start = np.array([p[2] for p in group.pairs], dtype=float)
        stop = np.array([p[3] for p in group.pairs], dtype=float)
        t = np.arange(n) / (n - 1)
        rho = start[None, :] + t[:, None] * (stop - start)[None, :]
        return _Plan(group, tuple(keys), rho)

    def scan(self, plan: _Plan, progress: Progress | None) -> ScanResult:
        """The scan of one group in-process, point after point."""
        rows = [
            _point_row(self.combiner, self.nominal, plan, i, self.intervals)
            for i in self._counted(plan.rho.shape[0], progress)
        ]
        return self.result(plan, _stack(rows))

    def _counted(self, n: int, progress: Progress | None) -> Iterator[int]:
        for i in range(n):
            yield i
            self.done += 1
            if progress is not None:
                progress(self.done, self.total)

    def result(self, plan: _Plan, rows: Mapping[str, NDArray[Any]]) -> ScanResult:
        """The :class:`ScanResult` of ``plan`` from its points' rows (:func:`_point_row`)."""
        group, rho = plan.group, plan.rho
        n = rho.shape[0]
        nominal_rho = np.array([self.nominal.get(k, 0.0) for k in plan.keys])
        obs = self.combiner.observables
        vals, errs, low, high = (np.array(rows[f], dtype=float) for f in _FIELDS)
        chi2 = np.array(rows["chi2"], dtype=float)
        valid = np.array(rows["valid"], dtype=bool)
        reasons = tuple(str(r) for r in rows["reason"])
        for i in np.flatnonzero(~valid):
            log.info("scan %r point %d (ρ = %s) invalid: %s", group.name, i, rho[i], reasons[i])
        n_bad = int(np.sum(~valid))
        if n_bad:
            log.warning(
                "correlation scan %r: %d of %d points have invalid assumptions",
                group.name,
                n_bad,
                n,
            )
        nom = self.nominal_point
        ndfs = np.asarray(rows["ndf"])[valid]
        ndf = int(ndfs[-1]) if ndfs.size else (nom.ndf if nom is not None else -1)
        nan = math.nan
        return ScanResult(
            name=group.name,
            pairs=tuple((str(a), str(b), float(s), float(e)) for a, b, s, e in group.pairs),
            rho=rho,
            nominal_rho=nominal_rho,
            observables=tuple(obs),
            values={o: vals[:, j].copy() for j, o in enumerate(obs)},
            errors={o: errs[:, j].copy() for j, o in enumerate(obs)},
            interval_low={o: low[:, j].copy() for j, o in enumerate(obs)},
            interval_high={o: high[:, j].copy() for j, o in enumerate(obs)},
            chi2=chi2,
            ndf=int(ndf),
            valid=valid,
            reasons=reasons,
            nominal_values={o: float(nom.values[j]) if nom else nan for j, o in enumerate(obs)},
            nominal_errors={o: float(nom.errors[j]) if nom else nan for j, o in enumerate(obs)},
            nominal_interval={
                o: (float(nom.low[j]), float(nom.high[j])) if nom else (nan, nan)
                for j, o in enumerate(obs)
            },
            nominal_chi2=float(nom.chi2) if nom else nan,
            nominal_reason=self.nominal_reason,
        )

    def scan_many(
        self, plans: Sequence[_Plan], progress: Progress | None, execution: _Execution
    ) -> list[ScanResult]:
        """Every plan's scan: in-process, or with ``execution`` as Dask tasks or into a run
        directory (chunks of consecutive points of all plans,
        :func:`~hepcombine.execution.run_chunks`)."""
        if not execution.chunked():
            return [self.scan(plan, progress) for plan in plans]
        task = _ScanTask(self.combiner, self.nominal, plans, self.intervals)
        offset = self.done

        def counted(done: int, total: int) -> None:
            if progress is not None:
                progress(offset + done, self.total)

        rows = execution.run(task, counted)
        self.done = offset + task.n
        out, pos = [], 0
        for plan in plans:
            m = plan.rho.shape[0]
            out.append(self.result(plan, {k: v[pos : pos + m] for k, v in rows.items()}))
            pos += m
        return out


# ---------------------------------------------------------------------- points and tasks
_FIELDS = ("values", "errors", "low", "high")


@dataclass(frozen=True)
class _Plan:
    """One group's scanned pairs (source indices) and ρ at each point, ``(n, n_pairs)``."""

    group: ScanGroup
    keys: tuple[tuple[int, int], ...]
    rho: NDArray[np.float64]


def _point_row(
    combiner: Combiner,
    nominal: Mapping[tuple[int, int], float],
    plan: _Plan,
    i: int,
    intervals: bool,
) -> dict[str, Any]:
    """The combination at point ``i`` of ``plan`` as one row: values, errors, low, high
    (one entry per observable), chi2, ndf, valid, reason."""
    assumed = dict(nominal)
    for key, r in zip(plan.keys, plan.rho[i], strict=True):
        assumed[key] = float(r)
    names = combiner.sources
    k = len(combiner.observables)
    try:
        point = _combine_point(
            combiner.with_correlations({(names[a], names[b]): r for (a, b), r in assumed.items()}),
            intervals,
        )
    except (InvalidCorrelation, FitError) as exc:
        nan = np.full(k, np.nan)
        return dict.fromkeys(_FIELDS, nan) | {
            "chi2": math.nan,
            "ndf": -1,
            "valid": False,
            "reason": str(exc),
        }
    return {
        "values": point.values,
        "errors": point.errors,
        "low": point.low,
        "high": point.high,
        "chi2": point.chi2,
        "ndf": point.ndf,
        "valid": True,
        "reason": point.note,
    }


def _stack(rows: Sequence[Mapping[str, Any]]) -> dict[str, NDArray[Any]]:
    """Rows of :func:`_point_row` as arrays with one entry per row."""
    return {f: np.array([r[f] for r in rows]) for f in (*_FIELDS, "chi2", "ndf", "valid", "reason")}


def _combiner_identity(combiner: Combiner) -> dict[str, Any]:
    """What determines a combination's results (its public state, the mapping of estimates to
    combined values and its linear rows), for the fingerprint of a run: no caches, no names
    resolver."""
    keep = ("_param_of_estimate", "_linear_rows")
    return {k: v for k, v in vars(combiner).items() if not k.startswith("_") or k in keep}


class _ScanTask:
    """Points ``start … stop − 1`` of the concatenated plans (a task for
    :func:`~hepcombine.execution.run_chunks`; the seed is unused, a scan draws nothing).

    Its fingerprint is that of its content (the combination, the nominal assumptions, every
    point's, whether intervals are computed), so that a run directory (``output=``) is resumed
    only by the same scan."""

    kind = "scan"

    def __init__(
        self,
        combiner: Combiner,
        nominal: Mapping[tuple[int, int], float],
        plans: Sequence[_Plan],
        intervals: bool,
    ) -> None:
        self.combiner = combiner
        self.nominal = dict(nominal)
        self.plans = tuple(plans)
        self.intervals = intervals
        self.items = [(p, i) for p, plan in enumerate(self.plans) for i in range(plan.rho.shape[0])]
        self.n = len(self.items)

    def fingerprint(self) -> str:
        from .execution import content_fingerprint

        return content_fingerprint(
            "hepcombine-scan/1",
            _combiner_identity(self.combiner),
            self.nominal,
            [(plan.group.name, plan.keys, plan.rho) for plan in self.plans],
            self.intervals,
        )

    def describe(self) -> dict[str, Any]:
        return {"groups": [plan.group.name for plan in self.plans], "intervals": self.intervals}

    def __call__(self, start: int, stop: int, seed: int) -> dict[str, NDArray[Any]]:
        return _stack(
            [
                _point_row(self.combiner, self.nominal, self.plans[p], i, self.intervals)
                for p, i in self.items[start:stop]
            ]
        )


@dataclass(frozen=True)
class _Execution:
    """Where the points run: in-process (nothing given), or Dask (see :func:`scan_all`), and
    whether they stream to a run directory (``output``)."""

    workers: int | None = None
    client: Any = None
    scheduler: str | None = None
    chunk_size: int | None = None
    output: str | os.PathLike[str] | None = None

    def given(self) -> bool:
        """Whether the points run on Dask."""
        return any(x is not None for x in (self.workers, self.client, self.scheduler))

    def chunked(self) -> bool:
        """Whether the points run through :func:`~hepcombine.execution.run_chunks` (on Dask, or
        in-process chunk by chunk into ``output``)."""
        return self.given() or self.output is not None

    def check(self) -> None:
        """Stop before any work on bad or unusable arguments (one-line errors)."""
        if self.given() or self.chunk_size is not None:
            from .execution import check_execution

            check_execution(self.workers, self.client, self.scheduler, self.chunk_size)
        if self.chunk_size is not None and not self.chunked():
            raise InvalidArgument(
                "chunk_size only applies to a scan run on Dask (workers=, client= or "
                "scheduler=) or into a run directory (output=)"
            )

    def run(self, task: Any, progress: Progress | None) -> dict[str, NDArray[Any]]:
        """All points of ``task`` through :func:`~hepcombine.execution.run_chunks`."""
        from .execution import run_chunks

        rows, _ = run_chunks(
            task,
            task.n,
            seed=0,
            chunk_size=self.chunk_size,
            workers=self.workers,
            client=self.client,
            scheduler=self.scheduler,
            output=self.output,
            progress=progress,
        )
        return rows


def scan_correlations(
    combiner: Combiner,
    group: ScanGroup,
    *,
    n_points: int | None = None,
    nominal: Mapping | None = None,
    progress: Progress | None = None,
    intervals: bool = False,
    workers: int | None = None,
    client: Any = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    output: str | os.PathLike[str] | None = None,
) -> ScanResult:
    """Redo the combination at each point of ``group``.

    Parameters
    ----------
    combiner:
        The combination to scan (its chi2 definition, observables, groups, repair option).
    group:
        The pairs scanned together and their ranges.
    n_points:
        Number of points (default ``group.n_points``), at least 2.
    nominal:
        The full nominal correlation mapping ``{(source a, source b): ρ}`` on top of which the
        group's pairs are set (default: ``combiner``'s own assumptions).
    progress:
        Called as ``progress(done, total)`` after each point.
    intervals:
        Compute profile-likelihood (Minos) intervals at each point of a non-quadratic χ² (slow;
        exact and always reported for a quadratic χ²).
    workers:
        Run the points as tasks on a local Dask cluster of this many single-threaded worker
        processes, started for the scan (needs ``hepcombine[dask]``; a script must then run
        under ``if __name__ == "__main__":``).
    client:
        Run the points as tasks on this :class:`distributed.Client` instead.
    scheduler:
        Run the points as tasks on the Dask scheduler at this address (``"tcp://host:8786"``)
        instead.
    chunk_size:
        Points per Dask task or per chunk file (default: about 8 tasks per worker thread);
        only with ``workers``, ``client``, ``scheduler`` or ``output``. The numbers do not
        depend on it nor on the number of workers.
    output:
        A run directory: the points stream there chunk by chunk as they finish
        (:mod:`hepcombine.execution`: ``manifest.json``, ``chunk-*.npz``, at the end
        ``scan.npz``); the same scan started again resumes from the chunks on disk, with the
        numbers of one uninterrupted scan, bit for bit. A directory of another run (another
        combination, group, points or ``intervals``) is an error.

    Returns
    -------
    ScanResult
        The combination at every point, next to the nominal one.
    """
    execution = _Execution(workers, client, scheduler, chunk_size, output)
    execution.check()
    n = group.n_points if n_points is None else int(n_points)
    scanner = _Scanner(combiner, nominal, intervals, n)
    (result,) = scanner.scan_many([scanner.plan(group, n_points)], progress, execution)
    return result


def scan_all(
    spec_or_combiner: CombinationSpec | Combiner,
    scans: Sequence[ScanGroup] | None = None,
    *,
    n_points: int | None = None,
    nominal: Mapping | None = None,
    progress: Progress | None = None,
    intervals: bool = False,
    combiner_options: Mapping[str, Any] | None = None,
    workers: int | None = None,
    client: Any = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    output: str | os.PathLike[str] | None = None,
) -> list[ScanResult]:
    """Scan every group; the nominal combination is done once.

    ``spec_or_combiner``: a :class:`~hepcombine.spec.CombinationSpec` (the combiner is
    ``spec.combiner(**combiner_options)``, e.g. ``{"chi2": "pearson"}`` (an option given as
    ``None`` keeps the specification's default), with the format's defaults as for a
    combination; ``scans`` default to ``spec.scans`` — a specification without
    any is a :class:`~hepcombine.exceptions.ConfigError` — and ``nominal`` to
    ``spec.correlations``) or a :class:`~hepcombine.combiner.Combiner` (``scans`` required).
    ``n_points`` overrides every group's number of points; ``progress(done, total)`` counts
    points over all groups.

    Parameters
    ----------
    workers, client, scheduler, chunk_size, output:
        Run the points of all groups as Dask tasks, in one run, and/or stream them to the run
        directory ``output`` that a restarted scan resumes from (see
        :func:`scan_correlations`); the numbers are those of the in-process scan.
    intervals, nominal:
        As for :func:`scan_correlations`.

    Returns
    -------
    list of ScanResult
        One per group, in the order of ``scans``.
    """
    execution = _Execution(workers, client, scheduler, chunk_size, output)
    execution.check()
    if isinstance(spec_or_combiner, CombinationSpec):
        spec = spec_or_combiner
        options = {k: v for k, v in (combiner_options or {}).items() if v is not None}
        combiner = spec.combiner(**options)
        if scans is None:
            if not spec.scans:
                raise ConfigError(
                    f"{spec.source or 'the specification'}: the configuration defines no scan; "
                    "give ranges as '(nominal & from : to) source' in [correlations] (YAML: "
                    "'scan: [from, to]')"
                )
            scans = spec.scans
        nominal = spec.correlations if nominal is None else nominal
    elif isinstance(spec_or_combiner, Combiner):
        if combiner_options:
            raise InvalidArgument("combiner_options only apply when a CombinationSpec is given")
        combiner = spec_or_combiner
        if scans is None:
            raise InvalidArgument("scan_all(combiner, scans): give the scan groups")
    else:
        raise InvalidArgument(
            f"scan_all needs a CombinationSpec or a Combiner, not {type(spec_or_combiner).__name__}"
        )
    groups = list(scans)
    if not groups:
        return []
    total = sum(g.n_points if n_points is None else int(n_points) for g in groups)
    scanner = _Scanner(combiner, nominal, intervals, total)
    plans = [scanner.plan(g, n_points) for g in groups]
    return scanner.scan_many(plans, progress, execution)


def __dir__() -> list[str]:
    return list(__all__)
