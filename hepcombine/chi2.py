"""The combined χ² (method.md §2) with its analytic gradient and Hessian.

Parameters θ = (x̄, η): the combined values (plus one free value per spectator estimate) and the
decorrelated source parameters η, with the sources λ = L η (``correlations.py``) and the prior
ηᵀη. For each measurement α with δ = λ_α − λ̂_α:

    X_μ   = y_μ · f_μ(δ) − Σ_abs s_μi(δ_i)                              (prediction of x̂_μ)
    y_μ   = x̄_c(μ), or Σ_c A_μc x̄_c for an estimate of a linear combination (``linear``)
    f_μ   = Π_rel (1 − s_μi(δ_i)/x̂_μ) · Π_lognormal exp(ℓ_μi(δ_i))
    r_μ   = X_μ − x̂_μ                      (Neyman)
          = √(x̂_μ/X_μ) (X_μ − x̂_μ)         (Pearson)
    χ²_α  = rᵀ M r + δᵀ D δ − 2 λ̂ᵀδ − λ̂ᵀλ̂

where s_μi(δ) is the shift of estimate μ for source i: u·δ for symmetric sources, piecewise
linear (Convino: slope u_up for δ > 0, −u_down for δ < 0) or quadratic-inside/linear-outside
(smooth) for asymmetric ones. A log-normal source scales the prediction by
exp(ℓ(δ)) with ℓ(±1) = −ln(1 + u_±/x̂): the analysis that assumed the ±1σ variation would
have reported x̂ + u_±, so the truth is x̂ (1 + u/x̂)^λ and the prediction of x̂ is the inverse;
to first order this is the relative form, and the prediction never changes sign. A symmetric
log-normal source (u_down = −u_up) has one factor κ = 1 + u/x̂ for both sides, κ^(−δ), smooth
at 0. With λ̂ = 0 and Neyman this is exactly the paper's Eq. 1 (its k̂ = −u).

Sources that are absolute and symmetric enter linearly (``U δ``) and are evaluated with matrix
products; only relative, asymmetric and log-normal sources are evaluated element by element.
Values and gradients can be evaluated for a batch of points at once (columns of a matrix), which
the profile-interval solver uses for all endpoints together.

Kinks: Convino's piecewise-linear form has a kink at δ_i = 0. ``sides`` can force the slope of
a kinked source (−1: the δ < 0 side, +1: the δ > 0 side, 0: their mean), which lets the solver
hold a source on its kink and evaluate one-sided derivatives there. This module knows nothing about names, files or the solver.

Errors on errors (gamma variance model, method.md §2c): :class:`GammaConstraint` terms replace
part of the prior ηᵀη. A term covers the η directions of one group of sources (a union of whole
correlated blocks of C, so that its Gaussian prior λ_gᵀC_g⁺λ_g is exactly z ᵀz with z = Bᵀη) and
turns zᵀz = Q into (N + 1/(2ε²)) ln(1 + 2ε²Q), N the number of its directions; see the
"constraint terms" section at the end of this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["CombinedChi2", "GammaConstraint", "MeasurementBlock"]

Array = NDArray[np.float64]
IntArray = NDArray[np.intp]

# kinds of the non-linear sources of a block
_ABS, _REL, _LOGN = 0, 1, 2
#: batched evaluations work on (estimates × points) arrays of at most about this many entries
_CHUNK_ELEMENTS = 1_000_000
#: entries of a statistical information matrix M smaller than this fraction of its largest
#: entry are set to zero (:func:`_flush_negligible`)
_NEGLIGIBLE = 1e-100


def _flush_negligible(M: Array) -> Array:
    """M with the entries below ``_NEGLIGIBLE`` × max|M_ij| set to zero.

    The inverse of a banded covariance (e.g. neighbouring bins correlated) decays
    exponentially away from the diagonal, down to subnormal numbers (below 2.2e-308), and
    arithmetic on subnormal numbers is 4-100× slower on x86 CPUs: every product with M (the χ²
    of many points, its Hessian, the weights) slowed down 4× on a 1024-bin measurement. The
    change is far below rounding: an entry e changes rᵀMr by at most 2|e||r|², while
    rᵀMr ≥ λ_min(M)|r|² ≥ max|M_ij| |r|² / (n cond(M)); with |e| < 1e-100 max|M_ij|, the
    relative change is below n² · cond(M) · 1e-100, i.e. nothing in double precision for any M
    whose condition number is below 1e60.
    """
    M = np.asarray(M, dtype=float)
    if M.size == 0:
        return M
    size = np.abs(M)
    small = size < _NEGLIGIBLE * float(np.max(size))
    if not small.any():
        return M
    small &= M != 0.0
    if not small.any():
        return M
    return np.where(small, 0.0, M)


@dataclass(frozen=True, eq=False)
class MeasurementBlock:
    """One measurement's canonical arrays, placed in the combination.

    ``param[μ]`` is the index of the combined parameter estimate μ measures, ``src[i]`` the
    global index of source i (row of L). ``rel`` and ``logn`` flag relative and log-normal
    sources, ``asym`` the sources whose up and down shifts differ.
    """

    x_hat: Array
    M: Array
    up: Array
    down: Array
    D: Array
    lam_hat: Array
    rel: NDArray[np.bool_]
    asym: NDArray[np.bool_]
    param: IntArray
    src: IntArray
    logn: NDArray[np.bool_] | None = None
    #: a linear map (n_estimates × n_params): estimate μ measures Σ_c linear[μ, c] x̄_c instead
    #: of x̄_param[μ] (merged or summed bins, totals); ``param`` is then ignored
    linear: Array | None = None
    # derived (set in __post_init__)
    lin: IntArray = field(init=False, repr=False)
    nl: IntArray = field(init=False, repr=False)
    kind: IntArray = field(init=False, repr=False)
    has_D: bool = field(init=False, repr=False)
    injective: bool = field(init=False, repr=False)
    #: the estimates measure the consecutive values param[0], param[0] + 1, … (a slice of θ)
    param_range: slice | None = field(init=False, repr=False)
    M_diag: Array | None = field(init=False, repr=False)
    U_lin: Array = field(init=False, repr=False)
    MU_lin: Array = field(init=False, repr=False)
    UMU_lin: Array = field(init=False, repr=False)
    a_up: Array = field(init=False, repr=False)
    a_down: Array = field(init=False, repr=False)
    nl_asym: NDArray[np.bool_] = field(init=False, repr=False)
    any_mult: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "M", _flush_negligible(self.M))
        n_s = len(self.src)
        logn = np.zeros(n_s, dtype=bool) if self.logn is None else np.asarray(self.logn, bool)
        object.__setattr__(self, "logn", logn)
        nonlinear = self.rel | self.asym | logn
        object.__setattr__(self, "lin", np.flatnonzero(~nonlinear))
        object.__setattr__(self, "nl", np.flatnonzero(nonlinear))
        if self.nl.size:
            kind = np.where(logn, _LOGN, np.where(self.rel, _REL, _ABS))[self.nl]
        else:
            kind = np.zeros(0, dtype=np.intp)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "has_D", bool(self.D.any()))
        if self.linear is not None:
            A = np.asarray(self.linear, dtype=float)
            if A.ndim != 2 or A.shape[0] != len(self.x_hat):
                raise ValueError(
                    f"linear map of shape {A.shape}: expected ({len(self.x_hat)}, n_params)"
                )
            object.__setattr__(self, "linear", A)
        n_e = len(self.param)
        # consecutive values are distinct: the cheap test first
        consecutive = self.linear is None and n_e > 0 and bool(np.all(np.diff(self.param) == 1))
        object.__setattr__(
            self,
            "injective",
            consecutive or (self.linear is None and len(np.unique(self.param)) == n_e),
        )
        first = int(self.param[0]) if consecutive else 0
        object.__setattr__(self, "param_range", slice(first, first + n_e) if consecutive else None)
        diagonal = np.count_nonzero(self.M) == np.count_nonzero(np.diagonal(self.M))
        object.__setattr__(self, "M_diag", np.diag(self.M).copy() if diagonal else None)
        every = self.lin.size == n_s  # all sources linear: U is the shifts themselves
        object.__setattr__(
            self, "U_lin", np.ascontiguousarray(self.up if every else self.up[:, self.lin])
        )
        object.__setattr__(self, "MU_lin", self.M @ self.U_lin)
        object.__setattr__(self, "UMU_lin", self.U_lin.T @ self.MU_lin)
        # non-linear sources: the shift-like arrays whose interpolation gives s (absolute and
        # relative) or ℓ (log-normal: ℓ(±1) = −ln(1 + u_±/x̂))
        a_up = self.up[:, self.nl].copy()
        a_down = self.down[:, self.nl].copy()
        ln_cols = np.flatnonzero(self.kind == _LOGN) if self.nl.size else self.nl
        if ln_cols.size:
            xh = self.x_hat[:, None]
            u_up, u_down = a_up[:, ln_cols], a_down[:, ln_cols]
            symmetric = ~self.asym[self.nl][ln_cols]
            l_up = -np.log1p(u_up / xh)
            # Measurement checks x̂ + u > 0 where it matters; the symmetric side is never used
            safe_down = np.where(symmetric[None, :], 0.0, u_down)
            l_down = np.where(symmetric[None, :], -l_up, -np.log1p(safe_down / xh))
            a_up[:, ln_cols] = l_up
            a_down[:, ln_cols] = l_down
        object.__setattr__(self, "a_up", a_up)
        object.__setattr__(self, "a_down", a_down)
        object.__setattr__(self, "nl_asym", self.asym[self.nl])
        object.__setattr__(self, "any_mult", bool(self.nl.size and np.any(self.kind != _ABS)))

    def design(self, n_params: int) -> Array:
        """∂y/∂x̄: the (n_estimates × n_params) matrix taking the combined values to the
        quantities the estimates measure (one-hot rows, or the linear map)."""
        if self.linear is not None:
            if self.linear.shape[1] != n_params:
                raise ValueError(f"linear map has {self.linear.shape[1]} columns, not {n_params}")
            return self.linear.copy()
        P = np.zeros((len(self.x_hat), n_params))
        P[np.arange(len(self.x_hat)), self.param] = 1.0
        return P

    @property
    def is_linear(self) -> bool:
        """Whether every source enters linearly (absolute, symmetric)."""
        return self.nl.size == 0

    def linearised(self) -> MeasurementBlock:
        """Neyman-equivalent block: symmetrised, all sources absolute."""
        u = 0.5 * (self.up - self.down)
        none = np.zeros_like(self.rel)
        return replace(self, up=u, down=-u, rel=none, asym=none, logn=none.copy())


def _smooth_interpolation(up: Array, down: Array, dd: Array) -> tuple[Array, Array, Array]:
    """s(δ), s′ and s″ of the smooth asymmetric form: a δ + c δ² inside |δ| ≤ 1 (a, c the half
    difference and half sum of the shifts up and down), continued linearly outside (arrays
    broadcast together)."""
    a = 0.5 * (up - down)
    c = 0.5 * (up + down)
    inside = np.abs(dd) <= 1.0
    s = np.where(
        inside,
        a * dd + c * dd * dd,
        np.where(dd > 0, up + (a + 2 * c) * (dd - 1.0), down + (a - 2 * c) * (dd + 1.0)),
    )
    s1 = np.where(inside, a + 2 * c * dd, np.where(dd > 0, a + 2 * c, a - 2 * c))
    s2 = np.where(inside, 2 * c, 0.0)
    return s, s1, s2


def _distinct(values: Sequence[float]) -> Array:
    """The sorted distinct values of finite numbers: ``np.unique``'s result, without its
    import of numpy.ma (~20 ms of a plain combination's whole process, issue 22)."""
    a = np.sort(np.asarray(values, dtype=float))
    if a.size < 2:
        return a
    return a[np.concatenate(([True], a[1:] != a[:-1]))]


def _sparse(design: Array) -> Any:
    """The sparse (estimates × combined values) map of a block whose estimates share values or
    measure linear combinations of them (scipy.sparse is imported only for such a block)."""
    from scipy import sparse

    return sparse.csr_matrix(design)


class CombinedChi2:
    """χ²(θ) of a combination with analytic gradient and Hessian (of χ², not ½χ²).

    Calling the object evaluates χ²; :meth:`grad` and :meth:`hessian` have the signature
    iminuit expects (``errordef = 1``, ``ndata`` for ``Minuit.ndof``). The last evaluation is
    cached, so iminuit's separate calls of value, gradient and Hessian at one point cost one
    evaluation. :meth:`values_and_gradients` evaluates many points at once.
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
        constraints: Sequence[GammaConstraint] = (),
    ) -> None:
        self.blocks = blocks
        self.n_params = n_params
        self.L = np.ascontiguousarray(L)
        self.n_lambda, self.rank = L.shape
        self.pearson = pearson
        self.asymmetry = asymmetry
        self.npar = n_params + self.rank
        #: errors-on-errors terms replacing part of the prior ηᵀη (empty: the Gaussian prior)
        self.constraints = tuple(constraints)
        self._prior = _Prior(self.constraints, self.rank)
        self.n_estimates = sum(len(b.x_hat) for b in blocks)
        #: number of "data" terms: the estimates plus the unit priors of the sources, so that
        #: ``ndata − npar`` is the ndf of the combination
        self.ndata = self.n_estimates + self.rank
        # estimates → combined values, for blocks that map several estimates to one value or
        # whose estimates measure linear combinations of combined values (``linear``)
        self._onehot = [None if b.injective else _sparse(b.design(n_params)) for b in blocks]
        self._cache: tuple[bytes, bytes, int, tuple] | None = None
        # kinks: every (block, non-linear column) of a kinked source, with its global source
        kinks = []
        for k, b in enumerate(blocks):
            for j in np.flatnonzero(b.nl_asym):
                kinks.append((k, int(j), int(b.src[b.nl[j]])))
        self._kinks = kinks if asymmetry == "convino" else []

    # ------------------------------------------------------------------ structure
    @property
    def has_linear_maps(self) -> bool:
        """Whether some estimates measure linear combinations of combined values."""
        return any(b.linear is not None for b in self.blocks)

    @property
    def is_quadratic(self) -> bool:
        """Neyman, absolute and symmetric, Gaussian priors: χ² is exactly quadratic in θ."""
        return not self.pearson and not self.constraints and all(b.is_linear for b in self.blocks)

    @property
    def is_piecewise_quadratic(self) -> bool:
        """Neyman with absolute sources only: χ² is quadratic between the kinks of the
        asymmetric (Convino-form) sources (and no errors-on-errors terms)."""
        return (
            not self.pearson
            and not self.constraints
            and not any(np.any(b.rel) or np.any(b.logn) for b in self.blocks)
        )

    @property
    def kinked_sources(self) -> NDArray[np.intp]:
        """Global indices (rows of L) of the sources with a kink at δ = 0 (Convino form)."""
        return np.array(sorted({s for _, _, s in self._kinks}), dtype=np.intp)

    def kink_offsets(self) -> dict[int, Array]:
        """Per kinked source, the λ at which its kinks sit (λ̂ of each measurement using it)."""
        out: dict[int, list[float]] = {}
        for k, j, s in self._kinks:
            b = self.blocks[k]
            out.setdefault(s, []).append(float(b.lam_hat[b.nl[j]]))
        return {s: _distinct(v) for s, v in out.items()}

    def linearised(self) -> CombinedChi2:
        """The quadratic (Neyman, absolute, symmetrised, Gaussian priors) approximation of this
        χ²."""
        if self.is_quadratic:
            return self
        return CombinedChi2([b.linearised() for b in self.blocks], self.n_params, self.L)

    def with_pearson(self, pearson: bool) -> CombinedChi2:
        """The same χ² with the other statistical definition."""
        return CombinedChi2(
            self.blocks,
            self.n_params,
            self.L,
            pearson=pearson,
            asymmetry=self.asymmetry,
            constraints=self.constraints,
        )

    def rotated(self, Q: Array) -> CombinedChi2:
        """The same χ² in the rotated source parameters η' = Qᵀη (Q orthogonal): L → L Q, the
        errors-on-errors terms rotated with it."""
        return CombinedChi2(
            self.blocks,
            self.n_params,
            self.L @ Q,
            pearson=self.pearson,
            asymmetry=self.asymmetry,
            constraints=tuple(t.rotated(Q) for t in self.constraints),
        )

    def start(self) -> Array:
        """A starting point: each combined value at the mean of its estimates, η = 0 (an
        estimate of a linear combination Σ a_c x̄_c counts as x̂/Σa for each of its x̄_c)."""
        total = np.zeros(self.n_params)
        count = np.zeros(self.n_params)
        for b in self.blocks:
            if b.linear is None:
                np.add.at(total, b.param, b.x_hat)
                np.add.at(count, b.param, 1.0)
                continue
            A = np.abs(b.linear)
            rows = A.sum(axis=1)
            share = np.divide(b.x_hat, rows, out=np.zeros_like(b.x_hat), where=rows > 0)
            total += A.T @ share
            count += A.T @ (rows > 0).astype(float)
        return np.concatenate([total / np.maximum(count, 1.0), np.zeros(self.rank)])

    # ------------------------------------------------------------------ iminuit interface
    def __call__(self, theta: Array) -> float:
        return self.evaluate(np.asarray(theta, dtype=float), 0)[0]

    def grad(self, theta: Array) -> Array:
        out = self.evaluate(np.asarray(theta, dtype=float), 1)[1]
        assert out is not None
        return out

    def hessian(self, theta: Array) -> Array:
        out = self.evaluate(np.asarray(theta, dtype=float), 2)[2]
        assert out is not None
        return out

    # ------------------------------------------------------------------ pieces
    def _interpolate(
        self, b: MeasurementBlock, d: Array, sides: Array | None
    ) -> tuple[Array, Array, Array | None]:
        """s (or ℓ), its first and second derivative for the non-linear sources of a block.

        ``d``: δ of those sources, shape (n_nl, K); returns arrays of shape (n_e, n_nl, K).
        """
        up = b.a_up[:, :, None]
        down = b.a_down[:, :, None]
        dd = d[None, :, :]
        asym = b.nl_asym[None, :, None]
        if self.asymmetry == "convino":
            mid = 0.5 * (up - down)
            slope = np.where(dd > 0, up, np.where(dd < 0, -down, mid))
            if sides is not None:
                sd = sides[None, :, :]
                forced = np.where(sd > 0, up, np.where(sd < 0, -down, mid))
                slope = np.where(np.isnan(sd), slope, forced)
            slope = np.where(asym, slope, up)
            return slope * dd, slope, None
        return _smooth_interpolation(up, down, dd)

    def _residual(self, b: MeasurementBlock, X: Array) -> tuple[Array, Array | None, Array | None]:
        """r(X), dr/dX, d²r/dX² (None for Neyman, where r = X − x̂)."""
        x_hat = b.x_hat[:, None] if X.ndim == 2 else b.x_hat
        if not self.pearson:
            return X - x_hat, None, None
        ratio = X / x_hat
        # outside the physical region (prediction of opposite sign) continue the Neyman form
        # so that the minimiser is pushed back instead of failing
        bad = ratio <= 1e-6
        if not bad.any():
            sq = np.sqrt(x_hat)
            rs = np.sqrt(X)
            inv = 1.0 / rs
            xi = x_hat * inv
            r = sq * (rs - xi)
            r1 = 0.5 * sq * (inv + xi / X)
            r2 = -sq * (0.25 * inv + 0.75 * xi / X) / X
            return r, r1, r2
        Xs = np.where(bad, x_hat, X)
        sq = np.sqrt(x_hat)  # the Combiner requires x̂ > 0 for Pearson
        rs = np.sqrt(Xs)
        r = np.where(bad, X - x_hat, sq * (rs - x_hat / rs))
        r1 = np.where(bad, 1.0, sq * (0.5 / rs + 0.5 * x_hat / (Xs * rs)))
        r2 = np.where(bad, 0.0, sq * (-0.25 / (Xs * rs) - 0.75 * x_hat / (Xs * Xs * rs)))
        return r, r1, r2

    def _block_state(self, b: MeasurementBlock, y: Array, delta: Array, sides: Array | None):
        """Prediction X and the pieces its derivatives need, for K points (columns)."""
        if not b.nl.size:  # every source linear: δ itself, no index copy
            X = -(b.U_lin @ delta) if b.lin.size else np.zeros_like(y)
        else:
            X = -(b.U_lin @ delta[b.lin]) if b.lin.size else np.zeros_like(y)
        f = None
        nl = None
        if b.nl.size:
            s, s1, s2 = self._interpolate(b, delta[b.nl], None if sides is None else sides[b.nl])
            kind = b.kind
            absolute = kind == _ABS
            if np.any(absolute):
                X = X - s[:, absolute].sum(axis=1)
            mult = ~absolute
            dmul = c = None
            if b.any_mult:
                rel = kind[mult] == _REL
                sm, s1m = s[:, mult], s1[:, mult]
                logf = np.where(rel[None, :, None], 0.0, sm)
                g = np.where(rel[None, :, None], 1.0 - sm / b.x_hat[:, None, None], 1.0)
                f = np.prod(g, axis=1) * np.exp(logf.sum(axis=1))
                gx = g * b.x_hat[:, None, None]
                dmul = np.where(rel[None, :, None], -s1m / gx, s1m)
                if s2 is None:
                    c = np.where(rel[None, :, None], -dmul * dmul, 0.0)
                else:
                    s2m = s2[:, mult]
                    c = np.where(rel[None, :, None], -s2m / gx - dmul * dmul, s2m)
            nl = (s, s1, s2, absolute, mult, dmul, c)
        yf = y if f is None else y * f
        X = X + yf
        return X, f, yf, nl

    # ------------------------------------------------------------------ evaluation
    def values_and_gradients(
        self, thetas: Array, *, gradient: bool = True, sides: Array | None = None
    ) -> tuple[Array, Array | None]:
        """χ² and its gradient at K points at once: ``thetas`` has shape (npar, K).

        ``sides`` (n_lambda,) or (n_lambda, K) forces the slope of kinked sources: NaN (the
        default) takes it from the sign of δ (their mean exactly at δ = 0), −1 the δ < 0 side,
        +1 the δ > 0 side, 0 the mean, whatever δ is; the solver uses it at kinks. Returns χ² of shape (K,) and the gradient (npar, K).
        """
        thetas = np.asarray(thetas, dtype=float)
        K = thetas.shape[1]
        # many points: in chunks, so that the per-estimate work arrays stay small
        chunk = max(1, _CHUNK_ELEMENTS // max(1, self.n_estimates))
        if chunk < K:
            if sides is not None and sides.ndim == 1:
                sides = np.broadcast_to(sides[:, None], (self.n_lambda, K))
            parts = [
                self.values_and_gradients(
                    thetas[:, i : i + chunk],
                    gradient=gradient,
                    sides=None if sides is None else sides[:, i : i + chunk],
                )
                for i in range(0, K, chunk)
            ]
            values = np.concatenate([p[0] for p in parts])
            grads = np.concatenate([p[1] for p in parts], axis=1) if gradient else None
            return values, grads
        n_p = self.n_params
        x, eta = thetas[:n_p], thetas[n_p:]
        lam = self.L @ eta
        chi2 = self._prior.value(eta)
        if gradient:
            g_x = np.zeros((n_p, K))
            g_l = np.zeros((self.n_lambda, K))
        if sides is not None and sides.ndim == 1:
            sides = np.broadcast_to(sides[:, None], (self.n_lambda, K))
        for b, onehot in zip(self.blocks, self._onehot, strict=True):
            delta = lam[b.src] - b.lam_hat[:, None]
            sd = None if sides is None else sides[b.src]
            if onehot is not None:
                y = onehot @ x
            else:
                y = x[b.param_range] if b.param_range is not None else x[b.param]
            X, f, yf, nl = self._block_state(b, y, delta, sd)
            r, r1, _ = self._residual(b, X)
            q = b.M_diag[:, None] * r if b.M_diag is not None else b.M @ r
            chi2 += np.einsum("ik,ik->k", r, q)
            if b.has_D:
                Dd = b.D @ delta
                chi2 += np.einsum("ik,ik->k", delta, Dd)
            chi2 -= 2.0 * (b.lam_hat @ delta) + float(b.lam_hat @ b.lam_hat)
            if not gradient:
                continue
            t = 2.0 * q if r1 is None else 2.0 * q * r1
            tf = t if f is None else t * f
            if b.param_range is not None:
                g_x[b.param_range] += tf
            elif b.injective:
                g_x[b.param] += tf
            else:
                assert onehot is not None
                g_x += onehot.T @ tf
            if nl is None:  # every source linear
                gd = -(b.U_lin.T @ t) if b.lin.size else np.zeros_like(delta)
            else:
                gd = np.empty_like(delta)
                if b.lin.size:
                    gd[b.lin] = -(b.U_lin.T @ t)
            if nl is not None:
                _s, s1, _s2, absolute, mult, dmul, _c = nl
                gnl = np.empty((b.nl.size, K))
                if np.any(absolute):
                    gnl[absolute] = -np.einsum("ik,ijk->jk", t, s1[:, absolute])
                if b.any_mult:
                    gnl[mult] = np.einsum("ik,ijk->jk", t * yf, dmul)
                gd[b.nl] = gnl
            gd -= 2.0 * b.lam_hat[:, None]
            if b.has_D:
                gd += 2.0 * Dd
            g_l[b.src] += gd
        if not gradient:
            return chi2, None
        grad = np.concatenate([g_x, self.L.T @ g_l + self._prior.gradient(eta)])
        return chi2, grad

    def evaluate(
        self, theta: Array, order: int, sides: Array | None = None
    ) -> tuple[float, Array | None, Array | None]:
        """χ² (order 0), plus gradient (1), plus Hessian (2) at one point θ."""
        key = theta.tobytes()
        skey = b"" if sides is None else np.asarray(sides, dtype=float).tobytes()
        c = self._cache
        if c is not None and c[0] == key and c[1] == skey and c[2] >= order:
            return c[3]
        chi2, grad = self.values_and_gradients(theta[:, None], gradient=order >= 1, sides=sides)
        g = None if grad is None else grad[:, 0]
        hess = self._hessian(theta, sides) if order >= 2 else None
        out = (float(chi2[0]), g, hess)
        self._cache = (key, skey, order, out)
        return out

    def gauss_newton_hessian(self, theta: Array, sides: Array | None = None) -> Array:
        """The Gauss–Newton part of the Hessian at θ: 2 Jᵀ M J (with the Pearson weights
        r' M r') plus the D and prior terms, without the terms proportional to the residuals.
        Positive definite everywhere, it gives descent steps where the full Hessian is not
        (far from the minimum of a strongly non-linear χ²)."""
        return self._hessian(np.asarray(theta, dtype=float), sides, gauss_newton=True)

    def _hessian(self, theta: Array, sides: Array | None, gauss_newton: bool = False) -> Array:
        n_p = self.n_params
        x, eta = theta[:n_p], theta[n_p:]
        lam = self.L @ eta
        L = self.L
        # ½H is accumulated in place, block by block (views of one array)
        half = np.zeros((self.npar, self.npar))
        h_xx = half[:n_p, :n_p]
        h_xe = half[:n_p, n_p:]
        h_ee = half[n_p:, n_p:]
        for b, onehot in zip(self.blocks, self._onehot, strict=True):
            if not self.pearson and b.is_linear:
                # Neyman, absolute symmetric sources: the Hessian does not depend on θ; its
                # blocks are the cached products (the same numbers as the general path below,
                # which multiplies them by f = 1)
                Lb = L[b.src]
                hdd = b.UMU_lin + b.D if b.has_D else b.UMU_lin
                self._add_block(b, onehot, h_xx, h_xe, b.M, -b.MU_lin @ Lb)
                h_ee += Lb.T @ hdd @ Lb
                continue
            delta = (lam[b.src] - b.lam_hat)[:, None]
            sd = None if sides is None else np.asarray(sides)[b.src][:, None]
            y = (x[b.param] if onehot is None else onehot @ x)[:, None]
            X, f, yf, nl = self._block_state(b, y, delta, sd)
            r, r1, r2 = self._residual(b, X)
            q = (b.M @ r)[:, 0]
            n_e, n_s = len(b.x_hat), len(b.src)
            fv = np.ones(n_e) if f is None else f[:, 0]
            # Jacobian of X with respect to δ (columns: sources of the block)
            J = np.zeros((n_e, n_s))
            if b.lin.size:
                J[:, b.lin] = -b.U_lin
            second_xd = None  # ∂²X/∂y∂δ (n_e, n_s), rows are estimates
            curv = None  # Σ_μ t_μ ∂²X_μ/∂δ∂δ (n_s, n_s)
            t = 2.0 * q if r1 is None else 2.0 * q * r1[:, 0]
            if nl is not None:
                _s, s1, s2, absolute, mult, dmul, c = nl
                Jnl = np.zeros((n_e, b.nl.size))
                if np.any(absolute):
                    Jnl[:, absolute] = -s1[:, absolute, 0]
                curv_nl = np.zeros((b.nl.size, b.nl.size))
                if np.any(absolute) and s2 is not None:
                    ia = np.flatnonzero(absolute)
                    curv_nl[ia, ia] -= t @ s2[:, absolute, 0]
                if b.any_mult:
                    im = np.flatnonzero(mult)
                    dm, cm = dmul[:, :, 0], c[:, :, 0]
                    yfv = yf[:, 0]
                    Jnl[:, im] = yfv[:, None] * dm
                    w = t * yfv
                    curv_nl[np.ix_(im, im)] += dm.T @ (w[:, None] * dm)
                    curv_nl[im, im] += w @ cm
                    second_xd = np.zeros((n_e, n_s))
                    second_xd[:, b.nl[im]] = (t * fv)[:, None] * dm
                J[:, b.nl] = Jnl
                curv = np.zeros((n_s, n_s))
                curv[np.ix_(b.nl, b.nl)] = curv_nl
            # Gauss–Newton weight W = r1 M r1 + diag(q r2)
            if r1 is None:
                WJ = b.M @ J if nl is not None or not b.lin.size else None
                if WJ is None:  # linear block, Neyman: cached products
                    WJ = -b.MU_lin
                    JWJ = b.UMU_lin
                else:
                    JWJ = J.T @ WJ
                Wf = b.M * fv[None, :] * fv[:, None]
            else:
                r1v = r1[:, 0]
                assert r2 is not None
                W = r1v[:, None] * b.M * r1v[None, :]
                if not gauss_newton:
                    W = W + np.diag(q * r2[:, 0])
                WJ = W @ J
                JWJ = J.T @ WJ
                Wf = W * fv[None, :] * fv[:, None]
            hyd = fv[:, None] * WJ  # (n_e, n_s): ∂²/∂y∂δ of ½·(2 rᵀMr)
            hdd = JWJ.copy()
            if b.has_D:
                hdd += b.D
            if gauss_newton:
                curv = second_xd = None
            if curv is not None:
                hdd += 0.5 * curv
            if second_xd is not None:
                hyd += 0.5 * second_xd
            Lb = L[b.src]
            self._add_block(b, onehot, h_xx, h_xe, Wf, hyd @ Lb)
            h_ee += Lb.T @ hdd @ Lb
        self._prior.add_half_hessian(h_ee, eta, gauss_newton)
        half[n_p:, :n_p] = h_xe.T
        half *= 2.0
        hess = half + half.T
        hess *= 0.5
        return hess

    @staticmethod
    def _add_block(
        b: MeasurementBlock, onehot: Any, h_xx: Array, h_xe: Array, Wf: Array, hye: Array
    ) -> None:
        """Add one block's ∂²/∂y∂y (``Wf``, estimates × estimates) and ∂²/∂y∂η (``hye``,
        estimates × η) to the x̄ rows of ½H."""
        if b.param_range is not None:  # a block of consecutive values: no index grids
            h_xx[b.param_range, b.param_range] += Wf
            h_xe[b.param_range] += hye
        elif b.injective:
            h_xx[np.ix_(b.param, b.param)] += Wf
            h_xe[b.param] += hye
        else:
            assert onehot is not None
            h_xx += (onehot.T @ (onehot.T @ Wf).T).T
            h_xe += onehot.T @ hye

    # ------------------------------------------------------------------ decomposition
    def linear_parts(self, theta: Array) -> list[tuple[Array, Array]]:
        """Per measurement, the linearised dependence of the predictions X of its estimates at
        θ: ``(f, E)`` with ∂X_μ/∂y_μ = f_μ, y = P x̄ the quantities the estimates measure
        (P = ``block.design(n_params)``: one-hot rows, or the linear map), and ∂X/∂λ_α = E (so
        ∂X/∂η = E L_α)."""
        n_p = self.n_params
        lam = self.L @ theta[n_p:]
        x = theta[:n_p]
        out = []
        for b, onehot in zip(self.blocks, self._onehot, strict=True):
            n_e = len(b.x_hat)
            if not b.nl.size:  # linear sources only: f = 1, E = −U, whatever θ
                out.append((np.ones(n_e), -b.U_lin))
                continue
            delta = (lam[b.src] - b.lam_hat)[:, None]
            y = (x[b.param] if onehot is None else onehot @ x)[:, None]
            _, f, yf, nl = self._block_state(b, y, delta, None)
            E = np.zeros((n_e, len(b.src)))
            if b.lin.size:
                E[:, b.lin] = -b.U_lin
            if nl is not None:
                _, s1, _, absolute, mult, dmul, _ = nl
                Enl = np.zeros((n_e, b.nl.size))
                if np.any(absolute):
                    Enl[:, absolute] = -s1[:, absolute, 0]
                if b.any_mult:
                    Enl[:, mult] = yf[:, 0][:, None] * dmul[:, :, 0]
                E[:, b.nl] = Enl
            out.append((np.ones(n_e) if f is None else f[:, 0], E))
        return out


# ---------------------------------------------------------------------- constraint terms
@dataclass(frozen=True, eq=False)
class GammaConstraint:
    """One errors-on-errors term of the gamma variance model (Cowan, EPJC 79 (2019) 133).

    ``basis`` (rank × N) has orthonormal columns spanning the η directions of a group of sources
    whose Gaussian prior is Q = zᵀz with z = basisᵀη (for the sources' own columns of L: columns
    of the identity). The term replaces Q in the χ² by

        g(Q) = (N + 1/(2ε²)) ln(1 + 2ε²Q) = (1 + 2Nε²) Q · ln(1 + t)/t,   t = 2ε²Q,

    −2 ln of the likelihood with the variance factor s of the group's σ profiled (the estimate
    of s gamma-distributed with relative width 2ε, the same s for the N directions). The second
    form is exact and regular at ε = 0, where g(Q) = Q: the Gaussian term exactly. Its derivatives

        g′(Q) = (1 + 2Nε²)/(1 + 2ε²Q) = 1/ŝ,   g″(Q) = −2ε² g′(Q)/(1 + 2ε²Q)

    (ŝ the profiled variance factor) make the Hessian g′ I + 2g″ zzᵀ (½ of it), indefinite
    along z beyond Q = 1/(2ε²) + N: far out the term flattens and an outlier pulls its own
    systematic instead of the result.
    """

    basis: Array
    eps: float

    @property
    def n(self) -> int:
        """N: the number of η directions of the term."""
        return int(self.basis.shape[1])

    def rotated(self, Q: Array) -> GammaConstraint:
        """The term in η' = Qᵀη."""
        return GammaConstraint(Q.T @ self.basis, self.eps)

    def variance_factor(self, q: Array | float) -> Array:
        """ŝ = (1 + 2ε²Q)/(1 + 2Nε²): the variance factor of the group's σ² that the data
        prefer at Q (1 at ε = 0)."""
        e2 = self.eps * self.eps
        return (1.0 + 2.0 * e2 * np.asarray(q, dtype=float)) / (1.0 + 2.0 * self.n * e2)


