"""Speed of pseudo-experiments (issue 11; not part of the test suite).

    python benchmarks/bench_toys.py            # all cases
    python benchmarks/bench_toys.py profile    # only the per-toy profiles

Cases (inputs as benchmarks/run.py: a 100-bin Hessian measurement and a 100-bin table, 20
sources each, 10 pairs of sources correlated):

1. 10,000 toys of the quadratic (Neyman) combination in-process and on 2 local workers (target
   ≤ 30 s, cluster start included);
2. the 100-bin Pearson combination with one relative and one asymmetric source, with profile
   intervals: per-toy cost measured on a few toys, extrapolated to 1,000 toys on 2 workers,
   and 200 toys run on 2 workers (target for 1,000: ≤ 2 min);
3. throughput with 1 and 2 local workers (target ratio ≥ 1.7);
4. per-toy cost with Dask on one worker and of run_toys in-process against a plain loop
   ``combiner.with_estimates(...).combine()`` over the same pseudo-experiments (target: within
   10 %);
5. where the time of one toy goes (cProfile, quadratic and Pearson).

The yardsticks printed with each case, measured in the same run: the plain loop's per-toy time,
and one nominal combination of the same input (``combine(decompositions=False)``, with the
intervals the toys compute), as "× nominal".
"""

from __future__ import annotations

import cProfile
import io
import math
import os
import pstats
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import synthetic_hessian_measurement, synthetic_table

from hepcombine import Combiner
from hepcombine.toys import ToyModel, item_rng, run_toys


def quadratic() -> Combiner:
    rng = np.random.default_rng(1)
    values = np.linspace(100, 10, 100)
    a = synthetic_hessian_measurement(rng, "A", 100, 20, values)
    b = synthetic_table(rng, "B", 100, 20, values)
    corr = {(f"A:A_s{j}", f"B:B_s{j}"): (1.0 if j < 5 else 0.5) for j in range(10)}
    return Combiner([a, b], correlations=corr)


def pearson() -> Combiner:
    rng = np.random.default_rng(3)
    values = np.linspace(1000, 100, 100)
    a = synthetic_table(rng, "A", 100, 20, values, relative=["A_s0"], asymmetric=["A_s1"])
    b = synthetic_table(rng, "B", 100, 20, values)
    corr = {("A:A_s0", "B:B_s0"): 1.0, ("A:A_s2", "B:B_s2"): 0.5}
    return Combiner([a, b], correlations=corr, chi2="pearson")


def blas_threads(n: int | None):
    """BLAS limited to n threads (None: as the process has it)."""
    import contextlib

    from threadpoolctl import threadpool_limits

    return contextlib.nullcontext() if n is None else threadpool_limits(n, user_api="blas")


def plain_loop(
    comb: Combiner, n: int, seed: int = 0, intervals: bool = True, threads: int | None = 1
) -> float:
    """Seconds per toy of the loop a user would write (same pseudo-experiments), with BLAS
    single-threaded as in the runner's chunks (``threads=None``: BLAS's default threads)."""
    model = ToyModel(comb)
    with blas_threads(threads):
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(n):
            toy = model.generate(item_rng(seed, i))
            model.combiner_for(toy).combine(intervals=intervals, decompositions=False)
        PLAIN_CPU[0] = (time.process_time() - c0) / n
        return (time.perf_counter() - t0) / n


#: CPU seconds per toy of the last plain loop
PLAIN_CPU = [0.0]


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def nominal_time(comb: Combiner, intervals: bool = True, repeat: int = 5) -> float:
    """Best seconds of one nominal combination (the yardstick "× nominal")."""
    best = math.inf
    with blas_threads(1):
        for _ in range(repeat):
            t, _ = timed(lambda: comb.combine(intervals=intervals, decompositions=False))
            best = min(best, t)
    return best


def line(label: str, value: str, target: str = "") -> None:
    print(f"  {label:<62} {value:>22}  {target}", flush=True)


