"""Speed of the χ² engine at the sizes of issue 14 (not part of the test suite).

    python benchmarks/bench_engine.py            # all cases
    python benchmarks/bench_engine.py 100 400    # only the Pearson cases with these bin counts
    python benchmarks/bench_engine.py quadratic  # only the quadratic case (with solve counts)
    python benchmarks/bench_engine.py 2d [neyman|pearson]  # the 32 x 32 TH2 x 3 x 300 case

Each case: best and median wall time of a whole ``Combiner(...).combine()`` (model build,
minimum, covariance, pulls, breakdown, profile intervals on every combined value), and its
ratio to a yardstick measured in the same run — one dense Cholesky solve of a random SPD matrix
of the size of the χ² Hessian (npar × npar). Peak RSS is the whole process.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from hepcombine import Combiner, Measurement


def table(rng, name, values, n_src, relative=(), asymmetric=()):
    est = [f"bin{i}" for i in range(len(values))]
    syst = {}
    for j in range(n_src):
        s = f"{name}_s{j}"
        shifts = rng.normal(0, 0.01, size=len(values)) * values
        if s in asymmetric:
            syst[s] = {e: (abs(v), -0.6 * abs(v)) for e, v in zip(est, shifts, strict=True)}
        else:
            syst[s] = dict(zip(est, shifts, strict=True))
    rho = np.eye(len(values)) + 0.2 * (np.eye(len(values), k=1) + np.eye(len(values), k=-1))
    return Measurement.from_uncertainties(
        dict(zip(est, values * (1 + rng.normal(0, 0.02, len(values))), strict=True)),
        dict(zip(est, 0.03 * values, strict=True)),
        syst,
        stat_correlation=rho,
        relative=relative,
        name=name,
    )


def hessian_measurement(rng, name, values, n_src):
    est = [f"bin{i}" for i in range(len(values))]
    src = [f"{name}_s{j}" for j in range(n_src)]
    stat = 0.03 * values
    rho = np.eye(len(values)) + 0.2 * (np.eye(len(values), k=1) + np.eye(len(values), k=-1))
    m_info = np.linalg.inv(rho * np.outer(stat, stat))
    u = rng.normal(0, 0.01, size=(len(values), n_src)) * values[:, None]
    a = rng.normal(0, 0.3, size=(n_src, n_src)) / np.sqrt(n_src)
    h = np.block(
        [[m_info, -m_info @ u], [-(m_info @ u).T, np.eye(n_src) + a @ a.T + u.T @ m_info @ u]]
    )
    return Measurement.from_hessian(
        h,
        est + src,
        dict(zip(est, values, strict=True)),
        nuisance_values=dict(zip(src, rng.normal(0, 0.2, n_src), strict=True)),
        name=name,
    )


def yardstick(n, repeat=50):
    """Best seconds of one dense SPD factor-and-solve of size n, with the BLAS threads the
    combination itself uses (one below 600 parameters: hepcombine.solver.blas_threads)."""
    from hepcombine.solver import blas_threads

    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, n))
    a = a @ a.T + n * np.eye(n)
    b = rng.normal(size=n)
    best = np.inf
    with blas_threads(n):
        for _ in range(repeat):
            t0 = time.perf_counter()
            cho_solve(cho_factor(a), b)
            best = min(best, time.perf_counter() - t0)
    return best


def run(label, build, repeat, target, check=None):
    comb = build()
    res = comb.combine()  # warm-up (imports, caches)
    if check:
        check(res)
    times = []
    for _ in range(repeat):
        c = build()
        t0 = time.perf_counter()
        res = c.combine()
        times.append(time.perf_counter() - t0)
    model = c._model(c._factor())
    ys = yardstick(model.npar)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    best, med = min(times), statistics.median(times)
    statuses: dict[str, int] = {}
    for s in res.interval_status.values():
        statuses[s] = statuses.get(s, 0) + 1
    print(
        f"{label:<58} best {best * 1e3:9.1f} ms  median {med * 1e3:9.1f} ms  (target {target})  "
        f"= {best / ys:7.0f} dense solves of n={model.npar} ({ys * 1e3:.2f} ms); "
        f"peak RSS {peak:.0f} MB; intervals {statuses}",
        flush=True,
    )
    return res


def pearson_case(n_bins, n_meas=2, n_src=20, repeat=3, target=""):
    rng = np.random.default_rng(3)
    values = np.geomspace(1000, 10, n_bins)
    ms = [table(rng, "A", values, n_src, relative=["A_s0"], asymmetric=["A_s1"])]
    ms += [table(rng, n, values, n_src) for n in "BCDEF"[: n_meas - 1]]
    corr = {}
    for j in range(min(10, n_src)):
        for k, a in enumerate(ms):
            for b in ms[k + 1 :]:
                corr[(f"{a.name}:{a.name}_s{j}", f"{b.name}:{b.name}_s{j}")] = 1.0 if j < 5 else 0.5
    obs = {f"bin{i}": [f"{m.name}:bin{i}" for m in ms] for i in range(n_bins)}

    def check(res):
        assert all(res.has_interval(o) for o in res.observables), res.interval_status

    run(
        f"{n_bins} bins x {n_meas} x {n_src} sources, Pearson, 1 rel + 1 asym, all intervals",
        lambda: Combiner(ms, obs, corr, chi2="pearson"),
        repeat,
        target,
        check,
    )


def quadratic_case(repeat=50):
    rng = np.random.default_rng(1)
    values = np.linspace(100, 10, 100)
    a = hessian_measurement(rng, "A", values, 20)
    b = table(rng, "B", values, 20)
    corr = {(f"A:A_s{j}", f"B:B_s{j}"): (1.0 if j < 5 else 0.5) for j in range(10)}
    run(
        "100 bins x 2 (Hessian + table) x 20 sources, Neyman (quadratic)",
        lambda: Combiner([a, b], correlations=corr),
        repeat,
        "≤ 3 ms",
        lambda r: r.method == "linear solve" or sys.exit("not quadratic"),
    )
    factorisations = count_factorisations(lambda: Combiner([a, b], correlations=corr).combine())
    print(f"  dense O(n³) factorisations and inverses in one combine(): {factorisations}")


def count_factorisations(fn):
    """How many O(n³) dense factorisations or inverses (LAPACK potrf/potri/getrf/syevd through
    numpy, scipy and scipy.linalg.lapack) ``fn`` does: the calls of the wrappers, counted by patching them."""
    import scipy.linalg

    counts = {}
    patched = []

    def wrap(module, name):
        original = getattr(module, name)

        def counted(*args, **kwargs):
            a = args[0] if args else None
            if getattr(a, "ndim", 0) == 2 and min(a.shape) > 1:
                counts[name] = counts.get(name, 0) + 1
            return original(*args, **kwargs)

        setattr(module, name, counted)
        patched.append((module, name, original))

    for name in ("cholesky", "inv", "solve", "eigh", "pinv"):
        wrap(np.linalg, name)
    for name in ("cho_factor", "lu_factor", "solve", "inv"):
        wrap(scipy.linalg, name)
    wrap(scipy.linalg.lapack, "dpotrf")  # hepcombine.solver._linalg calls LAPACK directly
    wrap(scipy.linalg.lapack, "dpotri")
    try:
        fn()
    finally:
        for module, name, original in patched:
            setattr(module, name, original)
    return counts


def two_d_case(chi2, repeat=1):
    """Issue 22's 2-D at scale: a 32 × 32 TH2 differential (1024 bins) × 3 measurements × 300
    sources (the first 100 sources fully correlated among the three, the next 100 with ρ = 0.5),
    every combined value with its profile interval. Targets: Neyman every interval ≤ 2 s and
    ≤ 1 GB; Pearson (one relative and one asymmetric source in the first measurement) ≤ 10 s."""
    rng = np.random.default_rng(4)
    n_bins, n_src = 1024, 300
    x, y = np.meshgrid(np.arange(32), np.arange(32), indexing="ij")
    values = (1000.0 * np.exp(-0.08 * (x + y))).ravel() + 10.0  # a falling 2-D spectrum
    if chi2 == "pearson":
        ms = [table(rng, "A", values, n_src, relative=["A_s0"], asymmetric=["A_s1"])]
    else:
        ms = [hessian_measurement(rng, "A", values, n_src)]
    ms += [table(rng, n, values, n_src) for n in "BC"]
    corr = {}
    for j in range(200):
        rho = 1.0 if j < 100 else 0.5
        for k, a in enumerate(ms):
            for b in ms[k + 1 :]:
                corr[(f"{a.name}:{a.name}_s{j}", f"{b.name}:{b.name}_s{j}")] = rho
    obs = {f"bin{i}": [f"{m.name}:bin{i}" for m in ms] for i in range(n_bins)}

    def check(res):
        assert all(res.has_interval(o) for o in res.observables), res.interval_status

    target = "≤ 2 s, ≤ 1 GB" if chi2 == "neyman" else "≤ 10 s"
    run(
        f"2-D 32 x 32 = 1024 bins x 3 x 300 sources, {chi2}, every interval",
        lambda: Combiner(ms, obs, corr, chi2=chi2),
        repeat,
        target,
        check,
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["quadratic"]:
        quadratic_case()
        sys.exit(0)
    if sys.argv[1:2] == ["2d"]:
        for chi2 in sys.argv[2:] or ["neyman", "pearson"]:
            two_d_case(chi2)
        sys.exit(0)
    wanted = [int(a) for a in sys.argv[1:]]
    if not wanted:
        quadratic_case()
        pearson_case(100, target="≤ 100 ms")
        pearson_case(400, target="≤ 1 s")
        pearson_case(1000, n_meas=3, n_src=300, repeat=1, target="≤ 10 s, ≤ 1 GB")
    else:
        for n in wanted:
            if n >= 1000:
                pearson_case(n, n_meas=3, n_src=300, repeat=1, target="≤ 10 s, ≤ 1 GB")
            else:
                pearson_case(n)
