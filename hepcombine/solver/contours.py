"""2-D profile-likelihood contours of a combination (the original program's ``-c``).

:func:`contour` traces the curve where the χ² profiled over every other parameter exceeds its
minimum by Δχ², for any two of the combined values, spectators and sources of a combination;
:meth:`CombinationResult.contour <hepcombine.result.CombinationResult.contour>` is the entry
point. The levels: ``cl`` is the probability content for two parameters,
Δχ² = −2 ln(1 − cl) (68.27 %: 2.30, 95 %: 5.99), or Δχ² is given directly (``delta_chi2=1``:
the curve the original program draws, whose extent along each axis is the 1-D 68 % interval).

Algorithm.

* Quadratic χ² (Neyman, absolute, symmetric; the combination's ``"linear solve"``): the
  profiled χ² of two linear functions of the parameters is exactly quadratic, with the 2 × 2
  block C of their covariance, so the contour is the ellipse ``c + √Δχ² · chol(C) (cos φ,
  sin φ)``, computed for all angles at once.
* Otherwise, rays from the minimum: for each angle φ (uniform in the frame where the quadratic
  approximation's contour is a circle) the radius r where ``q(r) = √(χ²_prof(c + r·u(φ)) −
  χ²_min)`` equals √Δχ² is found by a bracketed, safeguarded Newton iteration in r, started
  from the neighbouring ray's radius: the derivative of the profiled χ² along the ray comes
  from the Lagrange multipliers of the fixed parameters (envelope theorem), a step leaving
  the bracket is a bisection, and an unknown upper end is found by widening by 1.5; q is close
  to linear in r, so two or three minimisations per point suffice. Each profiled χ² is
  :func:`hepcombine.solver.newton.global_minimise` with the two parameters fixed (exact, kinks
  handled), warm-started from the previous evaluation, and each ray from its neighbour (when
  Newton's method does not converge from the warm start, which happens next to a kink, it is
  restarted from the minimum). The contour is assumed star-shaped around the minimum (true
  for every convex χ²).
* A source λ_i = L_i·η is not a parameter of the χ² (the decorrelated η are): the η are
  rotated (an orthogonal Q, so the prior ηᵀη is unchanged) such that the chosen sources
  depend on the first one or two rotated coordinates only, which are then fixed.

Nothing is silently approximated: a profiled χ² that does not converge, or a contour that does
not close within 10⁴ σ of the minimum, raises :class:`~hepcombine.exceptions.FitError`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..chi2 import CombinedChi2
from ..exceptions import FitError, InvalidArgument, UnknownName
from ..names import did_you_mean, some_names
from . import Solution
from ._linalg import blas_threads
from .newton import KinkGroups, global_minimise

__all__ = ["DEFAULT_CL", "Contour", "Profile", "contour", "delta_chi2_for"]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

#: The default probability content of a contour: 68.27 % (1σ for two parameters, Δχ² = 2.30).
DEFAULT_CL = 0.6827
_MAX_STEPS = 60  # per ray: Newton steps, bisections and widenings by 1.5 (1.5**40 ≈ 1e7)
_MAX_RADIUS = 1e4  # in units of the quadratic approximation's radius


def delta_chi2_for(cl: float) -> float:
    """Δχ² of a 2-D contour with probability content ``cl``: −2 ln(1 − cl)."""
    if not (isinstance(cl, int | float) and 0.0 < float(cl) < 1.0):
        raise InvalidArgument(f"cl must be a probability between 0 and 1, not {cl!r}")
    return -2.0 * math.log1p(-float(cl))


@dataclass(frozen=True, eq=False)
class Profile:
    """What contours need from a combination: its χ², the minimum and the names.

    Attributes
    ----------
    model:
        The combined χ² in θ = (combined values, spectators, decorrelated sources η).
    solution:
        Its minimum.
    names:
        The names of the combined values and spectators (the first ``model.n_params`` entries
        of θ).
    sources:
        ``"measurement:source"`` of every source, in the order of the rows of ``model.L``.
    """

    model: CombinedChi2
    solution: Solution
    names: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Contour:
    """A 2-D profile-likelihood contour.

    Attributes
    ----------
    x_name, y_name:
        The two quantities (combined values, spectators or ``"measurement:source"``).
    x, y:
        The points of the contour, counter-clockwise around the minimum in the whitened frame,
        not repeating the first point (see :meth:`closed`). Read-only.
    delta_chi2:
        The level: χ²_prof − χ²_min on the contour.
    cl:
        Its probability content for two parameters, 1 − exp(−Δχ²/2).
    center:
        The values of the two quantities at the minimum.
    chi2_min:
        χ²_min of the combination.
    method:
        ``"exact"`` (the ellipse of a quadratic χ²) or ``"profile"`` (rays, root search of the
        profiled χ²).
    evaluations:
        Number of profiled-χ² minimisations it took (0 for the exact ellipse).
    """

    x_name: str
    y_name: str
    x: Array
    y: Array
    delta_chi2: float
    cl: float
    center: tuple[float, float]
    chi2_min: float
    method: str
    evaluations: int = field(default=0)

    def __post_init__(self) -> None:
        for name in ("x", "y"):
            arr = np.array(getattr(self, name), dtype=float)
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @property
    def n_points(self) -> int:
        return len(self.x)

    def closed(self) -> tuple[Array, Array]:
        """``(x, y)`` with the first point repeated at the end (for drawing a closed line)."""
        return np.append(self.x, self.x[0]), np.append(self.y, self.y[0])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: names, level, centre, χ²_min, method and the points."""
        return {
            "x_name": self.x_name,
            "y_name": self.y_name,
            "delta_chi2": self.delta_chi2,
            "cl": self.cl,
            "center": list(self.center),
            "chi2_min": self.chi2_min,
            "method": self.method,
            "x": self.x.tolist(),
            "y": self.y.tolist(),
        }

    def __repr__(self) -> str:
        return (
            f"Contour({self.x_name!r}, {self.y_name!r}, Δχ² = {self.delta_chi2:.4g} "
            f"({100 * self.cl:.4g} %), {self.n_points} points, {self.method})"
        )


