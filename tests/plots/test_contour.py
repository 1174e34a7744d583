"""The contour plot (hepcombine.plots.contour): drawn into given axes or a new figure, one
closed line per level, the minimum marked, rendered to PNG (looked at when written)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from hepcombine import Combiner, Measurement
from hepcombine.exceptions import InvalidArgument
from hepcombine.plots.contour import contour_label, plot_contour


@pytest.fixture(scope="module")
def result():
    m1 = Measurement.from_uncertainties(
        {"a": 10.0, "b": 20.0},
        {"a": 1.0, "b": 1.5},
        {"lumi": {"a": 0.4, "b": 0.8}, "jes": {"a": (0.9, -0.4), "b": 0.3}},
        relative=["lumi"],
        name="m1",
    )
    m2 = Measurement.from_uncertainties(
        {"a": 11.0, "b": 18.0}, {"a": 0.8, "b": 2.0}, {"lumi2": {"a": 0.5, "b": 0.9}}, name="m2"
    )
    return Combiner([m1, m2], correlations={("m1:lumi", "m2:lumi2"): 0.7}, chi2="pearson").combine()


def test_plot_of_three_levels_into_given_axes(result, tmp_path):
    levels = [
        result.contour("a", "b", delta_chi2=1.0, n_points=24),
        result.contour("a", "b", n_points=24),
        result.contour("a", "b", cl=0.95, n_points=24),
    ]
    fig, ax = plt.subplots()
    out = plot_contour(levels, ax=ax)
    assert out is fig
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 1]
    assert len(lines) == 3
    for line, c in zip(lines, levels, strict=True):  # drawn in order of increasing level
        np.testing.assert_allclose(line.get_xdata(), c.closed()[0])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [contour_label(c) for c in levels] + ["minimum"]
    assert labels[1] == "68.3 % CL (Δχ² = 2.3)" and labels[2] == "95 % CL (Δχ² = 5.99)"
    assert ax.get_xlabel() == "a" and ax.get_ylabel() == "b"
    path = tmp_path / "contour.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_plot_of_one_contour_makes_its_figure(result, tmp_path):
    c = result.contour("b", "m1:jes", n_points=16)
    fig = plot_contour(c, labels=["my label"], fill=False)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["my label", "minimum"]
    fig.savefig(tmp_path / "one.png", dpi=60)
    plt.close(fig)


def test_plot_rejects_mixed_pairs_and_wrong_labels(result):
    ab = result.contour("a", "b", n_points=8)
    ba = result.contour("b", "a", n_points=8)
    with pytest.raises(InvalidArgument, match="one pair"):
        plot_contour([ab, ba])
    with pytest.raises(InvalidArgument, match="2 labels for 1"):
        plot_contour(ab, labels=["x", "y"])
    with pytest.raises(InvalidArgument, match="at least one"):
        plot_contour([])
