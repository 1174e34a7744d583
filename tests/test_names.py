"""The one name resolver (hepcombine.names): the same rules for readers, combiner and plots."""

import pytest

from hepcombine import Measurement
from hepcombine.exceptions import UnknownName
from hepcombine.names import Names


def _names() -> Names:
    a = Measurement.from_uncertainties(
        {"x": 1.0, "y": 2.0},
        {"x": 0.1, "y": 0.2},
        {"lumi": {"x": 0.1}, "jes:b": {"y": 0.1}},
        name="A",
    )
    b = Measurement.from_uncertainties({"x": 1.1}, {"x": 0.1}, {"lumi": {"x": 0.1}}, name="B")
    return Names({"A": a, "B": b})


def test_order_and_forms():
    n = _names()
    assert n.estimates == (("A", "x"), ("A", "y"), ("B", "x"))
    assert n.sources == (("A", "lumi"), ("A", "jes:b"), ("B", "lumi"))
    assert n.estimate("A:y") == n.estimate("y") == n.estimate(("A", "y")) == 1
    assert n.source("B:lumi") == 2
    assert n.source("jes:b") == 1  # a bare name containing ':'
    assert n.qualified_estimate("y") == "A:y"
    assert n.qualified_sources("lumi", shared=True) == ["A:lumi", "B:lumi"]
    assert n.shared_sources() == {"lumi": ["A:lumi", "B:lumi"]}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda n: n.estimate("x"), "ambiguous: it is defined in several measurements .*A:x.*B:x"),
        (lambda n: n.source("lumi"), "several measurements"),
        (lambda n: n.estimate("A:z"), "measurement 'A' has no estimate 'z'; its estimates are"),
        (lambda n: n.source("nope"), "unknown source 'nope'; known sources are A:lumi"),
        (lambda n: n.estimate(("C", "x")), "unknown estimate"),
    ],
)
def test_errors_name_the_choices(call, message):
    with pytest.raises(UnknownName, match=message):
        call(_names())
