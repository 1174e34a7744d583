r"""The χ² of many data sets of one combination, and Newton's method over all of them at once.

Pseudo-experiments (issue 22) recombine many data sets with one model: the same parameters,
sources, correlations (L), χ² definition and asymmetry form, only the data differ (x̂, λ̂, the
statistical information M, and the shifts of relative sources, which keep their size relative
to the estimate). :class:`BatchedChi2` stacks the :class:`~hepcombine.chi2.CombinedChi2` of
each data set (one per pseudo-experiment, all built by the same combiner) and evaluates χ², its
gradient and its Hessian for B data sets at B points at once, with the formulas of
``chi2.py`` written with a leading axis over the data sets (one numpy call per term for the
whole batch instead of one per data set).

:func:`batched_newton` is :func:`~hepcombine.solver.newton.newton_minimise` for all of them
together, on the part of Newton's method where no kink is held: the Hessian is factorised by
one batched Cholesky (``numpy.linalg.cholesky`` on (B, n, n)), the step is the Newton step,
the line search the same Armijo backtracking, through the kinks of asymmetric sources
(Convino form) one after another with the same one-sided derivative tests, the convergence
tests the same (EDM and step), and converged data sets leave the batch. A data set whose
Hessian is not positive definite, whose step stops on a kink (V-shaped there: the active set
holds it), reaches two kinks at one point, or does not converge leaves the batch too, and
:func:`newton_minimise` continues it from where it is (the state it would have had there: no
kink held). Up to rounding each data set therefore follows the steps it would follow alone,
and the minima equal :func:`newton_minimise`'s to its own precision
(tests/toys/test_batched.py). One deliberate difference: a step whose expected decrease is
below :data:`~hepcombine.solver.newton.EDM_GOAL` (below the rounding of the χ²) is taken whole
instead of backtracking on rounding noise.

:func:`quadratic_starts` gives :func:`~hepcombine.solver.minimise`'s starts for the batch,
:func:`far_side_screens` the screens of ``global_minimise`` for many (data set, kink) pairs.

Every operation acts on each data set separately (stacked products, per-matrix
factorisations), so a data set's numbers are bit-identical whichever data sets share its
batch (and in a batch of one): pseudo-experiments stay bit-identical for any chunk size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..chi2 import _ABS, _REL, CombinedChi2, _smooth_interpolation
from .newton import (
    EDM_GOAL,
    MAX_ITERATIONS,
    STEP_GOAL,
    KinkGroups,
    Minimum,
    _constraints,
    _kkt_step,
    newton_minimise,
)

__all__ = ["BatchedChi2", "batched_newton", "far_side_screens", "quadratic_starts"]

Array = NDArray[np.float64]
IntArray = NDArray[np.intp]


def _rows(a: Array, m: Array) -> Array:
    """Each row of ``a`` times ``m``, one product per row: a 2-D product (one BLAS gemm) can
    round a row differently depending on how many rows are multiplied with it, and the
    numbers of a data set must not depend on which others share its batch."""
    return (a[:, None, :] @ m)[:, 0, :]


@dataclass(frozen=True, eq=False)
class _Block:
    """One measurement's arrays for all data sets (leading axis: data set)."""

    param: IntArray | None  # injective: the combined value of each estimate
    P: Array | None  # otherwise the design matrix (n_e, n_p)
    src: IntArray
    lin: IntArray
    nl: IntArray
    absolute: NDArray[np.bool_]  # among nl
    mult: NDArray[np.bool_]
    rel_m: NDArray[np.bool_]  # among the multiplicative ones: relative (else log-normal)
    asym: NDArray[np.bool_]  # among nl
    any_mult: bool
    linear_neyman: bool
    U_lin: Array  # (n_e, n_lin), shared
    D: Array | None
    x_hat: Array  # (B, n_e)
    lam_hat: Array  # (B, n_s)
    M: Array  # (B, n_e, n_e)
    M_diag: Array | None  # (B, n_e)
    MU_lin: Array  # (B, n_e, n_lin)
    UMU_lin: Array  # (B, n_lin, n_lin)
    a_up: Array  # (B, n_e, n_nl)
    a_down: Array
    U_sym: Array  # (B, n_e, n_s): ½(up − down), the shifts of the quadratic approximation
    #: (B, n_e, n_lin) when the linear shifts differ between data sets (the quadratic
    #: approximation: relative shifts scale with each data set's estimates), else None
    U_own: Array | None = None

    def take(self, idx: IntArray, hessian: bool = False, everything: bool = False) -> _Block:
        """The arrays of data sets ``idx`` (only those the evaluation needs, unless
        ``everything``)."""
        if len(idx) == len(self.x_hat) and np.array_equal(idx, np.arange(len(idx))):
            return self
        from dataclasses import replace

        empty = self.M[:0]
        need_M = hessian and not self.linear_neyman and self.M_diag is None
        need_M |= not hessian and self.M_diag is None
        need_M |= hessian and self.linear_neyman
        need_M |= everything
        lin = (hessian and self.linear_neyman) or everything
        return replace(
            self,
            x_hat=self.x_hat[idx],
            lam_hat=self.lam_hat[idx],
            M=self.M[idx] if need_M else empty,
            M_diag=None if self.M_diag is None else self.M_diag[idx],
            MU_lin=self.MU_lin[idx] if lin else empty,
            UMU_lin=self.UMU_lin[idx] if lin else empty,
            a_up=self.a_up[idx],
            a_down=self.a_down[idx],
            U_sym=self.U_sym[idx] if everything else self.U_sym[:0],
            U_own=None if self.U_own is None else self.U_own[idx],
        )


