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

import itertools
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..chi2 import CombinedChi2
from ..exceptions import FitError
from ._linalg import Factor, solve, try_factor
from .kinkscreen import KinkScreen, PointBounds
from .newton import KinkGroups, Minimum, global_minimise, newton_minimise
from .path import PathEnd, follow

__all__ = ["Endpoint", "profile_intervals"]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

#: an endpoint is accepted when Δχ² = 1 holds to this precision …
CHI2_TOLERANCE = 1e-6
#: … and a Newton step of the minimisation with x_c fixed moves nothing by more than this (σ)
STEP_TOLERANCE = 1e-6
#: the chord iteration stops when no parameter moves by more than this (σ)
CHORD_GOAL = 1e-8
CHORD_ITERATIONS = 12
#: a chord step of this many σ runs away: the column is dropped from a mirrored check
RUNAWAY = 1e4
#: how far (in σ of the value) the root search looks for Δχ² = 1
MAX_REACH = 50.0


@dataclass(frozen=True)
class Endpoint:
    """One end of a profile interval."""

    value: float
    method: str  # "chord" or "scan"
    ok: bool
    reason: str = ""


class _Reduced:
    """H⁻¹ restricted to the kinks held at the minimum: K = H⁻¹ − Y S⁻¹ Yᵀ with Y = H⁻¹Bᵀ,
    S = B H⁻¹ Bᵀ (B: the normals of the held kink hyperplanes). −K g is the step to the
    minimum of the quadratic model that keeps the held sources on their kinks; without held
    kinks K = H⁻¹. ``sides`` evaluates the held sources at their mean slope (the KKT
    gradient)."""

    def __init__(self, factor: Factor, kinks: KinkGroups, held: Sequence[int]) -> None:
        self.factor = factor
        self.held = list(held)
        self.sides = kinks.sides(self.held, {}) if self.held else None
        if self.held:
            B = kinks.normals[self.held]
            self.B = B
            self.Y = solve(factor, B.T)
            self.S_inv = np.linalg.pinv(B @ self.Y)

    def solve(self, G: Array) -> Array:
        Z = solve(self.factor, G)
        if not self.held:
            return Z
        return Z - self.Y @ (self.S_inv @ (self.Y.T @ G))


