"""Bartlett corrections of a χ² with errors-on-errors terms (method.md §2c).

With errors on errors the profile statistic q_c = χ²(x_c fixed, rest profiled) − χ²_min is
not χ²₁-distributed for finite ε, nor the χ²_min χ²_ndf-distributed. The Bartlett factor b = E[q]
rescales them: the 68.3 % interval of x_c is at Δχ² = b_c (instead of 1), and the goodness of fit
is χ²_min · ndf / b_χ² (Canonero, Brazzale, Cowan, EPJC 83 (2023) 1100; Canonero et al.,
arXiv:2407.05322).

Derivation (written down here because the tests check it). The gamma variance model of a term g
(N directions z of η, one ε) has, besides the χ²'s parameters β = (x̄, η), the variance factor s_g
of the group, with observations u_g ~ N(z_g, s_g I) (the global observables, here 0) and
v_g ~ Γ(α, α/s_g), α = 1/(4ε²) (the estimate of s, here 1). The χ² of
:class:`~hepcombine.chi2.GammaConstraint` is −2 ln L with s profiled. Lawley's expansion (Lawley,
Biometrika 43 (1956) 295) gives E[2(ℓ(ψ̂) − ℓ(ψ))] = dim ψ + ε_ψ + O(α⁻²) from the cumulants of
the log-likelihood derivatives. The data part (linear, Gaussian) has none beyond the second;
s is orthogonal to β (E[∂²ℓ/∂β∂s] = 0), and the only non-zero higher cumulants are those of
s alone and κ_{z_i z_j s} = δ_ij/s². Summing Lawley's terms with κ^{ββ} = −W (W = F⁻¹, F the
Fisher information of β) gives, per term and to first order in ε² (1/(α + N/2) → 1/α = 4ε²):

    ε_ψ = Σ_g 4ε_g² [1/6 + tr W_g/s_g − tr(W_g²)/(2s_g²) + (tr W_g)²/(4s_g²)],

W_g the z_g block of W. (Summed over a model with s alone, this is the classic 1/(6α) of a
gamma scale; for q of all N directions of one group with nothing else it gives
N(1 + (N + 2)ε²), the first-order term of the exact (N + 2α)[ψ(α + N/2) − ψ(α)].) Then

    b_c   = 1 + ε_full − ε_(x_c fixed),
    b_χ²  = ndf + ε_saturated − ε_full,

where for x_c fixed W is the inverse of F without row and column c, and in the saturated model
(every estimate its own free parameter) only the priors and the data constraints D of the
sources remain in F. Everything is evaluated at the minimum, with s_g its profiled value
ŝ = (1 + 2ε²Q̂)/(1 + 2Nε²) and F the Gauss–Newton Hessian of the χ² there (½ of it), whose prior
part is exactly I/ŝ on each term's directions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray

from ..chi2 import CombinedChi2

if TYPE_CHECKING:
    from . import Solution

__all__ = ["Bartlett", "bartlett_factors", "intervals_at"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Bartlett:
    """Bartlett factors at a minimum: ``profile[k]`` = E[q] of the profile statistic of
    parameter ``observables[k]``; ``chi2`` = E[χ²_min]."""

    profile: Array
    chi2: float


def _lawley(terms_w: Sequence[Array], eps2: Array, s: Array) -> float:
    """Σ_g 4ε² [tr W/s − tr(W²)/(2s²) + (tr W)²/(4s²)] (the constant 1/6 cancels in every
    difference and is left out)."""
    total = 0.0
    for w, e2, sg in zip(terms_w, eps2, s, strict=True):
        tr = float(np.trace(w)) / sg
        tr2 = float(np.sum(w * w)) / (sg * sg)
        total += 4.0 * e2 * (tr - 0.5 * tr2 + 0.25 * tr * tr)
    return total


def bartlett_factors(
    model: CombinedChi2,
    theta: Array,
    observables: Sequence[int],
    ndf: int,
    sides: Array | None = None,
) -> Bartlett:
    """The Bartlett factors of ``model`` (with errors-on-errors terms) at its minimum ``theta``
    for the parameters ``observables`` (indices into θ), see the module docstring."""
    terms = model.constraints
    n_p = model.n_params
    F = 0.5 * model.gauss_newton_hessian(theta, sides)
    W = np.linalg.inv(F)
    eta = theta[n_p:]
    eps2 = np.array([t.eps * t.eps for t in terms])
    s = np.array(
        [float(t.variance_factor(float((t.basis.T @ eta) @ (t.basis.T @ eta)))) for t in terms]
    )
    # the columns of W in η restricted to each term: Bᵀ W_ηη B and Bᵀ W_η,c
    Bs = [t.basis for t in terms]
    W_ee = W[n_p:, n_p:]
    full = [B.T @ W_ee @ B for B in Bs]
    e_full = _lawley(full, eps2, s)
    profile = np.empty(len(observables))
    for k, c in enumerate(observables):
        wc = W[n_p:, c]
        fixed = []
        for B, wg in zip(Bs, full, strict=True):
            v = B.T @ wc
            fixed.append(wg - np.outer(v, v) / W[c, c])
        profile[k] = 1.0 + e_full - _lawley(fixed, eps2, s)
    # saturated: only the priors (F's prior part) and the sources' data constraints D remain
    F_sat = np.zeros((model.rank, model.rank))
    for b in model.blocks:
        if b.has_D:
            Lb = model.L[b.src]
            F_sat += Lb.T @ b.D @ Lb
    F_sat[np.diag_indices_from(F_sat)] += 1.0
    for t, sg in zip(terms, s, strict=True):
        F_sat += (1.0 / sg - 1.0) * (t.basis @ t.basis.T)
    W_sat = np.linalg.inv(F_sat)
    sat = [B.T @ W_sat @ B for B in Bs]
    b_chi2 = float(ndf) + _lawley(sat, eps2, s) - e_full
    return Bartlett(profile, b_chi2)


class _Scaled:
    """``factor`` × a χ² (value, gradient, Hessian), otherwise the χ² itself: its profile
    interval at Δ = 1 is the χ²'s interval at Δχ² = 1/factor."""

    def __init__(self, model: CombinedChi2, factor: float) -> None:
        self._model = model
        self._factor = factor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def __call__(self, theta: Array) -> float:
        return self._factor * self._model(theta)

    def grad(self, theta: Array) -> Array:
        return self._factor * self._model.grad(theta)

    def hessian(self, theta: Array) -> Array:
        return self._factor * self._model.hessian(theta)

    def evaluate(
        self, theta: Array, order: int, sides: Array | None = None
    ) -> tuple[float, Array | None, Array | None]:
        f = self._factor
        v, g, h = self._model.evaluate(theta, order, sides)
        return f * v, None if g is None else f * g, None if h is None else f * h

    def values_and_gradients(
        self, thetas: Array, *, gradient: bool = True, sides: Array | None = None
    ) -> tuple[Array, Array | None]:
        v, g = self._model.values_and_gradients(thetas, gradient=gradient, sides=sides)
        return self._factor * v, None if g is None else self._factor * g

    def gauss_newton_hessian(self, theta: Array, sides: Array | None = None) -> Array:
        return self._factor * self._model.gauss_newton_hessian(theta, sides)