def _stack(models: Sequence[CombinedChi2], k: int) -> _Block:
    bs = [m.blocks[k] for m in models]
    b = bs[0]
    for other in bs[1:]:
        if not (
            np.array_equal(other.src, b.src)
            and np.array_equal(other.nl, b.nl)
            and np.array_equal(other.kind, b.kind)
            and np.array_equal(other.U_lin, b.U_lin)
            and np.array_equal(other.param, b.param)
        ):
            raise ValueError("BatchedChi2: the data sets' models differ in structure")
    kind = b.kind
    absolute = kind == _ABS
    mult = ~absolute
    diag = all(x.M_diag is not None for x in bs)
    return _Block(
        param=np.asarray(b.param, dtype=np.intp) if b.injective else None,
        P=None if b.injective else b.design(models[0].n_params),
        src=np.asarray(b.src, dtype=np.intp),
        lin=b.lin,
        nl=b.nl,
        absolute=absolute,
        mult=mult,
        rel_m=kind[mult] == _REL,
        asym=b.nl_asym,
        any_mult=b.any_mult,
        linear_neyman=b.is_linear and not models[0].pearson,
        U_lin=b.U_lin,
        D=b.D if b.has_D else None,
        x_hat=np.array([x.x_hat for x in bs]),
        lam_hat=np.array([x.lam_hat for x in bs]),
        M=np.array([x.M for x in bs]),
        M_diag=np.array([x.M_diag for x in bs]) if diag else None,
        MU_lin=np.array([x.MU_lin for x in bs]),
        UMU_lin=np.array([x.UMU_lin for x in bs]),
        a_up=np.array([x.a_up for x in bs]),
        a_down=np.array([x.a_down for x in bs]),
        U_sym=0.5 * (np.array([x.up for x in bs]) - np.array([x.down for x in bs])),
    )


