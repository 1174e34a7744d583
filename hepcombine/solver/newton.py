"""Newton's method for the combined χ², with an active set for the kinks (method.md §2b).

The χ² has exact first and second derivatives, so the minimum is found by Newton steps with the
analytic Hessian, safeguarded by Levenberg damping (when the Hessian is not positive definite)
and a backtracking line search, started from the solution of the quadratic approximation.

Kinks. Convino's asymmetric form is smooth on each side of λ_i = λ̂_i. In θ = (x̄, η) that is a
hyperplane ``n·η = b``; sources whose hyperplanes coincide (e.g. two sources correlated with
ρ = ±1 and not pulled) form one *kink group*. The minimiser treats each group as an active-set
variable: a step that reaches a kink stops there when the χ² rises on the far side (the kink is
V-shaped along the step), and the group is then held on its hyperplane while the rest is
solved. At a stationary point of that equality-constrained problem the Lagrange multiplier ν of
each held group is compared with the jump κ of the χ²'s derivative across the kink: the point is
a minimum iff |ν| ≤ κ/2 for every held group (the one-sided directional derivatives
−ν + κ/2 and ν + κ/2 are non-negative); otherwise the group is released towards the side that
descends. The result is the exact minimum of the written χ², not of a smoothed copy.

A kinked χ² can have a local minimum on each side of a kink (when the kink is Λ-shaped).
:func:`global_minimise` therefore restarts from the mirror image of the minimum across every
kink the minimum does not sit on and keeps the lowest minimum found.

Parameters can be fixed (``fixed={index: value}``): that is how profiled χ² values are
computed (:mod:`hepcombine.solver.intervals`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..chi2 import CombinedChi2
from ._linalg import NewtonSystem

__all__ = [
    "EDM_GOAL",
    "KinkGroups",
    "Minimum",
    "global_minimise",
    "improve_once",
    "newton_minimise",
]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

#: converged when the expected decrease ½ΔᵀHΔ of a Newton step is below this …
EDM_GOAL = 1e-14
#: … and no combined value moves by more than this many σ in that step
STEP_GOAL = 1e-8
MAX_ITERATIONS = 100


# ---------------------------------------------------------------------- kink groups
@dataclass(frozen=True, eq=False)
class KinkGroups:
    """The kink hyperplanes of a χ² in θ-space: ``h_g(θ) = normals[g]·θ − offsets[g]``.

    ``members[g]`` are the global sources (rows of L) of group g and ``signs[g]`` the sign of
    each source's δ on the h > 0 side.
    """

    normals: Array  # (G, npar), unit length, zero in the x̄ part
    offsets: Array  # (G,)
    members: tuple[NDArray[np.intp], ...]
    signs: tuple[Array, ...]
    n_lambda: int

    @classmethod
    def of(cls, model: CombinedChi2) -> KinkGroups:
        n_p, L = model.n_params, model.L
        offsets_of = model.kink_offsets()
        kinked = model.kinked_sources
        normals = np.zeros((len(kinked), L.shape[1]))  # the groups' normals so far (rows)
        offsets: list[float] = []
        members: list[list[int]] = []
        signs: list[list[float]] = []
        for s in kinked:
            a = L[s]
            norm = float(np.linalg.norm(a))
            n = a / norm
            lead = n[np.flatnonzero(np.abs(n) > 1e-12)[0]]
            sign = 1.0 if lead > 0 else -1.0
            n = sign * n
            (lam_hat,) = offsets_of[int(s)]
            beta = sign * lam_hat / norm
            G = len(offsets)
            # the first group whose hyperplane is this one (all groups compared at once)
            same = np.max(np.abs(normals[:G] - n), axis=1, initial=0.0) < 1e-10
            same &= np.abs(np.array(offsets) - beta) < 1e-10
            hit = np.flatnonzero(same)
            if hit.size:
                members[int(hit[0])].append(int(s))
                signs[int(hit[0])].append(sign)
            else:
                normals[G] = n
                offsets.append(beta)
                members.append([int(s)])
                signs.append([sign])
        full = np.zeros((len(offsets), model.npar))
        if offsets:
            full[:, n_p:] = normals[: len(offsets)]
        return cls(
            full,
            np.array(offsets, dtype=float),
            tuple(np.array(m, dtype=np.intp) for m in members),
            tuple(np.array(s, dtype=float) for s in signs),
            model.n_lambda,
        )

    @classmethod
    def like(cls, template: KinkGroups, model: CombinedChi2) -> KinkGroups:
        """:meth:`of` for a ``model`` that differs from ``template``'s only in where its kinks
        sit (other λ̂, as a pseudo-experiment's): the template's hyperplane normals, members
        and signs with ``model``'s offsets — the same groups :meth:`of` forms, checked (every
        member of a group on one hyperplane, no two groups on one), else :meth:`of` itself."""
        offsets_of = model.kink_offsets()
        if len(offsets_of) != sum(len(m) for m in template.members):
            return cls.of(model)
        L = model.L
        offsets = np.empty(len(template))
        for g, (members, signs) in enumerate(zip(template.members, template.signs, strict=True)):
            beta = np.empty(len(members))
            for k, (src, sign) in enumerate(zip(members.tolist(), signs.tolist(), strict=True)):
                at = offsets_of.get(src)
                if at is None or len(at) != 1:
                    return cls.of(model)
                beta[k] = sign * float(at[0]) / float(np.linalg.norm(L[src]))
            if np.any(np.abs(beta - beta[0]) >= 1e-10):
                return cls.of(model)
            offsets[g] = beta[0]
        normals = template.normals
        for g in range(len(offsets)):
            same = np.max(np.abs(normals - normals[g]), axis=1) < 1e-10
            if np.sum(same & (np.abs(offsets - offsets[g]) < 1e-10)) > 1:
                return cls.of(model)  # two groups would be one
        return cls(normals, offsets, template.members, template.signs, model.n_lambda)

    def __len__(self) -> int:
        return len(self.offsets)

    def h(self, theta: Array) -> Array:
        """Signed distance of θ (or of each column of a matrix) from every kink hyperplane."""
        out = self.normals @ theta
        return out - (self.offsets if out.ndim == 1 else self.offsets[:, None])

    def sides(self, held: Iterable[int], forced: Mapping[int, float]) -> Array | None:
        """The ``sides`` argument of :class:`CombinedChi2`: held groups at their mean slope,
        ``forced`` groups ({group: ±1}) on the given side of their hyperplane."""
        held = list(held)
        if not held and not forced:
            return None
        sides = np.full(self.n_lambda, np.nan)
        for g in held:
            sides[self.members[g]] = 0.0
        for g, side in forced.items():
            sides[self.members[g]] = side * self.signs[g]
        return sides

    def reflect(self, theta: Array, g: int) -> Array:
        """θ mirrored across the hyperplane of group g."""
        return theta - 2.0 * self.h(theta)[g] * self.normals[g]

    def project(self, theta: Array, groups: list[int]) -> Array:
        """θ moved (least change in η) onto the hyperplanes of ``groups``."""
        if not groups:
            return theta
        A = self.normals[groups]
        r = self.h(theta)[groups]
        return theta - A.T @ np.linalg.lstsq(A @ A.T, r, rcond=None)[0]


#: the Hessians of the pieces of piecewise-quadratic χ²s, by the side of every kinked source
#: (constant on a piece): {(id(model), sides): (model, H)}, the last few kept
_PIECES: dict[tuple[int, bytes], tuple[CombinedChi2, Array]] = {}
_PIECES_KEPT = 32
#: … for χ²s of at most this many parameters (the kept Hessians stay small)
_PIECES_NPAR = 300


def _piece_evaluate(
    model: CombinedChi2, kinks: KinkGroups, theta: Array, sides: Array | None
) -> tuple[float, Array, Array]:
    """``model.evaluate(theta, 2, sides)``; for a piecewise-quadratic χ² the Hessian of the
    piece θ is in (the sources not in ``sides`` on the side of θ) is computed once and kept."""
    if not (len(kinks) and model.is_piecewise_quadratic and model.npar <= _PIECES_NPAR):
        f, g, H = model.evaluate(theta, 2, sides)
        assert g is not None and H is not None
        return f, g, H
    full = np.full(kinks.n_lambda, np.nan) if sides is None else np.array(sides, dtype=float)
    h = kinks.h(theta)
    for grp, members in enumerate(kinks.members):
        free = np.isnan(full[members])
        if free.any():
            if h[grp] == 0.0:  # on the kink and not told which side: not one piece
                f, g, H = model.evaluate(theta, 2, sides)
                assert g is not None and H is not None
                return f, g, H
            full[members[free]] = kinks.signs[grp][free] * np.sign(h[grp])
    key = (id(model), full.tobytes())
    hit = _PIECES.get(key)
    if hit is not None and hit[0] is model:
        f, g, _ = model.evaluate(theta, 1, sides)
        assert g is not None
        return f, g, hit[1]
    f, g, H = model.evaluate(theta, 2, sides)
    assert g is not None and H is not None
    if len(_PIECES) >= _PIECES_KEPT:
        del _PIECES[next(iter(_PIECES))]
    _PIECES[key] = (model, H)
    return f, g, H


# ---------------------------------------------------------------------- result
@dataclass
class Minimum:
    """A (constrained) minimum found by :func:`newton_minimise`."""

    theta: Array
    chi2: float
    edm: float
    iterations: int
    converged: bool
    message: str = ""
    #: kink groups held on their hyperplane at the minimum, with the side each was reached
    #: from (+1: h > 0 side, −1: h < 0 side, 0: unknown)
    held: dict[int, float] = field(default_factory=dict)
    #: Lagrange multiplier of each fixed parameter (∂χ²/∂θ_c at a profile point is −ν)
    multipliers: dict[int, float] = field(default_factory=dict)


def _constraints(
    kinks: KinkGroups, fixed: Mapping[int, float], held: Iterable[int], npar: int
) -> tuple[Array, Array]:
    rows = []
    values = []
    for i, v in fixed.items():
        e = np.zeros(npar)
        e[i] = 1.0
        rows.append(e)
        values.append(v)
    for g in held:
        rows.append(kinks.normals[g])
        values.append(kinks.offsets[g])
    if not rows:
        return np.zeros((0, npar)), np.zeros(0)
    return np.array(rows), np.array(values)


def _kkt_step(system: NewtonSystem, g: Array, A: Array, residual: Array) -> tuple[Array, Array]:
    """Solve H Δ + Aᵀν = −g, A Δ = residual."""
    z = system.solve(g)
    if A.shape[0] == 0:
        return -z, np.zeros(0)
    Y = system.solve(A.T)
    S = A @ Y
    rhs = -(A @ z) - residual
    try:
        nu = np.linalg.solve(S, rhs)
    except np.linalg.LinAlgError:
        nu = np.linalg.lstsq(S, rhs, rcond=None)[0]
    return -z - Y @ nu, np.asarray(nu, dtype=float)


def newton_minimise(
    model: CombinedChi2,
    theta0: Array,
    kinks: KinkGroups,
    sigma: Array,
    *,
    fixed: Mapping[int, float] | None = None,
    held: Mapping[int, float] | None = None,
    max_iterations: int = MAX_ITERATIONS,
) -> Minimum:
    """Minimise ``model`` from ``theta0`` with the parameters ``fixed`` held at their values.

    ``sigma``: a scale for each parameter (e.g. its error in the quadratic approximation): the
    step criterion is ``|Δx̄| < STEP_GOAL σ`` for the combined values, and the scaling of a
    modified Newton step where the Hessian is indefinite;
    ``held``: kink groups to start on their hyperplane (``{group: side reached from}``).
    """
    fixed = dict(fixed or {})
    npar = model.npar
    n_p = model.n_params
    theta = np.array(theta0, dtype=float)
    for i, v in fixed.items():
        theta[i] = v
    hold: dict[int, float] = dict(held or {})
    if len(kinks):
        # a start exactly on a kink is held there; the multiplier test releases it if need be
        for on_kink in np.flatnonzero(kinks.h(theta) == 0.0):
            hold.setdefault(int(on_kink), 0.0)
    theta = kinks.project(theta, list(hold))
    forced: dict[int, float] = {}
    edm = np.inf
    stalled = 0
    steps_x_scale = np.where(sigma > 0, sigma, 1.0)
    if len(steps_x_scale) < npar:
        steps_x_scale = np.concatenate([steps_x_scale, np.ones(npar - len(steps_x_scale))])
    message = ""
    for it in range(1, max_iterations + 1):
        sides = kinks.sides(hold, forced)
        f0, g, H = _piece_evaluate(model, kinks, theta, sides)
        A, b = _constraints(kinks, fixed, hold, npar)
        system = NewtonSystem(H)
        if not system.positive_definite:
            # far from the minimum the Hessian of a strongly non-linear χ² is indefinite: a
            # Gauss–Newton step (the residual terms dropped: positive definite) descends
            system = NewtonSystem(model.gauss_newton_hessian(theta, sides))
        step, nu = _kkt_step(system, g, A, b - A @ theta)
        if not system.positive_definite and not float(g @ step) < 0:
            system = NewtonSystem(H, steps_x_scale, modified=True)
            step, nu = _kkt_step(system, g, A, b - A @ theta)
        decrease = -float(g @ step)
        edm = 0.5 * max(decrease, 0.0)
        dx = np.abs(step[:n_p]) / steps_x_scale[:n_p] if n_p else np.zeros(0)
        second_order = system.positive_definite or A.shape[0] > 0
        if second_order and edm < EDM_GOAL and (dx.size == 0 or np.max(dx) < STEP_GOAL):
            release = _release(model, kinks, theta, hold, forced, nu[len(fixed) :], g)
            if release is None:
                theta_new = kinks.project(theta + step, list(hold))
                f_new = model.evaluate(theta_new, 0, kinks.sides(hold, forced))[0]
                if f_new <= f0 and not _crosses(kinks, theta, theta_new, hold, forced):
                    theta, f0 = theta_new, f_new
                multipliers = {i: float(nu[k]) for k, i in enumerate(fixed)}
                return Minimum(theta, f0, edm, it, True, "", dict(hold), multipliers)
            group, side = release
            del hold[group]
            forced[group] = side
            continue
        theta_old = theta
        theta, f_new, events = _line_search(model, kinks, theta, step, f0, g, hold, forced)
        if system.kind == "lu" and not events and not f_new < f0:
            # the plain Newton step of an indefinite Hessian did not descend: modified step
            system = NewtonSystem(H, steps_x_scale, modified=True)
            step, nu = _kkt_step(system, g, A, b - A @ theta_old)
            theta, f_new, events = _line_search(model, kinks, theta_old, step, f0, g, hold, forced)
        for grp, (kind, side) in events.items():
            if kind == "hold":
                forced.pop(grp, None)
                hold[grp] = side
            else:  # crossed: now on `side` of the kink, exactly on it
                forced[grp] = side
        if hold:
            theta = kinks.project(theta, list(hold))
        # forced sides are needed only while a group sits exactly on its kink
        if forced:
            hv = kinks.h(theta)
            for grp in list(forced):
                if hv[grp] * forced[grp] > 0 and abs(hv[grp]) > 1e-12:
                    del forced[grp]
        stalled = stalled + 1 if (f_new >= f0 and not events) else 0
        # no representable decrease left: converged to the precision of the χ² itself (with a
        # Gauss–Newton Hessian, once the line search stalled too)
        if f_new >= f0 and edm < 1e-9 and (second_order or stalled >= 3):
            if len(nu) != len(fixed) + len(hold):
                continue  # the line search held another kink: its multiplier is the next step's
            multipliers = {i: float(nu[k]) for k, i in enumerate(fixed)}
            release = _release(model, kinks, theta, hold, forced, nu[len(fixed) :], g)
            if release is None:
                return Minimum(theta, f0, edm, it, True, "", dict(hold), multipliers)
            group, side = release  # a held kink the multiplier test lets go: leave it
            del hold[group]
            forced[group] = side
            stalled = 0
            continue
        if stalled >= 3:
            message = f"the line search makes no progress (EDM {edm:.3g}) after {it} Newton steps"
            return Minimum(theta, float(f_new), edm, it, False, message, dict(hold))
        message = f"no convergence after {max_iterations} Newton steps (EDM {edm:.3g})"
    return Minimum(theta, float(model(theta)), edm, max_iterations, False, message, dict(hold))


def _crosses(
    kinks: KinkGroups, a: Array, b: Array, hold: Mapping[int, float], forced: Mapping[int, float]
) -> bool:
    if not len(kinks):
        return False
    ha, hb = kinks.h(a), kinks.h(b)
    for g in range(len(kinks)):
        if g in hold:
            continue
        side = forced.get(g, np.sign(ha[g]))
        if side * hb[g] < 0:
            return True
    return False


def _release(
    model: CombinedChi2,
    kinks: KinkGroups,
    theta: Array,
    hold: Mapping[int, float],
    forced: Mapping[int, float],
    nu: Array,
    g_mid: Array,
) -> tuple[int, float] | None:
    """The held kink group to release (and towards which side), or None when every held group
    satisfies |ν| ≤ κ/2."""
    if not hold:
        return None
    groups = list(hold)
    K = 2 * len(groups)
    sides = np.full((kinks.n_lambda, K), np.nan)
    base = kinks.sides(hold, forced)
    if base is not None:
        sides[:] = base[:, None]
    for k, grp in enumerate(groups):
        sides[kinks.members[grp], 2 * k] = kinks.signs[grp]
        sides[kinks.members[grp], 2 * k + 1] = -kinks.signs[grp]
    _, grads = model.values_and_gradients(
        np.repeat(theta[:, None], K, axis=1), gradient=True, sides=sides
    )
    assert grads is not None
    worst: tuple[float, int, float] | None = None
    for k, grp in enumerate(groups):
        n = kinks.normals[grp]
        kappa = float(n @ (grads[:, 2 * k] - grads[:, 2 * k + 1]))
        up = -nu[k] + 0.5 * kappa  # derivative moving to the h > 0 side
        down = nu[k] + 0.5 * kappa  # … to the h < 0 side
        tol = 1e-9 * max(1.0, abs(kappa), abs(nu[k]), float(np.max(np.abs(g_mid))))
        for value, side in ((up, 1.0), (down, -1.0)):
            if value < -tol and (worst is None or value < worst[0]):
                worst = (value, grp, side)
    if worst is None:
        return None
    return worst[1], worst[2]


def _line_search(
    model: CombinedChi2,
    kinks: KinkGroups,
    theta: Array,
    step: Array,
    f0: float,
    g: Array,
    hold: Mapping[int, float],
    forced: Mapping[int, float],
) -> tuple[Array, float, dict[int, tuple[str, float]]]:
    """Line search along ``step`` on a piecewise-smooth χ².

    Walks along the step from kink to kink: at each kink the step reaches it compares the
    one-sided derivatives along the step; it stops there when the χ² is V-shaped (the group is
    then held), passes through when the χ² keeps descending, and backtracks inside the current
    smooth piece when the χ² already rises before the kink. Returns the new θ, χ² and, per kink
    group reached, ("hold", side reached from) or ("cross", new side).
    """
    slope = float(g @ step)
    events: dict[int, tuple[str, float]] = {}
    side_now: dict[int, float] = dict(forced)
    crossings: list[tuple[float, int]] = []
    if len(kinks):
        h0 = kinks.h(theta)
        dh = kinks.normals @ step
        for grp in range(len(kinks)):
            if grp in hold or grp in side_now:
                continue
            side_now[grp] = float(np.sign(h0[grp])) if h0[grp] != 0.0 else float(np.sign(dh[grp]))
        for grp, side in side_now.items():
            if side * dh[grp] < 0:  # moving towards (or, when on it, across) the kink
                t = 0.0 if h0[grp] == 0.0 or grp in forced else float(-h0[grp] / dh[grp])
                crossings.append((max(t, 0.0), grp))
        crossings.sort()
    t_prev, f_prev = 0.0, f0

    def current_sides(extra: Mapping[int, float] | None = None) -> Array | None:
        sides = dict(side_now)
        if extra:
            sides.update(extra)
        return kinks.sides(hold, sides) if len(kinks) else None

    def backtrack(t_hi: float) -> tuple[Array, float, bool] | None:
        """The first point from t_hi towards t_prev that decreases the χ² enough (and whether
        it is t_hi itself)."""
        sides = current_sides()
        t = t_hi
        # below this predicted decrease the χ² cannot show one (its rounding): stop halving
        resolution = 1e-15 * max(1.0, abs(f0))
        for _ in range(40):
            if t <= t_prev or (t_prev == 0.0 and -slope * t < resolution):
                return None
            cand = theta + t * step
            fc = model.evaluate(cand, 0, sides)[0]
            enough = fc <= f0 + 1e-4 * t * slope if t_prev == 0.0 else fc < f_prev
            if np.isfinite(fc) and enough:
                return cand, fc, t == t_hi
            t = t_prev + 0.5 * (t - t_prev)
        return None

    k = 0
    while k < len(crossings) and crossings[k][0] <= 1.0:
        t_b = crossings[k][0]
        at = [grp for t, grp in crossings[k:] if t <= t_b * (1 + 1e-12) + 1e-300]
        k += len(at)
        theta_b = theta + t_b * step
        before = {grp: side_now[grp] for grp in at}
        s0 = current_sides()
        s1 = current_sides({grp: -before[grp] for grp in at})
        sides = np.full((kinks.n_lambda, 2), np.nan)
        sides[:, 0] = np.nan if s0 is None else s0
        sides[:, 1] = np.nan if s1 is None else s1
        fk, gk = model.values_and_gradients(
            np.repeat(theta_b[:, None], 2, axis=1), gradient=True, sides=sides
        )
        assert gk is not None
        d_before, d_after = float(gk[:, 0] @ step), float(gk[:, 1] @ step)
        f_b = float(fk[0])
        if d_before > 0.0 or not f_b <= f_prev + 1e-12 * max(1.0, abs(f_prev)):
            # the χ² rises before this kink: the best point is inside the current piece
            found = backtrack(t_b)
            if found is not None:
                if found[2]:
                    # the kink itself decreases the χ² enough: the point is on the kink, so
                    # its group(s) are held there (the multiplier test releases them if need
                    # be); left free exactly on the kink, the next step's derivatives would be
                    # those of one side while the step goes to the other
                    for grp in at:
                        events[grp] = ("hold", before[grp])
                return found[0], found[1], events
            if t_prev == 0.0:
                return theta, f0, events
            return theta + t_prev * step, f_prev, events
        if d_after >= 0.0:
            # V-shaped along the step: stop on the kink and hold the group(s)
            for grp in at:
                events[grp] = ("hold", before[grp])
            return theta_b, f_b, events
        # descending through the kink: carry on in the next piece
        for grp in at:
            side_now[grp] = -before[grp]
            events[grp] = ("cross", -before[grp])
        t_prev, f_prev = t_b, f_b
    found = backtrack(1.0)
    if found is not None:
        return found[0], found[1], events
    if t_prev == 0.0:
        return theta, f0, events
    return theta + t_prev * step, f_prev, events


def _other_side_may_be_lower(
    model: CombinedChi2, kinks: KinkGroups, m: Minimum, grp: int, fixed: Mapping[int, float]
) -> bool:
    """Whether the far side of kink group ``grp`` can hold a lower minimum than ``m``.

    The χ² on the far side is a quadratic piece (Neyman, absolute sources: see
    ``CombinedChi2.is_piecewise_quadratic``); continue it across the kink and take one Newton
    step of it from ``m`` (with its own Hessian, under the same constraints). If the piece is
    convex there and its minimum lies on this side of the kink, its minimum over the far side
    is on the kink itself, where it equals the χ² of this side, which ``m`` minimises: nothing
    lower there. Otherwise (minimum across the kink, or a Hessian that is not positive
    definite) the far side must be searched.
    """
    side = float(np.sign(kinks.h(m.theta)[grp]))
    sides = kinks.sides(m.held, {grp: -side})
    _, g, H = model.evaluate(m.theta, 2, sides)
    assert g is not None and H is not None
    system = NewtonSystem(H)
    if not system.positive_definite:
        return True
    A, b = _constraints(kinks, fixed, m.held, model.npar)
    step, _ = _kkt_step(system, g, A, b - A @ m.theta)
    return bool(side * kinks.h(m.theta + step)[grp] <= 0.0)


def global_minimise(
    model: CombinedChi2,
    theta0: Array,
    kinks: KinkGroups,
    sigma: Array,
    *,
    fixed: Mapping[int, float] | None = None,
    held: Mapping[int, float] | None = None,
) -> Minimum:
    """:func:`newton_minimise`, then restarts from the mirror image of the minimum across every
    kink it does not sit on; the lowest minimum wins (a Λ-shaped kink has one on each side)."""
    best = newton_minimise(model, theta0, kinks, sigma, fixed=fixed, held=held)
    if not len(kinks) or not best.converged:
        return best
    tried: set[tuple[int, ...]] = set()
    while (better := improve_once(model, kinks, sigma, best, tried, fixed=fixed)) is not None:
        best = better
    return best


def improve_once(
    model: CombinedChi2,
    kinks: KinkGroups,
    sigma: Array,
    best: Minimum,
    tried: set[tuple[int, ...]],
    *,
    fixed: Mapping[int, float] | None = None,
    restarts: Mapping[int, Minimum] | None = None,
    screens: Mapping[int, bool] | None = None,
) -> Minimum | None:
    """One pass of :func:`global_minimise`'s search from the minimum ``best``: the first kink
    group (in order) whose mirror-image restart finds a lower minimum gives that minimum;
    None when there is none, or when ``best``'s side pattern was ``tried`` before (it is added
    to ``tried``). ``restarts`` (``{group: newton_minimise from best's mirror image across
    it}``) and ``screens`` (``{group: whether its far side may hold a lower minimum}``, the
    screen of a piecewise quadratic χ²), where already known (:mod:`hepcombine.toys.batched`
    computes them for many data sets at once)."""
    h = kinks.h(best.theta)
    pattern = tuple(int(np.sign(v)) for v in h)
    if pattern in tried:
        return None
    tried.add(pattern)
    restarts, screens = restarts or {}, screens or {}
    for grp in range(len(kinks)):
        if grp in best.held or h[grp] == 0.0:
            continue
        # the screen is exact only where the χ² is quadratic between kinks; elsewhere a piece
        # convex at the minimum may still curve down further away: search it
        if model.is_piecewise_quadratic:
            lower = screens.get(grp)
            if lower is None:
                lower = _other_side_may_be_lower(model, kinks, best, grp, fixed or {})
            if not lower:
                continue
        other = restarts.get(grp)
        if other is None:
            start = kinks.reflect(best.theta, grp)
            other = newton_minimise(model, start, kinks, sigma, fixed=fixed)
        tol = 1e-10 * max(1.0, abs(best.chi2))
        if other.converged and other.chi2 < best.chi2 - tol:
            log.debug(
                "a lower minimum on the other side of kink group %d: %.10g < %.10g",
                grp,
                other.chi2,
                best.chi2,
            )
            return other
    return None


def __dir__() -> list[str]:
    return list(__all__)