def intervals_at(
    solution: Solution,
    model: CombinedChi2,
    names: Sequence[str],
    observables: Sequence[str],
    levels: Sequence[float],
) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    """:func:`~hepcombine.solver.profile_intervals` of each observable at its own level
    Δχ² = ``levels[k]``: the Δ = 1 interval of the χ² divided by the level (same minimum, same
    profile up to that factor), so the interval solver itself is used unchanged."""
    from dataclasses import replace

    from . import profile_intervals

    intervals: dict[str, tuple[float, float]] = {}
    status: dict[str, str] = {}
    for o, level in zip(observables, levels, strict=True):
        f = 1.0 / float(level)
        minimum = solution.minimum
        scaled_solution = replace(
            solution,
            covariance=solution.covariance / f,
            chi2=solution.chi2 * f,
            edm=solution.edm * f,
            hessian=None if solution.hessian is None else solution.hessian * f,
            minimum=None
            if minimum is None
            else replace(minimum, chi2=minimum.chi2 * f, edm=minimum.edm * f),
        )
        scaled = cast(CombinedChi2, _Scaled(model, f))
        one, why = profile_intervals(scaled_solution, scaled, names, [o])
        intervals.update(one)
        status.update(why)
    return intervals, status


def __dir__() -> list[str]:
    return list(__all__)