class BatchedChi2:
    """χ², gradient and Hessian of B data sets of one combination (module docstring).

    ``models``: the :class:`~hepcombine.chi2.CombinedChi2` of each data set, of identical
    structure (the same combiner with other estimates, source values and statistical
    information). Errors-on-errors terms and linear maps are not supported (``ValueError``).
    Every method takes the indices ``idx`` of the data sets and their points ``theta``
    (len(idx), npar).
    """

    def __init__(self, models: Sequence[CombinedChi2]) -> None:
        m0 = models[0]
        if any(m.constraints for m in models) or any(m.has_linear_maps for m in models):
            raise ValueError("BatchedChi2: errors-on-errors terms and linear maps not supported")
        self.models = tuple(models)
        self.n_params = m0.n_params
        self.npar = m0.npar
        self.L = m0.L
        self.pearson = m0.pearson
        self.asymmetry = m0.asymmetry
        self.blocks = [_stack(models, k) for k in range(len(m0.blocks))]

    def __len__(self) -> int:
        return len(self.models)

    def subset(self, rows: Sequence[int]) -> BatchedChi2:
        """The batch of data sets ``rows`` (in that order; a data set may repeat)."""
        idx = np.asarray(rows, dtype=np.intp)
        new = object.__new__(BatchedChi2)
        new.__dict__.update(self.__dict__)
        new.models = tuple(self.models[i] for i in idx.tolist())
        new.blocks = [b.take(idx, everything=True) for b in self.blocks]
        return new

    def linearised(self) -> BatchedChi2:
        """The quadratic approximation of every data set's χ² (``CombinedChi2.linearised``:
        Neyman, every source absolute with the symmetrised shifts ½(up − down))."""
        from dataclasses import replace

        new = object.__new__(BatchedChi2)
        new.__dict__.update(self.__dict__)
        new.pearson = False
        blocks = []
        for b in self.blocks:
            n_s = len(b.src)
            U = b.U_sym
            MU = b.M @ U
            none = np.zeros(0, dtype=bool)
            blocks.append(
                replace(
                    b,
                    lin=np.arange(n_s),
                    nl=np.zeros(0, dtype=np.intp),
                    absolute=none,
                    mult=none,
                    rel_m=none,
                    asym=none,
                    any_mult=False,
                    linear_neyman=True,
                    U_lin=U[0] if len(U) else np.zeros((b.x_hat.shape[1], n_s)),
                    U_own=U,
                    MU_lin=MU,
                    UMU_lin=np.swapaxes(U, 1, 2) @ MU,
                    a_up=b.a_up[:, :, :0],
                    a_down=b.a_down[:, :, :0],
                )
            )
        new.blocks = blocks
        return new

    def start(self) -> Array:
        """``CombinedChi2.start`` of every data set (B, npar): each combined value at the mean
        of its estimates, η = 0."""
        B = len(self)
        total = np.zeros((B, self.n_params))
        count = np.zeros(self.n_params)
        for b in self.blocks:
            if b.param is None:  # several estimates of one value: one-hot rows of P
                assert b.P is not None
                total += _rows(b.x_hat, b.P)
                count += b.P.sum(axis=0)
                continue
            total[:, b.param] += b.x_hat  # injective: no index repeats within a block
            np.add.at(count, b.param, 1.0)
        eta = np.zeros((B, self.npar - self.n_params))
        return np.concatenate([total / np.maximum(count, 1.0), eta], axis=1)

    # ------------------------------------------------------------------ pieces
    def _state(self, b: _Block, y: Array, delta: Array, sides: Array | None = None):
        """Prediction X (K, n_e) and the pieces of its derivatives (``CombinedChi2._block_state``
        for K data sets)."""
        if not b.lin.size:
            X = np.zeros_like(y)
        elif b.U_own is not None:
            X = -np.einsum("kij,kj->ki", b.U_own, delta[:, b.lin])
        else:
            X = -_rows(delta[:, b.lin], b.U_lin.T)
        f = None
        nl = None
        if b.nl.size:
            up, down = b.a_up, b.a_down
            dd = delta[:, None, b.nl]
            if self.asymmetry == "convino":
                mid = 0.5 * (up - down)
                slope = np.where(dd > 0, up, np.where(dd < 0, -down, mid))
                if sides is not None:  # forced slopes (NaN: free), as CombinedChi2's sides
                    sd = sides[:, None, b.nl]
                    forced = np.where(sd > 0, up, np.where(sd < 0, -down, mid))
                    slope = np.where(np.isnan(sd), slope, forced)
                slope = np.where(b.asym[None, None, :], slope, up)
                s, s1, s2 = slope * dd, slope, None
            else:
                s, s1, s2 = _smooth_interpolation(up, down, dd)
            if np.any(b.absolute):
                X = X - s[:, :, b.absolute].sum(axis=2)
            dmul = c2 = None
            if b.any_mult:
                rel = b.rel_m[None, None, :]
                xh = b.x_hat[:, :, None]
                sm, s1m = s[:, :, b.mult], s1[:, :, b.mult]
                logf = np.where(rel, 0.0, sm)
                g = np.where(rel, 1.0 - sm / xh, 1.0)
                f = np.prod(g, axis=2) * np.exp(logf.sum(axis=2))
                gx = g * xh
                dmul = np.where(rel, -s1m / gx, s1m)
                if s2 is None:
                    c2 = np.where(rel, -dmul * dmul, 0.0)
                else:
                    s2m = s2[:, :, b.mult]
                    c2 = np.where(rel, -s2m / gx - dmul * dmul, s2m)
            nl = (s1, s2, dmul, c2)
        yf = y if f is None else y * f
        return X + yf, f, yf, nl

    def _residual(self, b: _Block, X: Array) -> tuple[Array, Array | None, Array | None]:
        x_hat = b.x_hat
        if not self.pearson:
            return X - x_hat, None, None
        ratio = X / x_hat
        bad = ratio <= 1e-6
        sq = np.sqrt(x_hat)
        if not bad.any():
            rs = np.sqrt(X)
            inv = 1.0 / rs
            xi = x_hat * inv
            return (
                sq * (rs - xi),
                0.5 * sq * (inv + xi / X),
                -sq * (0.25 * inv + 0.75 * xi / X) / X,
            )
        Xs = np.where(bad, x_hat, X)
        rs = np.sqrt(Xs)
        r = np.where(bad, X - x_hat, sq * (rs - x_hat / rs))
        r1 = np.where(bad, 1.0, sq * (0.5 / rs + 0.5 * x_hat / (Xs * rs)))
        r2 = np.where(bad, 0.0, sq * (-0.25 / (Xs * rs) - 0.75 * x_hat / (Xs * Xs * rs)))
        return r, r1, r2

    @staticmethod
    def _y(b: _Block, x: Array) -> Array:
        if b.param is not None:
            return x[:, b.param]
        assert b.P is not None
        return _rows(x, b.P.T)

    @staticmethod
    def _q(b: _Block, r: Array) -> Array:
        if b.M_diag is not None:
            return b.M_diag * r
        return np.einsum("kij,kj->ki", b.M, r)

    # ------------------------------------------------------------------ evaluation
    def values(
        self, idx: IntArray, theta: Array, gradient: bool = False, sides: Array | None = None
    ) -> tuple[Array, Array | None]:
        """χ² (K,) of data sets ``idx`` at ``theta`` (K, npar), and with ``gradient`` its
        gradient (K, npar); ``sides`` (K, n_lambda) forces the slopes of kinked sources as
        :meth:`CombinedChi2.values_and_gradients` does (NaN: free)."""
        n_p = self.n_params
        x, eta = theta[:, :n_p], theta[:, n_p:]
        lam = _rows(eta, self.L.T)
        chi2 = np.einsum("ki,ki->k", eta, eta)
        K = len(idx)
        g_x = np.zeros((K, n_p)) if gradient else None
        g_l = np.zeros((K, lam.shape[1])) if gradient else None
        for full in self.blocks:
            b = full.take(idx)
            delta = lam[:, b.src] - b.lam_hat
            y = self._y(b, x)
            X, f, yf, nl = self._state(b, y, delta, None if sides is None else sides[:, b.src])
            r, r1, _ = self._residual(b, X)
            q = self._q(b, r)
            chi2 += np.einsum("ki,ki->k", r, q)
            Dd = None
            if b.D is not None:
                Dd = _rows(delta, b.D.T)
                chi2 += np.einsum("ki,ki->k", delta, Dd)
            chi2 -= 2.0 * np.einsum("ki,ki->k", b.lam_hat, delta) + np.einsum(
                "ki,ki->k", b.lam_hat, b.lam_hat
            )
            if not gradient:
                continue
            assert g_x is not None and g_l is not None
            t = 2.0 * q if r1 is None else 2.0 * q * r1
            tf = t if f is None else t * f
            if b.param is not None:
                g_x[:, b.param] += tf
            else:
                assert b.P is not None
                g_x += _rows(tf, b.P)
            gd = np.empty_like(delta)
            if b.lin.size:
                gd[:, b.lin] = (
                    -_rows(t, b.U_lin) if b.U_own is None else -np.einsum("ki,kij->kj", t, b.U_own)
                )
            if nl is not None:
                s1, _s2, dmul, _c = nl
                gnl = np.empty((K, b.nl.size))
                if np.any(b.absolute):
                    gnl[:, b.absolute] = -np.einsum("ki,kij->kj", t, s1[:, :, b.absolute])
                if b.any_mult:
                    gnl[:, b.mult] = np.einsum("ki,kij->kj", t * yf, dmul)
                gd[:, b.nl] = gnl
            gd -= 2.0 * b.lam_hat
            if Dd is not None:
                gd += 2.0 * Dd
            g_l[:, b.src] += gd
        if not gradient:
            return chi2, None
        assert g_x is not None and g_l is not None
        return chi2, np.concatenate([g_x, _rows(g_l, self.L) + 2.0 * eta], axis=1)

    def hessian(self, idx: IntArray, theta: Array, sides: Array | None = None) -> Array:
        """The Hessian (K, npar, npar) of data sets ``idx`` at ``theta``
        (``CombinedChi2._hessian`` for K data sets)."""
        n_p, npar = self.n_params, self.npar
        K = len(idx)
        x, eta = theta[:, :n_p], theta[:, n_p:]
        lam = _rows(eta, self.L.T)
        half = np.zeros((K, npar, npar))
        h_xx = half[:, :n_p, :n_p]
        h_xe = half[:, :n_p, n_p:]
        h_ee = half[:, n_p:, n_p:]
        for full in self.blocks:
            b = full.take(idx, hessian=True)
            Lb = self.L[b.src]
            if b.linear_neyman:
                hdd = b.UMU_lin if b.D is None else b.UMU_lin + b.D
                M = b.M if b.M_diag is None else b.M_diag  # diagonal: only the diagonal
                self._add(b, h_xx, h_xe, M, -b.MU_lin @ Lb)
                h_ee += Lb.T @ hdd @ Lb
                continue
            delta = lam[:, b.src] - b.lam_hat
            y = self._y(b, x)
            X, f, yf, nl = self._state(b, y, delta, None if sides is None else sides[:, b.src])
            r, r1, r2 = self._residual(b, X)
            q = self._q(b, r)
            n_e, n_s = b.x_hat.shape[1], len(b.src)
            fv = np.ones((K, n_e)) if f is None else f
            J = np.zeros((K, n_e, n_s))
            if b.lin.size:
                J[:, :, b.lin] = -b.U_lin if b.U_own is None else -b.U_own
            second_xd = None
            curv = None
            t = 2.0 * q if r1 is None else 2.0 * q * r1
            if nl is not None:
                s1, s2, dm, cm = nl
                n_nl = b.nl.size
                Jnl = np.zeros((K, n_e, n_nl))
                curv_nl = np.zeros((K, n_nl, n_nl))
                ia = np.flatnonzero(b.absolute)
                if ia.size:
                    Jnl[:, :, ia] = -s1[:, :, ia]
                    if s2 is not None:
                        curv_nl[:, ia, ia] -= np.einsum("ki,kij->kj", t, s2[:, :, ia])
                if b.any_mult:
                    im = np.flatnonzero(b.mult)
                    Jnl[:, :, im] = yf[:, :, None] * dm
                    w = t * yf
                    curv_nl[:, im[:, None], im[None, :]] += np.einsum("kia,ki,kib->kab", dm, w, dm)
                    curv_nl[:, im, im] += np.einsum("ki,kia->ka", w, cm)
                    second_xd = np.zeros((K, n_e, n_s))
                    second_xd[:, :, b.nl[im]] = (t * fv)[:, :, None] * dm
                J[:, :, b.nl] = Jnl
                curv = np.zeros((K, n_s, n_s))
                curv[:, b.nl[:, None], b.nl[None, :]] = curv_nl
            if b.M_diag is not None:
                # diagonal M: the weight W = r1 M r1 + diag(q r2) is diagonal too (the same
                # numbers as the full products, without the n_e² work)
                wd = b.M_diag if r1 is None else r1 * b.M_diag * r1 + q * r2  # type: ignore[operator]
                WJ = wd[:, :, None] * J
                Wf = wd * fv * fv
            elif r1 is None:
                WJ = b.M @ J
                Wf = b.M * fv[:, None, :] * fv[:, :, None]
            else:
                assert r2 is not None
                W = r1[:, :, None] * b.M * r1[:, None, :]
                W[:, np.arange(n_e), np.arange(n_e)] += q * r2
                WJ = W @ J
                Wf = W * fv[:, None, :] * fv[:, :, None]
            hdd = np.swapaxes(J, 1, 2) @ WJ
            hyd = fv[:, :, None] * WJ
            if b.D is not None:
                hdd += b.D
            if curv is not None:
                hdd += 0.5 * curv
            if second_xd is not None:
                hyd += 0.5 * second_xd
            self._add(b, h_xx, h_xe, Wf, hyd @ Lb)
            h_ee += Lb.T @ hdd @ Lb
        diag = np.arange(n_p, npar)
        half[:, diag, diag] += 1.0
        # H = 2 [[h_xx, h_xe], [h_xeᵀ, h_ee]] symmetrised as CombinedChi2 does (½(H + Hᵀ) =
        # h + hᵀ on the diagonal blocks, exactly), from the upper blocks in one pass
        h_xe *= 2.0
        return half + np.swapaxes(half, 1, 2)

    @staticmethod
    def _add(b: _Block, h_xx: Array, h_xe: Array, Wf: Array, hye: Array) -> None:
        """Add ∂²/∂y∂y (``Wf``: (K, n_e, n_e), or (K, n_e) when diagonal) and ∂²/∂y∂η of a
        block to the x̄ rows of ½H."""
        if b.param is not None:
            p = b.param
            run = p.size and p[-1] - p[0] == p.size - 1 and bool(np.all(np.diff(p) == 1))
            if Wf.ndim == 2:
                h_xx[:, p, p] += Wf
            elif run:
                h_xx[:, p[0] : p[-1] + 1, p[0] : p[-1] + 1] += Wf
            else:
                h_xx[:, p[:, None], p[None, :]] += Wf
            if run:  # consecutive values: a slice, no index grid
                h_xe[:, p[0] : p[-1] + 1] += hye
            else:
                h_xe[:, p] += hye
        else:
            P = b.P
            assert P is not None
            if Wf.ndim == 2:
                Wf = Wf[:, :, None] * np.eye(Wf.shape[1])
            h_xx += P.T @ Wf @ P
            h_xe += P.T @ hye


