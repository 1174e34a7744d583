"""compatibility() as a user meets it: the scale factor and the S-scaled combination (against
the χ² divided by S², written and profiled here), combiner_without, and bad input (an unknown
measurement, nothing left, values only one measurement measures, no degrees of freedom, a
result that carries no χ²) named in an error or a flag, never a failed run."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from conftest import DATA, minimise_chi2, profile_interval

from hepcombine import Combiner, InvalidArgument, InvalidMeasurement, Measurement, UnknownName
from hepcombine import compatibility as top_level
from hepcombine.compat import combiner_without, compatibility, scaled_combiner
from hepcombine.inputs import load_config

from .test_nonquadratic import ALL, chi2_of


def two_bins():
    a = Measurement.from_uncertainties(
        {"x": 10.0, "y": 20.0}, {"x": 0.5, "y": 0.6}, {"lumi": {"x": 0.3, "y": 0.6}}, name="A"
    )
    b = Measurement.from_uncertainties({"x": 12.0}, {"x": 0.7}, {"lumi": {"x": 0.2}}, name="B")
    c = Measurement.from_uncertainties({"x": 9.0, "z": 5.0}, {"x": 0.9, "z": 0.4}, {}, name="C")
    return Combiner([a, b, c], correlations={("A:lumi", "B:lumi"): 1.0})


# --------------------------------------------------------------------------- the scale factor
def test_scale_factor_and_the_scaled_quadratic_combination():
    comb = two_bins()
    diag = compatibility(comb, scale=True)
    assert diag.ndf == 2  # 5 estimates, 3 values
    s = math.sqrt(diag.chi2 / diag.ndf)
    assert diag.scale_factor == pytest.approx(s)
    assert s > 1  # the inputs disagree: 10 ± 0.6, 12 ± 0.7, 9 ± 0.9
    sc = diag.scaled
    for o in ("x", "y", "z"):
        assert sc.values[o] == pytest.approx(diag.combination.values[o], rel=1e-12)
        assert sc.errors[o] == pytest.approx(s * diag.combination.errors[o], rel=1e-10)
    np.testing.assert_allclose(sc.covariance.matrix, s**2 * diag.combination.covariance.matrix)
    assert sc.chi2 == pytest.approx(diag.ndf, rel=1e-10)  # χ²/S²


def test_no_scaling_below_one_and_without_degrees_of_freedom():
    diag = compatibility(load_config(DATA / "ttbar_8tev_emu.yaml"), scale=True)
    assert diag.scale_factor < 1 and diag.scaled is diag.combination
    assert any("≤ 1" in n for n in diag.notes)
    one = compatibility(Combiner([two_bins().measurements["A"]]), scale=True)
    assert one.ndf == 0 and math.isnan(one.scale_factor) and one.scaled is None
    assert any("S is undefined" in n for n in one.notes)


def test_scaled_non_quadratic_combination_is_the_chi2_over_s_squared():
    """Pearson, relative, kinked and pulled sources (data/convino_example): the scaled
    combination's value is the minimum of the written χ², its interval the Δχ² = S² one."""
    comb = load_config(DATA / "convino_example" / "combination.txt").combiner()
    factor = 1.7  # any S > 1
    res = scaled_combiner(comb, factor).combine()
    chi2 = chi2_of(ALL)
    best = minimise_chi2(chi2, [239.0, 0, 0, 0, 0])
    assert res.values["xsec"] == pytest.approx(best.x[0], abs=2e-4)
    assert res.chi2 == pytest.approx(best.fun / factor**2, rel=1e-6)

    def scaled(p):
        return chi2(p) / factor**2

    lo, hi = profile_interval(scaled, minimise_chi2(scaled, best.x), 0, 30.0)
    assert res.intervals["xsec"] == pytest.approx((lo, hi), abs=3e-3)


