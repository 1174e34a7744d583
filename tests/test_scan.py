"""Tests of hepcombine.scan: correlation scans.

Reference numbers come from two independent paths: a fresh ``Combiner(...).combine()`` with the
point's assumptions written out in full, and the closed-form BLUE/GLS of two measurements of
one quantity computed here (x̂ = 1ᵀC⁻¹y / 1ᵀC⁻¹1, σ² = 1/1ᵀC⁻¹1, χ² = rᵀC⁻¹r; method.md §4,
which equals the χ² method for orthogonal Neyman inputs).

As Dask tasks (``workers=``/``client=``/``scheduler=``) a scan must equal the in-process scan bit
for bit (every array, reason and nominal number), whatever the chunking: checked on a real
2-worker LocalCluster with the real Convino example (Pearson, Hessian + correlation-matrix +
table inputs, profile intervals) and with two groups whose chunks straddle the groups' boundary
and hold invalid points.
"""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest
from conftest import DATA

from hepcombine import Combiner, Measurement
from hepcombine.exceptions import InvalidArgument, InvalidCorrelation, RunError, UnknownName
from hepcombine.inputs import load_config
from hepcombine.scan import ScanResult, scan_all, scan_correlations
from hepcombine.spec import CombinationSpec, ScanGroup

# two measurements of one quantity, statistical and one systematic source each
Y = np.array([10.0, 12.0])
STAT = np.array([1.0, 1.5])
SYST = np.array([0.8, 1.2])


def _two() -> list[Measurement]:
    return [
        Measurement.from_uncertainties({"x": Y[i]}, {"x": STAT[i]}, {"s": {"x": SYST[i]}}, name=n)
        for i, n in enumerate(("A", "B"))
    ]


def _gls(rho: float) -> tuple[float, float, float]:
    cov = np.diag(STAT**2 + SYST**2)
    cov[0, 1] = cov[1, 0] = rho * SYST[0] * SYST[1]
    w = np.linalg.inv(cov)
    one = np.ones(2)
    var = 1.0 / (one @ w @ one)
    x = var * (one @ w @ Y)
    r = Y - x
    return float(x), float(math.sqrt(var)), float(r @ w @ r)


def test_two_measurements_equal_closed_form_gls() -> None:
    comb = Combiner(_two(), correlations={("A:s", "B:s"): 0.3})
    group = ScanGroup("s", [("A:s", "B:s", -0.5, 1.0)], n_points=7)
    scan = scan_correlations(comb, group)
    assert isinstance(scan, ScanResult)
    assert scan.observables == ("x",)
    assert scan.n_points == 7
    assert np.all(scan.valid)
    assert scan.ndf == 1
    for i, rho in enumerate(np.linspace(-0.5, 1.0, 7)):
        assert scan.rho[i, 0] == pytest.approx(rho, abs=1e-15)
        x, err, chi2 = _gls(rho)
        assert scan.values["x"][i] == pytest.approx(x, rel=1e-10)
        assert scan.errors["x"][i] == pytest.approx(err, rel=1e-10)
        assert scan.chi2[i] == pytest.approx(chi2, rel=1e-8, abs=1e-12)
        # quadratic χ²: the profile interval is value ± error exactly
        assert scan.interval_low["x"][i] == pytest.approx(x - err, rel=1e-10)
        assert scan.interval_high["x"][i] == pytest.approx(x + err, rel=1e-10)
    # the nominal (ρ = 0.3, from the combiner) is reported with its own numbers
    assert scan.nominal_rho.tolist() == [0.3]
    x0, e0, c0 = _gls(0.3)
    assert scan.nominal_values["x"] == pytest.approx(x0, rel=1e-10)
    assert scan.nominal_errors["x"] == pytest.approx(e0, rel=1e-10)
    assert scan.nominal_chi2 == pytest.approx(c0, rel=1e-8)
    assert scan.reasons == ("",) * 7