def profile_intervals(
    model: CombinedChi2,
    minimum: Minimum,
    kinks: KinkGroups,
    covariance: Array,
    hessian: Array,
    observables: Sequence[int],
    branches: _Branches | None = None,
) -> tuple[dict[int, tuple[Endpoint, Endpoint]], int]:
    """Both endpoints of the profile interval of every parameter in ``observables``.

    ``covariance`` = 2 H⁻¹ and ``hessian`` = H at the minimum; ``branches``: the search for
    other branches of this minimum (:func:`branches_at`), if the minimisation made it. Returns
    the endpoints per parameter index and the number of chord iterations used.
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
    factor = try_factor(hessian)
    results: dict[int, list[Endpoint | None]] = {int(c): [None, None] for c in obs}
    pending: list[tuple[int, int, float, Array | None]] = []  # (param, side index, guess, θ)
    candidates: list[tuple[int, int, PathEnd]] = []  # verified chord endpoints to certify
    iterations = 0
    certifier = None
    if len(kinks):
        reuse = branches is not None and branches.minimum is minimum
        certifier = branches if reuse else branches_at(model, kinks, minimum, covariance)
    if factor is not None and certifier is not None and model.is_piecewise_quadratic:
        # piecewise quadratic: every endpoint exactly, by its profile path across the kinks
        for c in map(int, obs):
            for s in (0, 1):
                end = _certified_endpoint(
                    model, kinks, minimum, c, 1.0 if s else -1.0, target, sigma, certifier
                )
                if end.ok:
                    results[c][s] = Endpoint(float(end.theta[c]), "path", True)
                else:
                    log.info(
                        "profile endpoint (parameter %d, %s side): %s; using the root search",
                        c,
                        "upper" if s else "lower",
                        end.reason,
                    )
                    pending.append((c, s, float(end.theta[c]), end.theta.copy()))
    elif factor is not None:
        # kinks the minimum sits on stay held along the profile (verified at every endpoint)
        op = _Reduced(factor, kinks, list(minimum.held))
        E = np.zeros((len(theta0), len(cols)))
        E[cols, np.arange(len(cols))] = 1.0
        W = op.solve(E)  # K e_c for each endpoint (= H⁻¹ e_c without held kinks)
        w_cc = W[cols, np.arange(len(cols))]
        # the quadratic prediction θ̂ ± 2K e_c/√(2 K_cc) (exact for a quadratic χ²)
        thetas = theta0[:, None] + side * W * np.sqrt(2.0 / w_cc)
        thetas, converged, iterations = _chord(
            model, op, kinks, thetas, cols, side, W, w_cc, target, sigma
        )
        ok, reasons = _verify(model, op, kinks, thetas, cols, side, W, w_cc, target, sigma, theta0)
        held_min = {g: minimum.held[g] for g in op.held}
        for k in range(len(cols)):
            c, s = int(cols[k]), int(side[k] > 0)
            if converged[k] and ok[k] and certifier is not None:
                # kinked, not piecewise quadratic: the verified chord endpoint is that of the
                # minimum's branch; the profile may still be lower on another branch, so it
                # is a candidate, certified below
                first = PathEnd(thetas[:, k].copy(), target, True, "", dict(held_min))
                candidates.append((c, s, first))
            elif converged[k] and ok[k]:
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
    if certifier is not None and candidates:
        # the chord's endpoints chained with the branches of the other local minima, then
        # searched for a lower branch across the kinks near them (as the path's endpoints)
        for c, s, first in candidates:
            end = _certified_endpoint(
                model, kinks, minimum, c, 1.0 if s else -1.0, target, sigma, certifier, first
            )
            if end.ok:
                moved = end is not first and float(end.theta[c]) != float(first.theta[c])
                results[c][s] = Endpoint(float(end.theta[c]), "path" if moved else "chord", True)
            else:
                log.info(
                    "profile endpoint (parameter %d): %s; using the root search", c, end.reason
                )
                pending.append((c, s, float(first.theta[c]), first.theta.copy()))
    if certifier is not None and not model.is_piecewise_quadratic and pending:
        # kinked, not piecewise quadratic: the endpoints the chord could not verify by the
        # profile path as predictor, Newton as corrector (.path)
        still = []
        for c, s, guess, theta_guess in pending:
            end = _certified_endpoint(
                model, kinks, minimum, c, 1.0 if s else -1.0, target, sigma, certifier
            )
            if end.ok:
                results[c][s] = Endpoint(float(end.theta[c]), "path", True)
            else:
                log.info(
                    "profile endpoint (parameter %d): %s; using the root search", c, end.reason
                )
                still.append((c, s, guess, theta_guess))
        pending = still
    for c, s, guess, theta_guess in pending:
        results[c][s] = _root_search(
            model, kinks, minimum, covariance, sigma, c, 1.0 if s else -1.0, guess, theta_guess
        )
    out = {}
    for c, (lo, hi) in results.items():
        assert lo is not None and hi is not None
        out[c] = (lo, hi)
    return out, iterations


#: a lower branch must be below χ²_min + 1 by this much to restart the path from it
LOWER_BY = 1e-7
#: pairs and triples of kinks are tried only among groups whose own piece, with exact bounds, is
#: within this of χ²_min + 1 (Δχ²)
PAIR_MARGIN = 8.0
#: … and of at most this many of them (the closest)
COMBINE = 5
#: … unless there are at most this many moves: then every pair and triple
ALL_COMBINATIONS = 6
#: the kink groups within this many σ (of their normal's spread) of a point are moved across
NEAR = 3.0
#: … with exact piece bounds (piecewise quadratic: each bound a small dual QP, no minimisation)
#: further kinks and more of their combinations (5 of the 6 too narrow intervals in 2000 Neyman
#: campaign cases needed more than the limits above)
NEAR_EXACT = 6.0
PAIR_MARGIN_EXACT = 12.0
COMBINE_EXACT = 7
ALL_COMBINATIONS_EXACT = 8
#: at most this many other local minima below χ²_min + 1 are followed
MAX_MINIMA = 4
#: not piecewise quadratic: a piece is searched for a lower branch unless its quadratic model
#: at the start of the search stays this far (Δχ²) above χ²_min + 1 (a screen, not a bound)
SCREEN_MARGIN = 2.0
#: at most this many restarts of a path from lower branches
MAX_RESTARTS = 20


class _Branches:
    """At an endpoint of a profile path, the search for a lower branch of the profiled χ² on
    the other side of the kinks near it (see :meth:`lower_at`)."""

    def __init__(
        self,
        model: CombinedChi2,
        kinks: KinkGroups,
        minimum: Minimum,
        covariance: Array,
        target: float,
        sigma: Array,
    ) -> None:
        self.model, self.kinks, self.minimum = model, kinks, minimum
        self.target, self.sigma = target, sigma
        self.spread = np.sqrt(
            np.clip(
                np.einsum("gi,ij,gj->g", kinks.normals, covariance, kinks.normals),
                1e-300,
                None,
            )
        )
        self.screen = KinkScreen.of(model, kinks, minimum.theta)
        self._minima: list[Minimum] | None = None

    def _bounds(self, theta: Array, held: dict[int, float], c: int | None) -> PointBounds | None:
        """Exact lower bounds of the pieces around θ (None: not piecewise quadratic)."""
        if self.screen is None:
            return None
        kinks = self.kinks
        h = kinks.h(theta)
        sides = np.sign(h)
        for g in held:
            sides[g] = 0.0
        f, g_, H = self.model.evaluate(theta, 2, kinks.sides([], dict(enumerate(sides))))
        assert g_ is not None and H is not None
        factor = try_factor(H)
        if factor is None:
            return None
        return PointBounds(self.screen, theta, sides, f, g_, factor, c)

    def _start(self, theta: Array, move: list[tuple[int, float]]) -> Array:
        kinks = self.kinks
        st = theta.copy()
        h = kinks.h(theta)
        for g, side in move:
            if h[g] == 0.0 or np.sign(h[g]) == side:
                st = st + side * 1e-6 * kinks.normals[g]
            else:
                st = kinks.reflect(st, g)
        return st

    def _predicted(self, start: Array, c: int | None, move: list[tuple[int, float]]) -> float:
        """A screen of the piece ``start`` is in (θ_c fixed): the minimum of the χ²'s quadratic
        model there, or +inf when the model's minimiser lies clearly back across a moved kink
        (then, as for a convex piece, its minimum is on a kink it shares with a piece checked
        otherwise); −inf where the model is not convex (nothing can be screened)."""
        kinks = self.kinks
        sides = kinks.sides([], dict(enumerate(np.sign(kinks.h(start)))))
        f, g, H = self.model.evaluate(start, 2, sides)
        assert g is not None and H is not None
        free = np.ones(len(start), dtype=bool)
        if c is not None:
            free[c] = False
        factor = try_factor(H[np.ix_(free, free)])
        if factor is None:
            return -math.inf
        d = np.zeros(len(start))
        d[free] = -solve(factor, g[free])
        h = kinks.h(start + d)
        if any(side * h[grp] < -0.1 * self.spread[grp] for grp, side in move):
            return math.inf
        return float(f + 0.5 * g @ d)

    def lower_at(self, end: PathEnd, c: int) -> Minimum | None:
        """A point with the endpoint's value and χ² below the target − LOWER_BY, or None."""
        return next(self._lower(end.theta, end.held, c), None)

    @property
    def minima(self) -> list[Minimum]:
        """The local minima below the target other than the global one: found from it and
        from every one found by the same moves across kinks as :meth:`lower_at` (no value
        fixed), at most MAX_MINIMA."""
        if self._minima is None:
            found: list[Minimum] = []
            patterns = {self._pattern(self.minimum.theta)}
            queue = [self.minimum]
            while queue and len(found) < MAX_MINIMA:
                m = queue.pop(0)
                if m is not self.minimum and len(found) >= 2:
                    break  # the neighbours of the global minimum, and of the first found
                for other in self._lower(m.theta, m.held, None, patterns):
                    pat = self._pattern(other.theta)
                    if pat in patterns:
                        continue
                    patterns.add(pat)
                    found.append(other)
                    queue.append(other)
                    if len(found) >= MAX_MINIMA:
                        break
            self._minima = found
        return self._minima

    def _pattern(self, theta: Array) -> tuple[int, ...]:
        return tuple(int(v) for v in np.sign(np.round(self.kinks.h(theta), 10)))

    def _lower(
        self,
        theta: Array,
        held: dict[int, float],
        c: int | None,
        known: set[tuple[int, ...]] | None = None,
    ) -> Iterator[Minimum]:
        """Points below the target − LOWER_BY (θ_c fixed at θ's value when c is given) in the
        pieces around θ.

        The pieces checked: each group on its kink moved to either side, each group within 3σ
        moved across, each held group with each other, and the pairs and triples of those moves
        (of the COMBINE whose own pieces come closest to the target, within PAIR_MARGIN, when
        there are more than ALL_COMBINATIONS). Piecewise quadratic: each piece's
        exact minimum over its own region (:mod:`.kinkscreen`), a minimisation only where that
        is below the target; otherwise (no triples) a Newton minimisation from the endpoint
        moved into each piece. ``known``: the sign patterns of the minima found (no value
        fixed): a piece whose exact minimiser has one of them is that minimum (the χ² is one
        strictly convex quadratic on the face of a pattern), not minimised again."""
        kinks = self.kinks
        v = float(theta[c]) if c is not None else 0.0
        fixed = {c: v} if c is not None else {}
        h = kinks.h(theta)
        every = list(range(len(kinks)))
        on = [g for g in every if g in held or h[g] == 0.0]
        free = [g for g in every if g not in on]
        bounds = self._bounds(theta, held, c)
        # exact piece bounds are cheap: further kinks and more combinations of them
        near_by, pair_margin, combine, all_comb = (
            (NEAR_EXACT, PAIR_MARGIN_EXACT, COMBINE_EXACT, ALL_COMBINATIONS_EXACT)
            if bounds is not None
            else (NEAR, PAIR_MARGIN, COMBINE, ALL_COMBINATIONS)
        )
        near = [g for g in free if abs(h[g]) < near_by * self.spread[g]]

        def batch(moves: list[list[tuple[int, float]]]) -> list[float] | None:
            """The exact bounds of the pieces of ``moves`` (all of one kind), at once."""
            if bounds is None or not moves:
                return None
            # the singles are ranked by their bounds up to pair_margin; of the others only
            # whether the bound reaches the target matters (the duals stop there)
            enough = self.target + (pair_margin if len(moves[0]) == 1 else -LOWER_BY)
            return list(
                bounds.bounds([([g for g, _ in mv], [s for _, s in mv]) for mv in moves], enough)
            )

        def tried(
            mv: list[tuple[int, float]], k: int, bds: list[float] | None
        ) -> tuple[float, Minimum | None]:
            """The piece's bound (``bds[k]``, of the last :func:`batch`), and a lower point in
            it if there is one."""
            if bounds is not None and bds is not None:
                bd = bds[k]
                if bd >= self.target - LOWER_BY:
                    return bd, None  # exact: that piece has nothing below the target at v
                bounds.minimiser(k)
                assert bounds.step is not None
                st = theta + bounds.step
                # the piece's minimiser sits on the hyperplanes of its active set: start there
                # (a minimum of the χ² already when |ν| ≤ κ/2: one Newton iteration confirms it)
                on_start = dict.fromkeys(bounds.active, 0.0)
                if known is not None and bounds.exact and self._pattern(st) in known:
                    return bd, None  # a minimum already found
            else:
                st, on_start = self._start(theta, mv), {}
                if c is not None:
                    st[c] = v
                bd = self._predicted(st, c, mv)
                if bd > self.target + SCREEN_MARGIN:
                    return bd, None  # not exact: the piece's quadratic model is far above
            if c is not None:
                st[c] = v
            m = _safe_minimise(self.model, st, kinks, self.sigma, fixed, on_start, local=True)
            return bd, (m if m.converged and m.chi2 < self.target - LOWER_BY else None)

        # one group moved: a group on its kink to either side, a near one across
        singles = [(g, s) for g in on for s in (1.0, -1.0)]
        singles += [(g, -float(np.sign(h[g]))) for g in near]
        ranked: list[tuple[float, tuple[int, float]]] = []
        bds = batch([[mv] for mv in singles])
        for k, mv in enumerate(singles):
            bd, m = tried([mv], k, bds)
            if m is not None:
                yield m
            ranked.append((bd, mv))
        # two and three groups: the moves whose own pieces come closest to the target
        ranked.sort(key=lambda e: e[0])
        best: list[tuple[int, float]] = []
        for bd, mv in ranked:
            few = len(ranked) <= all_comb
            if not few and (bd >= self.target + pair_margin or len(best) >= combine):
                break
            if all(mv[0] != o[0] for o in best):
                best.append(mv)
        # a group held on its kink with any other moved across (the path left the region
        # where both change together: a held kink and a crossed one can lead to a lower branch
        # that neither alone does)
        others = near if len(ranked) <= all_comb else [mv[0] for mv in best]
        pairs = [
            [(g, s_g), (g2, -float(np.sign(h[g2])))]
            for g in on
            for s_g in (1.0, -1.0)
            for g2 in others
            if g2 not in on
        ]
        bds = batch(pairs)
        for k, mv2 in enumerate(pairs):
            _, m = tried(mv2, k, bds)
            if m is not None:
                yield m
        sizes = (2, 3) if bounds is not None else (2,)
        combos = [
            list(combo)
            for size in sizes
            for combo in itertools.combinations(best, size)
            if not (size == 3 and len(best) > all_comb and set(combo) - set(best[: combine - 1]))
        ]
        bds = batch(combos)
        for k, mv2 in enumerate(combos):
            _, m = tried(mv2, k, bds)
            if m is not None:
                yield m


