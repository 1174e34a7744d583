"""Run one kinked campaign case through the engine and check it against an exact reference
(issue 18): the combined values, χ²_min, and at every checked interval endpoint the profiled
χ² equal to χ²_min + 1 within 1e-6 (so no interval is too narrow), the first crossing.

The reference is :class:`kinked_campaign.OrthantReference` (every case) or, for Neyman cases
with absolute sources, the cheaper :class:`kinked_many.FaceReference` (``reference=``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from campaign import Case
from campaign_check import Outcome, run_engine
from kinked_campaign import OrthantReference

#: combined values to 1e-6 σ of the reference minimum
VALUE_TOL = 1e-6
#: the engine's χ²_min equals the reference minimum to this (relative to max(1, χ²_min))
CHI2_TOL = 1e-6
#: the reference's profiled χ² at each endpoint equals χ²_min + 1 to this
ENDPOINT_TOL = 1e-6


def check(
    case: Case,
    rng: np.random.Generator,
    n_endpoints: int | None = None,
    first_crossing: int | None = None,
    reference: Callable[[Case], Any] = OrthantReference,
) -> Outcome:
    """``n_endpoints``: how many endpoints (random) to check (all by default);
    ``first_crossing``: of those, how many also get the check that the profile is below
    χ²_min + 1 just inside the endpoint (all by default); ``reference``: the class of the
    reference (``global_min(start, fixed)``, ``start``, ``set_scale``, ``value_grad``)."""
    out = Outcome(case, True)
    res = run_engine(case, out)
    if res is None:
        return out
    for o in res.observables:
        st = res.interval_status[o].split(" (")[0].split(":")[0]
        out.statuses[st] = out.statuses.get(st, 0) + 1
        if not res.has_interval(o):
            out.ok = False
            out.problems.append(f"no interval for {o}: {res.interval_status[o]}")
    ref = reference(case)
    ref.set_scale(res)
    engine_point = ref.start(res)
    p, f = ref.global_min(engine_point)
    f_engine = ref.value_grad(engine_point)[0]
    tol = 1e-9 * max(1.0, abs(f))
    if f_engine > f + 1e-7 * max(1.0, abs(f)):
        out.ok = False
        out.problems.append(
            f"χ² at the engine's minimum {f_engine:.12g} above the reference {f:.12g}"
        )
    if f_engine < f - tol:  # the reference missed a lower point: start from the engine's
        p, f = ref.global_min(engine_point, {})
        p, f = (engine_point, f_engine) if f_engine < f else (p, f)
    if abs(res.chi2 - f) > CHI2_TOL * max(1.0, abs(f)):
        out.ok = False
        out.problems.append(f"χ²_min {res.chi2:.12g} vs the reference {f:.12g}")
    for i, o in enumerate(ref.obs):
        d = abs(res.values[o] - p[i]) / res.errors[o]
        out.worst_value = max(out.worst_value, d)
        if d > VALUE_TOL:
            out.ok = False
            out.problems.append(
                f"{o}: value {res.values[o]:.12g} vs reference {p[i]:.12g} ({d:.3g} σ)"
            )
    ends = [(i, s) for i in range(ref.n_obs) for s in (0, 1)]
    if n_endpoints is not None and n_endpoints < len(ends):
        ends = [ends[k] for k in sorted(rng.choice(len(ends), n_endpoints, replace=False))]
    crossing = set(range(len(ends) if first_crossing is None else min(first_crossing, len(ends))))
    target = f + 1.0
    for k, (i, side) in enumerate(ends):
        o = ref.obs[i]
        if not res.has_interval(o):
            continue
        v = res.interval(o)[side]
        pv, fv = ref.global_min(p, {i: v})
        if fv > target + ENDPOINT_TOL:
            fv = _polish(ref, pv, {i: v}, fv)
        if fv > target + ENDPOINT_TOL:
            # still too wide, or a branch the reference's local box minimisations did not reach
            # (Pearson, relative: not convex in a box): the reference again from the engine's
            # own profile point (only a start: the value is the reference's written χ²)
            q = engine_profile_point(res, o, v, ref)
            if q is not None:
                pq, fq = ref.global_min(q, {i: v})
                if fq < fv:
                    pv, fv = pq, fq
        out.worst_endpoint = max(out.worst_endpoint, abs(fv - target))
        if abs(fv - target) > ENDPOINT_TOL:
            out.ok = False
            out.problems.append(
                f"{o} {'upper' if side else 'lower'} endpoint {v:.12g} ({res.interval_status[o]}): "
                f"reference Δχ² − 1 = {fv - target:.3g}"
            )
        if k in crossing:
            inside = v - (1 if side else -1) * 1e-3 * res.errors[o]
            pi, fi = ref.global_min(pv, {i: inside})
            if not fi < target:
                fi = _polish(ref, pi, {i: inside}, fi)
            if not fi < target:
                out.ok = False
                out.problems.append(
                    f"{o}: the profile is already above Δχ² = 1 inside the endpoint"
                )
    return out


def engine_profile_point(res, obs: str, v: float, ref) -> np.ndarray | None:
    """The engine's conditional minimum with ``obs`` fixed at ``v`` (its global Newton
    minimisation from its minimum), in the reference's parameters; None if it fails."""
    from types import SimpleNamespace

    from hepcombine.solver.newton import KinkGroups, global_minimise

    prof = res._profile
    model, sol = prof.model, prof.solution
    sigma = np.sqrt(np.clip(np.diag(sol.covariance), 1e-300, None))
    m = global_minimise(
        model, sol.theta, KinkGroups.of(model), sigma, fixed={prof.names.index(obs): v}
    )
    if not m.converged:
        return None
    n_p = model.n_params
    lam = model.L @ m.theta[n_p:]
    point = SimpleNamespace(
        values={name: float(m.theta[j]) for j, name in enumerate(prof.names)},
        pulls=dict(zip(prof.sources, lam.tolist(), strict=True)),
    )
    return ref.start(point)


def _polish(ref, p: np.ndarray, fixed: dict[int, float], f: float) -> float:
    """A profiled χ² of the orthant reference above the target may be a box minimum that
    L-BFGS-B (Pearson, relative sources) left short: minimise again from its point by the
    projected Newton iteration over the boxes of :class:`campaign.Reference` and keep the lower.
    It only ever lowers the value (so a too-narrow interval stays flagged); the exact references
    need none."""
    if not isinstance(ref, OrthantReference) or ref.exact:
        return f
    return min(f, ref.minimum(p, fixed)[1])
