"""Measurements of one distribution in different binnings (issue 20).

:func:`rebin` chooses the combined bins of several :class:`DifferentialMeasurement` inputs and
says how each measurement enters:

* ``match="coarsest"``: the combined bins are the coarsest ones every measurement can give —
  an edge is kept unless it falls strictly inside a bin of some measurement. A finer
  measurement's bins are **merged**: its estimates become B x̂, its statistical covariance
  B M⁻¹ Bᵀ and every shift B u (:func:`merge_measurement`; width-weighted means for densities,
  sums for ``content="per_bin"``). This is exact: it is the measurement's own χ² with the shape
  inside each combined bin left free (method.md, "Linear maps").
* ``match="finest"``: every edge of every measurement; a coarser measurement's bin **measures
  the sum** (for densities: the width-weighted mean) of the combined bins inside it, a linear
  quantity of the χ² (:mod:`hepcombine.linear_maps`).
* ``edges=[...]``: the combined bins given; each measurement is merged where it is finer and
  mapped where it is coarser; its bins outside the edges are left out.

A measurement whose edge falls inside a bin of another (so that neither nests in the other
where the combined bins need it) is a :class:`~hepcombine.exceptions.InvalidMeasurement`
naming both bins and both measurements and what to do. A combined bin that no measurement
measures alone — only through sums — is an error, or (``unmeasured="sum"``) merged with its
neighbours into the smallest measured sum that contains it.

The result (:class:`Rebinned`) holds the measurements to combine (merged where needed), the
observables ``bin0, bin1, …`` with the estimates that measure each alone, the linear
quantities of the sums (not reported) and the combined :class:`Binning`. Knows nothing of
files or fits.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .binning import Binning, Binning2D
from .exceptions import InvalidArgument, InvalidMeasurement
from .linear_maps import LinearQuantity
from .measurement import DifferentialMeasurement, Measurement

__all__ = ["CONTENTS", "MATCHES", "Rebinned", "merge_matrix", "merge_measurement", "rebin"]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]
#: what the values of a measurement are: densities (dσ/dx, merged width-weighted) or per-bin
#: contents (σ per bin, merged by summing)
CONTENTS = ("density", "per_bin")
#: how the combined bins are chosen
MATCHES = ("coarsest", "finest", "edges")
#: edges closer than this (relative to the axis range) are the same edge
RTOL = 1e-9


@dataclass(frozen=True)
class Rebinned:
    """The combined bins of measurements in different binnings.

    Attributes
    ----------
    measurements:
        ``{name: Measurement}`` to combine: merged where a measurement was finer than the
        combined bins (estimates named ``first..last``), unchanged otherwise.
    observables:
        ``{f"{prefix}{k}": [estimates]}`` in bin order: the estimates that measure each combined
        bin alone (an empty list for a bin measured only through sums).
    linear:
        The linear quantities of the estimates that measure several combined bins (not
        reported), as for ``Combiner(linear=...)``.
    binning:
        The combined bins (the axis of the first measurement); a
        :class:`~hepcombine.binning.Binning2D` for 2-d measurements.
    members:
        Per combined bin, the measurements that measure it (alone or in a sum).
    """

    measurements: dict[str, Measurement]
    observables: dict[str, list[str]]
    linear: dict[str, LinearQuantity]
    binning: Binning | Binning2D
    members: tuple[tuple[str, ...], ...]


def merge_matrix(binning: Binning, groups: Sequence[Sequence[int]], content: str) -> Array:
    """B (groups × bins): row g averages the bins of group g weighted by their widths
    (``content="density"``) or sums them (``"per_bin"``)."""
    B = np.zeros((len(groups), binning.n_bins))
    rows = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    cols = np.fromiter((j for g in groups for j in g), dtype=np.intp, count=len(rows))
    if content == "per_bin":
        B[rows, cols] = 1.0
    else:
        w = binning.widths[cols]
        total = np.zeros(len(groups))
        np.add.at(total, rows, w)
        B[rows, cols] = w / total[rows]
    return B


def merge_measurement(meas: Measurement, B: Array, names: Sequence[str]) -> Measurement:
    """The measurement of B x (``names`` for the new estimates): estimates B x̂, statistical
    covariance B M⁻¹ Bᵀ, shifts B u_up and B u_down; the sources' constraints, pulls and kinds
    unchanged. Exact for a Gaussian likelihood (the fine shape profiled out)."""
    from scipy import sparse
    from scipy.linalg import cho_factor, cho_solve

    M = meas.stat_information
    nonzero = B != 0.0
    if _is_diagonal(M) and not np.any(nonzero.sum(axis=0) > 1):
        # uncorrelated statistics, every fine bin in one group at most (merge_matrix): the
        # merged statistics are uncorrelated too, Var_g = Σ_j B_gj² σ_j²
        used = nonzero.any(axis=0)
        g = np.argmax(nonzero, axis=0)[used]
        w = B[g, np.flatnonzero(used)]
        var = np.bincount(g, weights=w * w / np.diag(M)[used], minlength=len(B))
        return replace(
            meas,
            estimate_names=tuple(names),
            estimates=B @ meas.estimates,
            stat_information=np.diag(1.0 / var),
            shifts_up=B @ meas.shifts_up,
            shifts_down=B @ meas.shifts_down,
        )
    Bs = sparse.csr_matrix(B)  # a few entries per row: sparse products, no BLAS threads
    if _is_diagonal(M):  # uncorrelated statistics: B diag(σ²) Bᵀ
        cov = np.asarray((Bs @ Bs.multiply(1.0 / np.diag(M)[None, :]).T).toarray())
    else:  # B M⁻¹ Bᵀ from the Cholesky factor of M (no inverse of the fine matrix)
        with _one_blas_thread():
            cov = np.asarray(Bs @ cho_solve(cho_factor(M), B.T))
    cov = 0.5 * (cov + cov.T)
    if _is_diagonal(cov):
        info = np.diag(1.0 / np.diag(cov))
    else:
        with _one_blas_thread():
            info = cho_solve(cho_factor(cov), np.eye(len(cov)))
    up, down = np.asarray(Bs @ meas.shifts_up), np.asarray(Bs @ meas.shifts_down)
    return replace(
        meas,
        estimate_names=tuple(names),
        estimates=np.asarray(Bs @ meas.estimates),
        stat_information=0.5 * (info + info.T),
        shifts_up=up,
        shifts_down=down,
    )


def _is_diagonal(a: Array) -> bool:
    n = len(a)
    return not np.any(a.reshape(-1)[:-1].reshape(n - 1, n + 1)[:, 1:]) if n > 1 else True


_CONTROLLER: list[Any] = []


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """One BLAS thread for the dense products of a merge (threads cost more than they bring
    at these sizes on a loaded machine); the caller's setting is restored afterwards."""
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    limiter = _CONTROLLER[0].limit(limits=1, user_api="blas")
    try:
        yield
    finally:
        limiter.restore_original_limits()