# ---------------------------------------------------------------------- Newton
def _cholesky(H: Array) -> tuple[Array, NDArray[np.bool_]]:
    """Lower Cholesky factors of the stacked H and which are positive definite."""
    try:
        return np.asarray(np.linalg.cholesky(H), dtype=float), np.ones(len(H), dtype=bool)
    except np.linalg.LinAlgError:
        if len(H) == 1:
            return np.zeros_like(H), np.zeros(1, dtype=bool)
    # some are not: each half on its own (the positive definite ones in one call each)
    half = len(H) // 2
    a, ok_a = _cholesky(H[:half])
    b, ok_b = _cholesky(H[half:])
    return np.concatenate([a, b]), np.concatenate([ok_a, ok_b])


def _cho_inverse(chol: Array) -> Array:
    """H⁻¹ per data set from the stacked lower Cholesky factors (LAPACK potri)."""
    from scipy.linalg import lapack

    out = np.empty_like(chol)
    for k in range(len(chol)):
        inv, info = lapack.dpotri(chol[k], lower=1)
        if info != 0:  # pragma: no cover - potri fails only on a singular factor
            raise ValueError(f"LAPACK potri info={info}")
        low = np.tril(inv)
        out[k] = low + low.T - np.diag(np.diag(low))
    return out


