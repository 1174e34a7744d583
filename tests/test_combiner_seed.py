"""The seed combination (ATLAS-CONF-2014-054, ATLAS+CMS σ_tt at 8 TeV, eμ) with the χ² engine.

Reference: the BLUE result with these inputs, data/README (from the seed notebook):
241.46454 pb, weights 0.72487 / 0.27513, χ² = 0.05403 for 1 dof, p = 0.8162; total
uncertainty 8.53 pb, Stat 1.42, Lumi 5.10. With orthogonal inputs and the Neyman χ² the
method is BLUE exactly (method.md §4), ±1 correlations included.
"""

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from hepcombine import Combiner, Measurement

DATA = Path(__file__).parent.parent / "data"


def seed_inputs():
    rows = list(csv.DictReader((DATA / "lhc_ttbar_xsec_emu_8tev.csv").read_text().splitlines()))
    corr = list(
        csv.DictReader((DATA / "lhc_ttbar_xsec_emu_8tev_corr.csv").read_text().splitlines())
    )
    measurements = {}
    for r in rows:
        obs = r["observable"]
        sources = [k for k in r if k not in ("measurement", "observable", "value", "Stat")]
        measurements[r["measurement"]] = Measurement.from_uncertainties(
            {obs: float(r["value"])},
            {obs: float(r["Stat"])},
            {s: {obs: float(r[s])} for s in sources},
        )
    correlations = {
        (f"{c['measurement_a']}:{c['source']}", f"{c['measurement_b']}:{c['source']}"): float(
            c["rho"]
        )
        for c in corr
        if c["source"] != "Stat"
    }
    return measurements, correlations, rows, corr


@pytest.fixture(scope="module")
def seed():
    measurements, correlations, _, _ = seed_inputs()
    return Combiner(measurements, correlations=correlations).combine()


def test_seed_reproduces_blue(seed):
    assert seed.values["sigma_tt"] == pytest.approx(241.46454, rel=1e-7)
    assert seed.errors["sigma_tt"] == pytest.approx(8.5325, abs=5e-4)
    assert seed.chi2 == pytest.approx(0.05403, abs=5e-6)
    assert seed.ndf == 1
    assert seed.pvalue == pytest.approx(0.8162, abs=5e-5)
    assert seed.weights["sigma_tt", "ATLAS:sigma_tt"] == pytest.approx(0.72487, abs=5e-6)
    assert seed.weights["sigma_tt", "CMS:sigma_tt"] == pytest.approx(0.27513, abs=5e-6)
    assert seed.method == "linear solve"
    assert seed.interval("sigma_tt") == pytest.approx(
        (241.46454 - 8.53254, 241.46454 + 8.53254), abs=1e-4
    )


def test_seed_matches_textbook_blue_built_here(seed):
    """Independent closed form: BLUE with the total covariance built from the table."""
    _, _, rows, corr = seed_inputs()
    sources = [k for k in rows[0] if k not in ("measurement", "observable", "value")]
    rho = {c["source"]: float(c["rho"]) for c in corr}
    y = np.array([float(r["value"]) for r in rows])
    cov = np.zeros((2, 2))
    for s in sources:
        u = np.array([float(r[s]) for r in rows])
        c = np.array([[1.0, rho[s]], [rho[s], 1.0]])
        cov += c * np.outer(u, u)
    ci = np.linalg.inv(cov)
    one = np.ones(2)
    var = 1.0 / (one @ ci @ one)
    w = var * ci @ one
    x = w @ y
    assert seed.values["sigma_tt"] == pytest.approx(x, rel=1e-12)
    assert seed.errors["sigma_tt"] == pytest.approx(math.sqrt(var), rel=1e-10)
    assert seed.chi2 == pytest.approx((y - x) @ ci @ (y - x), rel=1e-9)
    # the per-source BLUE breakdown: V_k = wᵀ C_k w
    for s in sources:
        u = np.array([float(r[s]) for r in rows])
        c = np.array([[1.0, rho[s]], [rho[s], 1.0]])
        vk = w @ (c * np.outer(u, u)) @ w
        got = seed.breakdown["stat" if s == "Stat" else s]["sigma_tt"]
        assert got == pytest.approx(math.copysign(math.sqrt(abs(vk)), vk), rel=1e-9, abs=1e-12)


def test_seed_breakdown_published_table(seed):
    """Rounded per-source uncertainties of the seed notebook's combination column."""
    expected = {"stat": 1.42, "Trig": 1.03, "LepS": 0.87, "LepI": 1.65, "JetR": 1.20, "Lumi": 5.10}
    for k, v in expected.items():
        assert seed.breakdown[k]["sigma_tt"] == pytest.approx(v, abs=0.006)
    total = sum(math.copysign(v["sigma_tt"] ** 2, v["sigma_tt"]) for v in seed.breakdown.values())
    assert math.sqrt(total) == pytest.approx(seed.errors["sigma_tt"], rel=1e-12)
    assert "correlations between groups" not in seed.breakdown


def test_exact_unit_correlation_is_not_clipped():
    """Two measurements sharing one source with ρ = +1 exactly: the closed form has the shared
    source entering fully coherently; Convino's 0.999 clipping would differ at ~1e-4."""
    a = Measurement.from_uncertainties({"x": 10.0}, {"x": 1.0}, {"s": {"x": 2.0}}, name="A")
    b = Measurement.from_uncertainties({"x": 12.0}, {"x": 1.5}, {"s": {"x": 1.0}}, name="B")
    res = Combiner([a, b], correlations={("A:s", "B:s"): 1.0}).combine()
    cov = np.diag([1.0, 1.5**2]) + np.outer([2.0, 1.0], [2.0, 1.0])
    ci = np.linalg.inv(cov)
    var = 1 / ci.sum()
    x = var * (ci @ [10.0, 12.0]).sum()
    assert res.values["x"] == pytest.approx(x, rel=1e-13)
    assert res.errors["x"] == pytest.approx(math.sqrt(var), rel=1e-12)
    # with 0.999 the value moves by much more than the tolerance above
    clipped = Combiner([a, b], correlations={("A:s", "B:s"): 0.999}).combine()
    assert abs(clipped.values["x"] - x) > 1e-6


def test_anticorrelation_minus_one_exact():
    a = Measurement.from_uncertainties({"x": 10.0}, {"x": 1.0}, {"s": {"x": 2.0}}, name="A")
    b = Measurement.from_uncertainties({"x": 12.0}, {"x": 1.5}, {"t": {"x": 1.0}}, name="B")
    res = Combiner([a, b], correlations={("s", "t"): -1.0}).combine()
    cov = np.diag([1.0, 1.5**2]) + np.outer([2.0, -1.0], [2.0, -1.0])
    ci = np.linalg.inv(cov)
    var = 1 / ci.sum()
    assert res.values["x"] == pytest.approx(var * (ci @ [10.0, 12.0]).sum(), rel=1e-13)
    assert res.errors["x"] == pytest.approx(math.sqrt(var), rel=1e-12)
    # the two sources are one parameter: their pulls are exactly opposite
    assert res.pulls["A:s"] == pytest.approx(-res.pulls["B:t"], abs=1e-12)