# ---------------------------------------------------------------------- edges
@dataclass(frozen=True)
class _Axis:
    """The bins of one measurement along one axis (a 1-d measurement, or one axis of a 2-d
    one): all that the choice of combined bins looks at."""

    binning: Binning


def _scale(measurements: Mapping[str, _Axis]) -> float:
    lo = min(float(d.binning.low.min()) for d in measurements.values())
    hi = max(float(d.binning.high.max()) for d in measurements.values())
    return RTOL * max(1.0, hi - lo, abs(lo), abs(hi))


def _union_edges(measurements: Mapping[str, _Axis], tol: float) -> list[tuple[float, str]]:
    """Every edge of every measurement (edges within ``tol`` are one edge, the first given),
    in increasing order, with the first measurement that has it."""
    names = list(measurements)
    values, owner = [], []
    for k, d in enumerate(measurements.values()):
        e = np.concatenate([d.binning.low, d.binning.high])
        values.append(e)
        owner.append(np.full(len(e), k))
    v = np.concatenate(values)
    o = np.concatenate(owner)
    order = np.lexsort((o, v))  # by value, then by measurement
    v, o = v[order], o[order]
    new = np.concatenate([[True], np.diff(v) > tol])
    # one edge per cluster of close values: the value and owner of its first member
    starts = np.flatnonzero(new)
    first = np.minimum.reduceat(o, starts)
    return [(float(v[i]), names[int(f)]) for i, f in zip(starts, first, strict=True)]


