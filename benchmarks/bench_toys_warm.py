"""Does a warm start help non-quadratic toys? (issue 22; not part of the test suite)

    python benchmarks/bench_toys_warm.py

The Pearson 100-bin combination of ``benchmarks/bench_toys.py`` (one relative and one
asymmetric source): 30 pseudo-experiments minimised by :func:`hepcombine.solver.minimise`
from its default start (the quadratic solution of the toy's own linearised χ², one linear
solve) and from the nominal combination's minimum (``start=``). Printed: the time per toy as a
ratio to one dense solve of the χ²'s size, Newton iterations, and the largest difference of the
minima found. Last runs (2-core machine, loaded): 4.1 Newton iterations from the default start,
5.0 from the nominal minimum, the time per toy the same within the noise (≈ 70 dense solves
either way, ±8 % between runs): no gain. The toy's own quadratic solution is at least as good a
start, so the runner keeps it.
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

from hepcombine.solver import minimise
from hepcombine.toys import ToyModel, item_rng


def main(n: int = 30) -> None:
    comb = pearson()
    nominal = comb.combine(intervals=False, decompositions=False)
    model = ToyModel(comb, nominal)
    factor = comb._factor()
    names = list(comb.observables) + list(comb.spectators) + list(factor.eta_names)
    theta_nominal = minimise(comb._model(factor), names).theta
    combiners = [model.combiner_for(model.generate(item_rng(1, i))) for i in range(n)]
    chi2s = [c._model(c._factor()) for c in combiners]
    solve = dense_solve_time(len(names))
    print(f"one dense solve {len(names)}x{len(names)}: {solve * 1e6:.1f} us (yardstick)")
    minima = {}
    with threadpool_limits(1, user_api="blas"):
        for label, start in (("default start", None), ("nominal minimum", theta_nominal)):
            t0 = time.perf_counter()
            sols = [minimise(m, names, start=start) for m in chi2s]
            per = (time.perf_counter() - t0) / n
            its = np.mean([s.iterations for s in sols])
            minima[label] = np.array([s.theta for s in sols])
            print(
                f"  from the {label:<16} {per * 1e3:7.2f} ms per toy = {per / solve:6.1f} solves, "
                f"{its:.2f} Newton iterations"
            )
    diff = np.max(np.abs(minima["default start"] - minima["nominal minimum"]))
    print(f"  largest difference of the minima: {diff:.2g}")


if __name__ == "__main__":
    main()
