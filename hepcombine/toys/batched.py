r"""Pseudo-experiments of a non-quadratic combination, minimised together (issue 22).

A pseudo-experiment of a non-quadratic combination (Pearson, relative or log-normal sources,
asymmetric sources) is recombined by Newton's method (method.md §2b). Recombined one by one
(:meth:`Combiner.combine <hepcombine.combiner.Combiner.combine>`), a small combination's
minimisation is mostly Python overhead (hundreds of small numpy calls per Newton iteration)
and a large one's mostly the Hessian. Here the pseudo-experiments of a chunk are minimised
together, in batches of at most :data:`BATCH`:

* what does not depend on a pseudo-experiment's data is built once: the correlation factor
  (``Combiner._factor``, shared by the copies ``with_estimates`` makes), the parameter names,
  the structure of the χ²;
* each pseudo-experiment starts where :func:`~hepcombine.solver.minimise` starts it (the
  solution of its own quadratic approximation, for the batch at once:
  :func:`~hepcombine.solver.batched.quadratic_starts`; ``benchmarks/bench_toys_warm.py``
  measured that the nominal minimum is no better a start);
* the Newton iterations of the whole batch run as one (:func:`hepcombine.solver.batched.
  batched_newton`: stacked parameters, the χ², gradients and Hessians of all
  pseudo-experiments by one set of numpy calls, one batched Cholesky factorisation; steps
  through kinks of asymmetric sources included); so do, pass by pass, the screens and the
  restarts from the mirror images across the kinks that
  :func:`~hepcombine.solver.newton.global_minimise` makes (each pseudo-experiment's decision
  by :func:`~hepcombine.solver.newton.improve_once`), and the Hessian and covariance at the
  minima; the kink groups are the first pseudo-experiment's, with each one's own offsets
  (:meth:`KinkGroups.like <hepcombine.solver.newton.KinkGroups.like>`);
* what is per pseudo-experiment stays so: a kink held by the active set (V-shaped along a
  step: :func:`~hepcombine.solver.newton.newton_minimise` continues that one alone), the
  profile intervals (:func:`hepcombine.solver.profile_intervals`, from the same minimum).

A pseudo-experiment that needs anything else (a start that cannot be computed, a Hessian that
is not positive definite at the minimum, a minimisation that does not converge) is left to the
per-pseudo-experiment :meth:`Combiner.combine`, which reports what is wrong. The numbers are
those of :meth:`Combiner.combine` to its own precision (tests/toys/test_batched.py): the minima
agree to ~1e-9 relative, the size by which :meth:`Combiner.combine`'s own minimum moves when its
start moves by 1e-13 (its last Newton steps are decided by the rounding of the χ²).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ..exceptions import FitError
from ..result import _valid
from ..solver import _newton_solution, blas_threads, profile_intervals
from ..solver.batched import (
    BatchedChi2,
    _cho_inverse,
    _cholesky,
    batched_newton,
    far_side_screens,
    quadratic_starts,
)
from ..solver.newton import KinkGroups, Minimum, improve_once

if TYPE_CHECKING:
    from ..chi2 import CombinedChi2
    from ..combiner import Combiner

__all__ = ["BATCH", "Recombined", "batched_applies", "recombine_batched"]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

#: pseudo-experiments minimised together at most …
BATCH = 64
#: … and at most this many Hessian entries in a batch (B · npar²: 32 MB of each work array)
MAX_ENTRIES = 4_000_000


@dataclass(frozen=True)
class Recombined:
    """What a pseudo-experiment's recombination reports (the fields of
    :class:`~hepcombine.toys.ToyTask`): per observable its value, error, profile interval
    (NaN where not valid) and whether that interval is valid; χ²_min."""

    values: Array
    errors: Array
    low: Array
    high: Array
    valid: NDArray[np.bool_]
    chi2: float


def batched_applies(combiner: Combiner) -> bool:
    """Whether the pseudo-experiments of ``combiner`` can be minimised together: Newton's
    method, no errors on errors, no linear maps (the χ² being non-quadratic is checked on its
    model)."""
    return combiner.minimiser == "newton" and not combiner.errors_on_errors and not combiner.linear


def recombine_batched(
    combiners: Sequence[Combiner], *, intervals: bool = True
) -> list[Recombined | None]:
    """Recombine pseudo-experiments (``combiners``: one combination, each with the data of one
    pseudo-experiment, as ``ToyModel.combiner_for`` makes them). Returns per pseudo-experiment
    its :class:`Recombined`, or ``None`` where it must be combined alone (module docstring;
    then every entry is ``None`` for a quadratic χ²)."""
    if not combiners:
        return []
    main = combiners[0]
    size = len(main.observables) + len(main.spectators) + len(main.sources)
    with blas_threads(size):
        return _recombine(combiners, intervals)


def _recombine(combiners: Sequence[Combiner], intervals: bool) -> list[Recombined | None]:
    main = combiners[0]
    n = len(combiners)
    factor = main._factor()
    fitted = list(main.observables) + list(main.spectators)
    names = fitted + list(factor.eta_names)
    models = [c._model(factor) for c in combiners]
    out: list[Recombined | None] = [None] * n
    if models[0].is_quadratic or models[0].constraints or models[0].has_linear_maps:
        return out
    npar = models[0].npar
    size = max(1, min(BATCH, MAX_ENTRIES // max(1, npar * npar)))
    for b0 in range(0, n, size):
        rows = list(range(b0, min(n, b0 + size)))
        found = _minimise([models[i] for i in rows], names, len(main.observables), intervals)
        for i, res in zip(rows, found, strict=True):
            out[i] = res
    return out


def _minimise(
    models: list[CombinedChi2], names: list[str], k: int, intervals: bool
) -> list[Recombined | None]:
    out: list[Recombined | None] = [None] * len(models)
    whole = BatchedChi2(models)
    theta0, sigma, ok = quadratic_starts(whole)
    if not ok.all():  # combined alone, which reports the error
        keep = np.flatnonzero(ok)
        if not keep.size:
            return out
        found = _minimise([models[j] for j in keep.tolist()], names, k, intervals)
        for j, res in zip(keep.tolist(), found, strict=True):
            out[j] = res
        return out
    batch = whole
    template = KinkGroups.of(models[0])
    kinks = [template] + [KinkGroups.like(template, m) for m in models[1:]]
    firsts = batched_newton(batch, theta0, kinks, sigma)
    bests = _lowest(batch, models, kinks, sigma, firsts)
    # the Hessian and covariance at the minima (those not held on a kink), all at once
    flat = np.array([b.converged and not b.held for b in bests])
    hess: dict[int, tuple[Array, Array]] = {}
    idx = np.flatnonzero(flat)
    if idx.size:
        H = batch.hessian(idx, np.array([bests[j].theta for j in idx.tolist()]))
        chol, pd = _cholesky(H)
        cov = np.zeros_like(H)
        if pd.any():
            cov[pd] = 2.0 * _cho_inverse(chol[pd])
        for pos, j in enumerate(idx.tolist()):
            if pd[pos]:
                hess[j] = (H[pos], cov[pos])
    obs = names[:k]
    for j, best in enumerate(bests):
        if not best.converged or (not best.held and j not in hess):
            continue  # combined alone: it reports why
        try:
            sol = _newton_solution(models[j], names, kinks[j], best, hess.get(j))
        except FitError:
            continue
        values = sol.theta[:k].copy()
        errors = np.sqrt(np.diag(sol.covariance)[:k])
        if intervals:
            ivals, status = profile_intervals(sol, models[j], names, obs)
            valid = np.array([_valid(status[o]) for o in obs])
            ends = np.array(
                [ivals[o] if ok else (math.nan, math.nan) for o, ok in zip(obs, valid, strict=True)]
            )
            low, high = ends[:, 0], ends[:, 1]
        else:
            valid = np.zeros(k, dtype=bool)
            low = high = np.full(k, math.nan)
        out[j] = Recombined(values, errors, low, high, valid, float(sol.chi2))
    return out


def _lowest(
    batch: BatchedChi2,
    models: list[CombinedChi2],
    kinks: list[KinkGroups],
    sigma: Array,
    firsts: list[Minimum],
) -> list[Minimum]:
    """:func:`~hepcombine.solver.newton.global_minimise` after its first Newton run, for all
    data sets at once: each pass's mirror-image restarts (and, where the χ² is quadratic
    between kinks, their screens) of every data set still improving are computed in one batch,
    then :func:`~hepcombine.solver.newton.improve_once` takes each data set's decision."""
    bests = list(firsts)
    if not len(kinks[0]):
        return bests
    tried: list[set[tuple[int, ...]]] = [set() for _ in bests]
    pending = [j for j, m in enumerate(bests) if m.converged]
    while pending:
        restarts: dict[int, dict[int, Minimum]] = {j: {} for j in pending}
        screens: dict[int, dict[int, bool]] = {j: {} for j in pending}
        pairs = []
        for j in pending:
            m = bests[j]
            h = kinks[j].h(m.theta)
            if tuple(int(np.sign(v)) for v in h) in tried[j]:
                continue  # improve_once stops there
            pairs += [(j, g) for g in range(len(kinks[j])) if g not in m.held and h[g] != 0.0]
        if pairs and models[0].is_piecewise_quadratic:
            lower = far_side_screens(batch, kinks, pairs, bests)
            for (j, g), low in zip(pairs, lower.tolist(), strict=True):
                screens[j][g] = low
            pairs = [p for p, low in zip(pairs, lower.tolist(), strict=True) if low]
        if pairs:
            rows = [j for j, _ in pairs]
            mirrored = np.array([kinks[j].reflect(bests[j].theta, g) for j, g in pairs])
            again = batched_newton(
                batch.subset(rows), mirrored, [kinks[j] for j in rows], sigma[rows]
            )
            for (j, g), m in zip(pairs, again, strict=True):
                restarts[j][g] = m
        still = []
        for j in pending:
            better = improve_once(
                models[j],
                kinks[j],
                sigma[j],
                bests[j],
                tried[j],
                restarts=restarts[j],
                screens=screens[j],
            )
            if better is not None:
                bests[j] = better
                still.append(j)
        pending = still
    return bests


def __dir__() -> list[str]:
    return list(__all__)