def _strictly_inside(d: _Axis, e: Array, tol: float) -> Array:
    """Per value of ``e``: the bin of ``d`` it lies strictly inside, or −1."""
    b = d.binning
    idx = np.searchsorted(b.low, e, side="right") - 1
    ok = idx >= 0
    j = np.where(ok, idx, 0)
    inside = ok & (b.low[j] + tol < e) & (e < b.high[j] - tol)
    return np.where(inside, idx, -1)


def _inside(d: _Axis, e: float, tol: float) -> int | None:
    """The bin of ``d`` that ``e`` lies strictly inside, or None."""
    j = int(_strictly_inside(d, np.array([e]), tol)[0])
    return None if j < 0 else j


def _bins_between(edges: Sequence[float], measurements: Mapping[str, _Axis]) -> tuple[Array, Array]:
    """The bins between consecutive ``edges`` that some measurement covers."""
    e = np.asarray(edges, dtype=float)
    lo, hi = e[:-1], e[1:]
    mid = 0.5 * (lo + hi)
    covered = np.zeros(len(mid), dtype=bool)
    for d in measurements.values():
        b = d.binning
        idx = np.searchsorted(b.low, mid, side="right") - 1
        j = np.where(idx >= 0, idx, 0)
        covered |= (idx >= 0) & (mid < b.high[j])
    return lo[covered].copy(), hi[covered].copy()


def _label(d: _Axis, name: str, j: int) -> str:
    return f"bin [{d.binning.low[j]:g}, {d.binning.high[j]:g}) of {name!r}"


# ---------------------------------------------------------------------- one measurement
@dataclass
class _Entry:
    """How one measurement enters: its merge groups, and per group the combined bins."""

    groups: list[list[int]]
    targets: list[list[int]]


def _assign(
    name: str,
    d: _Axis,
    low: Array,
    high: Array,
    tol: float,
    provenance: Mapping[float, str],
    measurements: Mapping[str, _Axis],
    partial: str = "error",
) -> _Entry:
    """Groups of bins of ``d`` (merged) and the combined bins each group measures."""
    b = d.binning
    # the combined bins each bin of d overlaps (both sorted, without overlaps): c_first…c_last
    c_first = np.searchsorted(high, b.low + tol, side="right")
    c_last = np.searchsorted(low, b.high - tol, side="left") - 1
    hits = c_first <= c_last
    # connected pieces: consecutive bins of d that share combined bins
    comps: list[tuple[list[int], list[int]]] = []
    top = -1
    for j in map(int, np.flatnonzero(hits)):
        first, last = int(c_first[j]), int(c_last[j])
        if comps and first <= top:
            comps[-1][0].append(j)
            top = max(top, last)
            comps[-1][1][:] = range(comps[-1][1][0], top + 1)
        else:
            comps.append(([j], list(range(first, last + 1))))
            top = last
    skipped = np.flatnonzero(~hits).tolist()
    if skipped:
        log.info(
            "measurement %r: bins %s lie outside the combined bins and are left out", name, skipped
        )
    entry = _Entry([], [])
    for js, cs in comps:
        m_lo, m_hi = float(b.low[js[0]]), float(b.high[js[-1]])
        c_lo, c_hi = float(low[cs[0]]), float(high[cs[-1]])
        if len(js) > 1 and len(cs) > 1:
            # an edge of the combined bins strictly inside one of d's bins, or the reverse
            for c in cs[:-1]:
                e = float(high[c])
                at = _inside(d, e, tol)
                if at is not None:
                    raise InvalidMeasurement(
                        _edge_message(e, provenance, name, d, at, measurements)
                    )
            for j in js[:-1]:
                e = float(b.high[j])
                hit = np.flatnonzero((low + tol < e) & (e < high - tol))
                if hit.size:
                    raise InvalidMeasurement(
                        f"binning: the edge {e:g} of {name!r} falls inside the combined bin "
                        f"[{low[hit[0]]:g}, {high[hit[0]]:g}); give 'binning: {{edges: [...]}}' "
                        f"with {e:g} as an edge, or use 'match: finest'"
                    )
        gaps = [j for j, nxt in itertools.pairwise(js) if b.low[nxt] > b.high[j] + tol]
        if c_lo < m_lo - tol or c_hi > m_hi + tol or gaps:
            if partial == "drop":
                log.warning(
                    "binning: bins %s of %r cover only part of the combined bins [%g, %g) and "
                    "are left out",
                    js,
                    name,
                    c_lo,
                    c_hi,
                )
                continue
            inner = [e for e in (m_lo, m_hi) if c_lo + tol < e < c_hi - tol]
            inner += [float(b.high[j]) for j in gaps] + [
                float(b.low[js[js.index(j) + 1]]) for j in gaps
            ]
            for e in inner:
                for other, od in measurements.items():
                    k = _inside(od, e, tol) if other != name else None
                    if k is not None:
                        raise InvalidMeasurement(
                            f"binning: the edge {e:g} of {name!r} falls inside "
                            f"{_label(od, other, k)}, and {name!r} does not fill the combined "
                            f"bin [{c_lo:g}, {c_hi:g}) that contains it: neither binning nests in "
                            f"the other there; give 'binning: {{edges: [...]}}', or drop bins "
                            "(drop_bins) of one of them"
                        )
            where = f"[{c_lo:g}, {c_hi:g})"
            raise InvalidMeasurement(
                f"binning: {name!r} covers only [{m_lo:g}, {m_hi:g})"
                + (f" with a gap after {b.high[gaps[0]]:g}" if gaps else "")
                + f" of the combined bins {where}: they cannot be measured from its bins; give "
                "'binning: {edges: [...]}' with combined bins its bins fill, or use 'match: finest'"
            )
        if m_lo < c_lo - tol or m_hi > c_hi + tol:
            raise InvalidMeasurement(
                f"binning: {_label(d, name, js[0] if m_lo < c_lo - tol else js[-1])} reaches "
                f"beyond the combined bins [{c_lo:g}, {c_hi:g}); give 'binning: {{edges: [...]}}' "
                "that contain it whole, or leave it out (drop_bins)"
            )
        entry.groups.append(js)
        entry.targets.append(cs)
    return entry


