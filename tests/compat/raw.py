"""Measurements built from raw data, and the full likelihood of the raw data, written in the
tests (no hepcombine code): the independent reference of the compatibility diagnostics.

A raw measurement α observes bins d = A x + K λ + ε (ε ~ N(0, diag(w))), where x are the true
combined values it measures and λ its nuisance parameters. Its own analysis fits (x_α, λ) with
the unit prior λᵀλ: the estimates x̂, the fitted source values λ̂ and the Hessian H it reports are
linear functions of d. The reference combination fits all raw bins at once with the assumed
correlation C between all sources (prior λᵀC⁻¹λ); for the compatibility diagnostics the sources
are random, λ ~ N(0, C), so the raw bins have covariance diag(w) + K C Kᵀ and every estimate and
combined value is an explicit linear map of the bins: variances are quadratic forms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hepcombine import Combiner, Measurement


@dataclass
class Raw:
    name: str
    obs: list[int]  # indices of the combined values it measures
    A: np.ndarray  # (n_bins, len(obs)) design
    K: np.ndarray  # (n_bins, n_src) effect of each source on each bin
    w: np.ndarray  # (n_bins,) statistical variances
    src: list[int]  # global index of each source

    @property
    def H(self) -> np.ndarray:
        """Hessian of the own fit in (x_α, λ), with the unit prior."""
        W = np.diag(1.0 / self.w)
        B = np.hstack([self.A, self.K])
        h = B.T @ W @ B
        n = len(self.obs)
        h[n:, n:] += np.eye(self.K.shape[1])
        return h

    @property
    def fit_map(self) -> np.ndarray:
        """(x̂, λ̂) = fit_map @ d."""
        B = np.hstack([self.A, self.K])
        return np.linalg.solve(self.H, B.T / self.w[None, :])

    def own_min(self, d: np.ndarray) -> float:
        """Minimum of the own fit's χ² (bins + unit prior)."""
        p = self.fit_map @ d
        return self.bins_chi2(d, p[: len(self.obs)], p[len(self.obs) :]) + float(
            p[len(self.obs) :] @ p[len(self.obs) :]
        )

    def bins_chi2(self, d: np.ndarray, x: np.ndarray, lam: np.ndarray) -> float:
        r = d - self.A @ x - self.K @ lam
        return float(np.sum(r * r / self.w))

    def measurement(self, d: np.ndarray, estimate_names: list[str]) -> Measurement:
        p = self.fit_map @ d
        n = len(self.obs)
        src_names = [f"s{j}" for j in range(self.K.shape[1])]
        return Measurement.from_hessian(
            self.H,
            estimate_names + src_names,
            dict(zip(estimate_names, p[:n], strict=True)),
            nuisance_values=dict(zip(src_names, p[n:], strict=True)),
            name=self.name,
        )


