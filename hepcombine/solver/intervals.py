"""Profile-likelihood intervals (Δχ² = 1) without blind iteration (method.md §2b).

The endpoint of the 68 % interval of x_c is the point θ that extremises x_c on the surface
χ² = χ²_min + 1; it solves ∂χ²/∂θ_j = 0 for every j ≠ c together with χ²(θ) = χ²_min + 1
(Venzon & Moolgavkar, Appl. Statist. 37 (1988) 87). Newton's method on that system is run for
all 2N endpoints at once, each started from the quadratic prediction θ̂ ± V e_c/√V_cc (exact for
a quadratic χ²), with the Hessian H₀ at the minimum as the Jacobian of every step (chord
method): one factorisation serves all endpoints, and each step costs one batched evaluation of
χ² and its gradient plus one solve with many right-hand sides.

Every endpoint is verified: one more (chord-)Newton step of the minimisation with x_c fixed at
the endpoint must not move anything by more than 1e-6 σ and the χ² there must be
χ²_min + 1 within 1e-6. With kinked sources the profiled χ² is the minimum over both sides of
every kink, not one local branch: each endpoint is also re-minimised from its mirror image
across every kink, and a lower value sends it to the fallback. An endpoint that does not
converge or fails verification is found instead by a safeguarded one-dimensional root search
of the profiled χ² (each point a warm-started Newton minimisation over all other parameters,
on both sides of every kink); that is logged and reported (``"profile scan"``), never silent.
An endpoint that cannot be found at all is reported with the reason.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..chi2 import CombinedChi2
from ..exceptions import FitError
from . import _linalg as la
from .newton import KinkGroups, Minimum, global_minimise

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

#: an endpoint is accepted when Δχ² = 1 holds to this precision …
CHI2_TOLERANCE = 1e-6
#: … and a Newton step of the minimisation with x_c fixed moves nothing by more than this (σ)
STEP_TOLERANCE = 1e-6
#: the chord iteration stops when no parameter moves by more than this (σ)
CHORD_GOAL = 1e-10
CHORD_ITERATIONS = 40
#: how far (in σ of the value) the root search looks for Δχ² = 1
MAX_REACH = 50.0


@dataclass(frozen=True)
class Endpoint:
    """One end of a profile interval."""

    value: float
    method: str  # "chord" or "scan"
    ok: bool
    reason: str = ""


def profile_intervals(
    model: CombinedChi2,
    minimum: Minimum,
    kinks: KinkGroups,
    covariance: Array,
    hessian: Array,
    observables: Sequence[int],
) -> tuple[dict[int, tuple[Endpoint, Endpoint]], int]:
    """Both endpoints of the profile interval of every parameter in ``observables``.

    ``covariance`` = 2 H⁻¹ and ``hessian`` = H at the minimum. Returns the endpoints per
    parameter index and the number of chord iterations used.
    """
    if not observables:
        return {}, 0
    theta0 = minimum.theta
    target = minimum.chi2 + 1.0
    sigma_all = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    sigma = np.where(sigma_all > 0, sigma_all, 1.0)
    obs = np.asarray(observables, dtype=np.intp)
    n_obs = len(obs)
    cols = np.concatenate([obs, obs])  # the parameter of each endpoint
    side = np.concatenate([-np.ones(n_obs), np.ones(n_obs)])
    factor = la.try_factor(hessian)
    results: dict[int, list[Endpoint | None]] = {int(c): [None, None] for c in obs}
    pending: list[tuple[int, int, float, Array | None]] = []  # (param, side index, guess, θ)
    iterations = 0
    if factor is not None:
        W = covariance[:, cols] * 0.5  # H⁻¹ e_c for each endpoint
        w_cc = W[cols, np.arange(len(cols))]
        thetas = theta0[:, None] + side * covariance[:, cols] / np.sqrt(covariance[cols, cols])
        thetas, converged, iterations = _chord(
            model, factor, thetas, cols, side, W, w_cc, target, sigma
        )
        ok, reasons = _verify(
            model, factor, kinks, thetas, cols, side, W, w_cc, target, sigma, theta0
        )
        for k in range(len(cols)):
            c, s = int(cols[k]), int(side[k] > 0)
            if converged[k] and ok[k]:
                results[c][s] = Endpoint(float(thetas[c, k]), "chord", True)
            else:
                why = reasons[k] if converged[k] else "the Newton iteration did not converge"
                pending.append((c, s, float(thetas[c, k]), thetas[:, k].copy()))
                log.info(
                    "profile endpoint (parameter %d, %s side): %s; using the root search",
                    c,
                    "upper" if s else "lower",
                    why,
                )
    else:
        for c in obs:
            for s in (0, 1):
                pending.append((int(c), s, math.nan, None))
    for c, s, guess, theta_guess in pending:
        results[c][s] = _root_search(
            model, kinks, minimum, covariance, sigma, c, 1.0 if s else -1.0, guess, theta_guess
        )
    out = {}
    for c, (lo, hi) in results.items():
        assert lo is not None and hi is not None
        out[c] = (lo, hi)
    return out, iterations


def _chord(
    model: CombinedChi2,
    factor: la.Factor,
    thetas: Array,
    cols: NDArray[np.intp],
    side: Array,
    W: Array,
    w_cc: Array,
    target: float,
    sigma: Array,
) -> tuple[Array, NDArray[np.bool_], int]:
    """Chord-Newton iterations of the Venzon–Moolgavkar system for all endpoints at once."""
    K = thetas.shape[1]
    active = np.ones(K, dtype=bool)
    converged = np.zeros(K, dtype=bool)
    last = np.full(K, np.inf)
    it = 0
    for it in range(1, CHORD_ITERATIONS + 1):
        a = np.flatnonzero(active)
        f, G = model.values_and_gradients(thetas[:, a])
        assert G is not None
        Z = la.solve(factor, G)
        ca = cols[a]
        mu = Z[ca, np.arange(len(a))] / w_cc[a]
        inner = -Z + mu * W[:, a]
        m0 = f + 0.5 * np.einsum("ik,ik->k", G, inner)
        disc = mu * mu + 2.0 * (target - m0) / w_cc[a]
        t = -mu + side[a] * np.sqrt(np.clip(disc, 0.0, None))
        step = inner + t * W[:, a]
        bad = ~np.isfinite(step).all(axis=0)
        size = np.max(np.abs(step) / sigma[:, None], axis=0)
        step[:, bad] = 0.0
        thetas[:, a] += step
        done = (size < CHORD_GOAL) & ~bad
        # the chord converges linearly when H₀ describes the χ² between the minimum and the
        # endpoint; where it does not (strongly non-quadratic χ²) it is stopped early and the
        # root search takes over
        growing = (it > 1) & (size > 0.5 * last[a]) & (size > 1e-6)
        diverging = bad | (size > 3.0) | growing & ((it > 6) | (size > last[a]))
        converged[a[done]] = True
        active[a[done | diverging]] = False
        last[a] = size
        if not active.any():
            break
    return thetas, converged, it


def _verify(
    model: CombinedChi2,
    factor: la.Factor,
    kinks: KinkGroups,
    thetas: Array,
    cols: NDArray[np.intp],
    side: Array,
    W: Array,
    w_cc: Array,
    target: float,
    sigma: Array,
    theta0: Array,
) -> tuple[NDArray[np.bool_], list[str]]:
    """Check each endpoint: on its side of the minimum, Δχ² = 1, a conditional Newton step
    that moves nothing, and no lower branch across any kink."""
    K = thetas.shape[1]
    idx = np.arange(K)
    f, G = model.values_and_gradients(thetas)
    assert G is not None
    Z = la.solve(factor, G)
    mu = Z[cols, idx] / w_cc
    inner = -Z + mu * W
    move = np.max(np.abs(inner) / sigma[:, None], axis=0)
    ok = np.ones(K, dtype=bool)
    reasons = [""] * K
    for k in range(K):
        if not side[k] * (thetas[cols[k], k] - theta0[cols[k]]) > 0:
            ok[k] = False
            reasons[k] = "the endpoint is on the wrong side of the minimum"
        elif not abs(f[k] - target) < CHI2_TOLERANCE:
            ok[k] = False
            reasons[k] = f"Δχ² − 1 = {f[k] - target:.3g} at the endpoint"
        elif not move[k] < STEP_TOLERANCE:
            ok[k] = False
            reasons[k] = f"the minimisation with the value fixed still moves by {move[k]:.3g} σ"
    if len(kinks):
        # every endpoint re-minimised (chord, value fixed) from its mirror image across each kink
        h = kinks.h(thetas)
        starts, owner = [], []
        for k in np.flatnonzero(ok):
            for grp in range(len(kinks)):
                if h[grp, k] != 0.0:
                    starts.append(thetas[:, k] - 2.0 * h[grp, k] * kinks.normals[grp])
                    owner.append(k)
        if starts:
            S = np.array(starts).T
            own = np.array(owner)
            fs = _conditional_chord(model, factor, S, cols[own], W[:, own], w_cc[own], sigma)
            for j, k in enumerate(own):
                if fs[j] < target - CHI2_TOLERANCE and ok[k]:
                    ok[k] = False
                    reasons[k] = (
                        "the profiled χ² is lower on the other side of a kink "
                        f"(Δχ² − 1 = {fs[j] - target:.3g})"
                    )
    return ok, reasons


def _conditional_chord(
    model: CombinedChi2,
    factor: la.Factor,
    thetas: Array,
    cols: NDArray[np.intp],
    W: Array,
    w_cc: Array,
    sigma: Array,
) -> Array:
    """Chord-Newton minimisation with each column's parameter ``cols[k]`` fixed; returns the
    χ² reached (a non-converged point returns its lowest χ² seen)."""
    K = thetas.shape[1]
    idx = np.arange(K)
    best = np.full(K, np.inf)
    for _ in range(CHORD_ITERATIONS):
        f, G = model.values_and_gradients(thetas)
        assert G is not None
        best = np.minimum(best, np.where(np.isfinite(f), f, np.inf))
        Z = la.solve(factor, G)
        mu = Z[cols, idx] / w_cc
        step = -Z + mu * W
        if not np.all(np.isfinite(step)):
            step = np.where(np.isfinite(step), step, 0.0)
        thetas = thetas + step
        if np.max(np.abs(step) / sigma[:, None]) < CHORD_GOAL:
            break
    f = model.values_and_gradients(thetas, gradient=False)[0]
    return np.minimum(best, np.where(np.isfinite(f), f, np.inf))


def _safe_minimise(
    model: CombinedChi2,
    start: Array,
    kinks: KinkGroups,
    sigma: Array,
    fixed: dict[int, float],
    held: dict[int, float],
) -> Minimum:
    """:func:`global_minimise` that reports a failure as a non-converged minimum."""
    try:
        return global_minimise(model, start, kinks, sigma, fixed=fixed, held=held)
    except FitError as exc:
        return Minimum(start, math.inf, math.inf, 0, False, str(exc))


def _root_search(
    model: CombinedChi2,
    kinks: KinkGroups,
    minimum: Minimum,
    covariance: Array,
    sigma: Array,
    c: int,
    side: float,
    guess: float,
    theta_guess: Array | None,
) -> Endpoint:
    """The Δχ² = 1 crossing of the profiled χ² of parameter c on one side of the minimum: a
    bracketed Newton iteration on P(v) − χ²_min − 1, with P'(v) = ∂χ²/∂θ_c at the conditional
    minimum (envelope theorem), each P(v) a global Newton minimisation with θ_c = v."""
    theta0 = minimum.theta
    target = minimum.chi2 + 1.0
    v0 = float(theta0[c])
    sc = float(sigma[c])
    n_p = model.n_params
    path = covariance[:, c] / covariance[c, c]  # linear prediction of the profile path
    cache: list[tuple[float, Minimum]] = [(v0, minimum)]

    def profile(v: float) -> Minimum:
        near = min(cache, key=lambda e: abs(e[0] - v))
        start = near[1].theta + (v - near[0]) * path
        held = dict(near[1].held.items())
        m = _safe_minimise(model, start, kinks, sigma[:n_p], {c: v}, held)
        if not m.converged:
            m2 = _safe_minimise(model, theta0 + (v - v0) * path, kinks, sigma[:n_p], {c: v}, {})
            if m2.converged or m2.chi2 < m.chi2:
                m = m2
        cache.append((v, m))
        return m

    def fail(reason: str) -> Endpoint:
        log.warning("profile endpoint of parameter %d (%+d side): %s", c, int(side), reason)
        return Endpoint(math.nan, "scan", False, reason)

    # bracket [inner, outer] with P(inner) < target <= P(outer)
    inner, f_inner = v0, minimum.chi2
    sane = np.isfinite(guess) and 0.2 * sc < side * (guess - v0) < 5.0 * sc
    outer = guess if sane else v0 + side * sc
    if sane and theta_guess is not None and np.all(np.isfinite(theta_guess)):
        cache.append((outer, Minimum(theta_guess, math.inf, math.inf, 0, False)))
    m_out = profile(outer)
    while not m_out.chi2 >= target:
        if not m_out.converged:
            return fail(f"the minimisation at {outer:.6g} did not converge ({m_out.message})")
        if abs(outer - v0) >= MAX_REACH * sc:
            return fail(f"Δχ² = 1 is not reached within {MAX_REACH:g} σ of the minimum")
        inner, f_inner = outer, m_out.chi2
        # where a parabola through the minimum and this point reaches Δχ² = 1, at most twice
        # as far out as this point
        dist = abs(inner - v0)
        rise = max(f_inner - minimum.chi2, 1e-12)
        predicted = dist / math.sqrt(rise)
        dist = min(max(predicted * 1.05, 1.1 * dist), 2.0 * dist, MAX_REACH * sc)
        outer = v0 + side * dist
        m_out = profile(outer)
    f_outer = m_out.chi2
    # safeguarded Newton (derivative from the multiplier) with bisection
    v, m = outer, m_out
    for _ in range(100):
        fv = m.chi2 - target
        if abs(fv) < 1e-9 and m.converged:
            break
        slope = -m.multipliers.get(c, math.nan)
        new = v - fv / slope if np.isfinite(slope) and slope != 0 else math.nan
        lo, hi = sorted((inner, outer))
        if not (np.isfinite(new) and lo < new < hi):
            # secant, then bisection
            new = inner + (target - f_inner) * (outer - inner) / (f_outer - f_inner)
            if not lo < new < hi:
                new = 0.5 * (inner + outer)
        if abs(new - v) < 1e-10 * sc and abs(fv) < CHI2_TOLERANCE:
            break
        v = new
        m = profile(v)
        if m.chi2 >= target:
            outer, f_outer = v, m.chi2
        else:
            inner, f_inner = v, m.chi2
        if abs(outer - inner) < 1e-12 * sc:
            break
    if not m.converged:
        return fail(f"the minimisation at the endpoint did not converge ({m.message})")
    if not abs(m.chi2 - target) < CHI2_TOLERANCE:
        return fail(f"Δχ² − 1 = {m.chi2 - target:.3g} at the best endpoint found")
    return Endpoint(float(v), "scan", True)