def _edge_message(
    e: float,
    provenance: Mapping[float, str],
    name: str,
    d: _Axis,
    j: int,
    measurements: Mapping[str, _Axis],
) -> str:
    other = next(
        (m for f, m in provenance.items() if abs(f - e) <= 1e-12 * max(1.0, abs(e)) or f == e), None
    )
    if other is not None and other in measurements and other != name:
        od = measurements[other]
        k = int(np.argmin(np.minimum(np.abs(od.binning.low - e), np.abs(od.binning.high - e))))
        return (
            f"binning: the edge {e:g} of {_label(od, other, k)} falls inside "
            f"{_label(d, name, j)}: neither binning nests in the other there; give "
            f"'binning: {{edges: [...]}}' without {e:g}, or drop one of the two bins (drop_bins)"
        )
    return (
        f"binning: the combined edge {e:g} falls inside {_label(d, name, j)}; give "
        f"'binning: {{edges: [...]}}' without {e:g}"
    )


# ---------------------------------------------------------------------- the combination
def rebin(
    measurements: Mapping[str, DifferentialMeasurement],
    *,
    match: Literal["coarsest", "finest", "edges"] = "coarsest",
    edges: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    content: str | Mapping[str, str] = "density",
    unmeasured: Literal["error", "sum"] = "error",
    prefix: str = "bin",
) -> Rebinned:
    """The combined bins of ``measurements`` (by name) and how each enters; see the module
    docstring. ``content``: ``"density"`` (default) or ``"per_bin"``, for all measurements or
    per name (all must agree: merging a density and a per-bin content is not meaningful).
    ``edges`` (with ``match="edges"``): the combined bin edges, increasing.

    2-d measurements (:class:`~hepcombine.binning.Binning2D`, all of them): each axis is
    chosen as above (``edges={"x": [...], "y": [...]}``; an axis left out follows ``match``,
    coarsest by default), and the cells merge as the outer product of the axes' merges: the
    merge matrix of the cells (x inner) is ``kron(B_y, B_x)``, area-weighted for densities and
    summed for per-bin contents. A cell measured only through sums is an error (no
    ``unmeasured="sum"`` in 2-d)."""
    if not measurements:
        raise InvalidMeasurement("a differential combination needs at least one measurement")
    if match not in MATCHES:
        raise InvalidArgument(f"binning: match must be one of {list(MATCHES)}, not {match!r}")
    if unmeasured not in ("error", "sum"):
        raise InvalidArgument(f"binning: unmeasured must be 'error' or 'sum', not {unmeasured!r}")
    if (edges is not None) != (match == "edges"):
        raise InvalidArgument("binning: give edges with match='edges' (and only then)")
    kinds = (
        dict.fromkeys(measurements, content)
        if isinstance(content, str)
        else {n: content.get(n, "density") for n in measurements}
    )
    for n, k in kinds.items():
        if k not in CONTENTS:
            raise InvalidArgument(
                f"measurement {n!r}: content must be one of {list(CONTENTS)}, not {k!r}"
            )
    if len(set(kinds.values())) > 1:
        dens = next(n for n, k in kinds.items() if k == "density")
        per = next(n for n, k in kinds.items() if k == "per_bin")
        raise InvalidMeasurement(
            f"binning: {dens!r} gives densities but {per!r} per-bin contents; give both in one "
            "form (HEPData: per_bin_width: true divides by the bin width)"
        )
    kind = next(iter(kinds.values()))
    two = [n for n, d in measurements.items() if isinstance(d.binning, Binning2D)]
    if two and len(two) < len(measurements):
        one = next(n for n in measurements if n not in two)
        raise InvalidMeasurement(
            f"measurement {two[0]!r} is two-dimensional (TH2) but {one!r} is one-dimensional; "
            "a differential combination combines measurements of one distribution, all 1-d or "
            "all 2-d"
        )
    for n, d in measurements.items():
        if d.binning.is_index:
            raise InvalidMeasurement(
                f"measurement {n!r}: its bins are only numbered (no edges), so they cannot be "
                "rebinned; give its bin edges"
            )
    if two:
        return _rebin_2d(measurements, match, edges, kind, unmeasured, prefix)
    if isinstance(edges, Mapping):
        raise InvalidArgument(
            "binning: edges per axis ({x: [...], y: [...]}) are for 2-d measurements; give a "
            "list of edges for 1-d ones"
        )
    axes = {n: _Axis(_one_d(d.binning)) for n, d in measurements.items()}
    low, high, entries = _axis_bins(axes, match, edges, unmeasured)
    return _build(measurements, entries, low, high, kind, prefix)


