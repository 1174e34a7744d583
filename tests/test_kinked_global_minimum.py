"""Reproducer (issue 18): a kinked Neyman combination whose global minimum is several kinks away
from the local minimum reached by mirroring across one kink at a time (seeds of kcamp's "many"
campaign). The engine's χ²_min and values must be those of the exact OrthantReference (every
sign box of the kinks minimised by BVLS, tests/kinked_campaign.py)."""

import numpy as np
import pytest
from kinked_campaign import OrthantReference, generate, seeds
from threadpoolctl import threadpool_limits


@pytest.mark.parametrize("seed", [11, 212, 1851])
def test_global_minimum_several_kinks_away(seed):
    case = generate(seeds("many", seed + 1)[seed], "neyman")
    with threadpool_limits(limits=1, user_api="blas"):
        res = case.combiner().combine(intervals=False)
    ref = OrthantReference(case)
    ref.set_scale(res)
    engine_point = ref.start(res)  # the engine's minimum in the reference's parameters
    p, f = ref.global_min(engine_point)
    f_engine = ref.value_grad(engine_point)[0]  # the written χ² there
    assert f_engine == pytest.approx(f, rel=1e-7, abs=1e-7)
    obs = list(res.observables)
    err = np.array([res.errors[o] for o in obs])
    assert np.max(np.abs(engine_point[: len(obs)] - p[: len(obs)]) / err) < 1e-6
