"""Pseudo-measurements as in the Convino paper, Sect. 3, built and fitted by the tests.

Each pseudo-measurement α is a binned fit: estimate μ is spread over N bins with observed
content n_μb; the prediction is

    X̄_μb(x̄, λ) = x̄_μ / N · Π_j (1 + κ_μj λ_j) + Σ_j k_μbj λ_j

(κ: relative sources, k: absolute shape sources), and the likelihood is Gaussian with either a
fixed variance (σ² = n_μb) or the paper's Eq. 30 variance (σ² = X̄_μb, "Pearson"), with a
statistical correlation S between the estimates of one bin. Each pseudo-measurement is fitted
with iminuit and its Hessian recorded; the reference combination minimises the sum of the
pseudo-measurements' data χ² plus the correlated prior λᵀC⁻¹λ directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from iminuit import Minuit

from hepcombine import Measurement


@dataclass
class Pseudo:
    name: str
    x: np.ndarray  # (n_est,) true estimate values (observations are built from them)
    k: np.ndarray  # (n_est, n_bins, n_abs) absolute shape shifts per bin
    kappa: np.ndarray  # (n_est, n_rel) relative fractions
    corr: np.ndarray  # (n_est, n_est) statistical correlation between estimates in a bin
    pearson: bool = False
    n_obs: np.ndarray = field(default=None)  # (n_est, n_bins) observed counts

    def __post_init__(self):
        if self.n_obs is None:
            self.n_obs = np.repeat((self.x / self.n_bins)[:, None], self.n_bins, axis=1)
        self.S = np.linalg.inv(self.corr)

    @property
    def n_bins(self) -> int:
        return self.k.shape[1]

    @property
    def n_est(self) -> int:
        return len(self.x)

    @property
    def n_src(self) -> int:
        return self.k.shape[2] + self.kappa.shape[1]

    @property
    def est_names(self):
        return [f"{self.name}_x{m}" for m in range(self.n_est)]

    @property
    def src_names(self):
        return [f"{self.name}_abs{j}" for j in range(self.k.shape[2])] + [
            f"{self.name}_rel{j}" for j in range(self.kappa.shape[1])
        ]

    def prediction(self, xbar, lam):
        n_abs = self.k.shape[2]
        lam_abs, lam_rel = lam[:n_abs], lam[n_abs:]
        scale = np.prod(1.0 + self.kappa * lam_rel[None, :], axis=1)  # (n_est,)
        return (xbar * scale / self.n_bins)[:, None] + self.k @ lam_abs

    def chi2_data(self, xbar, lam):
        pred = self.prediction(xbar, lam)
        if self.pearson and not np.all(pred > 0):
            # σ² = prediction (Eq. 30) is no variance where the prediction is not positive:
            # the χ² is undefined there, +∞ makes Migrad step back (no sqrt of a negative)
            return math.inf
        sigma = np.sqrt(pred if self.pearson else self.n_obs)
        r = (pred - self.n_obs) / sigma  # (n_est, n_bins)
        return float(np.einsum("mb,mn,nb->", r, self.S, r))

    def fit(self):
        """Fit the pseudo-measurement alone (unit Gaussian priors); return x̂, λ̂, Hessian."""
        n_e = self.n_est

        def fcn(p):
            return self.chi2_data(p[:n_e], p[n_e:]) + float(p[n_e:] @ p[n_e:])

        start = np.concatenate([self.n_obs.sum(axis=1), np.zeros(self.n_src)])
        m = Minuit(fcn, start, name=self.est_names + self.src_names)
        m.errordef = 1
        m.strategy = 2
        m.tol = 1e-8
        m.migrad()
        assert m.valid
        m.hesse()
        best = np.array(m.values)
        # ½ ∂²χ² by central differences on a σ/1000 scale: exact for a quadratic χ², far more
        # precise than Minuit's Hesse (which aims at ~1e-3 relative)
        hessian = 0.5 * numerical_hessian(fcn, best, 1e-3 * np.array(m.errors))
        return best, hessian

    def measurement(self, with_pulls=True) -> Measurement:
        values, hessian = self.fit()
        n_e = self.n_est
        names = self.est_names + self.src_names
        return Measurement.from_hessian(
            hessian,
            names,
            dict(zip(self.est_names, values[:n_e], strict=True)),
            relative=[s for s in self.src_names if "_rel" in s],
            nuisance_values=dict(zip(self.src_names, values[n_e:], strict=True))
            if with_pulls
            else None,
            name=self.name,
        )


def make_pseudo(
    rng,
    name,
    x,
    *,
    n_bins=2,
    n_abs=2,
    n_rel=0,
    t=0.1,
    rel_size=0.05,
    d=0.0,
    pearson=False,
    pulls=0.0,
    fluctuate=False,
):
    x = np.atleast_1d(np.asarray(x, dtype=float))
    n_est = len(x)
    per_bin = x / n_bins
    sign = rng.choice([-1.0, 1.0], size=n_abs)  # constant sign per source (paper Sect. 3.2)
    k = (
        rng.uniform(0, t, size=(n_est, n_bins, n_abs))
        * per_bin[:, None, None]
        * sign[None, None, :]
    )
    kappa = rng.uniform(0.5, 1.0, size=(n_est, n_rel)) * rel_size
    corr = np.eye(n_est)
    if n_est > 1:
        off = np.clip(d + rng.uniform(-0.1, 0.1), -0.95, 0.95) if d else 0.0
        corr = np.array([[1.0, off], [off, 1.0]])
    p = Pseudo(name, x, k, kappa, corr, pearson)
    if fluctuate or pulls:
        lam_true = rng.normal(0.0, pulls, size=p.n_src) if pulls else np.zeros(p.n_src)
        n = p.prediction(x, lam_true)
        if fluctuate:
            n = n + rng.normal(0.0, 1.0, size=n.shape) * np.sqrt(n)
        p.n_obs = n
    return p


def direct_combination(pseudos, correlation, observable_of_estimate):
    """Minimise Σ_α χ²_data,α + λᵀ C⁻¹ λ over the combined values and all sources.

    ``observable_of_estimate``: per pseudo, the index of the combined value of each estimate.
    Returns values and symmetric errors (Hesse) of the combined values and the Minuit object.
    """
    n_obs = 1 + max(max(o) for o in observable_of_estimate)
    sizes = [p.n_src for p in pseudos]
    offsets = np.cumsum([0, *sizes])
    cinv = np.linalg.inv(correlation)

    def fcn(par):
        xbar = par[:n_obs]
        lam = par[n_obs:]
        total = float(lam @ cinv @ lam)
        for p, o, a, b in zip(
            pseudos, observable_of_estimate, offsets[:-1], offsets[1:], strict=True
        ):
            total += p.chi2_data(xbar[list(o)], lam[a:b])
        return total

    start = np.zeros(n_obs + offsets[-1])
    for p, o in zip(pseudos, observable_of_estimate, strict=True):
        for m, i in enumerate(o):
            start[i] = p.n_obs[m].sum()
    names = [f"xbar{i}" for i in range(n_obs)] + [f"l{i}" for i in range(offsets[-1])]
    m = Minuit(fcn, start, name=names)
    m.errordef = 1
    m.strategy = 2
    m.tol = 1e-8
    m.migrad()
    assert m.valid
    m.hesse()
    best = np.array(m.values)
    cov = 2.0 * np.linalg.inv(numerical_hessian(fcn, best, 1e-3 * np.array(m.errors)))
    return best[:n_obs], np.sqrt(np.diag(cov))[:n_obs], m


def numerical_hessian(fcn, p, h):
    """∂²f by central second differences with steps h (exact for quadratic f)."""
    n = len(p)
    H = np.empty((n, n))
    f0 = fcn(p)
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = h[i]
        H[i, i] = (fcn(p + ei) - 2 * f0 + fcn(p - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(n)
            ej[j] = h[j]
            H[i, j] = H[j, i] = (
                fcn(p + ei + ej) - fcn(p + ei - ej) - fcn(p - ei + ej) + fcn(p - ei - ej)
            ) / (4 * h[i] * h[j])
    return H
