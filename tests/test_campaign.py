"""The randomised campaign of issue 14, bounded to about a minute.

Every family of ``tests/campaign.py`` (several measurements of one value; toy Hessian fits with
pulled nuisances; differential 5–50 bins × 2–3 measurements × 5–30 sources), in both χ²
definitions and both asymmetric forms, with relative, asymmetric (same-side too), pulled and
±1-correlated sources and statistical uncertainties from a few per mille to a few per cent of
the systematic ones. Each case is checked against the independent reference written in
``tests/campaign.py``: no exception, no missing interval, χ²_min not above the reference, every
combined value equal to the reference minimum to 1e-6 σ, every checked endpoint on the
reference's profile (Δχ² = 1) to 1e-5 σ and the first crossing. Here differential cases have at
most 12 bins and 12 sources (the reference is slow); the larger run, at full size, is
``benchmarks/campaign.py``.
"""

import zlib

import numpy as np
import pytest
from campaign import generate
from campaign_check import check

CASES = {"single": 5, "hessian": 4, "differential": 3}


@pytest.mark.parametrize("asymmetry", ["convino", "smooth"])
@pytest.mark.parametrize("chi2", ["neyman", "pearson"])
@pytest.mark.parametrize("family", sorted(CASES))
def test_campaign(family, chi2, asymmetry):
    problems = []
    for seed in range(CASES[family]):
        # the seeds of benchmarks/campaign.py, so a failure here is a case there
        rng = np.random.default_rng([seed, zlib.crc32(f"{family}{chi2}{asymmetry}".encode())])
        case = generate(family, rng, chi2, asymmetry, small=True)
        out = check(case, rng, n_endpoints=2 if family == "differential" else None)
        if not out.ok:
            problems.append(f"seed {seed}: " + "; ".join(p[:300] for p in out.problems))
    assert not problems, "\n".join(problems)