def branches_at(
    model: CombinedChi2, kinks: KinkGroups, minimum: Minimum, covariance: Array
) -> _Branches:
    """The search for the other branches of the profiles of ``minimum`` (and for the other
    local minima below χ²_min + 1: :attr:`_Branches.minima`)."""
    sigma = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    sigma = np.where(sigma > 0, sigma, 1.0)
    return _Branches(model, kinks, minimum, covariance, minimum.chi2 + 1.0, sigma)


def _branch_endpoint(
    model: CombinedChi2,
    kinks: KinkGroups,
    minimum: Minimum,
    c: int,
    side: float,
    target: float,
    sigma: Array,
    branches: _Branches,
    first: PathEnd | None = None,
) -> PathEnd:
    """The endpoint of the path from the minimum (``first`` when it is already known),
    extended by the branches of the profile through the other local minima below the target
    whose intervals chain with it (the profile is the lowest of the branches)."""
    end = first if first is not None else follow(model, kinks, minimum, c, side, target, sigma)
    if not end.ok or not branches.minima:
        return end
    x0 = float(minimum.theta[c])
    reach = side * (float(end.theta[c]) - x0)
    pending = list(branches.minima)
    back: dict[int, PathEnd] = {}
    changed = True
    while changed and pending:
        changed = False
        for m in list(pending):
            if side * (float(m.theta[c]) - x0) > reach:
                # beyond the endpoint: joins if its interval reaches back inside
                key = id(m)
                if key not in back:
                    back[key] = follow(model, kinks, m, c, -side, target, sigma)
                b = back[key]
                if not b.ok or side * (float(b.theta[c]) - x0) > reach:
                    continue
            pending = [q for q in pending if q is not m]  # by identity: numpy fields
            changed = True
            out = follow(model, kinks, m, c, side, target, sigma)
            if not out.ok:
                return out
            r = side * (float(out.theta[c]) - x0)
            if r > reach:
                reach, end = r, out
    return end


