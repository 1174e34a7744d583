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


def test_did_you_mean_and_a_handful_of_names():
    from hepcombine.names import SHOWN, did_you_mean, some_names

    names = [f"ATLAS_13TeV_pdf_{90900 + i}" for i in range(143)] + ["lumi_a", "jes"]
    assert did_you_mean("lumi_q", names) == " (did you mean 'lumi_a'?)"
    assert did_you_mean("LUMI_A", names) == " (did you mean 'lumi_a'?)"  # case-insensitive
    assert did_you_mean("completely_different", names) == ""
    # the fewest edits first: one substitution beats the many names two edits away
    assert did_you_mean("ATLAS_13TeV_pdf_9O910", names).startswith(
        " (did you mean 'ATLAS_13TeV_pdf_90910',"
    )
    assert some_names(["a", "b"]) == "a, b"
    assert some_names([]) == "none"
    text = some_names(names)
    assert text.count(",") == SHOWN and text.endswith("… (145 in all)")


def test_unknown_name_messages_stay_short():
    big = Measurement.from_uncertainties(
        {"x": 1.0},
        {"x": 0.1},
        {f"ATLAS_13TeV_pdf_{90900 + i}": {"x": 0.01} for i in range(143)},
        name="A",
    )
    n = Names({"A": big})
    for ref in ("ATLAS_13TeV_pdf_90O01", "A:ATLAS_13TeV_pdf_90O01", ("A", "ATLAS_13TeV_pdf_90O01")):
        with pytest.raises(UnknownName) as info:
            n.source(ref)
        msg = str(info.value)
        assert len(msg) < 500 and "(143 in all)" in msg
        assert "did you mean" in msg and "ATLAS_13TeV_pdf_90901" in msg