def _cho_solve(chol: Array, g: Array) -> Array:
    """H⁻¹ g per data set from the stacked lower Cholesky factors (LAPACK potrs, 2n² each:
    numpy has no batched triangular solve, and a batched LU would cost 2n³/3)."""
    from scipy.linalg import lapack

    out = np.empty_like(g)
    for k in range(len(g)):
        out[k], info = lapack.dpotrs(chol[k], g[k], lower=1)
        if info != 0:  # pragma: no cover - potrs fails only on bad arguments
            raise ValueError(f"LAPACK potrs info={info}")
    return out


def quadratic_starts(batch: BatchedChi2) -> tuple[Array, Array, NDArray[np.bool_]]:
    """Where :func:`hepcombine.solver.minimise` starts Newton's method, for every data set: the
    minimum of its quadratic approximation (one solve from ``start``, one refinement with the
    same factor), and the parameter scales 1/√(½H_ii) of that approximation's Hessian H.
    Returns (starts, scales, ok); ``ok`` is False where H is not positive definite (the
    per-data-set minimiser reports that)."""
    quad = batch.linearised()
    idx = np.arange(len(batch))
    start = batch.start()
    _, g = quad.values(idx, start, gradient=True)
    H = quad.hessian(idx, start)
    chol, ok = _cholesky(H)
    theta = start.copy()
    sigma = np.ones_like(start)
    if ok.any():
        rows = np.flatnonzero(ok)
        assert g is not None
        theta[rows] = start[rows] - _cho_solve(chol[rows], g[rows])
        _, g1 = quad.values(rows, theta[rows], gradient=True)
        assert g1 is not None
        theta[rows] -= _cho_solve(chol[rows], g1)
        diag = np.einsum("kii->ki", H[rows])
        sigma[rows] = 1.0 / np.sqrt(np.clip(0.5 * diag, 1e-300, None))
    return theta, sigma, ok


