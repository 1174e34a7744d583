"""Estimates of linear combinations of combined values (``Combiner(linear=...)``, issue 20).

Every number is compared with a reference written here: the generalised least squares
x = (AᵀV⁻¹A)⁻¹AᵀV⁻¹y with the design (merge) matrix A written out in the test, or — for
Hessian inputs with pulled nuisance parameters — the combined χ² written as one quadratic form
in (x̄, λ) and solved by numpy.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import gls, minimise_chi2, profile_interval

from hepcombine import Combiner, Measurement
from hepcombine.exceptions import HepCombineError, InvalidArgument, UnknownName

# four combined bins of widths 1, 1, 2, 4; "C" measures the width-weighted means of
# (b0, b1) and (b2, b3), "T" the total Σ w_i x_i
WIDTHS = np.array([1.0, 1.0, 2.0, 4.0])
BINS = ["b0", "b1", "b2", "b3"]


def _fine() -> Measurement:
    return Measurement.from_uncertainties(
        {"b0": 10.2, "b1": 9.1, "b2": 6.3, "b3": 3.2},
        {"b0": 0.8, "b1": 0.7, "b2": 0.5, "b3": 0.4},
        {
            "lumi": {"b0": 0.3, "b1": 0.27, "b2": 0.19, "b3": 0.1},
            "shape": {"b0": -0.2, "b1": 0.1, "b2": 0.3, "b3": 0.25},
        },
        name="F",
    )


def _coarse() -> Measurement:
    return Measurement.from_uncertainties(
        {"c01": 9.9, "c23": 4.1, "tot": 45.0},
        {"c01": 0.5, "c23": 0.3, "tot": 1.5},
        {
            "lumi": {"c01": 0.35, "c23": 0.15, "tot": 1.4},
            "shape": {"c01": 0.2, "c23": -0.1, "tot": 0.2},
        },
        stat_correlation=[[1.0, 0.2, 0.5], [0.2, 1.0, 0.4], [0.5, 0.4, 1.0]],
        name="C",
    )


LINEAR = {
    "c01": {"coefficients": {"b0": 0.5, "b1": 0.5}, "measured_by": ["C:c01"], "report": False},
    "c23": {"coefficients": {"b2": 1 / 3, "b3": 2 / 3}, "measured_by": ["C:c23"]},
    "total": {"coefficients": dict(zip(BINS, WIDTHS, strict=True)), "measured_by": ["C:tot"]},
}
# the same maps written as a matrix over (b0, b1, b2, b3): rows c01, c23, tot
A_COARSE = np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 1 / 3, 2 / 3], [1.0, 1.0, 2.0, 4.0]])
CORR = {("F:lumi", "C:lumi"): 1.0, ("F:shape", "C:shape"): 0.5}


def _total_covariance(ms: list[Measurement], corr: dict[tuple[int, int], float]) -> np.ndarray:
    """V = S + U C Uᵀ over all estimates (measurements in order), C the source correlation."""
    n_e = sum(len(m.estimates) for m in ms)
    n_s = sum(len(m.source_names) for m in ms)
    S = np.zeros((n_e, n_e))
    U = np.zeros((n_e, n_s))
    e = s = 0
    for m in ms:
        k, j = len(m.estimates), len(m.source_names)
        S[e : e + k, e : e + k] = np.linalg.inv(m.stat_information)
        U[e : e + k, s : s + j] = m.shifts
        e, s = e + k, s + j
    C = np.eye(n_s)
    for (a, b), rho in corr.items():
        C[a, b] = C[b, a] = rho
    return S + U @ C @ U.T


def _reference():
    F, C = _fine(), _coarse()
    y = np.concatenate([F.estimates, C.estimates])
    A = np.vstack([np.eye(4), A_COARSE])
    # sources in order F:lumi, F:shape, C:lumi, C:shape
    V = _total_covariance([F, C], {(0, 2): 1.0, (1, 3): 0.5})
    return gls(y, A, V)


def test_linear_map_equals_gls_with_correlated_sources() -> None:
    r = Combiner(
        [_fine(), _coarse()],
        {b: [f"F:{b}"] for b in BINS},
        CORR,
        linear=LINEAR,
    ).combine()
    x, cov, _ = _reference()
    assert r.method == "linear solve"
    assert r.observables == ("b0", "b1", "b2", "b3", "c23", "total")  # c01: report=False
    got = np.array([r.values[b] for b in BINS])
    np.testing.assert_allclose(got, x, rtol=1e-10)
    np.testing.assert_allclose(r.covariance.sub(BINS).matrix, cov, rtol=1e-9, atol=1e-12)
    # the reported total and c23: value, error and covariance with every bin, T x and T V Tᵀ
    T = np.vstack([np.eye(4), A_COARSE[1:]])
    np.testing.assert_allclose([r.values[q] for q in r.observables], T @ x, rtol=1e-10)
    np.testing.assert_allclose(r.covariance.matrix, T @ cov @ T.T, rtol=1e-9, atol=1e-12)
    assert r.interval_status["total"] == "exact"
    lo, hi = r.intervals["total"]
    e = np.sqrt(WIDTHS @ cov @ WIDTHS)
    np.testing.assert_allclose([lo, hi], [WIDTHS @ x - e, WIDTHS @ x + e], rtol=1e-10)
    # χ²: the GLS χ² of the same data
    F, C = _fine(), _coarse()
    y = np.concatenate([F.estimates, C.estimates])
    A = np.vstack([np.eye(4), A_COARSE])
    V = _total_covariance([F, C], {(0, 2): 1.0, (1, 3): 0.5})
    res = y - A @ x
    np.testing.assert_allclose(r.chi2, res @ np.linalg.solve(V, res), rtol=1e-9)
    assert r.ndf == 7 - 4


def test_breakdown_and_weights_of_a_reported_quantity_are_its_linear_combination() -> None:
    r = Combiner([_fine(), _coarse()], {b: [f"F:{b}"] for b in BINS}, CORR, linear=LINEAR).combine()
    _, _, lam = _reference()  # x = Λᵀ y: weights of every estimate
    w = r.weights
    got = np.array(
        [[w.matrix[w.rows.index(q), w.columns.index(c)] for c in w.columns] for q in BINS]
    )
    np.testing.assert_allclose(got, lam.T, rtol=1e-8, atol=1e-12)
    row_total = w.matrix[w.rows.index("total")]
    np.testing.assert_allclose(row_total, WIDTHS @ lam.T, rtol=1e-8, atol=1e-12)
    # the breakdown adds up in quadrature to the total error of the total
    b = r.breakdown
    col = b.columns.index("total")
    np.testing.assert_allclose(
        np.sum(np.sign(b.matrix[:, col]) * b.matrix[:, col] ** 2), r.errors["total"] ** 2, rtol=1e-9
    )


def _hessian_input() -> tuple[Measurement, np.ndarray, list[str]]:
    """A Hessian measurement of (b1, b2 + b3) with two pulled sources, 'H:lumi' correlated
    with F's lumi."""
    names = ["s1", "s23", "lumi", "jes"]
    rng = np.random.default_rng(7)
    B = rng.normal(size=(4, 4))
    h = B @ B.T + np.diag([4.0, 2.0, 1.5, 1.2])
    h[2:, 2:] += np.eye(2)  # the unit priors of the sources
    m = Measurement.from_hessian(
        h, names, {"s1": 9.4, "s23": 9.0}, nuisance_values={"lumi": 0.4, "jes": -0.7}, name="H"
    )
    return m, h, names


