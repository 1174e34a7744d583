"""A cheap exact reference for many kinked cases (issue 18: hundreds in the default run).

:class:`FaceReference` minimises the Neyman χ² with absolute sources of a kinked campaign case
(``tests/kinked_campaign.py``) exactly, without an iterative minimiser. In the reference
parameters p = (combined values, λ) every kink is a bound of one parameter and the χ² is
continuous, convex and quadratic, pᵀQp − 2cᵀp + e, in each box between kinks
(:meth:`OrthantReference.quadratic`, checked against the written χ²). The minimum of a convex
quadratic over a box satisfies its KKT conditions: some kinked parameters sit on a kink, the
others are strictly inside their interval and the gradient in all free parameters vanishes. So
it is the unconstrained minimum of one *face*: for every kinked parameter either one of its
intervals (the parameter free, its slopes those of that interval) or one of its kinks (the
parameter held there). Every face is one symmetric positive-definite linear solve; a face whose
solution leaves its intervals is infeasible and dropped; the global minimum (and the profile at
a fixed value) is the lowest feasible face. With k kinked parameters of one kink each that is
3^k solves, done together as one batched ``numpy.linalg.solve`` (k ≤ 4: at most 81 solves of
size ≈ 20), instead of 2^k bounded least-squares problems.

The value of the winning point is the written χ² (``Reference.value_grad``), never the
assembled quadratic. Independent of the engine (which follows the profile path by a parametric
active-set method in x̄ and decorrelated η): a different parametrisation and a different
method; and checked against :class:`OrthantReference` (BVLS per box) in the tests.
"""

from __future__ import annotations

import itertools

import numpy as np
from campaign import Case
from kinked_campaign import OrthantReference, _inside


class FaceReference:
    """The exact minimum and profiles of a Neyman, absolute-source kinked :class:`Case`."""

    def __init__(self, case: Case) -> None:
        self.ref = ref = OrthantReference(case)
        if not ref.exact:
            raise ValueError("FaceReference is exact only for Neyman's χ² with absolute sources")
        self.obs, self.n_obs, self.n = ref.obs, ref.n_obs, ref.n
        self.params = sorted(ref.kinks)
        self.edges = [sorted(ref.kinks[k]) for k in self.params]
        boxes = ref.boxes()  # itertools.product over the params' intervals, in this order
        self._shape = tuple(len(e) + 1 for e in self.edges)
        QC = [ref.quadratic(b) for b in boxes]
        self._Q = np.array([q for q, _ in QC]).reshape(len(boxes), self.n, self.n)
        self._c = np.array([c for _, c in QC]).reshape(len(boxes), self.n)
        # the constant of each box's quadratic, from the written χ² at a point of the box (used
        # only to rank the faces: the winners' values are the written χ²)
        self._e = np.zeros(len(boxes))
        p0 = np.zeros(self.n)
        for i, o in enumerate(self.obs):
            p0[i] = np.mean(
                [
                    m.estimates[m.estimate_names.index(r.split(":")[1])]
                    for r in case.observables[o]
                    for m in case.measurements
                    if m.name == r.split(":")[0]
                ]
            )
        for b, box in enumerate(boxes):
            for k in self.params:
                p0[k] = _inside(*box[k])
            Q, c = self._Q[b], self._c[b]
            self._e[b] = self.value(p0) - (p0 @ Q @ p0 - 2 * c @ p0)
        # every face: per kinked parameter a choice 2j (inside interval j) or 2j + 1 (on kink j)
        combos = list(itertools.product(*[range(2 * len(e) + 1) for e in self.edges]))
        faces = np.array(combos, dtype=int).reshape(len(combos), len(self.params))
        self._faces = faces
        interval = faces // 2  # the box whose quadratic holds on the face (kink j: interval j)
        self._box = (
            np.ravel_multi_index(interval.T, self._shape) if self.params else np.zeros(1, int)
        )
        self._on_kink = faces % 2 == 1
        self._lo = np.full(faces.shape, -np.inf)
        self._hi = np.full(faces.shape, np.inf)
        self._kink = np.zeros(faces.shape)
        for j, e in enumerate(self.edges):
            e = np.array(e)
            for f, choice in enumerate(faces[:, j]):
                if choice % 2:
                    self._kink[f, j] = e[choice // 2]
                else:
                    i = choice // 2
                    self._lo[f, j] = e[i - 1] if i > 0 else -np.inf
                    self._hi[f, j] = e[i] if i < len(e) else np.inf

    def value(self, p: np.ndarray) -> float:
        return float(self.ref.value_grad(p)[0])

    def minimum(self, fixed: dict[int, float] | None = None) -> tuple[np.ndarray, float]:
        """The lowest feasible face with the parameters ``fixed`` (index: value) held: the point
        and its written χ². (Tiny dense algebra: call it under one BLAS thread.)"""
        fixed = fixed or {}
        n, n_f = self.n, len(self._faces)
        Q, c = self._Q[self._box], self._c[self._box]
        held = np.zeros((n_f, n), dtype=bool)
        target = np.zeros((n_f, n))
        for i, v in fixed.items():
            held[:, i] = True
            target[:, i] = v
        for j, k in enumerate(self.params):
            held[:, k] |= self._on_kink[:, j]
            target[:, k] = np.where(self._on_kink[:, j], self._kink[:, j], target[:, k])
        # scaled (unit diagonal) system; held parameters moved to the right-hand side
        d = 1.0 / np.sqrt(np.einsum("fii->fi", Q))
        Qs = Q * d[:, :, None] * d[:, None, :]
        zt = np.where(held, target / d, 0.0)
        b = d * c - np.einsum("fij,fj->fi", Qs, zt)
        A = np.where(held[:, :, None] | held[:, None, :], 0.0, Qs)
        idx = np.arange(n)
        A[:, idx, idx] = np.where(held, 1.0, A[:, idx, idx])
        b = np.where(held, zt, b)
        z = np.linalg.solve(A, b[:, :, None])[:, :, 0]
        p = z * d
        if self.params:
            x = p[:, self.params]
            inside = (x > self._lo) & (x < self._hi)
            feasible = np.all(inside | self._on_kink, axis=1)
        else:
            feasible = np.ones(n_f, dtype=bool)
        assert feasible.any(), "no feasible face: the reference is broken"
        p[:, list(fixed)] = list(fixed.values())
        e = self._e[self._box]
        quad = np.einsum("fi,fij,fj->f", p, Q, p) - 2 * np.einsum("fi,fi->f", c, p) + e
        quad = np.where(feasible, quad, np.inf)
        # the written χ² of every face within a generous margin of the lowest quadratic value
        best: tuple[np.ndarray, float] | None = None
        for f in np.flatnonzero(quad <= quad.min() + 1e-3 * max(1.0, abs(quad.min()))):
            v = self.value(p[f])
            if best is None or v < best[1]:
                best = (p[f], v)
        assert best is not None
        return best

    # the interface of :class:`OrthantReference` that ``kinked_check.check`` uses
    def start(self, res) -> np.ndarray:
        return self.ref.start(res)

    def set_scale(self, res) -> None:
        """Nothing to scale (the faces are solved exactly); kept for ``kinked_check.check``."""

    def value_grad(self, p: np.ndarray) -> tuple[float, np.ndarray]:
        return self.ref.value_grad(p)

    def global_min(
        self, start: np.ndarray, fixed: dict[int, float] | None = None
    ) -> tuple[np.ndarray, float]:
        """:meth:`minimum` (``start`` is not needed: the faces are solved exactly)."""
        return self.minimum(fixed)
