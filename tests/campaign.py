"""Randomised combinations and an independent reference for the χ² engine (issue 14).

``generate(family, rng, chi2, asymmetry)`` builds a physically ordinary but random
combination of one of three families:

* ``"single"``: 2–5 measurements of one value, 2–6 sources each;
* ``"hessian"``: toy Hessian fits (1–3 estimates, data constraints on the sources, pulled
  nuisance parameters) plus orthogonal tables;
* ``"differential"``: 5–50 bins × 2–3 measurements × 5–30 sources, statistically correlated
  neighbouring bins;

with relative, asymmetric (including same-side), pulled and ±1-correlated sources, and
statistical uncertainties from a few per mille to a few per cent of the systematic ones.

:class:`Reference` is the χ² of method.md §2 written out again, independently of the engine:
in the parameters (combined values, λ) with the ±1-correlated sources merged into one λ and the
prior λᵀC⁻¹λ per group of partially correlated sources (the engine uses x̄ and decorrelated η
with an eigen-factorisation), a gradient written by hand (checked against finite differences),
and minimised on every box between kinks (each box is smooth) by projected Newton steps with a
finite-difference Hessian of that gradient; the lowest box minimum is the minimum.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from hepcombine import Combiner, Measurement

# ---------------------------------------------------------------------- generation


@dataclass
class Group:
    """One physical source shared by ``members`` (measurement index, source name) with
    correlation ``rho`` between every pair of members."""

    members: list[tuple[int, str]]
    rho: float


@dataclass
class Case:
    family: str
    measurements: list[Measurement]
    observables: dict[str, list[str]]
    groups: list[Group]
    chi2: str
    asymmetry: str
    seed: int = 0
    label: str = field(default="")

    @property
    def correlations(self) -> dict[tuple[str, str], float]:
        out = {}
        for g in self.groups:
            for (a, sa), (b, sb) in itertools.combinations(g.members, 2):
                if g.rho != 0.0:
                    out[(f"m{a}:{sa}", f"m{b}:{sb}")] = g.rho
        return out

    def combiner(self, **kw) -> Combiner:
        return Combiner(
            self.measurements,
            self.observables,
            self.correlations,
            chi2=self.chi2,
            asymmetry=self.asymmetry,
            **kw,
        )


def _rho(rng: np.random.Generator, n_members: int) -> float:
    u = rng.random()
    if u < 0.35:
        return 1.0
    if u < 0.45 and n_members == 2:
        return -1.0
    if u < 0.75:
        return float(rng.uniform(0.2, 0.9))
    return 0.0


def _shift(rng: np.random.Generator, size: float, asymmetric: bool, same_side: bool):
    if not asymmetric:
        return float(size * rng.choice([-1.0, 1.0]))
    if same_side:
        sign = rng.choice([-1.0, 1.0])
        return (float(sign * size), float(sign * size * rng.uniform(0.1, 0.8)))
    eps = rng.uniform(-0.7, 0.7)
    sign = rng.choice([-1.0, 1.0])
    return (float(sign * size * (1 + eps)), float(-sign * size * (1 - eps)))


def generate(
    family: str, rng: np.random.Generator, chi2: str, asymmetry: str, *, small: bool = False
) -> Case:
    """A random case of ``family``; ``small`` caps a differential one at 12 bins, 12 sources and
    two asymmetric ones (the reference's cost grows fast with the size and, as 2^k boxes, with
    the number k of kinked parameters: the test suite's bound)."""
    if family == "differential" and small:
        n_bins, n_src = int(rng.integers(5, 13)), int(rng.integers(5, 13))
        return _differential(rng, chi2, asymmetry, n_bins=n_bins, n_src=n_src, max_kinked=2)
    if family == "single":
        return _single(rng, chi2, asymmetry)
    if family == "hessian":
        return _hessian(rng, chi2, asymmetry)
    if family == "differential":
        return _differential(rng, chi2, asymmetry)
    raise ValueError(family)


def _source_plan(rng, n_meas, n_src, max_kinked):
    """Which measurements carry which source, its correlation, relative / asymmetric flags."""
    plan = []
    kinked = 0
    for j in range(n_src):
        members = sorted(rng.choice(n_meas, size=rng.integers(1, n_meas + 1), replace=False))
        asym = kinked < max_kinked and rng.random() < 0.35
        kinked += asym
        plan.append(
            {
                "name": f"s{j}",
                "members": [int(m) for m in members],
                "rho": _rho(rng, len(members)) if len(members) > 1 else 0.0,
                "relative": bool(rng.random() < 0.3),
                "asym": bool(asym),
                "same_side": bool(asym and rng.random() < 0.25),
            }
        )
    return plan


def _groups(plan) -> list[Group]:
    return [Group([(m, p["name"]) for m in p["members"]], p["rho"]) for p in plan]


def _single(rng, chi2, asymmetry) -> Case:
    n_meas = int(rng.integers(2, 6))
    plan = _source_plan(rng, n_meas, int(rng.integers(2, 7)), max_kinked=3)
    truth = 100.0
    ms = []
    for a in range(n_meas):
        syst = {}
        total = 0.0
        for p in plan:
            if a in p["members"]:
                size = truth * rng.uniform(0.005, 0.05)
                total += size**2
                syst[p["name"]] = {"x": _shift(rng, size, p["asym"], p["same_side"])}
        if not syst:
            size = truth * 0.02
            total = size**2
            syst["own"] = {"x": float(size)}
        stat = np.sqrt(total) * 10 ** rng.uniform(np.log10(0.003), np.log10(0.05))
        xh = truth + rng.normal(0, np.sqrt(total + stat**2))
        rel = [p["name"] for p in plan if p["relative"] and p["name"] in syst]
        ms.append(
            Measurement.from_uncertainties({"x": xh}, {"x": stat}, syst, relative=rel, name=f"m{a}")
        )
    obs = {"x": [f"m{a}:x" for a in range(n_meas)]}
    return Case("single", ms, obs, _groups(plan), chi2, asymmetry)


def _hessian(rng, chi2, asymmetry) -> Case:
    n_meas = int(rng.integers(2, 4))
    n_est = int(rng.integers(1, 4))
    plan = _source_plan(rng, n_meas, int(rng.integers(2, 6)), max_kinked=0)
    extra = _source_plan(rng, n_meas, int(rng.integers(0, 3)), max_kinked=2)
    for p in extra:
        p["name"] = "o" + p["name"]
    values = 100.0 * (1 + np.arange(n_est))
    ms = []
    for a in range(n_meas):
        est = [f"x{i}" for i in range(n_est)]
        src = [p["name"] for p in plan if a in p["members"]]
        stat = values * rng.uniform(0.02, 0.05, n_est)
        rho = np.eye(n_est) + 0.3 * (np.eye(n_est, k=1) + np.eye(n_est, k=-1))
        M = np.linalg.inv(rho * np.outer(stat, stat))
        U = rng.normal(0, 1, (n_est, len(src))) * values[:, None] * 0.03
        A = rng.normal(0, 0.5, (len(src), len(src)))
        D = A @ A.T
        H = np.block([[M, -M @ U], [-(M @ U).T, np.eye(len(src)) + D + U.T @ M @ U]])
        xh = values * (1 + rng.normal(0, 0.03, n_est))
        pulls = {s: float(rng.normal(0, 0.3)) for s in src}
        rel = [p["name"] for p in plan if p["relative"] and p["name"] in src]
        m = Measurement.from_hessian(
            H,
            est + src,
            dict(zip(est, xh, strict=True)),
            relative=rel,
            nuisance_values=pulls,
            name=f"m{a}",
        )
        syst = {}
        for p in extra:
            if a in p["members"]:
                syst[p["name"]] = {
                    e: _shift(rng, v * rng.uniform(0.005, 0.03), p["asym"], p["same_side"])
                    for e, v in zip(est, values, strict=True)
                }
        if syst:
            m = m.with_uncertainties(
                syst, [p["name"] for p in extra if p["relative"] and p["name"] in syst]
            )
        ms.append(m)
    obs = {f"x{i}": [f"m{a}:x{i}" for a in range(n_meas)] for i in range(n_est)}
    return Case("hessian", ms, obs, _groups(plan) + _groups(extra), chi2, asymmetry)


def _differential(rng, chi2, asymmetry, n_bins=None, n_src=None, n_meas=None, max_kinked=3) -> Case:
    n_bins = int(n_bins or rng.integers(5, 51))
    n_meas = int(n_meas or rng.integers(2, 4))
    n_src = int(n_src or rng.integers(5, 31))
    plan = _source_plan(rng, n_meas, n_src, max_kinked=max_kinked)
    x = np.linspace(0, 1, n_bins)
    truth = 1000.0 * np.exp(-3.0 * x)
    ms = []
    for a in range(n_meas):
        est = [f"b{i}" for i in range(n_bins)]
        syst = {}
        total = np.zeros(n_bins)
        shift = np.zeros(n_bins)
        for p in plan:
            if a in p["members"]:
                shape = 1 + rng.normal(0, 0.5) * (x - 0.5) + rng.normal(0, 0.3) * (x - 0.5) ** 2
                size = truth * rng.uniform(0.002, 0.02) * shape
                total += size**2
                entries = {}
                for i, e in enumerate(est):
                    entries[e] = _shift(rng, abs(size[i]), p["asym"], p["same_side"])
                    if not p["asym"]:
                        entries[e] = float(size[i])
                syst[p["name"]] = entries
                # the estimates scatter as the measurement's own model says: each source pulls
                # coherently across the bins (now and then by 2σ), the statistics per bin
                pull = rng.normal(2.0 if rng.random() < 0.1 else 0.0, 1.0)
                shift += pull * size
        if not syst:
            syst["own"] = dict(zip(est, 0.02 * truth, strict=True))
            total = (0.02 * truth) ** 2
            shift += rng.normal() * 0.02 * truth
        ratio = 10 ** rng.uniform(np.log10(0.003), np.log10(0.05))
        stat = np.sqrt(total) * ratio
        rho = np.eye(n_bins) + 0.2 * (np.eye(n_bins, k=1) + np.eye(n_bins, k=-1))
        chol = np.linalg.cholesky(rho * np.outer(stat, stat))
        xh = truth + shift + chol @ rng.normal(size=n_bins)
        rel = [p["name"] for p in plan if p["relative"] and p["name"] in syst]
        ms.append(
            Measurement.from_uncertainties(
                dict(zip(est, xh, strict=True)),
                dict(zip(est, stat, strict=True)),
                syst,
                stat_correlation=rho,
                relative=rel,
                name=f"m{a}",
            )
        )
    obs = {f"b{i}": [f"m{a}:b{i}" for a in range(n_meas)] for i in range(n_bins)}
    return Case("differential", ms, obs, _groups(plan), chi2, asymmetry)


# ---------------------------------------------------------------------- the reference


class Reference:
    """The χ² of a :class:`Case`, written out independently of the engine (see module doc)."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.obs = list(case.observables)
        self.n_obs = len(self.obs)
        # parameters of the sources: one per ±1 group, one per member otherwise
        self.src_param: dict[tuple[int, str], tuple[int, float]] = {}
        self.prior_blocks: list[tuple[list[int], np.ndarray]] = []
        k = self.n_obs
        for g in case.groups:
            if abs(g.rho) == 1.0:
                for i, mem in enumerate(g.members):
                    self.src_param[mem] = (k, 1.0 if (i == 0 or g.rho > 0) else -1.0)
                self.prior_blocks.append(([k], np.eye(1)))
                k += 1
            else:
                idx = []
                for mem in g.members:
                    self.src_param[mem] = (k, 1.0)
                    idx.append(k)
                    k += 1
                C = np.full((len(idx), len(idx)), g.rho)
                np.fill_diagonal(C, 1.0)
                self.prior_blocks.append((idx, np.linalg.inv(C)))
        # sources not in any group (e.g. the extra 'own' source): their own parameter
        for a, m in enumerate(case.measurements):
            for s in m.source_names:
                if (a, s) not in self.src_param:
                    self.src_param[(a, s)] = (k, 1.0)
                    self.prior_blocks.append(([k], np.eye(1)))
                    k += 1
        self.n = k
        self.obs_of = []
        for m in case.measurements:
            col = []
            for e in m.estimate_names:
                ref = f"{m.name}:{e}"
                col.append(next(i for i, o in enumerate(self.obs) if ref in case.observables[o]))
            self.obs_of.append(np.array(col))
        self.pearson = case.chi2 == "pearson"
        self.smooth = case.asymmetry == "smooth"
        # kinks (Convino form): per parameter, where a member's δ changes sign
        self.kinks: dict[int, set[float]] = {}
        if not self.smooth:
            for a, m in enumerate(case.measurements):
                asym = m.is_asymmetric
                for i, s in enumerate(m.source_names):
                    if asym[i]:
                        p, sign = self.src_param[(a, s)]
                        self.kinks.setdefault(p, set()).add(sign * float(m.nuisance_values[i]))

    def _s(self, up, down, d):
        """Shift s(δ) and ds/dδ of every (estimate, source) of one measurement (δ per source)."""
        if self.smooth:
            a, c = 0.5 * (up - down), 0.5 * (up + down)
            s = np.where(
                np.abs(d) <= 1,
                a * d + c * d * d,
                np.where(d > 1, up + (a + 2 * c) * (d - 1), down + (a - 2 * c) * (d + 1)),
            )
            s1 = np.where(np.abs(d) <= 1, a + 2 * c * d, np.where(d > 1, a + 2 * c, a - 2 * c))
            return s, s1
        slope = np.where(d > 0, up, np.where(d < 0, -down, 0.5 * (up - down)))
        return slope * d, slope

    def _prepare(self):
        self._meas = []
        for a, m in enumerate(self.case.measurements):
            idx = np.array([self.src_param[(a, s)][0] for s in m.source_names], dtype=int)
            sign = np.array([self.src_param[(a, s)][1] for s in m.source_names])
            rel = np.array([s in m.relative for s in m.source_names], dtype=bool)
            self._meas.append((m, self.obs_of[a], idx, sign, rel))

    def value_grad(self, p: np.ndarray) -> tuple[float, np.ndarray]:
        p = np.asarray(p, dtype=float)
        if not hasattr(self, "_meas"):
            self._prepare()
        chi2 = 0.0
        grad = np.zeros(self.n)
        for idx, Cinv in self.prior_blocks:
            lam = p[idx]
            chi2 += float(lam @ Cinv @ lam)
            grad[idx] += 2 * Cinv @ lam
        for m, obs_of, idx, sign, rel in self._meas:
            y = p[obs_of]
            xh = m.estimates
            delta = sign * p[idx] - m.nuisance_values
            s, s1 = self._s(m.shifts_up, m.shifts_down, delta[None, :])
            g = 1 - s[:, rel] / xh[:, None]
            scale = np.prod(g, axis=1)
            absolute = s[:, ~rel].sum(axis=1)
            X = y * scale - absolute
            if self.pearson:
                if not np.all(X > 0):
                    # the Pearson χ² is undefined where a prediction is not positive: +∞
                    # makes the line search step back (no square root of a negative)
                    return np.inf, np.full(self.n, np.nan)
                r = np.sqrt(xh / X) * (X - xh)
                drdX = np.sqrt(xh) * (0.5 / np.sqrt(X) + 0.5 * xh / X**1.5)
            else:
                r = X - xh
                drdX = np.ones_like(X)
            Mr = m.stat_information @ r
            Dd = m.source_information @ delta
            lh = m.nuisance_values
            # method.md §1: −2λ̂ᵀλ + λ̂ᵀλ̂ with λ = δ + λ̂, i.e. −2λ̂ᵀδ − λ̂ᵀλ̂ (the constant matters
            # only where χ²_min itself is compared)
            chi2 += float(r @ Mr + delta @ Dd - 2 * lh @ delta - lh @ lh)
            t = 2 * Mr * drdX  # ∂χ²/∂X
            np.add.at(grad, obs_of, t * scale)
            dX = -s1.copy()  # ∂X/∂δ: absolute sources
            dX[:, rel] = (y * scale)[:, None] * (-s1[:, rel] / xh[:, None] / g)
            gd = t @ dX + 2 * Dd - 2 * lh
            np.add.at(grad, idx, sign * gd)
        return chi2, grad

    def start(self, res) -> np.ndarray:
        p = np.zeros(self.n)
        for i, o in enumerate(self.obs):
            p[i] = res.values[o]
        for (a, s), (k, sign) in self.src_param.items():
            p[k] = sign * res.pulls[f"m{a}:{s}"]
        return p

    # ------------------------------------------------------------------ minimisation
    def _boxes(self, fixed: set[int]):
        params = sorted(k for k in self.kinks if k not in fixed)
        edges = [sorted(self.kinks[k]) for k in params]
        choices = [range(len(e) + 1) for e in edges]
        for combo in itertools.product(*choices):
            bounds = [(None, None)] * self.n
            for k, e, c in zip(params, edges, combo, strict=True):
                lo = e[c - 1] if c > 0 else None
                hi = e[c] if c < len(e) else None
                bounds[k] = (lo, hi)
            yield bounds

    def minimum(self, start: np.ndarray, fixed: dict[int, float] | None = None):
        """Global minimum (over the boxes between kinks) with the parameters ``fixed``."""
        # tiny dense operations: one BLAS thread is many times faster
        with threadpool_limits(limits=1, user_api="blas"):
            return self._minimum(start, fixed)

    def _minimum(self, start: np.ndarray, fixed: dict[int, float] | None = None):
        fixed = fixed or {}
        free = np.array([i for i in range(self.n) if i not in fixed])
        base = np.array(start, dtype=float)
        for i, v in fixed.items():
            base[i] = v

        def fg(z):
            p = base.copy()
            p[free] = z
            f, g = self.value_grad(p)
            return f, g[free]

        H = _fd_hessian(fg, base[free])
        best = None
        for bounds in self._boxes(set(fixed)):
            b = [bounds[i] for i in free]
            lo = np.array([v if v is not None else -np.inf for v, _ in b])
            hi = np.array([v if v is not None else np.inf for _, v in b])
            z, f = _projected_newton(fg, np.clip(base[free], lo, hi), lo, hi, H)
            if best is None or f < best[1]:
                best = (z, f)
        p = base.copy()
        p[free] = best[0]
        return p, best[1]

    def profile(self, c: int, v: float, start: np.ndarray):
        """Profiled χ² at x_c = v and its derivative ∂χ²/∂x_c there (envelope theorem).

        ``start`` is the minimum. The conditional χ² can have several local minima (smooth
        asymmetric interpolation, relative sources), so two starts are tried: the minimum with
        x_c moved to v, and the linear prediction of the profile path from the minimum,
        θ̂ + (v − x̂_c) H⁻¹e_c / (H⁻¹)_cc (H the finite-difference Hessian at the minimum)."""
        key = start.tobytes()
        if getattr(self, "_path_key", None) != key:
            with threadpool_limits(limits=1, user_api="blas"):
                H = _fd_hessian(self.value_grad, np.asarray(start, dtype=float))
            self._path = np.linalg.solve(H, np.eye(self.n))
            self._path_key = key
        path = self._path[:, c] / self._path[c, c]
        best = None
        for s in (start, start + (v - start[c]) * path):
            p, f = self.minimum(s, {c: v})
            if best is None or f < best[1]:
                best = (p, f)
        p, f = best
        return f, self.value_grad(p)[1][c]


def _fd_hessian(fg, z):
    """Hessian by central differences of the analytic gradient (symmetrised)."""
    n = len(z)
    H = np.zeros((n, n))
    h = 1e-6 * np.maximum(1.0, np.abs(z))
    for i in range(n):
        zp, zm = z.copy(), z.copy()
        zp[i] += h[i]
        zm[i] -= h[i]
        H[:, i] = (fg(zp)[1] - fg(zm)[1]) / (2 * h[i])
    return 0.5 * (H + H.T)


def _projected_newton(fg, z, lo, hi, H, max_iter=300):
    """Minimise on the box [lo, hi]: Newton steps with a finite-difference Hessian (refreshed
    when progress is slow) on the parameters not held at a bound, projected line search."""
    f, g = fg(z)
    refreshed = 0
    small = 0
    for it in range(max_iter):
        at_bound = ((z <= lo) & (g > 0)) | ((z >= hi) & (g < 0))
        free = ~at_bound
        step = np.zeros_like(z)
        if free.any():
            Hf = H[np.ix_(free, free)]
            try:
                c = np.linalg.cholesky(Hf)
                step[free] = -np.linalg.solve(c.T, np.linalg.solve(c, g[free]))
            except np.linalg.LinAlgError:
                w, v = np.linalg.eigh(Hf)
                w = np.maximum(np.abs(w), 1e-8 * np.max(np.abs(w)))
                step[free] = -v @ ((v.T @ g[free]) / w)
        t = 1.0
        while True:
            zn = np.clip(z + t * step, lo, hi)
            fn, gn = fg(zn)
            if np.isfinite(fn) and fn <= f + 1e-4 * float(g @ (zn - z)):
                break
            t *= 0.5
            if t < 1e-12:
                zn, fn, gn = z, f, g
                break
        moved = np.max(np.abs(zn - z) / np.maximum(1.0, np.abs(z))) if len(z) else 0.0
        if fn >= f and moved == 0.0:
            if refreshed >= 2:
                break
            H = _fd_hessian(fg, z)  # no progress: the Hessian is stale
            refreshed += 1
            continue
        z, f, g = zn, fn, gn
        small = small + 1 if moved < 1e-13 else 0
        if small >= 2:
            break
        if it and it % 20 == 0:
            H = _fd_hessian(fg, z)
    return z, f
