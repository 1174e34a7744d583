"""The lowest minimum of a χ² with errors-on-errors terms, and profiles that stay on it.

A gamma-variance term g(Q) flattens for large Q, so the χ² can have a second minimum where an
outlier has pulled the sources of a term far out (the term's "far branch") besides the one
near the Gaussian solution, where Newton's method from the quadratic start ends. This module
finds the other branches: for each term it minimises a copy of the χ² in which that term is
replaced by a weak Gaussian prior (variance ``KAPPA`` along its directions: the sources move
to where the data put them), and restarts Newton's method on the true χ² from there; the
lowest minimum wins, and the search is repeated from it until nothing lower turns up.

The same search verifies the endpoints of profile intervals: at an endpoint x_c the profiled
χ² must not be lower on another branch than on the one the interval solver followed. An
endpoint that fails is found again by a bracketed root search of the profiled χ² in which every
point is minimised over all branches (:func:`branch_profile`); this is reported in the status
(``"profile scan (branches)"``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from ..chi2 import CombinedChi2
from .newton import KinkGroups, Minimum, global_minimise

__all__ = ["KAPPA", "branch_profile", "lowest_minimum", "verify_intervals"]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

#: prior variance along a term's directions in the copy that finds its far branch
KAPPA = 100.0
#: a minimum lower by more than this is another branch
_LOWER = 1e-7
#: how far (in σ of the value) a re-found endpoint is searched for
_REACH = 30.0


def _weak(model: CombinedChi2, k: int) -> tuple[CombinedChi2, Array]:
    """The χ² with term ``k`` replaced by a Gaussian prior of variance KAPPA along its
    directions, in η' with η = M η' (returns the model and M)."""
    B = model.constraints[k].basis
    M = np.eye(model.rank) + (math.sqrt(KAPPA) - 1.0) * (B @ B.T)
    others = tuple(t for i, t in enumerate(model.constraints) if i != k)
    weak = CombinedChi2(
        model.blocks,
        model.n_params,
        model.L @ M,
        pearson=model.pearson,
        asymmetry=model.asymmetry,
        constraints=others,
    )
    return weak, M


def _to_weak(theta: Array, n_p: int, M: Array) -> Array:
    return np.concatenate([theta[:n_p], np.linalg.solve(M, theta[n_p:])])


def _from_weak(theta: Array, n_p: int, M: Array) -> Array:
    return np.concatenate([theta[:n_p], M @ theta[n_p:]])


def lowest_minimum(
    model: CombinedChi2,
    start: Minimum,
    sigma: Array,
    fixed: Mapping[int, float] | None = None,
) -> Minimum:
    """The lowest of the minima of ``model`` reachable from ``start`` (a minimum) through the
    far branches of its errors-on-errors terms (module docstring); ``fixed`` parameters stay."""
    best = start
    n_p = model.n_params
    tried: set[int] = set()
    improved = True
    while improved and model.constraints:
        improved = False
        for k in range(len(model.constraints)):
            weak, M = _weak(model, k)
            kinks_w = KinkGroups.of(weak)
            w = global_minimise(weak, _to_weak(best.theta, n_p, M), kinks_w, sigma, fixed=fixed)
            if not w.converged:
                continue
            theta = _from_weak(w.theta, n_p, M)
            key = hash(np.round(theta / np.where(sigma > 0, sigma, 1.0), 3).tobytes())
            if key in tried:
                continue
            tried.add(key)
            other = global_minimise(model, theta, KinkGroups.of(model), sigma, fixed=fixed)
            if other.converged and other.chi2 < best.chi2 - _LOWER * max(1.0, abs(best.chi2)):
                log.debug("errors on errors: a lower minimum on the far branch of term %d", k)
                best = other
                improved = True
    return best


def branch_profile(
    model: CombinedChi2, near: Minimum, sigma: Array, index: int, value: float
) -> Minimum:
    """The profiled χ² at θ_index = ``value``, minimised over every branch, from ``near``."""
    theta = near.theta.copy()
    theta[index] = value
    kinks = KinkGroups.of(model)
    local = global_minimise(model, theta, kinks, sigma, fixed={index: value})
    return lowest_minimum(model, local, sigma, fixed={index: value})


def verify_intervals(
    model: CombinedChi2,
    minimum: Minimum,
    sigma: Array,
    observables: Sequence[int],
    intervals: Mapping[int, tuple[float, float]],
    levels: Mapping[int, float],
) -> dict[int, tuple[tuple[float, float], bool]]:
    """For every observable the interval, checked on all branches: ``(interval, re-found)``.

    An endpoint where the profiled χ² on another branch is below χ²_min + level (the interval
    solver followed a branch that is not the lowest there) is found again by a bracketed root
    search of :func:`branch_profile`."""
    from scipy.optimize import brentq

    out: dict[int, tuple[tuple[float, float], bool]] = {}
    for c in observables:
        target = minimum.chi2 + levels[c]
        ends = list(intervals[c])
        refound = False
        for side, end in enumerate(ends):
            if not np.isfinite(end):
                continue
            m = branch_profile(model, minimum, sigma, c, end)
            if not m.converged or m.chi2 >= target - 1e-6 * max(1.0, levels[c]):
                continue
            refound = True
            direction = 1.0 if side else -1.0

            def excess(x: float) -> float:
                p = branch_profile(model, minimum, sigma, c, x)
                return p.chi2 - target if p.converged else math.nan

            inside, step = end, sigma[c]
            outside = math.nan
            for _ in range(int(_REACH)):
                trial = inside + direction * step
                e = excess(trial)
                if not np.isfinite(e):
                    break
                if e > 0:
                    outside = trial
                    break
                inside = trial
            if np.isfinite(outside):
                lo, hi = sorted((inside, outside))
                ends[side] = float(brentq(excess, lo, hi, xtol=1e-9 * max(1.0, sigma[c])))
            else:
                ends[side] = math.nan
            log.info(
                "profile endpoint of parameter %d re-found on another branch: %s", c, ends[side]
            )
        out[c] = ((float(ends[0]), float(ends[1])), refound)
    return out


def __dir__() -> list[str]:
    return list(__all__)