def _one_d(b: Binning | Binning2D) -> Binning:
    assert isinstance(b, Binning)
    return b


def _axis_bins(
    axes: Mapping[str, _Axis],
    match: str,
    edges: Sequence[float] | None,
    unmeasured: str,
) -> tuple[Array, Array, dict[str, _Entry]]:
    """The combined bins of one axis and how each measurement's bins enter them."""
    measurements = axes
    tol = _scale(measurements)
    union = _union_edges(measurements, tol)
    provenance = dict(union)
    if match == "edges":
        assert edges is not None
        e = np.asarray([float(v) for v in edges])
        if e.ndim != 1 or len(e) < 2 or not np.all(np.diff(e) > 0):
            raise InvalidArgument(f"binning: edges must increase, at least two, got {list(edges)}")
        low, high = e[:-1].copy(), e[1:].copy()
    elif match == "finest":
        low, high = _bins_between([v for v, _ in union], measurements)
    else:
        every = np.array([v for v, _ in union])
        keep = np.ones(len(every), dtype=bool)
        for d in measurements.values():
            keep &= _strictly_inside(d, every, tol) < 0
        low, high = _bins_between(every[keep].tolist(), measurements)
    merged_sums = False
    while True:
        entries = {
            n: _assign(
                n, d, low, high, tol, provenance, measurements, "drop" if merged_sums else "error"
            )
            for n, d in measurements.items()
        }
        alone = np.zeros(len(low), dtype=bool)
        for entry in entries.values():
            for cs in entry.targets:
                if len(cs) == 1:
                    alone[cs[0]] = True
        if alone.all():
            break
        c = int(np.flatnonzero(~alone)[0])
        # the smallest sum that contains bin c
        best: tuple[int, str, list[int]] | None = None
        for n, entry in entries.items():
            for cs in entry.targets:
                if c in cs and (best is None or len(cs) < best[0]):
                    best = (len(cs), n, cs)
        if best is None:
            raise InvalidMeasurement(
                f"binning: the combined bin [{low[c]:g}, {high[c]:g}) is measured by no "
                "measurement; choose 'binning: {edges: [...]}' without it"
            )
        _, by, cs = best
        if unmeasured != "sum":
            raise InvalidMeasurement(
                f"binning: the combined bin [{low[c]:g}, {high[c]:g}) is measured by no "
                f"measurement alone, only in the sum [{low[cs[0]]:g}, {high[cs[-1]]:g}) of "
                f"{by!r}; give 'binning: {{unmeasured: sum}}' to combine that sum as one bin, "
                "or 'binning: {edges: [...]}' without its inner edges"
            )
        rows = [k for k in range(len(low)) if k not in cs[1:]]
        new_high = high.copy()
        new_high[cs[0]] = high[cs[-1]]
        low, high = low[rows], new_high[rows]
        merged_sums = True
        log.info("binning: combined bins %s measured only as a sum by %r: kept as one bin", cs, by)
    return low, high, entries


