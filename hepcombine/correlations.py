"""Correlation assumptions between sources, factorised exactly (method.md §2).

The assumed correlation matrix C of all sources of a combination is the identity plus the
user's pairwise assumptions. Instead of inverting C (impossible at ρ = ±1, which Convino
approximates by clipping to ±0.999), the sources are written as λ = L η with C = L Lᵀ and the
prior is ηᵀη. L is built block by block over the connected components of the correlation
graph from an eigendecomposition, so ρ = ±1 and every positive semi-definite C is exact.

An indefinite C is an error that names the sources carrying the negative eigenvector; an
opt-in repair replaces the offending block by the nearest correlation matrix (Higham 2002) and
reports what changed.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .exceptions import InvalidCorrelation

__all__ = ["CorrelationFactor", "factorize_correlations", "nearest_correlation_matrix"]

log = logging.getLogger(__name__)

_EIG_TOL = 1e-9


@dataclass(frozen=True)
class CorrelationFactor:
    """C = L Lᵀ for the sources ``names``.

    Attributes
    ----------
    names: the sources (qualified names) in the order of the rows of ``L``.
    L: (n_sources, rank) factor.
    L_pinv: (rank, n_sources) pseudo-inverse of ``L`` (``L_pinv @ L = 1``).
    components: index arrays of the sources in each connected block of C.
    eta_names: a name per column of ``L``: the source's own name for an uncorrelated source,
        ``"<first source>~<last source>#k"`` for the k-th direction of a correlated block.
    repaired: ``{(a, b): (assumed, used)}`` for every pair the opt-in repair changed.
    """

    names: tuple[str, ...]
    L: NDArray[np.float64]
    L_pinv: NDArray[np.float64]
    components: tuple[NDArray[np.intp], ...]
    eta_names: tuple[str, ...]
    repaired: Mapping[tuple[str, str], tuple[float, float]]

    @functools.cached_property
    def matrix(self) -> NDArray[np.float64]:
        """The (possibly repaired) correlation matrix C = L Lᵀ (read-only; computed once)."""
        c = self.L @ self.L.T
        c.setflags(write=False)
        return c


def nearest_correlation_matrix(
    c: NDArray[np.float64], max_iter: int = 500, tol: float = 1e-12
) -> NDArray[np.float64]:
    """Nearest (Frobenius) positive semi-definite matrix with unit diagonal to ``c``.

    Higham's alternating projections with Dykstra's correction.
    """
    y = np.array(c, dtype=float)
    ds = np.zeros_like(y)
    for _ in range(max_iter):
        r = y - ds
        w, v = np.linalg.eigh(0.5 * (r + r.T))
        x = (v * np.clip(w, 0.0, None)) @ v.T
        ds = x - r
        y_new = x.copy()
        np.fill_diagonal(y_new, 1.0)
        if np.linalg.norm(y_new - y) <= tol * max(1.0, float(np.linalg.norm(y))):
            y = y_new
            break
        y = y_new
    # make it exactly PSD after the final diagonal projection
    w, v = np.linalg.eigh(0.5 * (y + y.T))
    y = (v * np.clip(w, 0.0, None)) @ v.T
    d = np.sqrt(np.diag(y))
    return y / np.outer(d, d)


def _labels(n: int, edges: Sequence[tuple[int, int]]) -> tuple[int, list[int]]:
    """:func:`_components` with the labels as a list."""
    parent = list(range(n))
    size = [1] * n

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in edges:
        ri, rj = root(int(i)), root(int(j))
        if ri == rj:
            continue
        if size[ri] < size[rj]:
            ri, rj = rj, ri
        parent[rj] = ri
        size[ri] += size[rj]
    number: dict[int, int] = {}
    labels = [number.setdefault(root(i), len(number)) for i in range(n)]
    return len(number), labels


def _components(n: int, edges: Sequence[tuple[int, int]]) -> tuple[int, NDArray[np.intp]]:
    """The connected components of the graph on 0 … n − 1 with ``edges``: their number and each
    node's component label (0 … number − 1, in the order of each component's smallest node), by
    union–find with path halving and union by size."""
    count, labels = _labels(n, edges)
    return count, np.array(labels, dtype=np.intp)


def factorize_correlations(
    names: Sequence[str],
    pairs: Mapping[tuple[int, int], float],
    *,
    repair: bool = False,
) -> CorrelationFactor:
    """Factorise the correlation matrix given by ``pairs`` (``{(i, j): ρ}`` on indices of
    ``names``; unlisted pairs are uncorrelated)."""
    n = len(names)
    nonzero = [(int(i), int(j), float(rho)) for (i, j), rho in pairs.items() if rho != 0.0]
    n_comp, label_list = _labels(n, [(i, j) for i, j, _ in nonzero])
    # the components in the order of their first source (the labels' order), each in the
    # sources' own order: consecutive runs of ``order``
    labels = np.array(label_list, dtype=np.intp)
    sizes = np.bincount(labels, minlength=n_comp)
    order = np.argsort(labels, kind="stable")
    starts = np.zeros(n_comp + 1, dtype=np.intp)
    np.cumsum(sizes, out=starts[1:])
    position = np.empty(n, dtype=np.intp)  # of each source within its component
    position[order] = np.arange(n) - starts[labels[order]]
    # every correlated block of one size at once: its matrices stacked, one eigendecomposition
    # for all of them (LAPACK sees each matrix alone, so the factors are those of separate
    # calls), the kept directions placed in L and L⁺ by index arrays
    width = np.ones(n_comp, dtype=np.intp)  # columns of L per component
    found: list[tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]] = []
    repaired: dict[tuple[str, str], tuple[float, float]] = {}
    pair_arr = np.array([(i, j) for i, j, _ in nonzero], dtype=np.intp).reshape(-1, 2)
    rho_arr = np.array([rho for _, _, rho in nonzero], dtype=float)
    pair_size = sizes[labels[pair_arr[:, 0]]]
    groups = []
    for size in sorted(set(sizes[sizes > 1].tolist())):  # (np.unique would import numpy.ma)
        comps = np.flatnonzero(sizes == size)
        batch = np.full(n_comp, -1, dtype=np.intp)
        batch[comps] = np.arange(len(comps))
        c = np.zeros((len(comps), size, size))
        c[:, np.arange(size), np.arange(size)] = 1.0
        sel = pair_size == size
        bi = batch[labels[pair_arr[sel, 0]]]
        pi, pj = position[pair_arr[sel, 0]], position[pair_arr[sel, 1]]
        c[bi, pi, pj] = rho_arr[sel]
        c[bi, pj, pi] = rho_arr[sel]
        w, v = np.linalg.eigh(c)
        groups.append((comps, c, w, v))
    # indefinite blocks, in the order of the components: an error, or repaired
    bad = sorted(
        (int(comps[b]), g, b)
        for g, (comps, _, w, _) in enumerate(groups)
        for b in np.flatnonzero(w[:, 0] < -_EIG_TOL).tolist()
    )
    for k, g, b in bad:
        _, c, w, v = groups[g]
        idx = order[starts[k] : starts[k + 1]]
        w[b], v[b] = _invalid_block(
            names, idx, (c[b], w[b], v[b]), nonzero, labels, k, repair, repaired
        )
    for comps, _, w, v in groups:
        keep = w > _EIG_TOL * w.shape[1]
        width[comps] = keep.sum(axis=1)
        found.append((comps, np.where(keep, w, 0.0), v))
    first_col = np.zeros(n_comp + 1, dtype=np.intp)
    np.cumsum(width, out=first_col[1:])
    L = np.zeros((n, int(first_col[-1])))
    L_pinv = np.zeros((int(first_col[-1]), n))
    single = np.flatnonzero(sizes == 1)
    single_src = order[starts[single]]
    L[single_src, first_col[single]] = 1.0  # L = L⁺ = 1 for an uncorrelated source
    L_pinv[first_col[single], single_src] = 1.0
    for comps, w, v in found:
        size = v.shape[1]
        keep = w > 0.0
        blk = v * np.sqrt(w)[:, None, :]  # the columns v_j √w_j of each block (kept ones)
        norm2 = np.sum(blk * blk, axis=1)  # |b_j|²: columns of blk are orthogonal
        kb, kj = np.nonzero(keep)  # (block, direction) of every kept column
        col = first_col[comps[kb]] + (np.cumsum(keep, axis=1) - 1)[kb, kj]
        rows = order[starts[comps[kb]][:, None] + np.arange(size)]
        L[rows, col[:, None]] = blk[kb, :, kj]
        # pinv(blk) = diag(1/|b_j|²) bᵀ
        L_pinv[col[:, None], rows] = blk[kb, :, kj] / norm2[kb, kj][:, None]
    eta_names: list[str] = []
    first = order.tolist()
    bounds = list(zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True))
    for k, (lo, hi) in enumerate(bounds):
        if hi - lo == 1:
            eta_names.append(names[first[lo]])
        else:
            pre = f"{names[first[lo]]}~{names[first[hi - 1]]}#"
            eta_names.extend(f"{pre}{j}" for j in range(int(width[k])))
    components = tuple(order[lo:hi] for lo, hi in bounds)
    return CorrelationFactor(tuple(names), L, L_pinv, components, tuple(eta_names), repaired)


def _invalid_block(
    names: Sequence[str],
    idx: NDArray[np.intp],
    block: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]],
    nonzero: Sequence[tuple[int, int, float]],
    labels: NDArray[np.intp],
    k: int,
    repair: bool,
    repaired: dict[tuple[str, str], tuple[float, float]],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The eigendecomposition of the nearest valid correlation matrix to an indefinite block
    (``block``: its matrix c and eigendecomposition) of component ``k`` (sources ``idx``), its
    changes added to ``repaired``; without ``repair``, an :class:`InvalidCorrelation` naming
    the carriers of the negative direction."""
    c, w, v = block
    if not repair:
        vec = v[:, 0]
        carriers = [names[idx[a]] for a in np.argsort(-np.abs(vec)) if abs(vec[a]) > 0.05]
        assumed = {f"{names[i]} ~ {names[j]}": rho for i, j, rho in nonzero if labels[i] == k}
        raise InvalidCorrelation(
            "the assumed correlations are not positive semi-definite (not a valid correlation "
            f"matrix): eigenvalue {w[0]:.4g} along a direction carried by {carriers}. "
            f"Assumptions in this group: {assumed}. Revise them, or pass repair=True to use "
            "the nearest valid correlation matrix (reported in the result)."
        )
    fixed = nearest_correlation_matrix(c)
    changed: dict[tuple[str, str], tuple[float, float]] = {}
    for a in range(len(idx)):
        for b in range(a + 1, len(idx)):
            if abs(fixed[a, b] - c[a, b]) > 1e-6:
                changed[(names[idx[a]], names[idx[b]])] = (float(c[a, b]), float(fixed[a, b]))
    repaired.update(changed)
    log.warning(
        "correlation assumptions repaired to the nearest valid matrix: %s",
        repairs_summary(changed),
    )
    w, v = np.linalg.eigh(fixed)
    return w, v


def repairs_summary(repairs: Mapping[tuple[str, str], tuple[float, float]], shown: int = 3) -> str:
    """The opt-in repairs of correlation assumptions in one line: all of them when there are
    few, else their number and the largest changes."""
    if len(repairs) <= shown:
        return str(dict(repairs))
    worst = sorted(repairs.items(), key=lambda kv: -abs(kv[1][1] - kv[1][0]))[:shown]
    largest = "; ".join(f"{a} ~ {b}: {old:.3g} → {new:.3g}" for (a, b), (old, new) in worst)
    return f"{len(repairs)} pairs changed, the largest {largest} (all in correlation_repairs)"


def __dir__() -> list[str]:
    return list(__all__)