def cluster(n_workers: int):
    """A local cluster as ``run_toys(workers=N)`` starts it."""
    import distributed

    from hepcombine.execution import _local_cluster

    c = _local_cluster(n_workers)
    return c, distributed.Client(c)


def case_quadratic() -> None:
    comb = quadratic()
    nominal = comb.combine()
    run_toys(comb, 20, seed=0, nominal=nominal)  # warm-up
    loop = plain_loop(comb, 300)
    loop_cpu = PLAIN_CPU[0]
    print("quadratic: 100 bins x 2 measurements (Hessian + table) x 20 sources, Neyman")
    line("plain loop with_estimates().combine(), per toy", f"{loop * 1e3:.2f} ms")
    line("  its CPU time per toy", f"{loop_cpu * 1e3:.2f} ms")
    line(
        "  the same with BLAS's default threads",
        f"{plain_loop(comb, 300, threads=None) * 1e3:.2f} ms",
    )
    nom = nominal_time(comb)
    line("one nominal combination (yardstick)", f"{nom * 1e3:.2f} ms")
    line("  plain loop per toy", f"{loop / nom:.2f} × nominal")
    t, res = timed(lambda: run_toys(comb, 10_000, seed=1, workers=2, nominal=nominal))
    assert res.n_failed == 0, res.failures
    line(
        "10,000 toys, workers=2 (cluster start included)",
        f"{t:.1f} s",
        f"({t / nom:.0f} × nominal; target ≤ 30 s)",
    )
    line("  = per toy and worker", f"{2 * t / 10_000 * 1e3:.2f} ms")
    t, res = timed(lambda: run_toys(comb, 10_000, seed=1, nominal=nominal))
    assert res.n_failed == 0, res.failures
    line(
        "10,000 toys in-process",
        f"{t:.1f} s",
        f"({t / nom:.0f} × nominal; target ≤ 30 s)",
    )
    line(
        "  run_toys in-process, per toy",
        f"{t / 10_000 * 1e3:.2f} ms",
        f"({t / 10_000 / loop:.3f} × loop, {t / 10_000 / nom:.2f} × nominal)",
    )

    n = 3000
    rates = {}
    for workers in (1, 2):
        c, client = cluster(workers)
        try:
            run_toys(comb, 40, seed=2, client=client, nominal=nominal)  # warm the workers
            cpu0 = sum(client.run(time.process_time).values())
            t, _ = timed(
                lambda client=client: run_toys(comb, n, seed=3, client=client, nominal=nominal)
            )
            cpu = sum(client.run(time.process_time).values()) - cpu0
        finally:
            client.close()
            c.close()
        rates[workers] = n / t
        line(
            f"{n} toys on a running cluster of {workers} worker(s)",
            f"{n / t:.0f} toys/s",
            f"({t / n / nom:.2f} × nominal per toy)",
        )
        line(
            "  workers' CPU time per toy",
            f"{cpu / n * 1e3:.2f} ms",
            f"({cpu / n / loop_cpu:.3f} × the loop's CPU time)",
        )
        if workers == 1:
            line(
                "  per toy with Dask at one worker",
                f"{t / n * 1e3:.2f} ms",
                f"({t / n / loop:.3f} × loop; target ≤ 1.10; {t / n / nom:.2f} × nominal)",
            )
    line("throughput 2 workers / 1 worker", f"{rates[2] / rates[1]:.2f}", "(target ≥ 1.7)")