def _log1p_ratio(t: Array) -> Array:
    """ln(1 + t)/t, 1 at t = 0 (t ≥ 0)."""
    safe = np.where(t > 0.0, t, 1.0)
    return np.where(t > 0.0, np.log1p(safe) / safe, 1.0)


class _Prior:
    """The prior part of the χ²: ηᵀη, with the directions of the errors-on-errors terms
    replaced by g(Q) (:class:`GammaConstraint`). Everything for K points at once."""

    def __init__(self, terms: Sequence[GammaConstraint], rank: int) -> None:
        self.terms = tuple(terms)
        for t in self.terms:
            if t.basis.shape[0] != rank:
                raise ValueError(
                    f"errors-on-errors term: basis has {t.basis.shape[0]} rows, expected {rank}"
                )
        # the part of ηᵀη the terms take over: η = P η + (1 − P) η, P the projector on them
        if self.terms:
            B = np.hstack([t.basis for t in self.terms])
            self.B = B
            self.offsets = np.cumsum([0] + [t.n for t in self.terms])
            e2 = np.array([t.eps * t.eps for t in self.terms])
            n = np.array([t.n for t in self.terms], dtype=float)
            self.e2 = e2
            self.norm = 1.0 + 2.0 * n * e2

    def _q(self, z: Array) -> Array:
        """Q of every term (terms × K) from z = Bᵀη (N_total × K)."""
        z2 = z * z
        return np.add.reduceat(z2, self.offsets[:-1], axis=0)

    def value(self, eta: Array) -> Array:
        chi2 = np.einsum("ik,ik->k", eta, eta)
        if not self.terms:
            return chi2
        z = self.B.T @ eta
        q = self._q(z)
        t = 2.0 * self.e2[:, None] * q
        g = self.norm[:, None] * q * _log1p_ratio(t)
        return chi2 - q.sum(axis=0) + g.sum(axis=0)

    def _slopes(self, z: Array) -> tuple[Array, Array]:
        """g′(Q) and g″(Q) per term (terms × K)."""
        q = self._q(z)
        denom = 1.0 + 2.0 * self.e2[:, None] * q
        g1 = self.norm[:, None] / denom
        g2 = -2.0 * self.e2[:, None] * g1 / denom
        return g1, g2

    def gradient(self, eta: Array) -> Array:
        grad = 2.0 * eta
        if not self.terms:
            return grad
        z = self.B.T @ eta
        g1, _ = self._slopes(z)
        per = np.repeat(g1 - 1.0, np.diff(self.offsets), axis=0)
        return grad + self.B @ (2.0 * per * z)

    def add_half_hessian(self, h: Array, eta: Array, gauss_newton: bool = False) -> None:
        """Add ½ ∂²/∂η² of the prior to ``h`` (one point); ``gauss_newton`` drops the term
        2g″zzᵀ (positive definite: g′ > 0)."""
        h[np.diag_indices_from(h)] += 1.0
        if not self.terms:
            return
        z = self.B.T @ eta
        g1, g2 = self._slopes(z[:, None])
        for k, term in enumerate(self.terms):
            b = term.basis
            zk = z[self.offsets[k] : self.offsets[k + 1]]
            h += (float(g1[k, 0]) - 1.0) * (b @ b.T)
            if not gauss_newton:
                bz = b @ zk
                h += 2.0 * float(g2[k, 0]) * np.outer(bz, bz)


def __dir__() -> list[str]:
    return list(__all__)