def test_scaled_lognormal_source_keeps_its_factor_positive():
    m = Measurement.from_uncertainties(
        {"x": 10.0}, {"x": 0.5}, {"eff": {"x": (4.0, -6.0)}}, lognormal={"eff"}, name="A"
    )
    n = Measurement.from_uncertainties({"x": 13.0}, {"x": 0.5}, {}, name="B")
    comb = Combiner([m, n])
    sc = scaled_combiner(comb, 2.0)
    up, down = sc.measurements["A"].shifts_up[0, 0], sc.measurements["A"].shifts_down[0, 0]
    assert up == pytest.approx(10 * (1.4**2 - 1))  # κ → κ²
    assert down == pytest.approx(10 * (0.4**2 - 1))
    nominal = comb.combine()
    assert sc.combine().values["x"] == pytest.approx(nominal.values["x"], rel=1e-7)
    with pytest.raises(InvalidArgument, match="positive"):
        scaled_combiner(comb, -1.0)


# --------------------------------------------------------------------------- leave-one-out
def test_combiner_without_keeps_every_option():
    """Every argument of Combiner reaches the combination without a measurement (a new option
    of Combiner must be carried over by combiner_without: this test names them)."""
    known = {"self", "measurements", "observables", "correlations", "chi2", "groups",
             "asymmetry", "repair", "minimiser", "errors_on_errors", "bartlett",
             "linear"}  # fmt: skip
    assert set(inspect.signature(Combiner.__init__).parameters) == known
    comb = load_config(DATA / "convino_example" / "combination.txt").combiner(
        asymmetry="smooth", repair=True
    )
    sub = combiner_without(comb, ["fit_b"])
    assert list(sub.measurements) == ["fit_a", "table_c"]
    assert (sub.chi2, sub.asymmetry, sub.repair, sub.minimiser) == (
        comb.chi2, comb.asymmetry, comb.repair, comb.minimiser
    )  # fmt: skip
    src = sub.sources
    pairs = {(src[i], src[j]): r for (i, j), r in sub.correlations.items()}
    assert pairs == {("fit_a:lumi_a", "table_c:lumi_c"): 1.0}  # jes_a ~ jes_b is gone
    assert set(sub.groups) == {"luminosity", "jet_energy_scale"}


def test_combiner_without_keeps_the_errors_on_errors_of_the_kept_sources():
    """An ε entry whose sources all leave with the measurement goes; a pattern keeps naming
    what is left; the leave-one-out combination equals the one with ε given afresh."""
    eps = {"table_c:jes_c": 0.3, "fit_?:jes_?": 0.4}
    spec = load_config(DATA / "convino_example" / "combination.txt")
    comb = spec.combiner(errors_on_errors=eps)
    sub = combiner_without(comb, ["table_c"])
    assert sub.errors_on_errors == {"fit_?:jes_?": 0.4}
    afresh = combiner_without(spec.combiner(), ["table_c"])
    direct = afresh.with_errors_on_errors({"fit_?:jes_?": 0.4}).combine().values
    plain = afresh.combine().values
    got = sub.combine().values
    assert got["xsec"] == pytest.approx(direct["xsec"], rel=1e-10)
    assert abs(got["xsec"] - plain["xsec"]) > 1e-6 * abs(plain["xsec"])  # ε matters here
    # without fit_b the pattern names jes_a alone (its partner jes_b is gone with fit_b)
    assert combiner_without(comb, ["fit_b"]).errors_on_errors == eps


def test_the_other_chi2_definition_keeps_every_option():
    from hepcombine.toys.model import combiner_with_definition

    eps = {"table_c:jes_c": 0.3}
    spec = load_config(DATA / "convino_example" / "combination.txt")
    comb = spec.combiner(errors_on_errors=eps, asymmetry="smooth")
    other = combiner_with_definition(comb, "neyman")
    assert other.options() == {**comb.options(), "chi2": "neyman"}
    direct = spec.combiner(chi2="neyman", errors_on_errors=eps, asymmetry="smooth").combine()
    assert other.combine().values["xsec"] == pytest.approx(direct.values["xsec"], rel=1e-10)
    with pytest.raises(InvalidArgument, match="neyman"):
        comb.with_chi2("poisson")  # type: ignore[arg-type]


