"""Non-quadratic toys minimised together vs one by one (issue 22; not part of the test suite).

    python benchmarks/bench_toys_batched.py [n_toys]

The Pearson combinations of ``benchmarks/bench_toys_profile.py`` (100 bins: 139 parameters,
one relative and one asymmetric source; 10 bins: 17 parameters). Per toy, as ratios to one
dense solve of the χ²'s size (the yardstick, measured next to every measurement), BLAS
single-threaded as in the runner's chunks, repetitions interleaved: ``ToyTask`` with the
batched recombination (:mod:`hepcombine.toys.batched`, the default) and with ``batched=False``
(each toy by ``Combiner.combine``), with and without profile intervals, on the same toys
(generation included in both). Times are CPU times of the process (the machine is shared: wall
times there wait for other processes; the yardstick is the best of 200 wall times, which an
unloaded run reaches). Also printed: the largest differences between the two (values
and errors relative, χ²_min relative), and, as the scale of the per-toy path's own precision,
how far ``Combiner.combine``'s minimum moves when its start moves by 1e-13 relative.

Last runs (2-core shared machine, 32 toys × 3 runs, medians; dense solves per toy, batched vs
one by one in the same run):

    Pearson 10 bins  (17 params):  without intervals  70–84 vs 437–536 (× 6.3–6.4)
                                   with intervals    533–732 vs 1033–1109 (× 1.5–1.9)
    Pearson 100 bins (139 params): without intervals  70–72 vs 193–226 (× 2.7–3.2)
                                   with intervals    440–491 vs 603–643 (× 1.3–1.4)

Largest differences: values 2.3e-10 / 3.5e-9 relative (the per-toy minimum itself moves by
7.4e-10 / 2.8e-9 for a 1e-13 start move), χ²_min 7e-15, interval ends 7e-15. With intervals
the rest of a toy is its profile intervals (per toy, ``solver.intervals``).
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
from bench_toys_profile import small

from hepcombine import Combiner
from hepcombine.solver import _quadratic_start
from hepcombine.solver.newton import KinkGroups, newton_minimise
from hepcombine.toys import ToyModel, ToyTask, item_rng


def own_precision(comb: Combiner, n: int) -> float:
    """Largest relative move of the combined values found by newton_minimise when its start
    moves by 1e-13 relative (the per-toy path's own reproducibility)."""
    model = ToyModel(comb)
    factor = comb._factor()
    names = list(comb.observables) + list(comb.spectators) + list(factor.eta_names)
    k = len(comb.observables)
    worst = 0.0
    for i in range(n):
        m = model.combiner_for(model.generate(item_rng(1, i)))._model(factor)
        theta0, h0, _ = _quadratic_start(m, names)
        sigma = 1.0 / np.sqrt(np.clip(0.5 * np.diag(h0), 1e-300, None))
        kinks = KinkGroups.of(m)
        a = newton_minimise(m, theta0, kinks, sigma).theta[:k]
        b = newton_minimise(m, theta0 * (1 + 1e-13), kinks, sigma).theta[:k]
        worst = max(worst, float(np.max(np.abs(a - b) / np.abs(a))))
    return worst


def case(label: str, comb: Combiner, n: int, repeat: int = 3) -> None:
    model = ToyModel(comb)
    npar = len(comb.observables) + len(comb.spectators) + len(comb._factor().eta_names)
    ratios: dict[tuple[bool, bool], list[float]] = {}
    outputs = {}
    with threadpool_limits(1, user_api="blas"):
        ToyTask(model)(0, 4, 1)  # warm-up (imports, caches)
        for _ in range(repeat):  # interleaved: a yardstick next to every measurement
            for intervals in (False, True):
                for batched in (True, False):
                    task = ToyTask(model, intervals=intervals, batched=batched)
                    solve = dense_solve_time(npar)
                    t0 = time.process_time()
                    outputs[intervals, batched] = task(0, n, 1)
                    per = (time.process_time() - t0) / n
                    ratios.setdefault((intervals, batched), []).append(per / solve)
        spread = own_precision(comb, min(n, 20))
    print(f"{label}: {npar} parameters, {n} toys per run, {repeat} runs")
    for intervals in (False, True):
        b = np.median(ratios[intervals, True])
        a = np.median(ratios[intervals, False])
        what = "with intervals" if intervals else "without intervals"
        print(
            f"  {what:<18} batched {b:7.1f}  one by one {a:7.1f} dense solves per toy "
            f"(× {a / b:.2f}; runs {np.round(ratios[intervals, True], 1)} / "
            f"{np.round(ratios[intervals, False], 1)})"
        )
        x, y = outputs[intervals, True], outputs[intervals, False]
        for key in ("values", "errors", "chi2", "low", "high"):
            ok = np.isfinite(y[key])
            if ok.any():
                d = np.max(np.abs(x[key][ok] - y[key][ok]) / np.abs(y[key][ok]))
                print(f"    largest relative difference of {key:<6} {d:.2g}")
    print(f"  the per-toy minimum moves by up to {spread:.2g} (relative) for a 1e-13 start move")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 64
    case("Pearson 10 bins", small(), n)
    case("Pearson 100 bins", pearson(), n)


if __name__ == "__main__":
    main()
