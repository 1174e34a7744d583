"""Minimum and profile intervals of a :class:`~hepcombine.chi2.CombinedChi2` (method.md §2b).

* Quadratic χ² (Neyman, absolute, symmetric): one linear solve is the exact minimum; the
  covariance is 2 H⁻¹ and the profile intervals are value ± error exactly. Nothing iterates.
* Otherwise (default, ``minimiser="newton"``): Newton's method with the analytic Hessian and an
  active set for Convino's kinks (:mod:`.newton`), from the quadratic solution, then
  Venzon–Moolgavkar profile intervals for all values at once, every endpoint verified, with a
  root search of the profiled χ² as the reported fallback (:mod:`.intervals`).
* ``minimiser="minuit"``: iminuit's Migrad and Minos (:mod:`.minuit`), as the original program,
  for comparison.

Nothing is silently replaced: a minimisation that does not converge raises
:class:`~hepcombine.FitError`; an interval that cannot be verified is reported with its reason.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ..chi2 import CombinedChi2
from ..exceptions import FitError
from ._linalg import Factor, blas_threads, factor_or_raise, inverse, solve
from .intervals import Endpoint, _root_search, branches_at
from .intervals import profile_intervals as _vm_intervals
from .minuit import make_minuit, migrad, minos
from .newton import EDM_GOAL, KinkGroups, Minimum, global_minimise

__all__ = [
    "EDM_GOAL",
    "Solution",
    "blas_threads",
    "make_minuit",
    "minimise",
    "profile_intervals",
]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]
Minimiser = Literal["newton", "minuit"]

#: the linear solve of a quadratic χ² must reach this EDM (½ gᵀH⁻¹g)
LINEAR_EDM_GOAL = 2e-9


@dataclass(frozen=True)
class Solution:
    """The minimum of a χ².

    ``covariance`` is 2 H⁻¹ at the minimum (Δχ² = 1 errors); ``method`` says how it was
    found; ``notes`` say what a user should know (e.g. sources sitting on their kink).
    """

    theta: Array
    covariance: Array
    chi2: float
    method: str
    minuit: Any | None
    edm: float
    iterations: int = 0
    #: kink groups held on their kink at the minimum: (global source indices, side whose
    #: curvature the covariance uses: +1 δ > 0, −1 δ < 0, 0 the mean)
    on_kinks: tuple[tuple[tuple[int, ...], float], ...] = ()
    hessian: Array | None = field(default=None, repr=False)
    minimum: Minimum | None = field(default=None, repr=False)
    kinks: KinkGroups | None = field(default=None, repr=False)
    #: the search for other branches and local minima made at this minimum (kinked χ²)
    branches: Any | None = field(default=None, repr=False)


def _quadratic_start(model: CombinedChi2, names: Sequence[str]) -> tuple[Array, Array, Factor]:
    quad = model.linearised()
    start = quad.start()
    h = quad.hessian(start)  # constant: the quadratic χ² has one Hessian
    f = factor_or_raise(h, names)
    theta = start - solve(f, quad.grad(start))
    # one refinement step with the same factor guards against round-off
    theta = theta - solve(f, quad.grad(theta))
    return theta, h, f


#: a linear solve whose EDM is below this is not refined: a refinement step would move no
#: parameter by more than 1e-12 of its error (|Δθ_i| ≤ √EDM · σ_i for the step H⁻¹g)
_REFINE_EDM = 1e-24


def _linear_solve(model: CombinedChi2, names: Sequence[str]) -> Solution:
    """The exact minimum of a quadratic χ²: one solve with its (constant) Hessian, refined by a
    second step only when the first leaves an EDM that round-off could matter in."""
    start = model.start()
    h = model.hessian(start)  # evaluates χ² and its gradient at ``start`` too (cached)
    f = factor_or_raise(h, names)
    theta = start - solve(f, model.grad(start))
    chi2, g, _ = model.evaluate(theta, 1)
    assert g is not None
    step = solve(f, g)
    edm = 0.5 * float(g @ step)
    if not edm < _REFINE_EDM:
        theta = theta - step
        chi2, g, _ = model.evaluate(theta, 1)
        assert g is not None
        edm = 0.5 * float(g @ solve(f, g))
    if not edm < LINEAR_EDM_GOAL:
        raise FitError(
            f"the linear solution of the quadratic χ² is numerically unreliable (EDM {edm:.3g} "
            f"> {LINEAR_EDM_GOAL:g}); the inputs are badly conditioned"
        )
    cov = 2.0 * inverse(f)
    return Solution(theta, cov, chi2, "linear solve", None, edm, 0, (), h)


def minimise(
    model: CombinedChi2,
    names: Sequence[str],
    *,
    minimiser: Minimiser = "newton",
    start: Array | None = None,
) -> Solution:
    """Find the minimum of ``model``; see the module docstring. ``start``: where Newton's
    method starts instead of the quadratic solution (a non-quadratic χ² only)."""
    if model.is_quadratic:
        return _linear_solve(model, names)
    theta0, h0, _ = _quadratic_start(model, names)
    if start is not None:
        theta0 = np.asarray(start, dtype=float)
    if minimiser == "minuit":
        m = migrad(model, theta0, names)
        theta = np.array(m.values)
        cov = 2.0 * inverse(factor_or_raise(model.hessian(theta), names))
        return Solution(theta, cov, float(m.fval), "iminuit migrad", m, float(m.fmin.edm))
    if minimiser != "newton":
        raise ValueError(f"unknown minimiser {minimiser!r}")
    kinks = KinkGroups.of(model)
    # a scale per parameter for the step criterion and the scaled Newton steps: 1/√(½H_ii)
    # (at most the error of the quadratic approximation; no inverse needed)
    sigma = 1.0 / np.sqrt(np.clip(0.5 * np.diag(h0), 1e-300, None))
    best = global_minimise(model, theta0, kinks, sigma)
    sol = _newton_solution(model, names, kinks, best)
    return _lowest_minimum(model, names, kinks, sol, sigma) if len(kinks) else sol


#: at most this many restarts from a lower local minimum found by the branch search
MINIMUM_RESTARTS = 5


def _lowest_minimum(
    model: CombinedChi2, names: Sequence[str], kinks: KinkGroups, sol: Solution, sigma: Array
) -> Solution:
    """The minimum mirrored across single kinks (:func:`global_minimise`) need not be the
    global one of a kinked χ²: the search for other local minima below χ²_min + 1 that the
    profile intervals make anyway (pairs and triples of kinks, :func:`.intervals.branches_at`)
    runs here first; a lower minimum restarts the minimisation from it. The search is kept in
    the solution for the intervals."""
    branches = None
    for _ in range(MINIMUM_RESTARTS + 1):
        assert sol.minimum is not None
        branches = branches_at(model, kinks, sol.minimum, sol.covariance)
        tol = 1e-10 * max(1.0, abs(sol.chi2))
        lower = [m for m in branches.minima if m.chi2 < sol.chi2 - tol]
        if not lower:
            break
        start = min(lower, key=lambda m: m.chi2)
        log.info(
            "a lower local minimum across several kinks: χ² %.10g < %.10g", start.chi2, sol.chi2
        )
        best = global_minimise(model, start.theta, kinks, sigma, held=start.held)
        if not (best.converged and best.chi2 < sol.chi2 - tol):
            break
        sol = _newton_solution(model, names, kinks, best)
        branches = None
    if branches is None or branches.minimum is not sol.minimum:
        return sol
    return replace(sol, branches=branches)


def _newton_solution(
    model: CombinedChi2,
    names: Sequence[str],
    kinks: KinkGroups,
    best: Minimum,
    covariance: tuple[Array, Array] | None = None,
) -> Solution:
    """The :class:`Solution` of the minimum Newton's method found (:class:`FitError` if it
    did not converge); ``covariance``: (Hessian, covariance) at ``best.theta``, if already
    computed (:mod:`hepcombine.toys.batched`; not for a minimum on a kink)."""
    if not best.converged:
        raise FitError(f"the minimisation did not converge: {best.message}")
    # curvature at a kink: the side the minimum was reached from (mean slope if unknown)
    sides = None
    on_kinks: list[tuple[tuple[int, ...], float]] = []
    if best.held:
        forced = {grp: v for grp, v in best.held.items() if v != 0}
        sides = kinks.sides([grp for grp, v in best.held.items() if v == 0], forced)
        for grp, side in best.held.items():
            for src, sign in zip(kinks.members[grp], kinks.signs[grp], strict=True):
                on_kinks.append(((int(src),), float(side * sign)))
    if covariance is not None and not best.held:
        hess, cov = covariance
    else:
        at_minimum = model.evaluate(best.theta, 2, sides)[2]
        assert at_minimum is not None
        hess = at_minimum
        cov = 2.0 * inverse(factor_or_raise(hess, names))
    return Solution(
        best.theta,
        cov,
        best.chi2,
        "newton",
        None,
        best.edm,
        best.iterations,
        tuple(on_kinks),
        hess,
        best,
        kinks,
    )


def _status(lo: Endpoint, hi: Endpoint, prefix: str = "") -> str:
    if lo.ok and hi.ok:
        if lo.method in ("chord", "path") and hi.method in ("chord", "path"):
            return "profile"
        return "profile scan" + (f" ({prefix})" if prefix else "")
    why = "; ".join(f"{what}: {e.reason}" for what, e in (("lower", lo), ("upper", hi)) if not e.ok)
    return f"failed: {why}"


def profile_intervals(
    solution: Solution, model: CombinedChi2, names: Sequence[str], observables: Sequence[str]
) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    """68 % profile intervals of ``observables`` (names of θ entries) and their status:
    ``"exact"``, ``"profile"``, ``"profile scan"`` (root-search fallback), ``"minos"``, or
    ``"failed: <reason>"`` (then the failed endpoint is NaN)."""
    theta, cov = solution.theta, solution.covariance
    if solution.method == "linear solve":
        k = len(observables)
        at: slice | NDArray[np.intp] = slice(0, k)  # the combined values come first in θ
        if list(names[:k]) != list(observables):
            position = {n: i for i, n in enumerate(names)}
            at = np.array([position[o] for o in observables], dtype=np.intp)
        v, e = theta[at], np.sqrt(np.diagonal(cov)[at])
        exact = zip((v - e).tolist(), (v + e).tolist(), strict=True)
        return dict(zip(observables, exact, strict=True)), dict.fromkeys(observables, "exact")
    index = {n: i for i, n in enumerate(names)}
    intervals: dict[str, tuple[float, float]] = {}
    status: dict[str, str] = {}
    sigma = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    if solution.minuit is not None:
        m = solution.minuit
        kinks = KinkGroups.of(model)
        minimum = Minimum(theta, solution.chi2, solution.edm, 0, True)
        for o in observables:
            lo, hi, why = minos(m, o)
            if not why:
                intervals[o], status[o] = (lo, hi), "minos"
                continue
            ends = []
            for value, side in ((lo, -1.0), (hi, 1.0)):
                if np.isfinite(value):
                    ends.append(Endpoint(value, "chord", True))
                else:
                    ends.append(
                        _root_search(
                            model, kinks, minimum, cov, sigma, index[o], side, math.nan, None
                        )
                    )
            intervals[o] = (ends[0].value, ends[1].value)
            status[o] = _status(ends[0], ends[1], why)
            log.warning("profile interval of %s: %s", o, status[o])
        return intervals, status
    assert solution.minimum is not None and solution.kinks is not None
    assert solution.hessian is not None
    idx = [index[o] for o in observables]
    found, _ = _vm_intervals(
        model, solution.minimum, solution.kinks, cov, solution.hessian, idx, solution.branches
    )
    for o, i in zip(observables, idx, strict=True):
        low_end, high_end = found[i]
        intervals[o] = (low_end.value, high_end.value)
        status[o] = _status(low_end, high_end)
        if status[o].startswith("failed"):
            log.warning("profile interval of %s: %s", o, status[o])
        elif status[o] != "profile":
            log.info("profile interval of %s found by the root search of the profiled χ²", o)
    return intervals, status


def __dir__() -> list[str]:
    return list(__all__)
