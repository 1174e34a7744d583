"""Run a kinked campaign (issue 18) case by case and record every outcome.

:func:`run` generates the cases ``seeds(label, stop)[start:stop]`` of ``tests/kinked_campaign.py``
and checks each with ``kinked_check.check`` against a reference: :class:`FaceReference` (exact,
cheap) for Neyman's χ² with absolute sources, :class:`OrthantReference` (a box minimisation per
sign orthant) otherwise. Everything runs under one BLAS thread, so ``Outcome.seconds`` (the
engine's ``combine()`` alone) is a one-core time, and ``Outcome.cpu_seconds`` its process time
(the one-core time also on a shared machine).

``python tests/kinked_run.py LABEL N [--chi2 pearson] [--relative] [--out FILE]
[--n-endpoints K] [--first-crossing J]`` writes one
JSON line per case (seed, ok, engine seconds, statuses, problems) and a summary: the record of
a long campaign (notes and issue figures), not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np
from campaign_check import Outcome
from kinked_campaign import OrthantReference, generate, seeds
from kinked_check import check
from kinked_many import FaceReference
from threadpoolctl import threadpool_limits

#: the statuses of an interval found without the fallback scan
ORDINARY = ("exact", "profile")


def run(
    label: str,
    start: int,
    stop: int,
    chi2: str = "neyman",
    relative: bool = False,
    known: frozenset[int] | set[int] = frozenset(),
    n_endpoints: int | None = None,
    first_crossing: int | None = None,
) -> Iterator[tuple[int, Outcome]]:
    """(seed, outcome) of the cases ``start ≤ seed < stop`` of campaign ``label`` (``small``
    cases), leaving out the seeds in ``known``."""
    exact = chi2 == "neyman" and not relative
    reference = FaceReference if exact else OrthantReference
    rngs = seeds(label, stop)
    with threadpool_limits(limits=1, user_api="blas"):
        for seed in range(start, stop):
            if seed in known:
                continue
            rng = rngs[seed]
            case = generate(rng, chi2, small=True, relative=relative)
            yield seed, check(case, rng, n_endpoints, first_crossing, reference=reference)


def unusual(out: Outcome) -> dict[str, int]:
    """The statuses of ``out`` other than the ordinary ones."""
    return {s: n for s, n in out.statuses.items() if s not in ORDINARY}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("label")
    ap.add_argument("n", type=int)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--chi2", default="neyman")
    ap.add_argument("--relative", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--n-endpoints", type=int, default=None, help="endpoints checked per case")
    ap.add_argument("--first-crossing", type=int, default=None)
    a = ap.parse_args(argv)
    sink = a.out.open("w") if a.out else sys.stdout
    times, cpu, bad, statuses = [], [], [], {}
    t0 = time.perf_counter()
    for seed, out in run(
        a.label,
        a.start,
        a.n,
        a.chi2,
        a.relative,
        n_endpoints=a.n_endpoints,
        first_crossing=a.first_crossing,
    ):
        times.append(out.seconds)
        cpu.append(out.cpu_seconds)
        for s, k in out.statuses.items():
            statuses[s] = statuses.get(s, 0) + k
        if not out.ok:
            bad.append(seed)
        rec = {
            "seed": seed,
            "ok": out.ok,
            "seconds": out.seconds,
            "cpu_seconds": out.cpu_seconds,
            "n_obs": len(out.case.observables),
            "statuses": out.statuses,
            "problems": [p[:600] for p in out.problems],
        }
        sink.write(json.dumps(rec) + "\n")
        sink.flush()
    t, c = np.array(times), np.array(cpu)
    summary = {
        "label": a.label,
        "cases": len(t),
        "failed": bad,
        "statuses": statuses,
        "engine_median": float(np.median(t)),
        "engine_p95": float(np.percentile(t, 95)),
        "engine_max": float(t.max()),
        "engine_cpu_median": float(np.median(c)),
        "engine_cpu_p95": float(np.percentile(c, 95)),
        "engine_cpu_max": float(c.max()),
        "wall": time.perf_counter() - t0,
    }
    sink.write(json.dumps({"summary": summary}) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
