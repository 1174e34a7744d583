"""Kinked differential combinations and an orthant-exact reference (issue 18).

``generate(rng, chi2, small=..., relative=...)`` builds a random combination of exactly the
family of issue 18: 5–50 bins × 2–3 measurements × 5–30 sources (``small``: 4–8 bins, 4–8
sources and at most four kinked parameters), many asymmetric piecewise-linear (Convino-form)
sources (same-side ones too), optionally some relative ones, sources shared between the
measurements with ρ = +1, −1, partial or none, and measurement 0 given as the Hessian of a fit
with pulled nuisance parameters (some of its fitted sources asymmetric, so that their kink sits
at the pulled value λ̂ ≠ 0), plus orthogonal asymmetric sources.

:class:`OrthantReference` is the χ² of ``tests/campaign.py`` (:class:`campaign.Reference`:
method.md §2 written out again, in the parameters (combined values, λ) with the ±1 groups
merged into one λ) minimised independently of the engine. In those parameters every kink is a
bound of one parameter, so the sign orthants of the kinked sources are boxes:

* Neyman χ² with absolute sources: in each box the χ² is exactly quadratic, pᵀQp − 2cᵀp + e,
  with Q and c assembled here from the measurements' arrays; its minimum over the box (a convex
  QP with bounds) is a bounded linear least-squares problem, solved exactly by
  ``scipy.optimize.lsq_linear`` (BVLS). The global minimum, and the profile at a fixed value,
  is the minimum over all boxes.
* Otherwise (Pearson, relative sources): every box minimised by ``scipy.optimize.minimize``
  (L-BFGS-B with the box as bounds, in scaled parameters), the lowest box wins.

Values are always evaluated with the written χ² (``Reference.value_grad``), never from the
assembled quadratic, so the reference cannot share a cancellation with the engine.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
from campaign import Case, Group, Reference, _rho, _shift
from scipy.optimize import lsq_linear, minimize
from threadpoolctl import threadpool_limits

from hepcombine import Measurement

# ---------------------------------------------------------------------- generation


def _plan(rng, n_meas: int, n_src: int, relative: bool):
    plan = []
    for j in range(n_src):
        k = int(rng.integers(1, n_meas + 1))
        members = sorted(int(m) for m in rng.choice(n_meas, size=k, replace=False))
        asym = bool(rng.random() < 0.5)
        plan.append(
            {
                "name": f"s{j}",
                "members": members,
                "rho": _rho(rng, len(members)) if len(members) > 1 else 0.0,
                "relative": bool(relative and rng.random() < 0.3),
                "asym": asym,
                "same_side": bool(asym and rng.random() < 0.2),
            }
        )
    return plan


def _kinked_params(plan, hessian_asym: set[str]) -> int:
    """The number of reference parameters with a kink: one per ±1 group, one per member
    otherwise (the members of a pulled Hessian source have their own offset)."""
    n = 0
    for p in plan:
        if not p["asym"] and p["name"] not in hessian_asym:
            continue
        n += 1 if abs(p["rho"]) == 1.0 or len(p["members"]) == 1 else len(p["members"])
    return n


def generate(
    rng: np.random.Generator,
    chi2: str = "neyman",
    *,
    small: bool = True,
    relative: bool = False,
    max_kinked: int | None = None,
) -> Case:
    """A random kinked differential combination (see the module docstring)."""
    if small:
        n_bins, n_src = int(rng.integers(4, 9)), int(rng.integers(4, 9))
        max_kinked = 4 if max_kinked is None else max_kinked
    else:
        n_bins, n_src = int(rng.integers(5, 51)), int(rng.integers(5, 31))
    n_meas = int(rng.integers(2, 4))
    plan = _plan(rng, n_meas, n_src, relative)
    # fitted sources of the Hessian measurement that are asymmetric (kink at λ̂ ≠ 0)
    hessian_asym = {
        p["name"] for p in plan if 0 in p["members"] and p["asym"] and rng.random() < 0.4
    }
    if max_kinked is not None:
        while _kinked_params(plan, hessian_asym) > max_kinked:
            p = next(p for p in plan[::-1] if p["asym"] or p["name"] in hessian_asym)
            p["asym"] = p["same_side"] = False
            hessian_asym.discard(p["name"])
    x = np.linspace(0, 1, n_bins)
    truth = 1000.0 * np.exp(-2.0 * x)
    est = [f"b{i}" for i in range(n_bins)]
    rho_stat = np.eye(n_bins) + 0.2 * (np.eye(n_bins, k=1) + np.eye(n_bins, k=-1))
    ms = []
    for a in range(n_meas):
        mine = [p for p in plan if a in p["members"]]
        sizes = {}
        shift = np.zeros(n_bins)
        total = np.zeros(n_bins)
        for p in mine:
            shape = 1 + rng.normal(0, 0.5) * (x - 0.5) + rng.normal(0, 0.3) * (x - 0.5) ** 2
            size = truth * rng.uniform(0.003, 0.03) * shape
            sizes[p["name"]] = size
            total += size**2
            shift += rng.normal(2.0 if rng.random() < 0.1 else 0.0, 1.0) * size
        if not mine:
            sizes["own"] = 0.02 * truth
            total += sizes["own"] ** 2
            shift += rng.normal() * sizes["own"]
        stat = np.sqrt(total) * 10 ** rng.uniform(np.log10(0.02), np.log10(0.3))
        chol = np.linalg.cholesky(rho_stat * np.outer(stat, stat))
        xh = truth + shift + chol @ rng.normal(size=n_bins)
        rel = [p["name"] for p in mine if p["relative"]]
        fitted = [p["name"] for p in mine if not p["asym"] or p["name"] in hessian_asym]
        if a == 0 and fitted:
            m = _hessian_measurement(rng, est, xh, stat, rho_stat, fitted, sizes, plan, rel)
            extra = [p for p in mine if p["name"] not in fitted]
        else:
            m = Measurement.from_uncertainties(
                dict(zip(est, xh, strict=True)),
                dict(zip(est, stat, strict=True)),
                {},
                stat_correlation=rho_stat,
                name=f"m{a}",
            )
            extra = mine
        syst = {}
        for p in extra:
            size = sizes[p["name"]]
            if p["asym"]:
                syst[p["name"]] = {
                    e: _shift(rng, abs(size[i]), True, p["same_side"]) for i, e in enumerate(est)
                }
            else:
                syst[p["name"]] = dict(zip(est, size, strict=True))
        if not mine:
            syst["own"] = dict(zip(est, sizes["own"], strict=True))
        if syst:
            m = m.with_uncertainties(syst, [n for n in rel if n in syst])
        ms.append(m)
    obs = {e: [f"m{a}:{e}" for a in range(n_meas)] for e in est}
    groups = [Group([(m, p["name"]) for m in p["members"]], p["rho"]) for p in plan]
    return Case("kinked", ms, obs, groups, chi2, "convino")


def _hessian_measurement(rng, est, xh, stat, rho_stat, fitted, sizes, plan, rel) -> Measurement:
    """The Hessian of a fit with data constraints on the sources (D ≥ 0) and pulled nuisance
    parameters; the sources in ``plan`` flagged asymmetric get a kink at their pulled value."""
    n_e, n_s = len(est), len(fitted)
    M = np.linalg.inv(rho_stat * np.outer(stat, stat))
    U = np.column_stack([sizes[s] for s in fitted])
    A = rng.normal(0, 0.4, (n_s, n_s)) / math.sqrt(n_s)
    D = A @ A.T
    H = np.block([[M, -M @ U], [-(M @ U).T, np.eye(n_s) + D + U.T @ M @ U]])
    pulls = {s: float(rng.normal(0, 0.4)) for s in fitted}
    m = Measurement.from_hessian(
        H,
        list(est) + list(fitted),
        dict(zip(est, xh, strict=True)),
        relative=[s for s in rel if s in fitted],
        nuisance_values=pulls,
        name="m0",
    )
    asym = {p["name"]: p for p in plan if p["asym"]}
    down = np.array(m.shifts_down)
    for j, s in enumerate(m.source_names):
        if s in asym:
            factor = rng.uniform(0.3, 1.7, n_e)
            if asym[s]["same_side"]:
                factor = -rng.uniform(0.1, 0.8, n_e)
            down[:, j] = down[:, j] * factor
    return replace(m, shifts_down=down)


def seeds(label: str, n: int):
    """``n`` seeded generators of one configuration (stable across runs)."""
    import zlib

    base = zlib.crc32(label.encode())
    return [np.random.default_rng([seed, base]) for seed in range(n)]


# ---------------------------------------------------------------------- the reference


class OrthantReference(Reference):
    """The global minimum and profile of a :class:`Case` by enumerating the kinks' boxes."""

    def __init__(self, case: Case) -> None:
        super().__init__(case)
        self._prepare()
        self.exact = case.chi2 == "neyman" and not any(m.relative for m in case.measurements)

    # -- the quadratic of one box (Neyman, absolute sources)
    def quadratic(
        self, box: list[tuple[float | None, float | None]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Q and c of χ² = pᵀQp − 2cᵀp + e in one box (the sign of every δ fixed)."""
        n = self.n
        Q = np.zeros((n, n))
        c = np.zeros(n)
        mid = np.array([_inside(lo, hi) for lo, hi in box])
        for idx, Cinv in self.prior_blocks:
            Q[np.ix_(idx, idx)] += Cinv
        for m, obs_of, idx, sign, _rel in self._meas:
            lh = m.nuisance_values
            delta_mid = sign * mid[idx] - lh  # only its sign is used
            slope = np.where(delta_mid > 0, m.shifts_up, -m.shifts_down)
            n_e = len(m.estimates)
            G = np.zeros((n_e, n))
            G[np.arange(n_e), obs_of] = 1.0
            T = np.zeros((len(idx), n))
            T[np.arange(len(idx)), idx] = sign
            G -= slope @ T
            h = m.estimates - slope @ lh
            Mi, Di = m.stat_information, m.source_information
            Q += G.T @ Mi @ G + T.T @ Di @ T
            c += G.T @ Mi @ h + T.T @ Di @ lh + T.T @ lh
        return 0.5 * (Q + Q.T), c

    def boxes(self, fixed: set[int] = frozenset()):
        return list(self._boxes(set(fixed)))

    def _box_min(self, box, start, fixed: dict[int, float]):
        free = np.array([i for i in range(self.n) if i not in fixed])
        lo = np.array([box[i][0] if box[i][0] is not None else -np.inf for i in free])
        hi = np.array([box[i][1] if box[i][1] is not None else np.inf for i in free])
        p = np.array(start, dtype=float)
        for i, v in fixed.items():
            p[i] = v
        if self.exact:
            Q, c = self.quadratic(box)
            fix = np.array(sorted(fixed), dtype=int)
            cf = c[free] - (Q[np.ix_(free, fix)] @ p[fix] if fix.size else 0.0)
            Qf = Q[np.ix_(free, free)]
            scale = 1.0 / np.sqrt(np.diag(Qf))
            Qs = Qf * np.outer(scale, scale)
            R = np.linalg.cholesky(Qs).T
            d = np.linalg.solve(R.T, cf * scale)
            sol = lsq_linear(R, d, bounds=(lo / scale, hi / scale), method="bvls", tol=1e-15)
            p[free] = np.clip(sol.x * scale, lo, hi)
        else:
            p[free] = self._box_scipy(box, p, free, lo, hi)
        return p, self.value_grad(p)[0]

    def _box_scipy(self, box, p, free, lo, hi):
        """L-BFGS-B over one box (scaled parameters). The χ² of a box need not be convex
        (Pearson, relative sources): a minimum on a kink bound can be a local one beside a lower
        one inside the box, so when a kinked parameter ends on a bound the box is minimised
        again from the start moved one unit (of λ) inside the box in those parameters, and from
        the box's mid-point in all of them; the lowest wins."""
        scale = np.array([self._scale[i] for i in free])

        def fg(z):
            q = p.copy()
            q[free] = z * scale
            with np.errstate(invalid="ignore", divide="ignore"):
                f, g = self.value_grad(q)
            if not np.isfinite(f):  # a trial point with a negative Pearson prediction
                return 1e300, np.zeros(len(z))
            return f, g[free] * scale

        zlo, zhi = lo / scale, hi / scale

        def run(z0):
            res = minimize(
                fg,
                np.clip(z0, zlo, zhi),
                jac=True,
                method="L-BFGS-B",
                bounds=list(zip(zlo, zhi, strict=True)),
                options={"ftol": 1e-16, "gtol": 1e-11, "maxiter": 5000, "maxcor": 50},
            )
            return np.clip(res.x, zlo, zhi), float(res.fun)

        z0 = np.clip(p[free], lo, hi) / scale
        z, f = run(z0)
        kinked = [j for j, i in enumerate(free) if box[i] != (None, None)]
        at_bound = [j for j in kinked if z[j] in (zlo[j], zhi[j])]
        if at_bound:
            starts = []
            inward = z.copy()
            for j in at_bound:
                inward[j] = zlo[j] + 1.0 / scale[j] if z[j] == zlo[j] else zhi[j] - 1.0 / scale[j]
            starts.append(inward)
            mid = z0.copy()
            for j in kinked:
                i = free[j]
                mid[j] = _inside(*box[i]) / scale[j]
            starts.append(mid)
            for z_start in starts:
                z2, f2 = run(z_start)
                if f2 < f:
                    z, f = z2, f2
        return z * scale

    def global_min(self, start, fixed: dict[int, float] | None = None):
        """The lowest box minimum (with ``fixed`` parameters held): (p, χ²)."""
        fixed = fixed or {}
        with threadpool_limits(limits=1, user_api="blas"):
            best = None
            for box in self._boxes(set(fixed)):
                p, f = self._box_min(box, start, fixed)
                if best is None or f < best[1]:
                    best = (p, f)
        return best

    def set_scale(self, res) -> None:
        """Parameter scales for the scipy minimisations: the engine's errors (values) and 1
        (sources)."""
        self._scale = np.ones(self.n)
        for i, o in enumerate(self.obs):
            self._scale[i] = res.errors[o]

    def n_boxes(self) -> int:
        return int(np.prod([len(v) + 1 for v in self.kinks.values()])) if self.kinks else 1


def _inside(lo: float | None, hi: float | None) -> float:
    if lo is None and hi is None:
        return 0.0
    if lo is None:
        return hi - 1.0
    if hi is None:
        return lo + 1.0
    return 0.5 * (lo + hi)


def check_quadratic(ref: OrthantReference, rng: np.random.Generator) -> float:
    """The assembled quadratic of every box against the written χ² at random points inside it:
    returns the largest relative difference of the χ² differences (a check of the reference)."""
    worst = 0.0
    for box in ref.boxes():
        Q, c = ref.quadratic(box)
        pts = []
        for _ in range(3):
            p = rng.normal(0, 1, ref.n) * 0.5
            for k, (lo, hi) in enumerate(box):
                if lo is not None or hi is not None:
                    a = lo if lo is not None else hi - 3.0
                    b = hi if hi is not None else lo + 3.0
                    p[k] = rng.uniform(a, b)
            for i in range(ref.n_obs):
                p[i] = 1000.0 * np.exp(-2.0 * i / max(1, ref.n_obs - 1))
            pts.append(p)
        for p, q in itertools.combinations(pts, 2):
            want = ref.value_grad(p)[0] - ref.value_grad(q)[0]
            got = (p @ Q @ p - 2 * c @ p) - (q @ Q @ q - 2 * c @ q)
            worst = max(worst, abs(got - want) / max(1.0, abs(want)))
    return worst