class _Factor:
    """One data set's Cholesky factor with the ``solve`` that ``newton._kkt_step`` needs."""

    def __init__(self, chol: Array) -> None:
        self.chol = chol

    def solve(self, b: Array) -> Array:
        from scipy.linalg import lapack

        x, info = lapack.dpotrs(self.chol, b, lower=1)
        if info != 0:  # pragma: no cover - potrs fails only on bad arguments
            raise ValueError(f"LAPACK potrs info={info}")
        return np.asarray(x, dtype=float)


def far_side_screens(
    batch: BatchedChi2, kinks: Sequence[KinkGroups], pairs: Sequence[tuple[int, int]], minima
) -> NDArray[np.bool_]:
    """``newton._other_side_may_be_lower`` for every (data set, kink group) of ``pairs`` at
    once, at the data set's minimum ``minima[i]`` (its held kinks held): one Newton step of the
    χ² piece across the group's kink, continued to this side; True where the step ends across
    the kink or that piece's Hessian is not positive definite (its far side must be searched)."""
    rows = np.array([i for i, _ in pairs], dtype=np.intp)
    theta = np.array([minima[i].theta for i, _ in pairs])
    sides = np.full((len(pairs), batch.L.shape[0]), np.nan)
    side = np.empty(len(pairs))
    for q, (i, grp) in enumerate(pairs):
        kg, m = kinks[i], minima[i]
        side[q] = np.sign(kg.h(m.theta)[grp])
        forced = kg.sides(m.held, {grp: -side[q]})
        assert forced is not None
        sides[q] = forced
    sub = batch.subset(rows.tolist())
    idx = np.arange(len(pairs))
    _, g = sub.values(idx, theta, gradient=True, sides=sides)
    H = sub.hessian(idx, theta, sides)
    assert g is not None
    chol, ok = _cholesky(H)
    out = np.ones(len(pairs), dtype=bool)
    for k in np.flatnonzero(ok).tolist():
        i, grp = pairs[k]
        m = minima[i]
        A, b = _constraints(kinks[i], {}, m.held, batch.npar)
        step, _ = _kkt_step(_Factor(chol[k]), g[k], A, b - A @ m.theta)  # type: ignore[arg-type]
        out[k] = bool(side[k] * kinks[i].h(m.theta + step)[grp] <= 0.0)
    return out