def _certified_endpoint(
    model: CombinedChi2,
    kinks: KinkGroups,
    minimum: Minimum,
    c: int,
    side: float,
    target: float,
    sigma: Array,
    branches: _Branches,
    first: PathEnd | None = None,
) -> PathEnd:
    """The endpoint by the profile path from the minimum (:func:`.path.follow`; ``first``: an
    endpoint of that branch found otherwise, by the chord), chained with the branches through
    the other local minima, then a search for a lower branch across the kinks near it (a
    branch of the profile need not contain a local minimum of the χ²): Newton minimisations
    with the value fixed from the endpoint mirrored across (or, on its kink, pushed off to
    either side of) every kink group within 3σ of it and every pair of them. A lower point
    restarts the path from there (each restart moves the endpoint outwards)."""
    end = _branch_endpoint(model, kinks, minimum, c, side, target, sigma, branches, first)
    for _ in range(MAX_RESTARTS):
        if not end.ok:
            return end
        lower = branches.lower_at(end, c)
        if lower is None:
            return end
        log.debug(
            "profile of %d: a lower branch at %.10g (Δχ² %.4g)",
            c,
            end.theta[c],
            lower.chi2 - minimum.chi2,
        )
        end = follow(model, kinks, lower, c, side, target, sigma)
    return PathEnd(end.theta, end.chi2, False, "the profile path keeps finding lower branches")


