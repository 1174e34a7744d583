"""Speed of the compatibility diagnostics (issue 19; not part of the test suite).

    python benchmarks/bench_compat.py

Cases: the shipped tt̄ 8 TeV (2 measurements, 1 value), LHCb Z (2 × 17 bins) and Convino example
(3 measurements, Pearson, relative, kinked and pulled sources) configurations, and the 100-bin
Hessian + table combination of benchmarks/run.py (quadratic, and Pearson with a relative and an
asymmetric source). For each: ``compatibility()`` on the data (pulls with their correlation
matrix, the combination without each measurement, χ² split; the nominal combination given, as
``hepcombine compat`` gets it), and the cost per pseudo-experiment of ``toys=N`` (in-process).

Yardstick, measured in the same run: one nominal combination of the same input,
``combine(intervals=False, decompositions=False)``, the work every statistic needs at least
once. Figures are printed as ratios to it ("× nominal").
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_toys import pearson, quadratic

from hepcombine import load_config
from hepcombine.compat import compatibility

DATA = Path(__file__).resolve().parents[1] / "data"


def best_of(f, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def case(name: str, comb, n_toys: int) -> None:
    comb.combine()  # warm-up: imports, caches
    nominal = best_of(lambda: comb.combine(intervals=False, decompositions=False))
    result = comb.combine()
    diag = best_of(lambda: compatibility(comb, nominal=result), repeat=3)
    t0 = time.perf_counter()
    compatibility(comb, nominal=result, toys=n_toys, seed=1)
    per_toy = (time.perf_counter() - t0 - diag) / n_toys
    print(
        f"{name:<34} nominal {nominal * 1e3:8.2f} ms | compatibility {diag * 1e3:8.1f} ms "
        f"= {diag / nominal:6.1f} × nominal | per toy {per_toy * 1e3:8.3f} ms "
        f"= {per_toy / nominal:6.3f} × nominal ({n_toys} toys)"
    )


def main() -> None:
    cases = [
        ("tt̄ 8 TeV (quadratic)", load_config(DATA / "ttbar_8tev_emu.yaml").combiner(), 5000),
        (
            "LHCb Z 17 bins (quadratic)",
            load_config(DATA / "lhcb_z_8tev_ee_mumu.yaml").combiner(),
            2000,
        ),
        (
            "Convino example (Pearson, kinks)",
            load_config(DATA / "convino_example" / "combination.txt").combiner(),
            100,
        ),
        ("100 bins Hessian + table (quadratic)", quadratic(), 300),
        ("100 bins Pearson, rel. + asym.", pearson(), 10),
    ]
    for name, comb, n in cases:
        case(name, comb, n)
    print(f"(best of repeats; numpy {np.__version__}, python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
