"""2-D profile-likelihood contours (hepcombine.solver.contours, CombinationResult.contour)
checked against a brute-force grid of the profiled χ² written out here.

Reference χ² (method.md §1–2), with the parameters a, b (combined values) and the sources
λ = (lumi1, jes1, lumi2, jes2):

    χ² = Σ_α Σ_μ r_αμ² / σ_αμ² + λᵀ C⁻¹ λ,   r = √(x̂/X) (X − x̂)  (Pearson),
    X_αμ = x̄_μ (1 − s_lumi(λ)/x̂_αμ) − s_jes(λ),

C the assumed correlations (lumi1 ~ lumi2: 0.7, jes1 ~ jes2: 0.4), s(λ) = u λ for symmetric
shifts and Convino's piecewise-linear form for jes2 (slope u₊ for λ > 0, −u₋ for λ < 0: a kink
at 0). The profiled χ² at a grid point fixes the two quantities and minimises over the rest
with scipy (BFGS), on each side of jes2's kink separately (each side's smooth piece; its
minimum is on the kink when the piece's lies beyond it), keeping the lower.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hepcombine import Combiner, Measurement
from hepcombine.exceptions import FitError, InvalidArgument, UnknownName

X_HAT = {"m1": {"a": 10.0, "b": 20.0}, "m2": {"a": 11.0, "b": 18.0}}
STAT = {"m1": {"a": 1.0, "b": 1.5}, "m2": {"a": 0.8, "b": 2.0}}
LUMI = {"m1": {"a": 0.4, "b": 0.8}, "m2": {"a": 0.5, "b": 0.9}}  # relative
JES1 = {"a": 0.5, "b": -0.3}
JES2 = {"a": (0.9, -0.4), "b": (0.3, -0.6)}  # (shift at λ = +1, signed shift at λ = −1)
RHO = {("m1:lumi1", "m2:lumi2"): 0.7, ("m1:jes1", "m2:jes2"): 0.4}
NAMES = ["a", "b", "m1:lumi1", "m1:jes1", "m2:lumi2", "m2:jes2"]


def combiner(chi2: str = "pearson") -> Combiner:
    m1 = Measurement.from_uncertainties(
        X_HAT["m1"],
        STAT["m1"],
        {"lumi1": LUMI["m1"], "jes1": JES1},
        relative=["lumi1"],
        name="m1",
    )
    m2 = Measurement.from_uncertainties(
        X_HAT["m2"],
        STAT["m2"],
        {"lumi2": LUMI["m2"], "jes2": JES2},
        relative=["lumi2"],
        name="m2",
    )
    return Combiner([m1, m2], correlations=RHO, chi2=chi2)


_C_INV = np.linalg.inv(
    np.array([[1, 0, 0.7, 0], [0, 1, 0, 0.4], [0.7, 0, 1, 0], [0, 0.4, 0, 1]], dtype=float)
)


def chi2_and_gradient(p: np.ndarray, side: float = 0.0) -> tuple[float, np.ndarray]:
    """The reference χ² of the module docstring and its gradient (written out by hand),
    p = (a, b, lumi1, jes1, lumi2, jes2). ``side`` = ±1 uses the slope of that side of jes2's
    kink whatever the sign of jes2 (the smooth piece, extended); 0: the sign of jes2."""
    l1, j1, l2, j2 = p[2:]
    lam = np.array([l1, j1, l2, j2])
    total = float(lam @ _C_INV @ lam)
    grad = np.zeros(6)
    grad[2:] = 2.0 * _C_INV @ lam
    for m, il, ij in (("m1", 2, 3), ("m2", 4, 5)):
        for mu, ix in (("a", 0), ("b", 1)):
            x, x_hat, sigma = p[ix], X_HAT[m][mu], STAT[m][mu]
            u_lumi = LUMI[m][mu]
            if m == "m1":
                slope = JES1[mu]
            else:
                up, down = JES2[mu]
                slope = up if (side > 0 if side else j2 > 0) else -down
            factor = 1.0 - u_lumi * p[il] / x_hat
            pred = x * factor - slope * p[ij]
            if pred <= 0:
                return 1e12, np.zeros(6)
            q = math.sqrt(x_hat / pred)
            r = q * (pred - x_hat)
            dr = 0.5 * q * (1.0 + x_hat / pred)
            total += (r / sigma) ** 2
            w = 2.0 * r * dr / sigma**2
            grad[ix] += w * factor
            grad[il] += w * (-x * u_lumi / x_hat)
            grad[ij] += w * (-slope)
    return total, grad


def chi2(p: np.ndarray) -> float:
    return chi2_and_gradient(np.asarray(p, dtype=float))[0]


def profiled(
    fixed: dict[int, float], start: np.ndarray, *, tight: bool = True
) -> tuple[float, np.ndarray]:
    """min of :func:`chi2` over the parameters not in ``fixed``: on each side of jes2's kink,
    the smooth piece of that side is minimised (BFGS); when its minimum lies on the other
    side, the side's minimum is on the kink and is found with jes2 = 0 fixed. The lower of the
    two sides wins."""
    from scipy.optimize import minimize

    options = {"gtol": 1e-9 if tight else 1e-6, "maxiter": 2000}

    def piece(fix: dict[int, float], side: float, x0: np.ndarray) -> tuple[float, np.ndarray]:
        free = [i for i in range(6) if i not in fix]

        def full(z):
            p = np.empty(6)
            for i, v in fix.items():
                p[i] = v
            p[free] = z
            return p

        def f(z):
            value, grad = chi2_and_gradient(full(z), side)
            return value, grad[free]

        res = minimize(f, x0[free], jac=True, method="BFGS", options=options)
        return float(res.fun), full(res.x)

    if 5 in fixed:
        return piece(fixed, 0.0, start)
    best = None
    for side in (1.0, -1.0):
        value, p = piece(fixed, side, start)
        if p[5] * side < 0:  # the piece's minimum is on the other side: this side's is on 0
            value, p = piece({**fixed, 5: 0.0}, side, start)
        if best is None or value < best[0]:
            best = (value, p)
    assert best is not None
    return best


@pytest.fixture(scope="module")
def result():
    return combiner().combine()


def _global_minimum() -> tuple[float, np.ndarray]:
    return profiled({}, np.array([10.5, 19.0, 0, 0, 0, 0]))


def test_the_reference_chi2_is_the_combination(result):
    fun, best = _global_minimum()
    assert result.chi2 == pytest.approx(fun, abs=1e-7)
    assert result.values["a"] == pytest.approx(best[0], abs=1e-5)
    assert result.pulls["m2:jes2"] == pytest.approx(best[5], abs=1e-4)


N_GRID = 21


def _inside(x: np.ndarray, y: np.ndarray, px: float, py: float) -> bool:
    """Whether (px, py) is inside the closed polygon (x, y) (ray casting)."""
    inside = False
    n = len(x)
    for i in range(n):
        x0, y0, x1, y1 = x[i], y[i], x[(i + 1) % n], y[(i + 1) % n]
        if (y0 > py) != (y1 > py) and px < x0 + (py - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


@pytest.mark.parametrize(
    ("a", "b", "ia", "ib", "level"),
    [
        ("a", "b", 0, 1, {"cl": 0.6827}),  # two combined values, 68.27 % (Δχ² = 2.30)
        ("b", "m2:jes2", 1, 5, {"delta_chi2": 1.0}),  # a value and the kinked source
        ("m1:lumi1", "m2:lumi2", 2, 4, {"cl": 0.95}),  # two correlated sources, 95 %
    ],
)
def test_contour_against_a_brute_force_grid(result, a, b, ia, ib, level):
    from scipy.interpolate import RectBivariateSpline

    c = result.contour(a, b, n_points=48, **level)
    chi2_min, best = _global_minimum()
    delta = c.delta_chi2
    if "cl" in level:
        assert delta == pytest.approx(-2 * math.log(1 - level["cl"]), rel=1e-12)
    assert c.center == pytest.approx((best[ia], best[ib]), abs=1e-4)
    assert c.chi2_min == pytest.approx(chi2_min, abs=1e-7)

    # the grid: 21 × 21 nodes over the contour's box widened by 15 %
    pad_x = 0.15 * (c.x.max() - c.x.min())
    pad_y = 0.15 * (c.y.max() - c.y.min())
    gx = np.linspace(c.x.min() - pad_x, c.x.max() + pad_x, N_GRID)
    gy = np.linspace(c.y.min() - pad_y, c.y.max() + pad_y, N_GRID)
    grid = np.empty((N_GRID, N_GRID))
    start = best.copy()
    for i, xv in enumerate(gx):
        row_start = start.copy()
        for j, yv in enumerate(gy[:: (-1) ** i]):  # serpentine: warm starts from a neighbour
            jj = j if i % 2 == 0 else N_GRID - 1 - j
            grid[i, jj], row_start = profiled({ia: xv, ib: yv}, row_start, tight=False)
        start = row_start
    excess = grid - chi2_min

    # 1. every node clearly below the level is inside the contour, clearly above outside
    checked = 0
    for i, xv in enumerate(gx):
        for j, yv in enumerate(gy):
            if abs(excess[i, j] - delta) > 0.02 * delta:
                assert _inside(c.x, c.y, xv, yv) == (excess[i, j] < delta), (xv, yv)
                checked += 1
    assert checked > 0.8 * N_GRID**2

    # 2. the grid's profiled χ² interpolated at the contour points is the level
    spline = RectBivariateSpline(gx, gy, excess, kx=3, ky=3)
    at = spline.ev(c.x, c.y)
    assert np.max(np.abs(at - delta)) < 0.01 * delta

    # 3. at some contour points the profiled χ² (scipy, exactly there) is the level
    for k in range(0, c.n_points, 6):
        value, _ = profiled({ia: c.x[k], ib: c.y[k]}, best)
        assert value - chi2_min == pytest.approx(delta, abs=2e-6 * delta), k


def test_delta_chi2_one_contour_spans_the_profile_interval(result):
    """The original program's curve: its extent along an axis is the 1-D 68 % interval."""
    c = result.contour("a", "b", delta_chi2=1.0, n_points=64)
    lo, hi = result.interval("a")
    sigma = result.errors["a"]
    # 64 points sample the extremes to (2π/64)²/2 ≈ 5e-3 of the radius
    assert c.x.max() <= hi + 1e-6 * sigma and c.x.max() == pytest.approx(hi, abs=6e-3 * sigma)
    assert c.x.min() >= lo - 1e-6 * sigma and c.x.min() == pytest.approx(lo, abs=6e-3 * sigma)