def _line_search(
    batch: BatchedChi2,
    kinks: Sequence[KinkGroups],
    hk: Callable[[IntArray, Array], Array],
    normals: Array,
    rows: IntArray,
    theta: Array,
    step: Array,
    f0: Array,
    slope: Array,
    edm: Array,
) -> tuple[Array, Array, NDArray[np.bool_], NDArray[np.bool_]]:
    """The line search of ``newton.newton_minimise`` for data sets ``rows`` with no kink held:
    backtracking from t = 1 (Armijo) where the step reaches no kink; where it reaches kink
    groups at t_1 < t_2 < … ≤ 1, the one-sided derivatives at each decide in turn as in the
    per-data-set search: the χ² rises before the kink → backtracking inside the current piece
    (Armijo from the start, else below the previous kink's χ²); it descends through → on to
    the next kink, and after the last from t = 1 back towards it, the first point below that
    kink's χ². V-shaped (held on the kink), two groups reached at once, or ending on a kink →
    the data set leaves the batch (``leave``). Returns the new points, their χ², ``leave`` and
    whether the step crossed a kink."""
    n = len(rows)
    t = np.ones(n)
    lo = np.zeros(n)
    fref = f0.copy()
    leave = np.zeros(n, dtype=bool)
    crossed: list[list[tuple[int, float]]] = [[] for _ in range(n)]  # (group, side now)
    if len(normals) and n:
        h0 = hk(rows, theta)
        dh = _rows(step, normals.T)
        with np.errstate(divide="ignore", invalid="ignore"):
            tk = np.where(np.sign(h0) * dh < 0, -h0 / dh, np.inf)
        order = np.argsort(tk, axis=1, kind="stable")
        ts = np.take_along_axis(tk, order, axis=1)
        reach = np.sum(ts <= 1.0, axis=1)
        # two groups reached at the same point: together, as newton_minimise does, alone
        same = (ts[:, 1:] <= ts[:, :-1] * (1 + 1e-12) + 1e-300) & (ts[:, 1:] <= 1.0)
        leave |= np.any(same, axis=1) if ts.shape[1] > 1 else False
        n_l = batch.L.shape[0]
        crossing = np.flatnonzero((reach > 0) & ~leave)
        c = 0
        while crossing.size:
            grp = order[crossing, c]
            tb = ts[crossing, c]
            before = np.sign(h0[crossing, grp])
            s0 = np.full((crossing.size, n_l), np.nan)
            s1 = np.full((crossing.size, n_l), np.nan)
            for q, (r, gq) in enumerate(zip(rows[crossing].tolist(), grp.tolist(), strict=True)):
                members, signs = kinks[r].members[gq], kinks[r].signs[gq]
                s0[q, members] = before[q] * signs
                s1[q, members] = -before[q] * signs
            at_kink = theta[crossing] + tb[:, None] * step[crossing]
            fb, gb0 = batch.values(rows[crossing], at_kink, gradient=True, sides=s0)
            _, gb1 = batch.values(rows[crossing], at_kink, gradient=True, sides=s1)
            assert gb0 is not None and gb1 is not None
            d_before = np.einsum("ki,ki->k", gb0, step[crossing])
            d_after = np.einsum("ki,ki->k", gb1, step[crossing])
            fp = fref[crossing]
            rises = (d_before > 0.0) | ~(fb <= fp + 1e-12 * np.maximum(1.0, np.abs(fp)))
            # the χ² rises before this kink: the best point is inside the current piece, from
            # t_b down (t_b itself accepted: the point is on the kink, which is then held)
            first = lo[crossing] == 0.0
            enough = np.where(first, fb <= f0[crossing] + 1e-4 * tb * slope[crossing], fb < fp)
            on_kink = rises & np.isfinite(fb) & enough
            leave[crossing[on_kink]] = True
            inside = crossing[rises & ~on_kink]
            t[inside] = lo[inside] + 0.5 * (tb[rises & ~on_kink] - lo[inside])
            # V-shaped along the step: held on the kink
            leave[crossing[~rises & (d_after >= 0.0)]] = True
            # descending through the kink: on in the next piece
            through = ~rises & (d_after < 0.0)
            for r, gq, side in zip(
                crossing[through].tolist(),
                grp[through].tolist(),
                (-before[through]).tolist(),
                strict=True,
            ):
                crossed[r].append((gq, side))
            lo[crossing[through]] = tb[through]
            fref[crossing[through]] = fb[through]
            c += 1
            crossing = crossing[through]
            crossing = crossing[reach[crossing] > c]
    moved = theta.copy()
    f_new = f0.copy()
    found = np.zeros(n, dtype=bool)
    todo = np.flatnonzero(~leave)
    for first_try in range(40):
        if not todo.size:
            break
        cand = theta[todo] + t[todo, None] * step[todo]
        fc, _ = batch.values(rows[todo], cand)
        start = lo[todo] == 0.0
        ok = np.where(start, fc <= f0[todo] + 1e-4 * t[todo] * slope[todo], fc < fref[todo])
        if first_try == 0:
            # a Newton step whose expected decrease is below the χ²'s rounding: whether it
            # lowers the computed χ² is noise, and backtracking would only wander; the step
            # itself is exact to rounding (the next iteration converges)
            ok |= start & (t[todo] == 1.0) & (edm[todo] < EDM_GOAL)
        ok &= np.isfinite(fc)
        moved[todo[ok]] = cand[ok]
        f_new[todo[ok]] = fc[ok]
        found[todo[ok]] = True
        todo = todo[~ok]
        t[todo] = lo[todo] + 0.5 * (t[todo] - lo[todo])
    went = np.array([bool(x) for x in crossed], dtype=bool)
    for r in np.flatnonzero(went & ~leave).tolist():
        # strictly on the far side of every kink crossed: the per-data-set state is plain again
        if not found[r]:
            leave[r] = True  # ended on the last kink crossed
            continue
        h = hk(rows[r : r + 1], moved[r : r + 1])[0]
        if not all(h[gq] * side > 0 and abs(h[gq]) > 1e-12 for gq, side in crossed[r]):
            leave[r] = True
    return moved, f_new, leave, went


