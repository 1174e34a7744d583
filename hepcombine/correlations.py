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

    @property
    def matrix(self) -> NDArray[np.float64]:
        """The (possibly repaired) correlation matrix C = L Lᵀ."""
        return self.L @ self.L.T


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
    n_comp, labels = _labels(n, [(i, j) for i, j, _ in nonzero])
    # the components in the order of their first source (the labels' order), each in the
    # sources' own order
    members: list[list[int]] = [[] for _ in range(n_comp)]
    for i, label in enumerate(labels):
        members[label].append(i)
    pairs_of_component: dict[int, list[tuple[int, int, float]]] = {}
    for i, j, rho in nonzero:
        pairs_of_component.setdefault(labels[i], []).append((i, j, rho))
    # the correlated blocks, their matrices, and one eigendecomposition per block: blocks of
    # one size are decomposed together (one stacked call; LAPACK sees each matrix alone, so
    # the factors are those of separate calls)
    multi = [k for k in range(n_comp) if len(members[k]) > 1]
    matrices: list[NDArray[np.float64]] = []
    by_size: dict[int, list[int]] = {}
    for m, k in enumerate(multi):
        idx = members[k]
        pos = {s: a for a, s in enumerate(idx)}
        c = np.eye(len(idx))
        for i, j, rho in pairs_of_component[k]:
            c[pos[i], pos[j]] = c[pos[j], pos[i]] = rho
        matrices.append(c)
        by_size.setdefault(len(idx), []).append(m)
    eig: dict[int, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    for same in by_size.values():
        w_all, v_all = np.linalg.eigh(np.stack([matrices[m] for m in same]))
        for a, m in enumerate(same):
            eig[m] = (w_all[a], v_all[a])
    factors: list[NDArray[np.float64]] = []
    repaired: dict[tuple[str, str], tuple[float, float]] = {}
    for m, k in enumerate(multi):
        idx, c = members[k], matrices[m]
        w, v = eig[m]
        if w[0] < -_EIG_TOL:
            block_pairs = pairs_of_component[k]
            if not repair:
                vec = v[:, 0]
                carriers = [names[idx[a]] for a in np.argsort(-np.abs(vec)) if abs(vec[a]) > 0.05]
                assumed = {f"{names[i]} ~ {names[j]}": rho for i, j, rho in block_pairs}
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
                        changed[(names[idx[a]], names[idx[b]])] = (
                            float(c[a, b]),
                            float(fixed[a, b]),
                        )
            repaired.update(changed)
            log.warning(
                "correlation assumptions repaired to the nearest valid matrix: %s",
                repairs_summary(changed),
            )
            w, v = np.linalg.eigh(fixed)
        keep = w > _EIG_TOL * len(idx)
        factors.append(v[:, keep] * np.sqrt(w[keep]))

    # columns: one per uncorrelated source (L = L⁺ = 1 there), then the kept directions of
    # each correlated block, in the order of the components
    eta_names: list[str] = []
    first_col: list[int] = []
    single_src: list[int] = []
    single_col: list[int] = []
    col = 0
    blocks = iter(factors)
    widths = {}
    for k in range(n_comp):
        idx = members[k]
        first_col.append(col)
        if len(idx) == 1:
            single_src.append(idx[0])
            single_col.append(col)
            eta_names.append(names[idx[0]])
            col += 1
            continue
        width = next(blocks).shape[1]
        widths[k] = width
        eta_names.extend(f"{names[idx[0]]}~{names[idx[-1]]}#{j}" for j in range(width))
        col += width
    L = np.zeros((n, col))
    L_pinv = np.zeros((col, n))
    L[single_src, single_col] = 1.0
    L_pinv[single_col, single_src] = 1.0
    for k, blk in zip(multi, factors, strict=True):
        idx_arr = np.array(members[k], dtype=np.intp)
        c0 = first_col[k]
        L[idx_arr, c0 : c0 + widths[k]] = blk
        # columns of blk are orthogonal: pinv(blk) = diag(1/|b_j|²) bᵀ
        L_pinv[c0 : c0 + widths[k], idx_arr] = blk.T / np.sum(blk * blk, axis=0)[:, None]
    components = tuple(np.array(idx, dtype=np.intp) for idx in members)
    return CorrelationFactor(tuple(names), L, L_pinv, components, tuple(eta_names), repaired)


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
