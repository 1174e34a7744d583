"""Wall time of the ``hepcombine`` command line as whole processes (not part of the test suite).

    python benchmarks/bench_cli.py            # default: 5 repetitions each
    python benchmarks/bench_cli.py 10

Cases (targets from the design brief):

* ``hepcombine --help``                                   target < 0.5 s
* ``hepcombine combine data/convino_example/combination.txt`` (the import floor, issue 22),
  as a ratio to ``python -c "import numpy"`` measured in the same run
* ``hepcombine combine`` of a generated 100-bin Convino config (two measurements of 100 bins,
  orthogonal tables with 8 shape sources each, 4 of them correlated across the measurements),
  Neyman and Pearson (the Convino default), with ``--json``   target < 2 s

Each case is run as a fresh ``python -m hepcombine`` process, so the times include the
interpreter start and all imports. Best and median of the repetitions are printed.

Bytecode: with ``PYTHONDONTWRITEBYTECODE=1`` in the environment (as in the project's sessions)
every run compiles hepcombine's modules from source, about a third of the Convino example's
time; an installed package has its bytecode. ``--pyc`` runs the processes with bytecode caches
(in a temporary ``PYTHONPYCACHEPREFIX``, written by a first, untimed run), as installed.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

N_BINS = 100
N_SOURCES = 8


def generate(directory: Path, n_bins: int = N_BINS, n_sources: int = N_SOURCES) -> Path:
    """Write a 100-bin Convino base file with two measurement files into ``directory``."""
    import numpy as np

    rng = np.random.default_rng(20240501)
    truth = 1000.0 * np.exp(-np.linspace(0.0, 4.0, n_bins))
    for m in ("m1", "m2"):
        values = truth * (1 + rng.normal(0, 0.02, n_bins))
        stat = 0.03 * truth
        shifts = rng.normal(0, 0.01, (n_bins, n_sources)) * truth[:, None]
        est = "\n".join(
            f"  name_{i} = {m}_b{i}\n  value_{i} = {float(values[i])!r}" for i in range(n_bins)
        )
        header = " ".join(f"{m}_s{j}" for j in range(n_sources)) + " stat"
        rows = "\n".join(
            f"  {m}_b{i} " + " ".join(repr(float(x)) for x in shifts[i]) + f" {float(stat[i])!r}"
            for i in range(n_bins)
        )
        (directory / f"{m}.txt").write_text(
            f"[estimates]\n  n_estimates = {n_bins}\n{est}\n[end estimates]\n"
            f"[not fitted]\n  {header}\n{rows}\n[end not fitted]\n"
        )
    obs = "\n".join(f"  bin{i} = m1_b{i} + m2_b{i}" for i in range(n_bins))
    corr = "\n".join(f"  m1_s{j} = (0.5) m2_s{j}" for j in range(n_sources // 2))
    base = directory / "base.txt"
    base.write_text(
        "[global]\n  isDifferential = true\n[end global]\n"
        "[inputs]\n  nFiles = 2\n  file0 = m1.txt\n  file1 = m2.txt\n[end inputs]\n"
        f"[observables]\n{obs}\n[end observables]\n"
        f"[correlations]\n{corr}\n[end correlations]\n"
    )
    return base


YARDSTICK = 'python -c "import numpy" (yardstick)'
EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "convino_example" / "combination.txt"


PYC: dict[str, str] = {}  # the bytecode-cache settings of --pyc (empty: the environment's)


def timed(argv: list[str], repeat: int, cwd: Path, module: bool = True) -> list[float]:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    if PYC:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(PYC)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, *(["-m", "hepcombine"] if module else []), *argv],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            check=False,
        )
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"hepcombine {' '.join(argv)} failed:\n{proc.stderr}")
    return times


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--pyc"]
    repeat = int(args[0]) if args else 5
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        base = generate(d)
        if "--pyc" in sys.argv[1:]:
            PYC["PYTHONPYCACHEPREFIX"] = str(d / "pycache")
            timed(["combine", str(EXAMPLE), "--prefix", "warm"], 1, d)  # writes the caches
        bare = timed(["-c", "pass"], repeat, d, module=False)
        floor = timed(["-c", "import numpy"], repeat, d, module=False)
        example = timed(["combine", str(EXAMPLE), "--prefix", "ex"], repeat, d)
        compiled = "on" if PYC or not os.environ.get("PYTHONDONTWRITEBYTECODE") else "off"
        print(
            f"python {sys.version.split()[0]}, {repeat} runs each (whole processes), "
            f"bytecode caches {compiled}"
        )
        print(
            f"  {'python -c pass':<40} best {min(bare):6.3f} s  median {statistics.median(bare):6.3f} s"
        )
        print(
            f"  {YARDSTICK:<40} best {min(floor):6.3f} s  median {statistics.median(floor):6.3f} s"
        )
        print(
            f"  {'combine data/convino_example':<40} best {min(example):6.3f} s  "
            f"median {statistics.median(example):6.3f} s  "
            f"({min(example) / min(floor):.1f}x / {statistics.median(example) / statistics.median(floor):.1f}x "
            "import numpy; "
            f"{statistics.median(example) / statistics.median(bare):.1f}x python -c pass; "
            "target <= 0.3 s)"
        )
        cases = {
            "hepcombine --help": (["--help"], 0.5),
            f"combine {N_BINS} bins --neyman --json": (
                ["combine", str(base), "--neyman", "--json", "n.json", "--prefix", "n"],
                2.0,
            ),
            f"combine {N_BINS} bins (Pearson) --json": (
                ["combine", str(base), "--json", "p.json", "--prefix", "p"],
                2.0,
            ),
        }
        for label, (argv, target) in cases.items():
            t = timed(argv, repeat, d)
            best, med = min(t), statistics.median(t)
            flag = "ok" if med < target else "SLOWER THAN TARGET"
            print(
                f"  {label:<40} best {best:6.3f} s  median {med:6.3f} s  (target < {target} s: {flag})"
            )


if __name__ == "__main__":
    main()