def case_pearson() -> None:
    comb = pearson()
    nominal = comb.combine(decompositions=False)
    print("Pearson: 100 bins x 2 measurements x 20 sources, 1 relative + 1 asymmetric source")
    nom = nominal_time(comb, intervals=True, repeat=3)
    line("one nominal combination with intervals (yardstick)", f"{nom * 1e3:.0f} ms")
    k = 6
    t_iv = plain_loop(comb, k, intervals=True)
    t_no = plain_loop(comb, 3 * k, intervals=False)
    line(
        f"per toy with profile intervals on all 100 ({k} toys)",
        f"{t_iv:.3f} s",
        f"({t_iv / nom:.2f} × nominal)",
    )
    line(f"per toy without intervals ({3 * k} toys)", f"{t_no * 1e3:.0f} ms")
    line(
        "1,000 toys with intervals on 2 workers (extrapolated)",
        f"{1000 * t_iv / 2 / 60:.1f} min",
        "(target ≤ 2 min)",
    )
    n = int(os.environ.get("PEARSON_TOYS", "200"))
    t, res = timed(lambda: run_toys(comb, n, seed=1, nominal=nominal, workers=2))
    line(
        f"{n} toys with intervals, workers=2 (cluster start included)",
        f"{t:.1f} s",
        f"({t / nom:.0f} × nominal)",
    )
    line(
        "  1,000 toys extrapolated from it",
        f"{1000 / n * t / 60:.2f} min",
        f"({1000 / n * t / nom:.0f} × nominal; target ≤ 2 min)",
    )
    bad = sum(int((~res.interval_valid[o]).sum()) for o in res.observables)
    line("  invalid intervals / failed toys", f"{bad} / {res.n_failed}")


def profile(comb: Combiner, n: int, intervals: bool, label: str) -> None:
    model = ToyModel(comb)
    toys = [model.generate(item_rng(0, i)) for i in range(n)]
    prof = cProfile.Profile()
    with blas_threads(1):
        t0 = time.perf_counter()
        prof.enable()
        for toy in toys:
            model.combiner_for(toy).combine(intervals=intervals, decompositions=False)
        prof.disable()
    per = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for i in range(n):
        model.generate(item_rng(0, i))
    gen = (time.perf_counter() - t0) / n
    stats = pstats.Stats(prof)
    total = sum(v[3] for k, v in stats.stats.items() if k[2] == "combine") / n  # cumulative
    wanted = {
        "with_estimates": "Combiner.with_estimates (new Measurement, validation)",
        "_factor": "correlation factorisation",
        "_model": "χ² model build (blocks, sparse maps)",
        "minimise": "minimum (linear solve / Migrad)",
        "migrad": "  of which iminuit migrad",
        "_covariance": "  of which covariance at the minimum",
        "profile_intervals": "profile intervals (Minos + fallbacks)",
        "evaluate": "χ² evaluations (all callers)",
        "__init__": "",
    }
    print(f"profile, {label}: {per * 1e3:.2f} ms per toy (+ {gen * 1e3:.3f} ms generation)")
    seen = {}
    for (file, _, func), v in stats.stats.items():
        if (func in wanted and wanted[func] and "hepcombine" in file) or (
            func == "migrad" and "iminuit" in file
        ):
            if func == "evaluate" and "chi2" not in file:
                continue
            seen[func] = seen.get(func, 0.0) + v[3]
    for func, text in wanted.items():
        if func in seen:
            share = seen[func] / n
            line(text, f"{share * 1e3:8.2f} ms  {100 * share / max(total, per):5.1f} %")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(8)
    print("  top functions by own time:")
    for row in out.getvalue().splitlines():
        if row.strip() and row.strip()[0].isdigit() and "/" in row:
            print("   ", row.strip()[:150])


def case_profiles() -> None:
    profile(quadratic(), 200, True, "quadratic 100 bins (intervals exact and free)")
    profile(pearson(), 3, True, "Pearson 100 bins with intervals")
    profile(pearson(), 10, False, "Pearson 100 bins without intervals")


if __name__ == "__main__":
    print(f"load average {os.getloadavg()} on {os.cpu_count()} cores", flush=True)
    cases = sys.argv[1:] or ["quadratic", "pearson", "profile"]
    for case in cases:
        {"quadratic": case_quadratic, "pearson": case_pearson, "profile": case_profiles}[case]()
    print(f"load average {os.getloadavg()}")