def test_nominal_argument_overrides_combiner_assumptions() -> None:
    comb = Combiner(_two(), correlations={("A:s", "B:s"): 0.3})
    group = ScanGroup("s", [("A:s", "B:s", 0.0, 1.0)], n_points=3)
    scan = scan_correlations(comb, group, nominal={("A:s", "B:s"): 0.9})
    assert scan.nominal_rho.tolist() == [0.9]
    assert scan.nominal_values["x"] == pytest.approx(_gls(0.9)[0], rel=1e-10)
    # the scanned points do not depend on the nominal value of the scanned pair
    assert scan.values["x"][1] == pytest.approx(_gls(0.5)[0], rel=1e-10)


def _three() -> list[Measurement]:
    """Three measurements of two observables (a, b); sources s, t shared by name."""
    rng = np.random.default_rng(7)
    out = []
    for n in ("A", "B", "C"):
        est = {"a": 5.0 + rng.normal(0, 0.3), "b": 3.0 + rng.normal(0, 0.2)}
        out.append(
            Measurement.from_uncertainties(
                est,
                {"a": 0.4, "b": 0.3},
                {
                    "s": {"a": rng.uniform(0.2, 0.5), "b": rng.uniform(0.1, 0.3)},
                    "t": {"a": rng.uniform(0.1, 0.3), "b": -rng.uniform(0.1, 0.3)},
                },
                stat_correlation=[[1.0, 0.2], [0.2, 1.0]],
                name=n,
            )
        )
    return out


def test_points_equal_fresh_combinations() -> None:
    ms = _three()
    obs = {"a": ["A:a", "B:a", "C:a"], "b": ["A:b", "B:b", "C:b"]}
    nominal = {("A:t", "B:t"): 0.5, ("A:s", "B:s"): 0.7, ("B:s", "C:s"): 0.7}
    comb = Combiner(ms, obs, correlations=nominal)
    group = ScanGroup(
        "s", [("A:s", "B:s", 0.0, 1.0), ("B:s", "C:s", 1.0, 0.2), ("A:s", "C:s", 0.0, 0.6)], 5
    )
    scan = scan_correlations(comb, group)
    assert scan.rho.shape == (5, 3)
    assert scan.nominal_rho.tolist() == [0.7, 0.7, 0.0]
    for i in range(5):
        t = i / 4
        assumed = dict(nominal)
        assumed[("A:s", "B:s")] = t
        assumed[("B:s", "C:s")] = 1.0 + t * (0.2 - 1.0)
        assumed[("A:s", "C:s")] = 0.6 * t
        c = np.eye(3)
        c[0, 1] = c[1, 0] = assumed[("A:s", "B:s")]
        c[1, 2] = c[2, 1] = assumed[("B:s", "C:s")]
        c[0, 2] = c[2, 0] = assumed[("A:s", "C:s")]
        psd = np.linalg.eigvalsh(c)[0] > -1e-12
        # the last point (ρ_AB = 1 but ρ_AC ≠ ρ_BC) is indefinite, the others are not
        assert psd == (i < 4)
        assert scan.valid[i] == psd
        if not psd:
            with pytest.raises(InvalidCorrelation):
                Combiner(ms, obs, correlations=assumed).combine()
            continue
        ref = Combiner(ms, obs, correlations=assumed).combine()
        for o in ("a", "b"):
            assert scan.values[o][i] == pytest.approx(ref.values[o], rel=1e-10)
            assert scan.errors[o][i] == pytest.approx(ref.errors[o], rel=1e-10)
            lo, hi = ref.interval(o)
            assert scan.interval_low[o][i] == pytest.approx(lo, rel=1e-10)
            assert scan.interval_high[o][i] == pytest.approx(hi, rel=1e-10)
        assert scan.chi2[i] == pytest.approx(ref.chi2, rel=1e-8)
    ref0 = Combiner(ms, obs, correlations=nominal).combine()
    for o in ("a", "b"):
        assert scan.nominal_values[o] == pytest.approx(ref0.values[o], rel=1e-10)
        assert scan.nominal_errors[o] == pytest.approx(ref0.errors[o], rel=1e-10)
    assert scan.ndf == ref0.ndf == 4


