r"""Pseudo-experiments of a quadratic combination by linear algebra (issue 22).

A quadratic combination (Neyman, absolute symmetric sources, Gaussian priors: no errors on
errors) is linear in its data. With θ = (x̄, η) its parameters (``chi2.py``) and, per
measurement α, the data d_α = (x̂_α, λ̂_α), the combined χ² (method.md §1–2)

    χ²(θ; d) = Σ_α ‖A_α θ − z_α‖²_M + (L_α η − λ̂_α)ᵀ D (L_α η − λ̂_α) − 2 λ̂_αᵀ L_α η
               + λ̂_αᵀ λ̂_α + ηᵀη,        A_α = [P_α, −U_α L_α],  z_α = x̂_α − U_α λ̂_α,

(P_α maps the combined values to the estimates of α, L_α the η to its sources) is a quadratic
form in (θ, d) jointly: χ² = θᵀ H θ − 2 θᵀ B d + dᵀ C d with

    H = Σ_α A_αᵀ M A_α + [0; L_αᵀ D L_α] + [0; 1]                  (½ the Hessian)
    B_α = [A_αᵀ M,  −A_αᵀ M U_α + [0; L_αᵀ (D + 1)]]
    C_α = [[M, −M U], [−Uᵀ M, Uᵀ M U + D + 1]].

So the minimum is θ*(d) = G d with the gain matrix G = H⁻¹ B, and χ²_min(d) = dᵀ K d with
K = C − Bᵀ G; the covariance 2 H⁻¹ (and with it the errors and the exact profile intervals
value ± error) does not depend on the data. Given the pseudo-data of many pseudo-experiments as
the rows of a matrix, their combined values are one matrix product and their χ²_min one
quadratic form, evaluated about the nominal data d₀ (θ = θ₀ + G Δ, χ²_min = χ²₀ + Δᵀ(g + K Δ),
Δ = d − d₀, g = 2 K d₀) so that the large common part of the data cancels exactly.

The pseudo-data themselves are drawn exactly as :meth:`ToyModel.generate
<hepcombine.toys.model.ToyModel.generate>` draws them (same generator per pseudo-experiment,
same normal variates in the same order), only for all pseudo-experiments of a chunk at once:
for a quadratic combination with ``stat="fixed"`` every draw is a standard normal, so one call
``rng.standard_normal(T)`` per pseudo-experiment gives the same numbers as the per-measurement
calls of the generic path. The numbers equal the generic per-toy combination's to rounding
(tests/toys/test_linear.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ..execution import item_rng

if TYPE_CHECKING:
    from ..chi2 import CombinedChi2
    from .model import ToyModel

__all__ = ["BLOCK", "LinearRecombination", "linear_recombination"]

Array = NDArray[np.float64]

#: pseudo-experiments per block of the batched linear algebra (:meth:`LinearRecombination.run`)
BLOCK = 64


def linear_recombination(model: ToyModel) -> LinearRecombination | None:
    """The linear recombination of ``model``'s pseudo-experiments, or ``None`` where it does
    not apply (a χ² that is not quadratic, a statistical model other than ``"fixed"``, a
    Hessian that cannot be factorised: the generic path then reports what is wrong)."""
    if model.stat != "fixed":
        return None
    comb = model.combiner
    if comb.errors_on_errors or comb.chi2 != "neyman":
        return None
    factor = comb._factor()
    chi2 = comb._model(factor)
    if not chi2.is_quadratic:
        return None
    try:
        return LinearRecombination(model, chi2)
    except np.linalg.LinAlgError:
        return None


class LinearRecombination:
    """Gain matrix and χ²_min quadratic form of a quadratic combination (module docstring),
    and the batched generation of its pseudo-data."""

    def __init__(self, model: ToyModel, chi2: CombinedChi2) -> None:
        assert chi2.is_quadratic
        self.model = model
        n_p, rank = chi2.n_params, chi2.rank
        npar = n_p + rank
        L = chi2.L
        H = 0.5 * chi2.hessian(np.zeros(npar))
        B_parts, C_parts, d0_parts = [], [], []
        for b in chi2.blocks:
            n_s = len(b.src)
            U = b.up
            Lb = L[b.src]
            A = np.hstack([b.design(n_p), -U @ Lb])
            AM = A.T @ b.M
            Dp1 = b.D + np.eye(n_s)
            Bl = -AM @ U
            Bl[n_p:] += Lb.T @ Dp1
            B_parts.append(np.hstack([AM, Bl]))
            MU = b.M @ U
            C_parts.append(np.block([[b.M, -MU], [-MU.T, U.T @ MU + Dp1]]))
            d0_parts.append(np.concatenate([b.x_hat, b.lam_hat]))
        B = np.hstack(B_parts)
        n_d = B.shape[1]
        C = np.zeros((n_d, n_d))
        o = 0
        for Cb in C_parts:
            k = Cb.shape[0]
            C[o : o + k, o : o + k] = Cb
            o += k
        chol = np.asarray(np.linalg.cholesky(H), dtype=np.float64)  # LinAlgError: not PD
        G = _cho_solve(chol, B)
        K = C - B.T @ G
        K = 0.5 * (K + K.T)
        d0 = np.concatenate(d0_parts)
        theta0 = G @ d0
        # one refinement step (as the generic linear solve): θ₀ ← θ₀ + H⁻¹(B d₀ − H θ₀)
        theta0 = theta0 + _cho_solve(chol, B @ d0 - H @ theta0)
        k_obs = len(model.observables)
        self.k = k_obs
        self.gain = np.ascontiguousarray(G[:k_obs])
        self.K = K
        self.d0 = d0
        self.values0 = theta0[:k_obs]
        self.chi2_0 = float(chi2(theta0))
        self.g = 2.0 * (K @ d0)
        cov = _cho_solve(chol, np.eye(npar))  # 2 (2H)⁻¹: H is half the Hessian
        self.errors = np.sqrt(np.diag(cov)[:k_obs])
        # the layout of one pseudo-experiment's normal variates (ToyModel.generate's order)
        self._prior = model._fixed_lambda is None
        self._n_prior = model._prior_factor.shape[1] if self._prior else 0
        self.n_normals = self._n_prior + sum(
            mm.d.size + mm.x_hat.size for mm in model._measurements
        )

    def run(self, seed: int, start: int, stop: int) -> tuple[Array, Array]:
        """Combined values (rows: pseudo-experiments ``start … stop − 1``) and χ²_min.

        The work is done in blocks of :data:`BLOCK` pseudo-experiments aligned on their
        indices (``i // BLOCK``), each a matrix of the same shape: a pseudo-experiment's row is
        then computed by the same operations whatever the chunk it is part of, and the numbers
        are bit-identical for any chunk size and number of workers (as the generic path's).
        """
        m = stop - start
        values = np.empty((m, self.k))
        chi2 = np.empty(m)
        first = start - start % BLOCK
        for b0 in range(first, stop, BLOCK):
            lo, hi = max(b0, start), min(b0 + BLOCK, stop)
            Z = np.zeros((BLOCK, self.n_normals))
            for i in range(lo, hi):
                Z[i - b0] = item_rng(seed, i).standard_normal(self.n_normals)
            v, c = self.recombine(self.pseudo_data(Z))
            values[lo - start : hi - start] = v[lo - b0 : hi - b0]
            chi2[lo - start : hi - start] = c[lo - b0 : hi - b0]
        return values, chi2

    def normals(self, seed: int, start: int, stop: int) -> Array:
        """The standard normal variates of pseudo-experiments ``start … stop − 1`` (rows), in
        the order :meth:`ToyModel.generate` draws them."""
        Z = np.empty((stop - start, self.n_normals))
        for j, i in enumerate(range(start, stop)):
            Z[j] = item_rng(seed, i).standard_normal(self.n_normals)
        return Z

    def pseudo_data(self, Z: Array) -> Array:
        """The data d (rows: pseudo-experiments; columns: each measurement's estimates then its
        source values, measurements in order) from their normal variates ``Z``
        (:meth:`normals`), as :meth:`ToyModel.generate` computes them."""
        model = self.model
        m = Z.shape[0]
        if self._prior:
            lam = Z[:, : self._n_prior] @ model._prior_factor.T
        else:
            assert model._fixed_lambda is not None
            lam = np.broadcast_to(model._fixed_lambda, (m, len(model.sources)))
        pos = self._n_prior
        parts = []
        for mm in model._measurements:
            lam_a = lam[:, mm.src]
            if mm.d.size:
                xi = Z[:, pos : pos + mm.d.size]
                pos += mm.d.size
                lam_hat = ((mm.d * (lam_a @ mm.q) + np.sqrt(mm.d) * xi) / (1.0 + mm.d)) @ mm.q.T
            else:
                lam_hat = np.zeros((m, mm.src.size))
            eps = Z[:, pos : pos + mm.x_hat.size]
            pos += mm.x_hat.size
            X = model.truth[mm.param][None, :] - (lam_a - lam_hat) @ mm.up.T
            parts += [X + eps @ mm.chol_v.T, lam_hat]
        return np.hstack(parts)

    def recombine(self, data: Array) -> tuple[Array, Array]:
        """Combined values (rows: pseudo-experiments) and χ²_min of the data rows."""
        delta = data - self.d0[None, :]
        values = self.values0[None, :] + delta @ self.gain.T
        chi2 = self.chi2_0 + np.einsum("ij,ij->i", delta, delta @ self.K + self.g[None, :])
        return values, chi2


def _cho_solve(chol: Array, rhs: Array) -> Array:
    """H⁻¹ rhs from the lower Cholesky factor of H."""
    from scipy.linalg import solve_triangular

    y = solve_triangular(chol, rhs, lower=True, check_finite=False)
    return solve_triangular(chol.T, y, lower=False, check_finite=False)


def __dir__() -> list[str]:
    return list(__all__)