def _build(
    measurements: Mapping[str, DifferentialMeasurement],
    entries: Mapping[str, _Entry],
    low: Array,
    high: Array,
    kind: str,
    prefix: str,
) -> Rebinned:
    first = _one_d(next(iter(measurements.values())).binning)
    binning = Binning(low, high, first.name, first.label, first.unit)
    bins = [f"{prefix}{k}" for k in range(len(low))]
    observables: dict[str, list[str]] = {b: [] for b in bins}
    members: list[list[str]] = [[] for _ in bins]
    linear: dict[str, LinearQuantity] = {}
    out: dict[str, Measurement] = {}
    widths = high - low
    for n, d in measurements.items():
        entry = entries[n]
        meas = d.measurement
        names = meas.estimate_names
        identity = [len(g) for g in entry.groups] == [1] * meas.estimates.size
        if identity and [g[0] for g in entry.groups] == list(range(len(names))):
            new = meas
            est = list(names)
        else:
            est = [
                names[g[0]] if len(g) == 1 else f"{names[g[0]]}..{names[g[-1]]}"
                for g in entry.groups
            ]
            new = merge_measurement(meas, merge_matrix(_one_d(d.binning), entry.groups, kind), est)
        out[n] = new
        for e, cs in zip(est, entry.targets, strict=True):
            for c in cs:
                if n not in members[c]:
                    members[c].append(n)
            if len(cs) == 1:
                observables[bins[cs[0]]].append(f"{n}:{e}")
                continue
            w = widths[cs]
            coeff = np.ones(len(cs)) if kind == "per_bin" else w / w.sum()
            linear[f"{n}_{e}".replace(":", "_")] = LinearQuantity(
                {bins[c]: float(a) for c, a in zip(cs, coeff, strict=True)}, (f"{n}:{e}",), False
            )
    return Rebinned(out, observables, linear, binning, tuple(tuple(m) for m in members))