# ---------------------------------------------------------------------- targets
@dataclass(frozen=True)
class _Target:
    name: str
    index: int  # θ index of a combined value/spectator, or the row of L of a source
    source: bool


def _target(profile: Profile, ref: str) -> _Target:
    ref = str(ref)
    if ref in profile.names:
        return _Target(ref, profile.names.index(ref), False)
    if ref in profile.sources:
        return _Target(ref, profile.sources.index(ref), True)
    bare = [i for i, s in enumerate(profile.sources) if s.split(":", 1)[1] == ref]
    if len(bare) == 1:
        return _Target(profile.sources[bare[0]], bare[0], True)
    if len(bare) > 1:
        options = [profile.sources[i] for i in bare]
        raise UnknownName(f"source {ref!r} is ambiguous; write one of {some_names(options)}")
    known = [*profile.names, *profile.sources]
    raise UnknownName(
        f"{ref!r} is neither a combined value nor a source of the combination"
        f"{did_you_mean(ref, known)}; combined values are {some_names(profile.names)}, "
        f"sources {some_names(profile.sources)}"
    )


class _Problem:
    """The χ² in coordinates where the two targets are fixed by fixing θ entries."""

    def __init__(self, profile: Profile, a: _Target, b: _Target) -> None:
        model, sol = profile.model, profile.solution
        n_p = model.n_params
        self.n_p = n_p
        rows = [t.index for t in (a, b) if t.source]
        L = model.L
        rank = L.shape[1]
        Q = np.eye(rank)
        R0 = np.zeros((0, 0))
        if rows:
            A = L[rows]  # (k, rank): λ_rows = A η
            if rank < len(rows):
                raise FitError(
                    f"contour of {a.name}, {b.name}: the two sources are fully correlated (the "
                    "correlation assumptions leave one parameter for them), so their contour is a "
                    "line"
                )
            Q, R = np.linalg.qr(A.T, mode="complete")
            R0 = R[: len(rows), : len(rows)]
            scale = max(float(np.max(np.abs(A))), 1e-300)
            if np.min(np.abs(np.diag(R0))) < 1e-10 * scale:
                raise FitError(
                    f"contour of {a.name}, {b.name}: the two sources are fully correlated "
                    "(or a source is not a parameter of the χ²), so their contour is a line"
                )
            model = model.rotated(Q)
        self.model = model
        self.Q = Q
        self.R0t = R0.T  # λ_rows = R0ᵀ η'[:k]
        # θ' = T θ with T = diag(1, Qᵀ)
        theta = sol.theta
        self.theta_hat = np.concatenate([theta[:n_p], Q.T @ theta[n_p:]])
        cov = sol.covariance
        T = np.eye(len(theta))
        T[n_p:, n_p:] = Q.T
        cov_t = T @ cov @ T.T
        self.sigma = np.sqrt(np.clip(np.diag(cov_t), 0.0, None))
        self.kinks = KinkGroups.of(model)
        # the targets as linear functions g·θ of the original parameters
        G = np.zeros((2, len(theta)))
        for k, t in enumerate((a, b)):
            if t.source:
                G[k, n_p:] = L[t.index]
            else:
                G[k, t.index] = 1.0
        self.center = G @ theta
        self.cov2 = G @ cov @ G.T
        # which θ' entries fix each target
        self.targets = (a, b)
        n_src = 0
        self.fixed_index: list[int] = []
        for t in (a, b):
            if t.source:
                self.fixed_index.append(n_p + n_src)
                n_src += 1
            else:
                self.fixed_index.append(t.index)

    def fixed(self, point: Array) -> dict[int, float]:
        """θ' entries that put the targets at ``point``."""
        values = dict(zip(self.fixed_index, point.tolist(), strict=True))
        src = [k for k, t in enumerate(self.targets) if t.source]
        if src:
            lam = np.array([point[k] for k in src])
            eta = np.linalg.solve(self.R0t, lam)
            for k, e in zip(src, eta, strict=True):
                values[self.fixed_index[k]] = float(e)
        return values


