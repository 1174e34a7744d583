"""Wall times of the real Convino setups of data/convino_setups/ (not part of the test suite).

    python benchmarks/bench_convino.py        # default: 5 repetitions each
    python benchmarks/bench_convino.py 3

Cases:

* ``hepcombine combine <setup>/rho_config.txt --json …`` as a fresh process (interpreter start
  and imports included), Pearson (the Convino default) and ``--neyman``, for the ATLAS setup
  (7 bins × 143 sources) and the three-measurement statistical-only combination (19 bins);
* in one process: the combination of the ATLAS setup (Pearson, with profile intervals), and the
  2-D contours of its two highest bins at Δχ² = 1, 2.30, 5.99 (64 points each), with the
  number of profiled minimisations;
* yardstick, measured in the same run: one dense Cholesky factorisation and solve of a
  150 × 150 matrix (the size of the ATLAS χ²: 7 values + 143 sources), and ``hepcombine
  --help`` as a process.

Best and median of the repetitions are printed.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETUPS = Path(__file__).resolve().parents[1] / "data" / "convino_setups"


def _times(run, repeat: int) -> tuple[float, float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        out.append(time.perf_counter() - t)
    return min(out), statistics.median(out)


def _process(args: list[str]) -> None:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    subprocess.run(
        [sys.executable, "-m", "hepcombine", *args], check=True, capture_output=True, env=env
    )


def main(repeat: int = 5) -> None:
    import numpy as np
    from scipy.linalg import cho_factor, cho_solve

    rows: list[tuple[str, float, float]] = []
    rng = np.random.default_rng(1)
    a = rng.normal(size=(150, 150))
    h = a @ a.T + 150 * np.eye(150)
    g = rng.normal(size=150)
    rows.append(
        (
            "yardstick: dense 150×150 Cholesky + solve",
            *_times(lambda: cho_solve(cho_factor(h), g), repeat * 20),
        )
    )
    rows.append(
        ("yardstick: hepcombine --help (process)", *_times(lambda: _process(["--help"]), repeat))
    )
    with tempfile.TemporaryDirectory() as tmp:
        for folder in ("ATLAS13OnlyTest", "Combination_ATLAS813CMS13_corrV2_statonly"):
            base = str(SETUPS / folder / "rho_config.txt")
            for extra in ([], ["--neyman"]):
                args = ["combine", base, "--output-dir", tmp, "--json", f"{tmp}/r.json", *extra]
                label = f"CLI {folder} {'Neyman' if extra else 'Pearson'}"
                rows.append((label, *_times(lambda args=args: _process(args), repeat)))

    from hepcombine import load_config

    spec = load_config(SETUPS / "ATLAS13OnlyTest" / "rho_config.txt")
    rows.append(
        (
            "API ATLAS combine (Pearson, intervals)",
            *_times(lambda: spec.combiner().combine(), repeat),
        )
    )
    result = spec.combiner().combine()
    obs = result.observables
    evaluations: list[int] = []

    def contours() -> None:
        evaluations.clear()
        for level in ({"delta_chi2": 1.0}, {"cl": 0.6827}, {"cl": 0.95}):
            c = result.contour(obs[5], obs[6], n_points=64, **level)
            evaluations.append(c.evaluations)

    rows.append(("API ATLAS 3 contours × 64 points", *_times(contours, max(1, repeat // 2))))
    width = max(len(r[0]) for r in rows)
    for label, best, median in rows:
        print(f"{label:<{width}}  best {best:8.4f} s  median {median:8.4f} s")
    print(
        f"profiled minimisations per contour: {evaluations} ({sum(evaluations) / 192:.2f} per point)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
