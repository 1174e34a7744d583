"""The lowest minimum of a χ² with errors-on-errors terms, and profiles that stay on it.

A gamma-variance term g(Q) flattens for large Q, so the χ² can have a second minimum where an
outlier has pulled the sources of a term far out (the term's "far branch") besides the one
near the Gaussian solution, where Newton's method from the quadratic start ends. This module
finds the other branches: for each term it finds where the data alone would put the term's
sources (the quadratic approximation with that term's prior removed, :func:`candidates`); a term
whose sources stay inside the region where it is convex has no far branch (a proof for a linear
χ², see :func:`candidates`); from the others Newton's method restarts on the true χ², the lowest
minimum wins, and the search is repeated from it until nothing lower turns up.

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

__all__ = [
    "SCREEN",
    "Quadratic",
    "branch_profile",
    "candidates",
    "lowest_minimum",
    "verify_intervals",
]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

#: a term whose sources the data pull (in the quadratic approximation, its own prior removed)
#: to Q ≥ SCREEN / (2ε²) may have a far branch and is searched; below, where the term is still
#: convex, it cannot (see :func:`candidates`)
SCREEN = 0.8
#: a minimum lower by more than this is another branch
_LOWER = 1e-7
#: how far (in σ of the value) a re-found endpoint is searched for
_REACH = 30.0


class Quadratic:
    """The quadratic approximation of a χ² (all terms Gaussian, Neyman, symmetrised): its
    minimum ``theta`` and ½-Hessian ``h``."""

    def __init__(self, model: CombinedChi2) -> None:
        lin = model.linearised()
        start = lin.start()
        self.h = 0.5 * lin.hessian(start)  # ½ ∂²χ²
        self.theta = start - np.linalg.lstsq(self.h, lin.grad(start), rcond=None)[0] / 2.0
        self.theta = self.theta - np.linalg.lstsq(self.h, lin.grad(self.theta), rcond=None)[0] / 2.0


def candidates(
    model: CombinedChi2, quad: Quadratic, fixed: Mapping[int, float] | None = None
) -> list[tuple[int, Array]]:
    """The terms that may have a far branch, each with a start on it.

    For term k, remove its prior from the quadratic approximation and find where the data put
    its directions z (the other sources Gaussian, ``fixed`` parameters held): m_k. Every
    stationary point of data + g_k(Q) has ‖z‖ ≤ ‖m_k‖ (it solves z = (A + g′)⁻¹A m_k with
    g′ > 0), and g_k is convex for Q < 1/(2ε²); so with ‖m_k‖² below that (times SCREEN, a
    margin for the approximation) the term has one branch only. Otherwise the point found,
    the data's own choice for the term, starts the search of its far branch."""
    n_p = model.n_params
    npar = model.npar
    fixed = dict(fixed or {})
    free = np.array([i for i in range(npar) if i not in fixed], dtype=np.intp)
    out = []
    for k, term in enumerate(model.constraints):
        P = np.zeros((npar, npar))
        P[n_p:, n_p:] = term.basis @ term.basis.T
        A = quad.h - P
        delta = np.zeros(npar)
        for i, v in fixed.items():
            delta[i] = v - quad.theta[i]
        rhs = (P @ quad.theta)[free] - (A @ delta)[free]
        delta[free] = np.linalg.lstsq(A[np.ix_(free, free)], rhs, rcond=None)[0]
        theta = quad.theta + delta
        z = term.basis.T @ theta[n_p:]
        if float(z @ z) * 2.0 * term.eps * term.eps >= SCREEN:
            out.append((k, theta))
    return out


def lowest_minimum(
    model: CombinedChi2,
    start: Minimum,
    sigma: Array,
    fixed: Mapping[int, float] | None = None,
    quad: Quadratic | None = None,
) -> Minimum:
    """The lowest of the minima of ``model`` reachable from ``start`` (a minimum) through the
    far branches of its errors-on-errors terms (module docstring); ``fixed`` parameters stay."""
    if not model.constraints:
        return start
    quad = Quadratic(model) if quad is None else quad
    todo = candidates(model, quad, fixed)
    best = start
    kinks = KinkGroups.of(model)
    improved = True
    while improved and todo:
        improved = False
        for j, (k, theta) in enumerate(todo):
            s = theta.copy()
            for i, v in (fixed or {}).items():
                s[i] = v
            other = global_minimise(model, s, kinks, sigma, fixed=fixed)
            if other.converged and other.chi2 < best.chi2 - _LOWER * max(1.0, abs(best.chi2)):
                log.debug("errors on errors: a lower minimum on the far branch of term %d", k)
                best = other
                improved = True
                del todo[j]
                break
    return best


def branch_profile(
    model: CombinedChi2,
    near: Minimum,
    sigma: Array,
    index: int,
    value: float,
    quad: Quadratic | None = None,
) -> Minimum:
    """The profiled χ² at θ_index = ``value``, minimised over every branch, from ``near``."""
    theta = near.theta.copy()
    theta[index] = value
    kinks = KinkGroups.of(model)
    local = global_minimise(model, theta, kinks, sigma, fixed={index: value})
    return lowest_minimum(model, local, sigma, fixed={index: value}, quad=quad)


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

    quad = Quadratic(model)
    out: dict[int, tuple[tuple[float, float], bool]] = {}
    for c in observables:
        target = minimum.chi2 + levels[c]
        ends = list(intervals[c])
        refound = False
        for side, end in enumerate(ends):
            if not np.isfinite(end):
                continue
            # the interval solver's branch has χ² = target here; is a far branch lower?
            kinks = KinkGroups.of(model)
            lower = False
            for _, start in candidates(model, quad, {c: end}):
                start = start.copy()
                start[c] = end
                far = global_minimise(model, start, kinks, sigma, fixed={c: end})
                if far.converged and far.chi2 < target - 1e-6 * max(1.0, levels[c]):
                    lower = True
                    break
            if not lower:
                continue
            refound = True
            direction = 1.0 if side else -1.0

            def excess(x: float, c: int = c, target: float = target) -> float:
                p = branch_profile(model, minimum, sigma, c, x, quad)
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
