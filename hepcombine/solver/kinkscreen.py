"""Exact lower bounds for the χ² across kinks, by low-rank updates (issue 18).

With the Neyman χ² and absolute sources, the residuals r = X − x̂ of every piece (every choice
of side of the kink groups) are affine in θ, and two pieces differ only in the slopes of the
kinked sources. Writing the residuals of the piece with side σ_g (+1, −1, or 0 for the mean
slope of a held group) of every group as

    r_σ(θ) = r_mid(θ) + Σ_g (σ_g/2) τ_g h_g(θ),

τ_g the *template* of group g (r on its h > 0 side minus r on its h < 0 side, per unit of h_g:
−(u_up + u_down) · dδ/dh_g summed over its sources), changing the sides of a set F of groups at
a point θ_e of piece σ_e is the rank-|F| change u = T_F ΔS_F of the residual Jacobian, u·h_F.
The χ² of the new piece (continued as a quadratic over all θ) then has, about θ_e,

    value  f′ = f + 2aᵀh + hᵀWh,   gradient g′ = g + 2Nᵀa + 2Bh + 2NᵀWh,
    Hessian H′ = H + V C Vᵀ,  V = [B, Nᵀ],  C = 2[[0, I], [I, W]],

with a = uᵀMr, B = JᵀMu, W = uᵀMu (J, r, M of piece σ_e at θ_e, N the normals of F). Its
minimum with θ_c fixed follows from the factorisation of H by the Woodbury identity,
K′ = K − KV(C⁻¹ + VᵀKV)⁻¹VᵀK (K: H⁻¹ restricted to θ_c fixed), so every candidate costs a few
products with vectors computed once per point. The minimum of a piece continued over all θ is
a lower bound of its minimum over its own region: when it is not below χ²_min + 1, the region
holds no point below it — an exact certificate, used to skip the minimisations that cannot
find a lower branch.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..chi2 import CombinedChi2
from ._linalg import Factor, solve
from .newton import KinkGroups

__all__ = ["KinkScreen", "PointBounds"]

Array = NDArray[np.float64]


class KinkScreen:
    """The templates of a piecewise-quadratic χ²'s kink groups and the bounds above.

    Build it with :meth:`of` (None when the χ² is not piecewise quadratic or its structure is
    not the one written here: then nothing is screened)."""

    def __init__(self, model: CombinedChi2, kinks: KinkGroups) -> None:
        self.model, self.kinks = model, kinks
        G = len(kinks)
        group_of = {}
        for g, members in enumerate(kinks.members):
            for k, s in enumerate(members):
                group_of[int(s)] = (g, float(kinks.signs[g][k]))
        norms = np.linalg.norm(model.L, axis=1)
        self.templates: list[Array] = []  # per block: (n_e, G)
        self.nl_group: list[NDArray[np.intp]] = []  # per block: group of each nl column
        self.nl_dir: list[Array] = []  # dδ/dh of each nl column
        for b in model.blocks:
            T = np.zeros((len(b.x_hat), G))
            grp = np.full(b.nl.size, -1, dtype=np.intp)
            ddh = np.zeros(b.nl.size)
            for k, j in enumerate(b.nl):
                s = int(b.src[j])
                if s not in group_of:
                    continue
                g, sign = group_of[s]
                grp[k] = g
                ddh[k] = sign * norms[s]
                T[:, g] += -(b.a_up[:, k] + b.a_down[:, k]) * abs(ddh[k])
            self.templates.append(T)
            self.nl_group.append(grp)
            self.nl_dir.append(ddh)
        # groups whose hyperplanes are parallel (one source pulled in a Hessian measurement and
        # also kinked at 0 elsewhere, ρ = ±1): h_g = o_g t − b_g with t = n_lead·θ along their
        # common normal; a choice of sides is empty when no t satisfies them all
        N = kinks.normals
        self.line: list[NDArray[np.intp]] = []  # per group: the groups parallel to it (itself too)
        self.orient = np.ones(G)
        self.shift = np.array(kinks.offsets, dtype=float)
        lead = np.arange(G)
        for g in range(G):
            for k in range(g):
                if lead[k] == k and abs(float(N[g] @ N[k])) > 1.0 - 1e-10:
                    lead[g] = k
                    self.orient[g] = float(np.sign(N[g] @ N[k]))
                    break
        for g in range(G):
            self.line.append(np.flatnonzero(lead == lead[g]))

    def feasible(self, sides: Array, groups: list[int]) -> bool:
        """Whether the region of the piece ``sides`` (s_g h_g ≥ 0, h_g = 0 where s_g = 0) is
        not empty along the normals of ``groups`` shared with other groups (the only linear
        dependencies the kink normals have in the family built here; others are not
        detected: a region reported feasible may still be empty, never the reverse)."""
        for g in groups:
            members = self.line[g]
            if len(members) < 2:
                continue
            lo, hi = -np.inf, np.inf
            for k in members:
                o, b, s = self.orient[k], self.shift[k], sides[k]
                at = o * b  # t where h_k = 0 (o = ±1)
                if s == 0.0:
                    lo, hi = max(lo, at), min(hi, at)
                elif s * o > 0:
                    lo = max(lo, at)
                else:
                    hi = min(hi, at)
            if lo > hi + 1e-12 * max(1.0, abs(lo), abs(hi)):
                return False
        return True

    @classmethod
    def of(cls, model: CombinedChi2, kinks: KinkGroups, theta: Array) -> KinkScreen | None:
        if not (model.is_piecewise_quadratic and len(kinks)) or model.asymmetry != "convino":
            return None
        if any(np.any(b.kind != 0) for b in model.blocks):
            return None
        screen = cls(model, kinks)
        if any(np.any(g < 0) for g in screen.nl_group):
            return None
        # the structure must reproduce the χ² itself (else it is not the one written here)
        sides = np.sign(kinks.h(theta))
        chi2_model = model.evaluate(theta, 0, kinks.sides([], dict(enumerate(sides))))[0]
        if not abs(screen.chi2(theta, sides) - chi2_model) <= 1e-9 * max(1.0, abs(chi2_model)):
            return None
        return screen

    # ------------------------------------------------------------------ one piece
    def _block(self, k: int, theta: Array, sides: Array) -> tuple[Array, Array]:
        """Residuals r and their Jacobian J (n_e × npar) of block k in the piece ``sides``
        (per group: +1, −1, 0 the mean slope)."""
        model = self.model
        b = model.blocks[k]
        n_p = model.n_params
        eta = theta[n_p:]
        Lb = model.L[b.src]
        delta = Lb @ eta - b.lam_hat
        n_e = len(b.x_hat)
        # slope of every nl column on the chosen side: mid + (σ_δ/2)(up + down)
        grp = self.nl_group[k]
        side_delta = sides[grp] * np.sign(self.nl_dir[k])
        slope = 0.5 * (b.a_up - b.a_down) + 0.5 * side_delta[None, :] * (b.a_up + b.a_down)
        linear = getattr(b, "linear", None)  # estimates of linear combinations (binning)
        X = linear @ theta[:n_p] if linear is not None else theta[b.param].copy()
        J_lam = np.zeros((n_e, len(b.src)))
        if b.lin.size:
            X -= b.U_lin @ delta[b.lin]
            J_lam[:, b.lin] = -b.U_lin
        if b.nl.size:
            X -= slope @ delta[b.nl]
            J_lam[:, b.nl] = -slope
        J = np.zeros((n_e, model.npar))
        if linear is not None:
            J[:, :n_p] = linear
        else:
            J[np.arange(n_e), b.param] = 1.0
        J[:, n_p:] = J_lam @ Lb
        return X - b.x_hat, J

    def chi2(self, theta: Array, sides: Array) -> float:
        """The χ² of the piece ``sides`` at θ (a check of the structure)."""
        model = self.model
        n_p = model.n_params
        eta = theta[n_p:]
        total = float(eta @ eta)
        for k, b in enumerate(model.blocks):
            r, _ = self._block(k, theta, sides)
            delta = model.L[b.src] @ eta - b.lam_hat
            total += float(r @ b.M @ r)
            if b.has_D:
                total += float(delta @ b.D @ delta)
            total -= 2.0 * float(b.lam_hat @ delta) + float(b.lam_hat @ b.lam_hat)
        return total

    def at(self, theta: Array, sides: Array) -> tuple[Array, Array, Array]:
        """a = TᵀMr (G), B = JᵀMT (npar × G), W = TᵀMT (G × G) of the piece at θ."""
        G = len(self.kinks)
        npar = self.model.npar
        a = np.zeros(G)
        B = np.zeros((npar, G))
        W = np.zeros((G, G))
        for k, b in enumerate(self.model.blocks):
            T = self.templates[k]
            r, J = self._block(k, theta, sides)
            MT = b.M @ T
            a += MT.T @ r
            B += J.T @ MT
            W += T.T @ MT
        return a, B, W


class PointBounds:
    """Lower bounds, at one point θ_e of piece σ_e, of the minimum (θ_c fixed, or free) of
    the pieces that differ from σ_e in a few groups (see the module docstring)."""

    def __init__(
        self,
        screen: KinkScreen,
        theta: Array,
        sides: Array,
        f: float,
        g: Array,
        factor: Factor,
        c: int | None,
    ) -> None:
        self.sides = sides
        self.f, self.g = f, g
        #: the step to the minimiser found by the last :meth:`bound` (None: none)
        self.step: Array | None = None
        #: the groups on their hyperplane at that minimiser (its active set), and whether
        #: the minimiser is exact (the dual solved to optimality, not stopped early)
        self.active: list[int] = []
        self.exact = False
        kinks = screen.kinks
        self.screen = screen
        self.h = kinks.h(theta)
        self.a, self.B, self.W = screen.at(theta, sides)
        N = kinks.normals
        npar = len(theta)
        rhs = np.column_stack([g, self.B, N.T])
        Z = solve(factor, rhs)
        if c is not None:
            e = np.zeros(npar)
            e[c] = 1.0
            w = solve(factor, e)
            Z = Z - np.outer(w, Z[c] / w[c])
        #: K R with R = [g, B, Nᵀ], and every product Rᵀ K R: each candidate is then a
        #: combination of these columns, its bound a few operations on (1 + 2G)-vectors
        self.Z = Z
        self.Q = rhs.T @ Z
        self.N = N

    def bound(self, groups: list[int], new_sides: list[float], enough: float = np.inf) -> float:
        """The minimum of the piece with ``groups`` moved to ``new_sides`` (±1, or 0 for the
        mean slope) over its own region (θ_c fixed if so built): a lower bound of the χ²
        there. The computation stops as soon as the bound reaches ``enough`` (then the value
        returned is a lower bound ≥ ``enough``, and :attr:`step` is not the minimiser)."""
        value = float(self.bounds([(groups, new_sides)], enough)[0])
        self.minimiser(0)
        return value

    def bounds(self, moves: list[tuple[list[int], list[float]]], enough: float = np.inf) -> Array:
        """:meth:`bound` of every move (groups, new sides) at once (the candidates of one
        size vectorised, their duals in lockstep); :meth:`minimiser` then gives the
        minimiser of each."""
        K = len(moves)
        G = len(self.h)
        out = np.full(K, np.inf)
        self._batch: list[tuple[Array, Array, Array, Array, Array, Array, bool] | None]
        self._batch = [None] * K
        s_all = np.repeat(self.sides[None, :], K, axis=0)
        live = []
        for k, (groups, new_sides) in enumerate(moves):
            s_all[k, groups] = new_sides
            if self.screen.feasible(s_all[k], groups):
                live.append(k)  # else an empty region: no point there at all
        by_size: dict[int, list[int]] = {}
        for k in live:
            by_size.setdefault(len(moves[k][0]), []).append(k)
        Q = self.Q
        rows, values, h0s, Ss, parts = [], [], [], [], []
        for m, ks in by_size.items():
            F = np.array([moves[k][0] for k in ks], dtype=np.intp).reshape(len(ks), m)
            new = np.array([moves[k][1] for k in ks], dtype=float).reshape(len(ks), m)
            n = len(ks)
            dS = 0.5 * (new - self.sides[F])
            hF = self.h[F]
            a = dS * self.a[F]
            W = dS[:, :, None] * self.W[F[:, :, None], F[:, None, :]] * dS[:, None, :]
            Wh = np.einsum("kij,kj->ki", W, hF)
            f1 = self.f + 2.0 * np.sum(a * hF, axis=1) + np.sum(hF * Wh, axis=1)
            # in the columns of R = [g, B, Nᵀ]: g1 = R u (the new piece's gradient at θ_e)
            # and V = [B_F dS, N_Fᵀ] = R[:, idx] · scale
            u = np.zeros((n, 1 + 2 * G))
            u[:, 0] = 1.0
            r_ = np.arange(n)[:, None]
            u[r_, 1 + F] = 2.0 * dS * hF
            u[r_, 1 + G + F] = 2.0 * (a + Wh)
            idx = np.concatenate([1 + F, 1 + G + F], axis=1)  # (n, 2m)
            scale = np.concatenate([dS, np.ones((n, m))], axis=1)
            QV = Q[:, idx].transpose(1, 0, 2) * scale[:, None, :]  # Rᵀ K V: (n, 1+2G, 2m)
            Cinv = np.zeros((n, 2 * m, 2 * m))
            Cinv[:, :m, :m] = -0.5 * W
            Cinv[:, :m, m:] = Cinv[:, m:, :m] = 0.5 * np.eye(m)
            core = Cinv + np.take_along_axis(QV, idx[:, :, None], axis=1) * scale[:, :, None]
            Qu = u @ Q  # Rᵀ K g1 (Q symmetric)
            rhs = np.empty((n, 2 * m, 1 + G))
            rhs[:, :, 0] = np.take_along_axis(Qu, idx, axis=1) * scale  # VᵀK g1
            rhs[:, :, 1:] = QV[:, 1 + G :, :].transpose(0, 2, 1)  # VᵀK Nᵀ
            lu = np.empty_like(rhs)
            ok = np.ones(n, dtype=bool)
            try:
                lu[:] = np.linalg.solve(core, rhs)
            except np.linalg.LinAlgError:
                for j in range(n):
                    x = _small_solve(core[j], rhs[j])
                    if x is None:
                        ok[j] = False
                        lu[j] = 0.0
                    else:
                        lu[j] = x
            # K′g1 and K′Nᵀ (all groups) by the Woodbury identity, in the columns of K R
            g1Kg1 = np.sum(u * Qu, axis=1) - np.sum(rhs[:, :, 0] * lu[:, :, 0], axis=1)
            value = f1 - 0.5 * g1Kg1
            QN = QV[:, 1 + G :, :]  # N K V: (n, G, 2m)
            h0 = self.h - Qu[:, 1 + G :] + np.einsum("kgi,ki->kg", QN, lu[:, :, 0])
            S = Q[1 + G :, 1 + G :] - QN @ lu[:, :, 1:]
            for j, k in enumerate(ks):
                if not ok[j]:
                    out[k] = -np.inf
                    continue
                rows.append(k)
                values.append(value[j])
                h0s.append(h0[j])
                Ss.append(S[j])
                parts.append((u[j], idx[j], scale[j], lu[j]))
        if not rows:
            return out
        # the piece's own region: every group on its side (s_g h_g ≥ 0), a group at its mean
        # slope on its hyperplane (h_g = 0): the convex QP by its dual, max over ν (s_g ν_g ≤ 0)
        # of νᵀh₀ − ½νᵀSν with h₀ the h at the unconstrained minimum and S = N K′ Nᵀ; any
        # sign-feasible ν gives a lower bound (weak duality), the optimal one the minimum
        v = np.array(values)
        h0 = np.array(h0s)
        S = np.array(Ss)
        s_live = s_all[rows]
        nu, exact = _duals(S, h0, s_live, enough - v)
        val = np.sum(nu * h0, axis=1) - 0.5 * np.einsum("kg,kgh,kh->k", nu, S, nu)
        for j, k in enumerate(rows):
            out[k] = v[j] + val[j]
            u_, idx_, scale_, lu_ = parts[j]
            self._batch[k] = (u_, idx_, scale_, lu_, nu[j], s_live[j], bool(exact[j]))
        return out

    def minimiser(self, k: int) -> None:
        """Set :attr:`step`, :attr:`active` and :attr:`exact` to those of candidate ``k`` of
        the last :meth:`bounds` (step None: an empty region or a singular update)."""
        part = self._batch[k]
        if part is None:
            self.step, self.active, self.exact = None, [], False
            return
        u, idx, scale, lu, nu, s_all, exact = part
        G = len(self.h)
        # the minimiser: θ_e − (K′g1 + K′Nᵀν) = θ_e − K R y
        y = u.copy()
        y[1 + G :] += nu
        y[idx] -= scale * (lu[:, 0] + lu[:, 1:] @ nu)
        self.step = -(self.Z @ y)
        self.active = [int(g) for g in np.flatnonzero((nu != 0.0) | (s_all == 0.0))]
        self.exact = exact


def _duals(S: Array, h: Array, s: Array, enough: Array, max_iter: int = 200) -> tuple[Array, Array]:
    """Maximise νᵀh_k − ½νᵀS_kν subject to s_kg ν_g ≤ 0 where s_kg ≠ 0, for K problems at once
    (rows of h and s, S (K, G, G)) in lockstep, by a primal-dual active set: the working set
    grows by the most violated constraint s_g (h − Sν)_g < 0 and shrinks by the multiplier that
    changes sign first (ties: the first to enter). Problem k stops once its objective reaches
    ``enough[k]`` (it only grows). Returns ν (K, G) and whether each is the optimum (not
    stopped early)."""
    K, G = h.shape
    nu = np.zeros((K, G))
    exact = np.zeros(K, dtype=bool)
    if not G:
        exact[:] = True
        return nu, exact
    work = s == 0.0  # in the working set
    order = np.where(work, 0.0, np.inf)  # when each entered it (ties in the drop: the first)
    added = 0
    never = s == 0.0
    scale = np.maximum(1.0, np.max(np.abs(h), axis=1))
    live = np.arange(K)
    eye = np.eye(G)
    for _ in range(max_iter):
        if not live.size:
            break
        Sw = S[live]
        wk = work[live]
        hk = h[live]
        # the working set's system, padded with the identity outside it (ν = 0 there)
        mask = wk[:, :, None] & wk[:, None, :]
        A = np.where(mask, Sw, eye)
        b = np.where(wk, hk, 0.0)
        new = np.zeros((live.size, G))
        solved = np.ones(live.size, dtype=bool)
        try:
            new[:] = np.linalg.solve(A, b[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            for j in range(live.size):
                x = _small_solve(A[j], b[j])
                if x is None:
                    solved[j] = False
                else:
                    new[j] = x
        new = np.where(wk, new, 0.0)
        sk = s[live]
        wrong = wk & (sk * new > 0.0)
        has_wrong = wrong.any(axis=1) & solved
        # singular: stop there (as alone)
        done = ~solved
        # a wrong sign: move towards `new` until the first multiplier reaches zero, drop it
        jw = np.flatnonzero(has_wrong)
        if jw.size:
            kk = live[jw]
            nw, nn, wr = nu[kk], new[jw], wrong[jw]
            den = nw - nn
            tk = np.divide(nw, den, out=np.zeros_like(nw), where=den != 0.0)
            tk = np.where(wr, tk, np.inf)
            tmin = tk.min(axis=1)
            first = np.where(wr, order[kk], np.inf)
            at_min = np.where(wr & (tk == tmin[:, None]), order[kk], np.inf)
            drop = np.where(tmin < 1.0, np.argmin(at_min, axis=1), np.argmin(first, axis=1))
            t = np.where(tmin < 1.0, tmin, 1.0)
            nu[kk] = nw + np.maximum(t, 0.0)[:, None] * (nn - nw)
            nu[kk, drop] = 0.0
            work[kk, drop] = False
            order[kk, drop] = np.inf
        # no wrong sign: take `new`, stop when enough or optimal, else add the worst
        jr = np.flatnonzero(~has_wrong & solved)
        if jr.size:
            kk = live[jr]
            nn = new[jr]
            nu[kk] = nn
            obj = np.sum(nn * h[kk], axis=1) - 0.5 * np.einsum("kg,kgh,kh->k", nn, S[kk], nn)
            enough_hit = work[kk].any(axis=1) & (obj >= enough[kk])
            viol = s[kk] * (h[kk] - np.einsum("kgh,kh->kg", S[kk], nn))
            viol[work[kk] | never[kk]] = 0.0
            worst = np.argmin(viol, axis=1)
            optimal = viol[np.arange(jr.size), worst] >= -1e-12 * scale[kk]
            exact[kk[optimal & ~enough_hit]] = True
            grow = ~optimal & ~enough_hit
            added += 1
            work[kk[grow], worst[grow]] = True
            order[kk[grow], worst[grow]] = added
            done_r = np.zeros(live.size, dtype=bool)
            done_r[jr] = enough_hit | optimal
            done |= done_r
        live = live[~done]
    return nu, exact


def _small_solve(a: Array, b: Array) -> Array | None:
    """a⁻¹b for a small dense system (LAPACK gesv, as numpy's solve, without its overhead);
    None when a is singular (scipy imported here: a plain combination does not need it)."""
    from scipy.linalg.lapack import dgesv

    _, _, x, info = dgesv(a, b)
    return None if info != 0 else x


def __dir__() -> list[str]:
    return list(__all__)