def test_indefinite_points_are_flagged() -> None:
    # ρ(A,B) = ρ(A,C) = 0.9 fixed; the 3×3 matrix with ρ(B,C) = r is PSD iff
    # det = 1 − 2·0.81 − r² + 2·0.81·r ≥ 0, i.e. 0.62 ≤ r ≤ 1
    ms = _three()
    nominal = {("A:s", "B:s"): 0.9, ("A:s", "C:s"): 0.9, ("B:s", "C:s"): 0.9}
    comb = Combiner(ms, correlations=nominal)
    scan = scan_correlations(comb, ScanGroup("BC", [("B:s", "C:s", 0.0, 1.0)], 6))
    r = scan.rho[:, 0]
    det = 1 - 2 * 0.81 - r**2 + 2 * 0.81 * r
    expected_valid = det >= -1e-12
    assert expected_valid.tolist() == [False, False, False, False, True, True]
    assert scan.valid.tolist() == expected_valid.tolist()
    for i in np.flatnonzero(~scan.valid):
        assert "positive semi-definite" in scan.reasons[i]
        assert math.isnan(scan.values["a"][i]) and math.isnan(scan.chi2[i])
        assert math.isnan(scan.interval_low["b"][i])
    for i in np.flatnonzero(scan.valid):
        assert scan.reasons[i] == ""
        assert math.isfinite(scan.values["a"][i])
    assert "invalid" in scan.to_table()
    d = scan.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["valid"] == expected_valid.tolist()
    assert d["observables"]["a"]["value"][0] is None


def test_n_points_and_progress() -> None:
    comb = Combiner(_two())
    group = ScanGroup("s", [("A:s", "B:s", -1.0, 1.0)])  # Convino's 6 by default
    assert scan_correlations(comb, group).n_points == 6
    calls = []
    scan = scan_correlations(comb, group, n_points=4, progress=lambda i, n: calls.append((i, n)))
    assert scan.rho[:, 0].tolist() == pytest.approx([-1.0, -1 / 3, 1 / 3, 1.0])
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert len(scan.values["x"]) == len(scan.chi2) == 4
    assert scan.nominal_rho.tolist() == [0.0]  # the combiner assumes nothing
    with pytest.raises(ValueError, match="at least 2"):
        scan_correlations(comb, group, n_points=1)


def test_results_are_read_only() -> None:
    scan = scan_correlations(Combiner(_two()), ScanGroup("s", [("A:s", "B:s", 0.0, 1.0)], 3))
    with pytest.raises(ValueError):
        scan.values["x"][0] = 1.0
    with pytest.raises(AttributeError):
        scan.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        scan.values["y"] = scan.values["x"]  # type: ignore[index]


def test_invalid_nominal_and_bad_groups() -> None:
    ms = _three()
    # indefinite nominal (ρ_BC = 0 with ρ_AB = ρ_AC = 0.9): reported, the scan still runs
    nominal = {("A:s", "B:s"): 0.9, ("A:s", "C:s"): 0.9}
    comb = Combiner(ms, correlations=nominal)
    scan = scan_correlations(comb, ScanGroup("BC", [("B:s", "C:s", 0.8, 1.0)], 3))
    assert "positive semi-definite" in scan.nominal_reason
    assert math.isnan(scan.nominal_values["a"]) and math.isnan(scan.nominal_chi2)
    assert scan.valid.all()  # 0.8 … 1.0 is inside the valid range 0.62 … 1
    assert "not available" in scan.to_table()
    with pytest.raises(UnknownName):
        scan_correlations(comb, ScanGroup("x", [("A:s", "Z:s", 0.0, 1.0)]))
    with pytest.raises(InvalidCorrelation, match="twice"):
        scan_correlations(comb, ScanGroup("x", [("A:s", "B:s", 0, 1), ("B:s", "A:s", 0, 1)]))


