"""Speed of errors on errors on the ATLAS+CMS top-quark mass (not part of the test suite).

    python benchmarks/bench_gvm.py
    GVM_PEER_PYTHON=/path/to/python python benchmarks/bench_gvm.py   # also the peer

Case: ``data/top_mass_lhc/LHC_comb.yaml`` (15 measurements, 25 sources; ptmiss symmetrised,
invalid matrices repaired), ε = 0.3 (dependent) on the seven modelling sources. Timed
in-process: the fit with every interval (``combine(decompositions=False)``, which includes the
search of the terms' far branches, the check of the endpoints on them and the Bartlett
factors), the same with ``bartlett=True``, and the full ``combine()`` (breakdown, weights,
impacts too). The yardstick, measured in the same run: one dense Cholesky solve of the χ²'s
Hessian (the size of the problem) and one Gaussian (ε = 0) combination.

With ``GVM_PEER_PYTHON`` (a Python with gvm-combinations installed) the peer's fit,
Bartlett-corrected interval (its step scan) and goodness of fit are timed on the same model
(its inputs are written with the matrices hepcombine uses: ptmiss symmetrised, the invalid ones
repaired), in a subprocess.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "top_mass_lhc"
MODELLING = ["ME", "LHCrad", "LHChad", "CMSbHad", "CR", "UE", "PDF"]

PEER = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
from gvm_combinations import GVMCombination, build_input_data
from gvm_combinations.likelihood import bartlett_correction
c = GVMCombination(build_input_data(sys.argv[1]))
t0 = time.perf_counter(); f = c.fit(); t1 = time.perf_counter()
lo, hi, _ = c.confidence_interval(); t2 = time.perf_counter()
b = bartlett_correction(c); g = c.goodness_of_fit(); t3 = time.perf_counter()
print(json.dumps({"mu": f.mu, "interval": [lo, hi], "b": b, "gof": g, "seconds": t3 - t0}))
"""


def _best(fn, repeat=7):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def _valid_copy(folder: Path) -> Path:
    """The top-mass file with the matrices hepcombine uses, for the peer (ε = 0.3 on the
    modelling sources)."""
    from hepcombine.correlations import nearest_correlation_matrix

    d = yaml.safe_load((DATA / "LHC_comb.yaml").read_text())
    (folder / "correlations").mkdir()
    for s in d["syst"]:
        name = s["shift"]["correlation"]
        c = np.loadtxt(DATA / "correlations" / name)
        c = 0.5 * (c + c.T)
        used = np.array(s["shift"]["value"]) != 0
        sub = c[np.ix_(used, used)]
        if np.linalg.eigvalsh(sub)[0] < -1e-9:
            c[np.ix_(used, used)] = nearest_correlation_matrix(sub)
        np.savetxt(folder / "correlations" / name, np.clip(c, -1, 1), fmt="%.17g")
        if s["name"] in MODELLING:
            s["error-on-error"] = {"value": 0.3, "type": "dependent"}
    path = folder / "LHC_comb.yaml"
    path.write_text(yaml.safe_dump(d, sort_keys=False))
    return path


def main() -> None:
    from scipy.linalg import cho_factor, cho_solve

    from hepcombine.inputs import load_config

    logging.disable(logging.WARNING)
    spec = load_config(DATA / "LHC_comb.yaml", symmetrise=True, repair_correlations=True)
    eoe = dict.fromkeys(MODELLING, 0.3)
    comb = spec.combiner(repair=True, errors_on_errors=eoe)
    corrected = spec.combiner(repair=True, errors_on_errors=eoe, bartlett=True)
    gauss = spec.combiner(repair=True)
    res = comb.combine()
    n = len(res.full_correlation.names) - len(res.pulls) + comb._factor().L.shape[1]
    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, n))
    h = a @ a.T + n * np.eye(n)
    b = rng.normal(size=n)

    def yardstick():
        cho_solve(cho_factor(h), b)

    cases = {
        "yardstick: one dense solve": yardstick,
        "Gaussian combination (ε = 0)": lambda: gauss.combine(decompositions=False),
        "fit + interval (ε = 0.3)": lambda: comb.combine(decompositions=False),
        "fit + Bartlett interval": lambda: corrected.combine(decompositions=False),
        "full combine() (ε = 0.3)": lambda: comb.combine(),
    }
    for fn in cases.values():
        fn()  # warm the caches (imports, the correlation factor)
    yard = None
    print(f"top-mass combination, {n} parameters, ε = 0.3 on {len(MODELLING)} sources")
    for label, fn in cases.items():
        best, median = _best(fn, 31 if label.startswith("yardstick") else 7)
        yard = yard or best
        print(
            f"  {label:34s} best {best * 1e3:8.2f} ms  median {median * 1e3:8.2f} ms  "
            f"= {best / yard:8.0f} × yardstick"
        )
    r = corrected.combine()
    print(
        f"  value {r.values['LHC']:.5f}, Bartlett interval {r.interval('LHC')}, "
        f"b = {r.bartlett.profile['LHC']:.5f}, b_chi2 = {r.bartlett.chi2:.4f}"
    )
    peer = os.environ.get("GVM_PEER_PYTHON")
    if peer:
        with tempfile.TemporaryDirectory() as tmp:
            path = _valid_copy(Path(tmp))
            t0 = time.perf_counter()
            out = subprocess.run([peer, "-c", PEER, str(path)], capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if out.returncode:
                print("  peer failed:", out.stderr.strip().splitlines()[-1:])
                return
            p = json.loads(out.stdout)
            print(
                f"  peer (gvm-combinations): fit + interval + Bartlett {p['seconds']:.2f} s "
                f"({wall:.2f} s with start-up) = {p['seconds'] / yard:.0f} × yardstick; "
                f"value {p['mu']:.5f}, interval {p['interval']}, b = {p['b']}"
            )


if __name__ == "__main__":
    sys.exit(main())