def test_quadratic_chi2_gives_the_exact_ellipse():
    """Neyman with absolute symmetric sources: the contour is the ellipse of the covariance of
    the two quantities (here from the closed-form GLS of the test's design matrix)."""
    m1 = Measurement.from_uncertainties(
        {"a": 10.0, "b": 20.0}, {"a": 1.0, "b": 1.5}, {"s1": {"a": 0.5, "b": -0.3}}, name="m1"
    )
    m2 = Measurement.from_uncertainties(
        {"a": 11.0, "b": 18.0}, {"a": 0.8, "b": 2.0}, {"s2": {"a": 0.9, "b": 0.3}}, name="m2"
    )
    res = Combiner([m1, m2], correlations={("m1:s1", "m2:s2"): 0.6}).combine()
    assert res.method == "linear solve"
    # total covariance of (a1, b1, a2, b2) and the GLS covariance of (a, b)
    u = np.array([[0.5, 0], [-0.3, 0], [0, 0.9], [0, 0.3]])
    c_src = np.array([[1, 0.6], [0.6, 1]])
    v = np.diag([1.0, 1.5, 0.8, 2.0]) ** 2 + u @ c_src @ u.T
    design = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=float)
    cov = np.linalg.inv(design.T @ np.linalg.inv(v) @ design)
    for level in ({"cl": 0.95}, {"delta_chi2": 1.0}):
        c = res.contour("a", "b", n_points=32, **level)
        assert c.method == "exact" and c.evaluations == 0
        d = np.vstack([c.x - c.center[0], c.y - c.center[1]])
        q = np.einsum("ik,ij,jk->k", d, np.linalg.inv(cov), d)
        np.testing.assert_allclose(q, c.delta_chi2, rtol=1e-9)
    # a source: its covariance with a from the full correlation/constraints of the result
    c = res.contour("a", "m1:s1", delta_chi2=2.0, n_points=16)
    sab = res.full_correlation["a", "m1:s1"] * res.errors["a"] * res.constraints["m1:s1"]
    cov2 = np.array([[res.errors["a"] ** 2, sab], [sab, res.constraints["m1:s1"] ** 2]])
    d = np.vstack([c.x - c.center[0], c.y - c.center[1]])
    np.testing.assert_allclose(np.einsum("ik,ij,jk->k", d, np.linalg.inv(cov2), d), 2.0, rtol=1e-9)


