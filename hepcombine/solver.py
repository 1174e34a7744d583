"""Minimisation of a :class:`~hepcombine.chi2.CombinedChi2`.

* Quadratic χ² (Neyman, absolute, symmetric): one Newton step from any point is the exact
  minimum; the covariance is 2 H⁻¹ and profile intervals are value ± error exactly. No
  iterative minimiser runs; the iminuit object handed to users starts on that minimum.
* Otherwise: iminuit's Migrad with the analytic gradient and Hessian, started on the minimum
  of the quadratic approximation, then profile-likelihood (Minos) intervals.

Nothing is silently replaced: a Migrad that does not converge raises :class:`FitError`; a
Minos interval that fails is reported per observable.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .chi2 import CombinedChi2
from .exceptions import FitError, IntervalError

__all__ = ["TOLERANCE", "Solution", "make_minuit", "minimise", "profile_intervals"]

#: iminuit tolerance used for Migrad and Minos (EDM goal 0.002 · tol)
TOLERANCE = 1e-6
#: the corresponding goal on the estimated distance to the minimum
EDM_GOAL = 0.002 * TOLERANCE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Solution:
    theta: NDArray[np.float64]
    covariance: NDArray[np.float64]
    chi2: float
    method: str
    minuit: object | None
    edm: float


def _null_direction(h: NDArray[np.float64], names: Sequence[str]) -> str:
    w, v = np.linalg.eigh(h)
    vec = v[:, 0]
    involved = [names[i] for i in np.argsort(-np.abs(vec))[:5] if abs(vec[i]) > 0.1]
    return f"smallest curvature {w[0]:.3g} along {involved}"


def _factor_or_raise(h: NDArray[np.float64], names: Sequence[str]):
    from scipy.linalg import LinAlgError, cho_factor

    try:
        return cho_factor(h)
    except LinAlgError:
        raise FitError(
            "the χ² has no unique minimum: its Hessian is not positive definite "
            f"({_null_direction(h, names)}); a combined value or source is not constrained by any input"
        ) from None


def _inverse_from_cholesky(cf) -> NDArray[np.float64]:
    """A⁻¹ from the Cholesky factor of A (LAPACK potri)."""
    from scipy.linalg import lapack

    c, lower = cf
    inv, info = lapack.dpotri(c, lower=lower)
    if info != 0:
        raise FitError(f"inverting the χ² Hessian failed (LAPACK potri info={info})")
    # potri fills one triangle only
    inv = np.tril(inv) if lower else np.triu(inv)
    return inv + inv.T - np.diag(np.diag(inv))


def _covariance(
    model: CombinedChi2, theta: NDArray[np.float64], names: Sequence[str]
) -> NDArray[np.float64]:
    """2 H⁻¹ at θ (errordef 1: Δχ² = 1 intervals)."""
    return 2.0 * _inverse_from_cholesky(_factor_or_raise(model.hessian(theta), names))


def make_minuit(model: CombinedChi2, theta: NDArray[np.float64], names: Sequence[str]):
    """An iminuit object for ``model`` with analytic gradient and Hessian, starting at θ."""
    from iminuit import Minuit

    m = Minuit(
        model,
        np.array(theta, dtype=float),
        grad=model.grad,
        hessian=model.hessian,
        name=list(names),
    )
    m.print_level = 0
    return m


def minimise(model: CombinedChi2, names: Sequence[str]) -> Solution:
    """Find the minimum of ``model``; see the module docstring."""
    from scipy.linalg import cho_solve

    quad = model.linearised()
    start = quad.start()
    h = quad.hessian(start)  # constant: the quadratic χ² has one Hessian
    cf = _factor_or_raise(h, names)
    theta0 = start - cho_solve(cf, quad.grad(start))
    if model.is_quadratic:
        # one refinement step with the same factor guards against round-off
        theta = theta0 - cho_solve(cf, model.grad(theta0))
        cov = 2.0 * _inverse_from_cholesky(cf)
        # the same convergence criterion Migrad applies, evaluated analytically: EDM = ½ gᵀH⁻¹g
        g = model.grad(theta)
        edm = 0.25 * float(g @ cov @ g)
        if not edm < EDM_GOAL:
            raise FitError(
                f"the linear solution of the quadratic χ² is numerically unreliable (EDM {edm:.3g} "
                f"> {EDM_GOAL:g}); the inputs are badly conditioned"
            )
        return Solution(theta, cov, model(theta), "linear solve", None, edm)

    m = make_minuit(model, theta0, names)
    m.strategy = 0
    # EDM goal 2e-9: values to ~1e-4 σ (the default, 2e-4, leaves ~1e-2 σ)
    m.tol = TOLERANCE
    m.migrad()
    if not m.valid:
        log.info("Migrad with strategy 0 did not converge; retrying with strategy 1")
        m.strategy = 1
        m.migrad()
    if not m.valid:
        raise FitError(f"the minimisation did not converge:\n{m.fmin}")
    theta = np.array(m.values)
    cov = _covariance(model, theta, names)
    return Solution(theta, cov, float(m.fval), "iminuit migrad", m, float(m.fmin.edm))


def _profile_crossing(
    solution: Solution, model: CombinedChi2, names: Sequence[str], name: str, direction: int
) -> float:
    """The Δχ² = 1 crossing of the profiled χ² of parameter ``name`` on one side of the minimum:
    the other parameters are re-minimised (Migrad, analytic gradient, warm start) at each trial
    value, and the crossing is bracketed and solved with Brent's method."""
    from scipy.optimize import brentq

    index = list(names).index(name)
    x0 = float(solution.theta[index])
    sigma = float(np.sqrt(solution.covariance[index, index]))
    m = make_minuit(model, solution.theta, names)
    m.strategy = 0
    m.tol = TOLERANCE
    m.fixed[index] = True

    free = [i for i in range(len(names)) if i != index]

    def excess(x: float) -> float:
        m.values[index] = x
        m.migrad()
        fval = float(m.fval)
        if not m.valid:
            # Migrad stalls where the profiled minimum sits on the kink of an asymmetric
            # source (Convino's piecewise-linear form: the gradient never vanishes there).
            # Polish with Powell's derivative-free method from Migrad's point.
            from scipy.optimize import minimize

            start = np.array(m.values)

            def at(z: NDArray[np.float64]) -> float:
                t = start.copy()
                t[free] = z
                return model(t)

            res = minimize(
                at,
                start[free],
                method="Powell",
                options={"xtol": 1e-8, "ftol": 1e-12, "maxfev": 200 * len(free) + 2000},
            )
            if not np.isfinite(res.fun):
                raise IntervalError(
                    f"the profile fit at {name} = {x:.6g} did not converge:\n{m.fmin}"
                )
            if res.fun < fval:
                fval = float(res.fun)
                m.values = np.concatenate([res.x[:index], [x], res.x[index:]])
        return fval - solution.chi2 - 1.0

    inner, outer = x0, x0 + direction * sigma
    for _ in range(30):
        if excess(outer) > 0:
            break
        inner, outer = outer, outer + direction * sigma
    else:
        raise IntervalError(f"Δχ² = 1 not reached within 30 σ of the minimum of {name}")
    a, b = sorted((inner, outer))
    return float(brentq(excess, a, b, xtol=1e-6 * sigma, rtol=1e-12))


