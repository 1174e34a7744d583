"""Speed of correlation scans (not part of the test suite).

    python benchmarks/bench_scan.py

Case: 100 bins, 2 measurements (Hessian + uncertainty table) with 20 sources each, one scan
group of 10 pairs × 21 points. Compared with the straightforward loop of full
``Combiner.combine()`` calls (which also compute breakdown, weights and impacts).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import synthetic_hessian_measurement, synthetic_table

from hepcombine import Combiner
from hepcombine.scan import scan_correlations
from hepcombine.spec import ScanGroup


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def scan_100_bins(repeat: int = 5) -> dict[str, float]:
    """Time the scan and the naive loop; returns the best times in seconds."""
    rng = np.random.default_rng(1)
    values = np.linspace(100, 10, 100)
    a = synthetic_hessian_measurement(rng, "A", 100, 20, values)
    b = synthetic_table(rng, "B", 100, 20, values)
    nominal = {(f"A:A_s{j}", f"B:B_s{j}"): 0.5 for j in range(10)}
    comb = Combiner([a, b], correlations=nominal)
    group = ScanGroup("ten pairs", [(f"A:A_s{j}", f"B:B_s{j}", 0.0, 1.0) for j in range(10)], 21)
    comb.combine()  # warm-up (imports)

    def naive():
        for point in group.points():
            comb.with_correlations({**nominal, **point}).combine(intervals=False)

    scan = scan_correlations(comb, group)
    assert scan.valid.all()
    best, med = _best(lambda: scan_correlations(comb, group), repeat)
    nbest, nmed = _best(naive, repeat)
    print(
        f"scan 100 bins x 2 meas x 20 sources, 10 pairs x 21 points (+ nominal): "
        f"best {best * 1e3:.0f} ms, median {med * 1e3:.0f} ms "
        f"({best / 22 * 1e3:.1f} ms per combination); "
        f"loop of full combine(): best {nbest * 1e3:.0f} ms, median {nmed * 1e3:.0f} ms"
    )
    return {"scan": best, "naive": nbest}


if __name__ == "__main__":
    scan_100_bins()
