"""Speed benchmarks of hepcombine at the sizes users meet (not part of the test suite).

    python benchmarks/run.py            # all
    python benchmarks/run.py engine     # only the χ² engine cases

Each case is run a few times in one process; the best and median wall times are printed, plus
the peak resident memory of the process.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time

import numpy as np

from hepcombine import Combiner, Measurement


def synthetic_hessian_measurement(rng, name, n_bins, n_src, values):
    """A Hessian measurement: statistical correlations between neighbouring bins, shape
    sources, data constraints on the sources (S ≥ 1) and pulled nuisances."""
    est = [f"bin{i}" for i in range(n_bins)]
    src = [f"{name}_s{j}" for j in range(n_src)]
    stat = 0.03 * values
    rho = np.eye(n_bins) + 0.2 * (np.eye(n_bins, k=1) + np.eye(n_bins, k=-1))
    m_info = np.linalg.inv(rho * np.outer(stat, stat))
    u = rng.normal(0, 0.01, size=(n_bins, n_src)) * values[:, None]
    a = rng.normal(0, 0.3, size=(n_src, n_src)) / np.sqrt(n_src)
    d = a @ a.T  # data information on the sources, PSD
    h = np.block([[m_info, -m_info @ u], [-(m_info @ u).T, np.eye(n_src) + d + u.T @ m_info @ u]])
    return Measurement.from_hessian(
        h,
        est + src,
        dict(zip(est, values, strict=True)),
        nuisance_values=dict(zip(src, rng.normal(0, 0.2, n_src), strict=True)),
        name=name,
    )


def synthetic_table(rng, name, n_bins, n_src, values, relative=(), asymmetric=()):
    est = [f"bin{i}" for i in range(n_bins)]
    syst = {}
    for j in range(n_src):
        s = f"{name}_s{j}"
        shifts = rng.normal(0, 0.01, size=n_bins) * values
        if s in asymmetric:
            syst[s] = {e: (abs(v), -0.6 * abs(v)) for e, v in zip(est, shifts, strict=True)}
        else:
            syst[s] = dict(zip(est, shifts, strict=True))
    return Measurement.from_uncertainties(
        dict(zip(est, values * (1 + rng.normal(0, 0.02, n_bins)), strict=True)),
        dict(zip(est, 0.03 * values, strict=True)),
        syst,
        relative=relative,
        name=name,
    )


def timed(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, min(times), statistics.median(times)


def report(label, best, median, target):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{label:<70} best {best * 1e3:9.1f} ms  median {median * 1e3:9.1f} ms  (target {target}); peak RSS {peak:.0f} MB"
    )


def engine_small():
    rng = np.random.default_rng(1)
    values = np.linspace(100, 10, 100)
    a = synthetic_hessian_measurement(rng, "A", 100, 20, values)
    b = synthetic_table(rng, "B", 100, 20, values)
    corr = {(f"A:A_s{j}", f"B:B_s{j}"): (1.0 if j < 5 else 0.5) for j in range(10)}
    comb = Combiner([a, b], correlations=corr)
    comb.combine()  # warm-up (imports)
    res, best, med = timed(lambda: Combiner([a, b], correlations=corr).combine(), 20)
    assert res.method == "linear solve"
    report("100 bins x 2 meas (Hessian + table) x 20 sources, Neyman", best, med, "≤ 50 ms")


def engine_large():
    rng = np.random.default_rng(2)
    values = np.linspace(1000, 10, 1000)
    ms = [synthetic_hessian_measurement(rng, "A", 1000, 300, values)]
    ms += [synthetic_table(rng, n, 1000, 300, values) for n in ("B", "C")]
    corr = {}
    for j in range(100):  # 100 sources fully correlated among the three
        corr[(f"A:A_s{j}", f"B:B_s{j}")] = corr[(f"A:A_s{j}", f"C:C_s{j}")] = corr[
            (f"B:B_s{j}", f"C:C_s{j}")
        ] = 1.0
    for j in range(100, 200):  # 100 partially correlated
        corr[(f"A:A_s{j}", f"B:B_s{j}")] = corr[(f"A:A_s{j}", f"C:C_s{j}")] = corr[
            (f"B:B_s{j}", f"C:C_s{j}")
        ] = 0.5
    res, best, med = timed(lambda: Combiner(ms, correlations=corr).combine(), 3)
    assert res.method == "linear solve"
    report("1000 bins x 3 meas x 300 sources, Neyman", best, med, "≤ 2 s, ≤ 1 GB")


def engine_pearson():
    rng = np.random.default_rng(3)
    values = np.linspace(1000, 100, 100)
    a = synthetic_table(rng, "A", 100, 10, values, relative=["A_s0"], asymmetric=["A_s1"])
    b = synthetic_table(rng, "B", 100, 10, values)
    corr = {("A:A_s0", "B:B_s0"): 1.0, ("A:A_s2", "B:B_s2"): 0.5}
    res, best, med = timed(lambda: Combiner([a, b], correlations=corr, chi2="pearson").combine(), 3)
    ok = sum(s == "minos" for s in res.interval_status.values())
    assert ok == 100, res.interval_status
    report(
        "100 bins, Pearson, 1 relative + 1 asymmetric source, Minos on all 100", best, med, "≤ 2 s"
    )


CASES = {"engine": [engine_small, engine_large, engine_pearson]}

if __name__ == "__main__":
    wanted = sys.argv[1:] or list(CASES)
    for group in wanted:
        for case in CASES[group]:
            case()
