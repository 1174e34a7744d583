"""Speed of combinations in different binnings (issue 20; not part of the test suite).

    python benchmarks/bench_rebinning.py        # 5 repetitions each
    python benchmarks/bench_rebinning.py 10

Cases, each the whole path from DifferentialMeasurement inputs to the result
(``differential_spec`` — with the rebinning where there is one — then ``Combiner.combine()``:
model, minimum, covariance, breakdown, weights, impacts, intervals):

* ``same bins``: two measurements of 100 bins (8 shape sources each, 4 correlated across) — the
  yardstick of the goal;
* ``coarsest``: the first measurement in 400 fine bins (four in each of the 100), merged to
  100 (``binning={"match": "coarsest"}``) — goal: at most 2× ``same bins``;
* the same two with the first measurement's statistics correlated between neighbouring bins
  (the merge then solves with its 400 × 400 statistical information);
* ``finest``: the same inputs with ``match="finest"``: 400 combined bins, the 100-bin
  measurement as sums of four (linear maps); compared with a 400-bin combination of two
  400-bin measurements.
* ``2-d``: the same sizes as cells of a TH2: 20 × 20 cells merged to 10 × 10
  (``kron(B_y, B_x)``), against two measurements on the same 10 × 10 cells.

Times are best and median of the repetitions; the ratios are quoted against ``same bins`` and
against one dense Cholesky solve of a random SPD matrix of the size of the χ² Hessian,
measured in the same run.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from hepcombine.binning import Binning, Binning2D
from hepcombine.inputs.histograms import differential_spec
from hepcombine.measurement import DifferentialMeasurement, Measurement

N_COARSE = 100
SPLIT = 4
N_SOURCES = 8


def _measurement(
    rng, name: str, edges: np.ndarray, correlated: bool = False
) -> DifferentialMeasurement:
    centres = 0.5 * (edges[1:] + edges[:-1])
    truth = 1000.0 * np.exp(-centres / 25.0)
    n = len(truth)
    est = [f"b{i}" for i in range(n)]
    syst = {
        f"s{j}": dict(zip(est, rng.normal(0, 0.01, n) * truth, strict=True))
        for j in range(N_SOURCES)
    }
    m = Measurement.from_uncertainties(
        dict(zip(est, truth * (1 + rng.normal(0, 0.02, n)), strict=True)),
        dict(zip(est, 0.03 * truth * np.sqrt(len(edges) / (N_COARSE + 1)), strict=True)),
        syst,
        stat_correlation=(np.eye(n) + 0.3 * (np.eye(n, k=1) + np.eye(n, k=-1)))
        if correlated
        else None,
        name=name,
    )
    return DifferentialMeasurement(m, Binning.from_edges(edges))


def _measurement_2d(rng, name: str, n: int) -> DifferentialMeasurement:
    """n × n cells on [0, 100]², the same kind of numbers as :func:`_measurement`."""
    edges = np.linspace(0.0, 100.0, n + 1)
    c = 0.5 * (edges[1:] + edges[:-1])
    truth = (1000.0 * np.exp(-np.add.outer(c, c) / 50.0)).ravel(order="F")  # cells x inner
    m = _measurement(rng, name, np.linspace(0.0, 1.0, n * n + 1)).measurement
    est = m.estimate_names
    syst = {
        f"s{j}": dict(zip(est, rng.normal(0, 0.01, n * n) * truth, strict=True))
        for j in range(N_SOURCES)
    }
    m = Measurement.from_uncertainties(
        dict(zip(est, truth * (1 + rng.normal(0, 0.02, n * n)), strict=True)),
        dict(zip(est, 0.03 * truth * n / 10, strict=True)),
        syst,
        name=name,
    )
    return DifferentialMeasurement(m, Binning2D.from_edges(edges, edges))


def _correlations():
    return {(f"A:s{j}", f"B:s{j}"): 0.5 for j in range(N_SOURCES // 2)}


def _time(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def _yardstick(n: int, repeat: int) -> float:
    """One dense Cholesky solve of an n × n SPD matrix, one BLAS thread (as the combiner
    runs problems of these sizes)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, n))
    h = a @ a.T + n * np.eye(n)
    b = rng.normal(size=n)
    with threadpool_limits(1, "blas"):
        return _time(lambda: cho_solve(cho_factor(h), b), repeat)[0]


