"""The low-rank bounds across kinks (hepcombine.solver.kinkscreen) against the pieces computed
by the χ² itself: the minimum (one value fixed, or none) of the quadratic that a piece
continues to, over the region where the moved kink groups are on their new side, from the
piece's own gradient and Hessian (sides forced) and scipy's SLSQP."""

import itertools

import numpy as np
import pytest
from kinked_campaign import generate, seeds
from scipy.optimize import minimize

from hepcombine.solver._linalg import solve, try_factor
from hepcombine.solver.kinkscreen import KinkScreen, PointBounds
from hepcombine.solver.newton import KinkGroups


def _piece_minimum(model, kinks, theta, sides, c, moved):
    """Min over θ (θ_c fixed) of the quadratic continuing piece ``sides`` (per group) over
    the region where the ``moved`` groups are on their side (on the kink for side 0): the
    quadratic from the χ²'s own gradient and Hessian there (sides forced), minimised by
    scipy's SLSQP with those linear constraints."""
    forced = kinks.sides([], dict(enumerate(sides)))
    f, g, H = model.evaluate(theta, 2, forced)
    free = [i for i in range(len(theta)) if i != c]
    Hf, gf = H[np.ix_(free, free)], g[free]
    N = kinks.normals[:, free]
    h0 = kinks.h(theta)
    cons = []
    for grp in range(len(kinks)):
        s = sides[grp]
        if s == 0:
            cons.append(
                {
                    "type": "eq",
                    "fun": lambda d, grp=grp: h0[grp] + N[grp] @ d,
                    "jac": lambda d, grp=grp: N[grp],
                }
            )
        else:
            cons.append(
                {
                    "type": "ineq",
                    "fun": lambda d, grp=grp, s=s: s * (h0[grp] + N[grp] @ d),
                    "jac": lambda d, grp=grp, s=s: s * N[grp],
                }
            )
    fac = try_factor(Hf)
    d0 = -solve(fac, gf)
    res = minimize(
        lambda d: (f + gf @ d + 0.5 * d @ Hf @ d, gf + Hf @ d),
        d0,
        jac=True,
        method="SLSQP",
        constraints=cons,
        options={"ftol": 1e-14, "maxiter": 500},
    )
    feasible = all(
        (abs(k["fun"](res.x)) < 1e-7 if k["type"] == "eq" else k["fun"](res.x) > -1e-7)
        for k in cons
    )
    # parallel kink hyperplanes (one source pulled, one not, ρ = ±1) can leave a piece empty
    return float(res.fun) if res.success and feasible else None


@pytest.mark.parametrize("fixed", [True, False])
def test_bounds_are_the_continued_pieces(fixed):
    checked = 0
    for rng in seeds("kinkscreen", 8):
        case = generate(rng, "neyman")
        comb = case.combiner()
        model = comb._model(comb._factor())
        kinks = KinkGroups.of(model)
        if len(kinks) < 2:
            continue
        theta = (
            model.start()
            + rng.normal(0, 0.3, model.npar) * np.r_[np.zeros(model.n_params), np.ones(model.rank)]
        )
        screen = KinkScreen.of(model, kinks, theta)
        assert screen is not None
        sides = np.sign(kinks.h(theta))
        sides[0] = 0.0  # one group at its mean slope, as a held group
        forced = kinks.sides([], dict(enumerate(sides)))
        f, g, H = model.evaluate(theta, 2, forced)
        c = 0 if fixed else None
        pb = PointBounds(screen, theta, sides, f, g, try_factor(H), c)
        for F in itertools.chain(
            ([k] for k in range(len(kinks))), itertools.combinations(range(len(kinks)), 2)
        ):
            new = [float(rng.choice([-1.0, 1.0])) for _ in F]
            s2 = sides.copy()
            s2[list(F)] = new
            want = _piece_minimum(model, kinks, theta, s2, c, list(F))
            got = pb.bound(list(F), new)
            if want is None:
                continue
            assert got == pytest.approx(want, rel=1e-8, abs=1e-6)
            checked += 1
    assert checked > 20
