"""Speed of kinked (Convino-form asymmetric) differential combinations, issue 18 (not part of
the test suite).

    python benchmarks/bench_kinked.py [cases per configuration, default 30] [neyman|pearson]

The campaign family of ``tests/kinked_campaign.py`` at full size (5–50 bins × 2–3 measurements
× 5–30 sources; asymmetric piecewise-linear sources, ρ = ±1 and partial correlations, a pulled
Hessian measurement with kinks at λ̂ ≠ 0), Neyman with absolute sources (piecewise quadratic)
and Pearson with relative sources. Per configuration: the per-case wall time of a whole
``combine()`` with every profile interval on one core (median, 95 %, max), the same as ratios
to one dense Cholesky solve of the χ² Hessian's size measured in the same run, and the count
of interval statuses other than ``exact``/``profile``, then the per-case distribution (CPU
time and ratio of each case, deciles) and the slowest cases. Everything on one core: BLAS
limited to one thread by threadpoolctl, times in process CPU seconds (less sensitive to other
load on a shared machine). Run it on two checkouts (``PYTHONPATH=...``) to compare.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from kinked_campaign import generate, seeds


def yardstick(n: int, repeat: int = 5) -> float:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, n))
    a = a @ a.T + n * np.eye(n)
    b = rng.normal(size=n)
    best = np.inf
    for _ in range(repeat):
        t0 = time.process_time()
        cho_solve(cho_factor(a), b)
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    only = sys.argv[2] if len(sys.argv) > 2 else None
    with threadpool_limits(1):
        for chi2, relative in (("neyman", False), ("pearson", True)):
            if only is None or only == chi2:
                run(chi2, relative, n)


def run(chi2: str, relative: bool, n: int) -> None:
    times, ratios, sizes = [], [], []
    other: dict[str, int] = {}
    n_values = 0
    for rng in seeds(f"bench{chi2}{relative}", n):
        case = generate(rng, chi2, small=False, relative=relative)
        comb = case.combiner()
        t0 = time.process_time()
        res = comb.combine()
        dt = time.process_time() - t0
        npar = comb._model(comb._factor()).npar
        times.append(dt)
        # the yardstick: the best of several dense solves (process time has a coarse tick)
        ratios.append(dt / max(yardstick(npar, repeat=20), 1e-6))
        sizes.append((len(res.observables), npar))
        n_values += len(res.observables)
        for st in res.interval_status.values():
            if st not in ("exact", "profile"):
                key = st.split(":")[0]
                other[key] = other.get(key, 0) + 1
    t = np.array(times)
    r = np.array(ratios)
    print(
        f"{chi2:<8} relative={relative!s:<5} {n} cases, {n_values} values: "
        f"median {np.median(t):.3f} s, 95% {np.percentile(t, 95):.3f} s, max {t.max():.3f} s; "
        f"in dense solves: median {np.median(r):.0f}, 95% {np.percentile(r, 95):.0f}, "
        f"max {r.max():.0f}; statuses other than exact/profile: {other or 0}",
        flush=True,
    )
    q = np.percentile(t, np.arange(10, 100, 10))
    print("  deciles (s): " + " ".join(f"{v:.3f}" for v in q))
    print(f"  cases <= 0.5 s: {int(np.sum(t <= 0.5))} of {len(t)}")
    for k in np.argsort(t)[::-1][:5]:
        print(
            f"  slowest: case {k}: {t[k]:.3f} s ({r[k]:.0f} dense solves), "
            f"{sizes[k][0]} values, {sizes[k][1]} parameters"
        )


if __name__ == "__main__":
    main()
