"""BLAS threads and small combinations (issue 14, point 5; not part of the test suite).

    python benchmarks/bench_threads.py

A combination of the size of the real ATLAS 13 TeV setup (7 bins, 143 orthogonal sources,
Pearson χ², as the original program runs it) timed three ways, each with the machine idle and
with both cores loaded by two busy processes:

* hepcombine as it is (one BLAS thread inside ``combine()`` for small problems, restored after);
* with that limit switched off (OpenBLAS's default: one thread per core);
* the caller's own BLAS setting before and after, to show it is left alone.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_info

import hepcombine.solver._linalg as linalg
from hepcombine import Combiner, Measurement


def setup() -> Combiner:
    rng = np.random.default_rng(5)
    est = [f"rho_bin{i}" for i in range(7)]
    values = np.array([1.1, 2.3, 2.9, 2.4, 1.6, 0.8, 0.3])
    syst = {
        f"sys_{j}": dict(zip(est, rng.normal(0, 0.01, 7) * values, strict=True)) for j in range(143)
    }
    rho = np.eye(7) + 0.3 * (np.eye(7, k=1) + np.eye(7, k=-1))
    m = Measurement.from_uncertainties(
        dict(zip(est, values, strict=True)),
        dict(zip(est, 0.04 * values, strict=True)),
        syst,
        stat_correlation=rho,
        relative=["sys_0", "sys_1"],
        name="ATLAS13",
    )
    return Combiner([m], chi2="pearson")


def busy() -> None:  # pragma: no cover - a load generator
    x = 0.0
    while True:
        x = (x + 1.0) * 0.5


def timed(comb: Combiner, repeat: int = 15) -> float:
    comb.combine()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        comb.combine()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def threads() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def main() -> None:
    comb = setup()
    before = threads()
    for label, load in (("idle", 0), ("2 busy processes", 2)):
        procs = [multiprocessing.Process(target=busy, daemon=True) for _ in range(load)]
        for p in procs:
            p.start()
        try:
            limited = timed(comb)
            saved = linalg.SMALL_PROBLEM
            linalg.SMALL_PROBLEM = 0  # switch the limit off
            try:
                default = timed(comb)
            finally:
                linalg.SMALL_PROBLEM = saved
        finally:
            for p in procs:
                p.terminate()
        print(
            f"7 bins x 143 sources, Pearson, {label:<17}: one BLAS thread {1e3 * limited:7.1f} ms,"
            f" default threads {1e3 * default:7.1f} ms (x{default / limited:.1f})",
            flush=True,
        )
    print(f"caller's BLAS threads before {before}, after {threads()}")


if __name__ == "__main__":
    main()