def profile_intervals(
    solution: Solution, model: CombinedChi2, names: Sequence[str], observables: Sequence[str]
) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    """68 % profile intervals of ``observables`` (indices into θ by name)."""
    intervals: dict[str, tuple[float, float]] = {}
    status: dict[str, str] = {}
    index = {n: i for i, n in enumerate(names)}
    if solution.minuit is None:
        for o in observables:
            i = index[o]
            v, e = solution.theta[i], np.sqrt(solution.covariance[i, i])
            intervals[o] = (float(v - e), float(v + e))
            status[o] = "exact"
        return intervals, status
    m = solution.minuit
    m.hesse()
    for o in observables:
        v = float(solution.theta[index[o]])
        try:
            m.minos(o)
            me = m.merrors[o]
        except RuntimeError as exc:  # iminuit raises when Minos cannot start
            intervals[o] = (float("nan"), float("nan"))
            status[o] = f"Minos failed: {exc}"
            continue
        if me.is_valid:
            intervals[o] = (v + me.lower, v + me.upper)
            status[o] = "minos"
            continue
        problems = [
            what
            for what, flag in (
                ("lower limit not found", not me.lower_valid),
                ("upper limit not found", not me.upper_valid),
                ("parameter limit reached", me.at_lower_limit or me.at_upper_limit),
                ("call limit reached", me.at_lower_max_fcn or me.at_upper_max_fcn),
                ("new minimum found", me.lower_new_min or me.upper_new_min),
            )
            if flag
        ]
        reason = "Minos failed: " + (", ".join(problems) or "invalid")
        try:
            lo = (
                v + me.lower if me.lower_valid else _profile_crossing(solution, model, names, o, -1)
            )
            hi = (
                v + me.upper if me.upper_valid else _profile_crossing(solution, model, names, o, +1)
            )
        except IntervalError as exc:
            intervals[o] = (float("nan"), float("nan"))
            status[o] = f"{reason}; profile scan failed: {exc}"
            log.warning("profile interval of %s: %s", o, status[o])
            continue
        intervals[o] = (float(lo), float(hi))
        status[o] = "profile"
        log.warning(
            "profile interval of %s: %s; the missing limit was found as the Δχ² = 1 crossing of "
            "the profiled χ² instead",
            o,
            reason,
        )
    return intervals, status
