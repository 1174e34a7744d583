"""Where the time of one non-quadratic toy goes (issue 22; not part of the test suite).

    python benchmarks/bench_toys_profile.py

The Pearson 100-bin combination of ``benchmarks/bench_toys.py`` (139 parameters, one relative
and one asymmetric source) and a small case (its first 10 bins), BLAS single-threaded as in the
runner's chunks. Printed per toy, as ratios to one dense solve of the χ²'s size (the yardstick,
measured in the same run), repetitions interleaved: the whole recombination with and without
profile intervals, and the minimisation alone (:func:`hepcombine.solver.minimise`).

Last run (2-core machine, loaded). 100 bins (139 parameters, one solve ≈ 0.11 ms): with
intervals 450 solves per toy, without 111, the minimisation alone 105 (4.15 Newton iterations;
by cProfile the Hessian build is ≈ 40 % of it, the χ²/gradient evaluations of the line search
≈ 35 %, the Cholesky factorisations ≈ 8 %). 10 bins (17 parameters): 849, 392 and 370 solves:
per-call Python overhead dominates there. The profile intervals are ≈ 75 % of a 100-bin toy,
so batching or warm-starting the minimum alone can save at most about a quarter of a toy
with intervals.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_toys import pearson
from bench_toys_linear import dense_solve_time
from run import synthetic_table

from hepcombine import Combiner
from hepcombine.solver import minimise
from hepcombine.toys import ToyModel, item_rng


def small() -> Combiner:
    rng = np.random.default_rng(3)
    values = np.linspace(1000, 100, 10)
    a = synthetic_table(rng, "A", 10, 4, values, relative=["A_s0"], asymmetric=["A_s1"])
    b = synthetic_table(rng, "B", 10, 4, values)
    corr = {("A:A_s0", "B:B_s0"): 1.0, ("A:A_s2", "B:B_s2"): 0.5}
    return Combiner([a, b], correlations=corr, chi2="pearson")


def case(label: str, comb: Combiner, n: int = 20, repeat: int = 3) -> None:
    model = ToyModel(comb)
    factor = comb._factor()
    names = list(comb.observables) + list(comb.spectators) + list(factor.eta_names)
    toys = [model.combiner_for(model.generate(item_rng(1, i))) for i in range(n)]
    chi2s = [c._model(c._factor()) for c in toys]

    def whole(intervals: bool) -> None:
        for c in toys:
            c.combine(intervals=intervals, decompositions=False)

    def minimum() -> None:
        for m in chi2s:
            minimise(m, names)

    runs = {"with intervals": lambda: whole(True), "without intervals": lambda: whole(False)}
    runs["minimisation alone"] = minimum
    ratios: dict[str, list[float]] = {k: [] for k in runs}
    with threadpool_limits(1, user_api="blas"):
        for _ in range(repeat):  # interleaved: a yardstick next to every measurement
            for key, fn in runs.items():
                solve = dense_solve_time(len(names))
                t0 = time.perf_counter()
                fn()
                ratios[key].append((time.perf_counter() - t0) / n / solve)
    print(f"{label}: {len(names)} parameters")
    for key, r in ratios.items():
        print(f"  {key:<22} {np.median(r):7.1f} dense solves per toy (runs {np.round(r, 1)})")


def main() -> None:
    case("Pearson 100 bins", pearson())
    case("Pearson 10 bins", small())


if __name__ == "__main__":
    main()