# ---------------------------------------------------------------------- 2-d
def _rebin_2d(
    measurements: Mapping[str, DifferentialMeasurement],
    match: str,
    edges: Sequence[float] | Mapping[str, Sequence[float]] | None,
    kind: str,
    unmeasured: str,
    prefix: str,
) -> Rebinned:
    """Cells of 2-d measurements: each axis chosen by :func:`_axis_bins`, the cells merged as
    the outer product of the axes' merges."""
    grids = {n: _two_d(d.binning) for n, d in measurements.items()}
    if edges is not None and not isinstance(edges, Mapping):
        raise InvalidArgument(
            "binning: 2-d measurements take edges per axis, {x: [...], y: [...]}, not one list"
        )
    given = dict(edges or {})
    unknown = [k for k in given if k not in ("x", "y")]
    if unknown:
        raise InvalidArgument(f"binning: edges of 2-d measurements are 'x' and 'y', not {unknown}")
    if unmeasured == "sum":
        raise InvalidArgument(
            "binning: unmeasured: sum is for 1-d measurements; for 2-d ones give edges per axis "
            "({x: [...], y: [...]}) whose cells are measured"
        )
    per_axis: dict[str, tuple[Array, Array, dict[str, _Entry]]] = {}
    for axis in ("x", "y"):
        views = {n: _Axis(getattr(g, axis)) for n, g in grids.items()}
        how = "edges" if axis in given else ("coarsest" if match == "edges" else match)
        try:
            per_axis[axis] = _axis_bins(views, how, given.get(axis), "error")
        except InvalidMeasurement as exc:
            first = next(iter(grids.values()))
            raise type(exc)(f"{axis} axis ({getattr(first, axis).name!r}): {exc}") from None
    (lx, hx, ex), (ly, hy, ey) = per_axis["x"], per_axis["y"]
    first = next(iter(grids.values()))
    binning = Binning2D(
        Binning(lx, hx, first.x.name, first.x.label, first.x.unit),
        Binning(ly, hy, first.y.name, first.y.label, first.y.unit),
    )
    nx_c = len(lx)
    cells = [f"{prefix}{k}" for k in range(binning.n_bins)]
    observables: dict[str, list[str]] = {c: [] for c in cells}
    members: list[list[str]] = [[] for _ in cells]
    linear: dict[str, LinearQuantity] = {}
    out: dict[str, Measurement] = {}
    for n, d in measurements.items():
        g = grids[n]
        meas = d.measurement
        names = meas.estimate_names
        gx, gy = ex[n], ey[n]
        identity = (
            [len(j) for j in gx.groups] == [1] * g.x.n_bins
            and [len(j) for j in gy.groups] == [1] * g.y.n_bins
            and [j[0] for j in gx.groups] == list(range(g.x.n_bins))
            and [j[0] for j in gy.groups] == list(range(g.y.n_bins))
        )
        # the groups of cells, y outer and x inner as the rows of kron(B_y, B_x)
        groups = [(jy, jx) for jy in gy.groups for jx in gx.groups]
        targets = [(cy, cx) for cy in gy.targets for cx in gx.targets]
        if identity:
            new, est = meas, list(names)
        else:
            est = []
            for jy, jx in groups:
                lo, hi = g.index(jx[0], jy[0]), g.index(jx[-1], jy[-1])
                est.append(names[lo] if lo == hi else f"{names[lo]}..{names[hi]}")
            B = np.asarray(
                np.kron(merge_matrix(g.y, gy.groups, kind), merge_matrix(g.x, gx.groups, kind)),
                dtype=np.float64,
            )
            new = merge_measurement(meas, B, est)
        out[n] = new
        for e, (cy, cx) in zip(est, targets, strict=True):
            ks = [x + nx_c * y for y in cy for x in cx]
            for k in ks:
                if n not in members[k]:
                    members[k].append(n)
            if len(ks) == 1:
                observables[cells[ks[0]]].append(f"{n}:{e}")
                continue
            if kind == "per_bin":
                coeff = np.ones(len(ks))
            else:
                wx, wy = hx[cx] - lx[cx], hy[cy] - ly[cy]
                coeff = np.kron(wy / wy.sum(), wx / wx.sum())
            linear[f"{n}_{e}".replace(":", "_")] = LinearQuantity(
                {cells[k]: float(a) for k, a in zip(ks, coeff, strict=True)}, (f"{n}:{e}",), False
            )
    lonely = [k for k, c in enumerate(cells) if not observables[c]]
    if lonely:
        k = lonely[0]
        by = members[k]
        raise InvalidMeasurement(
            f"binning: the combined {binning.bin_label(k)} is measured by no measurement alone"
            + (f", only in sums of cells by {by}" if by else "")
            + "; a 2-d measurement fine in x but coarse in y and another the other way round "
            "measure no cell alone: give 'binning: {match: coarsest}' or edges per axis "
            "({x: [...], y: [...]}) whose cells one of them measures"
        )
    return Rebinned(out, observables, linear, binning, tuple(tuple(m) for m in members))


def _two_d(b: Binning | Binning2D) -> Binning2D:
    assert isinstance(b, Binning2D)
    return b


def __dir__() -> list[str]:
    return list(__all__)