def main(repeat: int = 5) -> None:
    rng = np.random.default_rng(20261207)
    coarse = np.linspace(0.0, 100.0, N_COARSE + 1)
    fine = np.linspace(0.0, 100.0, N_COARSE * SPLIT + 1)
    A_fine = _measurement(rng, "A", fine)
    A_fine_corr = _measurement(rng, "A", fine, correlated=True)
    A_coarse_corr = _measurement(rng, "A", coarse, correlated=True)
    A_coarse = _measurement(rng, "A", coarse)
    B_coarse = _measurement(rng, "B", coarse)
    B_fine = _measurement(rng, "B", fine)
    A_2d_fine = _measurement_2d(rng, "A", 20)
    A_2d_coarse = _measurement_2d(rng, "A", 10)
    B_2d = _measurement_2d(rng, "B", 10)
    corr = _correlations()

    def run(inputs, binning=None):
        spec = differential_spec(inputs, corr, binning=binning)
        return spec.combiner().combine()

    cases = {
        "same bins (100 + 100)": (lambda: run([A_coarse, B_coarse]), N_COARSE),
        "coarsest (400 → 100, + 100)": (
            lambda: run([A_fine, B_coarse], {"match": "coarsest"}),
            N_COARSE,
        ),
        "same bins, A stat-correlated": (lambda: run([A_coarse_corr, B_coarse]), N_COARSE),
        "coarsest, A stat-correlated": (
            lambda: run([A_fine_corr, B_coarse], {"match": "coarsest"}),
            N_COARSE,
        ),
        "finest (400 + 100 as sums)": (
            lambda: run([A_fine, B_coarse], {"match": "finest"}),
            N_COARSE * SPLIT,
        ),
        "same bins (400 + 400)": (lambda: run([A_fine, B_fine]), N_COARSE * SPLIT),
        "2-d same cells (10x10 + 10x10)": (lambda: run([A_2d_coarse, B_2d]), N_COARSE),
        "2-d coarsest (20x20 → 10x10)": (
            lambda: run([A_2d_fine, B_2d], {"match": "coarsest"}),
            N_COARSE,
        ),
    }
    for fn, _ in cases.values():  # warm up: imports, caches
        fn()
    results = {}
    for name, (fn, n_bins) in cases.items():
        best, median = _time(fn, repeat)
        npar = n_bins + 2 * N_SOURCES
        results[name] = (best, median, _yardstick(npar, repeat))
    base = results["same bins (100 + 100)"][0]
    base400 = results["same bins (400 + 400)"][0]
    print(
        f"{'case':32s} {'best':>9s} {'median':>9s} {'/same100':>9s} {'/same400':>9s} {'/solve':>9s}"
    )
    for name, (best, median, solve) in results.items():
        print(
            f"{name:32s} {best * 1e3:8.1f}ms {median * 1e3:8.1f}ms {best / base:9.2f} "
            f"{best / base400:9.2f} {best / solve:9.0f}"
        )
    ratio = results["coarsest (400 → 100, + 100)"][0] / base
    print(f"\ncoarsest / same bins (100): {ratio:.2f} (goal ≤ 2)")
    ratio_c = results["coarsest, A stat-correlated"][0] / results["same bins, A stat-correlated"][0]
    print(f"stat-correlated: coarsest / same bins (100): {ratio_c:.2f} (goal ≤ 2)")
    ratio_2d = (
        results["2-d coarsest (20x20 → 10x10)"][0] / results["2-d same cells (10x10 + 10x10)"][0]
    )
    print(f"2-d: coarsest (20x20 → 10x10) / same cells (10x10): {ratio_2d:.2f} (goal ≤ 2)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