def contour(
    profile: Profile,
    a: str,
    b: str,
    *,
    cl: float | None = DEFAULT_CL,
    delta_chi2: float | None = None,
    n_points: int = 64,
) -> Contour:
    """The profile-likelihood contour of ``a`` and ``b`` (see the module docstring).

    Parameters
    ----------
    profile:
        What the combination carries for it (``result._profile``).
    a, b:
        Combined values, spectators or sources (``"measurement:source"``, or the bare name of
        a source when unique).
    cl:
        Probability content (two parameters): Δχ² = −2 ln(1 − cl). Ignored when
        ``delta_chi2`` is given.
    delta_chi2:
        The level directly (``1.0``: the original program's curve).
    n_points:
        Number of points (angles), at least 8.
    """
    if delta_chi2 is None:
        if cl is None:
            raise InvalidArgument("give cl or delta_chi2")
        delta = delta_chi2_for(cl)
    else:
        delta = float(delta_chi2)
        if not (math.isfinite(delta) and delta > 0):
            raise InvalidArgument(f"delta_chi2 must be positive, not {delta_chi2!r}")
    if not (isinstance(n_points, int) and n_points >= 8):
        raise InvalidArgument(f"n_points must be an integer of at least 8, not {n_points!r}")
    ta, tb = _target(profile, a), _target(profile, b)
    if (ta.name, ta.source) == (tb.name, tb.source):
        raise InvalidArgument(f"a contour needs two different quantities, got {ta.name!r} twice")
    prob = _Problem(profile, ta, tb)
    try:
        chol = np.linalg.cholesky(prob.cov2)
    except np.linalg.LinAlgError:
        raise FitError(
            f"contour of {ta.name}, {tb.name}: their covariance is singular (the two are fully "
            "correlated), so the contour is a line"
        ) from None
    phi = 2.0 * np.pi * np.arange(n_points) / n_points
    circle = np.vstack([np.cos(phi), np.sin(phi)])  # (2, n)
    directions = chol @ circle  # a radius of 1 is the Δχ² = 1 ellipse of the quadratic χ²
    sol = profile.solution
    chi2_min = float(sol.chi2)
    cl_value = -math.expm1(-0.5 * delta)
    if sol.method == "linear solve":
        pts = prob.center[:, None] + math.sqrt(delta) * directions
        return Contour(
            ta.name, tb.name, pts[0], pts[1], delta, cl_value, _pair(prob.center), chi2_min, "exact"
        )
    with blas_threads(prob.model.npar):
        pts, evaluations = _trace(prob, directions, chi2_min, delta, (ta.name, tb.name))
    return Contour(
        ta.name,
        tb.name,
        pts[0],
        pts[1],
        delta,
        cl_value,
        _pair(prob.center),
        chi2_min,
        "profile",
        evaluations,
    )