def test_scan_all_from_spec() -> None:
    ms = _three()
    spec = CombinationSpec(
        measurements={m.name: m for m in ms},
        observables={"a": ["A:a", "B:a", "C:a"], "b": ["A:b", "B:b", "C:b"]},
        correlations={("A:s", "B:s"): 0.5, ("A:t", "C:t"): 0.2},
        scans=[
            ScanGroup("s", [("A:s", "B:s", 0.0, 1.0)], 3),
            ScanGroup("t", [("A:t", "C:t", -0.4, 0.8)], 4),
        ],
    )
    calls = []
    scans = scan_all(spec, progress=lambda i, n: calls.append((i, n)))
    assert [s.name for s in scans] == ["s", "t"]
    assert [s.n_points for s in scans] == [3, 4]
    assert calls[-1] == (7, 7)
    assert scans[1].nominal_rho.tolist() == [0.2]
    # the t scan keeps the nominal s assumption: its point 2 (ρ_t = 0.4) equals a fresh fit
    ref = (
        Combiner(**spec.combiner_arguments())
        .with_correlations({("A:s", "B:s"): 0.5, ("A:t", "C:t"): 0.4})
        .combine()
    )
    assert scans[1].values["a"][2] == pytest.approx(ref.values["a"], rel=1e-10)
    assert scans[0].nominal_values["b"] == pytest.approx(
        Combiner(**spec.combiner_arguments()).combine().values["b"], rel=1e-10
    )
    # overriding the number of points, and a combiner instead of a spec
    comb = Combiner(**spec.combiner_arguments())
    again = scan_all(comb, spec.scans, n_points=2, nominal=spec.correlations)
    assert [s.n_points for s in again] == [2, 2]
    assert again[1].values["a"][1] == pytest.approx(scans[1].values["a"][3], rel=1e-12)
    with pytest.raises(TypeError):
        scan_all(comb)


def test_pearson_intervals_only_on_request() -> None:
    ms = [
        Measurement.from_uncertainties({"x": 100.0}, {"x": 8.0}, {"s": {"x": 5.0}}, name="A"),
        Measurement.from_uncertainties({"x": 120.0}, {"x": 10.0}, {"s": {"x": 6.0}}, name="B"),
    ]
    comb = Combiner(ms, chi2="pearson")
    group = ScanGroup("s", [("A:s", "B:s", 0.0, 1.0)], 2)
    fast = scan_correlations(comb, group)
    assert np.all(np.isnan(fast.interval_low["x"]))
    full = scan_correlations(comb, group, intervals=True)
    ref = comb.with_correlations({("A:s", "B:s"): 1.0}).combine()
    assert full.values["x"][1] == pytest.approx(ref.values["x"], rel=1e-6)
    assert full.chi2[1] == pytest.approx(ref.chi2, rel=1e-5, abs=1e-8)
    lo, hi = ref.interval("x")
    assert full.interval_low["x"][1] == pytest.approx(lo, rel=1e-5)
    assert full.interval_high["x"][1] == pytest.approx(hi, rel=1e-5)
    assert fast.values["x"][1] == pytest.approx(full.values["x"][1], rel=1e-12)


def test_to_table_and_dict() -> None:
    scan = scan_correlations(Combiner(_two()), ScanGroup("lumi", [("A:s", "B:s", 0.0, 1.0)], 3))
    table = scan.to_table()
    x, err, chi2 = _gls(0.5)
    assert "lumi" in table and "A:s ~ B:s" in table
    assert f"{x:.6g}" in table and f"{err:.4g}" in table
    d = json.loads(json.dumps(scan.to_dict(), allow_nan=False))
    assert d["pairs"] == [{"a": "A:s", "b": "B:s", "start": 0.0, "stop": 1.0, "nominal": 0.0}]
    assert d["rho"] == [[0.0], [0.5], [1.0]]
    assert d["observables"]["x"]["value"][1] == pytest.approx(x, rel=1e-10)
    assert d["chi2"][1] == pytest.approx(chi2, rel=1e-8)


# --------------------------------------------------------------------------- as Dask tasks
def assert_bit_identical(a: ScanResult, b: ScanResult) -> None:
    """Every number of two scans equal in all bits (NaN where NaN), every text equal."""
    assert (a.name, a.pairs, a.observables, a.ndf) == (b.name, b.pairs, b.observables, b.ndf)
    assert (a.reasons, a.nominal_reason) == (b.reasons, b.nominal_reason)
    arrays = [(a.rho, b.rho), (a.nominal_rho, b.nominal_rho), (a.chi2, b.chi2)]
    arrays.append((a.valid, b.valid))
    for f in ("values", "errors", "interval_low", "interval_high"):
        arrays += [(getattr(a, f)[o], getattr(b, f)[o]) for o in a.observables]
    for x, y in arrays:
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes()
    # repr of a float is exact (the shortest string that reads back as the same bits)
    nominal_a = [a.nominal_values, a.nominal_errors, a.nominal_interval, a.nominal_chi2]
    nominal_b = [b.nominal_values, b.nominal_errors, b.nominal_interval, b.nominal_chi2]
    assert repr(nominal_a) == repr(nominal_b)


