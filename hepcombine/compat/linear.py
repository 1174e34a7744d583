r"""How a combination responds to its data, and how the data scatter: the linear algebra behind
the pulls and the leave-one-out significances (:mod:`hepcombine.compat`).

The data of a combination are, per measurement α, its estimates x̂ and fitted source values λ̂,
stacked as y = (x̂_α, λ̂_α)_α. Two linear objects describe the combination near its minimum θ̂ =
(x̄, η̂) (notation of method.md §1–2, λ = Lη, C = LLᵀ):

**The response** ∂x̄/∂y. The data part of measurement α is, with w = (P x̄, λ_α) the
prediction's point (P maps the combined values to α's estimates, scaled by the multiplicative
factors f of relative and log-normal sources at the minimum) and U = −∂X/∂λ its shifts,

    χ²_α = (w − y_α)ᵀ H_α (w − y_α) − λ_αᵀλ_α,   H_α = [[M, −MU], [−UᵀM, UᵀMU + D + 1]]

(H_α is the Hessian of the measurement's own fit), so the gradient's derivative with respect
to the data is −2 G_αᵀH_α with G_α = ∂w/∂θ = [[P, 0], [0, L_α]], and the implicit-function
theorem at ∂χ²/∂θ = 0 gives

    ∂θ̂/∂y_α = V G_αᵀ H_α,    V = (½ ∂²χ²/∂θ²)⁻¹,

V being the combination's own covariance at its minimum — whatever its constraint terms are
(Gaussian priors, or other terms a combination may use): only the data terms are differentiated
here. The x̄ rows of this are, for the estimates, the combination's weights
(:attr:`~hepcombine.result.CombinationResult.weights`).

**The data covariance** Σ_y under the combination's own model, the one its pseudo-experiments
draw from (:mod:`hepcombine.toys.model`): the sources λ ~ N(0, C); per measurement
λ̂ = (1 + D)⁻¹(Dλ + ν) with ν ~ N(0, D) (the data constraint of the sources), and
x̂ = P x̄ − U(λ − λ̂) + ε with ε ~ N(0, M⁻¹). Hence y_α = T_α λ_α + n_α with

    T_α = [−U(1 + D)⁻¹ ; (1 + D)⁻¹D],
    Cov(n_α) = [[M⁻¹ + UKUᵀ, UK], [KUᵀ, K]],   K = (1 + D)⁻¹D(1 + D)⁻¹,

independent between measurements except through the shared λ. It is kept factorised,
Σ_y = F Fᵀ with F = [T L | blockdiag(N_α)], N_α N_αᵀ = Cov(n_α), so that the variance of any
linear function cᵀy is ‖cᵀF‖², non-negative by construction.

For a quadratic χ² (Neyman, absolute symmetric sources) both are exact and the combination is
the generalised least-squares estimate of this model: its covariance equals R Σ_y Rᵀ on the
combined values (checked in the tests), and by the Gauss–Markov theorem every unbiased linear
estimate z of a combined value is uncorrelated with z − x̄. Otherwise (Pearson, relative,
asymmetric, log-normal sources, non-Gaussian constraints) they are the linearisation at the
minimum: the shifts U are the derivatives of the prediction there, M the statistical
information as reported (the Pearson factor √(x̂/X) is 1 at the minimum to the order of the
residuals), and the variances are those of the delta method; the pseudo-experiments of
:func:`~hepcombine.compat.compatibility` calibrate them.

This module knows nothing of names, files or outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..chi2 import CombinedChi2
from ..solver import Solution

__all__ = [
    "DataCovariance",
    "Layout",
    "LinearCombination",
    "constraint_shares",
    "data_covariance",
    "layout",
    "response",
]

Array = NDArray[np.float64]

#: Relative size below which an eigenvalue of a source information D counts as zero, and below
#: which a negative one is rounding.
_EIG_TOL = 1e-10


@dataclass(frozen=True)
class Layout:
    """Where each measurement's data sit in y: ``blocks[i] = (offset, n_estimates,
    n_sources)`` for the i-th measurement (the order of the combination's measurements)."""

    blocks: tuple[tuple[int, int, int], ...]

    @property
    def size(self) -> int:
        if not self.blocks:
            return 0
        off, n_e, n_s = self.blocks[-1]
        return off + n_e + n_s

    def estimate(self, block: int, index: int) -> int:
        """Position in y of estimate ``index`` of measurement ``block``."""
        return self.blocks[block][0] + index


def layout(model: CombinedChi2) -> Layout:
    """The layout of the data of ``model``."""
    out = []
    off = 0
    for b in model.blocks:
        n_e, n_s = len(b.x_hat), len(b.src)
        out.append((off, n_e, n_s))
        off += n_e + n_s
    return Layout(tuple(out))


def _local_blocks(model: CombinedChi2, theta: Array) -> list[tuple[Array, Array]]:
    """Per measurement (f, U): the multiplicative factor of each estimate's combined value and
    the shifts −∂X/∂λ at θ (``CombinedChi2.linear_parts``)."""
    return [(f, -E) for f, E in model.linear_parts(theta)]


def response(model: CombinedChi2, solution: Solution, *, every_parameter: bool = False) -> Array:
    """∂(combined values and spectators)/∂y at the minimum: shape (n_params, n_y), columns in
    the order of :func:`layout` (module docstring); ``every_parameter``: ∂θ/∂y, the rows of
    the sources' η too."""
    theta, V = solution.theta, solution.covariance
    n_p = model.n_params
    A = V if every_parameter else V[:n_p]  # rows of the combined values (and spectators)
    lay = layout(model)
    out = np.zeros((A.shape[0], lay.size))
    for b, (f, U), (off, n_e, n_s) in zip(
        model.blocks, _local_blocks(model, theta), lay.blocks, strict=True
    ):
        B_x = A[:, b.param] * f[None, :]  # (n_p, n_e): V Pᵀ
        B_l = A[:, n_p:] @ model.L[b.src].T  # (n_p, n_s): V L_αᵀ
        W = B_x - B_l @ U.T  # the weights ∂x̄/∂x̂ before M
        WM = W @ b.M
        out[:, off : off + n_e] = WM
        if n_s:
            out[:, off + n_e : off + n_e + n_s] = -WM @ U + B_l @ (b.D + np.eye(n_s))
    return out


@dataclass(frozen=True, eq=False)
class DataCovariance:
    """Σ_y = F Fᵀ (module docstring), kept in blocks: the sources' part ``T`` (n_y × n_λ, to be
    multiplied by ``L``) and per measurement its noise factor ``noise[i]`` (rows of the block of
    measurement i, one column per independent fluctuation).

    ``negative``: per measurement, the most negative eigenvalue of its source information D
    that was set to zero (0.0 where D has none), for a note.
    """

    lay: Layout
    T: Array
    L: Array
    noise: tuple[Array, ...]
    negative: tuple[float, ...]

    def apply(self, C: Array) -> Array:
        """``C @ F`` for a matrix ``C`` of shape (k, n_y): shape (k, n_F)."""
        parts = [(C @ self.T) @ self.L]
        for (off, n_e, n_s), N in zip(self.lay.blocks, self.noise, strict=True):
            parts.append(C[:, off : off + n_e + n_s] @ N)
        return np.hstack(parts)

    def variance(self, C: Array) -> Array:
        """The variances of the linear functions ``C @ y`` (rows of C)."""
        Z = self.apply(C)
        return np.einsum("ij,ij->i", Z, Z)

    def covariance(self, C: Array) -> Array:
        """The covariance matrix of ``C @ y``."""
        Z = self.apply(C)
        return Z @ Z.T


def data_covariance(model: CombinedChi2, solution: Solution) -> DataCovariance:
    """Σ_y of ``model`` linearised at ``solution`` (module docstring)."""
    lay = layout(model)
    T = np.zeros((lay.size, model.n_lambda))
    noise = []
    negative = []
    for b, (_f, U), (off, n_e, n_s) in zip(
        model.blocks, _local_blocks(model, solution.theta), lay.blocks, strict=True
    ):
        chol_v = np.linalg.cholesky(np.linalg.inv(b.M))
        if n_s:
            D = 0.5 * (b.D + b.D.T)
            w, q = np.linalg.eigh(D)
            scale = max(1.0, float(np.max(np.abs(w))))
            negative.append(float(min(w.min(), 0.0)) if w.min() < -_EIG_TOL * scale else 0.0)
            keep = w > _EIG_TOL * scale
            s_inv = np.linalg.inv(np.eye(n_s) + D)
            T[off : off + n_e, b.src] = -U @ s_inv
            T[off + n_e : off + n_e + n_s, b.src] = s_inv @ D
            k_half = s_inv @ (q[:, keep] * np.sqrt(w[keep]))  # K = k_half k_halfᵀ
            N = np.zeros((n_e + n_s, n_e + k_half.shape[1]))
            N[:n_e, :n_e] = chol_v
            N[:n_e, n_e:] = U @ k_half
            N[n_e:, n_e:] = k_half
        else:
            negative.append(0.0)
            N = chol_v
        noise.append(N)
    return DataCovariance(lay, T, model.L, tuple(noise), tuple(negative))


def constraint_shares(L: Array, eta: Array, blocks: Sequence[NDArray[np.intp]]) -> Array:
    """λ_i (C⁺λ)_i with λ = Lη and C = LLᵀ, summed over the sources ``blocks[k]`` of each
    measurement: the shares of the prior ηᵀη (they add up to it; L has full column rank)."""
    if not eta.size:
        return np.zeros(len(blocks))
    share = (L @ eta) * (L @ np.linalg.solve(L.T @ L, eta))
    return np.array([float(share[src].sum()) for src in blocks])


@dataclass(frozen=True, eq=False)
class LinearCombination:
    """A quadratic combination as the exact linear map it is: its minimum θ̂(y) = θ̂₀ + R(y − y₀),
    and the data term of each measurement there, χ²_α = (w − y_α)ᵀH_α(w − y_α) − λ_αᵀλ_α
    (module docstring), for new data y of the same measurements (pseudo-experiments with the
    statistical information fixed)."""

    n_params: int
    theta0: Array
    y0: Array
    R: Array
    L: Array
    lay: Layout
    P: tuple[Array, ...]
    H: tuple[Array, ...]
    src: tuple[NDArray[np.intp], ...]

    @classmethod
    def of(cls, model: CombinedChi2, solution: Solution) -> LinearCombination:
        if not model.is_quadratic:
            raise ValueError("only a quadratic χ² is a linear map of its data")
        lay = layout(model)
        y0 = np.concatenate([np.concatenate([b.x_hat, b.lam_hat]) for b in model.blocks])
        Ps, Hs = [], []
        for b, (f, U) in zip(model.blocks, _local_blocks(model, solution.theta), strict=True):
            n_e, n_s = len(b.x_hat), len(b.src)
            P = np.zeros((n_e, model.n_params))
            P[np.arange(n_e), b.param] = f
            MU = b.M @ U
            H = np.block([[b.M, -MU], [-MU.T, U.T @ MU + b.D + np.eye(n_s)]])
            Ps.append(P)
            Hs.append(H)
        return cls(
            model.n_params,
            solution.theta.copy(),
            y0,
            response(model, solution, every_parameter=True),
            model.L,
            lay,
            tuple(Ps),
            tuple(Hs),
            tuple(np.asarray(b.src, dtype=np.intp) for b in model.blocks),
        )

    def minimum(self, y: Array) -> tuple[Array, float, Array, Array]:
        """θ̂, χ²_min, the data term of each measurement and its sources' share of the prior,
        for data ``y``."""
        theta = self.theta0 + self.R @ (y - self.y0)
        x, eta = theta[: self.n_params], theta[self.n_params :]
        lam = self.L @ eta
        data = np.empty(len(self.P))
        for k, ((off, n_e, n_s), P, H, src) in enumerate(
            zip(self.lay.blocks, self.P, self.H, self.src, strict=True)
        ):
            lam_a = lam[src]
            r = np.concatenate([P @ x, lam_a]) - y[off : off + n_e + n_s]
            data[k] = r @ H @ r - lam_a @ lam_a
        shares = constraint_shares(self.L, eta, self.src)
        return theta, float(data.sum() + eta @ eta), data, shares


def __dir__() -> list[str]:
    return list(__all__)
