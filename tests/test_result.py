"""CombinationResult, NamedMatrix, Table: read-only, keyed by name, readable text."""

import dataclasses

import pytest

from hepcombine import Combiner, Measurement
from hepcombine.exceptions import IntervalError, UnknownName


@pytest.fixture(scope="module")
def result():
    ms = [
        Measurement.from_uncertainties({"x": 10.0}, {"x": 1.0}, {"s": {"x": 0.5}}, name="A"),
        Measurement.from_uncertainties({"x": 12.0}, {"x": 2.0}, {"s": {"x": 0.5}}, name="B"),
    ]
    return Combiner(ms, correlations={("A:s", "B:s"): 1.0}).combine()


@pytest.mark.parametrize(
    "field",
    [
        "values",
        "errors",
        "intervals",
        "interval_status",
        "spectators",
        "pulls",
        "constraints",
        "correlation_repairs",
    ],
)
def test_mappings_are_read_only(result, field):
    with pytest.raises(TypeError):
        getattr(result, field)["x"] = 0.0


def test_matrices_and_tables_are_read_only(result):
    with pytest.raises(ValueError, match="read-only"):
        result.covariance.matrix[0, 0] = 0.0
    with pytest.raises(ValueError, match="read-only"):
        result.breakdown.matrix[0, 0] = 0.0
    with pytest.raises(UnknownName, match="not a row"):
        result.breakdown["nope"]
    assert isinstance(UnknownName("x"), KeyError)  # Mapping protocol: a missing row is a KeyError
    assert "nope" not in result.breakdown


def test_summary_and_html_show_every_valid_interval(result):
    """A 'profile' interval (one Minos side recovered by the profile root search) is valid and
    shown like 'exact' and 'minos'; an invalid one shows its status."""
    v = result.values["x"]
    for status in ("exact", "minos", "profile"):
        r = dataclasses.replace(
            result, interval_status={"x": status}, intervals={"x": (v - 1.25, v + 1.5)}
        )
        # PDG rounding: 1.25 and 1.5 (leading digits 125, 150) keep two digits, one decimal
        shown = f"x = {v:.1f} +1.5 −1.3  ({status} interval)"
        assert shown in r.summary()
        assert f"{v:.1f} +1.5 −1.3" in r._repr_html_()
        assert repr(r) == r.summary()
        assert r.interval("x") == (v - 1.25, v + 1.5)
    bad = dataclasses.replace(result, interval_status={"x": "Minos failed: at limit"})
    assert "(Hesse error; interval: Minos failed: at limit)" in bad.summary()
    with pytest.raises(IntervalError, match="Minos failed"):
        bad.interval("x")


def test_summary_counts_degrees_of_freedom_in_words():
    """Two uncorrelated measurements of one value, 0 ± 1 and 2 ± 2: χ² = 2²/(1 + 4) = 0.8 for
    one degree of freedom, p = erfc(√(0.8/2)) = 0.3711; with a third, 3 ± 1, two of them."""
    import math

    a = Measurement.from_uncertainties({"x": 0.0}, {"x": 1.0}, {}, name="A")
    b = Measurement.from_uncertainties({"x": 2.0}, {"x": 2.0}, {}, name="B")
    one = Combiner([a, b]).combine()
    assert one.chi2 == pytest.approx(0.8, rel=1e-12)
    assert one.pvalue == pytest.approx(math.erfc(math.sqrt(0.4)), rel=1e-9)
    assert "χ² = 0.8 for 1 degree of freedom (p = 0.3711)" in one.summary()
    c = Measurement.from_uncertainties({"x": 3.0}, {"x": 1.0}, {}, name="C")
    assert "for 2 degrees of freedom" in Combiner([a, b, c]).combine().summary()
