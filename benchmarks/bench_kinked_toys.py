"""Toys and correlation scans of kinked combinations (issue 18: "toys and scans of kinked
combinations inherit the speed; quote their figures"; not part of the test suite).

    python benchmarks/bench_kinked_toys.py [toys without intervals] [toys with intervals]

Cases: full-size Neyman combinations of the kinked campaign (``tests/kinked_campaign.py``
``generate(rng, "neyman", small=False)``, seeds ``seeds("ntoys-neyman", 6)`` numbers 0 and 4:
asymmetric Convino-form sources, ρ = ±1 and partial correlations, a pulled Hessian measurement
whose kinks sit at λ̂ ≠ 0). Per case, BLAS single-threaded, CPU time of the process, each
figure next to its yardstick (one dense solve of the χ²'s size, best of 200, measured just
before):

* one nominal ``combine()`` with and without profile intervals;
* per toy: ``ToyTask`` batched (the default, :mod:`hepcombine.toys.batched`) and one by one
  (``batched=False``), with and without intervals, the same toys, and the largest relative
  difference of their values;
* per scan point: ``scan_correlations`` over one correlated pair of the case (6 points from
  ρ/2 to ρ), with and without intervals (a scan point changes the correlations, hence the
  decorrelated parameters: each point is one combination).

Last run (2-core shared machine; 32 toys without and 6 with intervals), dense solves:

    case 0 (15 values, 33 params, 18 kinked sources, 13 correlations)
        nominal combine 1880 / 33161 (without / with intervals)
        toy without intervals: batched 535, one by one 1756 (× 3.3); with: 8438 vs 8774
        scan point 2476 / 39186
    case 4 (36 values, 46 params, 8 kinked sources, 1 correlation)
        nominal combine 482 / 45234
        toy without intervals: batched 192, one by one 626 (× 3.3); with: 7849 vs 8570
        scan point 587 / 47916

Values of batched and one-by-one toys agree to 2e-14 relative. With intervals a toy and a
scan point cost what the profile intervals of one kinked combination cost (issue 18's
``solver.intervals``/``solver.path``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from kinked_campaign import generate, seeds  # before benchmarks/ (its campaign.py) is on the path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_toys_linear import dense_solve_time

from hepcombine import Combiner
from hepcombine.scan import scan_correlations
from hepcombine.spec import ScanGroup
from hepcombine.toys import ToyModel, ToyTask

CASES = (0, 4)


def per_item(fn, n: int, npar: int) -> tuple[float, float, object]:
    """Seconds per item of ``fn()`` (n items) and as dense solves (yardstick measured just
    before)."""
    solve = dense_solve_time(npar)
    t0 = time.process_time()
    out = fn()
    per = (time.process_time() - t0) / n
    return per, per / solve, out


def scan_group(comb: Combiner, correlations: dict) -> ScanGroup:
    (a, b), rho = next(
        ((k, v) for k, v in correlations.items() if abs(v) < 1.0), next(iter(correlations.items()))
    )
    return ScanGroup("bench", [(a, b, 0.5 * rho, rho)], n_points=6)


def case(k: int, n_plain: int, n_iv: int) -> None:
    rng = seeds("ntoys-neyman", max(CASES) + 1)[k]
    c = generate(rng, "neyman", small=False)
    comb = c.combiner()
    model_chi2 = comb._model(comb._factor())
    npar = model_chi2.npar
    print(
        f"case {k}: {len(comb.observables)} values, {npar} parameters, "
        f"{len(model_chi2.kinked_sources)} kinked sources, {len(c.correlations)} correlations"
    )
    model = ToyModel(comb)
    with threadpool_limits(1, user_api="blas"):
        ToyTask(model, intervals=False)(0, 2, 1)  # warm-up
        for intervals, label in ((False, "without intervals"), (True, "with intervals")):
            per, ratio, _ = per_item(
                lambda iv=intervals: comb.combine(intervals=iv, decompositions=False), 1, npar
            )
            print(f"  nominal combine {label:<18} {per * 1e3:9.1f} ms = {ratio:8.1f} solves")
        for intervals, n in ((False, n_plain), (True, n_iv)):
            label = "with intervals" if intervals else "without intervals"
            got = {}
            for batched in (True, False):
                task = ToyTask(model, intervals=intervals, batched=batched)
                per, ratio, got[batched] = per_item(lambda t=task, n=n: t(0, n, 1), n, npar)
                how = "batched" if batched else "one by one"
                print(
                    f"  toy {label:<18} {how:<10} {per * 1e3:9.1f} ms = {ratio:8.1f} solves per toy"
                )
            a, b = got[True], got[False]
            ok = np.isfinite(b["values"])
            d = np.max(np.abs(a["values"][ok] - b["values"][ok]) / np.abs(b["values"][ok]))
            print(
                f"    failed {int(a['failed'].sum())}/{int(b['failed'].sum())} of {n}; "
                f"largest relative difference of the values {d:.2g}"
            )
        group = scan_group(comb, c.correlations)
        for intervals in (False, True):
            label = "with intervals" if intervals else "without intervals"
            per, ratio, res = per_item(
                lambda iv=intervals: scan_correlations(comb, group, intervals=iv), 6, npar
            )
            valid = int(np.sum(res.valid))  # type: ignore[attr-defined]
            print(
                f"  scan point {label:<18} {per * 1e3:9.1f} ms = {ratio:8.1f} solves per point "
                f"({valid}/6 valid)"
            )


def main() -> None:
    n_plain = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    n_iv = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    for k in CASES:
        case(k, n_plain, n_iv)


if __name__ == "__main__":
    main()