@dataclass
class RawCombination:
    raws: list[Raw]
    n_obs: int
    C: np.ndarray  # assumed correlation of all sources (global index)
    data: list[np.ndarray]

    @property
    def obs_names(self) -> list[str]:
        return [f"x{k}" for k in range(self.n_obs)]

    def combiner(self, chi2: str = "neyman") -> Combiner:
        ms = [
            r.measurement(d, [f"x{k}" for k in r.obs])
            for r, d in zip(self.raws, self.data, strict=True)
        ]
        corr = {}
        owner = {}
        for r in self.raws:
            for j, g in enumerate(r.src):
                owner[g] = f"{r.name}:s{j}"
        n = self.C.shape[0]
        for a in range(n):
            for b in range(a + 1, n):
                if self.C[a, b] != 0.0:
                    corr[(owner[a], owner[b])] = float(self.C[a, b])
        return Combiner(ms, correlations=corr, chi2=chi2)

    # ----------------------------------------------------------------- the reference
    def layout(self, keep: list[int]) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """Design (bins × kept values), bin covariance, and the values measured by ``keep``."""
        measured = sorted({k for i in keep for k in self.raws[i].obs})
        rows, covs_k, w = [], [], []
        for i in keep:
            r = self.raws[i]
            A = np.zeros((len(r.w), len(measured)))
            for c, k in enumerate(r.obs):
                A[:, measured.index(k)] = r.A[:, c]
            K = np.zeros((len(r.w), self.C.shape[0]))
            K[:, r.src] = r.K
            rows.append(A)
            covs_k.append(K)
            w.append(r.w)
        A = np.vstack(rows)
        K = np.vstack(covs_k)
        cov = np.diag(np.concatenate(w)) + K @ self.C @ K.T
        return A, cov, measured

    def weights(self, keep: list[int]) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """x̄ = Λ d over the bins of ``keep`` (GLS), its covariance, the values."""
        A, cov, measured = self.layout(keep)
        ci = np.linalg.inv(cov)
        V = np.linalg.inv(A.T @ ci @ A)
        return V @ A.T @ ci, V, measured

    def bins_cov(self) -> np.ndarray:
        return self.layout(list(range(len(self.raws))))[1]

    def offsets(self) -> list[int]:
        out, o = [], 0
        for r in self.raws:
            out.append(o)
            o += len(r.w)
        return out

    def embed(self, lam: np.ndarray, keep: list[int]) -> np.ndarray:
        """Rows over the kept bins → rows over all bins."""
        off = self.offsets()
        n = sum(len(r.w) for r in self.raws)
        out = np.zeros((lam.shape[0], n))
        pos = 0
        for i in keep:
            nb = len(self.raws[i].w)
            out[:, off[i] : off[i] + nb] = lam[:, pos : pos + nb]
            pos += nb
        return out

    def d(self) -> np.ndarray:
        return np.concatenate(self.data)


def random_combination(
    rng: np.random.Generator,
    n_meas: int = 3,
    n_obs: int = 3,
    *,
    extreme: bool = False,
    full: bool = False,
) -> RawCombination:
    """Random raw measurements: each measures a random non-empty subset of the values (all with
    ``full``), with 0–2 more bins than values, 1–3 sources each; sources of different
    measurements correlated at random, some with ρ = ±1; statistical variances over many orders
    of magnitude with ``extreme``. The data are drawn from the model at a random truth."""
    truth = rng.uniform(10, 100, n_obs)
    raws = []
    g = 0
    for a in range(n_meas):
        if full or a == 0:
            obs = list(range(n_obs))
        else:
            k = int(rng.integers(1, n_obs + 1))
            obs = sorted(rng.choice(n_obs, size=k, replace=False).tolist())
        n_bins = len(obs) + int(rng.integers(0, 3))
        A = np.zeros((n_bins, len(obs)))
        for b in range(n_bins):
            A[b, b % len(obs)] = rng.uniform(0.5, 1.5)
        n_src = int(rng.integers(1, 4))
        K = rng.normal(0, 1.0, (n_bins, n_src)) * rng.uniform(0.2, 2.0)
        scale = 10.0 ** rng.uniform(-3, 2) if extreme else rng.uniform(0.3, 3.0)
        w = scale * rng.uniform(0.5, 2.0, n_bins)
        raws.append(Raw(f"m{a}", obs, A, K, w, list(range(g, g + n_src))))
        g += n_src
    C = np.eye(g)
    for _ in range(g):
        i, j = rng.choice(g, size=2, replace=False)
        if any(i in r.src and j in r.src for r in raws):
            continue  # no assumption within a measurement: its Hessian has them
        if np.count_nonzero(C[i]) > 1 or np.count_nonzero(C[j]) > 1:
            continue  # one partner per source: C stays a valid correlation matrix
        rho = float(rng.choice([1.0, -1.0, rng.uniform(-0.9, 0.9)]))
        C[i, j] = C[j, i] = rho
    lam = np.linalg.cholesky(C + 1e-12 * np.eye(g)) @ rng.standard_normal(g)
    data = []
    for r in raws:
        mean = r.A @ truth[r.obs] + r.K @ lam[r.src]
        data.append(mean + np.sqrt(r.w) * rng.standard_normal(len(r.w)))
    return RawCombination(raws, n_obs, C, data)
