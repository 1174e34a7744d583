"""The combined χ² (method.md §2) with its analytic gradient and Hessian.

Parameters θ = (x̄, η): the combined values (plus one free value per spectator estimate) and the
decorrelated source parameters η, with the sources λ = L η (``correlations.py``) and the prior
ηᵀη. For each measurement α with δ = λ_α − λ̂_α:

    X_μ   = x̄_c(μ) · Π_rel (1 − s_μi(δ_i)/x̂_μ) − Σ_abs s_μi(δ_i)      (prediction of x̂_μ)
    r_μ   = X_μ − x̂_μ                      (Neyman)
          = √(x̂_μ/X_μ) (X_μ − x̂_μ)         (Pearson)
    χ²_α  = rᵀ M r + δᵀ D δ − 2 λ̂ᵀδ − λ̂ᵀλ̂

where s_μi(δ) is the shift of estimate μ for source i: u·δ for symmetric sources, piecewise
linear (Convino) or quadratic-inside/linear-outside (smooth) for asymmetric ones. With λ̂ = 0
and Neyman this is exactly the paper's Eq. 1 (its k̂ = −u). This module knows nothing about
names, files or the solver: it evaluates numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

__all__ = ["CombinedChi2", "MeasurementBlock"]

Array = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class MeasurementBlock:
    """One measurement's canonical arrays, placed in the combination.

    ``param[μ]`` is the index of the combined parameter estimate μ measures, ``src[i]`` the
    global index of source i (row of L).
    """

    x_hat: Array
    M: Array
    up: Array
    down: Array
    D: Array
    lam_hat: Array
    rel: NDArray[np.bool_]
    asym: NDArray[np.bool_]
    param: NDArray[np.intp]
    src: NDArray[np.intp]

    def __post_init__(self) -> None:
        # structure flags, evaluated once (the χ² is evaluated thousands of times by Minos)
        object.__setattr__(self, "has_D", bool(np.any(self.D != 0.0)))
        object.__setattr__(self, "any_rel", bool(np.any(self.rel)))
        object.__setattr__(self, "any_asym", bool(np.any(self.asym)))
        object.__setattr__(self, "injective", len(np.unique(self.param)) == len(self.param))

    def linearised(self) -> MeasurementBlock:
        """Neyman-equivalent block: symmetrised, all sources absolute."""
        u = 0.5 * (self.up - self.down)
        none = np.zeros_like(self.rel)
        return replace(self, up=u, down=-u, rel=none, asym=none)


class CombinedChi2:
    """χ²(θ) of a combination with analytic gradient and Hessian (of χ², not ½χ²).

    Calling the object evaluates χ²; :meth:`grad` and :meth:`hessian` have the signature
    iminuit expects. The last evaluation is cached, so iminuit's separate calls of value,
    gradient and Hessian at one point cost one evaluation.
    """

    errordef = 1.0

    def __init__(
        self,
        blocks: list[MeasurementBlock],
        n_params: int,
        L: Array,
        *,
        pearson: bool = False,
        asymmetry: Literal["convino", "smooth"] = "convino",
    ) -> None:
        self.blocks = blocks
        self.n_params = n_params
        self.L = L
        self.n_lambda, self.rank = L.shape
        self.pearson = pearson
        self.asymmetry = asymmetry
        self.npar = n_params + self.rank
        self._onehot = [
            sparse.csr_matrix(
                (np.ones(len(b.param)), (np.arange(len(b.param)), b.param)),
                shape=(len(b.param), n_params),
            )
            for b in blocks
        ]
        self._cache: tuple[bytes, int, tuple] | None = None
        self.n_estimates = sum(len(b.x_hat) for b in blocks)

    # ------------------------------------------------------------------ structure
    @property
    def is_quadratic(self) -> bool:
        """Neyman, absolute and symmetric: χ² is exactly quadratic in θ."""
        return not self.pearson and not any(b.any_rel or b.any_asym for b in self.blocks)

    def linearised(self) -> CombinedChi2:
        """The quadratic (Neyman, absolute, symmetrised) approximation of this χ²."""
        if self.is_quadratic:
            return self
        return CombinedChi2([b.linearised() for b in self.blocks], self.n_params, self.L)

    def start(self) -> Array:
        """A starting point: each combined value at the mean of its estimates, η = 0."""
        total = np.zeros(self.n_params)
        count = np.zeros(self.n_params)
        for b in self.blocks:
            np.add.at(total, b.param, b.x_hat)
            np.add.at(count, b.param, 1.0)
        return np.concatenate([total / np.maximum(count, 1.0), np.zeros(self.rank)])

    # ------------------------------------------------------------------ iminuit interface
    def __call__(self, theta: Array) -> float:
        return self.evaluate(np.asarray(theta, dtype=float), 0)[0]

    def grad(self, theta: Array) -> Array:
        return self.evaluate(np.asarray(theta, dtype=float), 1)[1]

    def hessian(self, theta: Array) -> Array:
        return self.evaluate(np.asarray(theta, dtype=float), 2)[2]

    # ------------------------------------------------------------------ evaluation
    def _shift(self, b: MeasurementBlock, delta: Array) -> tuple[Array, Array, Array | None]:
        """s, ds/dδ, d²s/dδ² for every (estimate, source) of a block."""
        up, down = b.up, b.down
        if not b.any_asym:
            return up * delta, up, None
        if self.asymmetry == "convino":
            slope = np.where(delta > 0, up, np.where(delta < 0, -down, 0.5 * (up - down)))
            return slope * delta, slope, None
        a = 0.5 * (up - down)
        c = 0.5 * (up + down)
        inside = np.abs(delta) <= 1.0
        s = np.where(
            inside,
            a * delta + c * delta**2,
            np.where(
                delta > 0, up + (a + 2 * c) * (delta - 1.0), down + (a - 2 * c) * (delta + 1.0)
            ),
        )
        s1 = np.where(inside, a + 2 * c * delta, np.where(delta > 0, a + 2 * c, a - 2 * c))
        s2 = np.where(inside, 2 * c, 0.0)
        return s, s1, s2

    @staticmethod
    def _scale(b: MeasurementBlock, s: Array) -> tuple[Array, Array | None]:
        """f_μ = Π_rel (1 − s_μi/x̂_μ) and its factors g (None without relative sources)."""
        if not b.any_rel:
            return np.ones_like(b.x_hat), None
        g = 1.0 - s[:, b.rel] / b.x_hat[:, None]
        return np.prod(g, axis=1), g

    @staticmethod
    def _dX_ddelta(b: MeasurementBlock, y: Array, f: Array, g: Array | None, s1: Array) -> Array:
        """∂X/∂δ: −s' for absolute sources, −y f s'/(x̂ g) for relative ones."""
        E = -s1
        if g is not None:
            E = E.copy()
            E[:, b.rel] = -(y * f)[:, None] * s1[:, b.rel] / (b.x_hat[:, None] * g)
        return E

    def evaluate(self, theta: Array, order: int) -> tuple[float, Array | None, Array | None]:
        """χ² (order 0), plus gradient (1), plus Hessian (2) at θ."""
        key = theta.tobytes()
        if self._cache is not None and self._cache[0] == key and self._cache[1] >= order:
            return self._cache[2]
        n_p = self.n_params
        x, eta = theta[:n_p], theta[n_p:]
        lam = self.L @ eta
        chi2 = float(eta @ eta)
        g_x = np.zeros(n_p) if order >= 1 else None
        g_l = np.zeros(self.n_lambda) if order >= 1 else None
        if order >= 2:
            h_xx = np.zeros((n_p, n_p))
            h_xl = np.zeros((n_p, self.n_lambda))
            h_ll = np.zeros((self.n_lambda, self.n_lambda))
        for b, onehot in zip(self.blocks, self._onehot, strict=True):
            x_hat = b.x_hat
            delta = lam[b.src] - b.lam_hat
            s, s1, s2 = self._shift(b, delta)
            y = x[b.param]
            rel = b.rel
            any_rel = b.any_rel
            f, g = self._scale(b, s)
            absolute = s[:, ~rel].sum(axis=1) if any_rel else s.sum(axis=1)
            X = y * f - absolute
            if self.pearson:
                ratio = X / x_hat
                # outside the physical region (prediction of opposite sign) continue the
                # Neyman form so that the minimiser is pushed back instead of failing
                bad = ratio <= 1e-6
                Xs = np.where(bad, x_hat, X)
                sq = np.sqrt(x_hat)  # the Combiner requires x̂ > 0 for Pearson
                r = np.where(bad, X - x_hat, sq * (np.sqrt(Xs) - x_hat / np.sqrt(Xs)))
                r1 = np.where(bad, 1.0, sq * (0.5 / np.sqrt(Xs) + 0.5 * x_hat / Xs**1.5))
                r2 = np.where(bad, 0.0, sq * (-0.25 / Xs**1.5 - 0.75 * x_hat / Xs**2.5))
            else:
                r = X - x_hat
                r1 = None
                r2 = None
            q = b.M @ r
            chi2 += float(r @ q)
            Dd = b.D @ delta if b.has_D else None
            if Dd is not None:
                chi2 += float(delta @ Dd)
            chi2 -= float(2.0 * b.lam_hat @ delta + b.lam_hat @ b.lam_hat)
            if order < 1:
                continue
            E = self._dX_ddelta(b, y, f, g, s1)
            qr1 = q if r1 is None else q * r1
            t = 2.0 * qr1
            g_x += np.bincount(b.param, weights=t * f, minlength=n_p)
            gd = E.T @ t - 2.0 * b.lam_hat
            if Dd is not None:
                gd += 2.0 * Dd
            g_l[b.src] += gd
            if order < 2:
                continue
            W = b.M if r1 is None else r1[:, None] * b.M * r1[None, :] + np.diag(q * r2)
            WE = W @ E
            K = f[:, None] * W * f[None, :]
            if b.injective:
                h_xx[np.ix_(b.param, b.param)] += K
            else:
                h_xx += (onehot.T @ (onehot.T @ K).T).T
            cross = f[:, None] * WE  # rows: estimates; summed into combined values below
            hdd = E.T @ WE
            if b.has_D:
                hdd += b.D
            curv_diag = np.zeros(len(b.src))
            if s2 is not None:
                curv_diag[~rel] -= (qr1[:, None] * s2[:, ~rel]).sum(axis=0)
            if any_rel:
                # R = s'/(x̂ g) on relative sources; mixed x̄–δ term ∂f/∂δ = −f R
                R = np.zeros_like(s1)
                R[:, rel] = s1[:, rel] / (x_hat[:, None] * g)
                cross -= (qr1 * f)[:, None] * R
                yf = qr1 * y * f
                hdd += R.T @ (yf[:, None] * R)
                curv_diag -= (yf[:, None] * R * R).sum(axis=0)
                if s2 is not None:
                    curv_diag[rel] -= (yf[:, None] * s2[:, rel] / (x_hat[:, None] * g)).sum(axis=0)
            hdd[np.diag_indices_from(hdd)] += curv_diag
            if b.injective:
                h_xl[np.ix_(b.param, b.src)] += cross
            else:
                h_xl[:, b.src] += onehot.T @ cross
            h_ll[np.ix_(b.src, b.src)] += hdd
        grad = hess = None
        if order >= 1:
            grad = np.concatenate([g_x, self.L.T @ g_l + 2.0 * eta])
        if order >= 2:
            h_xe = h_xl @ self.L
            h_ee = self.L.T @ h_ll @ self.L + np.eye(self.rank)
            hess = 2.0 * np.block([[h_xx, h_xe], [h_xe.T, h_ee]])
            hess = 0.5 * (hess + hess.T)
        out = (chi2, grad, hess)
        self._cache = (key, order, out)
        return out

    # ------------------------------------------------------------------ decomposition
    def linear_parts(self, theta: Array) -> list[tuple[Array, Array]]:
        """Per measurement, the linearised dependence of the predictions X of its estimates at
        θ: ``(f, E)`` with ∂X_μ/∂x̄_c(μ) = f_μ and ∂X/∂λ_α = E (so ∂X/∂η = E L_α)."""
        n_p = self.n_params
        lam = self.L @ theta[n_p:]
        x = theta[:n_p]
        out = []
        for b in self.blocks:
            delta = lam[b.src] - b.lam_hat
            s, s1, _ = self._shift(b, delta)
            f, g = self._scale(b, s)
            out.append((f, self._dX_ddelta(b, x[b.param], f, g, s1)))
        return out