def _two_groups() -> tuple[Combiner, list[ScanGroup], dict]:
    """Two groups (5 + 4 points); the first has indefinite points (ρ_BC < 0.62, see
    test_indefinite_points_are_flagged)."""
    nominal = {("A:s", "B:s"): 0.9, ("A:s", "C:s"): 0.9, ("B:s", "C:s"): 0.9}
    groups = [
        ScanGroup("BC", [("B:s", "C:s", 0.0, 1.0)], 5),
        ScanGroup("t", [("A:t", "B:t", -0.5, 0.5), ("A:t", "C:t", 0.0, 0.6)], 4),
    ]
    return Combiner(_three(), correlations=nominal), groups, nominal


def test_dask_tasks_equal_the_in_process_scan_bit_for_bit(dask_client) -> None:
    spec = load_config(DATA / "convino_example" / "combination.txt")
    assert spec.scans and spec.chi2_definition(None) == "pearson"  # intervals are non-trivial
    reference = scan_all(spec, n_points=5, intervals=True)
    assert all(s.valid.all() and np.isfinite(s.interval_low["xsec"]).all() for s in reference)
    comb, groups, nominal = _two_groups()
    ref_two = scan_all(comb, groups, nominal=nominal)
    assert ref_two[0].valid.tolist() == [False, False, False, True, True]

    client = dask_client
    for chunk_size in (None, 1, 2, 5):
        scans = scan_all(spec, n_points=5, intervals=True, client=client, chunk_size=chunk_size)
        assert len(scans) == len(reference)
        for got, ref in zip(scans, reference, strict=True):
            assert_bit_identical(got, ref)
    # chunks of 2 and 3 straddle the boundary between the groups (points 4 | 5)
    for chunk_size in (2, 3, 9):
        calls: list[tuple[int, int]] = []
        scans = scan_all(
            comb,
            groups,
            nominal=nominal,
            client=client,
            chunk_size=chunk_size,
            progress=lambda i, n, calls=calls: calls.append((i, n)),
        )
        for got, ref in zip(scans, ref_two, strict=True):
            assert_bit_identical(got, ref)
        assert calls[-1] == (9, 9) and len(calls) == -(-9 // chunk_size)
    one = scan_correlations(comb, groups[1], nominal=nominal, client=client, chunk_size=3)
    assert_bit_identical(one, ref_two[1])


def test_dask_arguments_are_checked_before_any_work(monkeypatch) -> None:
    comb, groups, nominal = _two_groups()
    unknown = [ScanGroup("x", [("A:s", "Z:s", 0.0, 1.0)])]  # would be an UnknownName later
    with pytest.raises(InvalidArgument, match="chunk_size only applies to a scan run on Dask"):
        scan_all(comb, unknown, chunk_size=2)
    cases = [
        ({"workers": 0}, "workers must be a positive integer, not 0"),
        ({"chunk_size": 0, "workers": 1}, "chunk_size must be a positive integer, not 0"),
        ({"workers": 2, "scheduler": "tcp://127.0.0.1:1"}, "give at most one of workers="),
        ({"scheduler": 8786}, "scheduler must be an address"),
    ]
    for kwargs, message in cases:
        with pytest.raises(RunError, match=message):
            scan_all(comb, unknown, **kwargs)
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if Dask were not installed
    for kwargs in ({"workers": 2}, {"scheduler": "tcp://127.0.0.1:8786"}):
        with pytest.raises(RunError) as info:
            scan_correlations(comb, unknown[0], **kwargs)
        assert "\n" not in str(info.value)
        assert "need dask.distributed: python -m pip install 'hepcombine[dask]'" in str(info.value)
    # without the arguments the scan runs in-process and never imports Dask
    assert scan_all(comb, groups, nominal=nominal)[1].valid.all()
