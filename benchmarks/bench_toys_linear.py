"""Whole-process cost of pseudo-experiments of a quadratic combination (issue 22).

    python benchmarks/bench_toys_linear.py            # N1 = 100, N2 = 10000
    python benchmarks/bench_toys_linear.py 100 2000

The input (written as a Convino configuration into a temporary directory): the quadratic
100-bin combination of ``benchmarks/bench_toys.py`` (a 100-bin Hessian measurement and a 100-bin
table, 20 sources each, 10 pairs of sources correlated). The command timed, each as a fresh
process::

    hepcombine toys BASE --n N --seed 3 --neyman -q

The figure: t(N2) − t(N1), the cost of N2 − N1 toys beyond the first N1 (free of the start-up,
the reading and the nominal combination), and per toy as a ratio to one dense solve of the size
of the combination's χ² (n_parameters × n_parameters, Cholesky factor and solve) measured in the
same run. In-process, for comparison: one chunk of toys through the linear path
(:mod:`hepcombine.toys.linear`) and through the generic per-toy combination
(``ToyTask(..., linear=False)``), per toy in dense solves.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_toys import quadratic
from threadpoolctl import threadpool_limits

from hepcombine.outputs.convino import write_convino
from hepcombine.spec import CombinationSpec
from hepcombine.toys import ToyModel, ToyTask


def write_base(directory: Path) -> Path:
    comb = quadratic()
    corr = {}
    names = comb._names.sources
    for (i, j), rho in comb.correlations.items():
        corr[(":".join(names[i]), ":".join(names[j]))] = rho
    spec = CombinationSpec(measurements=dict(comb.measurements), correlations=corr, chi2="neyman")
    return write_convino(spec, directory)


def dense_solve_time(n: int, repeat: int = 200) -> float:
    """Best seconds of one dense SPD factor-and-solve of size n (the yardstick)."""
    from scipy.linalg import cho_factor, cho_solve

    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, n))
    h = a @ a.T + n * np.eye(n)
    b = rng.normal(size=n)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        cho_solve(cho_factor(h), b)
        best = min(best, time.perf_counter() - t0)
    return best


def command(base: Path, n: int, env: dict[str, str], repeat: int = 3) -> tuple[float, float]:
    """Best wall and best CPU seconds (user + system of the child) of ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            argv = [sys.executable, "-m", "hepcombine", "toys", str(base), "--n", str(n)]
            argv += ["--seed", "3", "--neyman", "-q", "--output-dir", out]
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
            walls.append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"hepcombine toys failed:\n{proc.stderr}")
    return min(walls), min(cpus)


def main() -> None:
    args = sys.argv[1:]
    n1, n2 = (int(args[0]), int(args[1])) if len(args) == 2 else (100, 10_000)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    comb = quadratic()
    npar = len(comb.observables) + len(comb.spectators) + len(comb.sources)
    solve = dense_solve_time(npar)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"one dense solve {npar}x{npar}: {solve * 1e6:.1f} us (yardstick)")
    model = ToyModel(comb)
    for label, linear, n in (("linear path", True, 2000), ("generic path", False, 100)):
        task = ToyTask(model, linear=linear)
        task(0, 2, 1)  # warm-up (the linear path builds its gain matrix here)
        with threadpool_limits(1, user_api="blas"):
            t0 = time.perf_counter()
            task(0, n, 1)
            per = (time.perf_counter() - t0) / n
        print(
            f"in-process {label}, {n} toys: {per * 1e6:.1f} us per toy = {per / solve:.2f} solves"
        )
    with tempfile.TemporaryDirectory() as tmp:
        base = write_base(Path(tmp))
        command(base, 10, env, 1)  # warm the file cache
        (t1, c1), (t2, c2) = command(base, n1, env), command(base, n2, env)
    print(
        f"hepcombine toys --n {n1}: {t1:.2f} s, --n {n2}: {t2:.2f} s (whole processes, best of 3)"
    )
    for what, a, b in (("wall", t1, t2), ("CPU", c1, c2)):
        extra = b - a
        per = extra / (n2 - n1)
        print(
            f"  {what}: {n2 - n1} toys beyond the first {n1}: {extra:.2f} s; per toy "
            f"{per * 1e6:.1f} us = {per / solve:.2f} dense solves"
        )
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
