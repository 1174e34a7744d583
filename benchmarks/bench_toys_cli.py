"""Speed of ``hepcombine toys`` on the shipped examples (not part of the test suite).

    python benchmarks/bench_toys_cli.py             # both examples
    python benchmarks/bench_toys_cli.py convino     # only data/convino_example

For each example the command runs in this process (``hepcombine.cli.main``, as the installed
command does after start-up) with N1 and N2 toys, in-process and with ``--workers 2``; per toy:
the whole command's time / N2, and the marginal cost (t(N2) − t(N1)) / (N2 − N1), free of the
fixed costs (reading the config, the nominal combination, starting the Dask cluster, writing).
The yardstick, measured in the same run: one nominal combination of the same input
(``spec.combiner().combine()``, as ``hepcombine combine`` does it; median of repeats), and the
recombination a toy does (``combine(decompositions=False)``). The load average is printed: on a
machine busy with other work, --workers 2 cannot gain.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from hepcombine.cli import main
from hepcombine.inputs import load_config

DATA = Path(__file__).resolve().parents[1] / "data"
EXAMPLES = {
    # name: (config, N1, N2)
    "convino": (DATA / "convino_example" / "combination.txt", 100, 400),
    "ttbar": (DATA / "ttbar_8tev_emu.yaml", 300, 1500),
}


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def command(config: Path, n: int, *options: str) -> tuple[float, float]:
    """Wall and CPU seconds (of this process) of ``hepcombine toys CONFIG --n n --seed 1
    OPTIONS`` (outputs in a temporary directory, stdout swallowed)."""
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["toys", str(config), "--n", str(n), "--seed", "1", "--output-dir", tmp, "-q"]
        t0, c0 = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            code = main([*argv, *options])
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    if code != 0:
        raise SystemExit(f"hepcombine toys failed ({code})")
    return elapsed, cpu


def line(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<52} {value:>12}  {note}", flush=True)


def bench(name: str) -> None:
    config, n1, n2 = EXAMPLES[name]
    combiner = load_config(config).combiner()
    nominal = median_time(combiner.combine, 20)
    recombine = median_time(lambda: combiner.combine(decompositions=False), 20)
    print(f"{name}: {config.relative_to(DATA.parent)} ({combiner.chi2} chi2)")
    line("nominal combination combine()", f"{nominal * 1e3:.2f} ms", "(yardstick)")
    line("  combine(decompositions=False), as a toy", f"{recombine * 1e3:.2f} ms")
    command(config, 10)  # warm-up: imports, caches
    for label, options in (("in-process", ()), ("--workers 2", ("--workers", "2"))):
        (t1, c1), (t2, c2) = command(config, n1, *options), command(config, n2, *options)
        whole, marginal = t2 / n2, (t2 - t1) / (n2 - n1)
        line(f"{label}: {n2} toys, whole command", f"{t2:.2f} s")
        line(
            "  per toy (whole command / N)",
            f"{whole * 1e3:.2f} ms",
            f"({whole / nominal:.2f} x nominal)",
        )
        line(
            f"  per toy, marginal ({n1} -> {n2} toys)",
            f"{marginal * 1e3:.2f} ms",
            f"({marginal / nominal:.2f} x nominal)",
        )
        if not options:  # the workers' CPU time is not this process's
            cpu = (c2 - c1) / (n2 - n1)
            line("  CPU time per toy, marginal", f"{cpu * 1e3:.2f} ms")


if __name__ == "__main__":
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for name in sys.argv[1:] or list(EXAMPLES):
        bench(name)
    print(f"load average {os.getloadavg()[0]:.2f}")