def test_values_only_one_measurement_measures_are_flagged_per_value():
    diag = compatibility(two_bins())
    loo = diag.leave_one_out["A"]
    assert loo.status == "ok"
    assert loo.value_status == {"x": "ok", "y": "not measured without it", "z": "not affected"}
    assert math.isnan(loo.values["y"]) and math.isnan(loo.significance["y"])
    assert math.isfinite(loo.significance["x"])
    assert loo.unmeasured == ("y",)
    assert any("without 'A': y not measured" in n for n in diag.notes)
    # the only input of y still has a pull: its luminosity is shared with x's inputs
    assert math.isfinite(diag.pulls["A:y"].pull)
    assert diag.combination.values["y"] != pytest.approx(20.0, rel=1e-6)
    # the only input of z shares nothing: x̂ − x̄ vanishes identically, no pull
    p = diag.pulls["C:z"]
    assert math.isnan(p.pull) and p.error == 0.0 and "alone determines 'z'" in p.status
    assert any("no pull for 1 input" in n and "C:z" in n for n in diag.notes)


def test_single_measurement_and_nothing_measured_without_one():
    one = compatibility(Combiner([two_bins().measurements["A"]]))
    assert one.leave_one_out["A"].status == "nothing left to combine"
    a = Measurement.from_uncertainties({"x": 1.0}, {"x": 0.1}, {}, name="A")
    b = Measurement.from_uncertainties({"z": 2.0}, {"z": 0.1}, {}, name="B")
    comb = Combiner([a, b], observables={"x": ["A:x"]})  # B's z is a spectator
    diag = compatibility(comb)
    assert diag.leave_one_out["A"].status == "no combined value is measured without it"
    assert list(diag.pulls) == ["A:x"]  # spectators have no pull
    with pytest.raises(InvalidMeasurement, match="no combined value is measured"):
        combiner_without(comb, ["A"])


def test_unknown_measurement_names_the_closest():
    with pytest.raises(UnknownName, match=r"'Bx' is not a measurement.*did you mean 'B'"):
        compatibility(two_bins(), leave_out=["Bx"])
    with pytest.raises(UnknownName, match="did you mean"):
        combiner_without(two_bins(), ["a"])
    with pytest.raises(InvalidArgument, match="Combiner or a CombinationSpec"):
        compatibility("base.txt")  # type: ignore[arg-type]


def test_leave_out_selects_and_the_top_level_name_is_the_function():
    diag = top_level(two_bins(), leave_out=["C"])
    assert list(diag.leave_one_out) == ["C"]
    assert list(compatibility(two_bins(), leave_out=[]).leave_one_out) == []
    assert diag.pull("A:x") is diag.pulls["A:x"]
    with pytest.raises(UnknownName, match="ambiguous"):
        diag.pull("x")
    assert diag.pull("y").measurement == "A"
    assert [p.measurement for p in diag.inputs_of("x")] == ["A", "B", "C"]
    with pytest.raises(UnknownName, match="did you mean 'x'"):
        diag.inputs_of("xx")


def test_a_failed_combination_without_one_is_reported_not_raised(monkeypatch):
    from hepcombine import FitError

    comb = two_bins()
    real = Combiner.combine

    def combine(self, **kw):
        if "A" not in self.measurements:
            raise FitError("the minimisation did not converge: test")
        return real(self, **kw)

    monkeypatch.setattr(Combiner, "combine", combine)
    diag = compatibility(comb)
    assert diag.leave_one_out["A"].status == "failed: the minimisation did not converge: test"
    assert diag.leave_one_out["B"].status == "ok"


def test_results_are_read_only():
    diag = compatibility(two_bins())
    assert diag.pulls["B:x"].value == 12.0  # the estimate as reported, not recomputed
    with pytest.raises(TypeError):
        diag.pulls["A:x"] = None  # type: ignore[index]
    with pytest.raises(TypeError):
        diag.leave_one_out["A"].values["x"] = 0.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        diag.chi2 = 1.0  # type: ignore[misc]
