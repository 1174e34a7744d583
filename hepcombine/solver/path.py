"""Profile paths across kinks (issue 18): the profile of one combined value followed exactly.

With the Neyman χ² and absolute sources, Convino's piecewise-linear asymmetric sources make the
χ² piecewise quadratic in θ = (x̄, η): quadratic inside every region where each kink group keeps
its side. The profile path θ*(v) = argmin {χ²(θ) : θ_c = v} (with the kink groups it sits on
held there) is then piecewise *linear* in v and the profiled χ² P(v) piecewise quadratic, with
breakpoints where

* a free kink group reaches its hyperplane (a source reaches its kink): the group is held there
  when the χ² is V-shaped across it (κ > 0, the jump of the derivative along the normal) and
  the path continues on the hyperplane; when the χ² is Λ-shaped (κ < 0) the branch ends and
  the path jumps to the local minimum across the kink at the same value;
* a held group's multiplier leaves [−κ/2, κ/2] (the one-sided derivatives a + κ/2 towards the
  h > 0 side and −a + κ/2 towards the h < 0 side must stay ≥ 0, with ∇χ² = μ e_c + Σ a_g n_g
  at the mean slope): the group is released towards the side that descends.

Inside a segment, with the rows A = (e_c, normals of the held groups) and the Hessian H of the
current piece, the path moves along w = H⁻¹Aᵀ(AH⁻¹Aᵀ)⁻¹e₁ per unit of v, the multipliers by
(AH⁻¹Aᵀ)⁻¹e₁, P′ = μ and P″ = [(AH⁻¹Aᵀ)⁻¹]₁₁. Every event is then the root of a linear
(kinks, multipliers) or quadratic (P(v) = χ²_min + 1) function of v, so the endpoint is exact
after one factorisation per segment.

For a χ² that is not piecewise quadratic (Pearson, relative or log-normal sources) the same
step is a predictor, limited in length, and a Newton minimisation with the value fixed
(:func:`~hepcombine.solver.newton.newton_minimise`) the corrector; the endpoint is polished by
Newton's method on P(v) − χ²_min − 1 with P′ = μ from the multiplier (envelope theorem).
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..chi2 import CombinedChi2
from ..exceptions import FitError
from ._linalg import Factor, solve, try_factor
from .kinkscreen import KinkScreen, PointBounds
from .newton import _PIECES_NPAR, KinkGroups, Minimum, _piece_evaluate, newton_minimise

__all__ = ["PathEnd", "follow"]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

#: at most this many events (kinks reached or released, jumps) per path
MAX_EVENTS = 400
#: a predictor step of a χ² that is not piecewise quadratic moves the value by at most this (σ)
MAX_PREDICTOR = 0.5
#: P(v) = χ²_min + 1 to this precision
TARGET_TOLERANCE = 1e-9


@dataclass
class PathEnd:
    """Where a profile path reached Δχ² = 1 (or why it did not)."""

    theta: Array
    chi2: float
    ok: bool
    reason: str = ""
    held: dict[int, float] = field(default_factory=dict)
    events: int = 0
    #: the multiplier of the fixed value: P′(v) = mu
    mu: float = math.nan


def _kappas(
    model: CombinedChi2,
    kinks: KinkGroups,
    thetas: Array,
    groups: list[int],
    held: Mapping[int, float],
    forced: Mapping[int, float],
) -> Array:
    """κ_g (jump of the χ²'s derivative along n_g across kink g) at each column of ``thetas``
    for each group in ``groups``: array (len(groups), K)."""
    K = thetas.shape[1]
    m = len(groups)
    base = kinks.sides(held, forced)
    sides = np.full((kinks.n_lambda, 2 * m * K), np.nan)
    if base is not None:
        sides[:] = base[:, None]
    pts = np.repeat(thetas, 2 * m, axis=1)
    for j, grp in enumerate(groups):
        cols = np.arange(K) * 2 * m + 2 * j
        sides[np.ix_(kinks.members[grp], cols)] = kinks.signs[grp][:, None]
        sides[np.ix_(kinks.members[grp], cols + 1)] = -kinks.signs[grp][:, None]
    _, G = model.values_and_gradients(pts, sides=sides)
    assert G is not None
    out = np.empty((m, K))
    for j, grp in enumerate(groups):
        plus = G[:, np.arange(K) * 2 * m + 2 * j]
        minus = G[:, np.arange(K) * 2 * m + 2 * j + 1]
        out[j] = kinks.normals[grp] @ (plus - minus)
    return out


#: the kink screen of each model's kink groups (None: its structure is not the screen's)
_SCREENS: weakref.WeakKeyDictionary[KinkGroups, tuple[CombinedChi2, KinkScreen | None]] = (
    weakref.WeakKeyDictionary()
)


def _screen(model: CombinedChi2, kinks: KinkGroups, theta: Array) -> KinkScreen | None:
    entry = _SCREENS.get(kinks)
    if entry is None or entry[0] is not model:
        entry = (model, KinkScreen.of(model, kinks, theta))
        _SCREENS[kinks] = entry
    return entry[1]


#: the factorised Hessians of the last few pieces (:func:`.newton._piece_evaluate` keeps each
#: piece's Hessian: the same array again): {id(H): (H, factor)}
_FACTORS: dict[int, tuple[Array, Factor | None]] = {}
_FACTORS_KEPT = 32


def _point(
    model: CombinedChi2, kinks: KinkGroups, theta: Array, sides: Array | None
) -> tuple[float, Array, Factor | None]:
    f, g, H = _piece_evaluate(model, kinks, theta, sides)
    if not (model.is_piecewise_quadratic and model.npar <= _PIECES_NPAR):
        return f, g, try_factor(H)  # a new Hessian at every point: nothing to keep
    hit = _FACTORS.get(id(H))
    if hit is not None and hit[0] is H:
        return f, g, hit[1]
    fac = try_factor(H)
    if len(_FACTORS) >= _FACTORS_KEPT:
        del _FACTORS[next(iter(_FACTORS))]
    _FACTORS[id(H)] = (H, fac)
    return f, g, fac


def _kappa_rates(
    screen: KinkScreen,
    kinks: KinkGroups,
    theta: Array,
    w: Array | None,
    groups: list[int],
    held: Mapping[int, float],
    forced: Mapping[int, float],
) -> tuple[Array, Array]:
    """κ_g at θ of each group in ``groups`` (each on its hyperplane) and its rate along w
    (zero without w), from the screen's templates: with the group at its mean slope, the
    gradients of its two sides differ by 2 n_g a_g (a = TᵀMr, :mod:`.kinkscreen`), so
    κ_g = 2 a_g, affine along the path in the piece: dκ_g = 2 (Bᵀw)_g."""
    sides = np.sign(kinks.h(theta))
    for g, s in forced.items():
        sides[g] = s
    for g in (*held, *groups):
        sides[g] = 0.0
    a, B, _ = screen.at(theta, sides)
    k0 = 2.0 * a[groups]
    dk = 2.0 * (B[:, groups].T @ w) if w is not None else np.zeros(len(groups))
    return k0, dk


def follow(
    model: CombinedChi2,
    kinks: KinkGroups,
    start: Minimum,
    c: int,
    side: float,
    target: float,
    sigma: Array,
) -> PathEnd:
    """Follow the profile of parameter ``c`` from ``start`` (a minimum, or a profile point:
    a minimum with θ_c fixed) towards ``side`` (±1) until the χ² reaches ``target``."""
    exact = model.is_piecewise_quadratic
    theta = np.array(start.theta, dtype=float)
    # piecewise quadratic with the screen's structure: κ and its rate from its templates
    screen = _screen(model, kinks, theta) if exact and len(kinks) else None
    held: dict[int, float] = dict(start.held)
    forced: dict[int, float] = {}
    npar = model.npar
    e_c = np.zeros(npar)
    e_c[c] = 1.0
    sc = float(sigma[c])
    scale = np.where(sigma > 0, sigma, 1.0)
    zero_steps = 0
    corrected = False  # θ is what the last minimisation with the value fixed returned
    events = 0
    just_held: int | None = None
    f = float(start.chi2)
    for _ in range(MAX_EVENTS):
        if forced:
            hv = kinks.h(theta)
            for grp in list(forced):
                if hv[grp] * forced[grp] > 0 and abs(hv[grp]) > 1e-12:
                    del forced[grp]
        sides = kinks.sides(held, forced)
        f, g, fac = _point(model, kinks, theta, sides)
        if fac is None:
            return PathEnd(theta, f, False, "the Hessian along the path is not positive definite")
        hg = list(held)
        A = np.vstack([e_c[None, :], kinks.normals[hg]]) if hg else e_c[None, :]
        Y = solve(fac, A.T)
        S = A @ Y
        try:
            S_inv = np.linalg.inv(S)
        except np.linalg.LinAlgError:
            return PathEnd(theta, f, False, "the held kinks and the value are not independent")
        z = solve(fac, g)
        mult = S_inv @ (A @ z)
        inner = -z + Y @ mult  # the step to the profile point of this piece (≈ 0 on the path)
        size = float(np.max(np.abs(inner) / scale))
        if exact and 1e-12 < size < 1e-3 and _stays(kinks, theta, inner, held, forced):
            # piecewise quadratic: the step to this piece's profile point is exact
            theta = kinks.project(theta + inner, list(held)) if held else theta + inner
            events += 1
            continue
        if size > 1e-7 and not corrected:
            # not on the path (round-off after many events, or a corrector needed): one
            # minimisation with the value fixed puts it back (once: a point it returns is as
            # close to the path as the precision of the χ² lets Newton's method tell)
            m = _correct(model, kinks, theta, c, float(theta[c]), held, sigma)
            if m is None:
                return PathEnd(theta, f, False, "the minimisation with the value fixed failed")
            theta, held, forced = m.theta.copy(), dict(m.held), {}
            events += 1
            corrected = True
            continue
        if size > 1e-4:
            return PathEnd(theta, f, False, "the profile point and the path disagree")
        corrected = False
        dm = S_inv[:, 0]
        w = Y @ dm  # path direction per unit of v
        mu, d2p = float(mult[0]), float(dm[0])
        if not d2p > 0:
            return PathEnd(theta, f, False, "the profile is not convex along the path")
        # ---- events, as functions of t ≥ 0 (v = θ_c + side·t)
        rise = target - f
        tol = TARGET_TOLERANCE * max(1.0, abs(target))
        if rise <= tol and side * mu >= 0:
            if rise >= -tol:
                return PathEnd(theta, f, True, "", held, events, mu)
            # a step (to a kink, or a jump across one) went past Δχ² = 1: back to it by
            # Newton's method on P(v) − target from the profile point here
            m = _correct(model, kinks, theta, c, float(theta[c]), held, sigma)
            end = _polish(model, kinks, m, c, side, target, sigma) if m is not None else None
            if end is None:
                return PathEnd(theta, f, False, "the path passed Δχ² = 1 and did not return")
            end.events += events
            return end
        disc = mu * mu + 2.0 * d2p * max(rise, 0.0)
        t_best = (-side * mu + math.sqrt(disc)) / d2p
        kind, who, where = "target", -1, 0.0
        if len(kinks):
            hv = kinks.h(theta)
            rate = side * (kinks.normals @ w)
            for grp in range(len(kinks)):
                if grp in held:
                    continue
                s_now = forced.get(grp, float(np.sign(hv[grp])))
                if s_now == 0.0:
                    s_now = float(np.sign(rate[grp])) or 1.0
                    forced[grp] = s_now
                if s_now * rate[grp] < 0:
                    t = max(0.0, -hv[grp] / rate[grp]) if grp not in forced else 0.0
                    if t < t_best:
                        t_best, kind, who = t, "reach", grp
            if hg:
                if screen is not None:
                    kap0, dkap = _kappa_rates(screen, kinks, theta, w, hg, held, forced)
                else:
                    kap = _kappas(
                        model, kinks, np.column_stack([theta, theta + w]), hg, held, forced
                    )
                    kap0, dkap = kap[:, 0], kap[:, 1] - kap[:, 0]
                for j, grp in enumerate(hg):
                    a, da = float(mult[1 + j]), float(dm[1 + j])
                    k0, dk = float(kap0[j]), float(dkap[j])
                    tol = 1e-9 * max(1.0, abs(k0), abs(a))
                    for value, slope, to_side in (
                        (a + 0.5 * k0, da + 0.5 * dk, 1.0),
                        (-a + 0.5 * k0, -da + 0.5 * dk, -1.0),
                    ):
                        slope *= side
                        if grp == just_held and to_side == held[grp]:
                            continue  # just arrived from that side: leaving it is the other way
                        if value < -tol:
                            t = 0.0
                        elif slope < 0:
                            t = max(value, 0.0) / -slope
                        else:
                            continue
                        if t < t_best:
                            t_best, kind, who, where = t, "release", grp, to_side
        if not exact:
            limit = MAX_PREDICTOR * sc
            if t_best > limit:
                t_best, kind = limit, "predict"
        step = side * t_best * w
        theta = theta + step
        if kind == "target" and exact:
            f_end = model.evaluate(theta, 0, kinks.sides(held, forced))[0]
            return PathEnd(theta, f_end, True, "", held, events, mu + d2p * side * t_best)
        events += 1
        zero_steps = zero_steps + 1 if t_best == 0.0 else 0
        if zero_steps > 2 * len(kinks) + 4:
            return PathEnd(theta, f, False, "the active set of the kinks cycles")
        just_held = None
        if kind == "reach":
            grp = who
            s_from = forced.pop(grp, None)
            if s_from is None:
                s_from = float(np.sign(kinks.h(theta - step)[grp]))
            theta = kinks.project(theta, [*held, grp])
            if screen is not None:
                kappa = float(_kappa_rates(screen, kinks, theta, None, [grp], held, forced)[0][0])
            else:
                kappa = float(_kappas(model, kinks, theta[:, None], [grp], held, forced)[0, 0])
            if kappa >= 0.0:
                held[grp] = s_from  # V-shaped: the path stays on the kink
                just_held = grp
            else:
                # Λ-shaped: this branch ends; the local minimum across the kink, same value
                across = None
                if screen is not None:
                    across = _across(screen, model, kinks, theta, grp, s_from, held, forced, c)
                if across is not None:
                    # from the exact minimiser of the piece across (value fixed), its active
                    # set held: one Newton iteration when that is the local minimum
                    m = _correct(model, kinks, across[0], c, float(theta[c]), across[1], sigma)
                else:
                    push = theta - s_from * 1e-7 * kinks.normals[grp]
                    m = _correct(model, kinks, push, c, float(theta[c]), held, sigma)
                if m is None:
                    return PathEnd(theta, f, False, "the minimisation across a kink failed")
                theta, held, forced = m.theta.copy(), dict(m.held), {}
        elif kind == "release":
            del held[who]
            forced[who] = where
        elif kind in ("target", "predict"):
            # not piecewise quadratic: correct with Newton at the new value
            m = _correct(model, kinks, theta, c, float(theta[c]), held, sigma)
            if m is None:
                return PathEnd(theta, f, False, "the minimisation with the value fixed failed")
            theta, held, forced = m.theta.copy(), dict(m.held), {}
            if kind == "target":
                end = _polish(model, kinks, m, c, side, target, sigma)
                if end is not None:
                    end.events += events
                    return end
    return PathEnd(theta, f, False, f"more than {MAX_EVENTS} events along the profile path")


def _across(
    screen: KinkScreen,
    model: CombinedChi2,
    kinks: KinkGroups,
    theta: Array,
    grp: int,
    s_from: float,
    held: Mapping[int, float],
    forced: Mapping[int, float],
    c: int,
) -> tuple[Array, dict[int, float]] | None:
    """The exact minimiser, θ_c fixed, of the piece across the kink of ``grp`` (θ on it,
    reached from ``s_from``) over its region with the held groups kept on their kinks, and
    its active set (:class:`.kinkscreen.PointBounds`); None when it is not found exactly."""
    sides = np.sign(kinks.h(theta))
    for g, s in forced.items():
        sides[g] = s
    for g in held:
        sides[g] = 0.0
    sides[grp] = s_from
    f, g_, fac = _point(model, kinks, theta, kinks.sides([], dict(enumerate(sides))))
    if fac is None:
        return None
    bounds = PointBounds(screen, theta, sides, f, g_, fac, c)
    value = bounds.bound([grp], [-s_from])
    if not (np.isfinite(value) and bounds.exact and bounds.step is not None):
        return None
    start = theta + bounds.step
    start[c] = theta[c]
    return start, dict.fromkeys(bounds.active, 0.0)


def _stays(
    kinks: KinkGroups,
    theta: Array,
    step: Array,
    held: Mapping[int, float],
    forced: Mapping[int, float],
) -> bool:
    """Whether θ + step stays in the piece of θ (no free kink group changes side)."""
    if not len(kinks):
        return True
    h0, h1 = kinks.h(theta), kinks.h(theta + step)
    for g in range(len(kinks)):
        if g in held:
            continue
        side = forced.get(g, np.sign(h0[g]))
        if side != 0 and side * h1[g] < 0:
            return False
    return True


def _correct(
    model: CombinedChi2,
    kinks: KinkGroups,
    theta: Array,
    c: int,
    v: float,
    held: Mapping[int, float],
    sigma: Array,
) -> Minimum | None:
    try:
        m = newton_minimise(model, theta, kinks, sigma, fixed={c: v}, held=held)
    except FitError:
        return None
    return m if m.converged else None


def _polish(
    model: CombinedChi2,
    kinks: KinkGroups,
    m: Minimum,
    c: int,
    side: float,
    target: float,
    sigma: Array,
) -> PathEnd | None:
    """Newton's method on P(v) − target from a corrected point near the endpoint, P′ = μ;
    None when it leaves the neighbourhood (the path then continues)."""
    sc = float(sigma[c])
    v0 = float(m.theta[c])
    for _ in range(20):
        mu = -m.multipliers.get(c, math.nan)
        gap = m.chi2 - target
        if abs(gap) < TARGET_TOLERANCE * max(1.0, abs(target)):
            return PathEnd(m.theta, m.chi2, True, "", dict(m.held), 0, mu)
        if not (np.isfinite(mu) and side * mu > 0):
            return None
        v = float(m.theta[c]) - gap / mu
        if abs(v - v0) > 2.0 * MAX_PREDICTOR * sc:
            return None
        start = m.theta.copy()
        start[c] = v
        nxt = _correct(model, kinks, start, c, v, m.held, sigma)
        if nxt is None:
            return None
        m = nxt
    return None


def __dir__() -> list[str]:
    return list(__all__)
