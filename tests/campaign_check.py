"""Run one campaign case through the engine and check it against the reference."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field

import numpy as np
from campaign import Case, Reference

#: tolerances of issue 14: values to 1e-6 σ, endpoints to 1e-5 σ
VALUE_TOL = 1e-6
ENDPOINT_TOL = 1e-5


@dataclass
class Outcome:
    case: Case
    ok: bool
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: the engine's CPU time (process time: one core's time on a shared machine, with one BLAS
    #: thread)
    cpu_seconds: float = 0.0
    worst_value: float = 0.0
    worst_endpoint: float = 0.0
    statuses: dict = field(default_factory=dict)


def run_engine(case: Case, out):
    """``case`` combined by hepcombine, its time in ``out.seconds``; an exception is recorded in
    ``out`` as a failure (then None): a campaign counts every exception."""
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        res = case.combiner().combine()
    except Exception as exc:
        out.ok = False
        out.problems.append(f"exception: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        return None
    out.seconds = time.perf_counter() - t0
    out.cpu_seconds = time.process_time() - c0
    return res


def check(case: Case, rng: np.random.Generator, n_endpoints: int | None = None) -> Outcome:
    out = Outcome(case, True)
    res = run_engine(case, out)
    if res is None:
        return out
    for o in res.observables:
        st = res.interval_status[o]
        out.statuses[st.split(" (")[0].split(":")[0]] = (
            out.statuses.get(st.split(" (")[0].split(":")[0], 0) + 1
        )
        if not res.has_interval(o):
            out.ok = False
            out.problems.append(f"no interval for {o}: {st}")
    ref = Reference(case)
    naive = np.zeros(ref.n)
    for i, o in enumerate(ref.obs):
        est = [
            m.estimates[m.estimate_names.index(r.split(":")[1])]
            for r in case.observables[o]
            for m in case.measurements
            if m.name == r.split(":")[0]
        ]
        naive[i] = np.mean(est)
    p1, f1 = ref.minimum(ref.start(res))
    p2, f2 = ref.minimum(naive)
    p, f = (p1, f1) if f1 <= f2 else (p2, f2)
    if res.chi2 > f + 1e-7 * max(1.0, abs(f)):
        out.ok = False
        out.problems.append(f"χ²_min {res.chi2:.12g} above the reference {f:.12g}")
    for i, o in enumerate(ref.obs):
        d = abs(res.values[o] - p[i]) / res.errors[o]
        out.worst_value = max(out.worst_value, d)
        if d > VALUE_TOL:
            out.ok = False
            out.problems.append(
                f"{o}: value {res.values[o]:.12g} vs reference {p[i]:.12g} ({d:.3g} σ)"
            )
    obs_idx = list(range(len(ref.obs)))
    if n_endpoints is not None and len(obs_idx) * 2 > n_endpoints:
        picks = rng.choice(len(obs_idx) * 2, size=n_endpoints, replace=False)
    else:
        picks = range(len(obs_idx) * 2)
    target = f + 1.0
    for k in picks:
        i, side = divmod(int(k), 2)
        o = ref.obs[i]
        if not res.has_interval(o):
            continue
        v = res.interval(o)[side]
        fv, slope = ref.profile(i, v, p)
        sigma = res.errors[o]
        d = abs(fv - target) / max(abs(slope) * sigma, 1e-300)
        out.worst_endpoint = max(out.worst_endpoint, d)
        if d > ENDPOINT_TOL:
            out.ok = False
            out.problems.append(
                f"{o} {'upper' if side else 'lower'} endpoint {v:.12g}: reference Δχ² − 1 = "
                f"{fv - target:.3g} ({d:.3g} σ)"
            )
        # it is the first crossing: just inside, the profile is below the target
        inside = v - (1 if side else -1) * 1e-3 * sigma
        fi, _ = ref.profile(i, inside, p)
        if not fi < target:
            out.ok = False
            out.problems.append(f"{o}: the profile is already above Δχ² = 1 inside the endpoint")
    return out