def test_pulled_hessian_input_with_a_sum_equals_the_written_quadratic_form() -> None:
    F = _fine()
    H, h, _ = _hessian_input()
    linear = {"s23": {"sum_of": ["b2", "b3"], "measured_by": ["H:s23"]}}
    obs = {"b0": ["F:b0"], "b1": ["F:b1", "H:s1"], "b2": ["F:b2"], "b3": ["F:b3"]}
    corr = {("F:lumi", "H:lumi"): 0.8}
    r = Combiner([F, H], obs, corr, linear=linear).combine()
    # the χ² in z = (b0..b3, λ_F:lumi, λ_F:shape, λ_H:lumi, λ_H:jes), written out:
    #   F: ‖x − U_F λ_F − x̂_F‖² / σ²        (shift u: the +1σ result x̂ + u, prediction x − Uλ)
    #   H: (θ − θ̂)ᵀ h (θ − θ̂) − λ_Hᵀλ_H,   θ = (b1, b2 + b3, λ_H), θ̂ = (x̂_H, λ̂_H)
    #   prior λᵀ C⁻¹ λ
    n = 8
    Q = np.zeros((n, n))
    b = np.zeros(n)
    S_inv = F.stat_information
    PF = np.zeros((4, n))
    PF[:, :4] = np.eye(4)
    PF[:, 4:6] = -F.shifts
    Q += PF.T @ S_inv @ PF
    b += PF.T @ S_inv @ F.estimates
    PH = np.zeros((4, n))
    PH[0, 1] = 1.0
    PH[1, 2] = PH[1, 3] = 1.0
    PH[2, 6] = PH[3, 7] = 1.0
    theta_hat = np.array([9.4, 9.0, 0.4, -0.7])
    Q += PH.T @ h @ PH
    b += PH.T @ h @ theta_hat
    E = np.zeros((2, n))
    E[0, 6] = E[1, 7] = 1.0
    Q -= E.T @ E
    C = np.eye(4)
    C[0, 2] = C[2, 0] = 0.8
    El = np.zeros((4, n))
    El[:, 4:] = np.eye(4)
    Q += El.T @ np.linalg.inv(C) @ El
    z = np.linalg.solve(Q, b)
    cov = np.linalg.inv(Q)
    assert r.method == "linear solve"
    np.testing.assert_allclose([r.values[k] for k in BINS], z[:4], rtol=1e-10)
    np.testing.assert_allclose(r.covariance.sub(BINS).matrix, cov[:4, :4], rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(r.values["s23"], z[2] + z[3], rtol=1e-10)
    np.testing.assert_allclose(r.errors["s23"] ** 2, cov[2:4, 2:4].sum(), rtol=1e-9)
    # pulls of H's sources
    np.testing.assert_allclose([r.pulls["H:lumi"], r.pulls["H:jes"]], z[6:8], rtol=1e-9)


def test_pearson_with_a_sum_matches_the_written_chi2_and_its_profile() -> None:
    """Non-quadratic χ² (Pearson, a relative source): the minimum and the profile interval of
    the reported total equal those of the χ² written here, minimised by scipy."""
    F = Measurement.from_uncertainties(
        {"b0": 10.0, "b1": 8.0},
        {"b0": 1.0, "b1": 0.9},
        {"eff": {"b0": 0.5, "b1": 0.4}},
        relative=["eff"],
        name="F",
    )
    T = Measurement.from_uncertainties({"tot": 19.5}, {"tot": 1.2}, name="T")
    linear = {"tot": {"sum_of": ["b0", "b1"], "measured_by": ["T:tot"]}}
    r = Combiner([F, T], {"b0": ["F:b0"], "b1": ["F:b1"]}, chi2="pearson", linear=linear).combine()

    def chi2(p: np.ndarray) -> float:
        b0, b1, lam = p
        out = lam * lam
        for x, xh, s, u in ((b0, 10.0, 1.0, 0.5), (b1, 8.0, 0.9, 0.4)):
            X = x * (1.0 - u * lam / xh)
            out += xh / X * (X - xh) ** 2 / s**2
        X = b0 + b1
        return out + 19.5 / X * (X - 19.5) ** 2 / 1.2**2

    best = minimise_chi2(chi2, [10.0, 8.0, 0.0])
    np.testing.assert_allclose([r.values["b0"], r.values["b1"]], best.x[:2], rtol=1e-6)
    np.testing.assert_allclose(r.chi2, best.fun, rtol=1e-7, atol=1e-10)

    # the profile interval of the total: the χ² in (total, b1, λ), b0 = total − b1
    def in_total(p: np.ndarray) -> float:
        return chi2(np.array([p[0] - p[1], p[1], p[2]]))

    best_t = minimise_chi2(in_total, [18.0, 8.0, 0.0])
    lo, hi = profile_interval(in_total, best_t, 0, 5.0)
    assert r.interval_status["tot"] == "profile"
    np.testing.assert_allclose(r.intervals["tot"], (lo, hi), rtol=1e-6)


def test_a_wrong_merge_matrix_in_the_reference_fails() -> None:
    """The comparison can fail: with c23's weights swapped the reference is another GLS."""
    r = Combiner([_fine(), _coarse()], {b: [f"F:{b}"] for b in BINS}, CORR, linear=LINEAR).combine()
    F, C = _fine(), _coarse()
    y = np.concatenate([F.estimates, C.estimates])
    wrong = A_COARSE.copy()
    wrong[1, 2:] = [2 / 3, 1 / 3]
    V = _total_covariance([F, C], {(0, 2): 1.0, (1, 3): 0.5})
    x, _, _ = gls(y, np.vstack([np.eye(4), wrong]), V)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose([r.values[b] for b in BINS], x, rtol=1e-6)


def test_an_observable_measured_only_through_sums() -> None:
    """b1 is measured by nobody directly: b0 alone and b0 + b1; the GLS determines it."""
    A = Measurement.from_uncertainties({"b0": 4.0}, {"b0": 0.5}, name="A")
    B = Measurement.from_uncertainties({"s": 10.0}, {"s": 0.8}, name="B")
    r = Combiner(
        [A, B],
        {"b0": ["A:b0"], "b1": []},
        linear={"s": {"sum_of": ["b0", "b1"], "measured_by": ["B:s"], "report": False}},
    ).combine()
    np.testing.assert_allclose(r.values["b1"], 6.0, rtol=1e-12)
    np.testing.assert_allclose(r.errors["b1"], np.hypot(0.5, 0.8), rtol=1e-12)


@pytest.mark.parametrize(
    ("linear", "observables", "exc", "words"),
    [
        ({"t": {"sum_of": ["b0", "bx"], "measured_by": ["B:s"]}}, None, UnknownName, "'bx'"),
        (
            {"t": {"sum_of": ["b0"], "coefficients": {"b0": 1}}},
            None,
            InvalidArgument,
            "exactly one",
        ),
        ({"t": {"sum_of": "b0"}}, None, InvalidArgument, "non-empty list"),
        ({"t": {"coefficients": {"b0": "x"}}}, None, InvalidArgument, "not a number"),
        ({"t": {"sum_of": ["b0"], "by": []}}, None, InvalidArgument, "unknown keys"),
        ({"b0": {"sum_of": ["b0"], "measured_by": ["B:s"]}}, None, HepCombineError, "rename"),
        (
            {"t": {"sum_of": ["b0"], "measured_by": ["B:s"]}},
            {"b0": ["A:b0", "B:s"]},
            HepCombineError,
            "map it to one of them",
        ),
        ({"t": 3}, None, InvalidArgument, "give a mapping"),
    ],
)
def test_bad_linear_quantities_are_named_errors(linear, observables, exc, words) -> None:
    A = Measurement.from_uncertainties({"b0": 4.0}, {"b0": 0.5}, name="A")
    B = Measurement.from_uncertainties({"s": 10.0}, {"s": 0.8}, name="B")
    with pytest.raises(exc, match=words):
        Combiner([A, B], observables, linear=linear)


def test_options_carry_the_linear_quantities() -> None:
    c = Combiner([_fine(), _coarse()], {b: [f"F:{b}"] for b in BINS}, CORR, linear=LINEAR)
    assert set(c.options()["linear"]) == set(LINEAR)
    r1 = c.combine()
    r2 = c.with_chi2("neyman").combine()
    assert r1.values == r2.values


def test_blue_with_linear_inputs_is_the_same_gls() -> None:
    """BLUE with the coarse bins and the total as linear inputs: the GLS of the reference,
    and the same numbers as the χ² combination."""
    from hepcombine.blue import Blue

    F, C = _fine(), _coarse()
    rows = {}
    for m in (F, C):
        stat = np.sqrt(np.diag(np.linalg.inv(m.stat_information)))
        for i, e in enumerate(m.estimate_names):
            rows[f"{m.name}:{e}"] = {
                "value": float(m.estimates[i]),
                "stat": float(stat[i]),
                "lumi": float(m.shifts[i, 0]),
                "shape": float(m.shifts[i, 1]),
            }
    names = list(rows)
    n = len(names)
    stat_rho = np.eye(n)
    stat_rho[4:, 4:] = [[1.0, 0.2, 0.5], [0.2, 1.0, 0.4], [0.5, 0.4, 1.0]]
    shape_rho = np.full((n, n), 0.5)
    shape_rho[:4, :4] = shape_rho[4:, 4:] = 1.0
    linear = {LINEAR[q]["measured_by"][0]: LINEAR[q]["coefficients"] for q in LINEAR}
    b = Blue(
        rows,
        {"stat": stat_rho, "lumi": 1.0, "shape": shape_rho},
        observables={o: [f"F:{o}"] for o in BINS},
        linear=linear,
    )
    x, cov, _ = _reference()
    np.testing.assert_allclose([b.result.values[o] for o in BINS], x, rtol=1e-10)
    np.testing.assert_allclose(b.result.covariance.sub(BINS).matrix, cov, rtol=1e-9, atol=1e-12)
    assert b.result.ndf == 3
    r = Combiner([_fine(), _coarse()], {o: [f"F:{o}"] for o in BINS}, CORR, linear=LINEAR).combine()
    np.testing.assert_allclose(b.result.chi2, r.chi2, rtol=1e-9)
    assert all(np.isfinite(b.pulls))
    assert ("F:b0", "C:c01") not in b.pairwise_compatibility()
