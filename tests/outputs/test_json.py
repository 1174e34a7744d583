"""JSON output (hepcombine.outputs.json): schema-valid, NaN as null, the result's numbers."""

import json
import math

import jsonschema
import pytest

from hepcombine import Blue, Combiner, Measurement
from hepcombine.outputs.json import blue_to_dict, dumps, load_schema, result_to_dict


def test_result_json_is_valid_and_carries_the_numbers():
    ms = [
        Measurement.from_uncertainties({"x": 10.0}, {"x": 1.0}, {"s": {"x": 0.5}}, name="A"),
        Measurement.from_uncertainties({"x": 12.0}, {"x": 2.0}, {"s": {"x": 0.5}}, name="B"),
    ]
    res = Combiner(ms, chi2="pearson").combine(intervals=False)
    data = json.loads(dumps(result_to_dict(res, config="c.txt")))
    jsonschema.Draft202012Validator(load_schema()).validate(data)
    assert data["config"] == "c.txt"
    assert data["combined"]["x"]["value"] == res.values["x"]
    assert data["combined"]["x"]["interval"] == [None, None]  # not computed: null, not NaN
    assert data["breakdown"] == res.breakdown.to_dict()
    # closed form of the Neyman-free part: BLUE weight of A with uncorrelated s
    assert sum(data["weights"]["x"].values()) == pytest.approx(1.0, abs=0.05)


def test_pvalue_without_degrees_of_freedom_is_null_in_both_methods():
    """ndf = 0: NaN (JSON null) for BLUE as for the χ² method; there is nothing to test."""
    blue = Blue(
        {"A": {"value": 1.0, "s": 0.1}, "B": {"value": 2.0, "s": 0.1}},
        {"s": 0.0},
        observables={"a": ["A"], "b": ["B"]},
    ).result
    assert blue.ndf == 0 and math.isnan(blue.pvalue)
    assert blue_to_dict(blue)["pvalue"] is None
    chi2 = Combiner([Measurement.from_uncertainties({"x": 1.0}, {"x": 0.1}, name="A")]).combine()
    assert chi2.ndf == 0 and math.isnan(chi2.pvalue)
    assert result_to_dict(chi2)["pvalue"] is None