def _pair(v: Array) -> tuple[float, float]:
    return float(v[0]), float(v[1])


@dataclass
class _State:
    """The warm start of the next profiled minimisation, and how many there were."""

    theta: Array
    held: dict[int, float] = field(default_factory=dict)
    count: int = 0


def _trace(
    prob: _Problem, directions: Array, chi2_min: float, delta: float, names: tuple[str, str]
) -> tuple[Array, int]:
    """The radius of every ray (columns of ``directions``) where the profiled χ² reaches
    χ²_min + Δχ², and the number of profiled minimisations.

    Per ray, a safeguarded Newton iteration on q(r) = √(χ²_prof − χ²_min) − √Δχ² inside a
    bracket [lo, hi] (q(lo) < 0 < q(hi)): the derivative of the profiled χ² along the ray is
    −ν·dθ_fixed/dr with ν the Lagrange multipliers of the fixed parameters at the profiled
    minimum (envelope theorem), so each step costs one minimisation; a step that leaves the
    bracket is replaced by bisection (or, before an upper end is known, a widening by 1.5).
    """
    target = math.sqrt(delta)
    n = directions.shape[1]
    radii = np.empty(n)
    state = _State(prob.theta_hat.copy())
    origin = prob.fixed(prob.center)
    r_guess = target

    def where(point: Array) -> str:
        return f"{names[0]} = {point[0]:.6g}, {names[1]} = {point[1]:.6g}"

    for k in range(n):
        u = directions[:, k]
        slope = {i: v - origin[i] for i, v in prob.fixed(prob.center + u).items()}

        def q(r: float, u: Array = u, slope: dict[int, float] = slope) -> tuple[float, float]:
            """q(r) and dq/dr."""
            point = prob.center + r * u
            fixed = prob.fixed(point)
            # warm start: the previous minimum, with the kinks it sits on held there (Newton's
            # method does not leave a kink it starts on without being told it is held)
            m = global_minimise(
                prob.model, state.theta, prob.kinks, prob.sigma, fixed=fixed, held=state.held
            )
            state.count += 1
            if not m.converged:  # the warm start can still be a poor one: restart
                log.debug("contour: restart from the minimum at %s (%s)", where(point), m.message)
                m = global_minimise(prob.model, prob.theta_hat, prob.kinks, prob.sigma, fixed=fixed)
                state.count += 1
            if not m.converged:
                raise FitError(
                    f"contour of {names[0]}, {names[1]}: the profiled χ² did not converge at "
                    f"{where(point)}: {m.message}"
                )
            state.theta, state.held = m.theta, dict(m.held)
            root = math.sqrt(max(m.chi2 - chi2_min, 0.0))
            d_chi2 = -sum(m.multipliers.get(i, 0.0) * d for i, d in slope.items())
            return root - target, (d_chi2 / (2.0 * root) if root > 0 else math.inf)

        lo, hi = 0.0, math.inf
        r = r_guess
        for _ in range(_MAX_STEPS):
            f, df = q(r)
            if f < 0.0:
                lo = r
            else:
                hi = r
            step = -f / df if df > 0 and math.isfinite(df) else math.nan
            new = r + step
            if abs(f) <= 1e-12 * target or (math.isfinite(step) and abs(step) <= 1e-10 * target):
                r = new if lo <= new <= hi else r
                break
            if not (lo < new < hi):
                new = 1.5 * lo if math.isinf(hi) else 0.5 * (lo + hi)
            r = new
            if lo > _MAX_RADIUS * target:
                raise FitError(
                    f"contour of {names[0]}, {names[1]} at Δχ² = {delta:.4g} does not close: the "
                    f"profiled χ² stays below the level up to {where(prob.center + lo * u)}"
                )
        else:
            raise FitError(
                f"contour of {names[0]}, {names[1]} at Δχ² = {delta:.4g}: the root search along "
                f"the ray through {where(prob.center + r * u)} did not converge"
            )
        radii[k] = r
        r_guess = float(r)
    pts = prob.center[:, None] + radii[None, :] * directions
    log.debug("contour %s, %s: %d profiled minimisations for %d points", *names, state.count, n)
    return pts, state.count


def __dir__() -> list[str]:
    return list(__all__)