def _vm_steps(
    f: Array,
    G: Array,
    Z: Array,
    W: Array,
    w_cc: Array,
    cols: NDArray[np.intp],
    side: Array,
    target: float,
) -> Array:
    """Newton steps of the Venzon–Moolgavkar system for K endpoints (columns).

    ``Z`` = H⁻¹∇χ² and ``W`` = H⁻¹e_c per endpoint. The inner step Δ = −H⁻¹(∇χ² − μ e_c) keeps
    x_c and goes to the minimum over the others of the quadratic model; along W (which moves
    x_c with the others at their conditional minimum) the model is m₀ + μ w_cc t + ½ w_cc t²,
    and t is chosen where it reaches χ²_min + 1 on the endpoint's side.
    """
    idx = np.arange(len(cols))
    mu = Z[cols, idx] / w_cc
    inner = -Z + mu * W
    m0 = f + 0.5 * np.einsum("ik,ik->k", G, inner)
    disc = mu * mu + 2.0 * (target - m0) / w_cc
    t = -mu + side * np.sqrt(np.clip(disc, 0.0, None))
    return inner + t * W


def _chord(
    model: CombinedChi2,
    op: _Reduced,
    kinks: KinkGroups,
    thetas: Array,
    cols: NDArray[np.intp],
    side: Array,
    W: Array,
    w_cc: Array,
    target: float,
    sigma: Array,
) -> tuple[Array, NDArray[np.bool_], int]:
    """Newton iterations of the Venzon–Moolgavkar system for all endpoints.

    First for all endpoints at once with the Hessian at the minimum (chord method: one
    factorisation, one batched evaluation per step). An endpoint whose chord steps are large
    or shrink slowly (the Hessian changes much between the minimum and the endpoint) continues
    with Newton steps that use the Hessian at its own current point, limited to 1 σ per step.
    """
    K = thetas.shape[1]
    active = np.ones(K, dtype=bool)
    converged = np.zeros(K, dtype=bool)
    refresh = np.zeros(K, dtype=bool)
    last = np.full(K, np.inf)
    it = 0
    for it in range(1, CHORD_ITERATIONS + 1):
        a = np.flatnonzero(active)
        f, G = model.values_and_gradients(thetas[:, a], sides=op.sides)
        assert G is not None
        step = _vm_steps(f, G, op.solve(G), W[:, a], w_cc[a], cols[a], side[a], target)
        bad = ~np.isfinite(step).all(axis=0)
        size = np.where(bad, np.inf, np.max(np.abs(step) / sigma[:, None], axis=0))
        big = size > 1.0
        take = ~bad & ~big
        thetas[:, a[take]] += step[:, take]
        done = take & (size < CHORD_GOAL)
        slow = take & ~done & (it > 1) & (size > 0.25 * last[a])
        log.debug("chord iteration %d: step sizes %s, Δχ² − 1 %s", it, size, f - target)
        converged[a[done]] = True
        refresh[a[(big | slow) & ~bad]] = True
        active[a[done | big | slow | bad]] = False
        last[a] = size
        if not active.any():
            break
    refresh |= active  # not converged within CHORD_ITERATIONS
    n_p = model.npar
    for k in np.flatnonzero(refresh):
        c = int(cols[k])
        theta = thetas[:, k].copy()
        e = np.zeros(n_p)
        e[c] = 1.0
        projections = 0
        held = dict.fromkeys(op.held, 0.0)
        for _ in range(2 * CHORD_ITERATIONS):
            fv, g, H = model.evaluate(theta, 2, op.sides)
            assert g is not None and H is not None
            fk = try_factor(H)
            if fk is None:
                if projections >= 6:
                    break
                # outside the valley of the χ² (Hessian not positive definite): first the
                # minimum over all other parameters at this x_c, then Newton from there
                m = global_minimise(
                    model, theta, kinks, sigma, fixed={c: float(theta[c])}, held=held
                )
                if not m.converged:
                    break
                theta = m.theta.copy()
                projections += 1
                continue
            local = _Reduced(fk, kinks, op.held)
            w = local.solve(e)
            st = _vm_steps(
                np.array([fv]),
                g[:, None],
                local.solve(g[:, None]),
                w[:, None],
                np.array([w[c]]),
                np.array([c]),
                side[k : k + 1],
                target,
            )[:, 0]
            if not np.all(np.isfinite(st)):
                break
            step_size = float(np.max(np.abs(st) / sigma))
            log.debug(
                "endpoint %d Newton: x %.10g Δχ² − 1 %.3g step %.3g",
                k,
                theta[c],
                fv - target,
                step_size,
            )
            if step_size > 1.0:
                st *= 1.0 / step_size
            theta += st
            if step_size < CHORD_GOAL:
                converged[k] = True
                break
        thetas[:, k] = theta
    return thetas, converged, it