def test_contour_is_json_ready_and_closes(result):
    import json

    c = result.contour("a", "b", n_points=8)
    x, y = c.closed()
    assert (x[0], y[0]) == (x[-1], y[-1]) and len(x) == 9
    data = json.loads(json.dumps(c.to_dict()))
    assert data["x_name"] == "a" and data["y_name"] == "b" and len(data["x"]) == 8
    assert data["delta_chi2"] == pytest.approx(-2 * math.log(1 - 0.6827), rel=1e-12)
    assert data["method"] == "profile"
    assert not c.x.flags.writeable
    assert "Contour('a', 'b'" in repr(c)


def test_bad_requests_are_clear_errors(result):
    with pytest.raises(UnknownName, match=r"'c' is neither .*combined values are a, b"):
        result.contour("a", "c")
    with pytest.raises(UnknownName, match=r"did you mean 'm1:jes1'"):
        result.contour("a", "m1:jes")
    with pytest.raises(InvalidArgument, match="two different quantities"):
        result.contour("a", "a")
    with pytest.raises(InvalidArgument, match="between 0 and 1"):
        result.contour("a", "b", cl=1.5)
    with pytest.raises(InvalidArgument, match="positive"):
        result.contour("a", "b", delta_chi2=-1)
    with pytest.raises(InvalidArgument, match="at least 8"):
        result.contour("a", "b", n_points=3)
    # two sources correlated with ρ = 1 have a line, not a contour
    m1 = Measurement.from_uncertainties({"a": 1.0}, {"a": 0.1}, {"s": {"a": 0.1}}, name="m1")
    m2 = Measurement.from_uncertainties({"a": 1.1}, {"a": 0.1}, {"t": {"a": 0.2}}, name="m2")
    res = Combiner([m1, m2], correlations={("m1:s", "m2:t"): 1.0}).combine()
    with pytest.raises(FitError, match="fully correlated"):
        res.contour("m1:s", "m2:t")
