"""hepcombine._stats.chi2_sf (the χ² survival function without scipy) against
scipy.special.chdtrc, and against closed forms: ndf = 2 is e^{−x/2}, ndf = 1 is erfc(√(x/2))."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import chdtrc

from hepcombine._stats import chi2_sf


def test_against_scipy_over_ndf_and_the_tail():
    rng = np.random.default_rng(22)
    for ndf in [*range(1, 41), 57, 100, 257, 1000, 1999, 5000]:
        xs = ndf * np.exp(rng.uniform(-8.0, 3.0, 30))
        for x in [*xs, ndf, ndf + 2.0, max(ndf - 1.0, 0.5), 1e-9]:
            ref = float(chdtrc(ndf, x))
            if ref < 1e-300:
                continue
            assert chi2_sf(ndf, x) == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("x", [1e-12, 0.3, 1.0, 2.0, 3.5, 10.0, 80.0, 600.0])
def test_closed_forms(x):
    assert chi2_sf(2, x) == pytest.approx(math.exp(-x / 2), rel=1e-12)
    assert chi2_sf(1, x) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-11)


def test_edges():
    assert chi2_sf(3, 0.0) == 1.0
    assert chi2_sf(3, -1.0) == 1.0
    assert chi2_sf(3, math.inf) == 0.0
    assert math.isnan(chi2_sf(3, math.nan))
    assert math.isnan(chi2_sf(0, 1.0))
    assert chi2_sf(4, 1e5) == 0.0  # below the smallest double
