"""Speed of correlation scans (not part of the test suite).

    python benchmarks/bench_scan.py          # both cases
    python benchmarks/bench_scan.py dask     # only the scan as Dask tasks
    python benchmarks/bench_scan.py output   # only the scan into a run directory, and resumed

Case: 100 bins, 2 measurements (Hessian + uncertainty table) with 20 sources each, one scan
group of 10 pairs × 21 points. Compared with the straightforward loop of full
``Combiner.combine()`` calls (which also compute breakdown, weights and impacts).

Dask case: the same combination, 4 groups (the 10 pairs, then pairs 0–2, 3–5, 6–9) × 101
points as tasks on running local clusters of 1 and 2 workers (as ``workers=N`` starts them)
against the in-process scan; every figure also relative to one nominal combination
(``combine(decompositions=False)``, single-threaded BLAS) measured in the same run.

Output case (issue 22): the 10 pairs × 101 points streamed to a run directory
(``output=DIR``, chunks of 25 points) against the in-process scan, and a resume of a run
interrupted after half of its chunks (only the other half is computed), per point in units of
one nominal combination.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import synthetic_hessian_measurement, synthetic_table

from hepcombine import Combiner
from hepcombine.scan import scan_all, scan_correlations
from hepcombine.spec import ScanGroup


def _best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def _combination() -> tuple[Combiner, dict[tuple[str, str], float]]:
    rng = np.random.default_rng(1)
    values = np.linspace(100, 10, 100)
    a = synthetic_hessian_measurement(rng, "A", 100, 20, values)
    b = synthetic_table(rng, "B", 100, 20, values)
    nominal = {(f"A:A_s{j}", f"B:B_s{j}"): 0.5 for j in range(10)}
    return Combiner([a, b], correlations=nominal), nominal


def scan_dask(points: int = 101) -> dict[str, float]:
    """Points per second in-process and on running clusters of 1 and 2 workers."""
    import distributed
    from threadpoolctl import threadpool_limits

    from hepcombine.execution import _local_cluster

    comb, nominal = _combination()
    pair = [(f"A:A_s{j}", f"B:B_s{j}", 0.0, 1.0) for j in range(10)]
    groups = [
        ScanGroup(name, pair[lo:hi], points)
        for name, lo, hi in (("all", 0, 10), ("0-2", 0, 3), ("3-5", 3, 6), ("6-9", 6, 10))
    ]
    n = points * len(groups)
    with threadpool_limits(1, user_api="blas"):
        nom, _ = _best(lambda: comb.combine(intervals=True, decompositions=False), 5)
        t_in, _ = _best(lambda: scan_all(comb, groups, nominal=nominal), 1)
    reference = scan_all(comb, groups, nominal=nominal)
    print(f"scan as Dask tasks: 100 bins, {len(groups)} groups x {points} points (+ nominal)")
    print(f"  one nominal combination (yardstick): {nom * 1e3:.2f} ms")
    print(
        f"  in-process: {t_in:.2f} s, {n / t_in:.0f} points/s "
        f"({t_in / (n + 1) / nom:.2f} x nominal per point)"
    )
    rates = {}
    for workers in (1, 2):
        cluster = _local_cluster(workers)
        client = distributed.Client(cluster)
        try:
            scan_all(comb, groups[:1], n_points=8, nominal=nominal, client=client)  # warm-up
            t0 = time.perf_counter()
            got = scan_all(comb, groups, nominal=nominal, client=client)
            t = time.perf_counter() - t0
        finally:
            client.close()
            cluster.close()
        same = all(
            g.values[o].tobytes() == r.values[o].tobytes()
            for g, r in zip(got, reference, strict=True)
            for o in r.observables
        )
        rates[workers] = n / t
        print(
            f"  running cluster of {workers} worker(s): {t:.2f} s, {n / t:.0f} points/s "
            f"({t / (n + 1) / nom:.2f} x nominal per point; {t / t_in:.3f} x in-process); "
            f"bit-identical to in-process: {same}"
        )
    print(f"  throughput 2 workers / 1 worker: {rates[2] / rates[1]:.2f}")
    return {"in_process": t_in, "rate1": rates[1], "rate2": rates[2], "nominal": nom}


def scan_100_bins(repeat: int = 5) -> dict[str, float]:
    """Time the scan and the naive loop; returns the best times in seconds."""
    comb, nominal = _combination()
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


def scan_output(points: int = 101) -> dict[str, float]:
    """The scan into a run directory, and resumed after half of its chunks."""
    import tempfile

    from threadpoolctl import threadpool_limits

    comb, nominal = _combination()
    group = ScanGroup(
        "ten pairs", [(f"A:A_s{j}", f"B:B_s{j}", 0.0, 1.0) for j in range(10)], points
    )
    n_chunks = -(-points // 25)

    class Stop(Exception):
        pass

    def stop_half(done: int, total: int) -> None:
        if done >= (n_chunks // 2) * 25:
            raise Stop

    with threadpool_limits(1, user_api="blas"):
        nom, _ = _best(lambda: comb.combine(intervals=True, decompositions=False), 5)
        t_in, _ = _best(lambda: scan_correlations(comb, group, nominal=nominal), 2)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            scan_correlations(comb, group, nominal=nominal, output=Path(tmp) / "a", chunk_size=25)
            t_out = time.perf_counter() - t0
            with contextlib.suppress(Stop):
                scan_correlations(
                    comb, group, nominal=nominal, output=Path(tmp) / "b", chunk_size=25,
                    progress=stop_half,
                )  # fmt: skip
            t0 = time.perf_counter()
            scan_correlations(comb, group, nominal=nominal, output=Path(tmp) / "b", chunk_size=25)
            t_resume = time.perf_counter() - t0
    per = (points + 1) * nom
    print(f"scan into a run directory: 100 bins, 10 pairs x {points} points (+ nominal)")
    print(f"  one nominal combination (yardstick): {nom * 1e3:.2f} ms")
    print(f"  in-process: {t_in:.2f} s ({t_in / per:.2f} x nominal per point)")
    print(
        f"  output=DIR, chunks of 25: {t_out:.2f} s ({t_out / per:.2f} x nominal per point, "
        f"{t_out / t_in:.3f} x in-process)"
    )
    print(
        f"  resumed after {n_chunks // 2} of {n_chunks} chunks: {t_resume:.2f} s "
        f"({t_resume / t_out:.2f} x the whole run)"
    )
    return {"in_process": t_in, "output": t_out, "resume": t_resume}


if __name__ == "__main__":
    print(f"load average {os.getloadavg()} on {os.cpu_count()} cores", flush=True)
    cases = sys.argv[1:] or ["scan", "dask"]
    for case in cases:
        {"scan": scan_100_bins, "dask": scan_dask, "output": scan_output}[case]()
    print(f"load average {os.getloadavg()}")