def _verify(
    model: CombinedChi2,
    op: _Reduced,
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
    that moves nothing, the kinks held at the minimum still minima along their normals
    (|ν| ≤ κ/2), and no lower branch across any other kink."""
    K = thetas.shape[1]
    idx = np.arange(K)
    f, G = model.values_and_gradients(thetas, sides=op.sides)
    assert G is not None
    Z = op.solve(G)
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
    if op.held and ok.any():
        _check_held(model, op, kinks, thetas, cols, G, ok, reasons)
    if len(kinks):
        # the profile on the far side of kink g is bounded below by the χ² minimum on that
        # side: found once per group, it certifies every endpoint at once when it is above
        # χ²_min + 1. Only the groups it does not certify are checked endpoint by endpoint:
        # a chord (value fixed) from the endpoint's mirror image, and where the chord does not
        # converge, an exact minimisation from the far minimum (_other_branches)
        held = dict.fromkeys(op.held, 0.0)
        far = {
            grp: _far_minimum(model, kinks, theta0, grp, held, target, sigma)
            for grp in range(len(kinks))
            if grp not in op.held
        }
        h = kinks.h(thetas)
        starts: list[Array] = []
        owner: list[int] = []
        groups: list[int] = []
        for k in map(int, np.flatnonzero(ok)):
            for grp, m_far in far.items():
                if m_far is not None and h[grp, k] != 0.0:
                    starts.append(thetas[:, k] - 2.0 * h[grp, k] * kinks.normals[grp])
                    owner.append(k)
                    groups.append(grp)
        if starts:
            S = np.array(starts).T
            own = np.array(owner)
            grp_of = np.array(groups)
            fs, settled = _conditional_chord(
                model,
                op,
                S,
                cols[own],
                W[:, own],
                w_cc[own],
                sigma,
            )
            _other_branches(
                model, kinks, far, thetas, cols, ok, fs, settled, own, grp_of, held, target, sigma
            )
            for j, k in enumerate(own):
                if fs[j] < target - CHI2_TOLERANCE and ok[k]:
                    ok[k] = False
                    reasons[k] = (
                        "the profiled χ² is lower on the other side of a kink "
                        f"(Δχ² − 1 = {fs[j] - target:.3g})"
                    )
    return ok, reasons


def _check_held(
    model: CombinedChi2,
    op: _Reduced,
    kinks: KinkGroups,
    thetas: Array,
    cols: NDArray[np.intp],
    G: Array,
    ok: NDArray[np.bool_],
    reasons: list[str],
) -> None:
    """At every endpoint, each kink held since the minimum must still be a minimum along its
    normal: with the KKT multipliers ν of ∇χ² = μ e_c + Σ ν_g n_g and the jump κ_g of the
    derivative across kink g, |ν_g| ≤ κ_g/2 (see :mod:`hepcombine.solver.newton`)."""
    n = thetas.shape[0]
    m = len(op.held)
    todo = np.flatnonzero(ok)
    sides = np.repeat(np.asarray(op.sides)[:, None], 2 * m * len(todo), axis=1)
    pts = np.repeat(thetas[:, todo], 2 * m, axis=1)
    for j, grp in enumerate(op.held):
        cols_plus = np.arange(len(todo)) * 2 * m + 2 * j
        sides[np.ix_(kinks.members[grp], cols_plus)] = kinks.signs[grp][:, None]
        sides[np.ix_(kinks.members[grp], cols_plus + 1)] = -kinks.signs[grp][:, None]
    _, one_sided = model.values_and_gradients(pts, sides=sides)
    assert one_sided is not None
    for t, k in enumerate(todo):
        e = np.zeros(n)
        e[cols[k]] = 1.0
        A = np.column_stack([e, op.B.T])
        coef = np.linalg.lstsq(A, G[:, k], rcond=None)[0]
        for j, grp in enumerate(op.held):
            plus = one_sided[:, t * 2 * m + 2 * j]
            minus = one_sided[:, t * 2 * m + 2 * j + 1]
            kappa = float(kinks.normals[grp] @ (plus - minus))
            nu = float(coef[1 + j])
            tol = 1e-9 * max(1.0, abs(kappa), abs(nu))
            if abs(nu) > 0.5 * kappa + tol:
                ok[k] = False
                reasons[k] = (
                    f"a source held on its kink at the minimum leaves it at this endpoint "
                    f"(|ν| = {abs(nu):.3g} > κ/2 = {0.5 * kappa:.3g})"
                )
                break


def _far_minimum(
    model: CombinedChi2,
    kinks: KinkGroups,
    theta0: Array,
    grp: int,
    held: dict[int, float],
    target: float,
    sigma: Array,
) -> Minimum | None:
    """The χ² minimum on the far side of kink group ``grp`` (Newton from the minimum's mirror
    image), or None when nothing there is below ``target`` (χ²_min + 1): then no endpoint has
    a lower branch across that kink."""
    m = _safe_minimise(model, kinks.reflect(theta0, grp), kinks, sigma, {}, held, local=True)
    across = kinks.h(theta0)[grp] * kinks.h(m.theta)[grp] < 0
    return m if m.converged and m.chi2 < target - CHI2_TOLERANCE and across else None


def _other_branches(
    model: CombinedChi2,
    kinks: KinkGroups,
    far: dict[int, Minimum | None],
    thetas: Array,
    cols: NDArray[np.intp],
    ok: NDArray[np.bool_],
    fs: Array,
    settled: NDArray[np.bool_],
    own: NDArray[np.intp],
    grp_of: NDArray[np.intp],
    held: dict[int, float],
    target: float,
    sigma: Array,
) -> None:
    """The exact half of the check across kinks, in place on ``fs`` (the lowest χ² found per
    (endpoint, kink group) pair), for the pairs whose chord did not converge (``settled``):
    each endpoint re-minimised exactly, value fixed, from the far minimum of its group moved to
    the endpoint's value (the chord's fixed operator cannot be trusted on a far, stiff
    piece)."""
    for j in range(len(own)):
        k, grp = int(own[j]), int(grp_of[j])
        m_far = far[grp]
        if settled[j] or m_far is None or not ok[k] or fs[j] < target - CHI2_TOLERANCE:
            continue
        c = int(cols[k])
        start = m_far.theta.copy()
        start[c] = thetas[c, k]
        m = _safe_minimise(model, start, kinks, sigma, {c: float(thetas[c, k])}, held, local=True)
        if m.converged:
            fs[j] = min(fs[j], m.chi2)


def _conditional_chord(
    model: CombinedChi2,
    op: _Reduced,
    thetas: Array,
    cols: NDArray[np.intp],
    W: Array,
    w_cc: Array,
    sigma: Array,
) -> tuple[Array, NDArray[np.bool_]]:
    """Chord-Newton minimisation with each column's parameter ``cols[k]`` fixed, started across
    a kink from its endpoint; returns the lowest χ² seen per column (any such value is a χ² at
    x_c fixed, so one below χ²_min + 1 proves the profile lower there) and whether the column
    converged. One that did not (the minimum's operator is a poor model of a far, stiff piece)
    is not evidence either way: :func:`_other_branches` settles it exactly."""
    K = thetas.shape[1]
    best = np.full(K, np.inf)
    converged = np.zeros(K, dtype=bool)
    live = np.arange(K)
    # a chord that runs away (steps of thousands of σ, or a χ² that overflows) proves nothing
    # and is dropped; its overflowing arithmetic is expected, not a warning for the user
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(CHORD_ITERATIONS):
            th = thetas[:, live]
            f, G = model.values_and_gradients(th)
            assert G is not None
            finite = np.isfinite(f) & np.all(np.isfinite(G), axis=0)
            best[live] = np.minimum(best[live], np.where(finite, f, np.inf))
            Z = op.solve(np.where(finite, G, 0.0))
            mu = Z[cols[live], np.arange(len(live))] / w_cc[live]
            step = -Z + mu * W[:, live]
            step = np.where(np.isfinite(step), step, 0.0)
            thetas[:, live] = th + step
            size = np.max(np.abs(step) / sigma[:, None], axis=0)
            converged[live[(size < CHORD_GOAL) & finite]] = True
            keep = (size >= CHORD_GOAL) & (size < RUNAWAY) & finite
            live = live[keep]
            log.debug("mirrored check: %d of %d columns still on the other side", live.size, K)
            if live.size == 0:
                break
        f = model.values_and_gradients(thetas, gradient=False)[0]
    return np.minimum(best, np.where(np.isfinite(f), f, np.inf)), converged


def _safe_minimise(
    model: CombinedChi2,
    start: Array,
    kinks: KinkGroups,
    sigma: Array,
    fixed: dict[int, float],
    held: dict[int, float],
    *,
    local: bool = False,
) -> Minimum:
    """:func:`global_minimise` (``local``: :func:`newton_minimise`, where the start already
    chose the branch) that reports a failure as a non-converged minimum."""
    minimise = newton_minimise if local else global_minimise
    try:
        return minimise(model, start, kinks, sigma, fixed=fixed, held=held)
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
    path = covariance[:, c] / covariance[c, c]  # linear prediction of the profile path
    cache: list[tuple[float, Minimum]] = [(v0, minimum)]

    def profile(v: float) -> Minimum:
        near = min(cache, key=lambda e: abs(e[0] - v))
        start = near[1].theta + (v - near[0]) * path
        held = dict(near[1].held.items())
        m = _safe_minimise(model, start, kinks, sigma, {c: v}, held)
        if not m.converged:
            m2 = _safe_minimise(model, theta0 + (v - v0) * path, kinks, sigma, {c: v}, {})
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


def __dir__() -> list[str]:
    return list(__all__)
