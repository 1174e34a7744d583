"""The randomised campaign of issue 14, large: every family in both χ² definitions and both
asymmetric forms, each case checked against the independent reference of tests/campaign.py.

    python benchmarks/campaign.py [cases per configuration, default 100] [family ...]

Prints per configuration the number of failures, the worst deviations (in σ) and the engine's
time per case; then the failed cases with their problems.
"""

from __future__ import annotations

import sys
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from campaign import generate
from campaign_check import check


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    families = sys.argv[2:] or ["single", "hessian", "differential"]
    failures = []
    for family in families:
        for chi2 in ("neyman", "pearson"):
            for asym in ("convino", "smooth"):
                t0 = time.perf_counter()
                bad = 0
                worst_v = worst_e = 0.0
                engine = []
                statuses: dict[str, int] = {}
                for seed in range(n):
                    rng = np.random.default_rng(
                        [seed, zlib.crc32(f"{family}{chi2}{asym}".encode())]
                    )
                    case = generate(family, rng, chi2, asym)
                    case.seed = seed
                    out = check(case, rng, n_endpoints=4 if family == "differential" else None)
                    engine.append(out.seconds)
                    worst_v = max(worst_v, out.worst_value)
                    worst_e = max(worst_e, out.worst_endpoint)
                    for k, v in out.statuses.items():
                        statuses[k] = statuses.get(k, 0) + v
                    if not out.ok:
                        bad += 1
                        failures.append((family, chi2, asym, seed, out.problems))
                print(
                    f"{family:<13} {chi2:<8} {asym:<8} {n} cases: {bad} failed; worst value "
                    f"{worst_v:.2g} σ, worst endpoint {worst_e:.2g} σ; engine median "
                    f"{1e3 * np.median(engine):.1f} ms, max {1e3 * max(engine):.0f} ms; "
                    f"statuses {statuses}; {time.perf_counter() - t0:.0f} s",
                    flush=True,
                )
    for family, chi2, asym, seed, problems in failures[:40]:
        print(f"\n{family} {chi2} {asym} seed {seed}:")
        for p in problems[:4]:
            print("   ", p[:600])


if __name__ == "__main__":
    main()