def batched_newton(
    batch: BatchedChi2,
    theta0: Array,
    kinks: Sequence[KinkGroups],
    sigma: Array,
    *,
    max_iterations: int = MAX_ITERATIONS,
) -> list[Minimum]:
    """:func:`~hepcombine.solver.newton.newton_minimise` of every data set of ``batch`` from
    its row of ``theta0`` (B, npar), with its kink groups ``kinks[i]`` (the hyperplanes sit
    at each data set's own λ̂) and ``sigma`` (B, n) its parameter scales (module docstring).
    Returns one :class:`Minimum` per data set; ``Minimum.message`` is ``"batched"`` for those
    found in the batch, otherwise the per-data-set minimiser's."""
    B, npar = theta0.shape
    n_p = batch.n_params
    theta = np.array(theta0, dtype=float)
    scale = np.where(sigma > 0, sigma, 1.0)
    if scale.shape[1] < npar:
        scale = np.concatenate([scale, np.ones((B, npar - scale.shape[1]))], axis=1)
    out: list[Minimum | None] = [None] * B
    handoff: dict[int, int] = {}  # data set -> iterations used in the batch
    active = np.arange(B)
    normals = kinks[0].normals
    G = len(normals)
    offsets = np.zeros((B, G))
    for i, kg in enumerate(kinks):
        if kg.normals.shape == normals.shape and np.array_equal(kg.normals, normals):
            offsets[i] = kg.offsets
        else:  # kink groups of another structure: alone
            handoff[i] = 0

    def hk(rows: IntArray, points: Array) -> Array:
        """Signed distance (K, G) of each data set's point from its kink hyperplanes."""
        return _rows(points, normals.T) - offsets[rows]

    if G:
        on = np.any(hk(active, theta) == 0.0, axis=1)
        for i in np.flatnonzero(on).tolist():
            handoff[i] = 0
    active = np.array([i for i in range(B) if i not in handoff], dtype=np.intp)
    stalled = np.zeros(B, dtype=int)
    for it in range(1, max_iterations + 1):
        if not active.size:
            break
        th = theta[active]
        f0, g = batch.values(active, th, gradient=True)
        assert g is not None
        H = batch.hessian(active, th)
        chol, pd = _cholesky(H)
        for i in active[~pd]:
            handoff[int(i)] = it - 1
        keep = pd
        step = np.zeros_like(th)
        if keep.any():
            step[keep] = -_cho_solve(chol[keep], g[keep])
        edm = 0.5 * np.maximum(-np.einsum("ki,ki->k", g, step), 0.0)
        dx = np.abs(step[:, :n_p]) / scale[active, :n_p] if n_p else np.zeros((len(th), 0))
        small = (edm < EDM_GOAL) & (np.max(dx, axis=1, initial=0.0) < STEP_GOAL) & keep
        # converged: the last step is taken where it does not raise the χ² (nor cross a kink)
        if small.any():
            sel = np.flatnonzero(small)
            cand = th[sel] + step[sel]
            fc, _ = batch.values(active[sel], cand)
            take = fc <= f0[sel]
            if G:
                ha, hb = hk(active[sel], th[sel]), hk(active[sel], cand)
                take &= ~np.any(np.sign(ha) * hb < 0, axis=1)
            for j, pos in enumerate(sel.tolist()):
                x, fx = (cand[j], float(fc[j])) if take[j] else (th[pos], float(f0[pos]))
                out[int(active[pos])] = Minimum(x.copy(), fx, float(edm[pos]), it, True, "batched")
        go = keep & ~small
        sel = np.flatnonzero(go)
        slope = np.einsum("ki,ki->k", g[sel], step[sel])
        moved, new_f, leave, crossed = _line_search(
            batch, kinks, hk, normals, active[sel], th[sel], step[sel], f0[sel], slope, edm[sel]
        )
        for i in active[sel[leave]].tolist():
            handoff[i] = it - 1  # the kinked line search of newton_minimise takes over
        sel, moved, new_f, crossed = sel[~leave], moved[~leave], new_f[~leave], crossed[~leave]
        rows = active[sel]
        theta[rows] = moved
        worse = (new_f >= f0[sel]) & ~(edm[sel] < EDM_GOAL)
        stalled[rows] = np.where(worse & ~crossed, stalled[rows] + 1, 0)
        # no representable decrease left: converged to the precision of the χ² itself
        done = worse & (edm[sel] < 1e-9)
        for j in np.flatnonzero(done).tolist():
            row = int(rows[j])
            out[row] = Minimum(
                theta[row].copy(), float(f0[sel[j]]), float(edm[sel[j]]), it, True, "batched"
            )
        stuck = ~done & (stalled[rows] >= 3)
        for j in np.flatnonzero(stuck).tolist():
            handoff[int(rows[j])] = it
        finished = np.array([out[a] is not None or a in handoff for a in active.tolist()])
        active = active[~finished]
    for left in active.tolist():
        handoff[int(left)] = max_iterations
    for row, used in handoff.items():
        m = newton_minimise(
            batch.models[row],
            theta[row],
            kinks[row],
            sigma[row],
            max_iterations=max(1, max_iterations - used),
        )
        m.iterations += used
        out[row] = m
    assert all(m is not None for m in out)
    return out  # type: ignore[return-value]


def __dir__() -> list[str]:
    return list(__all__)
