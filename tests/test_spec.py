"""CombinationSpec: the format's defaults and the impact groups live in the specification, so
the API and the CLI build the same combiner (tests/test_api_vs_cli.py checks the numbers)."""

import pytest

from hepcombine import Binning, CombinationSpec, Measurement
from hepcombine.exceptions import ConfigError, InvalidArgument, InvalidMeasurement


def _spec(**kw) -> CombinationSpec:
    ms = {
        n: Measurement.from_uncertainties({"x": v}, {"x": 1.0}, {"lumi": {"x": 0.5}}, name=n)
        for n, v in (("A", 10.0), ("B", 11.0))
    }
    return CombinationSpec(ms, {"x": ["A:x", "B:x"]}, {("A:lumi", "B:lumi"): 1.0}, **kw)


@pytest.mark.parametrize(
    ("fmt", "chi2", "expected"),
    [
        ("convino", None, "pearson"),
        ("yaml", None, "neyman"),
        ("python", None, "neyman"),
        ("convino", "neyman", "neyman"),
        ("yaml", "pearson", "pearson"),
    ],
)
def test_chi2_default_of_the_format(fmt, chi2, expected):
    spec = _spec(format=fmt, chi2=chi2)
    assert spec.chi2_definition() == expected
    assert spec.combiner().chi2 == expected
    assert spec.combiner(chi2="neyman").chi2 == "neyman"  # an explicit choice wins


def test_impact_groups_become_the_breakdown():
    spec = _spec(impacts={"luminosity": ["A:lumi", "B:lumi"], "statistics": ["stat"]})
    assert spec.groups() == {"luminosity": ["A:lumi", "B:lumi"]}
    assert spec.stat_groups() == ["statistics"]
    res = spec.combiner().combine()
    assert res.breakdown.rows == ("stat", "luminosity")
    # closed form: lumi fully correlated (0.5 on both) → σ_lumi = 0.5, σ_stat = 1/√2
    assert res.breakdown["luminosity", "x"] == pytest.approx(0.5, rel=1e-10)
    assert res.breakdown["stat", "x"] == pytest.approx(2**-0.5, rel=1e-10)
    with pytest.raises(ConfigError, match="mixes 'stat'"):
        _spec(impacts={"g": ["stat", "A:lumi"]}).groups()
    with pytest.raises(ConfigError, match="reserved"):
        _spec(impacts={"stat": ["A:lumi"]}).groups()


def test_binning_of_differential_specifications():
    assert _spec(differential=True).binning == Binning.index(1)
    assert _spec().binning is None
    with pytest.raises(InvalidMeasurement, match="2 bins but there are 1 observables"):
        _spec(binning=Binning.index(2))
    with pytest.raises(InvalidArgument):
        _spec(chi2="poisson")
    with pytest.raises(InvalidArgument):
        _spec(format="root")
