"""The cheap exact face reference of tests/kinked_many.py (issue 18), checked against the
orthant reference (BVLS per box) of tests/kinked_campaign.py on small Neyman cases."""

import numpy as np
from kinked_campaign import OrthantReference, generate, seeds
from kinked_many import FaceReference
from threadpoolctl import threadpool_limits


def test_face_reference_is_the_orthant_reference():
    """Global minimum and the profile at ±1σ of every value: the lowest feasible face equals
    the lowest BVLS box minimum (both evaluated with the written χ²)."""
    with threadpool_limits(limits=1, user_api="blas"):
        for rng in seeds("face", 8):
            case = generate(rng, "neyman", small=True)
            res = case.combiner().combine()
            ref = OrthantReference(case)
            ref.set_scale(res)
            p0, f0 = ref.global_min(ref.start(res))
            fr = FaceReference(case)
            p1, f1 = fr.minimum()
            assert abs(f1 - f0) < 1e-8 * max(1.0, f0)
            err = np.array([res.errors[o] for o in fr.obs])
            assert np.max(np.abs(p1[: fr.n_obs] - p0[: fr.n_obs]) / err) < 1e-7
            for i in range(fr.n_obs):
                for v in (p0[i] - err[i], p0[i] + 1.5 * err[i]):
                    a = ref.global_min(p0, {i: v})[1]
                    b = fr.minimum({i: v})[1]
                    assert abs(a - b) < 1e-8 * max(1.0, a)
