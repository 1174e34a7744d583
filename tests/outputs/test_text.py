"""The text reports (hepcombine.outputs.text): the breakdown says when it adds up in
quadrature, and the BLUE summary carries the published numbers."""

import math

import numpy as np
import pytest
from conftest import DATA

from hepcombine import Combiner, Measurement, blue_from_csv
from hepcombine.outputs.text import format_blue, format_result, is_quadratic


def _two(relative: bool):
    ms = [
        Measurement.from_uncertainties(
            {"x": 10.0},
            {"x": 1.0},
            {"s": {"x": 0.5}, "t": {"x": 0.3}},
            relative=["s"] if relative else [],
            name="A",
        ),
        Measurement.from_uncertainties(
            {"x": 12.0},
            {"x": 2.0},
            {"s": {"x": 0.5}},
            relative=["s"] if relative else [],
            name="B",
        ),
    ]
    return Combiner(
        ms, correlations={("A:s", "B:s"): 1.0}, chi2="pearson" if relative else "neyman"
    )


def _quadrature(result):
    b = result.breakdown.matrix[:, 0]
    return math.sqrt(sum(math.copysign(v * v, v) for v in b))


def test_quadratic_breakdown_adds_up_and_says_so():
    res = _two(relative=False).combine()
    assert is_quadratic(res)
    text = format_result(res)
    assert "adds up in quadrature to the total: quadratic χ²" in text
    # the signed quadrature sum of the rows, computed here, is the total error
    assert _quadrature(res) == pytest.approx(res.errors["x"], rel=1e-12)


def test_non_quadratic_breakdown_is_flagged_approximate():
    res = _two(relative=True).combine()
    assert not is_quadratic(res)
    text = format_result(res)
    assert "adds up in quadrature only approximately" in text
    assert "adds up in quadrature to the total" not in text
    assert _quadrature(res) != pytest.approx(res.errors["x"], rel=1e-9)


def test_blue_text_has_the_published_numbers():
    res = blue_from_csv(
        DATA / "lhc_ttbar_xsec_emu_8tev.csv", DATA / "lhc_ttbar_xsec_emu_8tev_corr.csv"
    ).result
    text = format_blue(res)
    # ATLAS-CONF-2014-054 / the seed notebook: 241.46454 pb, weights 0.72487 / 0.27513
    assert "sigma_tt = 241.46454" in text
    assert "ATLAS  +0.72487" in text and "CMS    +0.27513" in text
    assert "chi2/ndf = 0.054031/1, p = 0.8162" in text  # published: 0.05403, p 0.8162
    assert np.isclose(
        sum(v**2 for v in res.breakdown.column("sigma_tt").values()), res.errors["sigma_tt"] ** 2
    )
